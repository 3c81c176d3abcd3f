"""Several ``vposlab-gateway worker`` processes at once on PostgreSQL share the work without doing it twice: a backlog
of verified payments waiting for Ecwid is delivered with exactly one accepted update per order, and every process
stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway import build_context
from gateway.ecwid.payment_request import parse_payment_request
from gateway.services.confirm import confirm_attempt
from gateway.services.start_payment import start_payment
from gateway.settings import Settings
from lab.servers import ServerThread
from simulator import EcwidStore, SimulatorConfig, VposMerchant
from simulator import create_app as create_simulator

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent.parent
POSTGRES_URL = os.environ.get("VPOSLAB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CLIENT_SECRET = "several-workers-secret-0123456789"
ECWID_TOKEN = "secret_several_workers_token"
BANK_PASSWORD = "several-workers-bank-pw"
TOKEN_KEY = "Nn3G3m0x0o1h4kqLq6yXv3o0gq2mZr8bXk3y0l2b7ZQ="
ORDERS = 30
WORKERS = 3


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if os.environ.get("VPOSLAB_SKIP_POSTGRES") == "1":
        pytest.skip("VPOSLAB_SKIP_POSTGRES=1")
    admin = create_engine(make_url(POSTGRES_URL))
    schema = "gw_workers_" + uuid.uuid4().hex[:12]
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_several_workers_deliver_each_ecwid_update_once(postgres_url: str) -> None:
    sim = ServerThread("simulator")
    sim.start(
        create_simulator(
            SimulatorConfig(
                public_url=sim.url,
                payment_url="http://127.0.0.1:9/ecwid/payment",
                stores=(EcwidStore(store_id=1003, client_secret=CLIENT_SECRET, token=ECWID_TOKEN),),
                merchants=(VposMerchant(user_name="workers_amd", password=BANK_PASSWORD, currency="051"),),
                callback_url=None,
            )
        )
    )
    env = {
        **os.environ,
        "VPOSLAB_PUBLIC_URL": "http://127.0.0.1:9",
        "VPOSLAB_ECWID_CLIENT_SECRETS": json.dumps({"1003": CLIENT_SECRET}),
        "VPOSLAB_ECWID_API_URL": f"{sim.url}/api/v3",
        "VPOSLAB_PROVIDER_MODE": "TEST",
        "VPOSLAB_PROVIDER_BASE_URL": f"{sim.url}/payment/rest/",
        "VPOSLAB_PROVIDER_CREDENTIALS": json.dumps({"AMD": {"user_name": "workers_amd", "password": BANK_PASSWORD}}),
        "VPOSLAB_TOKEN_KEY": TOKEN_KEY,
        "VPOSLAB_DATABASE_URL": postgres_url,
    }
    cli = [sys.executable, "-c", "from gateway.cli import main; main()"]
    workers: list[subprocess.Popen[str]] = []
    try:
        subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
        # The workers run while the payments arrive, so they race for each Ecwid update as it is queued.
        workers = [
            subprocess.Popen(
                [*cli, "worker", "--interval", "0.2"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(WORKERS)
        ]
        settings = Settings.from_env(env)
        ctx = build_context(settings)
        references = []
        with httpx.Client(timeout=30) as http:
            for n in range(ORDERS):
                order = http.post(
                    f"{sim.url}/_control/ecwid/orders",
                    json={"storeId": 1003, "total": 10.0 + n, "items": [{"name": "Tea", "price": 10.0 + n}]},
                ).json()
                form = http.post(
                    f"{sim.url}/_control/ecwid/payment-request", json={"storeId": 1003, "orderId": order["id"]}
                ).json()
                request = parse_payment_request(
                    {k: form[k] for k in ("enc_data", "data") if k in form},
                    settings.ecwid_client_secrets,
                    frozenset({"AMD"}),
                )
                outcome = start_payment(ctx, request, page_view="DESKTOP")
                md_order = outcome.redirect_url.split("mdOrder=")[1].split("&")[0]
                http.post(
                    f"{sim.url}/_control/vpos/orders/{md_order}/pay",
                    json={"pan": "4242424242424242", "expiry": "12/39", "cvc": "123"},
                ).raise_for_status()
                with ctx.db.session() as session:
                    attempt_id = session.execute(
                        text("SELECT id FROM payment_attempts WHERE provider_order_id = :md"), {"md": md_order}
                    ).scalar_one()
                confirm_attempt(ctx, attempt_id, ctx.provider.get_status(md_order, "AMD"), source="test")
                references.append(request.reference_transaction_id)
        ctx.db.dispose()

        engine = create_engine(postgres_url)
        deadline = time.monotonic() + 90
        try:
            while time.monotonic() < deadline:
                with engine.connect() as connection:
                    waiting = connection.execute(text("SELECT count(*) FROM outbox WHERE state <> 'sent'")).scalar_one()
                if waiting == 0:
                    break
                time.sleep(0.5)
            assert waiting == 0, f"{waiting} Ecwid updates still waiting"
            with engine.connect() as connection:
                sent = connection.execute(text("SELECT count(*) FROM outbox WHERE state = 'sent'")).scalar_one()
        finally:
            engine.dispose()
        assert sent == ORDERS
        with httpx.Client(timeout=30) as http:
            for reference in references:
                history = http.get(f"{sim.url}/_control/ecwid/orders/1003/{reference}/history").json()["history"]
                accepted = [entry for entry in history if entry["accepted"]]
                assert [entry["newPaymentStatus"] for entry in accepted] == ["PAID"], reference
    finally:
        outputs = []
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            _, err = process.communicate(timeout=30)
            outputs.append((process.returncode, err))
        sim.stop()
    for returncode, err in outputs:
        assert returncode == 0, err[-2000:]
        assert "worker_stopped" in err
