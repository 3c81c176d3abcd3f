"""The request journal: every request to the fake bank, Ecwid and storefront, and every outbound callback.

Tests and the readiness report read it through ``GET /_control/journal``. Secrets are redacted when an entry is
written (passwords, tokens, checksums, encrypted payment requests, CVCs; card numbers are masked), so nothing
secret is ever stored here.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.control.clock import VirtualClock

Direction = Literal["in", "out"]
SERVICES = ("vpos", "ecwid", "store", "control")
REDACTED = "***"
_SECRET_KEYS = frozenset(
    {"password", "token", "checksum", "sign_alias", "enc_data", "data", "cvc", "cvv", "client_secret"}
)
_MAX_ENTRIES = 20_000


def mask_pan(pan: str) -> str:
    """``4242424242424242`` -> ``424242**4242`` (the RBS masked PAN format)."""
    digits = "".join(ch for ch in pan if ch.isdigit())
    if len(digits) < 10:
        return REDACTED
    return f"{digits[:6]}**{digits[-4:]}"


def redact(params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``params`` safe to store: secret values replaced by ``***``, card numbers masked."""
    safe: dict[str, Any] = {}
    for name, value in params.items():
        lowered = name.lower()
        if lowered in _SECRET_KEYS:
            safe[name] = REDACTED
        elif lowered == "pan":
            safe[name] = mask_pan(str(value))
        elif isinstance(value, Mapping):
            safe[name] = redact(value)
        else:
            safe[name] = value
    return safe


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    at: str
    direction: Direction
    service: str
    method: str
    path: str
    operation: str
    status: int | None
    params: dict[str, Any] = field(default_factory=dict)
    summary: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "direction": self.direction,
            "service": self.service,
            "method": self.method,
            "path": self.path,
            "operation": self.operation,
            "status": self.status,
            "params": self.params,
            "summary": self.summary,
        }


class Journal:
    """Append-only, thread-safe list of entries with increasing ``seq`` (bounded; the oldest are dropped)."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque(maxlen=_MAX_ENTRIES)
        self._seq = 0

    def record(
        self,
        *,
        direction: Direction,
        service: str,
        method: str,
        path: str,
        operation: str,
        status: int | None,
        params: Mapping[str, Any] | None = None,
        summary: str = "",
    ) -> JournalEntry:
        """Store one entry; ``params`` are redacted here, so callers may pass raw request parameters."""
        safe = redact(params or {})
        with self._lock:
            self._seq += 1
            entry = JournalEntry(
                seq=self._seq,
                at=self._clock.now().isoformat(timespec="milliseconds"),
                direction=direction,
                service=service,
                method=method,
                path=path,
                operation=operation,
                status=status,
                params=safe,
                summary=summary,
            )
            self._entries.append(entry)
        return entry

    def entries(self, *, service: str | None = None, since: int = 0) -> list[JournalEntry]:
        """Entries with ``seq > since``, optionally of one service, oldest first."""
        with self._lock:
            snapshot = list(self._entries)
        return [e for e in snapshot if e.seq > since and (service is None or e.service == service)]

    def clear(self) -> None:
        """Forget all entries; ``seq`` keeps increasing so a reader's ``since`` never goes stale."""
        with self._lock:
            self._entries.clear()
