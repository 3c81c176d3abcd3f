"""Control of the simulator's callbacks and bank faults for the chaos features, over its control API only.

Everything a scenario changes is remembered (per-order callback rules, faults) so ``cleanup`` can undo it when the
scenario ends: the lab is shared by the whole session, and the next scenario must find the defaults.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from features.support.control import SimulatorControl

PENDING_STATES = frozenset({"held", "scheduled", "sending"})


class ChaosControl:
    def __init__(self, control: SimulatorControl) -> None:
        self.http: httpx.Client = control.http
        self.control = control
        self.fault_ids: list[int] = []
        self.ruled_orders: list[str] = []

    # --- callbacks ----------------------------------------------------------------------------------------------

    def set_order_rules(self, md_order: str, **rules: Any) -> Any:
        if md_order not in self.ruled_orders:
            self.ruled_orders.append(md_order)
        return self._ok(self.http.put(f"/_control/vpos/orders/{md_order}/callbacks", json=rules))

    def order_callbacks(self, md_order: str) -> list[dict[str, Any]]:
        callbacks: list[dict[str, Any]] = self._ok(self.http.get(f"/_control/vpos/orders/{md_order}/callbacks"))[
            "callbacks"
        ]
        return callbacks

    def sent_callbacks(self, md_order: str) -> list[dict[str, Any]]:
        callbacks: list[dict[str, Any]] = self._ok(
            self.http.get("/_control/vpos/callbacks/sent", params={"mdOrder": md_order})
        )["callbacks"]
        return callbacks

    def pending_callbacks(self, md_order: str) -> list[dict[str, Any]]:
        return [c for c in self.order_callbacks(md_order) if c["state"] in PENDING_STATES]

    def inject_callback(self, md_order: str, operation: str, status: int) -> Any:
        response = self.http.post(
            f"/_control/vpos/orders/{md_order}/callbacks", json={"operation": operation, "status": status}
        )
        return self._ok(response)

    def release(self, md_order: str, ids: list[int] | None = None) -> Any:
        body = {"ids": ids} if ids is not None else None
        return self._ok(self.http.post(f"/_control/vpos/orders/{md_order}/callbacks/release", json=body, timeout=60))

    def pay(self, md_order: str, pan: str) -> Any:
        response = self.http.post(
            f"/_control/vpos/orders/{md_order}/pay", json={"pan": pan, "expiry": "12/30"}, timeout=60
        )
        return self._ok(response)

    # --- faults -------------------------------------------------------------------------------------------------

    def add_fault(self, **fault: Any) -> Any:
        created = self._ok(self.http.post("/_control/vpos/faults", json=fault))
        self.fault_ids.append(int(created["id"]))
        return created

    def fault(self, fault_id: int) -> Any:
        return self._ok(self.http.get(f"/_control/vpos/faults/{fault_id}"))

    # --- the journal ----------------------------------------------------------------------------------------------

    def journal(self, since: int = 0, order: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"since": since}
        if order is not None:
            params["order"] = order
        entries: list[dict[str, Any]] = self._ok(self.http.get("/_control/journal", params=params))["entries"]
        return entries

    # --- the end of a scenario ------------------------------------------------------------------------------------

    def cleanup(self) -> None:
        """Delete this scenario's faults, drop its orders' pending callbacks and forget their rules."""
        for fault_id in self.fault_ids:
            self.http.delete(f"/_control/vpos/faults/{fault_id}")
        for md_order in self.ruled_orders:
            for callback in self.pending_callbacks(md_order):
                self.http.post(f"/_control/vpos/callbacks/{callback['id']}/drop")
            self.http.delete(f"/_control/vpos/orders/{md_order}/callbacks")
        self.fault_ids.clear()
        self.ruled_orders.clear()

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        assert response.is_success, (
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
        return response.json()


def wait_until(check: Callable[[], Any], seconds: float, what: str, interval: float = 0.25) -> Any:
    """Polls ``check`` until it returns something truthy; fails naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g} s: {what}")
        time.sleep(interval)
