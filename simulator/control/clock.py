"""The simulator's virtual clock: real time plus an offset that tests can advance.

Session expiry, order dates, callback dates and journal timestamps all read this clock, so a test can jump
past a 20-minute bank session without sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class VirtualClock:
    """Thread-safe wall clock with a forward-only offset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset

    def now(self) -> datetime:
        """Current virtual time, timezone-aware UTC."""
        return datetime.now(UTC) + timedelta(seconds=self.offset_seconds)

    def now_ms(self) -> int:
        """Current virtual time as milliseconds since the epoch (the RBS and Ecwid ``date`` unit)."""
        return int(self.now().timestamp() * 1000)

    def advance(self, seconds: float) -> None:
        """Move the clock forward; never backwards, so expiry decisions stay consistent."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
