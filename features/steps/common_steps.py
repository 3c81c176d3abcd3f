"""Step definitions shared by all features. State travels in the ``world`` dict fixture; the browser page, the
Ecwid order and the simulator journal mark live there. Every check reads the outside world (simulator control API,
HTTP answers, the page), never the gateway's internals.

Evidence: the page a step leaves the customer on is captured automatically (features/support/evidence.py); a step
that takes the customer through several pages names the ones in between with ``evidence.page(page, label)``."""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect
from pytest_bdd import given, parsers, then, when

from features.support.control import SimulatorControl
from features.support.ecwid_request import encrypt_cbc, encrypt_gcm, payload_for
from features.support.evidence import ScenarioEvidence
from lab import Lab

PRODUCT_SKUS = {"Apricot jam": "apricot-jam", "Gata": "gata", "Lavash": "lavash", "Duduk": "duduk"}


@pytest.fixture
def world(control: SimulatorControl) -> dict[str, Any]:
    return {"mark": control.journal_mark(), "bank_before": {o["mdOrder"] for o in control.bank_orders()}}


def _page(world: dict[str, Any]) -> Page:
    page = world.get("page")
    assert isinstance(page, Page), "no browser page in this scenario"
    return page


def _new_bank_orders(world: dict[str, Any], control: SimulatorControl) -> list[dict[str, Any]]:
    return [o for o in control.bank_orders() if o["mdOrder"] not in world["bank_before"]]


def _sign(params: dict[str, str], key: str) -> str:
    text = "".join(f"{name};{params[name]};" for name in sorted(params))
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


# --- Given ---------------------------------------------------------------------------------------------------


@given(parsers.parse('a customer shopping in the store on a {device} browser in "{lang}"'))
def customer_in_language(world: dict[str, Any], browser_factory: Any, lab: Lab, device: str, lang: str) -> None:
    world["page"] = browser_factory(device)
    world["lang"] = lang
    world["page"].goto(lab.storefront_url)


@given(parsers.parse("a customer shopping in the store on a {device} browser"))
def customer(world: dict[str, Any], browser_factory: Any, lab: Lab, device: str) -> None:
    customer_in_language(world, browser_factory, lab, device, "en")


@given(parsers.parse("an Ecwid order of {total:g} {currency}"))
def ecwid_order(world: dict[str, Any], control: SimulatorControl, total: float, currency: str) -> None:
    world["order"] = control.create_order(total=total, currency=currency)


@given(parsers.parse("an Ecwid order of {total:g} {currency} with a bank payment page open"))
def ecwid_order_registered(world: dict[str, Any], control: SimulatorControl, total: float, currency: str) -> None:
    ecwid_order(world, control, total, currency)
    request = control.payment_request(world["order"]["id"])
    response = httpx.post(request["paymentUrl"], data={"enc_data": request["enc_data"], "data": request["data"]})
    assert response.status_code == 303, response.status_code
    world["form_url"] = response.headers["location"]
    world["md_order"] = parse_qs(urlsplit(world["form_url"]).query)["mdOrder"][0]
    world["bank_order"] = control.bank_order(world["md_order"])


# --- When: the browser --------------------------------------------------------------------------------------


@when(parsers.parse('the customer orders {quantity:d} "{product}" and goes to pay'))
def order_and_go_to_pay(world: dict[str, Any], evidence: ScenarioEvidence, quantity: int, product: str) -> None:
    page = _page(world)
    sku = PRODUCT_SKUS[product]
    page.fill(f"#quantity-{sku}", str(quantity))
    page.select_option(f"#lang-{sku}", world.get("lang", "en"))
    page.click(f"#buy-{sku}")
    world["order_id"] = page.get_by_test_id("order-id").inner_text().strip()
    evidence.page(page, f"store: order {world['order_id']} ready to pay")
    page.click("#pay-button")
    expect(page.locator("#card-form")).to_be_visible()
    world["form_url"] = page.url


@when(parsers.parse('pays on the bank page with card "{pan}"'))
def pay_on_bank_page(world: dict[str, Any], pan: str) -> None:
    page = _page(world)
    page.fill("#pan", pan)
    page.fill("#expiry", "12/30")
    page.fill("#cardholder", "ANI PETROSYAN")
    page.fill("#cvc", "123")
    page.click("#pay")
    page.wait_for_load_state()


@when(parsers.parse('the customer pays again with card "{pan}"'))
def pay_again(world: dict[str, Any], evidence: ScenarioEvidence, pan: str) -> None:
    page = _page(world)
    page.click("#pay-again")  # one click from the declined checkout to the bank page
    expect(page.locator("#card-form")).to_be_visible()
    world["retry_form_url"] = page.url
    evidence.page(page, "bank payment page (second attempt)")
    pay_on_bank_page(world, pan)


@when("leaves the bank page without paying")
def leave_bank_page(world: dict[str, Any]) -> None:
    page = _page(world)
    page.click("#cancel")
    page.wait_for_load_state()


@when("goes back to the store's payment page and submits it again")
def back_and_submit_again(world: dict[str, Any], evidence: ScenarioEvidence) -> None:
    page = _page(world)
    page.go_back()
    expect(page.locator("#pay-button")).to_be_visible()
    evidence.page(page, "store: back on the payment page")
    page.click("#pay-button")
    expect(page.locator("#card-form")).to_be_visible()
    world["second_form_url"] = page.url


@when("double-clicks the pay button")
def double_click_pay(world: dict[str, Any]) -> None:
    page = _page(world)
    page.dblclick("#pay-button")
    expect(page.locator("#card-form")).to_be_visible()
    world["second_form_url"] = page.url


