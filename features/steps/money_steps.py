"""Steps of the money features: refunds and reversals (RC-19, RC-20, RC-21, RC-31), two-phase payments (RC-29) and
the operator console's exceptions and reconciliation (RC-17, RC-28).

The operator works in the real browser through ``features/support/console.py`` (every console page they see is a
page of ``browser_factory``, so it is screenshotted as evidence); the checks read server-side truth through
``features/support/money_control.py``: the bank's order (orderStatus, paymentAmountInfo, refunds[]), the bank's
journal of refund.do / reverse.do calls, the Ecwid order's PUT history (accepted and refused), and read-only the
gateway's own records (attempt, refund records, operator exceptions) where the console shows them only as text.

State travels as typed objects with ``target_fixture``: ``operator`` (the console in the browser), ``outcome`` (what
the console said after the operator's last action), ``stale_tab`` (the same operator's second tab),
``ecwid_outage`` (an Ecwid fault to clear), ``day_payments`` (the day's payments the reconciliation is about),
``reconciliation`` (the report the operator opened). ``payment`` is the bank order of the customer's latest
attempt with the gateway's ids for it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_bdd import given, parsers, then, when

from features.steps.common_steps import fill_card_and_pay, order_in_store
from features.support.console import OperatorConsole, wait_until
from features.support.control import SimulatorControl
from features.support.evidence import ScenarioEvidence
from features.support.gateway_api import ConsoleApi
from features.support.money_control import (
    GatewayRecords,
    MoneyControl,
    accepted_statuses,
    amounts,
    statuses_ever_sent,
)
from features.support.state import Baseline, EcwidOrderUnderTest, ScenarioState, Shopper, md_order_of
from gateway.domain.money import Money
from lab import Lab
from lab.lab import STORE_ID

# --- state -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payment:
    """A payment the gateway registered at the bank: the bank order, and the gateway's ids for it."""

    store_id: int
    ecwid_order_id: str
    md_order: str
    order_number: str
    attempt_id: int
    session_id: int
    amount_minor: int
    currency: str

    def money(self, minor: int | None = None) -> str:
        return str(Money(self.amount_minor if minor is None else minor, self.currency))

    def evidence_values(self) -> Mapping[str, Any]:
        return {"order_id": self.ecwid_order_id, "mdOrder": self.md_order, "orderNumber": self.order_number}


@dataclass(frozen=True)
class Operator:
    """The operator signed in to the console, in their own browser page."""

    console: OperatorConsole

    def evidence_values(self) -> Mapping[str, Any]:
        return {}  # the page is watched by the evidence recorder itself


@dataclass(frozen=True)
class ConsoleOutcome:
    """What the console showed after the operator's last action: the flashed message (or the form's error)."""

    message: str

    def evidence_values(self) -> Mapping[str, Any]:
        return {}


@dataclass(frozen=True)
class EcwidOutage:
    """An Ecwid fault the scenario set up (its id, to clear it), and what it does."""

    fault_id: int
    kind: str

    def evidence_values(self) -> Mapping[str, Any]:
        return {}


@dataclass(frozen=True)
class DayPayments:
    """The payments of the day a reconciliation is about, by the role each plays."""

    by_role: Mapping[str, Payment] = field(default_factory=dict)

    def evidence_values(self) -> Mapping[str, Any]:
        return {role: dict(p.evidence_values()) for role, p in self.by_role.items()}


@dataclass(frozen=True)
class ReconciliationSeen:
    """The reconciliation report the operator opened: its day and the page."""

    day: str
    page: Page

    def evidence_values(self) -> Mapping[str, Any]:
        return {}


# --- fixtures --------------------------------------------------------------------------------------------------


@pytest.fixture
def money(control: SimulatorControl) -> Iterator[MoneyControl]:
    made = MoneyControl(control)
    yield made
    made.cleanup()


