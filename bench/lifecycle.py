"""The whole payment lifecycle as a hypothesis state machine, against the real gateway and simulator (issue 10).

One lab (``lab.lab.Lab``: simulator and gateway on free ports of 127.0.0.1, SQLite or PostgreSQL) serves every
example; each example works on its own new Ecwid orders, so examples never share a payment. The machine drives the
gateway the way the outside world does, over HTTP, and the gateway's own background work in process:

- the customer: an Ecwid order (AMD, USD, EUR or RUB, any amount; in the store that is paid at once, or in the one
  whose payments are held until captured), the encrypted payment request POSTed to the gateway's paymentUrl (first,
  again, after a failure, after paying), a card paid at the bank (success, decline, 3-D Secure challenge passed or
  failed, frictionless failure, pending then paid or declined, issuer timeout), the ACS page answered (or later),
  the bank page cancelled, the browser following the bank's redirect back through the gateway or the tab closed,
  the return again (any time, any number of times);
- the bank: registration faults (HTTP 503, errorCode 7, a malformed or dropped answer, the answer lost after
  registering), status-call faults, a payment it reports with another amount or currency, an expired session,
  callbacks immediate, delayed, held, never sent, duplicated (also concurrently) or badly signed, and then
  delivered, duplicated, dropped, moved, released, replayed or injected out of order;
- Ecwid: PUTs answered 503/500, rate limited with Retry-After, slow (a hang, then 503), refused for good (409,
  403), and back to healthy;
- the gateway's worker: passes, passes that crash after their n-th call to the bank or Ecwid (the process dies:
  ``SimulatedCrash`` is a ``BaseException`` no handler of the gateway catches), its clock moved forward; the
  bank's clock moved forward (due callbacks, retries, pending payments, expiring sessions);
- the operator: full and partial refunds (also with the bank's answer lost, or the refund failing at the bank),
  reversals, and full or partial captures of held payments, through the gateway's services (what the console's
  forms call).

After every step (``invariant``), for every order of the example, read from the gateway's console JSON view
(``/ops/api``) and the simulator's control API:

- every attempt's status history (its ``attempt:*`` timeline events) follows ``gateway.domain.states.TRANSITIONS``
  from ``registering``, ends in the attempt's status, and only grows (what was seen stays: final states absorb);
- each attempt is registered with the Ecwid order's amount and currency;
- Ecwid's accepted statuses never go back from PAID (then only refunds and a reversal);
- PAID (or a refund status) in Ecwid names a bank order of this order that took the money with the registered amount
  and currency, and reports them as registered; REFUNDED / PARTIALLY_REFUNDED agree with the bank's refunded amount.

Whenever the gateway sends the customer to the store (a 303 to Ecwid's returnUrl), Ecwid must already hold the
gateway's status, a payment the bank took must already be PAID there (a held one at least AWAITING_PAYMENT), unless
an operator exception holds it; afterwards the simulator's journal must show the store's return after the Ecwid PUT
of that status.

At the end of an example (``teardown``): faults removed, held callbacks let go late, then the bank's clock and the
gateway's clock moved past every retry, worker passes until nothing is open; then every attempt is final (or paid,
held, or held open by an operator exception), no refund or Ecwid update is on its way, every payment the bank took
(and kept) shows PAID / PARTIALLY_REFUNDED / REFUNDED in Ecwid (a held one AWAITING_PAYMENT, a reversed one
CANCELLED) or has an open operator exception, two payments kept for one order have one too, Ecwid agrees with the
gateway (or an exception is open), and the gateway answered every callback 200, 503 (retry) or 400 (a bad checksum
only).

Not simulated: a crash of the web process in the middle of a request (only the worker's passes crash here; the
web process is killed for real in ``tests/e2e/test_gw_web_crashes.py``).

Long mode, printing its figures: ``python -m bench.lifecycle --examples 2000``. The bounded run is
``tests/proofs/test_lifecycle_state_machine.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from features.support.gateway_api import ConsoleApi
from gateway import Settings
from gateway.domain.errors import OperationRefused
from gateway.domain.states import OPEN_REFUND_STATES, OPEN_STATES, AttemptStatus, can_transition, is_final
from gateway.services.context import GatewayContext
from gateway.services.refunds import refund_payment
from gateway.services.reversal import capture_payment, reverse_payment
from gateway.worker import PassResult, run_pass
from lab.lab import CURRENCY_MERCHANTS, HELD_STORE_ID, STORE_ID, Lab

ACTOR = "lifecycle-machine"
MAX_ORDERS = 4  # per example: enough for interleavings, few enough that every step checks them all quickly
RETURN_WAIT_S = 0.5  # a returning customer waits this long (wall time) for Ecwid; the lab's default is 5 s
DRAIN_ROUNDS = 14
PASSES_PER_ROUND = 40
POLL_LIMIT = 50  # gateway.services.poller.poll_open_attempts' default: a full pass may leave more due
PAID_FAMILY = frozenset({"PAID", "PARTIALLY_REFUNDED", "REFUNDED"})
SETTLED_OPEN_FOR_MONEY = frozenset({"paid", "partially_refunded", "authorized"})  # not final: refunds, a capture...
STORE_DRAW = st.sampled_from([STORE_ID, STORE_ID, STORE_ID, HELD_STORE_ID])  # a quarter of orders are held first
ECWID_AFTER = {  # what Ecwid may accept after a status (a paid order never goes back to unpaid)
    "PAID": frozenset({"PAID", "PARTIALLY_REFUNDED", "REFUNDED", "CANCELLED"}),
    "PARTIALLY_REFUNDED": frozenset({"PARTIALLY_REFUNDED", "REFUNDED"}),
    "REFUNDED": frozenset({"REFUNDED"}),
}

CARDS: dict[str, tuple[str, ...]] = {
    "success": ("4242424242424242", "5555555555554444", "9051000000000009", "2200000000000004", "4000000000003253"),
    "decline": ("4000000000000002", "4000000000009995", "4000000000000119"),
    "issuer_timeout": ("4000000000151011",),
    "frictionless_fail": ("4000000000003261",),
    "challenge": ("4000000000003220", "5555555555555599"),
    "challenge_fails": ("4000000000003238",),
    "pending_then_paid": ("4000000000007015",),
    "pending_then_declined": ("4000000000007023",),
}
BANK_OUTCOMES: dict[str, dict[str, Any]] = {  # the bank decides without a card page (control API)
    "reports_other_amount": {"outcome": "pay", "reportedAmount": "+1"},
    "reports_other_currency": {"outcome": "pay", "reportedCurrency": "other"},
    "expires_session": {"outcome": "expire"},
}
PAY_KINDS = (  # drawn with these weights: most customers pay, the rest covers every other way
    *(["success"] * 5),
    "decline",
    "issuer_timeout",
    "frictionless_fail",
    "challenge",
    "challenge",
    "challenge_fails",
    "pending_then_paid",
    "pending_then_paid",
    "pending_then_declined",
    *BANK_OUTCOMES,
)
REGISTER_FAULTS: dict[str, dict[str, Any]] = {
    "http_503": {"fault": "http_503"},
    "error_7": {"fault": "error_7"},
    "malformed": {"fault": "malformed_json"},
    "dropped": {"fault": "drop"},
    "answer_lost_after_registering": {"fault": "drop", "afterApply": True},
    "http_500_after_registering": {"fault": "http_500", "afterApply": True},
}
STATUS_FAULTS: dict[str, dict[str, Any]] = {
    "http_503": {"fault": "http_503"},
    "dropped": {"fault": "drop"},
    "error_7": {"fault": "error_7"},
    "malformed": {"fault": "malformed_json"},
    "slow": {"fault": "slow", "seconds": 0.3},
}
ECWID_FAULTS: dict[str, dict[str, Any]] = {
    "http_503": {"fault": "http_503"},
    "http_500": {"fault": "http_500"},
    "rate_limited": {"fault": "rate_limited", "retryAfterSeconds": 20},
    "slow": {"fault": "hang", "seconds": 0.3},
    "conflict_for_good": {"fault": "conflict"},
    "token_revoked": {"fault": "token_revoked"},
}
REGISTER_FAULT_DRAW = st.sampled_from([*([None] * 12), *REGISTER_FAULTS])  # a third of registrations fail
WHICH_ATTEMPT = st.sampled_from([0, 0, 0, 1, 2])  # mostly the latest attempt; sometimes an older one
CALLBACK_ACTIONS = (
    "deliver",
    "deliver",
    "duplicate",
    "drop",
    "move first",
    "release",
    "release",
    "replay",
    "inject deposited 1",
    "inject deposited 0",
    "inject declinedByTimeout 0",
    "inject refunded 1",
    "inject reversed 1",
    "inject approved 1",
)
TROUBLES = (
    *(f"bank {kind}" for kind in sorted(STATUS_FAULTS)),
    *(f"Ecwid {kind}" for kind in sorted(ECWID_FAULTS)),
    "bank recovers",
    "Ecwid recovers",
    "Ecwid recovers",
)
CALLBACK_RULES = st.one_of(
    st.none(),  # the bank's defaults: one callback, at once, before the customer is redirected
    st.fixed_dictionaries(
        {"mode": st.sampled_from(["immediate", "after_return", "hold", "none"])},
        optional={
            "delaySeconds": st.sampled_from([1, 45, 400]),
            "times": st.integers(2, 3),
            "concurrent": st.booleans(),
            "badChecksum": st.sampled_from([False, False, False, True]),
        },
    ),
)


# --- the world: one lab, its clients and the run's figures -------------------------------------------------------


@dataclass
class Figures:
    """What a run did: examples, steps, rules fired per kind (and their variants), invariant checks, outcomes."""

    examples: int = 0
    steps: int = 0
    rules: Counter[str] = field(default_factory=Counter)
    variants: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # wall time per rule
    invariant_checks: int = 0
    order_checks: int = 0
    store_returns_checked: int = 0
    teardown_checks: int = 0
    drain_rounds: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        out = [
            f"examples run:         {self.examples}",
            f"steps:                {self.steps} ({self.steps / max(1, self.examples):.1f} per example)",
            f"invariant checks:     {self.invariant_checks} after steps ({self.order_checks} order checks),"
            f" {self.store_returns_checked} returns to the store, {self.teardown_checks} end-of-example checks"
            f" ({self.drain_rounds} drain rounds)",
            "rules fired:",
        ]
        out += [f"  {name:<26} {count:>7}   {self.seconds[name]:8.1f} s" for name, count in sorted(self.rules.items())]
        out += [f"  ({name}) {self.seconds[name]:.1f} s" for name in ("invariants", "end of examples")]
        out.append("rule variants:")
        out += [f"  {name:<52} {count}" for name, count in sorted(self.variants.items())]
        out.append("outcomes at the end of examples:")
        out += [f"  {name:<52} {count}" for name, count in sorted(self.outcomes.items())]
        return out


class MachineLab(Lab):
    """The lab with a shorter wait for a returning customer (wall time), so Ecwid faults cost little real time."""

    def settings(self) -> Settings:
        return super().settings().model_copy(update={"return_wait_s": RETURN_WAIT_S})


class SimulatedCrash(BaseException):
    """The worker process dies: a ``BaseException``, so none of the gateway's ``except Exception`` catches it."""


