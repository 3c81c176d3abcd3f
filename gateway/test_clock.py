"""The TEST-only test clock (``VPOSLAB_TEST_CLOCK``): system time plus an offset that an operator moves forward, kept
in the gateway's database so that every process of one gateway (each gunicorn worker, each ``vposlab-gateway
worker``) tells the same time.

- ``DatabaseTestClock.now()`` is UTC system time plus the stored offset. The offset is read through a short
  connection of its own (never the caller's session or transaction; a plain ``SELECT`` on one row, no lock) and
  cached for ``CACHE_S`` seconds, so a busy process reads it at most twice a second.
- ``advance`` adds to the offset with one atomic ``UPDATE ... SET offset_us = offset_us + :delta`` (concurrent
  advances add up; the offset only moves forward), records who moved it, then waits ``CACHE_S`` (plus a margin)
  before returning: any other process's cached offset was read before that wait began or sees the new value, so when
  ``advance`` returns every process that can reach the database tells the new time.
- When reading fails, the last known offset stays in use and a warning is logged: a request never fails because of
  the test clock (house rule 16).

``Settings`` refuses ``test_clock`` in REAL mode and the configuration audit fails it (AU-08).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from gateway.services.audit import record_action
from gateway.services.context import GatewayContext
from gateway.store.models import ClockOffset

log = logging.getLogger(__name__)

CACHE_S = 0.5  # how stale one process's view of the offset may be; ``advance`` waits it out
VISIBILITY_MARGIN_S = 0.05
MAX_ADVANCE_S = 30 * 24 * 3600.0  # per call: a typo of a unit should not throw the clock years ahead
ROW_ID = 1  # the one row of ``test_clock``


class BadAdvance(ValueError):
    """The amount to advance by is not a finite, non-negative number of seconds within ``MAX_ADVANCE_S``."""


def _system_now() -> datetime:
    return datetime.now(UTC)


class DatabaseTestClock:
    """A ``gateway.clock.Clock``: system time plus the offset in the ``test_clock`` table (see the module)."""

    def __init__(
        self,
        engine: Engine,
        *,
        cache_s: float = CACHE_S,
        system_now: Callable[[], datetime] = _system_now,
        monotonic: Callable[[], float] = time.monotonic,
        first_read_wait_s: float = 5.0,
    ) -> None:
        self._engine = engine
        self._cache_s = cache_s
        self._system_now = system_now
        self._monotonic = monotonic
        self._first_read_wait_s = first_read_wait_s
        self._lock = threading.Lock()  # guards the fields below; never held while the database is asked
        self._offset_us = 0
        self._known = False  # one read has succeeded
        self._reading = False  # one thread is asking the database; the others use the last known offset
        self._read_at: float | None = None  # monotonic time the last read BEGAN (None: never read)
        self._first_read = threading.Event()

    @property
    def cache_s(self) -> float:
        return self._cache_s

    def now(self) -> datetime:
        return self.now_and_offset()[0]

    def offset_s(self) -> float:
        return self.offset_us() / 1_000_000

    def now_and_offset(self) -> tuple[datetime, float]:
        """The time and the offset (seconds) it includes, from one read."""
        offset_us = self.offset_us()
        return self._system_now() + timedelta(microseconds=offset_us), offset_us / 1_000_000

    def offset_us(self) -> int:
        """The offset, read at most once per ``cache_s``; the last known one while another thread reads it or when
        the database does not answer. Never smaller than an offset this clock has already told."""
        with self._lock:
            started = self._monotonic()
            if self._read_at is not None and started - self._read_at < self._cache_s:
                return self._offset_us
            if self._reading:
                if self._known:
                    return self._offset_us
                wait_for_first = True  # nothing known yet: 0 would be a jump back, so wait for that first read
            else:
                self._reading, wait_for_first = True, False
        if wait_for_first:
            self._first_read.wait(self._first_read_wait_s)
            with self._lock:
                return self._offset_us
        value: int | None = None
        try:
            value = read_offset_us(self._engine)
        except Exception as exc:  # any failure: time goes on with the last known offset
            log.warning(
                "test_clock_read_failed error=%s offset_s=%s (last known offset kept)",
                type(exc).__name__,
                self._offset_us / 1_000_000,
            )
        with self._lock:
            self._reading = False
            # Stamped with the time the read BEGAN: the value is at least that fresh, which is what ``advance``'s
            # wait relies on. A failed read is stamped too, so a database that is down is not asked on every call.
            self._read_at = started
            if value is not None:
                self._offset_us, self._known = max(self._offset_us, value), True
            self._first_read.set()
            return self._offset_us

    def remember(self, offset_us: int) -> None:
        """This process has just written ``offset_us``: tell it at once."""
        with self._lock:
            self._offset_us, self._known = max(self._offset_us, offset_us), True
            self._read_at = self._monotonic()
            self._first_read.set()


def read_offset_us(engine: Engine) -> int:
    """The stored offset in microseconds (0 when the row is missing), through a connection of its own."""
    with engine.connect() as connection:
        value = connection.execute(select(ClockOffset.offset_us).where(ClockOffset.id == ROW_ID)).scalar()
        connection.rollback()  # end the read at once: no snapshot or lock outlives it
    return int(value or 0)


def check_advance(value: object) -> float:
    """``value`` as seconds to advance by, or ``BadAdvance`` saying what is wrong with it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadAdvance("advance_s must be a number of seconds")
    if isinstance(value, int):  # compared before float(), which overflows on huge integers
        value = max(min(value, round(MAX_ADVANCE_S) + 1), -1)
    seconds = float(value)
    if not math.isfinite(seconds):
        raise BadAdvance("advance_s must be a finite number")
    if seconds < 0:
        raise BadAdvance("advance_s must not be negative: the test clock only moves forward")
    if seconds > MAX_ADVANCE_S:
        raise BadAdvance(f"advance_s may be at most {MAX_ADVANCE_S:.0f} seconds (30 days) per call")
    return seconds


