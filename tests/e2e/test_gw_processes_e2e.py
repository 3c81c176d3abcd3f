"""The gateway's own processes as an operations engineer runs them: ``migrate``, ``serve`` (gunicorn, two worker
processes) and ``worker``; both long-running commands stop cleanly on SIGTERM, and none prints a secret."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent.parent
SECRETS = {
    "client": "gw-proc-client-secret-0123456789",
    "bank": "gw-proc-bank-password",
    "callback": "gw-proc-callback-key",
    "token_key": "Nn3G3m0x0o1h4kqLq6yXv3o0gq2mZr8bXk3y0l2b7ZQ=",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    values = {
        **os.environ,
        "VPOSLAB_PUBLIC_URL": "http://127.0.0.1:9",
        "VPOSLAB_ECWID_CLIENT_SECRETS": json.dumps({"1003": SECRETS["client"]}),
        "VPOSLAB_PROVIDER_MODE": "TEST",
        "VPOSLAB_PROVIDER_BASE_URL": "http://127.0.0.1:9/payment/rest/",
        "VPOSLAB_PROVIDER_CREDENTIALS": json.dumps({"AMD": {"user_name": "shop", "password": SECRETS["bank"]}}),
        "VPOSLAB_CALLBACK_KEY": SECRETS["callback"],
        "VPOSLAB_TOKEN_KEY": SECRETS["token_key"],
        "VPOSLAB_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.sqlite3'}",
    }
    yield values


def gateway_cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from gateway.cli import main; main()", *args]


def test_serve_refuses_an_unmigrated_database_with_the_command_to_run(env: dict[str, str]) -> None:
    result = subprocess.run(
        gateway_cli("serve", "--port", str(free_port())), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "vposlab-gateway migrate" in result.stderr + result.stdout


def test_serve_runs_gunicorn_workers_and_stops_gracefully_on_sigterm(env: dict[str, str]) -> None:
    subprocess.run(gateway_cli("migrate"), cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
    port = free_port()
    process = subprocess.Popen(
        gateway_cli("serve", "--port", str(port), "--workers", "2", "--threads", "2", "--graceful-timeout", "5"),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=5) as http:
            for _ in range(150):
                try:
                    if http.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise AssertionError("the gateway did not start")
            ready = http.get(f"{base}/readyz")
            assert (ready.status_code, ready.json()["checks"]) == (200, {"database": "ok", "schema": "ok"})
            assert http.get(f"{base}/vpos/return", params={"orderId": "junk"}).status_code in (400, 404)
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "gunicorn, 2 workers" in stdout
    assert stderr.count("Booting worker") == 2
    assert "Shutting down" in stderr
    for secret in SECRETS.values():
        assert secret not in stdout and secret not in stderr


def test_worker_stops_after_its_pass_on_sigterm(env: dict[str, str]) -> None:
    subprocess.run(gateway_cli("migrate"), cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
    process = subprocess.Popen(
        gateway_cli("worker", "--interval", "0.2"),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    assert process.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(process.stderr or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60  # start-up is slow on a busy machine: wait for passes, not a fixed time
        while sum("worker_pass" in line for line in lines) < 3 and time.monotonic() < deadline:
            assert process.poll() is None, "the worker died: " + "".join(lines)[-2000:]
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        reader.join(timeout=10)
    assert process.stdout is not None
    stdout = process.stdout.read()
    process.stdout.close()
    process.stderr.close()
    stderr = "".join(lines)
    assert process.returncode == 0
    assert "worker_pass" in stderr
    assert "worker_stopping signal=SIGTERM" in stderr and "worker_stopped" in stderr
    for secret in SECRETS.values():
        assert secret not in stdout and secret not in stderr
