"""Steps of the integrity features: Ecwid order ids and exact amounts at the bank (RC-15, RC-33), a bank that reports
another amount or currency, or approves less (RC-18, RC-33), Ecwid's API failing for a while (RC-16), and a stale
bank page left open in another tab (RC-27, RC-36).

They reuse the shared steps by their text (``common_steps.py``, ``bank_flow_steps.py``, ``chaos_steps.py``) and
request the state those return by name (``shopper``, ``order_under_test``, ``baseline``); what these steps produce
travels the same way, as the frozen dataclasses below, each registered in ``scenario_state`` for the evidence.
Checks read server-side truth: the simulator's bank orders, its journal and Ecwid's PUT history (accepted and
refused updates), the gateway's own records through read-only queries (``features/support/gateway_state.py``), and
the page the customer saw.

Everything a scenario changes in the shared lab is undone when it ends, also when it fails: Ecwid faults (the
``ecwid`` fixture) and the bank's deployed methods (a finalizer). The stale-attempt scenarios move only the
gateway's clock (``lab.advance_gateway_clock``): the simulator's clock would end other scenarios' bank sessions."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_bdd import given, parsers, then, when

from features.steps.common_steps import fill_card_and_pay
from features.support.bank_control import wait_for
from features.support.control import SimulatorControl
from features.support.ecwid_control import EcwidControl
from features.support.evidence import ScenarioEvidence
from features.support.gateway_api import ConsoleApi
from features.support.gateway_state import AttemptRow, GatewayState
from features.support.state import Baseline, EcwidOrderUnderTest, ScenarioState, Shopper, md_order_of
from gateway.services.poller import EXPIRY_GRACE
from lab import Lab
from lab.lab import STORE_ID

STATUS_CHECK = "getOrderStatusExtended.do"
COMPACT_ORDER_NUMBER = re.compile(r"V[0-9A-HJKMNP-TV-Z]{11}")  # the gateway's format: "V" + 11 Crockford base32
PAID_STATES = frozenset({"paid", "authorized", "partially_refunded", "refunded", "reversed"})
WAIT_S = 20.0
ID_STYLES = {
    "a short one made up by the store": "short",
    "a long one made up by the store": "long",
    "an odd one made up by the store": "odd",
}
ECWID_FAULTS: dict[str, dict[str, Any]] = {
    "HTTP 500": {"fault": "http_500"},
    "HTTP 503": {"fault": "http_503"},
    "429 with Retry-After 2 seconds": {"fault": "rate_limited", "retryAfterSeconds": 2},
    "no answer past the gateway's timeout": {"fault": "hang"},  # seconds: see ``ecwid_fails``
}
HANG_PAST_TIMEOUT_S = 0.5
"""How much longer than the gateway's HTTP timeout a hanging Ecwid call sleeps: long enough to be a read timeout,
short enough that the simulator has answered (503) and recorded the refused PUT before the gateway's retry, which
comes at least half the first backoff (``ecwid_backoff_base_s``: 2 s) after the timeout."""


# --- The scenario's state -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopOrder:
    """An Ecwid order made over the control API (``POST /_control/ecwid/orders/fake``, or ``/_control/ecwid/orders``
    for a total kept exactly as the shop's float arithmetic left it) and its checkout page in the store."""

    order_id: str
    order: Mapping[str, Any]
    checkout_url: str

    def evidence_values(self) -> Mapping[str, Any]:
        return {"order_id": self.order_id, "order": self.order}


@dataclass(frozen=True)
class BankDecision:
    """A payment the bank took through its control API, and where it sends the customer's browser."""

    md_order: str
    redirect_url: str

    def evidence_values(self) -> Mapping[str, Any]:
        return {"mdOrder": self.md_order, "redirect_url": self.redirect_url}


@dataclass(frozen=True)
class CustomerBack:
    """The journal mark once the customer's return from the bank was answered."""

    mark: int

    def evidence_values(self) -> Mapping[str, Any]:
        return {}


@dataclass(frozen=True)
class EcwidFault:
    """A fault on Ecwid's orders API for the next ``count`` updates."""

    fault_id: int
    count: int

    def evidence_values(self) -> Mapping[str, Any]:
        return {}


@dataclass(frozen=True)
class StaleTab:
    """The first bank page, left open in its tab after the gateway's clock passed its session."""

    page: Page
    md_order: str
    mark: int

    def evidence_values(self) -> Mapping[str, Any]:
        return {"mdOrder": self.md_order}


@dataclass(frozen=True)
class SecondTab:
    """The customer's new start from the store, in another tab: its page and its bank order."""

    page: Page
    md_order: str

    def evidence_values(self) -> Mapping[str, Any]:
        return {"mdOrder": self.md_order}


# --- Fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture
def ecwid(control: SimulatorControl) -> Iterator[EcwidControl]:
    own = EcwidControl(control)
    yield own
    own.cleanup()


@pytest.fixture
def gateway_state(console_api: ConsoleApi) -> GatewayState:
    return GatewayState(console_api)


def _attempt(gateway_state: GatewayState, order_id: str, md_order: str) -> AttemptRow:
    rows = [row for row in gateway_state.attempts(order_id) if row.provider_order_id == md_order]
    assert len(rows) == 1, f"the gateway has no single attempt for bank order {md_order}: {rows}"
    return rows[0]


def _history(ecwid: EcwidControl, order_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = ecwid.history(order_id)["history"]
    return entries


# --- Given ------------------------------------------------------------------------------------------------------


@given(parsers.parse("an Ecwid order of {total} {currency} whose id is {id_text}"), target_fixture="shop_order")
def shop_order(
    baseline: Baseline,
    scenario_state: ScenarioState,
    ecwid: EcwidControl,
    total: str,
    currency: str,
    id_text: str,
) -> ShopOrder:
    fields: dict[str, Any] = {"currency": currency, "total": float(total)}
    if id_text.startswith('"') and id_text.endswith('"'):
        fields.update(idStyle="odd", id=id_text[1:-1])
    else:
        fields["idStyle"] = ID_STYLES[id_text]
    made = ecwid.fake_order(**fields)
    order = made["order"]
    if "id" in fields:
        assert order["id"] == fields["id"], order["id"]
    assert order["total"] == round(float(total), 2), f"the shop's total is {order['total']!r}, not {total}"
    shop = ShopOrder(str(order["id"]), order, made["checkoutUrl"])
    scenario_state.register(shop)
    return shop


@given(parsers.parse("an Ecwid order whose total the shop computed as {total} {currency}"), target_fixture="shop_order")
def shop_order_with_total(
    baseline: Baseline,
    scenario_state: ScenarioState,
    control: SimulatorControl,
    lab: Lab,
    total: str,
    currency: str,
) -> ShopOrder:
    """The total exactly as the shop's float arithmetic left it (``0.1 + 0.2`` is ``0.30000000000000004``), kept
    as is by ``POST /_control/ecwid/orders`` and sent so in Ecwid's payment request."""
    order = control.create_order(total=float(total), currency=currency)
    assert repr(order["total"]) == repr(float(total)), f"the shop's total is {order['total']!r}, not {total}"
    shop = ShopOrder(str(order["id"]), order, f"{lab.storefront_url}orders/{order['id']}/pay")
    scenario_state.register(shop)
    return shop


@given("the bank does not deploy decline.do for the shop")
def decline_not_deployed(request: pytest.FixtureRequest, control: SimulatorControl) -> None:
    before = control.http.get("/_control/vpos/bank").json()["disabledMethods"]

    def restore() -> None:
        control.http.put("/_control/vpos/bank", json={"disabledMethods": before}).raise_for_status()

    request.addfinalizer(restore)  # even when the scenario fails: the next one must find decline.do deployed
    answer = control.http.put("/_control/vpos/bank", json={"disabledMethods": {"*": ["decline.do"]}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["disabledMethods"] == {"*": ["decline.do"]}


# --- When: paying from the store's checkout ---------------------------------------------------------------------


@when(
    parsers.parse('the customer opens the order\'s checkout and pays with card "{pan}"'),
    target_fixture="order_under_test",
)
def pay_from_checkout(
    shopper: Shopper, shop_order: ShopOrder, scenario_state: ScenarioState, evidence: ScenarioEvidence, pan: str
) -> EcwidOrderUnderTest:
    page = shopper.page
    page.goto(shop_order.checkout_url)
    evidence.page(page, f"store: order {shop_order.order_id} ready to pay")
    page.click("#pay-button")
    expect(page.locator("#card-form")).to_be_visible()
    paying = EcwidOrderUnderTest(order_id=shop_order.order_id, order=shop_order.order, form_url=page.url)
    scenario_state.register(paying)
    evidence.page(page, "bank payment page")
    fill_card_and_pay(page, pan)
    return paying


# --- When: the bank reports something else than the order ------------------------------------------------------


def _decide(control: SimulatorControl, md_order: str, **fields: Any) -> BankDecision:
    answer = control.http.post(f"/_control/vpos/orders/{md_order}/outcome", json={"outcome": "pay", **fields})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["orderStatus"] == 2, body
    return BankDecision(md_order, body["redirectUrl"])


@when(parsers.parse("the bank takes the payment but reports {report}"), target_fixture="bank_decision")
def bank_reports_otherwise(
    order_under_test: EcwidOrderUnderTest, scenario_state: ScenarioState, control: SimulatorControl, report: str
) -> BankDecision:
    md_order = order_under_test.md_order
    registered = control.bank_order(md_order)
    if report == "an amount 1 minor unit less than the order's":
        fields: dict[str, Any] = {"reportedAmount": int(registered["amount"]) - 1}
    elif report == 'the currency "978" instead of the order\'s':
        assert registered["currency"] != "978", registered["currency"]
        fields = {"reportedCurrency": "978"}
    else:
        raise AssertionError(f"unknown report {report!r}")
    decision = _decide(control, md_order, **fields)
    scenario_state.register(decision)
    return decision


@when("the bank takes the payment but approves only half of the order's amount", target_fixture="bank_decision")
def bank_approves_half(
    order_under_test: EcwidOrderUnderTest, scenario_state: ScenarioState, control: SimulatorControl
) -> BankDecision:
    md_order = order_under_test.md_order
    amount = int(control.bank_order(md_order)["amount"])
    decision = _decide(control, md_order, approvedAmount=amount // 2)
    scenario_state.register(decision)
    return decision


@when("the customer's browser follows the bank back to the gateway", target_fixture="customer_back")
def follow_bank_back(
    shopper: Shopper, bank_decision: BankDecision, scenario_state: ScenarioState, control: SimulatorControl
) -> CustomerBack:
    shopper.page.goto(bank_decision.redirect_url)
    shopper.page.wait_for_load_state()
    back = CustomerBack(control.journal_mark())
    scenario_state.register(back)
    return back


# --- When: Ecwid failing --------------------------------------------------------------------------------------


@when(parsers.parse("Ecwid's orders API answers {failure} to the next {count:d} updates"), target_fixture="ecwid_fault")
def ecwid_fails(
    ecwid: EcwidControl, scenario_state: ScenarioState, request: pytest.FixtureRequest, failure: str, count: int
) -> EcwidFault:
    fault: dict[str, Any] = dict(ECWID_FAULTS[failure])
    if fault["fault"] == "hang":  # within the simulator's maxSleepSeconds (15 by default)
        timings = request.getfixturevalue("console_api").timings()  # only a hang needs the gateway's timeout
        fault["seconds"] = timings.http_timeout_s + HANG_PAST_TIMEOUT_S
    created = ecwid.add_fault(method="PUT", storeId=STORE_ID, times=count, **fault)
    made = EcwidFault(int(created["id"]), count)
    scenario_state.register(made)
    return made


# --- When: a stale bank page in another tab ---------------------------------------------------------------------


def _session_s(console_api: ConsoleApi) -> float:
    """The bank session the gateway registers (``sessionTimeoutSecs``) and keeps its attempts open for."""
    return console_api.timings().session_timeout_s


def _leave_open(
    shopper: Shopper,
    order_under_test: EcwidOrderUnderTest,
    scenario_state: ScenarioState,
    control: SimulatorControl,
    lab: Lab,
    seconds: float,
) -> StaleTab:
    expect(shopper.page.locator("#card-form")).to_be_visible()
    stale = StaleTab(shopper.page, order_under_test.md_order, control.journal_mark())
    scenario_state.register(stale)
    lab.advance_gateway_clock(seconds)  # only the gateway's time: the bank page itself stays open at the bank
    return stale


@when(
    "leaves that bank page open in its tab while the gateway's clock passes the bank session",
    target_fixture="stale_tab",
)
def leave_open_past_session(
    shopper: Shopper,
    order_under_test: EcwidOrderUnderTest,
    scenario_state: ScenarioState,
    control: SimulatorControl,
    lab: Lab,
    console_api: ConsoleApi,
) -> StaleTab:
    # Past the session, not past the poller's grace: the customer's new start is what moves the gateway on.
    return _leave_open(shopper, order_under_test, scenario_state, control, lab, _session_s(console_api) + 1)


@when(
    "leaves that bank page open in its tab while the gateway's clock passes the bank session and its grace period",
    target_fixture="stale_tab",
)
def leave_open_past_grace(
    shopper: Shopper,
    order_under_test: EcwidOrderUnderTest,
    scenario_state: ScenarioState,
    control: SimulatorControl,
    lab: Lab,
    console_api: ConsoleApi,
) -> StaleTab:
    grace = EXPIRY_GRACE.total_seconds()  # the poller declines a stale bank order this long after its session
    return _leave_open(shopper, order_under_test, scenario_state, control, lab, _session_s(console_api) + grace + 2)


@when(
    parsers.parse('the customer starts again from the store in another tab and pays with card "{pan}"'),
    target_fixture="second_tab",
)
def start_again(
    stale_tab: StaleTab,
    order_under_test: EcwidOrderUnderTest,
    scenario_state: ScenarioState,
    evidence: ScenarioEvidence,
    lab: Lab,
    pan: str,
) -> SecondTab:
    page = stale_tab.page.context.new_page()
    evidence.watch(page)
    page.goto(f"{lab.storefront_url}orders/{order_under_test.order_id}/pay")
    evidence.page(page, "store: the order's payment page, in another tab")
    page.click("#pay-button")
    expect(page.locator("#card-form")).to_be_visible()
    md_order = md_order_of(page.url)
    assert md_order != stale_tab.md_order, "the new start must be a new bank order"
    second = SecondTab(page, md_order)
    scenario_state.register(second)
    evidence.page(page, "bank payment page (second attempt)")
    fill_card_and_pay(page, pan)
    return second


@when(parsers.parse('the customer pays on the first tab\'s still-open bank page with card "{pan}"'))
def pay_stale_page(stale_tab: StaleTab, evidence: ScenarioEvidence, pan: str) -> None:
    page = stale_tab.page
    page.bring_to_front()
    expect(page.locator("#card-form")).to_be_visible()  # the page as the customer left it, never reloaded
    fill_card_and_pay(page, pan)
    evidence.page(page, "the first tab after paying on its old bank page")


# --- Then: ids and amounts --------------------------------------------------------------------------------------


@then(parsers.parse('Ecwid records the order as "{status}"'))
def ecwid_records(order_under_test: EcwidOrderUnderTest, ecwid: EcwidControl, status: str) -> None:
    def probe() -> dict[str, Any] | None:
        found = ecwid.history(order_under_test.order_id)
        return found if found["paymentStatus"] == status else None

    try:
        found = wait_for(probe, f"Ecwid order {order_under_test.order_id} {status}", 10)
    except AssertionError:
        raise AssertionError(f"Ecwid's order: {ecwid.history(order_under_test.order_id)}") from None
    assert found["orderId"] == order_under_test.order_id
    accepted = [h for h in found["history"] if h["accepted"] and h["newPaymentStatus"] == status]
    assert len(accepted) == 1, found["history"]


@then("the bank order's orderNumber is the gateway's compact reference, not the Ecwid order id")
def compact_reference(order_under_test: EcwidOrderUnderTest, control: SimulatorControl) -> None:
    bank_order = control.bank_order(order_under_test.md_order)
    number = bank_order["orderNumber"]
    assert len(number) <= 32 and COMPACT_ORDER_NUMBER.fullmatch(number), number
    assert number != order_under_test.order_id and number not in order_under_test.order_id
    assert bank_order["orderStatus"] == 2, bank_order["orderStatus"]


@then("the gateway's records lead from the Ecwid order id to that bank order")
def ecwid_to_bank(
    order_under_test: EcwidOrderUnderTest, control: SimulatorControl, gateway_state: GatewayState
) -> None:
    attempts = gateway_state.attempts(order_under_test.order_id)
    assert len(attempts) == 1, attempts
    attempt = attempts[0]
    bank_order = control.bank_order(order_under_test.md_order)
    assert attempt.provider_order_id == bank_order["mdOrder"], (attempt, bank_order["mdOrder"])
    assert attempt.order_number == bank_order["orderNumber"], (attempt, bank_order["orderNumber"])
    assert attempt.status == "paid", attempt
    assert attempt.amount_minor == bank_order["amount"], (attempt.amount_minor, bank_order["amount"])


@then("the bank order leads back to the Ecwid order id")
def bank_to_ecwid(
    order_under_test: EcwidOrderUnderTest, control: SimulatorControl, gateway_state: GatewayState
) -> None:
    bank_order = control.bank_order(order_under_test.md_order)
    # What a person at the bank sees: the description the gateway registered names the Ecwid order.
    assert bank_order["description"] == f"Order {order_under_test.order_id}", bank_order["description"]
    # What the gateway finds from the bank's reference alone (a callback, a bank statement line).
    attempt = gateway_state.attempt_by_order_number(bank_order["orderNumber"])
    assert attempt is not None, f"the gateway has no attempt {bank_order['orderNumber']}"
    assert attempt.ecwid_order_id == order_under_test.order_id, attempt
    assert attempt.provider_order_id == bank_order["mdOrder"], attempt


@then(parsers.parse('the bank registered exactly {minor:d} minor units in currency "{numeric}"'))
def bank_amount_exact(
    order_under_test: EcwidOrderUnderTest, control: SimulatorControl, minor: int, numeric: str
) -> None:
    bank_order = control.bank_order(order_under_test.md_order)
    assert (bank_order["amount"], bank_order["currency"]) == (minor, numeric), (
        bank_order["amount"],
        bank_order["currency"],
    )
    info = bank_order["paymentAmountInfo"]
    assert (info["approvedAmount"], info["depositedAmount"]) == (minor, minor), info
    assert bank_order["orderStatus"] == 2, bank_order["orderStatus"]


@then(parsers.parse("the gateway's attempt is paid for exactly {minor:d} minor units"))
def attempt_amount_exact(order_under_test: EcwidOrderUnderTest, gateway_state: GatewayState, minor: int) -> None:
    attempt = _attempt(gateway_state, order_under_test.order_id, order_under_test.md_order)
    assert attempt.status == "paid", attempt
    assert attempt.amount_minor == minor and attempt.deposited_minor == minor, attempt


@then("the gateway opened no operator exception for the order")
def no_exception(order_under_test: EcwidOrderUnderTest, gateway_state: GatewayState) -> None:
    assert gateway_state.exceptions(order_under_test.order_id) == []


# --- Then: an amount the bank reports differently ---------------------------------------------------------------


@then("the customer is back at checkout, not on a thank-you page")
def back_at_checkout_unpaid(shopper: Shopper) -> None:
    page = shopper.page
    expect(page.get_by_test_id("checkout")).to_be_visible()
    expect(page.get_by_test_id("checkout-error")).to_be_visible()
    expect(page.get_by_test_id("thank-you")).to_have_count(0)


@then(parsers.parse('the gateway opened an operator exception "{code}" for the attempt saying "{says}"'))
def exception_for_attempt(
    order_under_test: EcwidOrderUnderTest, gateway_state: GatewayState, code: str, says: str
) -> None:
    attempt = _attempt(gateway_state, order_under_test.order_id, order_under_test.md_order)

    def probe() -> list[Any] | None:
        found = [
            row
            for row in gateway_state.open_exceptions(order_under_test.order_id)
            if row.code == code and row.attempt_order_number == attempt.order_number
        ]
        return found or None

    found = wait_for(probe, f"an open {code} operator exception for attempt {attempt.order_number}", WAIT_S)
    assert len(found) == 1, found
    assert says in found[0].detail, found[0].detail


@then("the attempt is not paid, also after the gateway's poller asked the bank again")
def attempt_stays_unpaid(
    order_under_test: EcwidOrderUnderTest,
    control: SimulatorControl,
    gateway_state: GatewayState,
    customer_back: CustomerBack,
) -> None:
    md_order = order_under_test.md_order
    wait_for(
        lambda: (
            [
                e
                for e in control.journal(since=customer_back.mark)
                if e["operation"] == STATUS_CHECK and e["params"].get("orderId") == md_order
            ]
            or None
        ),
        f"the gateway's poller asked the bank about {md_order} again",
        40,
    )
    attempt = _attempt(gateway_state, order_under_test.order_id, md_order)
    assert attempt.status not in PAID_STATES, attempt
    assert attempt.session_ecwid_status != "PAID", attempt
    assert control.bank_order(md_order)["orderStatus"] == 2  # the money did move at the bank: a person must act


@then("Ecwid was never told PAID, not even in a refused update")
def never_paid_anywhere(order_under_test: EcwidOrderUnderTest, ecwid: EcwidControl) -> None:
    found = ecwid.history(order_under_test.order_id)
    assert found["paymentStatus"] != "PAID", found["paymentStatus"]
    told = [h for h in found["history"] if h["fields"].get("paymentStatus") == "PAID"]
    assert told == [], told


# --- Then: Ecwid failing ----------------------------------------------------------------------------------------


@then(
    parsers.parse(
        "the customer ends on the store's thank-you page within {seconds:d} seconds, "
        "after the gateway's processing page if Ecwid was still failing"
    )
)
def thank_you_eventually(shopper: Shopper, evidence: ScenarioEvidence, seconds: int) -> None:
    page = shopper.page
    # The processing page refreshes back to the gateway's return until Ecwid has the status; expect() follows it.
    expect(page.get_by_test_id("thank-you")).to_be_visible(timeout=seconds * 1000)
    expect(page.get_by_test_id("payment-status")).to_contain_text("PAID")
    evidence.page(page, "store: thank-you page (PAID)")


@then(
    parsers.parse("Ecwid refused the first {count:d} updates with HTTP {status:d} and then accepted PAID exactly once")
)
def refused_then_accepted(
    order_under_test: EcwidOrderUnderTest, ecwid: EcwidControl, ecwid_fault: EcwidFault, count: int, status: int
) -> None:
    history = _history(ecwid, order_under_test.order_id)
    refused = [h for h in history if not h["accepted"]]
    accepted = [h for h in history if h["accepted"]]
    assert len(refused) == count, history
    assert all(h["httpStatus"] == status and h["fault"] == ecwid_fault.fault_id for h in refused), refused
    assert all(h["fields"].get("paymentStatus") == "PAID" for h in refused), refused  # the same update, retried
    assert [h["newPaymentStatus"] for h in accepted] == ["PAID"], accepted
    assert max(h["seq"] for h in refused) < accepted[0]["seq"], history
    fault = ecwid.fault(ecwid_fault.fault_id)
    assert (fault["fired"], fault["remaining"]) == (count, 0), fault


# --- Then: stale attempts ---------------------------------------------------------------------------------------


@then("the new tab ends on the store's thank-you page")
def second_tab_thank_you(second_tab: SecondTab) -> None:
    expect(second_tab.page.get_by_test_id("thank-you")).to_be_visible()


def _journal(control: SimulatorControl, since: int, operation: str, md_order: str) -> list[dict[str, Any]]:
    return [
        e
        for e in control.journal(since=since)
        if e["operation"] == operation and e["params"].get("orderId") == md_order
    ]


@then("the gateway declined the first bank order with decline.do before it registered the second")
def declined_before_second(stale_tab: StaleTab, second_tab: SecondTab, control: SimulatorControl) -> None:
    declines = _journal(control, stale_tab.mark, "decline.do", stale_tab.md_order)
    assert [e["status"] for e in declines] == [200], [e["summary"] for e in declines]
    registers = [e for e in control.journal(since=stale_tab.mark) if e["operation"] == "register.do"]
    second_number = control.bank_order(second_tab.md_order)["orderNumber"]
    second_register = [e for e in registers if e["params"].get("orderNumber") == second_number]
    assert len(second_register) == 1, [e["summary"] for e in registers]
    assert declines[0]["seq"] < second_register[0]["seq"], "the second bank order came before the decline"
    operations = [op["operation"] for op in control.bank_order(stale_tab.md_order)["operations"]]
    assert any("decline" in op for op in operations), operations


@then("the gateway asked the bank to decline the first bank order and the bank refused")
def decline_refused(stale_tab: StaleTab, control: SimulatorControl) -> None:
    declines = _journal(control, stale_tab.mark, "decline.do", stale_tab.md_order)
    assert declines, "the gateway never asked the bank to decline the stale order"
    assert {e["status"] for e in declines} == {404}, [e["summary"] for e in declines]


@then(parsers.parse("within {seconds:d} seconds the gateway's worker declined the bank order with decline.do"))
def worker_declined(stale_tab: StaleTab, control: SimulatorControl, seconds: int) -> None:
    declines = wait_for(
        lambda: (
            [e for e in _journal(control, stale_tab.mark, "decline.do", stale_tab.md_order) if e["status"] == 200]
            or None
        ),
        f"decline.do for {stale_tab.md_order}",
        seconds,
    )
    assert len(declines) == 1, [e["summary"] for e in declines]
    registers = [e for e in control.journal(since=stale_tab.mark) if e["operation"] == "register.do"]
    assert registers == [], "the worker's decline is not a customer's new start"


@then(parsers.parse("the first bank order has orderStatus {first:d} and the second orderStatus {second:d}"))
def both_bank_orders(
    stale_tab: StaleTab, second_tab: SecondTab, control: SimulatorControl, first: int, second: int
) -> None:
    def probe() -> tuple[int, int] | None:
        found = (
            int(control.bank_order(stale_tab.md_order)["orderStatus"]),
            int(control.bank_order(second_tab.md_order)["orderStatus"]),
        )
        return found if found == (first, second) else None

    try:
        wait_for(probe, f"bank orders at {first} and {second}", 10)
    except AssertionError:
        raise AssertionError(
            f"bank orders: first {control.bank_order(stale_tab.md_order)['orderStatus']}, "
            f"second {control.bank_order(second_tab.md_order)['orderStatus']}"
        ) from None


@then(parsers.parse("the first bank order has orderStatus {status:d}"))
def first_bank_order(stale_tab: StaleTab, control: SimulatorControl, status: int) -> None:
    assert control.bank_order(stale_tab.md_order)["orderStatus"] == status


@then("the first tab's bank page refuses the payment")
def stale_page_refused(stale_tab: StaleTab) -> None:
    page = stale_tab.page
    message = page.get_by_test_id("message")
    expect(message).to_be_visible()
    expect(message).to_have_attribute("data-message", "already_processed")
    expect(page.locator("#card-form")).to_have_count(0)
    expect(page.get_by_test_id("thank-you")).to_have_count(0)


@then("the first bank order still has orderStatus 6 and took no payment")
def stale_order_unpaid(stale_tab: StaleTab, control: SimulatorControl) -> None:
    order = control.bank_order(stale_tab.md_order)
    assert order["orderStatus"] == 6, order["orderStatus"]
    info = order["paymentAmountInfo"]
    assert (info["approvedAmount"], info["depositedAmount"]) == (0, 0), info
    assert order["paidAt"] is None, order["paidAt"]
    assert not (order["cardAuthInfo"] or {}).get("approvalCode"), order["cardAuthInfo"]


@then("Ecwid accepted PAID exactly once and never went back from it")
def paid_once_no_regression(order_under_test: EcwidOrderUnderTest, ecwid: EcwidControl) -> None:
    history = _history(ecwid, order_under_test.order_id)
    statuses = [h["newPaymentStatus"] for h in history if h["accepted"] and "paymentStatus" in h["fields"]]
    assert statuses.count("PAID") == 1, history
    assert all(s == "PAID" for s in statuses[statuses.index("PAID") :]), statuses


@then(parsers.parse('the gateway\'s first attempt is "{first}" and the second "{second}"'))
def attempt_statuses(
    order_under_test: EcwidOrderUnderTest, gateway_state: GatewayState, first: str, second: str
) -> None:
    attempts = gateway_state.attempts(order_under_test.order_id)
    assert [(a.attempt_no, a.status) for a in attempts] == [(1, first), (2, second)], attempts


@then(parsers.parse('the gateway\'s only attempt is "{status}"'))
def only_attempt(order_under_test: EcwidOrderUnderTest, gateway_state: GatewayState, status: str) -> None:
    attempts = gateway_state.attempts(order_under_test.order_id)
    assert [(a.attempt_no, a.status) for a in attempts] == [(1, status)], attempts


@then(
    parsers.parse(
        'within {seconds:d} seconds the gateway opened an operator exception "{code}" for the first attempt '
        "naming the second"
    )
)
def exception_names_both(
    order_under_test: EcwidOrderUnderTest,
    stale_tab: StaleTab,
    second_tab: SecondTab,
    gateway_state: GatewayState,
    seconds: int,
    code: str,
) -> None:
    first = _attempt(gateway_state, order_under_test.order_id, stale_tab.md_order)
    second = _attempt(gateway_state, order_under_test.order_id, second_tab.md_order)
    found = wait_for(
        lambda: [row for row in gateway_state.open_exceptions(order_under_test.order_id) if row.code == code] or None,
        f"an open {code} operator exception for {order_under_test.order_id}",
        seconds,
    )
    assert len(found) == 1, found
    assert found[0].attempt_order_number == first.order_number, found[0]
    assert first.order_number in found[0].detail and second.order_number in found[0].detail, found[0].detail
    others = [row for row in gateway_state.open_exceptions(order_under_test.order_id) if row.code != code]
    assert others == [], others  # the double charge is named as such, not hidden among other exceptions
