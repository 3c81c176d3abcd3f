"""Ecwid's bad days on the orders API (``GET``/``PUT /api/v3/{storeId}/orders/{ref}``): injected faults and the
real rate limit, set through ``/_control/ecwid/faults`` and ``/_control/ecwid/rate-limit``.

A fault optionally names a store access ``token`` (only calls presenting that Bearer token), a ``storeId`` and a
``method`` (``GET``, ``PUT`` or ``*``), and how many calls it spoils (``times``; none: every call until it is
deleted or cleared). Kinds (bodies ``{"errorMessage", "errorCode"}`` as protocols.md 1.3):

===================  =========================================================================================
``http_500``         500 ``INTERNAL_SERVER_ERROR``
``http_503``         503 ``SERVICE_UNAVAILABLE``
``rate_limited``     429 ``RATE_LIMITED`` with ``Retry-After: <retryAfterSeconds>`` (default 10)
``hang``             a real sleep of ``seconds`` (default and bound ``max_sleep_seconds``), longer than the
                     client's timeout; then 503 (nobody is listening any more)
``token_revoked``    403 ``INVALID_API_TOKEN`` (the app was uninstalled or the token revoked)
``store_suspended``  402 ``STORE_SUSPENDED`` (plan expired / store suspended)
``conflict``         409 ``CONFLICT`` (the order was changed meanwhile)
===================  =========================================================================================

Faults act before the token is checked and before the order is touched (a refused PUT changes nothing). The oldest
active matching fault wins; a fault for N calls fires exactly N times however the calls race.

Rate limit: ``RateLimiter`` keeps, per token, the virtual times of the calls it let through in the last 60 s (a
sliding window on the simulator's VIRTUAL clock). A call when ``limit`` calls already sit in the window gets 429
``RATE_LIMITED`` with ``Retry-After`` = whole seconds (rounded up, at least 1) until the oldest of them leaves the
window. Refused calls are not counted. Advancing the virtual clock by 60 s frees the window.

Tokens are secrets: they are kept here only to match calls, and shown as ``***`` plus their last 4 characters.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from simulator.fault_book import DEFAULT_MAX_SLEEP_SECONDS as DEFAULT_MAX_SLEEP_SECONDS  # re-exported
from simulator.fault_book import MAX_SLEEP_LIMIT_SECONDS as MAX_SLEEP_LIMIT_SECONDS  # re-exported
from simulator.fault_book import FaultBook

EcwidFaultKind = Literal["http_500", "http_503", "rate_limited", "hang", "token_revoked", "store_suspended", "conflict"]
ECWID_FAULT_KINDS: tuple[str, ...] = get_args(EcwidFaultKind)
FAULT_METHODS = ("GET", "PUT", "*")

DEFAULT_RETRY_AFTER_SECONDS = 10
DEFAULT_RATE_LIMIT = 600
"""Ecwid's documented limit: 600 requests per minute per token (protocols.md 1.3)."""
RATE_WINDOW_SECONDS = 60.0