@dataclass(frozen=True)
class Advanced:
    now: datetime
    offset_s: float


def advance(ctx: GatewayContext, seconds: object, *, actor: str, wait: bool = True) -> Advanced:
    """Move this gateway's test clock forward by ``seconds`` (checked with ``check_advance``), recording ``actor``.

    Atomic and additive: two advances at once add up. With ``wait`` (the default) it returns only after every other
    process's cached offset has expired, so all of them tell the new time from then on."""
    delta_us = round(check_advance(seconds) * 1_000_000)
    clock = ctx.clock
    with ctx.db.session() as session, session.begin():
        offset_us = _add(session.connection(), delta_us)
        at = _system_now() + timedelta(microseconds=offset_us)  # the new time, as every process tells it
        record_action(
            session,
            actor,
            "test_clock_advance",
            at,
            detail=f"+{_seconds(delta_us)} s, offset {_seconds(offset_us)} s",
        )
    if isinstance(clock, DatabaseTestClock):
        clock.remember(offset_us)
        cache_s = clock.cache_s
    else:
        cache_s = CACHE_S
    log.info("test_clock_advanced operator=%s seconds=%s offset_s=%s", actor, _seconds(delta_us), _seconds(offset_us))
    if wait:
        time.sleep(cache_s + VISIBILITY_MARGIN_S)
    return Advanced(now=_system_now() + timedelta(microseconds=offset_us), offset_s=offset_us / 1_000_000)


def _seconds(microseconds: int) -> str:
    """Seconds for people: ``3600``, ``0.5``."""
    whole, rest = divmod(microseconds, 1_000_000)
    return str(whole) if rest == 0 else str(microseconds / 1_000_000)


def _add(connection: Connection, delta_us: int) -> int:
    """``offset_us += delta_us`` on the one row, creating it when a database lost it; returns the new offset."""
    statement = (
        update(ClockOffset)
        .where(ClockOffset.id == ROW_ID)
        .values(offset_us=ClockOffset.offset_us + delta_us, updated_at=_system_now())
        .returning(ClockOffset.offset_us)
    )
    new = connection.execute(statement).scalar()
    if new is None:  # no row (the migration writes it): create it; a concurrent creator wins, then add again
        try:
            with connection.begin_nested():
                connection.execute(insert(ClockOffset).values(id=ROW_ID, offset_us=delta_us, updated_at=_system_now()))
            return delta_us
        except IntegrityError:
            new = connection.execute(statement).scalar()
    assert new is not None
    return int(new)
