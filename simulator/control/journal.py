"""The request journal: every request to the fake bank, Ecwid and storefront, and every outbound callback.

Tests and the readiness report read it through ``GET /_control/journal``. Secrets are redacted when an entry is
written (passwords, tokens, checksums, encrypted payment requests, CVCs; card numbers are masked), so nothing
secret is ever stored here.

Per order: each entry carries the order identifiers found in it (mdOrder, orderNumber, Ecwid order id,
referenceTransactionId, internalId: from its parameters, its path and its answer). Identifiers seen together in one
entry are linked (register.do links orderNumber and mdOrder; an Ecwid order's answer links id, internalId and
referenceTransactionId), so asking for any one of them returns the whole order's traffic and none of the
background traffic of other orders. Per scenario run: entries recorded while a run is open carry its id.
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
    {"password", "token", "checksum", "sign_alias", "enc_data", "data", "cvc", "cvv", "otp", "client_secret"}
)
_MAX_ENTRIES = 20_000
# Parameter and answer fields that name an order, on either side (RBS, Ecwid, control API).
ORDER_KEY_FIELDS = ("mdOrder", "orderId", "orderNumber", "referenceTransactionId", "internalId", "ecwidOrderId")
_PATH_MARKERS = ("orders", "return")  # /api/v3/{store}/orders/{ref}, /store/{store}/return/{id}, ...
_MAX_KEY_LENGTH = 128


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


def order_keys(path: str = "", *sources: Mapping[str, Any] | None) -> frozenset[str]:
    """The order identifiers an entry talks about: ``ORDER_KEY_FIELDS`` in any of ``sources`` (parameters, the
    JSON answer) and the segment after ``/orders/`` or ``/return/`` in ``path``."""
    keys: set[str] = set()
    for source in sources:
        if not source:
            continue
        for name in ORDER_KEY_FIELDS:
            value = source.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
                keys.add(str(value).strip()[:_MAX_KEY_LENGTH])
        order = source.get("order")
        if isinstance(order, Mapping):  # an Ecwid order in an answer: {"id", "internalId", ...}
            keys |= order_keys("", order, {"ecwidOrderId": order.get("id")})
    parts = [p for p in path.split("/") if p]
    for index, part in enumerate(parts[:-1]):
        if part in _PATH_MARKERS:
            keys.add(parts[index + 1][:_MAX_KEY_LENGTH])
    return frozenset(keys)


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
    keys: frozenset[str] = frozenset()
    run: str | None = None

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
            "orders": sorted(self.keys),
            "run": self.run,
        }


class Journal:
    """Append-only, thread-safe list of entries with increasing ``seq`` (bounded; the oldest are dropped)."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque(maxlen=_MAX_ENTRIES)
        self._seq = 0
        self._links: dict[str, str] = {}  # union-find parent of each order identifier
        self._runs: dict[str, str] = {}  # run id -> name
        self._run: str | None = None

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
        related: Mapping[str, Any] | None = None,
    ) -> JournalEntry:
        """Store one entry; ``params`` are redacted here, so callers may pass raw request parameters. ``related``
        (e.g. the JSON answer) only contributes order identifiers; it is not stored."""
        safe = redact(params or {})
        keys = order_keys(path, params, related)
        with self._lock:
            self._link(keys)
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
                keys=keys,
                run=self._run,
            )
            self._entries.append(entry)
        return entry

    # -- per order ----------------------------------------------------------------------------------------------
    def _find(self, key: str) -> str:
        root = key
        while self._links.get(root, root) != root:
            root = self._links[root]
        self._links.setdefault(key, root)
        return root

    def _link(self, keys: frozenset[str]) -> None:
        roots = sorted({self._find(k) for k in keys})
        for root in roots[1:]:
            self._links[root] = roots[0]
        for key in keys:
            self._links.setdefault(key, roots[0] if roots else key)

    def linked(self, key: str) -> frozenset[str]:
        """Every identifier linked to ``key`` (itself included), e.g. an orderNumber's mdOrder."""
        with self._lock:
            if key not in self._links:
                return frozenset({key})
            root = self._find(key)
            return frozenset(k for k in list(self._links) if self._find(k) == root)

    # -- per scenario run -----------------------------------------------------------------------------------------
    def start_run(self, name: str) -> tuple[str, int]:
        """Open a scenario run: entries recorded until ``end_run`` carry its id. Returns the id and the last seq
        before it (runs do not nest: a new run ends the previous one)."""
        with self._lock:
            run_id = f"run-{self._seq + 1}-{len(self._runs) + 1}"
            self._runs[run_id] = name[:200]
            self._run = run_id
            return run_id, self._seq

    def end_run(self) -> str | None:
        with self._lock:
            ended, self._run = self._run, None
            return ended

    def runs(self) -> dict[str, str]:
        with self._lock:
            return dict(self._runs)

    def entries(
        self,
        *,
        service: str | None = None,
        since: int = 0,
        orders: tuple[str, ...] = (),
        run: str | None = None,
    ) -> list[JournalEntry]:
        """Entries with ``seq > since``, oldest first; optionally of one service, of one scenario run, and about
        any of ``orders`` (each expanded to every identifier linked to it)."""
        wanted: set[str] = set()
        for key in orders:
            wanted |= self.linked(key)
        with self._lock:
            snapshot = list(self._entries)
        return [
            e
            for e in snapshot
            if e.seq > since
            and (service is None or e.service == service)
            and (run is None or e.run == run)
            and (not orders or not wanted.isdisjoint(e.keys))
        ]

    def clear(self) -> None:
        """Forget all entries, links and runs; ``seq`` keeps increasing so a reader's ``since`` never goes stale."""
        with self._lock:
            self._entries.clear()
            self._links.clear()
            self._runs.clear()
            self._run = None
