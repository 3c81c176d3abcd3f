"""3-D Secure at the simulated bank: frictionless cards decide at once with an ECI; challenge cards move the order
to orderStatus 5 and the browser to the issuer's ACS page (OTP, Pass / Fail / Cancel), which decides it and sends the
browser back to the merchant; an ACS page left open expires with the session."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import pytest
from flask.testing import FlaskClient

from simulator import get_state
from tests.sim_bank_fakes import (
    PUBLIC,
    Merchant,
    advance,
    bank_jobs,
    control_order,
    page_path,
    register,
    status,
    submit,
)
from tests.sim_bank_fakes import app as app
from tests.sim_bank_fakes import client as client
from tests.sim_bank_fakes import merchant as merchant

CHALLENGE_VISA = "4000000000003220"
CHALLENGE_MASTERCARD = "5555555555555599"
CHALLENGE_ARCA = "9051000000000017"
CHALLENGE_FAILS = "4000000000003238"
CHALLENGE_ERROR = "4000000000003246"


def to_acs(client: FlaskClient, pan: str = CHALLENGE_VISA, **register_params: str) -> tuple[dict[str, Any], str]:
    """Register, submit a challenge card; returns the registration and the ACS page path."""
    registered = register(client, **register_params)
    response = submit(client, registered, pan)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location == f"{PUBLIC}/payment/acs/challenge?mdOrder={registered['orderId']}"
    return registered, page_path(location)


def answer(client: FlaskClient, acs: str, action: str, otp: str = "") -> Any:
    return client.post(acs, data={"action": action, "otp": otp})


def returned_to(response: Any, path: str, md_order: str, lang: str = "en") -> None:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    assert (location.netloc, location.path) == ("gw.test", path)
    assert parse_qs(location.query) == {"orderId": [md_order], "lang": [lang]}


# -- without a challenge ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pan", "order_status", "action_code", "eci"),
    [
        ("4111111111111111", 2, 0, 5),  # BPC sandbox: 3DS2 frictionless success
        ("4000000000003253", 2, 0, 5),
        ("5200000000003225", 2, 0, 2),  # Mastercard
        ("4000000000003279", 2, 0, 6),  # attempted
        ("4000000000003287", 2, 0, 7),  # not enrolled
        ("4000001111111118", 2, 0, 7),  # BPC sandbox: success without 3DS
        ("4242424242424242", 2, 0, 7),
        ("5555555555554444", 2, 0, 0),
    ],
)
def test_paid_at_once_with_the_eci_of_the_flow(
    client: FlaskClient, merchant: Merchant, pan: str, order_status: int, action_code: int, eci: int
) -> None:
    registered = register(client)
    returned_to(submit(client, registered, pan), "/return", registered["orderId"])
    body = status(client, registered["orderId"])
    assert (body["orderStatus"], body["actionCode"]) == (order_status, action_code)
    assert body["cardAuthInfo"]["secureAuthInfo"] == {"eci": eci}
    assert merchant.seen() == [("deposited", "1")]


@pytest.mark.parametrize(
    ("pan", "action_code"),
    [
        ("5168494895055780", -2006),  # BPC sandbox: frictionless failure
        ("4000000000003261", -2006),
        ("4000000000003295", -2011),  # 3DS unavailable
    ],
)
def test_declined_at_once_when_3ds_fails_or_cannot_run(
    client: FlaskClient, merchant: Merchant, pan: str, action_code: int
) -> None:
    registered = register(client)
    returned_to(submit(client, registered, pan), "/fail", registered["orderId"])
    body = status(client, registered["orderId"])
    assert (body["orderStatus"], body["actionCode"]) == (6, action_code)
    assert "secureAuthInfo" not in body["cardAuthInfo"]
    assert body["actionCodeDescription"]
    assert merchant.seen() == [("deposited", "0")]


def test_issuer_timeout_declines_with_151019(client: FlaskClient, merchant: Merchant) -> None:
    registered = register(client)
    returned_to(submit(client, registered, "4000000000151011"), "/fail", registered["orderId"])
    body = status(client, registered["orderId"], language="ru")
    assert (body["orderStatus"], body["actionCode"]) == (6, 151019)
    assert "эмитент" in body["actionCodeDescription"]
    assert merchant.seen() == [("deposited", "0")]


@pytest.mark.parametrize(("pan", "protocol"), [("4111111111111111", "2.2.0"), ("4000000000003287", None)])
def test_3ds2_protocol_version_from_status_version_30(client: FlaskClient, pan: str, protocol: str | None) -> None:
    assert client.put("/_control/vpos/shapes", json={"statusVersion": 30}).status_code == 200
    registered = register(client)
    submit(client, registered, pan)
    secure = status(client, registered["orderId"])["cardAuthInfo"]["secureAuthInfo"]
    assert secure.get("threeDSProtocolVersion") == protocol


# -- the challenge: into orderStatus 5 and the ACS page ---------------------------------------------------------------


def test_a_challenge_card_moves_the_order_to_5_and_the_browser_to_the_acs(
    client: FlaskClient, merchant: Merchant
) -> None:
    registered, _ = to_acs(client)
    body = status(client, registered["orderId"])
    assert (body["orderStatus"], body["actionCode"]) == (5, -100)
    assert body["cardAuthInfo"]["maskedPan"] == "400000**3220"
    assert "secureAuthInfo" not in body["cardAuthInfo"]
    assert body["paymentAmountInfo"]["paymentState"] == "CREATED"
    assert merchant.seen() == []  # no callback while 3-D Secure is in progress


@pytest.mark.parametrize(
    ("pan", "lang", "words"),
    [
        (CHALLENGE_VISA, "en", ("Visa Secure", "One-time code", "Confirm", "15\u00a0000.00 AMD", "400000**3220")),
        (CHALLENGE_MASTERCARD, "ru", ("Mastercard Identity Check", "Одноразовый код", "Подтвердить")),
        (CHALLENGE_ARCA, "hy", ("ArCa 3-D Secure", "Մեկանգամյա կոդ", "Հաստատել")),
    ],
)
def test_the_acs_page_looks_like_the_issuer_in_the_order_language(
    client: FlaskClient, pan: str, lang: str, words: tuple[str, ...]
) -> None:
    _, acs = to_acs(client, pan, language=lang)
    page = client.get(acs)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in html
    for element in ('id="otp"', 'id="acs-pass"', 'id="acs-fail"', 'id="acs-cancel"', 'data-testid="acs-page"'):
        assert element in html
    for word in words:
        assert word in html
    assert "123456" in html  # the TEST hint names the magic code
    assert 'class="page-desktop"' in html and 'name="viewport"' not in html


def test_the_acs_page_has_a_mobile_layout(client: FlaskClient) -> None:
    _, acs = to_acs(client, pageView="MOBILE")
    html = client.get(acs).get_data(as_text=True)
    assert 'class="page-mobile"' in html and 'name="viewport"' in html


def test_the_card_page_of_an_order_in_3ds_sends_the_browser_back_to_the_acs(client: FlaskClient) -> None:
    registered, acs = to_acs(client)
    page = client.get(page_path(registered["formUrl"]))
    assert page.status_code == 302 and page_path(page.headers["Location"]) == acs
    again = submit(client, registered, "4242424242424242")
    assert again.status_code == 302 and page_path(again.headers["Location"]) == acs
    assert status(client, registered["orderId"])["orderStatus"] == 5


def test_control_pay_with_a_challenge_card_answers_the_acs_url(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    body = client.post(f"/_control/vpos/orders/{md_order}/pay", json={"pan": CHALLENGE_VISA, "expiry": "12/39"})
    assert body.status_code == 200
    result = body.get_json()
    assert (result["orderStatus"], result["alreadyProcessed"]) == (5, False)
    assert result["redirectUrl"] == f"{PUBLIC}/payment/acs/challenge?mdOrder={md_order}"


# -- the answers -----------------------------------------------------------------------------------------------------


def test_pass_with_the_magic_code_pays_with_eci_and_returns_to_the_shop(
    client: FlaskClient, merchant: Merchant
) -> None:
    registered, acs = to_acs(client, language="ru")
    returned_to(answer(client, acs, "pass", "123456"), "/return", registered["orderId"], "ru")
    body = status(client, registered["orderId"])
    assert (body["orderStatus"], body["actionCode"]) == (2, 0)
    assert body["cardAuthInfo"]["secureAuthInfo"] == {"eci": 5}
    assert len(body["cardAuthInfo"]["approvalCode"]) == 6
    assert merchant.seen() == [("deposited", "1")]
    operations = [op["operation"] for op in control_order(client, registered["orderId"])["operations"]]
    assert operations == ["card challenge", "3ds pass"]


def test_pass_for_mastercard_sets_eci_02(client: FlaskClient) -> None:
    registered, acs = to_acs(client, CHALLENGE_MASTERCARD)
    answer(client, acs, "pass", " 123456 ")
    assert status(client, registered["orderId"])["cardAuthInfo"]["secureAuthInfo"] == {"eci": 2}


@pytest.mark.parametrize("action", ["fail", "cancel"])
def test_fail_and_cancel_decline_with_minus_2006(client: FlaskClient, merchant: Merchant, action: str) -> None:
    registered, acs = to_acs(client)
    returned_to(answer(client, acs, action), "/fail", registered["orderId"])
    body = status(client, registered["orderId"])
    assert (body["orderStatus"], body["actionCode"]) == (6, -2006)
    assert "secureAuthInfo" not in body["cardAuthInfo"]
    assert merchant.seen() == [("deposited", "0")]


def test_a_wrong_code_shows_the_page_again_until_the_third_fails(client: FlaskClient, merchant: Merchant) -> None:
    registered, acs = to_acs(client)
    first = answer(client, acs, "pass", "000000")
    assert first.status_code == 400
    assert "Attempts left: 2" in first.get_data(as_text=True)
    assert 'data-testid="acs-error"' in first.get_data(as_text=True)
    assert "Attempts left: 1" in answer(client, acs, "pass", "").get_data(as_text=True)
    assert status(client, registered["orderId"])["orderStatus"] == 5
    returned_to(answer(client, acs, "pass", "654321"), "/fail", registered["orderId"])
    assert (status(client, registered["orderId"])["actionCode"], merchant.seen()) == (-2006, [("deposited", "0")])


@pytest.mark.parametrize(("pan", "action_code"), [(CHALLENGE_FAILS, -2006), (CHALLENGE_ERROR, 999)])
def test_cards_whose_passed_challenge_still_declines(
    client: FlaskClient, merchant: Merchant, pan: str, action_code: int
) -> None:
    registered, acs = to_acs(client, pan)
    returned_to(answer(client, acs, "pass", "123456"), "/fail", registered["orderId"])
    assert (status(client, registered["orderId"])["actionCode"], merchant.seen()) == (
        action_code,
        [("deposited", "0")],
    )


def test_an_answered_challenge_cannot_be_answered_again(client: FlaskClient, merchant: Merchant) -> None:
    registered, acs = to_acs(client)
    answer(client, acs, "pass", "123456")
    again = answer(client, acs, "fail")
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert 'data-message="already_processed"' in html and 'id="return-link"' in html
    assert status(client, registered["orderId"])["orderStatus"] == 2
    assert merchant.seen() == [("deposited", "1")]
    page = client.get(acs)
    assert page.status_code == 200 and 'data-message="already_processed"' in page.get_data(as_text=True)


@pytest.mark.parametrize("data", [{"action": "maybe"}, {}, {"action": "PASS", "otp": "123456"}])
def test_a_bad_answer_is_400_and_changes_nothing(client: FlaskClient, data: dict[str, str]) -> None:
    registered, acs = to_acs(client)
    response = client.post(acs, data=data)
    assert response.status_code == 400
    assert status(client, registered["orderId"])["orderStatus"] == 5


def test_unknown_orders_get_404_and_a_registered_order_goes_to_its_card_page(client: FlaskClient) -> None:
    assert client.get("/payment/acs/challenge?mdOrder=nope").status_code == 404
    assert client.get("/payment/acs/challenge").status_code == 404
    assert client.post("/payment/acs/challenge?mdOrder=nope", data={"action": "pass"}).status_code == 404
    registered = register(client)
    page = client.get(f"/payment/acs/challenge?mdOrder={registered['orderId']}")
    assert page.status_code == 302 and page_path(page.headers["Location"]) == page_path(registered["formUrl"])
    answered = client.post(f"/payment/acs/challenge?mdOrder={registered['orderId']}", data={"action": "pass"})
    assert answered.status_code == 409
    assert status(client, registered["orderId"])["orderStatus"] == 0


# -- left open ---------------------------------------------------------------------------------------------------------


def test_an_acs_page_left_open_expires_with_the_session(client: FlaskClient, merchant: Merchant) -> None:
    registered, acs = to_acs(client, sessionTimeoutSecs="300")
    assert [job["tags"]["bank"] for job in bank_jobs(client)] == ["session-expiry"]
    advance(client, 300)
    assert merchant.seen() == [("declinedByTimeout", "0")]
    body = status(client, registered["orderId"])
    assert (body["orderStatus"], body["actionCode"]) == (6, -2007)
    late = answer(client, acs, "pass", "123456")
    assert late.status_code == 409
    assert 'data-message="session_expired"' in late.get_data(as_text=True)
    assert merchant.seen() == [("declinedByTimeout", "0")]


def test_the_acs_journal_entries_belong_to_the_order(client: FlaskClient) -> None:
    registered, acs = to_acs(client)
    client.get(acs)
    answer(client, acs, "pass", "123456")
    entries = client.get(f"/_control/journal?service=vpos&order={registered['orderId']}").get_json()["entries"]
    operations = [entry["operation"] for entry in entries]
    assert "3ds page" in operations and "3ds answer" in operations


def test_a_card_page_submit_is_the_first_to_notice_an_acs_session_is_over(
    app: flask.Flask, client: FlaskClient, merchant: Merchant
) -> None:
    state = get_state(app)
    registered, _ = to_acs(client, sessionTimeoutSecs="60")
    for job in state.scheduler.pending(md_order=registered["orderId"]):
        state.scheduler.cancel(job.seq)
    advance(client, 61)
    returned_to(submit(client, registered, "4242424242424242"), "/fail", registered["orderId"])
    assert (status(client, registered["orderId"])["actionCode"], merchant.seen()) == (
        -2007,
        [("declinedByTimeout", "0")],
    )


def test_an_acs_answer_is_the_first_to_notice_the_session_is_over(
    app: flask.Flask, client: FlaskClient, merchant: Merchant
) -> None:
    state = get_state(app)
    registered, acs = to_acs(client, sessionTimeoutSecs="60")
    for job in state.scheduler.pending(md_order=registered["orderId"]):
        state.scheduler.cancel(job.seq)
    advance(client, 61)
    returned_to(answer(client, acs, "pass", "123456"), "/fail", registered["orderId"])
    assert (status(client, registered["orderId"])["actionCode"], merchant.seen()) == (
        -2007,
        [("declinedByTimeout", "0")],
    )
