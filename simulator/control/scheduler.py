"""Work that falls due at a virtual time: delayed and retried callbacks, pending payments that resolve by
themselves, 3-D Secure pages and bank sessions that expire.

Two ways time moves, so tests are deterministic and a person clicking through sees real behaviour:

- ``advance(seconds)``: the clock jumps forward and every job due on the way runs in due order, each with the clock
  standing at its own due time, before ``advance`` returns. Tests use this (``POST /_control/clock/advance``) and
  never sleep to wait for the simulator.
- ``real`` mode: a ticker thread runs jobs as wall time reaches them (the default for ``vposlab lab`` and
  ``vposlab-simulator serve``). In ``manual`` mode nothing runs by itself.

Jobs run one at a time, outside the scheduler's lock; a failing job is logged and never stops the others.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, get_args

from simulator.control.clock import VirtualClock

log = logging.getLogger(__name__)

ClockMode = Literal["real", "manual"]
CLOCK_MODES: tuple[str, ...] = get_args(ClockMode)
TICK_SECONDS = 0.05


@dataclass(order=True)
class Job:
    due: datetime
    seq: int
    name: str = field(compare=False)
    action: Callable[[], None] = field(compare=False, repr=False)
    tags: dict[str, str] = field(compare=False, default_factory=dict)
    cancelled: bool = field(compare=False, default=False)

    def to_json(self) -> dict[str, object]:
        return {"id": self.seq, "due": self.due.isoformat(), "name": self.name, "tags": dict(self.tags)}


class Scheduler:
    """Thread-safe queue of jobs by virtual due time."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._run_lock = threading.RLock()  # one job at a time, in due order
        self._heap: list[Job] = []
        self._seq = itertools.count(1)
        self._mode: ClockMode = "real"
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # -- scheduling -------------------------------------------------------------------------------------------
    def at(self, due: datetime, name: str, action: Callable[[], None], **tags: str) -> Job:
        job = Job(due, next(self._seq), name, action, tags)
        with self._lock:
            heapq.heappush(self._heap, job)
        if self._mode == "real":
            self.start()  # lazily: an app that never schedules anything never starts a thread
        return job

    def after(self, seconds: float, name: str, action: Callable[[], None], **tags: str) -> Job:
        """Due ``seconds`` of virtual time from now (0: at the next tick or advance)."""
        return self.at(self.clock.now() + timedelta(seconds=max(0.0, seconds)), name, action, **tags)

    def cancel(self, job_id: int) -> bool:
        with self._lock:
            for job in self._heap:
                if job.seq == job_id and not job.cancelled:
                    job.cancelled = True
                    return True
        return False

    def pending(self, **tags: str) -> list[Job]:
        """Jobs not yet run, soonest first; filtered by tags (e.g. ``md_order=...``)."""
        with self._lock:
            jobs = sorted(j for j in self._heap if not j.cancelled)
        return [j for j in jobs if all(j.tags.get(k) == v for k, v in tags.items())]

    def clear(self) -> None:
        with self._lock:
            for job in self._heap:
                job.cancelled = True
            self._heap.clear()

    # -- time -------------------------------------------------------------------------------------------------
    @property
    def mode(self) -> ClockMode:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in CLOCK_MODES:
            raise ValueError(f"clock mode must be one of {', '.join(CLOCK_MODES)}")
        self._mode = mode  # type: ignore[assignment]

    def run_due(self) -> int:
        """Run every job due by the clock's current time; returns how many ran."""
        ran = 0
        with self._run_lock:
            while (job := self._pop_due(self.clock.now())) is not None:
                self._run(job)
                ran += 1
        return ran

    def advance(self, seconds: float) -> int:
        """Move the clock forward by ``seconds``, running each job that falls due on the way at its due time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        ran = 0
        with self._run_lock:
            target_offset = self.clock.offset_seconds + seconds  # exact, whatever wall time passes meanwhile
            while True:
                with self._lock:
                    live = [j for j in self._heap if not j.cancelled]
                    next_due = min(live).due if live else None
                horizon = self.clock.now() + timedelta(seconds=target_offset - self.clock.offset_seconds)
                if next_due is None or next_due > horizon:
                    break
                self.clock.advance(max(0.0, (next_due - self.clock.now()).total_seconds()))
                ran += self.run_due()
            self.clock.advance(max(0.0, target_offset - self.clock.offset_seconds))
            ran += self.run_due()
        return ran

    def _pop_due(self, now: datetime) -> Job | None:
        with self._lock:
            while self._heap and self._heap[0].cancelled:
                heapq.heappop(self._heap)
            if self._heap and self._heap[0].due <= now:
                return heapq.heappop(self._heap)
        return None

    def _run(self, job: Job) -> None:
        try:
            job.action()
        except Exception:  # one job's failure never stops the others
            log.exception("scheduled job failed: %s", job.name)

    # -- the ticker (real mode) -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the background ticker (idempotent). It runs due jobs only while the mode is ``real``."""
        if self._ticker is not None and self._ticker.is_alive():
            return
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="simulator-scheduler", daemon=True)
        self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
            self._ticker = None

    def _tick(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            if self._mode == "real":
                self.run_due()
