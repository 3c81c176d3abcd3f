"""Step definitions shared by all features. State travels as typed objects (``features/support/state.py``) that the
Given and When steps return through pytest-bdd's ``target_fixture``: ``shopper`` (the customer's page),
``order_under_test`` (the Ecwid order and its bank pages), ``gateway_answer`` / ``gateway_answers`` (HTTP answers),
``repeated_submit``; ``baseline`` (the journal mark and the bank's earlier orders) is a plain fixture. Every check
reads the outside world (simulator control API, HTTP answers, the page), never the gateway's internals.

Evidence: the page a step leaves the customer on is captured automatically (features/support/evidence.py); a step
that takes the customer through several pages names the ones in between with ``evidence.page(page, label)``."""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from pytest_bdd import given, parsers, then, when

from features.support.control import SimulatorControl
from features.support.ecwid_request import encrypt_cbc, encrypt_gcm, payload_for
from features.support.evidence import ScenarioEvidence
from features.support.gateway_api import ConsoleApi
from features.support.state import (
    Baseline,
    EcwidOrderUnderTest,
    GatewayAnswer,
    GatewayAnswers,
    RepeatedSubmit,
    ScenarioState,
    Shopper,
    md_order_of,
)
from lab import Lab

PRODUCT_SKUS = {"Apricot jam": "apricot-jam", "Gata": "gata", "Lavash": "lavash", "Duduk": "duduk"}


@pytest.fixture
def baseline(control: SimulatorControl, scenario_state: ScenarioState) -> Baseline:
    """The journal mark and the bank's orders before the scenario's first order (taken by the step that starts
    the scenario's story: a customer in the store, or an Ecwid order)."""
    taken = Baseline(control.journal_mark(), frozenset(o["mdOrder"] for o in control.bank_orders()))
    scenario_state.register(taken)
    return taken


@pytest.fixture(scope="session")
def console_api(lab: Lab) -> Iterator[ConsoleApi]:
    """An operator's session on our gateway's console JSON view (its records, time and timings): the lab's gateway
    and ours started elsewhere alike; another gateway has none (NOT APPLICABLE)."""
    lab.require_ours("its records (the operator console's JSON view)")
    api = ConsoleApi(lab.console_url, *lab.console_credentials)
    yield api
    api.close()


def new_bank_orders(baseline: Baseline, control: SimulatorControl) -> list[dict[str, Any]]:
    return [o for o in control.bank_orders() if o["mdOrder"] not in baseline.bank_before]


def _sign(params: dict[str, str], key: str) -> str:
    text = "".join(f"{name};{params[name]};" for name in sorted(params))
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


# --- Given ---------------------------------------------------------------------------------------------------


@given(parsers.parse('a customer shopping in the store on a {device} browser in "{lang}"'), target_fixture="shopper")
def customer_in_language(
    baseline: Baseline, scenario_state: ScenarioState, browser_factory: Any, lab: Lab, device: str, lang: str
) -> Shopper:
    shopper = Shopper(browser_factory(device), lang)
    scenario_state.register(shopper)
    shopper.page.goto(lab.storefront_url)
    return shopper


@given(parsers.parse("a customer shopping in the store on a {device} browser"), target_fixture="shopper")
def customer(baseline: Baseline, scenario_state: ScenarioState, browser_factory: Any, lab: Lab, device: str) -> Shopper:
    return customer_in_language(baseline, scenario_state, browser_factory, lab, device, "en")


@given(parsers.parse("an Ecwid order of {total:g} {currency}"), target_fixture="order_under_test")
def ecwid_order(
    baseline: Baseline, scenario_state: ScenarioState, control: SimulatorControl, total: float, currency: str
) -> EcwidOrderUnderTest:
    order = control.create_order(total=total, currency=currency)
    made = EcwidOrderUnderTest(order_id=str(order["id"]), order=order)
    scenario_state.register(made)
    return made


@given(
    parsers.parse("an Ecwid order of {total:g} {currency} with a bank payment page open"),
    target_fixture="order_under_test",
)
def ecwid_order_registered(
    baseline: Baseline, scenario_state: ScenarioState, control: SimulatorControl, total: float, currency: str
) -> EcwidOrderUnderTest:
    order = control.create_order(total=total, currency=currency)
    request = control.payment_request(order["id"])
    response = httpx.post(request["paymentUrl"], data={"enc_data": request["enc_data"], "data": request["data"]})
    assert response.status_code == 303, response.status_code
    form_url = response.headers["location"]
    registered = EcwidOrderUnderTest(
        order_id=str(order["id"]),
        order=order,
        form_url=form_url,
        bank_order=control.bank_order(md_order_of(form_url)),
    )
    scenario_state.register(registered)
    return registered


