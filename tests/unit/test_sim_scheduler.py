"""The simulator's scheduler: work due at a virtual time runs when the clock gets there, in due order, each job
with the clock at its own due time; manual mode runs nothing by itself; one failing job stops nothing."""

from __future__ import annotations

import time

import pytest

from simulator.control.clock import VirtualClock
from simulator.control.scheduler import Scheduler


@pytest.fixture
def scheduler() -> Scheduler:
    s = Scheduler(VirtualClock())
    s.set_mode("manual")
    return s


def test_advance_runs_due_jobs_in_due_order_each_at_its_own_time(scheduler: Scheduler) -> None:
    start = scheduler.clock.now().timestamp()
    seen: list[tuple[str, float]] = []

    def record(name: str) -> None:
        seen.append((name, scheduler.clock.now().timestamp() - start))

    scheduler.after(30, "c", lambda: record("c"))
    scheduler.after(10, "a", lambda: record("a"))
    scheduler.after(20, "b", lambda: record("b"))
    scheduler.after(100, "later", lambda: record("later"))

    assert scheduler.advance(60) == 3
    assert [name for name, _ in seen] == ["a", "b", "c"]
    for (_, at), expected in zip(seen, (10, 20, 30), strict=True):
        assert at == pytest.approx(expected, abs=0.5)
    assert scheduler.clock.now().timestamp() - start == pytest.approx(60, abs=0.5)
    assert [j.name for j in scheduler.pending()] == ["later"]


def test_a_job_scheduled_by_a_job_runs_in_the_same_advance_when_it_falls_due(scheduler: Scheduler) -> None:
    seen: list[str] = []
    scheduler.after(10, "first", lambda: scheduler.after(10, "second", lambda: seen.append("second")))
    scheduler.advance(25)
    assert seen == ["second"]


def test_manual_mode_runs_nothing_by_itself(scheduler: Scheduler) -> None:
    seen: list[str] = []
    scheduler.after(0, "now", lambda: seen.append("now"))
    time.sleep(0.2)
    assert seen == []
    assert scheduler.run_due() == 1
    assert seen == ["now"]


def test_real_mode_runs_jobs_as_wall_time_reaches_them() -> None:
    scheduler = Scheduler(VirtualClock())
    seen: list[str] = []
    try:
        scheduler.after(0.1, "soon", lambda: seen.append("soon"))
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
        assert seen == ["soon"]
    finally:
        scheduler.stop()


def test_a_failing_job_does_not_stop_the_others(scheduler: Scheduler) -> None:
    seen: list[str] = []

    def boom() -> None:
        raise RuntimeError("boom")

    scheduler.after(1, "boom", boom)
    scheduler.after(2, "ok", lambda: seen.append("ok"))
    assert scheduler.advance(5) == 2
    assert seen == ["ok"]


def test_cancel_and_clear_and_tags(scheduler: Scheduler) -> None:
    seen: list[str] = []
    job = scheduler.after(1, "cancelled", lambda: seen.append("x"), md_order="A")
    scheduler.after(1, "kept", lambda: seen.append("kept"), md_order="B")
    assert [j.name for j in scheduler.pending(md_order="A")] == ["cancelled"]
    assert scheduler.cancel(job.seq) is True
    assert scheduler.cancel(job.seq) is False
    scheduler.advance(2)
    assert seen == ["kept"]
    scheduler.after(1, "gone", lambda: seen.append("gone"))
    scheduler.clear()
    scheduler.advance(2)
    assert seen == ["kept"]


def test_bad_input_is_refused(scheduler: Scheduler) -> None:
    with pytest.raises(ValueError, match="forward"):
        scheduler.advance(-1)
    with pytest.raises(ValueError, match="clock mode"):
        scheduler.set_mode("fast")