ANSWERS: dict[str, tuple[int, str, str]] = {
    "http_500": (500, "INTERNAL_SERVER_ERROR", "Internal server error"),
    "http_503": (503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable"),
    "rate_limited": (429, "RATE_LIMITED", "Too many requests"),
    "hang": (503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable (the request hung)"),
    "token_revoked": (403, "INVALID_API_TOKEN", "The access token was revoked"),
    "store_suspended": (402, "STORE_SUSPENDED", "The store is suspended or its plan does not allow API access"),
    "conflict": (409, "CONFLICT", "The order was modified by another request; retry"),
}
"""Fault kind -> (HTTP status, errorCode, errorMessage)."""


def mask_token(token: str) -> str:
    """``secret_abc…1003`` -> ``***1003``: enough to tell tokens apart on a page, useless to an attacker."""
    return "***" + token[-4:] if len(token) > 8 else "***"


@dataclass(frozen=True)
class EcwidFaultSpec:
    kind: EcwidFaultKind
    method: str = "*"
    token: str | None = None
    store_id: int | None = None
    times: int | None = None
    retry_after_seconds: int = DEFAULT_RETRY_AFTER_SECONDS
    seconds: float | None = None


@dataclass
class EcwidFault:
    id: int
    spec: EcwidFaultSpec
    remaining: int | None
    fired: int = 0
    _cancelled: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def active(self) -> bool:
        return self.remaining is None or self.remaining > 0

    def answer(self) -> tuple[int, str, str]:
        return ANSWERS[self.spec.kind]

    def label(self) -> str:
        return f"ecwid fault #{self.id} {self.spec.kind}"

    def matches(self, method: str, store_id: int, token: str) -> bool:
        spec = self.spec
        return (
            spec.method in ("*", method)
            and (spec.store_id is None or spec.store_id == store_id)
            and (spec.token is None or spec.token == token)
        )

    def cancel(self) -> None:
        self._cancelled.set()

    def sleep(self, seconds: float) -> bool:
        """Sleep for real; False when the fault was deleted or cleared meanwhile."""
        return not self._cancelled.wait(max(0.0, seconds))

    def to_json(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "id": self.id,
            "fault": spec.kind,
            "method": spec.method,
            "token": mask_token(spec.token) if spec.token is not None else None,
            "storeId": spec.store_id,
            "times": spec.times,
            "remaining": self.remaining,
            "fired": self.fired,
            "active": self.active,
            "httpStatus": ANSWERS[spec.kind][0],
            "errorCode": ANSWERS[spec.kind][1],
            "retryAfterSeconds": spec.retry_after_seconds if spec.kind == "rate_limited" else None,
            "seconds": spec.seconds if spec.kind == "hang" else None,
        }


class EcwidFaultBook(FaultBook[EcwidFault]):
    """The injected Ecwid faults, oldest first; spent ones stay listed (``active: false``) until cleared."""

    def add(self, spec: EcwidFaultSpec) -> EcwidFault:
        if spec.kind == "hang" and spec.seconds is None:
            spec = dataclasses.replace(spec, seconds=self.max_sleep_seconds)
        return self._keep(lambda fault_id: EcwidFault(id=fault_id, spec=spec, remaining=spec.times))

    def take(self, method: str, store_id: int, token: str) -> EcwidFault | None:
        """The oldest active fault for this call, counted as fired (atomically), or None."""
        return self._take_first(lambda fault: fault.matches(method, store_id, token))

    def sleep(self, fault: EcwidFault) -> bool:
        return fault.sleep(min(fault.spec.seconds or 0.0, self.max_sleep_seconds))


class RateLimiter:
    """Sliding 60-second window per token on the virtual clock (see the module docstring)."""

    def __init__(self, limit: int = DEFAULT_RATE_LIMIT) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._calls: dict[str, deque[datetime]] = {}

    @property
    def limit(self) -> int:
        with self._lock:
            return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        """A new limit starts every token's window afresh."""
        if value < 1:
            raise ValueError("the limit must be at least 1")
        with self._lock:
            self._limit = value
            self._calls.clear()

    def _window(self, token: str, now: datetime) -> deque[datetime]:
        calls = self._calls.setdefault(token, deque())
        start = now - timedelta(seconds=RATE_WINDOW_SECONDS)
        while calls and calls[0] <= start:
            calls.popleft()
        return calls

    def admit(self, token: str, now: datetime) -> int | None:
        """Count the call and return None, or return the Retry-After seconds when the window is full."""
        with self._lock:
            calls = self._window(token, now)
            if len(calls) < self._limit:
                calls.append(now)
                return None
            frees_at = calls[len(calls) - self._limit] + timedelta(seconds=RATE_WINDOW_SECONDS)
            return max(1, math.ceil((frees_at - now).total_seconds()))

    def usage(self, now: datetime) -> list[dict[str, Any]]:
        """Calls in the current window per (masked) token."""
        with self._lock:
            return [
                {"token": mask_token(token), "calls": len(self._window(token, now))}
                for token in sorted(self._calls)
                if self._window(token, now)
            ]

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            "requestsPerMinute": self.limit,
            "windowSeconds": RATE_WINDOW_SECONDS,
            "window": "sliding, virtual clock",
            "usage": self.usage(now),
        }

    def reset(self) -> None:
        with self._lock:
            self._limit = DEFAULT_RATE_LIMIT
            self._calls.clear()
