"""Shared scaffolding for the tests that run the gateway's own processes against the simulator: a fresh PostgreSQL
schema, a store and merchant set up alike in the simulator and in the environment the gateway reads, a simulator on
a free port with that environment, a backlog of payments the bank has
taken (made through the gateway's real payment path, then paid at the bank), and ``vposlab-gateway serve``
(gunicorn) started until ready and stopped."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway import build_context
from gateway.ecwid.payment_request import parse_payment_request
from gateway.services.start_payment import start_payment
from gateway.settings import Settings
from lab.servers import ServerThread
from simulator import EcwidStore, SimulatorConfig, VposMerchant
from simulator import create_app as create_simulator

ROOT = Path(__file__).resolve().parent.parent.parent
POSTGRES_URL = os.environ.get("VPOSLAB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TOKEN_KEY = "Nn3G3m0x0o1h4kqLq6yXv3o0gq2mZr8bXk3y0l2b7ZQ="
CARD = {"pan": "4242424242424242", "expiry": "12/39", "cvc": "123"}
CLI = [sys.executable, "-c", "from gateway.cli import main; main()"]


@dataclass(frozen=True)
class Accounts:
    """A test's Ecwid store 1003 and AMD bank merchant, set up alike in the simulator (``simulator``) and in the
    gateway's environment (``gateway_env``). With a ``callback_key`` the bank sends the gateway signed callbacks;
    without one, none."""

    client_secret: str
    ecwid_token: str
    user_name: str
    bank_password: str
    callback_key: str | None = None

    def simulator(self, sim_url: str, gateway_url: str) -> SimulatorConfig:
        return SimulatorConfig(
            public_url=sim_url,
            payment_url=f"{gateway_url}/ecwid/payment",
            stores=(EcwidStore(store_id=1003, client_secret=self.client_secret, token=self.ecwid_token),),
            merchants=(VposMerchant(user_name=self.user_name, password=self.bank_password, currency="051"),),
            callback_url=None if self.callback_key is None else f"{gateway_url}/vpos/callback",
            callback_key=self.callback_key,
        )

    def gateway_env(self, sim_url: str, gateway_url: str, database_url: str) -> dict[str, str]:
        """This process's environment plus the gateway's settings: the simulator at ``sim_url`` as Ecwid and the
        bank (TEST), ``gateway_url`` as the public URL, ``database_url``."""
        credentials = {"AMD": {"user_name": self.user_name, "password": self.bank_password}}
        env = {
            **os.environ,
            "VPOSLAB_PUBLIC_URL": gateway_url,
            "VPOSLAB_ECWID_CLIENT_SECRETS": json.dumps({"1003": self.client_secret}),
            "VPOSLAB_ECWID_API_URL": f"{sim_url}/api/v3",
            "VPOSLAB_PROVIDER_MODE": "TEST",
            "VPOSLAB_PROVIDER_BASE_URL": f"{sim_url}/payment/rest/",
            "VPOSLAB_PROVIDER_CREDENTIALS": json.dumps(credentials),
            "VPOSLAB_TOKEN_KEY": TOKEN_KEY,
            "VPOSLAB_DATABASE_URL": database_url,
        }
        if self.callback_key is not None:
            env["VPOSLAB_CALLBACK_KEY"] = self.callback_key
        return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(
    env: Mapping[str, str],
    port: int,
    *,
    threads: int,
    output: int | IO[bytes] = subprocess.DEVNULL,
    own_session: bool = False,
) -> subprocess.Popen[bytes]:
    """``vposlab-gateway serve`` (gunicorn, two workers, ``threads`` each) on ``port``, returned once its /readyz
    answers 200; its output goes to ``output``. In a session of its own (``own_session``: its own process group)
    the whole server can be killed at once. A server that exits or is not ready within 30 s is stopped, and the
    test fails."""
    process = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", "2", "--threads", str(threads)],
        cwd=ROOT,
        env=dict(env),
        stdout=output,
        stderr=output,
        start_new_session=own_session,
    )
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(timeout=2) as http:
            while time.monotonic() < deadline:
                assert process.poll() is None, f"serve exited with {process.returncode}"
                try:
                    if http.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                        return process
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise AssertionError("the gateway did not become ready")
    except BaseException:
        stop_process(process, group=own_session)
        raise


def stop_process(process: subprocess.Popen[bytes], *, group: bool = False) -> None:
    """SIGTERM and wait (gunicorn and the worker stop gracefully); SIGKILL (the whole group) when that fails."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if group:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # gunicorn workers a killed master left behind


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards."""
    if os.environ.get("VPOSLAB_SKIP_POSTGRES") == "1":
        pytest.skip("VPOSLAB_SKIP_POSTGRES=1")
    admin = create_engine(make_url(POSTGRES_URL))
    schema = "gw_proc_" + uuid.uuid4().hex[:12]
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class Lab:
    sim: ServerThread
    env: dict[str, str]

    @property
    def sim_url(self) -> str:
        return self.sim.url

    def accepted_statuses(self, reference: str) -> list[str]:
        """The paymentStatus of every update Ecwid accepted for the order, in order."""
        with httpx.Client(timeout=30) as http:
            history = http.get(f"{self.sim_url}/_control/ecwid/orders/1003/{reference}/history").json()["history"]
        return [entry["newPaymentStatus"] for entry in history if entry["accepted"]]


@pytest.fixture
def processes_lab(postgres_url: str) -> Iterator[Lab]:
    """A simulator whose bank sends no callbacks (the worker must find every payment itself), and the gateway's
    environment pointing at it, migrated."""
    accounts = Accounts(
        client_secret="gateway-processes-secret-0123456789",
        ecwid_token="secret_gateway_processes_token",
        user_name="proc_amd",
        bank_password="gateway-processes-bank-pw",
    )
    nowhere = "http://127.0.0.1:9"  # the gateway's public URL: nobody comes back to it
    sim = ServerThread("simulator")
    sim.start(create_simulator(accounts.simulator(sim.url, nowhere)))
    env = {
        **accounts.gateway_env(sim.url, nowhere, postgres_url),
        "VPOSLAB_POLL_AFTER_S": "1",
        "VPOSLAB_POLL_MAX_INTERVAL_S": "2",
    }
    try:
        subprocess.run([*CLI, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
        yield Lab(sim, env)
    finally:
        sim.stop()


def paid_backlog(lab: Lab, orders: int) -> list[tuple[str, str]]:
    """``orders`` payments registered through the gateway's payment path and paid at the bank, which tells nobody
    (no callback, no return): ``(referenceTransactionId, mdOrder)`` each. Nothing is confirmed yet."""
    settings = Settings.from_env(lab.env)
    ctx = build_context(settings)
    made = []
    try:
        with httpx.Client(timeout=30) as http:
            for n in range(orders):
                order = http.post(
                    f"{lab.sim_url}/_control/ecwid/orders",
                    json={"storeId": 1003, "total": 10.0 + n, "items": [{"name": "Tea", "price": 10.0 + n}]},
                ).json()
                form = http.post(
                    f"{lab.sim_url}/_control/ecwid/payment-request", json={"storeId": 1003, "orderId": order["id"]}
                ).json()
                request = parse_payment_request(
                    {k: form[k] for k in ("enc_data", "data") if k in form},
                    settings.ecwid_client_secrets,
                    frozenset({"AMD"}),
                )
                outcome = start_payment(ctx, request, page_view="DESKTOP")
                md_order = outcome.redirect_url.split("mdOrder=")[1].split("&")[0]
                http.post(f"{lab.sim_url}/_control/vpos/orders/{md_order}/pay", json=CARD).raise_for_status()
                made.append((request.reference_transaction_id, md_order))
    finally:
        ctx.db.dispose()
    return made
