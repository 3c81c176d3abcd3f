"""Steps for the bank's own flows: 3-D Secure (the issuer's ACS page), pending payments, abandoned pages and the
bank session's end. They reuse the shared steps (``common_steps.py``) by their text and request the state those
return as pytest-bdd ``target_fixture`` values (``shopper``: the customer's page; ``order_under_test``: the Ecwid
order and its bank page URLs); what they produce travels the same way. Every check reads the outside world over
HTTP: the simulator's bank orders, their callbacks, the Ecwid order and its update history, and the page.

The simulator clock is shared by every order in the lab: it is only moved once this scenario's own payment has
reached the point the scenario is about (the customer left, or the bank decided to wait)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_bdd import given, parsers, then, when

from features.support.bank_control import BankControl, wait_for
from features.support.evidence import ScenarioEvidence
from features.support.state import EcwidOrderUnderTest, Shopper, md_order_of
from lab import Lab
from lab.lab import STORE_ID

OTP = "123456"
WAIT_S = 20.0  # the longest a step waits for server-side truth (gateway worker: 1 s, poll after 5 s)
PAGE_WAIT_MS = 20_000  # the processing page refreshes every 3 s and releases the customer after 6 s


@dataclass(frozen=True)
class Retry:
    """A later attempt from the store, in a new tab: its page and its bank order."""

    page: Page
    md_order: str


@pytest.fixture(scope="session")
def bank_control(lab: Lab) -> Iterator[BankControl]:
    client = BankControl(lab.simulator_url)
    yield client
    client.http.close()


def _statuses(order: Mapping[str, Any]) -> list[str]:
    """The paymentStatus values the gateway sent to Ecwid, oldest first (repeats of the same value folded)."""
    sent: list[str] = []
    for entry in order.get("history", []):
        status = entry.get("fields", {}).get("paymentStatus")
        if status and (not sent or sent[-1] != status):
            sent.append(status)
    return sent


def _wait_ecwid(bank_control: BankControl, order_id: str, status: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        order: dict[str, Any] = bank_control.order(order_id)
        return order if order["paymentStatus"] == status else None

    try:
        return wait_for(probe, f"Ecwid order {order_id} {status}", WAIT_S)
    except AssertionError:
        order = bank_control.order(order_id)
        raise AssertionError(
            f"Ecwid order {order_id} is {order['paymentStatus']} (history {_statuses(order)}), not {status}"
        ) from None


def _end_bank_session(bank_control: BankControl, md_order: str) -> dict[str, Any]:
    """Move the clock past the order's bank session (1200 s) and wait for the bank's -2007 decline."""
    order = bank_control.bank_order(md_order)
    assert order["orderStatus"] in (0, 5), f"the attempt is already decided: {order['orderStatus']}"
    bank_control.advance_clock(order["sessionTimeoutSecs"] + 1)

    def probe() -> dict[str, Any] | None:
        current: dict[str, Any] = bank_control.bank_order(md_order)
        return current if current["orderStatus"] == 6 else None

    expired = wait_for(probe, f"bank order {md_order} declined at the session's end", WAIT_S)
    assert str(expired["actionCode"]) == "-2007", expired["actionCode"]
    return expired


# --- Given ---------------------------------------------------------------------------------------------------


@given(
    parsers.parse("the bank keeps a pending payment pending for {seconds:d} seconds"),
    target_fixture="pending_seconds",
)
def bank_pending_delay(request: pytest.FixtureRequest, bank_control: BankControl, seconds: int) -> int:
    before = int(bank_control.bank_settings()["pendingSeconds"])
    request.addfinalizer(lambda: bank_control.set_pending_seconds(before))
    assert bank_control.set_pending_seconds(seconds)["pendingSeconds"] == seconds
    return seconds


# --- When: the issuer's 3-D Secure page ---------------------------------------------------------------------


def _on_acs_page(page: Page, evidence: ScenarioEvidence) -> None:
    expect(page.get_by_test_id("acs-page")).to_be_visible()
    evidence.page(page, "issuer's 3-D Secure page")


def _answer_acs(page: Page, evidence: ScenarioEvidence, action: str, otp: str = "") -> None:
    _on_acs_page(page, evidence)
    if otp:
        page.fill("#otp", otp)
    page.click(f"#acs-{action}")
    page.wait_for_load_state()


@when(parsers.parse('confirms the 3-D Secure challenge with the code "{otp}"'))
def confirm_challenge(shopper: Shopper, evidence: ScenarioEvidence, otp: str) -> None:
    _answer_acs(shopper.page, evidence, "pass", otp)


@when("fails the 3-D Secure challenge")
def fail_challenge(shopper: Shopper, evidence: ScenarioEvidence) -> None:
    _answer_acs(shopper.page, evidence, "fail")


@when(parsers.parse("meets the issuer's check: {check}"))
def issuer_check(
    shopper: Shopper,
    order_under_test: EcwidOrderUnderTest,
    evidence: ScenarioEvidence,
    bank_control: BankControl,
    check: str,
) -> None:
    page = shopper.page
    if check == "none":  # frictionless, attempted, not enrolled, unavailable: the bank decided on the card page
        expect(page.get_by_test_id("acs-page")).to_have_count(0)
    elif check == "challenge passed":
        _answer_acs(page, evidence, "pass", OTP)
    elif check == "challenge failed":
        _answer_acs(page, evidence, "fail")
    elif check == "challenge left open":
        # The customer never answers: the bank session ends under the ACS page (-2007), then the customer reloads
        # it and follows its link back to the shop.
        _on_acs_page(page, evidence)
        _end_bank_session(bank_control, order_under_test.attempt_md_order)
        page.reload()
        expect(page.locator("#return-link")).to_be_visible()
        evidence.page(page, "issuer's page after the session ended")
        page.click("#return-link")
        page.wait_for_load_state()
    else:
        raise AssertionError(f"unknown issuer check {check!r}")


# --- When: abandoned pages, the clock, a later retry --------------------------------------------------------


@when("the customer is on the bank page")
def customer_on_bank_page(shopper: Shopper) -> None:
    expect(shopper.page.locator("#card-form")).to_be_visible()


@when("closes the tab")
def close_tab(shopper: Shopper) -> None:
    shopper.page.close()


@when("the bank session of the attempt runs out")
def bank_session_runs_out(order_under_test: EcwidOrderUnderTest, bank_control: BankControl) -> None:
    _end_bank_session(bank_control, order_under_test.attempt_md_order)


@when("the bank's pending time passes")
def pending_time_passes(bank_control: BankControl, pending_seconds: int) -> None:
    bank_control.advance_clock(pending_seconds + 1)


@when(
    parsers.parse('the customer comes back to the store later and pays with card "{pan}"'),
    target_fixture="retry",
)
def retry_from_store(
    order_under_test: EcwidOrderUnderTest, browser_factory: Any, evidence: ScenarioEvidence, lab: Lab, pan: str
) -> Retry:
    page: Page = browser_factory("desktop")
    page.goto(f"{lab.simulator_url}/store/{STORE_ID}/orders/{order_under_test.order_id}/pay")
    evidence.page(page, "store: the order's payment page, later")
    page.click("#pay-button")
    expect(page.locator("#card-form")).to_be_visible()
    md_order = md_order_of(page.url)
    evidence.track(md_order)
    assert md_order != order_under_test.attempt_md_order, "the retry must be a new bank order"
    evidence.page(page, "bank payment page (the retry)")
    page.fill("#pan", pan)
    page.fill("#expiry", "12/30")
    page.fill("#cardholder", "ANI PETROSYAN")
    page.fill("#cvc", "123")
    page.click("#pay")
    page.wait_for_load_state()
    return Retry(page, md_order)


# --- Then: the page -----------------------------------------------------------------------------------------


@then("the customer is shown the issuer's 3-D Secure page")
def shown_acs_page(shopper: Shopper) -> None:
    page = shopper.page
    expect(page.get_by_test_id("acs-page")).to_be_visible()
    expect(page.get_by_test_id("acs-brand")).to_contain_text("Visa Secure")


@then("the customer sees the gateway's processing page")
def sees_processing(shopper: Shopper) -> None:
    expect(shopper.page.get_by_test_id("processing")).to_be_visible()


@then(parsers.parse('after a short wait the customer lands on the store\'s thank-you page showing "{status}"'))
def released_to_store(shopper: Shopper, evidence: ScenarioEvidence, status: str) -> None:
    page = shopper.page
    expect(page.get_by_test_id("thank-you")).to_be_visible(timeout=PAGE_WAIT_MS)
    expect(page.get_by_test_id("payment-status")).to_contain_text(status)
    evidence.page(page, f"store: thank-you page ({status})")


@then(parsers.parse('the customer ends on the store\'s {where} with "{text}"'))
def customer_outcome(shopper: Shopper, where: str, text: str) -> None:
    page = shopper.page
    if where == "thank-you page":
        expect(page.get_by_test_id("thank-you")).to_be_visible()
        expect(page.get_by_test_id("payment-status")).to_contain_text(text)
    elif where == "checkout":
        expect(page.get_by_test_id("checkout")).to_be_visible()
        expect(page.get_by_test_id("checkout-error")).to_contain_text(text)
    else:
        raise AssertionError(f"unknown place {where!r}")


@then("the retry ends on the store's thank-you page")
def retry_thank_you(retry: Retry) -> None:
    expect(retry.page.get_by_test_id("thank-you")).to_be_visible()


# --- Then: the bank -----------------------------------------------------------------------------------------


@then(
    parsers.parse("the bank order of the attempt has orderStatus {status:d} and actionCode {code}"),
    target_fixture="bank_attempt",
)
def bank_attempt_is(
    order_under_test: EcwidOrderUnderTest, bank_control: BankControl, status: int, code: str
) -> dict[str, Any]:
    order: dict[str, Any] = bank_control.bank_order(order_under_test.attempt_md_order)
    assert (order["orderStatus"], str(order["actionCode"])) == (status, code), (
        order["orderStatus"],
        order["actionCode"],
        order["operations"],
    )
    return order


@then(parsers.parse('the bank recorded the ECI "{eci}"'))
def bank_eci(bank_attempt: dict[str, Any], eci: str) -> None:
    secure = (bank_attempt.get("cardAuthInfo") or {}).get("secureAuthInfo")
    if eci == "none":
        assert not secure or secure.get("eci") is None, secure
    else:
        assert secure is not None, bank_attempt.get("cardAuthInfo")
        assert f"{int(secure['eci']):02d}" == eci, secure


@then(parsers.parse('the bank told the gateway "{operation}" with status {status:d}, and the gateway took it'))
def callback_delivered(
    order_under_test: EcwidOrderUnderTest, bank_control: BankControl, operation: str, status: int
) -> None:
    md_order = order_under_test.attempt_md_order

    def probe() -> dict[str, Any] | None:
        for callback in bank_control.order_callbacks(md_order):
            params = callback["params"]
            wanted = params.get("operation") == operation and params.get("status") == str(status)
            if wanted and callback["state"] == "delivered":
                return callback
        return None

    callback = wait_for(probe, f'a delivered "{operation}" status {status} callback for {md_order}', WAIT_S)
    assert callback["attempts"][-1]["httpStatus"] == 200, callback["attempts"]


@then(parsers.parse("the retry's bank order has orderStatus {status:d} and actionCode {code}"))
def retry_bank_order(retry: Retry, bank_control: BankControl, status: int, code: str) -> None:
    order = bank_control.bank_order(retry.md_order)
    assert (order["orderStatus"], str(order["actionCode"])) == (status, code), order["operations"]


# --- Then: Ecwid --------------------------------------------------------------------------------------------


@then(parsers.parse('the Ecwid order settles at "{status}" within {seconds:d} seconds'))
def ecwid_becomes(order_under_test: EcwidOrderUnderTest, bank_control: BankControl, seconds: int, status: str) -> None:
    assert seconds <= WAIT_S
    _wait_ecwid(bank_control, order_under_test.order_id, status)


@then(parsers.parse('the gateway has sent Ecwid the payment statuses "{statuses}"'))
def ecwid_history(order_under_test: EcwidOrderUnderTest, bank_control: BankControl, statuses: str) -> None:
    expected = [s.strip() for s in statuses.split(",") if s.strip() and s.strip() != "none"]
    assert _statuses(bank_control.order(order_under_test.order_id)) == expected


@then("Ecwid was never told PAID")
def never_paid(order_under_test: EcwidOrderUnderTest, bank_control: BankControl) -> None:
    order = bank_control.order(order_under_test.order_id)
    assert "PAID" not in _statuses(order), order["history"]
    assert order["paymentStatus"] != "PAID"


@then("nothing was sent to Ecwid about fulfillment")
def no_fulfillment(order_under_test: EcwidOrderUnderTest, bank_control: BankControl) -> None:
    order = bank_control.order(order_under_test.order_id)
    touched = [entry for entry in order.get("history", []) if "fulfillmentStatus" in entry.get("fields", {})]
    assert touched == [], touched
    assert order["fulfillmentStatus"] == "AWAITING_PROCESSING", order["fulfillmentStatus"]