@pytest.fixture
def records(console_api: ConsoleApi) -> GatewayRecords:
    return GatewayRecords(console_api)


def payment_of(md_order: str, records: GatewayRecords) -> Payment:
    attempt = records.attempt(md_order)
    return Payment(
        store_id=attempt.store_id,
        ecwid_order_id=attempt.ecwid_order_id,
        md_order=md_order,
        order_number=attempt.order_number,
        attempt_id=attempt.attempt_id,
        session_id=attempt.session_id,
        amount_minor=attempt.amount_minor,
        currency=attempt.currency,
    )


@pytest.fixture
def payment(order_under_test: EcwidOrderUnderTest, records: GatewayRecords, scenario_state: ScenarioState) -> Payment:
    """The customer's latest attempt (the bank page they paid on), as the gateway registered it."""
    made = payment_of(order_under_test.attempt_md_order, records)
    scenario_state.register(made)
    return made


def _minor(text: str, payment: Payment) -> int:
    """'the whole amount' or '<major> <currency>' -> minor units of the payment's currency."""
    if text == "the whole amount":
        return payment.amount_minor
    major, currency = text.rsplit(" ", 1)
    assert currency == payment.currency, f"{text!r}: the payment is in {payment.currency}"
    return Money.from_major(major, currency).minor


def _ecwid_settles(money: MoneyControl, payment: Payment, status: str, seconds: float) -> list[dict[str, Any]]:
    def probe() -> list[dict[str, Any]] | None:
        history = money.ecwid_history(payment.store_id, payment.ecwid_order_id)
        order = money.ecwid_order(payment.store_id, payment.ecwid_order_id)
        return history if order["paymentStatus"] == status else None

    history: list[dict[str, Any]] = wait_until(
        probe, f"Ecwid order {payment.ecwid_order_id} is {status}", timeout_s=seconds
    )
    return history


# --- Given -----------------------------------------------------------------------------------------------------


@given("a customer shopping on a desktop browser in the store that holds payments", target_fixture="shopper")
def customer_in_held_store(
    baseline: Baseline, scenario_state: ScenarioState, browser_factory: Any, lab: Lab
) -> Shopper:
    shopper = Shopper(browser_factory("desktop"), "en")
    scenario_state.register(shopper)
    shopper.page.goto(lab.held_storefront_url)
    return shopper


@given("Ecwid refuses the store's API token as revoked until it is renewed", target_fixture="ecwid_outage")
def token_revoked(money: MoneyControl, scenario_state: ScenarioState, lab: Lab) -> EcwidOutage:
    # Every call of the shop's token is refused, GET and PUT alike, as when the merchant revoked the app's access.
    fault = money.add_ecwid_fault(fault="token_revoked", storeId=STORE_ID, token=lab.secrets.ecwid_token)
    outage = EcwidOutage(int(fault["id"]), "token_revoked")
    scenario_state.register(outage)
    return outage


@given(parsers.parse("a customer who paid {count:d} orders by card in the store today"), target_fixture="day_payments")
def paid_orders_today(
    baseline: Baseline,
    scenario_state: ScenarioState,
    browser_factory: Any,
    evidence: ScenarioEvidence,
    records: GatewayRecords,
    lab: Lab,
    count: int,
) -> DayPayments:
    page = browser_factory("desktop")
    shopper = Shopper(page, "en")
    scenario_state.register(shopper)
    roles = ("kept", "refunded", "changed in Ecwid")
    paid: dict[str, Payment] = {}
    for role, product in zip(roles[:count], ("Gata", "Lavash", "Apricot jam"), strict=False):
        page.goto(lab.storefront_url)
        order_in_store(shopper, evidence, 1, product)
        page.click("#pay-button")
        expect(page.locator("#card-form")).to_be_visible()
        md_order = md_order_of(page.url)
        fill_card_and_pay(page, "4242424242424242")
        expect(page.get_by_test_id("thank-you")).to_be_visible(timeout=30_000)
        evidence.page(page, f"store: thank-you page ({role})")
        paid[role] = payment_of(md_order, records)
    made = DayPayments(paid)
    scenario_state.register(made)
    return made