class CrashSwitch:
    """Counts calls to the bank and Ecwid; armed with n, the n-th call completes and then the process dies."""

    def __init__(self) -> None:
        self.remaining: int | None = None

    def arm(self, calls: int) -> None:
        self.remaining = calls

    def disarm(self) -> None:
        self.remaining = None

    def tick(self) -> None:
        if self.remaining is None:
            return
        self.remaining -= 1
        if self.remaining <= 0:
            self.remaining = None
            raise SimulatedCrash


class Crashing:
    """A bank or Ecwid client whose every call ticks the switch after it returns (or raises): the call happened, its
    answer never reaches the database."""

    def __init__(self, inner: Any, switch: CrashSwitch) -> None:
        self._inner = inner
        self._switch = switch

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            finally:
                self._switch.tick()

        return call


class World:
    """The lab shared by every example, with its clients, and the run's figures."""

    def __init__(self, lab: Lab) -> None:
        assert lab.gateway is not None
        self.lab = lab
        self.gateway: GatewayContext = lab.gateway
        self.sim = httpx.Client(base_url=lab.simulator_url, timeout=60)
        self.browser = httpx.Client(timeout=60, follow_redirects=False)
        self.console = ConsoleApi(lab.console_url, *lab.console_credentials)
        self.figures = Figures()
        self.crash_switch = CrashSwitch()
        self.crashing_gateway = dataclasses.replace(
            self.gateway,
            provider=cast(Any, Crashing(self.gateway.provider, self.crash_switch)),
            ecwid=cast(Any, Crashing(self.gateway.ecwid, self.crash_switch)),
        )
        self.journal_mark = 0
        ok(self.sim.put("/_control/clock", json={"mode": "manual"}))  # the bank's time moves only when told

    @classmethod
    @contextlib.contextmanager
    def started(cls, workdir: Path, database_url: str | None = None) -> Iterator[World]:
        """A lab (SQLite in ``workdir`` unless ``database_url``) whose worker thread never runs by itself: the
        machine runs the passes."""
        with MachineLab(workdir, database_url=database_url, worker_interval_s=10**6) as lab:
            world = cls(lab)
            try:
                yield world
            finally:
                world.close()

    def close(self) -> None:
        self.console.close()
        self.browser.close()
        self.sim.close()

    def new_journal_entries(self) -> list[dict[str, Any]]:
        """The simulator's journal entries since the last call (the whole journal is never read again)."""
        entries: list[dict[str, Any]] = ok(self.sim.get("/_control/journal", params={"since": self.journal_mark}))[
            "entries"
        ]
        if entries:
            self.journal_mark = max(int(e["seq"]) for e in entries)
        return entries


