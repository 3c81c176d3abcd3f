"""The book of injected faults both simulated services keep (the bank's and Ecwid's): thread-safe, oldest first,
each fault firing exactly as many times as asked however calls race; spent faults stay listed until deleted; deleting
or clearing wakes every call sleeping in one. What a fault matches and how it answers stays with each service."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

DEFAULT_MAX_SLEEP_SECONDS = 15.0
"""Longer than a typical client timeout (the gateway's default is 10 s), short enough for a test run."""
MAX_SLEEP_LIMIT_SECONDS = 600.0


class BookedFault(Protocol):
    id: int
    fired: int
    remaining: int | None

    @property
    def active(self) -> bool: ...

    def cancel(self) -> None: ...


F = TypeVar("F", bound=BookedFault)


class FaultBook(Generic[F]):
    def __init__(self, max_sleep_seconds: float = DEFAULT_MAX_SLEEP_SECONDS) -> None:
        self._lock = threading.Lock()
        self._faults: dict[int, F] = {}
        self._ids = itertools.count(1)
        self._max_sleep = max_sleep_seconds

    @property
    def max_sleep_seconds(self) -> float:
        with self._lock:
            return self._max_sleep

    @max_sleep_seconds.setter
    def max_sleep_seconds(self, seconds: float) -> None:
        if not 0 < seconds <= MAX_SLEEP_LIMIT_SECONDS:
            raise ValueError(f"max_sleep_seconds must be in (0, {MAX_SLEEP_LIMIT_SECONDS:g}]")
        with self._lock:
            self._max_sleep = seconds

    def _keep(self, make: Callable[[int], F]) -> F:
        """Store the fault ``make`` builds for the next id."""
        with self._lock:
            fault = make(next(self._ids))
            self._faults[fault.id] = fault
        return fault

    def get(self, fault_id: int) -> F | None:
        with self._lock:
            return self._faults.get(fault_id)

    def all(self) -> list[F]:
        with self._lock:
            return sorted(self._faults.values(), key=lambda fault: fault.id)

    def _take_first(self, matches: Callable[[F], bool]) -> F | None:
        """The oldest active fault that ``matches``, counted as fired (atomically), or None."""
        with self._lock:
            for fault_id in sorted(self._faults):
                fault = self._faults[fault_id]
                if fault.active and matches(fault):
                    fault.fired += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None

    def delete(self, fault_id: int) -> bool:
        with self._lock:
            fault = self._faults.pop(fault_id, None)
        if fault is None:
            return False
        fault.cancel()
        return True

    def clear(self) -> int:
        """Delete every fault, waking every call sleeping in one; returns how many there were."""
        with self._lock:
            faults = list(self._faults.values())
            self._faults.clear()
        for fault in faults:
            fault.cancel()
        return len(faults)

    def reset(self) -> None:
        """``clear`` and the default maximum sleep: what ``POST /_control/reset`` does."""
        self.clear()
        self.max_sleep_seconds = DEFAULT_MAX_SLEEP_SECONDS