# --- When: the operator in the console -------------------------------------------------------------------------


@when("an operator signs in to the console", target_fixture="operator")
def operator_signs_in(
    browser_factory: Any, evidence: ScenarioEvidence, scenario_state: ScenarioState, lab: Lab
) -> Operator:
    console = OperatorConsole(browser_factory("desktop"), lab.console_url, evidence)
    console.sign_in(*lab.console_credentials)
    signed_in = Operator(console)
    scenario_state.register(signed_in)
    return signed_in


@when("the operator finds the payment by its Ecwid order id")
def operator_finds_payment(operator: Operator, payment: Payment) -> None:
    operator.console.find_payment(payment.ecwid_order_id)


def _money_action(
    operator: Operator, payment: Payment, scenario_state: ScenarioState, action: str, what: str
) -> ConsoleOutcome:
    """Press ``action``, type ``what`` ('the whole amount': leave the field empty; '<major> <currency>': the
    number), check the confirmation names the exact amount, and confirm."""
    console = operator.console
    console.start(action, payment.order_number)
    console.enter_amount("" if what == "the whole amount" else what.rsplit(" ", 1)[0])
    error = console.amount_error()
    assert error is None, f"the {action} form refused {what!r}: {error}"
    question = console.question()
    expected = payment.money(_minor(what, payment))
    assert expected in question, (expected, question)
    outcome = ConsoleOutcome(console.confirm())
    scenario_state.register(outcome)
    return outcome


@when("the operator refunds the whole amount and confirms", target_fixture="outcome")
def refund_whole(operator: Operator, payment: Payment, scenario_state: ScenarioState) -> ConsoleOutcome:
    operator.console.start("refund", payment.order_number)
    operator.console.enter_amount("")  # empty: the whole amount left, shown exactly on the confirmation
    assert payment.money() in operator.console.question(), operator.console.question()
    outcome = ConsoleOutcome(operator.console.confirm())
    scenario_state.register(outcome)
    return outcome


@when(parsers.re(r"the operator refunds (?P<what>[0-9.]+ [A-Z]{3}) and confirms"), target_fixture="outcome")
def refund_part(operator: Operator, payment: Payment, scenario_state: ScenarioState, what: str) -> ConsoleOutcome:
    return _money_action(operator, payment, scenario_state, "refund", what)


@when("the operator refunds what is left and confirms", target_fixture="outcome")
def refund_rest(
    operator: Operator, payment: Payment, money: MoneyControl, scenario_state: ScenarioState
) -> ConsoleOutcome:
    left = payment.amount_minor - amounts(money.bank_order(payment.md_order))["refunded"]
    operator.console.start("refund", payment.order_number)
    operator.console.enter_amount("")
    question = operator.console.question()
    assert payment.money(left) in question, (payment.money(left), question)
    outcome = ConsoleOutcome(operator.console.confirm())
    scenario_state.register(outcome)
    return outcome


@when(parsers.parse("the operator captures {what} and confirms"), target_fixture="outcome")
def capture(operator: Operator, payment: Payment, scenario_state: ScenarioState, what: str) -> ConsoleOutcome:
    return _money_action(operator, payment, scenario_state, "capture", what)


@when("the operator reverses the payment and confirms", target_fixture="outcome")
def reverse(operator: Operator, payment: Payment, scenario_state: ScenarioState) -> ConsoleOutcome:
    console = operator.console
    console.start("reverse", payment.order_number)  # a reverse has no amount: straight to the confirmation
    assert payment.money() in console.question(), console.question()
    outcome = ConsoleOutcome(console.confirm())
    scenario_state.register(outcome)
    return outcome