# --- When: the browser --------------------------------------------------------------------------------------


def order_in_store(shopper: Shopper, evidence: ScenarioEvidence, quantity: int, product: str) -> tuple[Page, str]:
    """The customer buys ``quantity`` of ``product`` in their language; returns the page (the store's payment page,
    before "Pay by card") and the new Ecwid order id."""
    page = shopper.page
    sku = PRODUCT_SKUS[product]
    page.fill(f"#quantity-{sku}", str(quantity))
    page.select_option(f"#lang-{sku}", shopper.lang)
    page.click(f"#buy-{sku}")
    order_id = page.get_by_test_id("order-id").inner_text().strip()
    evidence.page(page, f"store: order {order_id} ready to pay")
    return page, order_id


@when(parsers.parse('the customer orders {quantity:d} "{product}" and goes to pay'), target_fixture="order_under_test")
def order_and_go_to_pay(
    shopper: Shopper, scenario_state: ScenarioState, evidence: ScenarioEvidence, quantity: int, product: str
) -> EcwidOrderUnderTest:
    page, order_id = order_in_store(shopper, evidence, quantity, product)
    page.click("#pay-button")
    expect(page.locator("#card-form")).to_be_visible()
    ordered = EcwidOrderUnderTest(order_id=order_id, form_url=page.url)
    scenario_state.register(ordered)
    return ordered


@when(parsers.parse('pays on the bank page with card "{pan}"'))
def pay_on_bank_page(shopper: Shopper, pan: str) -> None:
    fill_card_and_pay(shopper.page, pan)


def fill_card_and_pay(page: Page, pan: str) -> None:
    page.fill("#pan", pan)
    page.fill("#expiry", "12/30")
    page.fill("#cardholder", "ANI PETROSYAN")
    page.fill("#cvc", "123")
    page.click("#pay")
    page.wait_for_load_state()


@when(parsers.parse('the customer pays again with card "{pan}"'), target_fixture="order_under_test")
def pay_again(
    shopper: Shopper,
    order_under_test: EcwidOrderUnderTest,
    scenario_state: ScenarioState,
    evidence: ScenarioEvidence,
    pan: str,
) -> EcwidOrderUnderTest:
    page = shopper.page
    page.click("#pay-again")  # one click from the declined checkout to the bank page
    expect(page.locator("#card-form")).to_be_visible()
    retried = replace(order_under_test, retry_form_url=page.url)
    scenario_state.register(retried)
    evidence.page(page, "bank payment page (second attempt)")
    fill_card_and_pay(page, pan)
    return retried


@when("leaves the bank page without paying")
def leave_bank_page(shopper: Shopper) -> None:
    shopper.page.click("#cancel")
    shopper.page.wait_for_load_state()


@when("goes back to the store's payment page and submits it again", target_fixture="repeated_submit")
def back_and_submit_again(
    shopper: Shopper, scenario_state: ScenarioState, evidence: ScenarioEvidence
) -> RepeatedSubmit:
    page = shopper.page
    page.go_back()
    expect(page.locator("#pay-button")).to_be_visible()
    evidence.page(page, "store: back on the payment page")
    page.click("#pay-button")
    expect(page.locator("#card-form")).to_be_visible()
    again = RepeatedSubmit(page.url)
    scenario_state.register(again)
    return again


@when("double-clicks the pay button", target_fixture="repeated_submit")
def double_click_pay(shopper: Shopper, scenario_state: ScenarioState) -> RepeatedSubmit:
    page = shopper.page
    page.dblclick("#pay-button")
    expect(page.locator("#card-form")).to_be_visible()
    again = RepeatedSubmit(page.url)
    scenario_state.register(again)
    return again


# --- When: HTTP ---------------------------------------------------------------------------------------------


@when(
    parsers.parse("Ecwid's payment request for the order arrives {times:d} times at once"),
    target_fixture="gateway_answers",
)
def concurrent_requests(
    order_under_test: EcwidOrderUnderTest, scenario_state: ScenarioState, control: SimulatorControl, times: int
) -> GatewayAnswers:
    requests = [control.payment_request(order_under_test.order_id) for _ in range(times)]

    def post(request: dict[str, str]) -> httpx.Response:
        return httpx.post(
            request["paymentUrl"], data={"enc_data": request["enc_data"], "data": request["data"]}, timeout=30
        )

    with concurrent.futures.ThreadPoolExecutor(max_workers=times) as pool:
        answers = GatewayAnswers(tuple(pool.map(post, requests)))
    scenario_state.register(answers)
    return answers


