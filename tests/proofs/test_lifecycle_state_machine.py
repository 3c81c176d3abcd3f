"""The payment lifecycle state machine (``bench/lifecycle.py``), bounded: a few dozen random programs of customers,
bank, callbacks, Ecwid, clocks, worker passes and crashes, refunds and reversals against the real gateway and
simulator over HTTP on 127.0.0.1, on SQLite and on PostgreSQL. Every invariant is checked after every step and at
the end of every example; a failure prints the minimal program hypothesis found.

The long mode runs thousands of examples from one command: ``python -m bench.lifecycle --examples 2000``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.lifecycle import World, run_machine
from tests.e2e.gateway_processes import postgres_url as postgres_url

pytestmark = pytest.mark.e2e

STEPS = 30  # per example


def test_the_lifecycle_rules_hold_on_sqlite(tmp_path: Path) -> None:
    with World.started(tmp_path) as world:
        run_machine(world, examples=30, steps=STEPS)
        assert world.figures.examples >= 30
        assert world.figures.store_returns_checked > 0  # the programs reached the store, not only the bank page


@pytest.mark.postgres
def test_the_lifecycle_rules_hold_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    with World.started(tmp_path, database_url=postgres_url) as world:
        run_machine(world, examples=10, steps=STEPS)
        assert world.figures.examples >= 10