@when("the operator has the payment's reverse confirmation open in a second tab", target_fixture="stale_tab")
def reverse_in_second_tab(operator: Operator, payment: Payment, scenario_state: ScenarioState) -> Operator:
    tab = operator.console.second_tab()
    tab.start("reverse", payment.order_number)
    assert payment.money() in tab.question(), tab.question()
    second = Operator(tab)
    scenario_state.register(second)
    return second


@when("the operator has the payment's refund form open in a second tab", target_fixture="stale_tab")
def refund_form_in_second_tab(operator: Operator, payment: Payment, scenario_state: ScenarioState) -> Operator:
    tab = operator.console.second_tab()
    tab.start("refund", payment.order_number)
    expect(tab.page.locator("#amount")).to_be_visible()
    second = Operator(tab)
    scenario_state.register(second)
    return second


@when("the operator confirms the reverse in the second tab", target_fixture="outcome")
def confirm_in_second_tab(stale_tab: Operator, scenario_state: ScenarioState) -> ConsoleOutcome:
    outcome = ConsoleOutcome(stale_tab.console.confirm())
    scenario_state.register(outcome)
    return outcome


@when("the operator submits the second tab's refund form with the amount left empty", target_fixture="outcome")
def stale_refund_form(stale_tab: Operator, scenario_state: ScenarioState) -> ConsoleOutcome:
    # Nothing is left to refund: the console refuses at the form and never offers a confirmation of 0.00.
    stale_tab.console.enter_amount("")
    outcome = ConsoleOutcome(stale_tab.console.amount_error() or "")
    scenario_state.register(outcome)
    return outcome


@when(parsers.parse('the operator starts a refund and types "{typed}"'), target_fixture="outcome")
def refund_typed(operator: Operator, payment: Payment, scenario_state: ScenarioState, typed: str) -> ConsoleOutcome:
    operator.console.start("refund", payment.order_number)
    operator.console.enter_amount(typed)
    outcome = ConsoleOutcome(operator.console.amount_error() or "")
    scenario_state.register(outcome)
    return outcome


@when("the operator starts a refund and leaves the amount empty", target_fixture="outcome")
def refund_empty(operator: Operator, payment: Payment, scenario_state: ScenarioState) -> ConsoleOutcome:
    operator.console.start("refund", payment.order_number)
    operator.console.enter_amount("")
    outcome = ConsoleOutcome(operator.console.question())
    scenario_state.register(outcome)
    return outcome


@when("the operator cancels")
def operator_cancels(operator: Operator) -> None:
    operator.console.cancel()


@when("the bank will lose its answer to the payment's next refund.do after refunding")
def refund_answer_lost(payment: Payment, money: MoneyControl) -> None:
    money.add_bank_fault(method="refund.do", fault="http_503", afterApply=True, times=1, mdOrder=payment.md_order)


@when("the bank will accept the next refund and then fail it")
def refund_accepted_then_failed(money: MoneyControl) -> None:
    money.set_bank(failNextRefund=True)


@when("the operator opens the exceptions queue")
def open_queue(operator: Operator) -> None:
    operator.console.open_exceptions()


@when("the operator presses Retry on the payment's exception", target_fixture="outcome")
def press_retry(
    operator: Operator, payment: Payment, records: GatewayRecords, scenario_state: ScenarioState
) -> ConsoleOutcome:
    exception = _open_exception(records, payment)
    operator.console.page.reload()  # the queue as it is now
    outcome = ConsoleOutcome(operator.console.retry(exception.exception_id))
    scenario_state.register(outcome)
    return outcome


@when("the operator opens the payment from the queue")
def open_payment_from_queue(operator: Operator, payment: Payment) -> None:
    page = operator.console.page
    page.click("#nav-exceptions")
    page.click("#filter-all")
    link = page.locator(f"a.payment-link[href$='/payments/{payment.session_id}']").first
    link.click()
    expect(page.locator("#payment-title")).to_contain_text(payment.ecwid_order_id)