@when(parsers.parse("a payment request {defect} is posted to the gateway"), target_fixture="gateway_answer")
def post_defective_request(
    order_under_test: EcwidOrderUnderTest,
    scenario_state: ScenarioState,
    control: SimulatorControl,
    lab: Lab,
    defect: str,
) -> GatewayAnswer:
    order = dict(order_under_test.full_order)
    valid = control.payment_request(order["id"])
    secret, token = lab.secrets.client_secret, lab.secrets.ecwid_token
    payload = payload_for(order, valid["returnUrl"], token)
    form: dict[str, str]
    if defect == "encrypted with another app's key":
        form = {
            "enc_data": encrypt_gcm(payload, "another-app-secret-0123"),
            "data": encrypt_cbc(payload, "another-app-secret-0123"),
        }
    elif defect == "with a tampered ciphertext":
        form = {"enc_data": _flip(valid["enc_data"], 40), "data": _flip(valid["data"], 40)}
    elif defect == "cut short in transit":
        form = {"enc_data": valid["enc_data"][:30], "data": valid["data"][:30]}
    elif defect == "without a referenceTransactionId":
        del payload["cart"]["order"]["referenceTransactionId"]
        form = {"enc_data": encrypt_gcm(payload, secret), "data": encrypt_cbc(payload, secret)}
    elif defect == "in an unsupported currency":
        payload["cart"]["currency"] = "GBP"
        form = {"enc_data": encrypt_gcm(payload, secret), "data": encrypt_cbc(payload, secret)}
    elif defect == "with a zero total":
        payload["cart"]["order"]["total"] = 0
        form = {"enc_data": encrypt_gcm(payload, secret), "data": encrypt_cbc(payload, secret)}
    elif defect == "with no encrypted fields":
        form = {"note": "hello"}
    else:
        raise AssertionError(f"unknown defect {defect!r}")
    answer = GatewayAnswer(httpx.post(lab.payment_url, data=form), sent=form)
    scenario_state.register(answer)
    return answer


def _flip(token: str, index: int) -> str:
    replacement = "A" if token[index] != "A" else "B"
    return token[:index] + replacement + token[index + 1 :]


@when(parsers.parse("someone opens the gateway's return URL with {which}"), target_fixture="gateway_answer")
def visit_return(
    order_under_test: EcwidOrderUnderTest, scenario_state: ScenarioState, lab: Lab, which: str
) -> GatewayAnswer:
    if which == "a made-up orderId":
        params = {"orderId": "00000000-0000-4000-8000-000000000000", "lang": "en"}
    elif which == "the real orderId before paying":
        params = {"orderId": order_under_test.md_order, "lang": "en"}
    else:
        raise AssertionError(which)
    answer = GatewayAnswer(httpx.get(f"{lab.gateway_url}/vpos/return", params=params))
    scenario_state.register(answer)
    return answer


@when(parsers.parse('a "{operation}" callback {defect} reaches the gateway'), target_fixture="gateway_answer")
def forged_callback(
    order_under_test: EcwidOrderUnderTest, scenario_state: ScenarioState, lab: Lab, operation: str, defect: str
) -> GatewayAnswer:
    bank_order = order_under_test.bank_order
    assert bank_order is not None, "the order has no bank order"
    params = {
        "mdOrder": order_under_test.md_order,
        "orderNumber": bank_order["orderNumber"],
        "operation": operation,
        "status": "1",
        "amount": str(bank_order["amount"]),
    }
    key = lab.secrets.callback_key
    if defect == "without a checksum":
        pass
    elif defect == "signed with another key":
        params["checksum"] = _sign(params, "not-the-bank-key")
    elif defect == "whose amount was changed after signing":
        params["checksum"] = _sign(params, key)
        params["amount"] = "1"
    elif defect == "whose status was changed after signing":
        params["status"] = "0"
        params["checksum"] = _sign(params, key)
        params["status"] = "1"
    elif defect == "correctly signed but for an unpaid order":
        params["checksum"] = _sign(params, key)
    else:
        raise AssertionError(defect)
    answer = GatewayAnswer(httpx.get(lab.callback_url, params=params))
    scenario_state.register(answer)
    return answer


# --- Then ---------------------------------------------------------------------------------------------------


@then("the customer sees the store's thank-you page")
def sees_thank_you(shopper: Shopper) -> None:
    expect(shopper.page.get_by_test_id("thank-you")).to_be_visible()


