"""The gateway under its production server (gunicorn, two worker processes) against the simulator over real HTTP,
on SQLite and PostgreSQL: 50 identical payment requests at once make one bank order (all get the same bank page), and
16 identical signed callbacks at once make one state change and one Ecwid outbox row."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from lab.servers import ServerThread
from simulator import create_app as create_simulator
from tests.e2e.gateway_processes import CLI, ROOT, Accounts, free_port, serve, stop_process
from tests.e2e.gateway_processes import postgres_url as postgres_url
from tests.gateway_fakes import sign_callback

pytestmark = pytest.mark.e2e

CALLBACK_KEY = "prod-concurrency-callback-key"
ACCOUNTS = Accounts(
    client_secret="prod-concurrency-secret-0123456789",
    ecwid_token="secret_prod_concurrency_token",
    user_name="prod_amd",
    bank_password="prod-concurrency-bank-pw",
    callback_key=CALLBACK_KEY,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gw.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def production(database_url: str) -> Iterator[tuple[str, str]]:
    """(gateway URL, simulator URL): the simulator in a thread, the gateway as ``vposlab-gateway serve``."""
    sim = ServerThread("simulator")
    port = free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    sim.start(create_simulator(ACCOUNTS.simulator(sim.url, gateway_url)))
    env = ACCOUNTS.gateway_env(sim.url, gateway_url, database_url)
    try:
        subprocess.run([*CLI, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
        server = serve(env, port, threads=16)
        try:
            yield gateway_url, sim.url
        finally:
            stop_process(server)
    finally:
        sim.stop()


def test_identical_requests_and_callbacks_at_once_change_things_once(
    production: tuple[str, str], database_url: str
) -> None:
    gateway_url, sim_url = production
    with httpx.Client(timeout=30) as http:
        order = http.post(
            f"{sim_url}/_control/ecwid/orders",
            json={"storeId": 1003, "total": 150.0, "items": [{"name": "Tea", "price": 150.0, "quantity": 1}]},
        ).json()
        form = http.post(
            f"{sim_url}/_control/ecwid/payment-request", json={"storeId": 1003, "orderId": order["id"]}
        ).json()
        fields = {name: form[name] for name in ("enc_data", "data") if name in form}

        def pay() -> httpx.Response:
            return http.post(f"{gateway_url}/ecwid/payment", data=fields)

        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(lambda _: pay(), range(50)))
        assert {answer.status_code for answer in answers} <= {302, 303}
        assert len({answer.headers["Location"] for answer in answers}) == 1  # the same bank page for everyone
        registered = http.get(f"{sim_url}/_control/journal", params={"service": "vpos"}).json()["entries"]
        assert [entry["operation"] for entry in registered].count("register.do") == 1

        md_order = answers[0].headers["Location"].split("mdOrder=")[1].split("&")[0]
        bank_order = http.get(f"{sim_url}/_control/vpos/orders/{md_order}").json()
        http.put(f"{sim_url}/_control/vpos/orders/{md_order}/callbacks", json={"mode": "none"})
        paid = http.post(
            f"{sim_url}/_control/vpos/orders/{md_order}/pay",
            json={"pan": "4242424242424242", "expiry": "12/39", "cvc": "123"},
        )
        assert paid.status_code == 200
        callback = sign_callback(
            {
                "mdOrder": md_order,
                "orderNumber": bank_order["orderNumber"],
                "operation": "deposited",
                "status": "1",
                "amount": "15000",
            },
            CALLBACK_KEY,
        )
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(lambda _: http.get(f"{gateway_url}/vpos/callback", params=callback), range(16)))
        assert {answer.status_code for answer in statuses} == {200}

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            attempts = connection.execute(text("SELECT status FROM payment_attempts")).scalars().all()
            paid_events = connection.execute(
                text("SELECT count(*) FROM payment_events WHERE kind = 'attempt:paid'")
            ).scalar_one()
            outbox = connection.execute(text("SELECT payload FROM outbox")).scalars().all()
    finally:
        engine.dispose()
    assert attempts == ["paid"]
    assert paid_events == 1
    assert len(outbox) == 1
    payload = outbox[0] if isinstance(outbox[0], dict) else json.loads(outbox[0])
    assert payload["paymentStatus"] == "PAID"