@when("the operator refunds the refunded payment in full from the console")
def refund_day_payment(operator: Operator, day_payments: DayPayments) -> None:
    refunded = day_payments.by_role["refunded"]
    console = operator.console
    console.find_payment(refunded.ecwid_order_id)
    console.start("refund", refunded.order_number)
    console.enter_amount("")
    assert refunded.money() in console.question()
    message = console.confirm()
    assert "Refund: completed" in message, message


@when(parsers.parse("the shop's staff set the third order to \"{status}\" by hand in Ecwid's admin"))
def changed_by_hand(day_payments: DayPayments, money: MoneyControl, lab: Lab, status: str) -> None:
    changed = day_payments.by_role["changed in Ecwid"]
    money.change_in_ecwid_admin(changed.store_id, changed.ecwid_order_id, lab.secrets.ecwid_token, paymentStatus=status)


@when("the store's API token is renewed at Ecwid")
def token_renewed(ecwid_outage: EcwidOutage, money: MoneyControl) -> None:
    money.clear_ecwid_fault(ecwid_outage.fault_id)


@when("the operator opens today's reconciliation in the console", target_fixture="reconciliation")
def open_reconciliation(
    operator: Operator, console_api: ConsoleApi, scenario_state: ScenarioState
) -> ReconciliationSeen:
    day = console_api.now().astimezone(UTC).date().isoformat()  # the gateway's day, by its own clock
    page = operator.console.open_reconciliation(day)
    seen = ReconciliationSeen(day, page)
    scenario_state.register(seen)
    return seen


# --- Then: the console -----------------------------------------------------------------------------------------


@then(parsers.parse('the console says "{text}"'))
def console_says(outcome: ConsoleOutcome, text: str) -> None:
    assert text in outcome.message, f"the console said {outcome.message!r}"


@then(parsers.parse('the refund form refuses it with "{text}"'))
def form_refuses(outcome: ConsoleOutcome, operator: Operator, text: str) -> None:
    assert outcome.message == text, f"the form said {outcome.message!r}"
    expect(operator.console.page.locator("#money-confirm")).to_have_count(0)


@then("the confirmation asks to refund the whole amount, not 0")
def confirmation_whole(outcome: ConsoleOutcome, payment: Payment) -> None:
    named = re.findall(r"(?<![0-9.])[0-9]+(?:\.[0-9]+)? [A-Z]{3}", outcome.message)
    assert named == [payment.money()], (named, outcome.message)


@then(parsers.parse("the console offers no {actions} for the payment any more"))
def no_actions(operator: Operator, payment: Payment, actions: str) -> None:
    operator.console.reload_payment()
    row = operator.console.attempt_row(payment.order_number)
    for action in actions.replace(" and ", ", ").replace(" or ", ", ").split(", "):
        expect(row.locator(f"a.money.{action.strip()}")).to_have_count(0)


@then(parsers.parse('the payment page shows the attempt "{state}" and Ecwid "{status}"'))
def payment_page_shows(operator: Operator, payment: Payment, state: str, status: str) -> None:
    console = operator.console
    console.reload_payment()
    assert console.attempt_state(payment.order_number) == state
    assert console.ecwid_status() == status


@then(parsers.parse('the queue shows the open exception "{code}" for the payment'))
def queue_shows(operator: Operator, payment: Payment, records: GatewayRecords, code: str) -> None:
    exception = _open_exception(records, payment, code)
    row = operator.console.exception_row(exception.exception_id)
    expect(row).to_be_visible()
    expect(row).to_have_class("open")
    expect(row.locator("code")).to_have_text(code)
    expect(row.locator("a.payment-link")).to_contain_text(f"#{payment.session_id}")


@then(parsers.parse('the payment\'s timeline shows the retry done by "{who}"'))
def timeline_shows_retry(operator: Operator, who: str) -> None:
    rows = operator.console.page.locator("#timeline tbody tr", has_text="exception_retry")
    expect(rows.first).to_be_visible()
    texts = rows.all_inner_texts()
    assert any(f"{who}: ecwid delivered=True" in t for t in texts), texts