def ok(response: httpx.Response) -> Any:
    assert response.is_success, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text[:300]}"
    )
    return response.json()


# --- the model: what the customer and the store know --------------------------------------------------------------


@dataclass
class AttemptModel:
    md_order: str
    return_url: str  # where the bank sends the browser back: the gateway's return URL with orderId and lang
    acs_url: str | None = None  # the issuer's page, while the customer is in a 3-D Secure challenge


@dataclass
class OrderModel:
    order_id: str
    total_minor: int
    currency: str
    store_id: int = STORE_ID  # HELD_STORE_ID: the store whose payments are held (two-phase) until captured
    attempts: list[AttemptModel] = field(default_factory=list)
    session_id: int | None = None

    @property
    def currency_numeric(self) -> str:
        return CURRENCY_MERCHANTS[self.currency][1]

    def __repr__(self) -> str:
        held = ", held" if self.store_id == HELD_STORE_ID else ""
        return f"Order({self.order_id} {self.total_minor / 100:.2f} {self.currency}{held})"


@dataclass(frozen=True)
class BankTruth:
    """One bank order as the bank sees it."""

    md_order: str
    status: int
    took_money: bool  # reached 2 (deposited) at some point
    held_money: bool  # reached 1 (held, two-phase) or 2 at some point
    as_registered: bool  # registered with the order's amount and currency, and reported as registered
    deposited: int
    refunded: int


def bank_truth(order: OrderModel, bank: dict[str, Any]) -> BankTruth:
    reported = bank.get("reported") or {}
    amount_ok = int(bank["amount"]) == order.total_minor and str(bank["currency"]) == order.currency_numeric
    reported_ok = all(  # what the bank's status answers say, when told to report otherwise (a partial approval too)
        reported.get(name) in (None, expected)
        for name, expected in (("amount", bank["amount"]), ("currency", bank["currency"]), ("approvedAmount", None))
    )
    info = bank.get("paymentAmountInfo") or {}
    reached = {int(op.get("orderStatus", -1)) for op in bank.get("operations") or []}
    return BankTruth(
        md_order=str(bank["mdOrder"]),
        status=int(bank["orderStatus"]),
        took_money=2 in reached,
        held_money=bool(reached & {1, 2}),
        as_registered=amount_ok and reported_ok,
        deposited=int(info.get("depositedAmount") or 0),
        refunded=int(info.get("refundedAmount") or 0),
    )


def expected_ecwid(truth: BankTruth) -> str | None:
    """The Ecwid status a payment the bank took (or holds) must end in (None: this bank order took nothing)."""
    if not truth.held_money:
        return None
    if truth.status == 3:  # a payment given back: CANCELLED; a hold released: the order's latest attempt speaks
        return "CANCELLED" if truth.took_money else None
    if truth.status == 1:
        return "AWAITING_PAYMENT"
    if truth.refunded <= 0:
        return "PAID"
    return "REFUNDED" if truth.refunded >= truth.deposited else "PARTIALLY_REFUNDED"


def describe_callbacks(rules: dict[str, Any]) -> str:
    words = [str(rules.get("mode"))]
    if "delaySeconds" in rules and rules.get("mode") == "after_return":
        words.append(f"{rules['delaySeconds']} s")
    if rules.get("times"):
        words.append(f"x{rules['times']}" + (" at once" if rules.get("concurrent") else ""))
    if rules.get("badChecksum"):
        words.append("bad checksum")
    return " ".join(words)


def money_kept(truth: BankTruth) -> bool:
    """The bank holds the money, or took it and has not given all of it back."""
    return truth.status == 1 or (truth.status in (2, 4) and truth.refunded < truth.deposited)


def attempt_history(record: dict[str, Any], attempt_id: int) -> list[str]:
    """The statuses an attempt went through, from its timeline (``registering`` is where every attempt starts)."""
    return [AttemptStatus.REGISTERING.value] + [
        entry["kind"].split(":", 1)[1]
        for entry in record["timeline"]
        if entry["source"] == "event" and entry["kind"].startswith("attempt:") and entry["attempt_id"] == attempt_id
    ]


def open_exceptions(record: dict[str, Any]) -> list[str]:
    return [str(row["code"]) for row in record["exceptions"] if row["open"]]


# --- the machine -------------------------------------------------------------------------------------------------


class LifecycleMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.made: list[OrderModel] = []
        self.failed = False
        self.bank_fault_ids: list[int] = []
        self.ecwid_fault_ids: list[int] = []
        self.bank_settings_changed = False
        self.histories: dict[int, list[str]] = {}
        self.store_returns: list[tuple[str, str]] = []  # (Ecwid order id, Ecwid status when the customer was sent)
        world.new_journal_entries()  # only this example's entries are read at its end
        world.figures.examples += 1

    # --- bookkeeping -------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.world.figures.rules[name] += 1
        self.world.figures.steps += 1
        started = time.monotonic()
        try:
            yield
        except BaseException:
            self.failed = True
            raise
        finally:
            self.world.figures.seconds[name] += time.monotonic() - started

    def variant(self, rule_name: str, what: str) -> None:
        self.world.figures.variants[f"{rule_name}: {what}"] += 1

    @property
    def sim(self) -> httpx.Client:
        return self.world.sim

    def attempt(self, order: OrderModel, which: int) -> AttemptModel | None:
        """The latest attempt for ``which`` 0, older ones for higher numbers (what a customer's back button finds)."""
        if not order.attempts:
            return None
        return order.attempts[-1 - which % len(order.attempts)]

    def record(self, order: OrderModel) -> dict[str, Any] | None:
        """The gateway's payment record of the order (console JSON view), or None before any payment request."""
        if order.session_id is None:
            found = self.world.console.search(order.order_id)
            if not found:
                return None
            assert len(found) == 1, f"{order}: {len(found)} payment sessions"
            order.session_id = int(found[0]["id"])
        return self.world.console.payment(order.session_id)

    def ecwid_order(self, order: OrderModel) -> dict[str, Any]:
        found: dict[str, Any] = ok(
            self.sim.get(f"/_control/ecwid/orders/{order.store_id}/{quote(order.order_id, safe='')}")
        )
        return found

    def bank_order(self, md_order: str) -> dict[str, Any]:
        found: dict[str, Any] = ok(self.sim.get(f"/_control/vpos/orders/{md_order}"))
        return found

    def bank_orders_of(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        """Every bank order registered for the gateway's attempts (by orderNumber: one whose answer was lost too)."""
        found: list[dict[str, Any]] = []
        for attempt in record["attempts"]:
            body = ok(self.sim.get("/_control/vpos/orders", params={"orderNumber": attempt["order_number"]}))
            found += body["orders"] if isinstance(body, dict) else body
        return found

    def our_md_orders(self) -> set[str]:
        return {attempt.md_order for order in self.made for attempt in order.attempts}

    def add_bank_fault(self, **fault: Any) -> int:
        fault_id = int(ok(self.sim.post("/_control/vpos/faults", json=fault))["id"])
        self.bank_fault_ids.append(fault_id)
        return fault_id

    def delete_bank_fault(self, fault_id: int) -> None:
        self.sim.delete(f"/_control/vpos/faults/{fault_id}")
        self.bank_fault_ids.remove(fault_id)

    # --- the customer ------------------------------------------------------------------------------------------

    @initialize(
        target=orders,
        currency=st.sampled_from(sorted(CURRENCY_MERCHANTS)),
        minor=st.integers(1, 10_000_000),
        fault=REGISTER_FAULT_DRAW,
        store=STORE_DRAW,
    )
    def first_order(self, currency: str, minor: int, fault: str | None, store: int) -> OrderModel:
        """Every example starts with a customer who orders and goes to pay."""
        return self.order_and_go_to_pay(currency, minor, fault, store)

    @precondition(lambda self: len(self.made) < MAX_ORDERS)
    @rule(
        target=orders,
        currency=st.sampled_from(sorted(CURRENCY_MERCHANTS)),
        minor=st.integers(1, 10_000_000),
        fault=REGISTER_FAULT_DRAW,
        store=STORE_DRAW,
    )
    def new_order(self, currency: str, minor: int, fault: str | None, store: int) -> OrderModel:
        """Another customer orders and goes to pay, while the others' payments are on their way."""
        return self.order_and_go_to_pay(currency, minor, fault, store)

    def order_and_go_to_pay(self, currency: str, minor: int, fault: str | None, store: int) -> OrderModel:
        """A customer orders (any amount, in a currency the lab's bank merchants take; in the store that pays at
        once, or in the one that holds payments until captured) and goes to pay: Ecwid's payment request arrives at
        the paymentUrl (the bank's registration may fail)."""
        with self.step("new_order"):
            created = ok(
                self.sim.post(
                    "/_control/ecwid/orders", json={"storeId": store, "total": minor / 100, "currency": currency}
                )
            )
            order = OrderModel(str(created["id"]), minor, currency, store)
            self.made.append(order)
            self.variant("new_order", currency + (" held (two-phase)" if store == HELD_STORE_ID else ""))
            self.send_payment_request(order, fault, "new_order")
            return order

    @rule(order=orders, fault=REGISTER_FAULT_DRAW)
    def submit_payment(self, order: OrderModel, fault: str | None) -> None:
        """Ecwid's payment request for the order arrives again (a retry after a failure, a back button, a repeat)."""
        with self.step("submit_payment"):
            self.send_payment_request(order, fault, "submit_payment")

    def send_payment_request(self, order: OrderModel, fault: str | None, rule_name: str) -> None:
        fault_id = None
        if fault is not None:
            fault_id = self.add_bank_fault(method="register.do", times=1, **REGISTER_FAULTS[fault])
        try:
            request = ok(
                self.sim.post(
                    "/_control/ecwid/payment-request", json={"storeId": order.store_id, "orderId": order.order_id}
                )
            )
            answer = self.world.browser.post(
                request["paymentUrl"], data={"enc_data": request["enc_data"], "data": request["data"]}
            )
        finally:
            if fault_id is not None:
                self.delete_bank_fault(fault_id)
        location = answer.headers.get("location", "")
        if answer.status_code == 303 and "mdOrder=" in location:
            md_order = location.split("mdOrder=", 1)[1].split("&", 1)[0]
            known = [a for a in order.attempts if a.md_order == md_order]
            self.variant(rule_name, "bank page (same attempt)" if known else "bank page (new attempt)")
            if not known:
                bank = self.bank_order(md_order)
                order.attempts.append(AttemptModel(md_order, f"{bank['returnUrl']}&orderId={md_order}&lang=en"))
        elif answer.status_code == 303 and location.startswith(f"{self.world.lab.gateway_url}/vpos/return?"):
            self.variant(rule_name, "paid already, Ecwid not yet told: to the gateway's return")
            self.come_back(order, location, rule_name)
        elif answer.status_code == 303:
            self.variant(rule_name, "paid already: sent to the store")
            self.returned_to_store(order, location)
        elif answer.status_code == 200:
            self.variant(rule_name, "payment received page")
        elif answer.status_code == 503:
            self.variant(rule_name, f"bank unavailable page ({fault or 'no register fault'})")
        else:
            raise AssertionError(f"{order}: the paymentUrl answered {answer.status_code}: {answer.text[:300]}")

    @rule(
        order=orders,
        which=WHICH_ATTEMPT,
        kind=st.sampled_from(PAY_KINDS),
        pick=st.integers(0, 4),
        callbacks=CALLBACK_RULES,
        acs=st.sampled_from(["pass", "pass", "fail", "cancel", "wrong code", "later"]),
        browser=st.sampled_from(["follows", "follows", "closes the tab"]),
    )
    def pay(
        self,
        order: OrderModel,
        which: int,
        kind: str,
        pick: int,
        callbacks: dict[str, Any] | None,
        acs: str,
        browser: str,
    ) -> None:
        """The customer pays on the bank page with a card of the simulator's table (or the bank decides by itself),
        with the bank's callback rules for this bank order drawn too; answers the 3-D Secure page if the card asks
        (or leaves it for later); and the browser follows the bank's redirect back through the gateway, unless the
        tab is closed. Without a bank page yet, the customer first clicks "pay" in the store."""
        with self.step("pay"):
            if not order.attempts or (which == 0 and self.bank_order(order.attempts[-1].md_order)["orderStatus"] != 0):
                self.send_payment_request(order, None, "pay")  # the customer clicks "pay" in the store (again)
            attempt = self.attempt(order, which)
            if attempt is None:
                self.variant("pay", "no bank page")
                return
            if callbacks is not None:
                ok(self.sim.put(f"/_control/vpos/orders/{attempt.md_order}/callbacks", json=callbacks))
                self.variant("pay", "callbacks " + describe_callbacks(callbacks))
            if kind in CARDS:
                cards = CARDS[kind]
                body: dict[str, Any] = {"pan": cards[pick % len(cards)], "expiry": "12/30"}
                answer = self.sim.post(f"/_control/vpos/orders/{attempt.md_order}/pay", json=body, timeout=120)
            else:
                body = dict(BANK_OUTCOMES[kind])
                if body.get("reportedAmount") == "+1":
                    body["reportedAmount"] = order.total_minor + 1
                if body.get("reportedCurrency") == "other":
                    body["reportedCurrency"] = "840" if order.currency_numeric != "840" else "978"
                answer = self.sim.post(f"/_control/vpos/orders/{attempt.md_order}/outcome", json=body, timeout=120)
            if answer.status_code == 409:
                self.variant("pay", f"{kind}: already decided (409)")
                return
            paid = ok(answer)
            self.variant("pay", f"{kind}: orderStatus {paid['orderStatus']}")
            redirect = str(paid.get("redirectUrl") or "")
            if "/payment/acs/" in redirect:
                attempt.acs_url = redirect
                if acs == "later":
                    return
                redirect = self.answer_acs(attempt, acs, "pay") or ""
            if browser == "follows" and redirect:
                self.come_back(order, attempt.return_url, "pay")

    @rule(order=orders, which=WHICH_ATTEMPT, action=st.sampled_from(["pass", "pass", "fail", "cancel", "wrong code"]))
    def answer_3ds(self, order: OrderModel, which: int, action: str) -> None:
        """The customer answers the issuer's 3-D Secure page later (the third wrong code declines)."""
        with self.step("answer_3ds"):
            attempt = self.attempt(order, which)
            if attempt is None or attempt.acs_url is None:
                self.variant("answer_3ds", "not at the ACS page")
                return
            self.answer_acs(attempt, action, "answer_3ds")

    def answer_acs(self, attempt: AttemptModel, action: str, rule_name: str) -> str | None:
        """Answer the ACS page; the redirect back (to the gateway), if it gave one."""
        assert attempt.acs_url is not None
        wrong = action == "wrong code"
        form = {"action": "pass" if wrong else action, "otp": "000000" if wrong else "123456"}
        answer = self.world.browser.post(attempt.acs_url, data=form)
        self.variant(rule_name, f"3-D Secure {action}: HTTP {answer.status_code}")
        assert answer.status_code in (302, 400, 409), f"the ACS page answered {answer.status_code}"
        if answer.status_code != 400:
            attempt.acs_url = None
        return answer.headers.get("location") if answer.status_code == 302 else None

    @rule(order=orders, which=WHICH_ATTEMPT, cancel_first=st.sampled_from([False, False, True]))
    def customer_returns(self, order: OrderModel, which: int, cancel_first: bool) -> None:
        """The browser comes back through the gateway's return URL again: after cancelling on the bank page, on a
        refresh of the processing page, or on a back button long after."""
        with self.step("customer_returns"):
            attempt = self.attempt(order, which)
            if attempt is None:
                self.variant("customer_returns", "no bank page yet")
                return
            if cancel_first:
                cancelled = self.world.browser.get(
                    f"{self.world.lab.simulator_url}/payment/merchants/sim/cancel", params={"mdOrder": attempt.md_order}
                )
                self.variant("customer_returns", f"cancel on the bank page: HTTP {cancelled.status_code}")
            self.come_back(order, attempt.return_url, "customer_returns")

    def come_back(self, order: OrderModel, return_url: str, rule_name: str) -> None:
        """The browser at the gateway's return (the bank's redirect: ``returnUrl`` with ``orderId`` and ``lang``),
        and where the gateway sends the customer from there."""
        answer = self.world.browser.get(return_url)
        if answer.status_code == 303:
            self.variant(rule_name, "back: sent to the store")
            self.returned_to_store(order, answer.headers["location"])
        elif answer.status_code == 202:
            self.variant(rule_name, "back: processing page")
        elif answer.status_code == 200:
            self.variant(rule_name, "back: payment received page")
        else:
            raise AssertionError(f"{order}: the gateway's return answered {answer.status_code}: {answer.text[:300]}")

    def returned_to_store(self, order: OrderModel, location: str) -> None:
        """The gateway sends the customer to Ecwid's returnUrl: Ecwid must already show the verified status."""
        store_return = f"{self.world.lab.simulator_url}/store/{order.store_id}/return/{quote(order.order_id, safe='')}?"
        assert location.startswith(store_return), f"{order}: sent to {location}, not to the store's returnUrl"
        record = self.record(order)
        assert record is not None, f"{order}: sent to the store without a payment record"
        ecwid = str(self.ecwid_order(order)["paymentStatus"])
        verified = str(record["payment"]["ecwid_status"])
        assert ecwid == verified, (
            f"{order}: the customer was sent to the store while Ecwid shows {ecwid} and the gateway's status is"
            f" {verified} (open exceptions: {open_exceptions(record)})"
        )
        truths = [bank_truth(order, bank) for bank in self.bank_orders_of(record)]
        # Money on a closed attempt, or another amount, is the operators' (an open exception), not the store's.
        if not open_exceptions(record):
            took = [t for t in truths if t.as_registered and t.took_money and t.status != 3]
            assert not took or ecwid in PAID_FAMILY, (
                f"{order}: sent to the store with Ecwid {ecwid}, the bank took {took}"
            )
            held = [t for t in truths if t.as_registered and t.status == 1]
            assert not held or ecwid in PAID_FAMILY | {"AWAITING_PAYMENT"}, (
                f"{order}: sent to the store with Ecwid {ecwid}, the bank holds {held}"
            )
        self.world.figures.store_returns_checked += 1
        self.store_returns.append((order.order_id, ecwid))
        page = self.world.browser.get(location)
        assert page.status_code == 200, f"{order}: the store's return page answered {page.status_code}"

    # --- the bank's callbacks ------------------------------------------------------------------------------------

    def pending_callbacks(self) -> list[dict[str, Any]]:
        ours = self.our_md_orders()
        pending = ok(self.sim.get("/_control/vpos/callbacks/pending"))["orders"]
        return [c for o in pending if o["mdOrder"] in ours for c in o["callbacks"]]

    @rule(action=st.sampled_from(CALLBACK_ACTIONS), pick=st.integers(0, 9))
    def bank_callbacks(self, action: str, pick: int) -> None:
        """The bank's callbacks of the example, in any order: a pending one (held or scheduled) delivered now,
        duplicated, dropped or moved to the front of its queue; one bank order's released; one already sent
        replayed (late, out of order); or one injected that does not match what happened."""
        with self.step("bank_callbacks"):
            if action in ("deliver", "duplicate", "drop", "move first"):
                pending = self.pending_callbacks()
                if not pending:
                    self.variant("bank_callbacks", f"{action}: nothing pending")
                    return
                callback = pending[pick % len(pending)]
                path = f"/_control/vpos/callbacks/{callback['id']}"
                if action == "deliver":
                    answer = self.sim.post(f"{path}/deliver", timeout=120)
                elif action == "duplicate":
                    answer = self.sim.post(f"{path}/duplicate", json={"times": 1 + pick % 2})
                elif action == "drop":
                    answer = self.sim.post(f"{path}/drop")
                else:
                    answer = self.sim.post(f"{path}/move", json={"position": 0})
                assert answer.status_code in (200, 201, 409), f"{action}: {answer.status_code} {answer.text[:200]}"
                self.variant("bank_callbacks", f"{action} {callback['operation']} {callback['params'].get('status')}")
                return
            mds = sorted(self.our_md_orders())
            if not mds:
                self.variant("bank_callbacks", f"{action}: no bank order")
                return
            md_order = mds[pick % len(mds)]
            if action == "release":
                released = ok(self.sim.post(f"/_control/vpos/orders/{md_order}/callbacks/release", timeout=120))
                self.variant("bank_callbacks", f"release: {len(released['callbacks'])} released")
            elif action == "replay":
                sent = ok(self.sim.get(f"/_control/vpos/orders/{md_order}/callbacks"))["callbacks"]
                if not sent:
                    self.variant("bank_callbacks", "replay: nothing sent yet")
                    return
                callback = sent[pick % len(sent)]
                ok(self.sim.post(f"/_control/vpos/callbacks/{callback['id']}/replay", timeout=120))
                self.variant("bank_callbacks", f"replay {callback['operation']} {callback['params'].get('status')}")
            else:
                operation, status = action.split()[1], int(action.split()[2])
                answer = self.sim.post(
                    f"/_control/vpos/orders/{md_order}/callbacks",
                    json={"operation": operation, "status": status},
                    timeout=120,
                )
                assert answer.status_code == 201, f"inject: {answer.status_code} {answer.text[:200]}"
                self.variant("bank_callbacks", action)

    # --- time and the worker --------------------------------------------------------------------------------------

    @rule(whose=st.sampled_from(["bank", "gateway", "both"]), seconds=st.sampled_from([1, 7, 31, 61, 301, 1261]))
    def time_passes(self, whose: str, seconds: int) -> None:
        """The bank's time (due callbacks and their retries go out, pending payments resolve, sessions end) and/or
        the gateway's (its retries, polls, expiry and the customer's wait fall due) move forward."""
        with self.step("time_passes"):
            if whose in ("bank", "both"):
                moved = ok(self.sim.post("/_control/clock/advance", json={"seconds": seconds}, timeout=300))
                self.world.figures.outcomes["bank jobs run by the clock"] += int(moved.get("ranJobs") or 0)
            if whose in ("gateway", "both"):
                self.world.lab.advance_gateway_clock(seconds)
            self.variant("time_passes", f"{whose} +{seconds} s")

    @rule(crash_after=st.sampled_from([None, None, 1, 2, 3, 4]))
    def worker(self, crash_after: int | None) -> None:
        """A worker pass (poll, refunds, Ecwid relay), or one whose process dies right after its n-th call to the
        bank or Ecwid returned: what that call did outside stays done, nothing after it reaches the database, and
        its claims and leases stay as they were."""
        with self.step("worker"):
            if crash_after is None:
                result = self.worker_pass()
                busy = bool((result.poll and result.poll.checked) or (result.relay and result.relay.sent))
                self.variant("worker", "pass" if busy else "pass with nothing due")
                return
            self.world.crash_switch.arm(crash_after)
            try:
                run_pass(self.world.crashing_gateway)
            except SimulatedCrash:
                self.variant("worker", f"crash after call {crash_after}")
            else:
                self.variant("worker", "crash point not reached")
            finally:
                self.world.crash_switch.disarm()

    def worker_pass(self) -> PassResult:
        """One pass; none of its three parts (poll, refunds, relay) may fail as a whole: one bad row must never stop
        the loop for every payment (house rule 16)."""
        result = run_pass(self.world.gateway)
        assert None not in (result.poll, result.refunds, result.relay), f"a worker pass failed as a whole: {result}"
        return result

    # --- faults -------------------------------------------------------------------------------------------------

    @rule(kind=st.sampled_from(TROUBLES), times=st.sampled_from([1, 2, 5, None]))
    def trouble(self, kind: str, times: int | None) -> None:
        """The bank's status calls fail the next few times (callbacks get 503 and are retried, polls fail), Ecwid's
        orders API misbehaves for the next few PUTs (or until it recovers), or either recovers."""
        with self.step("trouble"):
            fault: dict[str, Any]
            self.variant("trouble", f"{kind} x{times or 'until healthy'}" if "recovers" not in kind else kind)
            if kind == "bank recovers":
                for fault_id in list(self.bank_fault_ids):
                    self.delete_bank_fault(fault_id)
            elif kind == "Ecwid recovers":
                self.clear_ecwid_faults()
            elif kind.startswith("bank "):
                fault = {"method": "getOrderStatusExtended.do", **STATUS_FAULTS[kind.split(" ", 1)[1]]}
                if times is not None:
                    fault["times"] = times
                self.bank_fault_ids.append(int(ok(self.sim.post("/_control/vpos/faults", json=fault))["id"]))
            else:
                fault = {"method": "PUT", **ECWID_FAULTS[kind.split(" ", 1)[1]]}  # both stores
                if times is not None:
                    fault["times"] = times
                self.ecwid_fault_ids.append(int(ok(self.sim.post("/_control/ecwid/faults", json=fault))["id"]))

    def clear_ecwid_faults(self) -> None:
        for fault_id in self.ecwid_fault_ids:
            self.sim.delete(f"/_control/ecwid/faults/{fault_id}")
        self.ecwid_fault_ids.clear()

    # --- the operator -------------------------------------------------------------------------------------------

    def paid_attempt(self, order: OrderModel) -> dict[str, Any] | None:
        record = self.record(order)
        if record is None:
            return None
        for attempt in reversed(record["attempts"]):
            if attempt["status"] in ("paid", "partially_refunded", "authorized"):
                found: dict[str, Any] = attempt
                return found
        return record["attempts"][-1] if record["attempts"] else None

    @rule(
        order=orders,
        action=st.sampled_from(
            ["refund whole", "refund half", "refund one", "refund rest", "reverse", "capture whole", "capture half"]
        ),
        trouble=st.sampled_from([None, None, "answer lost", "fails at the bank"]),
    )
    def operator(self, order: OrderModel, action: str, trouble: str | None) -> None:
        """An operator refunds (whole, part, what is left) or reverses a payment, through the services the console's
        forms call; the bank may lose its refund.do answer or fail the refund after accepting it."""
        with self.step("operator"):
            attempt = self.paid_attempt(order)
            if attempt is None or attempt["md_order"] is None:
                self.variant("operator", f"{action}: nothing registered")
                return
            if action == "reverse" or action.startswith("capture"):
                amount_now = None if action != "capture half" else max(1, int(attempt["amount_minor"]) // 2)
                try:
                    if action == "reverse":
                        outcome = reverse_payment(self.world.gateway, int(attempt["id"]), actor=ACTOR)
                    else:
                        outcome = capture_payment(self.world.gateway, int(attempt["id"]), amount_now, actor=ACTOR)
                except OperationRefused as exc:
                    self.variant("operator", f"{action}: refused ({exc.reason})")
                else:
                    self.variant("operator", f"{action}: {outcome.attempt_status.value}")
                return
            amount = int(attempt["amount_minor"])
            refunded = int(attempt["refunded_minor"] or 0)
            part = action.split()[1]
            deposited = int(attempt["deposited_minor"] or amount)  # less than the amount after a partial capture
            minor = {"whole": amount, "half": max(1, amount // 2), "one": 1, "rest": deposited - refunded}[part]
            fault_id = None
            if trouble == "answer lost":
                fault_id = self.add_bank_fault(
                    method="refund.do", fault="http_503", afterApply=True, times=1, mdOrder=attempt["md_order"]
                )
            elif trouble == "fails at the bank":
                ok(self.sim.put("/_control/vpos/bank", json={"failNextRefund": True}))
                self.bank_settings_changed = True
            try:
                refunded_now = refund_payment(self.world.gateway, int(attempt["id"]), minor, actor=ACTOR)
            except OperationRefused as exc:
                self.variant("operator", f"{action}: refused ({exc.reason})")
            else:
                self.variant("operator", f"{action} ({trouble or 'no trouble'}): {refunded_now.status.value}")
            finally:
                if fault_id is not None:
                    self.delete_bank_fault(fault_id)

    # --- invariants ---------------------------------------------------------------------------------------------

    @invariant()
    def lifecycle_rules_hold(self) -> None:
        if not self.made:
            return
        self.world.figures.invariant_checks += 1
        started = time.monotonic()
        try:
            for order in self.made:
                self.check_order(order)
        except BaseException:
            self.failed = True
            raise
        finally:
            self.world.figures.seconds["invariants"] += time.monotonic() - started

    def check_order(self, order: OrderModel) -> None:
        self.world.figures.order_checks += 1
        ecwid_order = self.ecwid_order(order)
        statuses = [
            str(update["fields"]["paymentStatus"])
            for update in ecwid_order.get("history") or []
            if "paymentStatus" in (update.get("fields") or {})
        ]
        for before, after in itertools.pairwise(statuses):
            allowed = ECWID_AFTER.get(before)
            assert allowed is None or after in allowed, f"{order}: Ecwid went {before} -> {after} ({statuses})"
        record = self.record(order)
        if record is None:
            assert statuses == [], f"{order}: Ecwid was updated ({statuses}) with no payment at the gateway"
            return
        for attempt in record["attempts"]:
            self.check_attempt(order, attempt, record)
        ecwid = str(ecwid_order["paymentStatus"])
        if ecwid in PAID_FAMILY:
            md_order = ecwid_order.get("externalTransactionId")
            ours = {a["md_order"] for a in record["attempts"]}
            assert md_order in ours, f"{order}: Ecwid {ecwid} names bank order {md_order}, not one of {ours}"
            truth = bank_truth(order, self.bank_order(str(md_order)))
            assert truth.took_money and truth.as_registered, (
                f"{order}: Ecwid {ecwid}, but the bank {truth} never took the registered amount and currency"
            )
            if ecwid == "REFUNDED":
                assert truth.refunded >= truth.deposited > 0, f"{order}: Ecwid REFUNDED, bank {truth}"
            if ecwid == "PARTIALLY_REFUNDED":
                assert truth.refunded > 0, f"{order}: Ecwid PARTIALLY_REFUNDED, bank {truth}"

    def check_attempt(self, order: OrderModel, attempt: dict[str, Any], record: dict[str, Any]) -> None:
        attempt_id = int(attempt["id"])
        history = attempt_history(record, attempt_id)
        for before, after in itertools.pairwise(history):
            assert can_transition(AttemptStatus(before), AttemptStatus(after)), (
                f"{order}: attempt {attempt['order_number']} went {before} -> {after}, which the transition table"
                f" forbids (history {history})"
            )
        assert history[-1] == attempt["status"], (
            f"{order}: attempt {attempt['order_number']} is {attempt['status']} but its events end in {history}"
        )
        seen = self.histories.get(attempt_id, [])
        assert history[: len(seen)] == seen, f"{order}: attempt history rewritten: {seen} -> {history}"
        if seen and is_final(AttemptStatus(seen[-1])):
            assert history == seen, f"{order}: final state {seen[-1]} left: {history}"
        self.histories[attempt_id] = history
        assert (int(attempt["amount_minor"]), attempt["currency"]) == (order.total_minor, order.currency), (
            f"{order}: attempt registered for {attempt['amount_minor']} {attempt['currency']}"
        )

    # --- the end of an example ----------------------------------------------------------------------------------

    def teardown(self) -> None:
        started = time.monotonic()
        try:
            self.restore_bank_and_ecwid()
            if not self.failed and self.made:
                self.drain_and_check()
        finally:
            self.world.crash_switch.disarm()
            self.world.figures.seconds["end of examples"] += time.monotonic() - started

    def restore_bank_and_ecwid(self) -> None:
        self.clear_ecwid_faults()
        for fault_id in list(self.bank_fault_ids):
            self.delete_bank_fault(fault_id)
        if self.bank_settings_changed:
            ok(self.sim.put("/_control/vpos/bank", json={"failNextRefund": False}))
            self.bank_settings_changed = False

    def drain_and_check(self) -> None:
        """Everything recovers; the world runs until every retry is due; then the end-state invariants."""
        figures = self.world.figures
        settled = False
        for round_no in range(DRAIN_ROUNDS):
            figures.drain_rounds += 1
            ok(self.sim.post("/_control/clock/advance", json={"seconds": 86400 if round_no == 0 else 600}, timeout=300))
            if round_no == 1:  # callbacks the bank held until now arrive late, after everything else
                for md_order in sorted(self.our_md_orders()):
                    ok(self.sim.post(f"/_control/vpos/orders/{md_order}/callbacks/release", timeout=120))
            self.world.lab.advance_gateway_clock(3600)
            for _ in range(PASSES_PER_ROUND):  # an hour of a real worker is many passes: until nothing more is due
                result = self.worker_pass()
                if result.poll is None or result.poll.checked < POLL_LIMIT:
                    break
            if round_no >= 2 and not self.unsettled():
                settled = True
                break
        figures.teardown_checks += 1
        self.lifecycle_rules_hold()  # the whole history of every attempt, late callbacks included
        assert settled, f"not settled after {DRAIN_ROUNDS} drain rounds: {self.unsettled()}"
        for order in self.made:
            self.check_end_state(order)
        self.check_journal()

    def unsettled(self) -> list[str]:
        """What is still on its way: open attempts, refunds, Ecwid updates, the bank's pending callbacks."""
        left: list[str] = []
        for order in self.made:
            record = self.record(order)
            if record is None:
                continue
            excused = {row["attempt_id"] for row in record["exceptions"] if row["open"]}
            for attempt in record["attempts"]:
                # An attempt the operators must look at may stay open (e.g. paid with another amount or currency).
                if AttemptStatus(attempt["status"]) in OPEN_STATES and attempt["id"] not in excused:
                    left.append(f"{order} attempt {attempt['order_number']} {attempt['status']}")
                left += [
                    f"{order} refund {r['external_refund_id']} {r['status']}"
                    for r in attempt["refunds"]
                    if r["status"] in {s.value for s in OPEN_REFUND_STATES}
                ]
            left += [
                f"{order} Ecwid update {e['detail']} {e['outcome']}"
                for e in record["timeline"]
                if e["source"] == "outbox" and e["kind"] == "ecwid_queued" and e["outcome"] == "pending"
            ]
        left += [f"callback {c['id']} {c['operation']} {c['state']}" for c in self.pending_callbacks()]
        return left

    def check_end_state(self, order: OrderModel) -> None:
        figures = self.world.figures
        record = self.record(order)
        ecwid = str(self.ecwid_order(order)["paymentStatus"])
        figures.outcomes[f"Ecwid {ecwid}"] += 1
        if record is None:
            figures.outcomes["order never sent to pay"] += 1
            return
        exceptions = open_exceptions(record)
        for code in exceptions:
            figures.outcomes[f"open exception {code}"] += 1
        excused = {row["attempt_id"] for row in record["exceptions"] if row["open"]}
        for attempt in record["attempts"]:
            figures.outcomes[
                f"attempt {attempt['status']}" + (" (open exception)" if attempt["id"] in excused else "")
            ] += 1
            settled = is_final(AttemptStatus(attempt["status"])) or attempt["status"] in SETTLED_OPEN_FOR_MONEY
            assert settled or attempt["id"] in excused, (
                f"{order}: attempt {attempt['order_number']} still {attempt['status']}"
            )
        truths = [bank_truth(order, bank) for bank in self.bank_orders_of(record)]
        for truth in truths:
            expected = expected_ecwid(truth)
            if expected is None:
                continue
            figures.outcomes[f"bank took the money, expect Ecwid {expected}"] += 1
            assert ecwid == expected or exceptions, (
                f"{order}: the bank took the money ({truth}), Ecwid shows {ecwid}, not {expected}, and no operator"
                f" exception is open"
            )
        kept = [t for t in truths if money_kept(t)]
        if len(kept) > 1:
            assert exceptions, f"{order}: the bank kept {len(kept)} payments ({kept}) and no exception is open"
        verified = str(record["payment"]["ecwid_status"])
        assert ecwid == verified or exceptions, (
            f"{order}: Ecwid shows {ecwid}, the gateway's status is {verified}, and no operator exception is open"
        )
        for attempt in order.attempts:
            sent = ok(self.sim.get("/_control/vpos/callbacks/sent", params={"mdOrder": attempt.md_order}))["callbacks"]
            for callback in sent:
                for answer in callback["attempts"]:
                    status = answer["httpStatus"]
                    allowed = {200, 503, None} | ({400} if callback["badChecksum"] else set())
                    assert status in allowed, (
                        f"{order}: the gateway answered {status} to callback {callback['operation']}"
                        f" {callback['params'].get('status')} (#{callback['id']})"
                    )

    def check_journal(self) -> None:
        """The simulator's journal: each return to the store comes after the Ecwid PUT of the status it showed."""
        entries = self.world.new_journal_entries()
        by_order: dict[str, list[str]] = {}
        for order_id, seen in self.store_returns:
            by_order.setdefault(order_id, []).append(seen)
        for order_id, seen_list in by_order.items():
            last_put: str | None = None
            returns: list[str] = []
            for entry in entries:
                if order_id not in (entry.get("orders") or []) and f"order={order_id}" not in entry["summary"]:
                    continue
                if entry["service"] == "ecwid" and entry["method"] == "PUT" and entry["status"] == 200:
                    last_put = str(entry["params"].get("paymentStatus") or last_put)
                elif entry["service"] == "store" and entry["operation"] == "return":
                    returns.append(last_put or "INCOMPLETE")
            assert returns == seen_list, (
                f"order {order_id}: the store's returns came after Ecwid PUTs of {returns}, the customer was sent"
                f" while Ecwid showed {seen_list}"
            )


# --- running it ----------------------------------------------------------------------------------------------------


def machine_settings(examples: int, steps: int) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,  # no .hypothesis/ folder in the repository; failures print their program and a blob
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        phases=[Phase.explicit, Phase.generate, Phase.shrink, Phase.explain],
    )


def run_machine(world: World, examples: int, steps: int, seed_value: int | None = None) -> None:
    """Run ``examples`` examples of up to ``steps`` steps on the world's lab; raises with the minimal failing
    program (hypothesis prints it) when an invariant breaks."""

    def factory() -> LifecycleMachine:
        return LifecycleMachine(world)

    factory_run: Callable[[], LifecycleMachine] = factory if seed_value is None else seed(seed_value)(factory)
    run_state_machine_as_test(factory_run, settings=machine_settings(examples, steps))  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.lifecycle",
        description="The payment lifecycle state machine against the real gateway and simulator, many examples.",
    )
    parser.add_argument("--examples", type=int, default=200, help="examples in all (default 200)")
    parser.add_argument("--steps", type=int, default=30, help="steps per example (default 30)")
    parser.add_argument(
        "--chunk", type=int, default=100, help="examples per hypothesis run: a failure ends only its chunk"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the first chunk (the next get seed+1, ...)")
    parser.add_argument("--database-url", default=None, help="the gateway's database (default: SQLite in a temp dir)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    failures = 0
    with (
        tempfile.TemporaryDirectory(prefix="vposlab-lifecycle-") as workdir,
        World.started(Path(workdir), args.database_url) as world,
    ):
        database = (args.database_url or "sqlite").split(":", 1)[0]
        print(f"lifecycle state machine: {args.examples} examples x {args.steps} steps, database {database}")
        done = 0
        chunk_no = 0
        while done < args.examples:
            size = min(args.chunk, args.examples - done)
            chunk_seed = None if args.seed is None else args.seed + chunk_no
            before = world.figures.examples
            try:
                run_machine(world, size, args.steps, chunk_seed)
            except Exception as exc:  # one chunk's failure is reported; the others still run
                failures += 1
                print(f"\nFAILURE in chunk {chunk_no} (seed {chunk_seed}):", file=sys.stderr)
                traceback.print_exception(exc, file=sys.stderr)
            done += size
            chunk_no += 1
            print(
                f"  chunk {chunk_no}: {world.figures.examples - before} examples run (incl. shrinking),"
                f" {time.monotonic() - started:.0f} s",
                flush=True,
            )
        figures = world.figures
    wall = time.monotonic() - started
    print()
    for line in figures.lines():
        print(line)
    print(f"failures:             {failures}")
    print(f"wall time:            {wall:.1f} s ({wall / max(1, figures.examples):.2f} s per example)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
