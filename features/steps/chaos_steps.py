"""Steps of the chaos features: callbacks early, late, never, duplicated or out of order (RC-07..RC-11), and a bank
that fails at registration (RC-26). They reach the system over HTTP only: the browser, the gateway's URLs and the
simulator's control API (``features/support/chaos_control.py``). State they produce travels by ``target_fixture``;
the page and the order made by the shared steps are requested by name (``shopper``, ``order_under_test``), the
journal mark and the bank's earlier orders from ``baseline``.

Every per-order callback rule and every fault a scenario sets is undone when it ends (the ``chaos`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from pytest_bdd import given, parsers, then, when

from features.steps.common_steps import order_in_store
from features.support.chaos_control import ChaosControl, wait_until
from features.support.control import SimulatorControl
from features.support.evidence import ScenarioEvidence
from features.support.state import Baseline, EcwidOrderUnderTest, FailedRegistration, PayAnswer, ScenarioState, Shopper

STATUS_CHECK = "getOrderStatusExtended.do"


@pytest.fixture
def chaos(control: SimulatorControl) -> Iterator[ChaosControl]:
    own = ChaosControl(control)
    yield own
    own.cleanup()


def _ecwid_order(order_under_test: EcwidOrderUnderTest, control: SimulatorControl) -> Any:
    return control.order(order_under_test.order_id)


def _callback_entries(chaos: ChaosControl, baseline: Baseline, md_order: str) -> list[dict[str, Any]]:
    return [
        e
        for e in chaos.journal(since=baseline.mark)
        if e["operation"] == "callback" and e["params"].get("mdOrder") == md_order and e["status"] is not None
    ]


def _paid_puts(chaos: ChaosControl, baseline: Baseline, md_order: str) -> list[dict[str, Any]]:
    return [
        e
        for e in chaos.journal(since=baseline.mark)
        if e["service"] == "ecwid"
        and e["method"] == "PUT"
        and e["params"].get("paymentStatus") == "PAID"
        and e["params"].get("externalTransactionId") == md_order
    ]


# --- Given / When: callback rules of the order ----------------------------------------------------------------


@given("the bank sends the order's callbacks immediately")
@when("the bank sends the order's callbacks immediately")
def callbacks_immediate(order_under_test: EcwidOrderUnderTest, chaos: ChaosControl) -> None:
    chaos.set_order_rules(order_under_test.md_order, mode="immediate")


@given("the bank holds the order's callbacks")
@when("the bank holds the order's callbacks")
def callbacks_held(order_under_test: EcwidOrderUnderTest, chaos: ChaosControl) -> None:
    chaos.set_order_rules(order_under_test.md_order, mode="hold")


@given(parsers.parse("the bank delays the order's callbacks by {seconds:d} seconds"))
@when(parsers.parse("the bank delays the order's callbacks by {seconds:d} seconds"))
def callbacks_delayed(order_under_test: EcwidOrderUnderTest, chaos: ChaosControl, seconds: int) -> None:
    chaos.set_order_rules(order_under_test.md_order, mode="after_return", delaySeconds=seconds)


@given("the bank will never send the order's callbacks")
@when("the bank will never send the order's callbacks")
def callbacks_never(order_under_test: EcwidOrderUnderTest, chaos: ChaosControl) -> None:
    chaos.set_order_rules(order_under_test.md_order, mode="none")


@given(parsers.parse("the bank sends each of the order's callbacks {times:d} times at once"))
@when(parsers.parse("the bank sends each of the order's callbacks {times:d} times at once"))
def callbacks_duplicated(order_under_test: EcwidOrderUnderTest, chaos: ChaosControl, times: int) -> None:
    chaos.set_order_rules(order_under_test.md_order, times=times, concurrent=True)


# --- When: paying without returning, late and injected callbacks ----------------------------------------------


@when(
    parsers.parse('the customer pays with card "{pan}" on the bank page and closes the tab before returning'),
    target_fixture="payment",
)
def pay_and_close_tab(order_under_test: EcwidOrderUnderTest, chaos: ChaosControl, pan: str) -> Any:
    paid = chaos.pay(order_under_test.md_order, pan)
    assert paid["orderStatus"] == 2, paid
    return paid  # the redirect it holds is never followed: the customer is gone


@when(
    parsers.parse('the bank also signs a "{operation}" callback with status {status:d} for the order'),
    target_fixture="injected",
)
def inject_callback(order_under_test: EcwidOrderUnderTest, chaos: ChaosControl, operation: str, status: int) -> Any:
    return chaos.inject_callback(order_under_test.md_order, operation, status)


@when(parsers.parse("the held callbacks are released with {first} first"), target_fixture="released")
def release_in_order(
    order_under_test: EcwidOrderUnderTest, chaos: ChaosControl, payment: Any, injected: Any, first: str
) -> Any:
    paid_ids = [int(i) for i in payment["callback"]["callbackIds"]]
    injected_ids = [int(i) for i in injected["callbackIds"]]
    assert paid_ids and injected_ids, (payment["callback"], injected)
    if first == "the deposit":
        ids = paid_ids + injected_ids
    elif first == "the decline":
        ids = injected_ids + paid_ids
    else:
        raise AssertionError(first)
    answer = chaos.release(order_under_test.md_order, ids)
    return ids, answer


@when("the late callback reaches the gateway", target_fixture="late_callback_since")
def late_callback_arrives(order_under_test: EcwidOrderUnderTest, baseline: Baseline, chaos: ChaosControl) -> int:
    """Returns the journal position just before the late callback was let go."""
    md_order = order_under_test.md_order
    since: int = max((e["seq"] for e in chaos.journal(since=baseline.mark)), default=0)
    if any(c["state"] == "held" for c in chaos.order_callbacks(md_order)):
        chaos.release(md_order)
    wait_until(
        lambda: not chaos.pending_callbacks(md_order) and chaos.sent_callbacks(md_order),
        30,
        "the order's late callback was sent",
    )
    return since


# --- Then: callbacks ------------------------------------------------------------------------------------------


@then("the bank's callback reached the gateway before the customer returned")
def callback_before_return(order_under_test: EcwidOrderUnderTest, baseline: Baseline, chaos: ChaosControl) -> None:
    md_order = order_under_test.md_order
    entries = chaos.journal(since=baseline.mark)
    delivered = [
        e
        for e in entries
        if e["operation"] == "callback" and e["params"].get("mdOrder") == md_order and e["status"] == 200
    ]
    returns = [
        e
        for e in entries
        if e["service"] == "store"
        and e["operation"] == "return"
        and f"order={order_under_test.order_id}" in e["summary"]
    ]
    assert delivered, "no callback of the order was delivered"
    assert returns, "the customer's return to the store is not in the journal"
    assert delivered[0]["seq"] < returns[0]["seq"], (delivered[0], returns[0])
    # The callback is journaled when the gateway has answered it: its PAID update is inside the exchange.
    paid = _paid_puts(chaos, baseline, md_order)
    assert paid and paid[0]["seq"] < returns[0]["seq"], "Ecwid was not PAID when the customer came back"


@then("no callback of the order had reached the gateway when Ecwid was set to PAID")
def paid_before_callback(order_under_test: EcwidOrderUnderTest, baseline: Baseline, chaos: ChaosControl) -> None:
    md_order = order_under_test.md_order
    paid = _paid_puts(chaos, baseline, md_order)
    assert paid, "no PAID update reached Ecwid"
    callbacks = _callback_entries(chaos, baseline, md_order)
    assert all(e["seq"] > paid[0]["seq"] for e in callbacks), "a callback reached the gateway before the PAID update"
    assert not chaos.sent_callbacks(md_order) or all(
        a["at"] >= paid[0]["at"] for c in chaos.sent_callbacks(md_order) for a in c["attempts"]
    )


@then("the gateway answered 200 to every callback of the order")
def every_callback_200(order_under_test: EcwidOrderUnderTest, chaos: ChaosControl) -> None:
    sent = chaos.sent_callbacks(order_under_test.md_order)
    assert sent, "no callback of the order was sent"
    statuses = [a["httpStatus"] for c in sent for a in c["attempts"]]
    assert statuses and set(statuses) == {200}, statuses
    assert {c["state"] for c in sent} == {"delivered"}, [c["state"] for c in sent]


@then(parsers.parse("{count:d} callbacks of the order were sent and the gateway answered 200 to each"))
def n_callbacks_200(order_under_test: EcwidOrderUnderTest, chaos: ChaosControl, count: int) -> None:
    sent = chaos.sent_callbacks(order_under_test.md_order)
    assert len(sent) == count, [(c["id"], c["state"]) for c in sent]
    assert len({c["params"]["checksum"] for c in sent}) == 1, "the copies are not identical"
    every_callback_200(order_under_test, chaos)


@then("no callback of the order was sent")
def no_callback_sent(order_under_test: EcwidOrderUnderTest, baseline: Baseline, chaos: ChaosControl) -> None:
    md_order = order_under_test.md_order
    assert chaos.sent_callbacks(md_order) == []
    assert _callback_entries(chaos, baseline, md_order) == []


@then("the late callback cost the gateway no bank call")
def late_callback_no_bank_call(
    order_under_test: EcwidOrderUnderTest, chaos: ChaosControl, late_callback_since: int
) -> None:
    md_order = order_under_test.md_order
    after = [e for e in chaos.journal(since=late_callback_since) if e["operation"] == STATUS_CHECK]
    about_this = [e for e in after if e["params"].get("orderId") == md_order]
    assert about_this == [], [e["summary"] for e in about_this]


@then("every released callback was delivered in that order and the gateway answered 200 to each")
def released_delivered(
    order_under_test: EcwidOrderUnderTest, baseline: Baseline, chaos: ChaosControl, released: Any
) -> None:
    ids, _ = released
    md_order = order_under_test.md_order
    delivered = [e for e in _callback_entries(chaos, baseline, md_order) if e["status"] == 200]
    by_id = {c["id"]: c for c in chaos.order_callbacks(md_order)}
    assert all(by_id[i]["state"] == "delivered" for i in ids), [(i, by_id[i]["state"]) for i in ids]
    first_attempts = sorted(ids, key=lambda i: by_id[i]["attempts"][0]["at"])
    assert first_attempts == ids, (first_attempts, ids)
    assert len(delivered) >= len(ids)


# --- Then: Ecwid ----------------------------------------------------------------------------------------------


@then(parsers.parse('within {seconds:d} seconds the Ecwid order is "{status}"'))
def ecwid_status_within(
    order_under_test: EcwidOrderUnderTest, control: SimulatorControl, seconds: int, status: str
) -> None:
    wait_until(
        lambda: _ecwid_order(order_under_test, control)["paymentStatus"] == status,
        seconds,
        f"the Ecwid order is {status}",
    )


@then("Ecwid was set to PAID exactly once")
def paid_exactly_once(
    order_under_test: EcwidOrderUnderTest, baseline: Baseline, control: SimulatorControl, chaos: ChaosControl
) -> None:
    order = _ecwid_order(order_under_test, control)
    assert order["paymentStatus"] == "PAID"
    paid_updates = [h for h in order["history"] if h["fields"].get("paymentStatus") == "PAID"]
    assert len(paid_updates) == 1, order["history"]
    assert len(_paid_puts(chaos, baseline, order_under_test.md_order)) == 1


@then("the Ecwid order never went back from PAID")
def never_regressed(order_under_test: EcwidOrderUnderTest, control: SimulatorControl) -> None:
    statuses = [
        h["fields"]["paymentStatus"]
        for h in _ecwid_order(order_under_test, control)["history"]
        if "paymentStatus" in h["fields"]
    ]
    assert "PAID" in statuses, statuses
    assert all(s == "PAID" for s in statuses[statuses.index("PAID") :]), statuses


@then("the gateway asked the bank for the order's status before setting it PAID")
def status_before_paid(order_under_test: EcwidOrderUnderTest, baseline: Baseline, chaos: ChaosControl) -> None:
    md_order = order_under_test.md_order
    paid = _paid_puts(chaos, baseline, md_order)
    assert len(paid) == 1, paid
    checks = [
        e
        for e in chaos.journal(since=baseline.mark)
        if e["operation"] == STATUS_CHECK and e["params"].get("orderId") == md_order and e["seq"] < paid[0]["seq"]
    ]
    assert checks, "the gateway set PAID without asking the bank"
    assert "orderStatus 2" in checks[-1]["summary"], checks[-1]["summary"]


@then(parsers.parse("the bank order is still {state}"))
def bank_order_state(order_under_test: EcwidOrderUnderTest, control: SimulatorControl, state: str) -> None:
    expected = {"deposited": 2, "unpaid": 0}[state]
    assert control.bank_order(order_under_test.md_order)["orderStatus"] == expected


# --- RC-26: the bank fails at registration ----------------------------------------------------------------------

FAULTS: dict[str, dict[str, Any]] = {
    "an HTTP 503": {"fault": "http_503"},
    "errorCode 7": {"fault": "error_7"},
    "a malformed answer": {"fault": "malformed_json"},
    "a dropped connection": {"fault": "drop"},
    "its answer lost after registering": {"fault": "drop", "afterApply": True},
    "no answer for 12 seconds": {"fault": "hang", "seconds": 12},
    "a 2 second delay": {"fault": "slow", "seconds": 2},
}


@given(parsers.parse("the bank's next registration fails with {fault}"), target_fixture="register_fault")
@given(parsers.parse("the bank's next registration answers after {fault}"), target_fixture="register_fault")
def register_fault(chaos: ChaosControl, fault: str) -> Any:
    return chaos.add_fault(method="register.do", times=1, **FAULTS[fault])


@when(parsers.parse('the customer orders {quantity:d} "{product}" and tries to pay'), target_fixture="order_under_test")
def order_and_try_to_pay(
    shopper: Shopper, scenario_state: ScenarioState, evidence: ScenarioEvidence, quantity: int, product: str
) -> EcwidOrderUnderTest:
    """The order, with what the gateway answered when the store sent the customer to pay (``pay_answer``)."""
    page, order_id = order_in_store(shopper, evidence, quantity, product)
    with page.expect_response(lambda r: "/ecwid/payment" in r.url, timeout=40_000) as answer:
        page.click("#pay-button", no_wait_after=True)
    page.wait_for_load_state(timeout=40_000)
    ordered = EcwidOrderUnderTest(order_id=order_id, pay_answer=PayAnswer(answer.value.status, page.url))
    scenario_state.register(ordered)
    return ordered


def _pay_answer(order_under_test: EcwidOrderUnderTest) -> PayAnswer:
    assert order_under_test.pay_answer is not None, "the customer was not sent to pay from the store"
    return order_under_test.pay_answer


@then(parsers.parse('the customer sees the bank-unavailable page saying "{text}"'))
def bank_unavailable_page(shopper: Shopper, order_under_test: EcwidOrderUnderTest, text: str) -> None:
    pay_answer = _pay_answer(order_under_test)
    assert pay_answer.status == 503, pay_answer
    page = shopper.page
    expect(page.get_by_test_id("gateway-error")).to_contain_text(text)
    expect(page.locator("#back-to-store")).to_be_visible()


@then("the customer is on the bank payment page")
def on_bank_payment_page(shopper: Shopper, order_under_test: EcwidOrderUnderTest) -> None:
    pay_answer = _pay_answer(order_under_test)
    expect(shopper.page.locator("#card-form")).to_be_visible()
    assert pay_answer.status == 303, pay_answer


@then(
    parsers.parse("the bank holds {lost} and the gateway left no registration open"),
    target_fixture="failed_registration",
)
def nothing_left_open(
    baseline: Baseline,
    scenario_state: ScenarioState,
    control: SimulatorControl,
    chaos: ChaosControl,
    register_fault: Any,
    lost: str,
) -> FailedRegistration:
    fault = chaos.fault(int(register_fault["id"]))
    assert fault["fired"] == 1 and fault["remaining"] == 0, fault
    new_orders = [o for o in control.bank_orders() if o["mdOrder"] not in baseline.bank_before]
    registers = [e for e in chaos.journal(since=baseline.mark) if e["operation"] == "register.do"]
    assert len(registers) == 1, [e["summary"] for e in registers]  # the gateway did not hammer the bank
    order_number = registers[0]["params"]["orderNumber"]
    lost_md_order: str | None = None
    if lost == "no order":
        assert new_orders == [], new_orders
    elif lost == "only the lost order, unpaid":
        assert [o["orderNumber"] for o in new_orders] == [order_number]
        assert new_orders[0]["orderStatus"] == 0
        lost_md_order = new_orders[0]["mdOrder"]
        # The gateway looked for the order whose answer it never got, by its orderNumber, and settled it.
        lookups = [
            e
            for e in chaos.journal(since=registers[0]["seq"])
            if e["operation"] == STATUS_CHECK and e["params"].get("orderNumber") == order_number
        ]
        assert lookups, "the gateway never looked for the lost order by orderNumber"
    else:
        raise AssertionError(lost)
    failed = FailedRegistration(order_number, lost_md_order)
    scenario_state.register(failed)
    return failed


@when("the customer goes back to the store")
def back_to_store(shopper: Shopper) -> None:
    page = shopper.page
    page.click("#back-to-store")
    page.wait_for_load_state()
    expect(page.get_by_test_id("checkout")).to_be_visible()


@then("the payment was registered anew and the failed registration stays unpaid")
def registered_anew(
    baseline: Baseline, failed_registration: FailedRegistration, control: SimulatorControl, chaos: ChaosControl
) -> None:
    registers = [e for e in chaos.journal(since=baseline.mark) if e["operation"] == "register.do"]
    assert len(registers) == 2, [e["summary"] for e in registers]
    assert registers[1]["params"]["orderNumber"] != failed_registration.order_number
    new_orders = [o for o in control.bank_orders() if o["mdOrder"] not in baseline.bank_before]
    paid = [o for o in new_orders if o["orderStatus"] == 2]
    assert [o["orderNumber"] for o in paid] == [registers[1]["params"]["orderNumber"]], new_orders
    if failed_registration.lost_md_order is not None:
        assert control.bank_order(failed_registration.lost_md_order)["orderStatus"] == 0
