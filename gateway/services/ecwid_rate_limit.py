"""Ecwid's rate limit, kept on our side: at most N calls per token in any 60 s (protocols.md 1.3: 600/min per token).

``TokenRateLimiter`` is a sliding-window log per token key: it remembers when it let each of the last calls through
and grants a call only while fewer than ``per_minute`` of them fall within the window ending now. A 429 from Ecwid
pauses the whole token (every store and message that uses it) until its ``Retry-After`` has passed. Time comes from
the caller (the injected clock), so a virtual minute is testable without sleeping; the limiter never sleeps itself.

Tokens are bearer secrets: the limiter is keyed by ``token_key(token)``, a one-way hash, never by the token.

Scope: one limiter per Ecwid client, that is per process (``limiter_for``). Several worker processes (or web
processes delivering on a customer's return) each keep their own budget, so together they may exceed the limit;
Ecwid then answers 429, and each process pauses that token when it sees it. Size ``ecwid_rate_limit_per_minute``
per process (limit / processes) when the processes share tokens heavily.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.services.context import GatewayContext

WINDOW_S = 60.0


def token_key(token: str) -> str:
    """A stable, one-way name for a token: safe to keep in memory and to log."""
    return hashlib.sha256(b"vposlab-ecwid-rate-limit:" + token.encode("utf-8")).hexdigest()[:32]


class TokenRateLimiter:
    """At most ``per_minute`` granted calls per token key in any ``window_s`` seconds, plus pauses. Thread-safe."""

    def __init__(self, per_minute: int, *, window_s: float = WINDOW_S) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.window_s = window_s
        self._calls: dict[str, deque[float]] = {}
        self._paused_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_s(self, key: str, now: datetime) -> float:
        """Seconds until a call for ``key`` could be granted (0.0: now). Grants nothing."""
        with self._lock:
            return self._wait_locked(key, now.timestamp())

    def try_acquire(self, key: str, now: datetime) -> float:
        """Grant and count one call (returns 0.0), or return the seconds to wait and count nothing."""
        at = now.timestamp()
        with self._lock:
            wait = self._wait_locked(key, at)
            if wait == 0.0:
                self._calls.setdefault(key, deque()).append(at)
            return wait

    def pause(self, key: str, until: datetime) -> None:
        """No call for ``key`` before ``until`` (Ecwid said 429). A pause is only ever extended, never shortened."""
        with self._lock:
            self._paused_until[key] = max(self._paused_until.get(key, 0.0), until.timestamp())

    def in_window(self, key: str, now: datetime) -> int:
        """Calls granted for ``key`` within the window ending at ``now``."""
        with self._lock:
            return len(self._window_locked(key, now.timestamp()))

    def _window_locked(self, key: str, at: float) -> deque[float]:
        calls = self._calls.get(key)
        if calls is None:
            return deque()
        while calls and calls[0] <= at - self.window_s:
            calls.popleft()
        if not calls:
            del self._calls[key]  # tokens come and go: keep only the ones with calls in the window
        return calls

    def _wait_locked(self, key: str, at: float) -> float:
        paused = self._paused_until.get(key)
        if paused is not None:
            if paused > at:
                return paused - at
            del self._paused_until[key]
        calls = self._window_locked(key, at)
        if len(calls) < self.per_minute:
            return 0.0
        # The window is full: the next call fits once the oldest call that keeps it full has left it.
        return max(calls[len(calls) - self.per_minute] + self.window_s - at, 1e-6)


_LIMITERS: weakref.WeakKeyDictionary[object, TokenRateLimiter] = weakref.WeakKeyDictionary()
_LIMITERS_LOCK = threading.Lock()


def limiter_for(ctx: GatewayContext) -> TokenRateLimiter:
    """The limiter shared by everything in this process that talks to Ecwid through ``ctx.ecwid`` (the context is
    built once per process, so one budget per process), sized by ``ecwid_rate_limit_per_minute``."""
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(ctx.ecwid)
        if limiter is None:
            limiter = TokenRateLimiter(ctx.settings.ecwid_rate_limit_per_minute)
            _LIMITERS[ctx.ecwid] = limiter
        else:
            limiter.per_minute = ctx.settings.ecwid_rate_limit_per_minute  # a context rebuilt with a new setting
        return limiter
