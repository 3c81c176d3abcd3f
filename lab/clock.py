"""The lab gateway's clock: real time plus an offset that scenarios move forward.

The bank (simulator) has its own virtual clock; a scenario about the gateway's own timeouts (an abandoned attempt
the gateway considers over while the bank page is still open) moves this one. Only the lab uses it: production runs
on ``gateway.clock.SystemClock``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class OffsetClock:
    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the gateway's time forward (never back: time that went back would break every due time)."""
        if seconds < 0:
            raise ValueError("the lab clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    @property
    def offset_s(self) -> float:
        with self._lock:
            return self._offset.total_seconds()