@then(parsers.parse('the customer is back at checkout with the message "{text}"'))
def back_at_checkout(shopper: Shopper, text: str) -> None:
    page = shopper.page
    expect(page.get_by_test_id("checkout")).to_be_visible()
    expect(page.get_by_test_id("checkout-error")).to_contain_text(text)


@then(parsers.parse('the Ecwid order is "{status}"'))
def ecwid_status_is(order_under_test: EcwidOrderUnderTest, control: SimulatorControl, status: str) -> None:
    assert control.order(order_under_test.order_id)["paymentStatus"] == status


@then("Ecwid was set to PAID only after the bank confirmed the payment to the gateway")
def paid_after_confirmation(baseline: Baseline, control: SimulatorControl) -> None:
    entries = control.journal(since=baseline.mark)
    paid_puts = [
        e
        for e in entries
        if e["service"] == "ecwid" and e["method"] == "PUT" and e["params"].get("paymentStatus") == "PAID"
    ]
    assert len(paid_puts) == 1, f"expected exactly one PAID update, saw {len(paid_puts)}"
    md_order = paid_puts[0]["params"].get("externalTransactionId")
    # Only this order's checks: the gateway's poller asks about other scenarios' open orders meanwhile.
    status_checks = [
        e
        for e in entries
        if e["operation"] == "getOrderStatusExtended.do"
        and e["seq"] < paid_puts[0]["seq"]
        and e["params"].get("orderId") == md_order
    ]
    assert status_checks, "the gateway set PAID without asking the bank"
    assert "orderStatus 2" in status_checks[-1]["summary"], (
        f"the bank's last answer before PAID was not 'deposited': {status_checks[-1]['summary']}"
    )


@then(parsers.parse("the bank has {count:d} new order"))
@then(parsers.parse("the bank has {count:d} new orders"))
def bank_order_count(baseline: Baseline, control: SimulatorControl, count: int) -> None:
    orders = new_bank_orders(baseline, control)
    assert len(orders) == count, [o["orderNumber"] for o in orders]
    numbers = {o["orderNumber"] for o in orders}
    assert len(numbers) == count, "bank order numbers must differ"


@then("the bank order number is compact and different from the Ecwid order id")
def compact_order_number(baseline: Baseline, control: SimulatorControl) -> None:
    for order in new_bank_orders(baseline, control):
        assert re.fullmatch(r"[0-9A-Z]{1,32}", order["orderNumber"]), order["orderNumber"]


@then("the customer is on the same bank page both times")
def same_bank_page(order_under_test: EcwidOrderUnderTest, repeated_submit: RepeatedSubmit) -> None:
    assert repeated_submit.form_url == order_under_test.form_url


@then("every answer redirects to the same bank page")
def same_redirects(gateway_answers: GatewayAnswers) -> None:
    locations = {r.headers.get("location") for r in gateway_answers.responses}
    statuses = {r.status_code for r in gateway_answers.responses}
    assert statuses == {303}, statuses
    assert len(locations) == 1, locations


@then(parsers.parse("the answer is the generic error page with status {status:d}"))
def generic_error_page(gateway_answer: GatewayAnswer, status: int) -> None:
    response = gateway_answer.response
    assert response.status_code == status
    assert 'data-testid="gateway-error"' in response.text
    assert "cannot be processed" in response.text


@then("the error page shows nothing from the request and no secret")
def nothing_leaked(gateway_answer: GatewayAnswer, order_under_test: EcwidOrderUnderTest, lab: Lab) -> None:
    body = gateway_answer.response.text
    reference = order_under_test.full_order["referenceTransactionId"]
    for value in [*gateway_answer.sent.values(), *lab.secrets.values(), reference]:
        assert value not in body


@then("the bank received no registration")
def no_registration(baseline: Baseline, control: SimulatorControl) -> None:
    registers = [e for e in control.journal(since=baseline.mark) if e["operation"] == "register.do"]
    assert registers == []
    assert new_bank_orders(baseline, control) == []


@then(parsers.parse("the gateway answers {status:d}"))
def gateway_answers_status(gateway_answer: GatewayAnswer, status: int) -> None:
    assert gateway_answer.response.status_code == status, gateway_answer.response.status_code


@then("the bank payment is still unpaid")
def still_unpaid(order_under_test: EcwidOrderUnderTest, control: SimulatorControl) -> None:
    assert control.bank_order(order_under_test.md_order)["orderStatus"] == 0


@then("no Ecwid update was sent")
def no_ecwid_update(baseline: Baseline, control: SimulatorControl) -> None:
    puts = [e for e in control.journal(since=baseline.mark) if e["service"] == "ecwid" and e["method"] == "PUT"]
    assert puts == []
