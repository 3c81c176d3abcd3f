"""The simulated bank (RBS API, hosted card page) through Flask's test client: no sockets."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import pytest
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app, get_state

PUBLIC = "http://sim.test"
AMD = VposMerchant("shop_amd", "pw-amd", "051")
USD = VposMerchant("shop_usd", "pw-usd", "840")
CREDS = {"userName": "shop_amd", "password": "pw-amd"}


@pytest.fixture
def app() -> flask.Flask:
    config = SimulatorConfig(
        public_url=PUBLIC,
        payment_url="http://gw.test/ecwid/payment",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", "secret_token_1003"),),
        merchants=(AMD, USD),
    )
    return create_app(config)


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return app.test_client()


def register(client: FlaskClient, **overrides: str | None) -> dict[str, Any]:
    params: dict[str, str | None] = {
        **CREDS,
        "orderNumber": "A-1",
        "amount": "1500000",
        "currency": "051",
        "returnUrl": "http://gw.test/return?attempt=7",
        "language": "en",
    }
    params.update(overrides)
    response = client.post("/payment/rest/register.do", data={k: v for k, v in params.items() if v is not None})
    assert response.status_code == 200
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def status(client: FlaskClient, **params: str) -> dict[str, Any]:
    response = client.post("/payment/rest/getOrderStatusExtended.do", data={**CREDS, **params})
    assert response.status_code == 200
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def page_path(form_url: str) -> str:
    parts = urlsplit(form_url)
    return f"{parts.path}?{parts.query}"


def submit(client: FlaskClient, form_url: str, pan: str, expiry: str = "12/39", cvc: str = "123") -> Any:
    return client.post(page_path(form_url), data={"pan": pan, "expiry": expiry, "cvc": cvc, "cardholder": "Ani A"})


# -- register.do ---------------------------------------------------------------------------------------------


def test_register_returns_order_id_form_url_and_numeric_error_code_zero(client: FlaskClient) -> None:
    body = register(client, language="hy")
    assert body["errorCode"] == 0
    assert body["formUrl"] == f"{PUBLIC}/payment/merchants/sim/payment_hy.html?mdOrder={body['orderId']}"


def test_register_accepts_query_parameters(client: FlaskClient) -> None:
    query = {**CREDS, "orderNumber": "Q-1", "amount": "100", "returnUrl": "http://gw.test/r"}
    body = client.post("/payment/rest/register.do", query_string=query).get_json()
    assert body["errorCode"] == 0


def test_register_stores_all_parameters(client: FlaskClient, app: flask.Flask) -> None:
    body = register(
        client,
        failUrl="http://gw.test/fail",
        description="Order XJ12H",
        pageView="MOBILE",
        jsonParams='{"FORCE_3DS2":"true"}',
        dynamicCallbackUrl="http://gw.test/cb",
        sessionTimeoutSecs="600",
        clientId="c-1",
    )
    order = get_state(app).bank.get(body["orderId"])
    assert order is not None
    assert (order.amount, order.currency, order.fail_url, order.page_view) == (
        1500000,
        "051",
        "http://gw.test/fail",
        "MOBILE",
    )
    assert order.json_params == {"FORCE_3DS2": "true"}
    assert (order.dynamic_callback_url, order.session_timeout_secs) == ("http://gw.test/cb", 600)
    assert order.description == "Order XJ12H"


def test_register_defaults_session_timeout_to_1200(client: FlaskClient, app: flask.Flask) -> None:
    order = get_state(app).bank.get(register(client)["orderId"])
    assert order is not None and order.session_timeout_secs == 1200


def test_register_same_order_number_twice_is_error_1(client: FlaskClient) -> None:
    register(client)
    assert register(client) == {"errorCode": "1", "errorMessage": "Order with this number was already processed"}


def test_same_order_number_for_another_merchant_is_allowed(client: FlaskClient) -> None:
    register(client)
    assert register(client, userName="shop_usd", password="pw-usd", currency="840")["errorCode"] == 0


def test_register_unknown_currency_is_error_3(client: FlaskClient) -> None:
    assert register(client, currency="999")["errorCode"] == "3"


def test_register_accepts_the_numeric_currency_without_leading_zeros(client: FlaskClient) -> None:
    # Clients that send the ISO 4217 code as a number send 51 for AMD.
    assert "orderId" in register(client, currency="51")


@pytest.mark.parametrize("missing", ["userName", "password", "orderNumber", "amount", "returnUrl"])
def test_register_missing_mandatory_parameter_is_error_4(client: FlaskClient, missing: str) -> None:
    body = register(client, **{missing: None})
    assert body["errorCode"] == "4"
    assert missing in body["errorMessage"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"password": "wrong"},
        {"userName": "nobody"},
        {"currency": "840"},
        {"amount": "15000.00"},
        {"amount": "0"},
        {"amount": "-5"},
        {"amount": "abc"},
        {"jsonParams": "{not json"},
        {"jsonParams": "[1, 2]"},
        {"pageView": "TABLET"},
        {"language": "de"},
        {"orderNumber": "X" * 33},
        {"returnUrl": "not-a-url"},
        {"sessionTimeoutSecs": "soon"},
    ],
)
def test_register_bad_value_or_credentials_is_error_5(client: FlaskClient, overrides: dict[str, str]) -> None:
    body = register(client, **overrides)
    assert body["errorCode"] == "5"
    assert body["errorMessage"]
    assert "orderId" not in body


def test_register_order_number_of_32_chars_is_accepted(client: FlaskClient) -> None:
    assert register(client, orderNumber="X" * 32)["errorCode"] == 0


def test_register_never_echoes_the_password(client: FlaskClient, app: flask.Flask) -> None:
    register(client, password="wrong")
    register(client)
    journal = client.get("/_control/journal?service=vpos").get_data(as_text=True)
    assert "pw-amd" not in journal and "wrong" not in journal


# -- getOrderStatusExtended.do ---------------------------------------------------------------------------------


def test_status_of_registered_order_is_0_with_action_code_minus_100(client: FlaskClient) -> None:
    md_order = register(client, jsonParams='{"FORCE_3DS2":"true"}')["orderId"]
    body = status(client, orderId=md_order, language="en")
    assert body["errorCode"] == "0"
    assert (body["orderStatus"], body["actionCode"], body["amount"], body["currency"]) == (0, -100, 1500000, "051")
    assert body["orderNumber"] == "A-1"
    assert body["attributes"] == [{"name": "mdOrder", "value": md_order}]
    assert body["merchantOrderParams"] == [{"name": "FORCE_3DS2", "value": "true"}]
    assert body["paymentAmountInfo"] == {
        "paymentState": "CREATED",
        "approvedAmount": 0,
        "depositedAmount": 0,
        "refundedAmount": 0,
    }
    assert body["refunds"] == []
    assert isinstance(body["date"], int)


def test_status_by_order_number(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    body = status(client, orderNumber="A-1")
    assert body["attributes"][0]["value"] == md_order


def test_status_unknown_order_is_error_6(client: FlaskClient) -> None:
    assert status(client, orderId="00000000-0000-0000-0000-000000000000")["errorCode"] == "6"
    assert status(client, orderNumber="nope")["errorCode"] == "6"
    assert status(client)["errorCode"] == "6"


def test_status_with_wrong_credentials_is_error_5(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    assert status(client, orderId=md_order, password="bad")["errorCode"] == "5"


def test_status_of_another_merchants_order_is_unknown(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    assert status(client, orderId=md_order, userName="shop_usd", password="pw-usd")["errorCode"] == "6"


def test_status_after_successful_payment(client: FlaskClient) -> None:
    registered = register(client)
    submit(client, registered["formUrl"], "4242424242424242", expiry="11/39")
    body = status(client, orderId=registered["orderId"])
    assert (body["orderStatus"], body["actionCode"], body["actionCodeDescription"]) == (2, 0, "Approved")
    card = body["cardAuthInfo"]
    assert card["maskedPan"] == "424242**4242"
    assert card["expiration"] == "203911"
    assert card["cardholderName"] == "ANI A"
    assert len(card["approvalCode"]) == 6
    assert card["paymentSystem"] == "VISA"
    assert body["paymentAmountInfo"]["paymentState"] == "DEPOSITED"
    assert body["paymentAmountInfo"]["depositedAmount"] == 1500000
    assert body["bankInfo"]["bankCountryCode"] == "AM"


def test_status_description_follows_language(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    assert status(client, orderId=md_order, language="ru")["actionCodeDescription"] == "Не было попыток оплаты"


def test_legacy_get_order_status_uses_capitalised_keys(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    body = client.post("/payment/rest/getOrderStatus.do", data={**CREDS, "orderId": md_order}).get_json()
    assert (body["ErrorCode"], body["OrderStatus"], body["OrderNumber"], body["Amount"]) == ("0", 0, "A-1", 1500000)
    bad = client.post("/payment/rest/getOrderStatus.do", data={**CREDS, "orderId": "x"}).get_json()
    assert bad["ErrorCode"] == "6"


def test_unimplemented_method_answers_system_error_7(client: FlaskClient) -> None:
    body = client.post("/payment/rest/getBindings.do", data=CREDS).get_json()
    assert body["errorCode"] == "7"


# -- hosted card page ------------------------------------------------------------------------------------------


def test_card_page_shows_amount_order_and_form_in_desktop_layout(client: FlaskClient) -> None:
    registered = register(client, description="Apricot jam")
    page = client.get(page_path(registered["formUrl"]))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'class="page-desktop"' in html
    for element_id in ("pan", "expiry", "cardholder", "cvc", "pay", "cancel"):
        assert f'id="{element_id}"' in html
    assert "15\u00a0000.00 AMD" in html
    assert "A-1" in html
    assert 'name="viewport"' not in html


def test_card_page_mobile_layout_for_page_view_mobile(client: FlaskClient) -> None:
    registered = register(client, pageView="MOBILE")
    html = client.get(page_path(registered["formUrl"])).get_data(as_text=True)
    assert 'class="page-mobile"' in html
    assert 'name="viewport"' in html


@pytest.mark.parametrize(("lang", "word"), [("hy", "Վճարել"), ("ru", "Оплатить"), ("en", "Pay")])
def test_card_page_texts_in_three_languages(client: FlaskClient, lang: str, word: str) -> None:
    registered = register(client, language=lang)
    assert word in client.get(page_path(registered["formUrl"])).get_data(as_text=True)


def test_card_page_unknown_order_is_404(client: FlaskClient) -> None:
    assert client.get("/payment/merchants/sim/payment_en.html?mdOrder=nope").status_code == 404
    assert client.get("/payment/merchants/sim/payment_en.html").status_code == 404
    assert client.get("/payment/merchants/sim/payment_de.html?mdOrder=x").status_code == 404


def test_success_card_redirects_to_return_url_with_order_id_and_lang(client: FlaskClient) -> None:
    registered = register(client, failUrl="http://gw.test/fail")
    response = submit(client, registered["formUrl"], "4242424242424242")
    assert response.status_code == 302
    assert response.headers["Location"] == (f"http://gw.test/return?attempt=7&orderId={registered['orderId']}&lang=en")


def test_decline_redirects_to_fail_url_when_given(client: FlaskClient) -> None:
    registered = register(client, failUrl="http://gw.test/fail", language="ru")
    response = submit(client, registered["formUrl"], "4000000000000002")
    assert response.headers["Location"] == f"http://gw.test/fail?orderId={registered['orderId']}&lang=ru"


def test_decline_without_fail_url_goes_to_return_url(client: FlaskClient) -> None:
    registered = register(client)
    response = submit(client, registered["formUrl"], "4000000000009995")
    assert urlsplit(response.headers["Location"]).path == "/return"


@pytest.mark.parametrize(
    ("pan", "expiry", "order_status", "action_code"),
    [
        ("4242424242424242", "12/39", 2, 0),
        ("5555555555554444", "12/39", 2, 0),
        ("9051000000000009", "12/39", 2, 0),
        ("4000000000009995", "12/39", 6, 116),
        ("4000000000000069", "12/39", 6, 101),
        ("4000000000000002", "12/39", 6, 100),
        ("4000000000000036", "12/39", 6, 120),
        ("4000000000000119", "12/39", 6, 907),
        ("4242424242424241", "12/39", 6, 111),
        ("4012888888881881", "12/39", 6, 100),
        ("4242424242424242", "01/20", 6, 101),
    ],
)
def test_card_table_decides_the_outcome(
    client: FlaskClient, pan: str, expiry: str, order_status: int, action_code: int
) -> None:
    registered = register(client)
    submit(client, registered["formUrl"], pan, expiry=expiry)
    body = status(client, orderId=registered["orderId"])
    assert (body["orderStatus"], body["actionCode"]) == (order_status, action_code)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"pan": "", "expiry": "12/39", "cvc": "123"}, "Enter the card number."),
        ({"pan": "4242 abc", "expiry": "12/39", "cvc": "123"}, "Enter the card number."),
        ({"pan": "4242424242424242", "expiry": "1239", "cvc": "123"}, "Enter the expiry date as MM/YY."),
        ({"pan": "4242424242424242", "expiry": "13/39", "cvc": "123"}, "Enter the expiry date as MM/YY."),
        ({"pan": "4242424242424242", "expiry": "12/39", "cvc": "1"}, "Enter the 3 or 4 digit security code."),
    ],
)
def test_malformed_card_form_is_shown_again_without_deciding(
    client: FlaskClient, form: dict[str, str], message: str
) -> None:
    registered = register(client)
    response = client.post(page_path(registered["formUrl"]), data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert status(client, orderId=registered["orderId"])["orderStatus"] == 0


def test_second_submit_does_not_change_a_decided_order(client: FlaskClient) -> None:
    registered = register(client)
    submit(client, registered["formUrl"], "4000000000000002")
    again = submit(client, registered["formUrl"], "4242424242424242")
    assert again.status_code == 409
    assert "already been processed" in again.get_data(as_text=True)
    assert status(client, orderId=registered["orderId"])["orderStatus"] == 6
    assert "already been processed" in client.get(page_path(registered["formUrl"])).get_data(as_text=True)


def test_pay_endpoint_works_like_the_page(client: FlaskClient) -> None:
    registered = register(client)
    form = {"mdOrder": registered["orderId"], "lang": "en", "pan": "4242424242424242", "expiry": "12/39", "cvc": "123"}
    response = client.post("/payment/merchants/sim/pay", data=form)
    assert response.status_code == 302
    assert status(client, orderId=registered["orderId"])["orderStatus"] == 2


def test_cancel_returns_to_fail_url_without_paying(client: FlaskClient) -> None:
    registered = register(client, failUrl="http://gw.test/fail?a=b")
    response = client.get(f"/payment/merchants/sim/cancel?mdOrder={registered['orderId']}")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/fail"
    assert parse_qs(location.query) == {"a": ["b"], "orderId": [registered["orderId"]], "lang": ["en"]}
    assert status(client, orderId=registered["orderId"])["orderStatus"] == 0


def test_cancel_unknown_order_is_404(client: FlaskClient) -> None:
    assert client.get("/payment/merchants/sim/cancel?mdOrder=nope").status_code == 404


def test_expired_session_declines_with_minus_2007(client: FlaskClient) -> None:
    registered = register(client, sessionTimeoutSecs="60")
    client.post("/_control/clock/advance", json={"seconds": 61})  # the session's job declines it on the way
    response = submit(client, registered["formUrl"], "4242424242424242")
    assert response.status_code == 409
    body = status(client, orderId=registered["orderId"])
    assert (body["orderStatus"], body["actionCode"]) == (6, -2007)


def test_expiry_is_visible_to_status_polling_without_a_submit(client: FlaskClient) -> None:
    registered = register(client)
    client.post("/_control/clock/advance", json={"seconds": 1201})
    body = status(client, orderId=registered["orderId"])
    assert (body["orderStatus"], body["actionCode"]) == (6, -2007)
    html = client.get(page_path(registered["formUrl"])).get_data(as_text=True)
    assert "payment time limit has expired" in html
