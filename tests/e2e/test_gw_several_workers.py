"""Several ``vposlab-gateway worker`` processes at once on PostgreSQL share the work without doing it twice: payments
the bank took (no callback, no return) are found by the pollers and delivered to Ecwid with exactly one accepted
update per order, and every process stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.gateway_processes import CLI, ROOT, Lab, paid_backlog
from tests.e2e.gateway_processes import postgres_url as postgres_url
from tests.e2e.gateway_processes import processes_lab as processes_lab

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ORDERS = 30
WORKERS = 3


def test_several_workers_deliver_each_ecwid_update_once(processes_lab: Lab) -> None:
    lab = processes_lab
    workers = [
        subprocess.Popen(
            [*CLI, "worker", "--interval", "0.2"],
            cwd=ROOT,
            env=lab.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    outputs = []
    try:
        backlog = paid_backlog(lab, ORDERS)  # the workers race for each payment as it appears
        engine = create_engine(lab.env["VPOSLAB_DATABASE_URL"])
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                with engine.connect() as connection:
                    sent = connection.execute(text("SELECT count(*) FROM outbox WHERE state = 'sent'")).scalar_one()
                if sent >= ORDERS:
                    break
                time.sleep(0.5)
        finally:
            engine.dispose()
        for reference, _ in backlog:
            assert lab.accepted_statuses(reference) == ["PAID"], reference
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            _, err = process.communicate(timeout=30)
            outputs.append((process.returncode, err))
    for returncode, err in outputs:
        assert returncode == 0, err[-2000:]
        assert "worker_stopped" in err