@then(parsers.parse('the payment page shows the exception "{code}" resolved by "{who}"'))
def payment_page_resolved(operator: Operator, records: GatewayRecords, payment: Payment, code: str, who: str) -> None:
    found = [e for e in records.exceptions(payment.session_id) if e.code == code]
    assert found, f"no {code} exception for the payment"
    row = operator.console.page.locator(f"#payment-exceptions tr#exception-{found[-1].exception_id}")
    expect(row).to_have_class("resolved")
    expect(row).to_contain_text(f"resolved by {who}")


# --- Then: the bank --------------------------------------------------------------------------------------------


@then(parsers.parse("the bank has refunded {what} in {count:d} refund"))
@then(parsers.parse("the bank has refunded {what} in {count:d} refunds"))
def bank_refunded(payment: Payment, money: MoneyControl, records: GatewayRecords, what: str, count: int) -> None:
    order = money.bank_order(payment.md_order)
    got = amounts(order)
    assert got["refunded"] == _minor(what, payment), got
    assert got["deposited"] == payment.amount_minor, got  # never lowered by refunds
    refunds = order.get("refunds") or []
    assert len(refunds) == count, refunds
    assert all(r["status"] == "APPROVED" for r in refunds), refunds
    ours = {r.external_refund_id for r in records.refunds(payment.attempt_id)}
    assert {r.get("externalRefundId") for r in refunds} <= ours, (refunds, ours)
    assert order["orderStatus"] == 4, order["orderStatus"]


@then("the bank has refunded nothing")
def bank_refunded_nothing(payment: Payment, money: MoneyControl) -> None:
    order = money.bank_order(payment.md_order)
    assert amounts(order)["refunded"] == 0, amounts(order)
    assert [r for r in order.get("refunds") or [] if r["status"] == "APPROVED"] == []
    assert order["orderStatus"] == 2, order["orderStatus"]


@then("the bank lists the refund as FAILED and refunded nothing")
def bank_refund_failed(payment: Payment, money: MoneyControl) -> None:
    order = money.bank_order(payment.md_order)
    refunds = order.get("refunds") or []
    assert [r["status"] for r in refunds] == ["FAILED"], refunds
    assert amounts(order)["refunded"] == 0, amounts(order)
    assert order["orderStatus"] == 2, order["orderStatus"]


@then(parsers.parse("the bank was sent {operation} {count:d} times for the order"))
@then(parsers.parse("the bank was sent {operation} {count:d} time for the order"))
def bank_calls(baseline: Baseline, payment: Payment, money: MoneyControl, operation: str, count: int) -> None:
    calls = money.bank_calls(operation, payment.md_order, since=baseline.mark)
    assert len(calls) == count, [c["summary"] for c in calls]
    for call in calls:
        amount = call["params"].get("amount")
        assert amount is None or int(amount) > 0, f"{operation} sent amount {amount}: {call['summary']}"


@then("both refund.do calls carried the same externalRefundId")
def same_external_id(baseline: Baseline, payment: Payment, money: MoneyControl, records: GatewayRecords) -> None:
    calls = money.bank_calls("refund.do", payment.md_order, since=baseline.mark)
    ids = {c["params"].get("externalRefundId") for c in calls}
    ours = [r.external_refund_id for r in records.refunds(payment.attempt_id)]
    assert len(ours) == 1 and ids == set(ours), (ids, ours)


@then(parsers.parse("the bank order has orderStatus {status:d}"))
def bank_status(payment: Payment, money: MoneyControl, status: int) -> None:
    order = money.bank_order(payment.md_order)
    assert order["orderStatus"] == status, (order["orderStatus"], order.get("operations"))


