"""A thin client for the simulator's control API (seed orders, read the journal, bank orders)."""

from __future__ import annotations

from typing import Any

import httpx


class SimulatorControl:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=15)

    def create_order(self, total: float = 15000.0, currency: str = "AMD", store_id: int = 1003, **extra: Any) -> Any:
        response = self.http.post(
            "/_control/ecwid/orders", json={"storeId": store_id, "total": total, "currency": currency, **extra}
        )
        response.raise_for_status()
        return response.json()

    def order(self, order_id: str, store_id: int = 1003) -> Any:
        response = self.http.get(f"/_control/ecwid/orders/{store_id}/{order_id}")
        response.raise_for_status()
        return response.json()

    def payment_request(self, order_id: str, store_id: int = 1003) -> dict[str, str]:
        response = self.http.post("/_control/ecwid/payment-request", json={"storeId": store_id, "orderId": order_id})
        response.raise_for_status()
        result: dict[str, str] = response.json()
        return result

    def journal(self, since: int = 0, service: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"since": since}
        if service:
            params["service"] = service
        response = self.http.get("/_control/journal", params=params)
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()["entries"]
        return entries

    def journal_mark(self) -> int:
        entries = self.journal()
        return max((int(e["seq"]) for e in entries), default=0)

    def bank_order(self, md_order: str) -> Any:
        response = self.http.get(f"/_control/vpos/orders/{md_order}")
        response.raise_for_status()
        return response.json()

    def bank_orders(self) -> list[dict[str, Any]]:
        response = self.http.get("/_control/vpos/orders")
        response.raise_for_status()
        body = response.json()
        orders: list[dict[str, Any]] = body["orders"] if isinstance(body, dict) else body
        return orders

    def pay(self, md_order: str, pan: str, expiry: str = "12/30") -> Any:
        response = self.http.post(f"/_control/vpos/orders/{md_order}/pay", json={"pan": pan, "expiry": expiry})
        response.raise_for_status()
        return response.json()