# --- When: HTTP ---------------------------------------------------------------------------------------------


@when(parsers.parse("Ecwid's payment request for the order arrives {times:d} times at once"))
def concurrent_requests(world: dict[str, Any], control: SimulatorControl, times: int) -> None:
    requests = [control.payment_request(world["order"]["id"]) for _ in range(times)]

    def post(request: dict[str, str]) -> httpx.Response:
        return httpx.post(
            request["paymentUrl"], data={"enc_data": request["enc_data"], "data": request["data"]}, timeout=30
        )

    with concurrent.futures.ThreadPoolExecutor(max_workers=times) as pool:
        world["responses"] = list(pool.map(post, requests))


@when(parsers.parse("a payment request {defect} is posted to the gateway"))
def post_defective_request(world: dict[str, Any], control: SimulatorControl, lab: Lab, defect: str) -> None:
    order = world["order"]
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
    world["sent"] = form
    world["response"] = httpx.post(lab.payment_url, data=form)


def _flip(token: str, index: int) -> str:
    replacement = "A" if token[index] != "A" else "B"
    return token[:index] + replacement + token[index + 1 :]


@when(parsers.parse("someone opens the gateway's return URL with {which}"))
def visit_return(world: dict[str, Any], lab: Lab, which: str) -> None:
    if which == "a made-up orderId":
        params = {"orderId": "00000000-0000-4000-8000-000000000000", "lang": "en"}
    elif which == "the real orderId before paying":
        params = {"orderId": world["md_order"], "lang": "en"}
    else:
        raise AssertionError(which)
    world["response"] = httpx.get(f"{lab.gateway_url}/vpos/return", params=params)


@when(parsers.parse('a "{operation}" callback {defect} reaches the gateway'))
def forged_callback(world: dict[str, Any], lab: Lab, operation: str, defect: str) -> None:
    bank_order = world["bank_order"]
    params = {
        "mdOrder": world["md_order"],
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
    world["response"] = httpx.get(lab.callback_url, params=params)


# --- Then ---------------------------------------------------------------------------------------------------


@then("the customer sees the store's thank-you page")
def sees_thank_you(world: dict[str, Any]) -> None:
    expect(_page(world).get_by_test_id("thank-you")).to_be_visible()


@then(parsers.parse('the customer is back at checkout with the message "{text}"'))
def back_at_checkout(world: dict[str, Any], text: str) -> None:
    page = _page(world)
    expect(page.get_by_test_id("checkout")).to_be_visible()
    expect(page.get_by_test_id("checkout-error")).to_contain_text(text)


@then(parsers.parse('the Ecwid order is "{status}"'))
def ecwid_status_is(world: dict[str, Any], control: SimulatorControl, status: str) -> None:
    order_id = world.get("order_id") or world["order"]["id"]
    assert control.order(order_id)["paymentStatus"] == status


@then("Ecwid was set to PAID only after the bank confirmed the payment to the gateway")
def paid_after_confirmation(world: dict[str, Any], control: SimulatorControl) -> None:
    entries = control.journal(since=world["mark"])
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
def bank_order_count(world: dict[str, Any], control: SimulatorControl, count: int) -> None:
    orders = _new_bank_orders(world, control)
    assert len(orders) == count, [o["orderNumber"] for o in orders]
    numbers = {o["orderNumber"] for o in orders}
    assert len(numbers) == count, "bank order numbers must differ"


@then("the bank order number is compact and different from the Ecwid order id")
def compact_order_number(world: dict[str, Any], control: SimulatorControl) -> None:
    for order in _new_bank_orders(world, control):
        assert re.fullmatch(r"[0-9A-Z]{1,32}", order["orderNumber"]), order["orderNumber"]


@then("the customer is on the same bank page both times")
def same_bank_page(world: dict[str, Any]) -> None:
    assert world["second_form_url"] == world["form_url"]


@then("every answer redirects to the same bank page")
def same_redirects(world: dict[str, Any]) -> None:
    locations = {r.headers.get("location") for r in world["responses"]}
    statuses = {r.status_code for r in world["responses"]}
    assert statuses == {303}, statuses
    assert len(locations) == 1, locations


@then(parsers.parse("the answer is the generic error page with status {status:d}"))
def generic_error_page(world: dict[str, Any], status: int) -> None:
    response: httpx.Response = world["response"]
    assert response.status_code == status
    assert 'data-testid="gateway-error"' in response.text
    assert "cannot be processed" in response.text


@then("the error page shows nothing from the request and no secret")
def nothing_leaked(world: dict[str, Any], lab: Lab) -> None:
    body: str = world["response"].text
    for value in [*world["sent"].values(), *lab.secrets.values(), world["order"]["referenceTransactionId"]]:
        assert value not in body


@then("the bank received no registration")
def no_registration(world: dict[str, Any], control: SimulatorControl) -> None:
    registers = [e for e in control.journal(since=world["mark"]) if e["operation"] == "register.do"]
    assert registers == []
    assert _new_bank_orders(world, control) == []


@then(parsers.parse("the gateway answers {status:d}"))
def gateway_answers(world: dict[str, Any], status: int) -> None:
    assert world["response"].status_code == status, world["response"].status_code


@then("the bank payment is still unpaid")
def still_unpaid(world: dict[str, Any], control: SimulatorControl) -> None:
    assert control.bank_order(world["md_order"])["orderStatus"] == 0


@then("no Ecwid update was sent")
def no_ecwid_update(world: dict[str, Any], control: SimulatorControl) -> None:
    puts = [e for e in control.journal(since=world["mark"]) if e["service"] == "ecwid" and e["method"] == "PUT"]
    assert puts == []
