"""``vposlab-simulator serve`` as a real process: it answers, prints its URLs and never prints secrets."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_answers_and_keeps_secrets_out_of_its_output() -> None:
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from simulator.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--payment-url",
        "http://127.0.0.1:9/pay",
        "--store",
        "1003:cli-client-secret-XYZ:cli_store_token",
        "--merchant",
        "cli_shop:cli-bank-password:051",
        "--callback-key",
        "cli-callback-key",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=5) as http:
            for _ in range(100):
                try:
                    if http.get(f"{base}/_control/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise AssertionError("the simulator did not start")
            query = {
                "userName": "cli_shop",
                "password": "cli-bank-password",
                "orderNumber": "CLI-1",
                "amount": "100",
                "returnUrl": "http://127.0.0.1:9/r",
            }
            body = http.post(f"{base}/payment/rest/register.do", params=query).json()
            assert body["errorCode"] == 0
            assert body["formUrl"].startswith(f"{base}/payment/merchants/sim/payment_en.html")
            assert http.get(f"{base}/store/1003/").status_code == 200
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=10)
    assert f"{base}/payment/rest/" in stdout
    assert "/register.do" in stderr  # the access log is there, without the query string
    for secret in ("cli-client-secret-XYZ", "cli_store_token", "cli-bank-password", "cli-callback-key"):
        assert secret not in stdout and secret not in stderr