@then("the bank holds the whole amount: orderStatus 1, approved and nothing deposited")
def bank_holds(payment: Payment, money: MoneyControl) -> None:
    order = money.bank_order(payment.md_order)
    assert order["orderStatus"] == 1, order["orderStatus"]
    got = amounts(order)
    assert (got["approved"], got["deposited"]) == (payment.amount_minor, 0), got


@then(parsers.parse("the bank has deposited {what}: orderStatus 2"))
def bank_deposited(payment: Payment, money: MoneyControl, what: str) -> None:
    order = money.bank_order(payment.md_order)
    assert order["orderStatus"] == 2, (order["orderStatus"], order.get("operations"))
    assert amounts(order)["deposited"] == _minor(what, payment), amounts(order)


@then("the bank released the hold: orderStatus 3, nothing deposited")
def bank_released(payment: Payment, money: MoneyControl) -> None:
    order = money.bank_order(payment.md_order)
    assert order["orderStatus"] == 3, (order["orderStatus"], order.get("operations"))
    assert amounts(order)["deposited"] == 0, amounts(order)


# --- Then: Ecwid -----------------------------------------------------------------------------------------------


@then(parsers.parse('within {seconds:d} seconds Ecwid\'s order is "{status}"'))
def ecwid_within(payment: Payment, money: MoneyControl, seconds: int, status: str) -> None:
    _ecwid_settles(money, payment, status, seconds)


@then(parsers.parse('Ecwid\'s order is "{status}"'))
def ecwid_now(payment: Payment, money: MoneyControl, status: str) -> None:
    assert money.ecwid_order(payment.store_id, payment.ecwid_order_id)["paymentStatus"] == status


@then(parsers.parse('Ecwid accepted the payment statuses "{statuses}" in that order'))
def ecwid_accepted(payment: Payment, money: MoneyControl, statuses: str) -> None:
    history = money.ecwid_history(payment.store_id, payment.ecwid_order_id)
    assert accepted_statuses(history) == [s.strip() for s in statuses.split(",")], history


@then(parsers.parse("Ecwid was never told {status}, not even in a refused update"))
def never_told(payment: Payment, money: MoneyControl, status: str) -> None:
    history = money.ecwid_history(payment.store_id, payment.ecwid_order_id)
    assert status not in statuses_ever_sent(history), history


@then(parsers.parse("Ecwid refused every update of the order with HTTP {code:d} and accepted none"))
def ecwid_refused_all(payment: Payment, money: MoneyControl, code: int) -> None:
    history = money.ecwid_history(payment.store_id, payment.ecwid_order_id)
    assert history, "the gateway sent Ecwid no update"
    assert all(not e["accepted"] and e["httpStatus"] == code for e in history), history


# --- Then: the gateway's records -------------------------------------------------------------------------------


@then(parsers.parse('the gateway\'s attempt is "{status}"'))
def attempt_is(payment: Payment, records: GatewayRecords, status: str) -> None:
    assert records.attempt(payment.md_order).status == status


@then(parsers.parse('the gateway\'s refund records of the payment are "{statuses}"'))
def refund_records(payment: Payment, records: GatewayRecords, statuses: str) -> None:
    got = [r.status for r in records.refunds(payment.attempt_id)]
    assert got == [s.strip() for s in statuses.split(",")], got
    assert all(r.requested_by == "qa" for r in records.refunds(payment.attempt_id))


@then(parsers.parse('within {seconds:d} seconds the gateway\'s refund records of the payment are "{statuses}"'))
def refund_records_within(payment: Payment, records: GatewayRecords, seconds: int, statuses: str) -> None:
    wanted = [s.strip() for s in statuses.split(",")]
    wait_until(
        lambda: [r.status for r in records.refunds(payment.attempt_id)] == wanted,
        f"the refund records are {wanted}: {records.refunds(payment.attempt_id)}",
        timeout_s=seconds,
    )


