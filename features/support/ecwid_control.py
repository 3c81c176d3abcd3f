"""The simulator's Ecwid control calls the integrity features need beyond ``control.py``: made-up orders with long or
odd ids and exact totals (``POST /_control/ecwid/orders/fake``), an order's PUT history (accepted and refused
updates, ``/_control/ecwid/orders/{storeId}/{ref}/history``) and faults on Ecwid's orders API.

Ecwid order ids may hold ``/``, ``#``, ``:`` and other ASCII: every id goes into a path percent-encoded, never raw.
Every fault a scenario adds is remembered, so ``cleanup`` can remove what is left of it when the scenario ends: the
lab is shared by the whole session, and the next scenario must find Ecwid healthy.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from features.support.control import SimulatorControl
from lab.lab import STORE_ID


class EcwidControl:
    def __init__(self, control: SimulatorControl) -> None:
        self.http: httpx.Client = control.http
        self.fault_ids: list[int] = []

    # --- orders ---------------------------------------------------------------------------------------------------

    def fake_order(self, *, store_id: int = STORE_ID, **fields: Any) -> dict[str, Any]:
        """A made-up order (``idStyle``, ``id``, ``currency``, ``total``...): ``{"order", "paymentRequest",
        "checkoutUrl"}``."""
        made: dict[str, Any] = self._ok(
            self.http.post("/_control/ecwid/orders/fake", json={"storeId": store_id, **fields})
        )
        return made

    def order(self, order_id: str, store_id: int = STORE_ID) -> dict[str, Any]:
        found: dict[str, Any] = self._ok(self.http.get(f"/_control/ecwid/orders/{store_id}/{_ref(order_id)}"))
        return found

    def history(self, order_id: str, store_id: int = STORE_ID) -> dict[str, Any]:
        """``{"paymentStatus", "history": [...]}``: every PUT that named the order, accepted or refused, oldest first
        (``seq``, ``accepted``, ``httpStatus``, ``fields``, ``newPaymentStatus``, ``fault``...)."""
        found: dict[str, Any] = self._ok(self.http.get(f"/_control/ecwid/orders/{store_id}/{_ref(order_id)}/history"))
        return found

    # --- faults ---------------------------------------------------------------------------------------------------

    def add_fault(self, **fault: Any) -> dict[str, Any]:
        created: dict[str, Any] = self._ok(self.http.post("/_control/ecwid/faults", json=fault))
        self.fault_ids.append(int(created["id"]))
        return created

    def fault(self, fault_id: int) -> dict[str, Any]:
        for fault in self._ok(self.http.get("/_control/ecwid/faults"))["faults"]:
            if int(fault["id"]) == fault_id:
                found: dict[str, Any] = fault
                return found
        raise AssertionError(f"Ecwid fault {fault_id} is not listed")

    def cleanup(self) -> None:
        """Delete this scenario's faults (a call still hanging in one ends at once)."""
        for fault_id in self.fault_ids:
            self.http.delete(f"/_control/ecwid/faults/{fault_id}")
        self.fault_ids.clear()

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        assert response.is_success, (
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
        return response.json()


def _ref(order_id: str) -> str:
    return quote(order_id, safe="")
