"""The web process killed with SIGKILL at random points, many times, while customers pay through it, loses nothing.

``vposlab-gateway serve`` (gunicorn, two workers, PostgreSQL) takes real customer traffic over HTTP: each customer
posts Ecwid's payment request, pays the bank page it is sent to (the bank's signed callback comes straight back to
the gateway), and returns. Meanwhile the whole server (master and workers) or one gunicorn worker is SIGKILLed
at seeded random moments; the whole server is restarted on the same port, a lone worker is respawned by gunicorn.
A customer whose request died with the server does what a person does: presses pay again in the store (the same
payment request) once the server answers, and pays whatever bank page it is given.

Afterwards one ``vposlab-gateway worker`` finishes what the kills interrupted (polls the bank, relays the outbox),
and then: every Ecwid order is PAID (Ecwid accepted PAID and nothing else), the bank holds exactly one paid order
per Ecwid order (the retries charged nobody twice), and every bank order the gateway registered is known to it and
settled (no attempt left open, no operator exception).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import create_engine, text

from lab.servers import ServerThread
from simulator import create_app as create_simulator
from simulator.app import get_state
from tests.e2e.gateway_processes import CARD, CLI, ROOT, Accounts, free_port, serve, stop_process
from tests.e2e.gateway_processes import postgres_url as postgres_url

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SEED = 20261124  # a fixed seed: the same kill points, kinds and customer pauses on every run
KILLS = 10  # even ones kill the whole server (then restart it), odd ones a single gunicorn worker
CUSTOMERS = 3  # customers paying at the same time, one order after another, while the kills go on
ACCOUNTS = Accounts(
    client_secret="web-crashes-secret-0123456789abcdef",
    ecwid_token="secret_web_crashes_token",
    user_name="crash_amd",
    bank_password="web-crashes-bank-pw",
    callback_key="web-crashes-callback-key",
)
CUSTOMER_PATIENCE_S = 45.0  # one customer's order, retries included (a registration cut mid-call takes ~23 s)
SETTLE_AFTER_LAST_KILL_S = 75.0  # the outbox lease a killed request may hold is 60 s
OPEN_STATES = ("registering", "registered", "authenticating", "pending")


@dataclass
class WebLab:
    sim: ServerThread
    sim_app: Any
    gateway_url: str
    port: int
    env: dict[str, str]
    log_path: Path

    @property
    def sim_url(self) -> str:
        return self.sim.url


@pytest.fixture
def web_lab(postgres_url: str, tmp_path: Path) -> Iterator[WebLab]:
    """A simulator whose bank sends signed callbacks (retried every second) to the gateway's port, and the
    gateway's environment pointing at it, migrated. Nothing is listening on the port yet."""
    port = free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    sim = ServerThread("simulator")
    sim_app = create_simulator(ACCOUNTS.simulator(sim.url, gateway_url))
    sim.start(sim_app)
    env = {
        **ACCOUNTS.gateway_env(sim.url, gateway_url, postgres_url),
        "VPOSLAB_HTTP_TIMEOUT_S": "3",  # a registration cut mid-call is recovered after 5 + 3 + 15 s
        "VPOSLAB_POLL_AFTER_S": "1",
        "VPOSLAB_POLL_MAX_INTERVAL_S": "2",
        "VPOSLAB_ECWID_BACKOFF_BASE_S": "0.5",
        "VPOSLAB_ECWID_BACKOFF_MAX_S": "2",
        "VPOSLAB_PAYMENT_RATE_LIMIT": "10000 per minute",  # every customer comes from 127.0.0.1
        # gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl), which every
        # gunicorn on the machine would take over from the others: this test's servers keep theirs apart.
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    try:
        subprocess.run([*CLI, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
        with httpx.Client(timeout=10) as http:
            # The bank's default retries come every 30 s; a callback that hit a dead server is retried each second.
            http.put(
                f"{sim.url}/_control/vpos/callbacks", json={"retry": {"intervalSeconds": 1, "times": 10}}
            ).raise_for_status()
        yield WebLab(sim, sim_app, gateway_url, port, env, tmp_path / "gateway.log")
    finally:
        get_state(sim_app).scheduler.stop()  # no callback retry outlives the test
        sim.stop()


# --- the processes -------------------------------------------------------------------------------------------


def _live_processes() -> Iterator[tuple[int, int, int]]:
    """``(pid, ppid, pgid)`` of every live (not zombie) process, from /proc."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, pgrp, ...
        if fields[0] != "Z":
            yield int(entry), int(fields[1]), int(fields[2])


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (gunicorn's workers of a master)."""
    return [child for child, ppid, _ in _live_processes() if ppid == pid]


def _group_alive(pgid: int) -> bool:
    return any(group == pgid for _, _, group in _live_processes())


class WebServer:
    """``vposlab-gateway serve`` in its own session (process group), so the whole server can be killed at once."""

    def __init__(self, lab: WebLab, log: BinaryIO) -> None:
        self.lab = lab
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = serve(self.lab.env, self.lab.port, threads=8, output=self.log, own_session=True)

    def kill_everything(self) -> None:
        """SIGKILL the master and its workers at once, as a host losing the service would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _group_alive(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.02)  # the workers are gone before a new master binds the port

    def kill_one_worker(self, chance: random.Random) -> None:
        """SIGKILL one gunicorn worker (the master respawns it)."""
        assert self.process is not None
        workers: list[int] = []
        deadline = time.monotonic() + 10
        while not workers and time.monotonic() < deadline:
            workers = sorted(_children(self.process.pid))
            if not workers:
                time.sleep(0.05)  # between a worker's death and its respawn
        assert workers, "gunicorn has no worker to kill"
        os.kill(chance.choice(workers), signal.SIGKILL)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, group=True)


# --- the customers -------------------------------------------------------------------------------------------


@dataclass
class Customer:
    ecwid_order_id: str
    reference: str
    bank_pages: list[str] = field(default_factory=list)  # mdOrders the gateway sent the customer to, in order
    trace: list[str] = field(default_factory=list)  # what the customer saw, for failure messages
    done: bool = False


class Unavailable(Exception):
    """The server did not answer (dead, restarting, or answered 5xx): the customer tries again."""


def _gateway(http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        response = http.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise Unavailable(type(exc).__name__) from exc
    if response.status_code >= 500:
        raise Unavailable(str(response.status_code))
    return response


def pay_one_order(lab: WebLab, http: httpx.Client, n: int, chance: random.Random) -> Customer:
    """One customer's order, start to end, the way a person retries a site that keeps failing."""
    order = http.post(
        f"{lab.sim_url}/_control/ecwid/orders",
        json={"storeId": 1003, "total": 100.0 + n, "items": [{"name": "Tea", "price": 100.0 + n}]},
    ).json()
    form = http.post(f"{lab.sim_url}/_control/ecwid/payment-request", json={"storeId": 1003, "orderId": order["id"]})
    fields = {name: form.json()[name] for name in ("enc_data", "data") if name in form.json()}
    customer = Customer(order["id"], order["referenceTransactionId"])
    deadline = time.monotonic() + CUSTOMER_PATIENCE_S
    while time.monotonic() < deadline:
        time.sleep(chance.uniform(0.0, 0.3))
        # Press pay in the store (again, after a failure): the same payment request each time.
        try:
            answer = _gateway(http, "POST", f"{lab.gateway_url}/ecwid/payment", data=fields)
        except Unavailable as exc:
            customer.trace.append(f"pay: {exc}")
            time.sleep(0.2)
            continue
        location = answer.headers.get("Location", "")
        customer.trace.append(f"pay: {answer.status_code} {'bank' if 'mdOrder=' in location else location[:40]}")
        if answer.status_code == 200 or (answer.status_code == 303 and "mdOrder=" not in location):
            customer.done = True  # already paid: back to the store, or the "payment received" page
            return customer
        if answer.status_code != 303:
            time.sleep(0.3)  # an error page ("try again")
            continue
        md_order = parse_qs(urlsplit(location).query)["mdOrder"][0]
        customer.bank_pages.append(md_order)
        # Pay at the bank (its callback goes straight to the gateway, through the same code as the card page).
        paid = http.post(f"{lab.sim_url}/_control/vpos/orders/{md_order}/pay", json=CARD)
        result = paid.json()
        customer.trace.append(f"bank: {paid.status_code} orderStatus {result.get('orderStatus')}")
        if result.get("orderStatus") != 2:
            continue  # that page no longer takes money: press pay in the store again
        # Back to the gateway; a 202 page refreshes itself a few times before the customer leaves it.
        try:
            for _ in range(5):
                back = _gateway(http, "GET", result["redirectUrl"])
                customer.trace.append(f"return: {back.status_code}")
                if back.status_code != 202:
                    break
                time.sleep(0.3)
        except Unavailable as exc:
            customer.trace.append(f"return: {exc}")
            continue  # the return died with the server: the store still asks for payment, so pay again
        assert back.status_code in (200, 202, 303), customer.trace
        customer.done = True
        return customer
    return customer


def customer_loop(lab: WebLab, n: int, stop: threading.Event, made: list[Customer], errors: list[str]) -> None:
    chance = random.Random(SEED + n)
    try:
        with httpx.Client(timeout=15) as http:
            index = 0
            while not stop.is_set():
                made.append(pay_one_order(lab, http, 1000 * n + index, chance))
                index += 1
    except Exception as exc:  # reported by the test, never swallowed
        errors.append(f"customer {n}: {type(exc).__name__}: {exc}")


# --- the test ------------------------------------------------------------------------------------------------


def _wait_settled(engine: Any, lab: WebLab, deadline: float) -> tuple[list[str], int]:
    """Wait until every bank order the bank took (orderStatus 2) is paid in our database and nothing waits in
    the outbox; returns what is still missing (mdOrders) and the unsent outbox rows."""
    missing: list[str] = []
    unsent = -1
    with httpx.Client(timeout=10) as http:
        while True:
            bank = http.get(f"{lab.sim_url}/_control/vpos/orders").json()["orders"]
            taken = {order["mdOrder"] for order in bank if order["orderStatus"] == 2}
            with engine.connect() as connection:
                paid = set(
                    connection.execute(
                        text("SELECT provider_order_id FROM payment_attempts WHERE status = 'paid'")
                    ).scalars()
                )
                unsent = connection.execute(text("SELECT count(*) FROM outbox WHERE state = 'pending'")).scalar_one()
            missing = sorted(taken - paid)
            if (not missing and unsent == 0) or time.monotonic() > deadline:
                return missing, unsent
            time.sleep(0.5)


def test_a_web_process_killed_at_random_points_loses_no_payment(web_lab: WebLab) -> None:
    lab = web_lab
    chance = random.Random(SEED)
    stop = threading.Event()
    made: list[Customer] = []
    errors: list[str] = []
    worker: subprocess.Popen[bytes] | None = None
    engine = create_engine(lab.env["VPOSLAB_DATABASE_URL"])
    with lab.log_path.open("ab") as log:
        server = WebServer(lab, log)
        customers = [
            threading.Thread(target=customer_loop, args=(lab, n, stop, made, errors), daemon=True)
            for n in range(CUSTOMERS)
        ]
        try:
            server.start()
            for thread in customers:
                thread.start()
            for kill in range(KILLS):
                time.sleep(chance.uniform(0.3, 1.2))  # kills land in payment requests, callbacks, returns, relays
                if kill % 2 == 0:
                    server.kill_everything()
                    time.sleep(chance.uniform(0.0, 0.3))  # customers meet a closed port for a while
                    server.start()
                else:
                    server.kill_one_worker(chance)
            last_kill = time.monotonic()
            # No new orders; the customers finish the ones they are paying while the worker, as in production,
            # picks up what the kills interrupted (a claim a killed request held comes free after its lease).
            stop.set()
            worker = subprocess.Popen(
                [*CLI, "worker", "--interval", "0.2"], cwd=ROOT, env=lab.env, stdout=log, stderr=log
            )
            for thread in customers:
                thread.join(timeout=CUSTOMER_PATIENCE_S + 20)
            assert not any(thread.is_alive() for thread in customers), "a customer never finished"
            assert not errors, errors
            missing, unsent = _wait_settled(engine, lab, last_kill + SETTLE_AFTER_LAST_KILL_S)
            assert missing == [], f"the bank took these payments, the gateway never recorded them: {missing}"
            assert unsent == 0, f"{unsent} Ecwid updates never sent"
        finally:
            stop.set()
            if worker is not None:
                stop_process(worker)
            server.stop()
    try:
        facts = _database_facts(engine)
    finally:
        engine.dispose()
    unfinished = [customer.trace for customer in made if not customer.done]
    assert not unfinished, f"customers who could not pay in {CUSTOMER_PATIENCE_S} s: {unfinished}"
    _assert_nothing_lost(lab, made, facts)
    assert len(made) >= KILLS, f"too little traffic to mean anything: {len(made)} orders"


@dataclass
class DatabaseFacts:
    attempts: list[dict[str, Any]]  # every attempt with its session's Ecwid reference
    outbox_failed: int
    exceptions: list[str]


def _database_facts(engine: Any) -> DatabaseFacts:
    with engine.connect() as connection:
        attempts = [
            dict(row._mapping)
            for row in connection.execute(
                text(
                    "SELECT s.reference_transaction_id AS reference, s.ecwid_order_id, a.order_number,"
                    " a.provider_order_id, a.status FROM payment_attempts a"
                    " JOIN payment_sessions s ON s.id = a.session_id ORDER BY a.id"
                )
            )
        ]
        failed = connection.execute(text("SELECT count(*) FROM outbox WHERE state = 'failed'")).scalar_one()
        exceptions = [
            f"{row.code}: {row.detail}"
            for row in connection.execute(text("SELECT code, detail FROM operator_exceptions ORDER BY id"))
        ]
    return DatabaseFacts(attempts, failed, exceptions)


def _assert_nothing_lost(lab: WebLab, made: list[Customer], facts: DatabaseFacts) -> None:
    with httpx.Client(timeout=10) as http:
        bank = http.get(f"{lab.sim_url}/_control/vpos/orders").json()["orders"]
        callbacks = http.get(f"{lab.sim_url}/_control/vpos/callbacks/sent").json()["callbacks"]
        histories = {
            customer.ecwid_order_id: http.get(
                f"{lab.sim_url}/_control/ecwid/orders/1003/{customer.ecwid_order_id}/history"
            ).json()
            for customer in made
        }
    # The bank's signed callbacks reached the gateway and were accepted (a key mismatch would leave it all to the
    # returns and the worker, and this test would no longer cover callbacks).
    answers = [attempt["httpStatus"] for callback in callbacks for attempt in callback["attempts"]]
    assert 200 in answers and 400 not in answers, answers

    # Ecwid: PAID, accepted, and nothing else ever accepted.
    for customer in made:
        history = histories[customer.ecwid_order_id]
        accepted = [entry["newPaymentStatus"] for entry in history["history"] if entry["accepted"]]
        assert history["paymentStatus"] == "PAID", (customer.ecwid_order_id, history["paymentStatus"], customer.trace)
        assert accepted and set(accepted) == {"PAID"}, (customer.ecwid_order_id, accepted, customer.trace)
        assert len(accepted) <= 1 + KILLS, (
            customer.ecwid_order_id,
            accepted,
        )  # a kill between Ecwid's answer and our commit may resend: bounded

    # The bank: exactly one paid order per Ecwid order, whatever the customers' retries did.
    paid_at_bank: dict[str, list[str]] = defaultdict(list)
    for order in bank:
        if order["orderStatus"] == 2:
            paid_at_bank[order["description"].removeprefix("Order ")].append(order["mdOrder"])
    for customer in made:
        assert len(paid_at_bank[customer.ecwid_order_id]) == 1, (
            f"order {customer.ecwid_order_id} paid at the bank {len(paid_at_bank[customer.ecwid_order_id])} times",
            customer.bank_pages,
            customer.trace,
        )
    assert sum(len(md_orders) for md_orders in paid_at_bank.values()) == len(made)

    # The gateway: knows every bank order it registered, and left none of them unsettled.
    by_number = {attempt["order_number"]: attempt for attempt in facts.attempts}
    for order in bank:
        attempt = by_number.get(order["orderNumber"])
        assert attempt is not None, f"bank order {order['mdOrder']} ({order['description']}) unknown to the gateway"
        assert attempt["provider_order_id"] == order["mdOrder"], (attempt, order["mdOrder"])
        assert (attempt["status"] == "paid") == (order["orderStatus"] == 2), (attempt, order["orderStatus"])
    open_attempts = [attempt for attempt in facts.attempts if attempt["status"] in OPEN_STATES]
    assert not open_attempts, f"attempts left open: {open_attempts}"
    paid_sessions: dict[str, int] = defaultdict(int)
    for attempt in facts.attempts:
        paid_sessions[attempt["reference"]] += attempt["status"] == "paid"
    assert {customer.reference for customer in made} == set(paid_sessions)
    assert set(paid_sessions.values()) == {1}, paid_sessions
    assert facts.outbox_failed == 0, f"{facts.outbox_failed} Ecwid updates failed for good"
    assert not facts.exceptions, f"operator exceptions: {facts.exceptions}"
