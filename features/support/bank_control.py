"""The simulator control API calls the bank-flow features need beyond ``control.py``: the virtual clock, the bank's
pending delay, an order's callbacks, and a bounded wait on server-side truth."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from features.support.control import SimulatorControl

T = TypeVar("T")


class BankControl(SimulatorControl):
    def advance_clock(self, seconds: float) -> Any:
        """Move the simulator's virtual clock; every job due on the way runs before this answers."""
        response = self.http.post("/_control/clock/advance", json={"seconds": seconds})
        response.raise_for_status()
        return response.json()

    def bank_settings(self) -> dict[str, Any]:
        response = self.http.get("/_control/vpos/bank")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def set_pending_seconds(self, seconds: int) -> dict[str, Any]:
        response = self.http.put("/_control/vpos/bank", json={"pendingSeconds": seconds})
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def order_callbacks(self, md_order: str) -> list[dict[str, Any]]:
        response = self.http.get(f"/_control/vpos/orders/{md_order}/callbacks")
        response.raise_for_status()
        callbacks: list[dict[str, Any]] = response.json()["callbacks"]
        return callbacks


def wait_for(probe: Callable[[], T | None], what: str, timeout_s: float = 20.0, interval_s: float = 0.25) -> T:
    """Ask ``probe`` until it returns something other than None (or False), at most ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what}")
        time.sleep(interval_s)