@then(parsers.parse('within {seconds:d} seconds the gateway opened an operator exception "{code}" for the payment'))
def exception_opened_within(payment: Payment, records: GatewayRecords, seconds: int, code: str) -> None:
    wait_until(
        lambda: _open_exceptions(records, payment, code),
        f"an open {code} exception for order {payment.ecwid_order_id}",
        timeout_s=seconds,
    )


@then(parsers.parse('the gateway has an open operator exception "{code}" for the payment'))
def exception_open(payment: Payment, records: GatewayRecords, code: str) -> None:
    assert _open_exceptions(records, payment, code), records.exceptions(payment.session_id)


@then(parsers.parse('the exception is resolved, by "{who}"'))
def exception_resolved(payment: Payment, records: GatewayRecords, who: str) -> None:
    found = records.exceptions(payment.session_id)
    assert found and not any(e.open for e in found), found
    assert {e.resolved_by for e in found} == {who}, found


def _open_exceptions(records: GatewayRecords, payment: Payment, code: str) -> list[Any]:
    return [e for e in records.exceptions(payment.session_id) if e.open and e.code == code]


def _open_exception(records: GatewayRecords, payment: Payment, code: str | None = None) -> Any:
    found = [e for e in records.exceptions(payment.session_id) if e.open and (code is None or e.code == code)]
    assert len(found) == 1, records.exceptions(payment.session_id)
    return found[0]


# --- Then: the reconciliation ----------------------------------------------------------------------------------


def _report_rows(reconciliation: ReconciliationSeen, table: str, order_id: str) -> list[str]:
    rows = reconciliation.page.locator(f"{table} tr", has_text=order_id)
    return rows.all_inner_texts()


@then(parsers.parse('the report lists the order changed in Ecwid as "{code}" with the action "{action}"'))
def report_mismatch(reconciliation: ReconciliationSeen, day_payments: DayPayments, code: str, action: str) -> None:
    changed = day_payments.by_role["changed in Ecwid"]
    rows = _report_rows(reconciliation, "#mismatches", changed.order_number)
    assert len(rows) == 1, rows
    assert code in rows[0] and action in rows[0], rows[0]


@then("the report lists the kept and the refunded payment as agreeing")
def report_agreeing(reconciliation: ReconciliationSeen, day_payments: DayPayments, evidence: ScenarioEvidence) -> None:
    reconciliation.page.locator("#agreeing summary").click()
    evidence.page(reconciliation.page, "console: reconciliation report, agreeing attempts opened")
    for role, state in (("kept", "paid"), ("refunded", "refunded")):
        payment = day_payments.by_role[role]
        assert _report_rows(reconciliation, "#mismatches", payment.order_number) == [], role
        rows = _report_rows(reconciliation, "#agreeing", payment.order_number)
        assert len(rows) == 1 and state in rows[0], (role, rows)


@then("the CSV of the day has these rows for the three orders:", target_fixture="csv_rows")
def csv_rows(
    operator: Operator,
    reconciliation: ReconciliationSeen,
    day_payments: DayPayments,
    tmp_path: Any,
    datatable: list[list[str]],
) -> list[dict[str, str]]:
    text = operator.console.download_reconciliation_csv(reconciliation.day, tmp_path)
    rows = list(csv.DictReader(io.StringIO(text)))
    header, *expected = datatable
    for line in expected:
        wanted = dict(zip(header, line, strict=True))
        payment = day_payments.by_role[wanted.pop("order")]
        mine = [r for r in rows if r["order_number"] == payment.order_number]
        assert len(mine) == 1, mine
        row = mine[0]
        assert row["ecwid_order_id"] == payment.ecwid_order_id and row["day"] == reconciliation.day, row
        for column, value in wanted.items():
            assert row[column] == value, (column, row)
    return rows


@then("the gateway has no refund record for the payment")
def no_refund_record(payment: Payment, records: GatewayRecords) -> None:
    assert records.refunds(payment.attempt_id) == []
