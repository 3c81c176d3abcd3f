"""A worker killed with SIGKILL at random points, many times, loses nothing: afterwards every payment the bank took
is PAID in Ecwid, and duplicate Ecwid updates stay bounded by the number of kills."""

from __future__ import annotations

import random
import signal
import subprocess
import time

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.gateway_processes import CLI, ROOT, Lab, paid_backlog
from tests.e2e.gateway_processes import postgres_url as postgres_url
from tests.e2e.gateway_processes import processes_lab as processes_lab

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

KILLS = 12
PER_LIFE = 2  # new payments the bank takes during each worker's life, so every kill can land mid-work
ORDERS = KILLS * PER_LIFE


def start_worker(lab: Lab) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, "worker", "--interval", "0.1"],
        cwd=ROOT,
        env=lab.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_at_random_points_loses_no_payment(processes_lab: Lab) -> None:
    lab = processes_lab
    backlog = []
    chance = random.Random(20261123)  # a fixed seed: the same kill points on every run
    for _ in range(KILLS):
        worker = start_worker(lab)
        backlog += paid_backlog(lab, PER_LIFE)
        time.sleep(chance.uniform(0.2, 1.5))  # kills land during start-up, polls, confirmations and Ecwid calls
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    survivor = start_worker(lab)
    engine = create_engine(lab.env["VPOSLAB_DATABASE_URL"])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                paid = connection.execute(
                    text("SELECT count(*) FROM payment_attempts WHERE status = 'paid'")
                ).scalar_one()
                waiting = connection.execute(text("SELECT count(*) FROM outbox WHERE state <> 'sent'")).scalar_one()
            if paid == ORDERS and waiting == 0:
                break
            time.sleep(0.5)
        assert (paid, waiting) == (ORDERS, 0)
    finally:
        engine.dispose()
        survivor.send_signal(signal.SIGTERM)
        survivor.wait(timeout=30)
    for reference, _ in backlog:
        accepted = lab.accepted_statuses(reference)
        assert accepted and set(accepted) == {"PAID"}, reference
        assert len(accepted) <= 1 + KILLS  # a kill between Ecwid's answer and our commit may resend: bounded
