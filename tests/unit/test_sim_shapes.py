"""Bank response shapes where real banks differ (errorCode number or string, omitted on success, errorCode 2 for a
declined order, the getOrderStatusExtended response version), switched through ``/_control/vpos/shapes``, and the
status lookups of protocols.md 2.4/2.5. Through Flask's test client: no sockets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import flask
import pytest
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app, get_state

AMD = {"userName": "shop_amd", "password": "pw-amd"}
USD = {"userName": "shop_usd", "password": "pw-usd"}
SHAPES = "/_control/vpos/shapes"
UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def app() -> flask.Flask:
    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/pay",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", "secret_token_1003"),),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"), VposMerchant("shop_usd", "pw-usd", "840")),
    )
    return create_app(config)


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return app.test_client()


def register(client: FlaskClient, number: str = "N-1", creds: dict[str, str] = AMD) -> dict[str, Any]:
    params = {**creds, "orderNumber": number, "amount": "250000", "returnUrl": "http://gw.test/return"}
    body = client.post("/payment/rest/register.do", data=params).get_json()
    assert isinstance(body, dict)
    return body


def status(client: FlaskClient, creds: dict[str, str] = AMD, **params: str) -> dict[str, Any]:
    response = client.post("/payment/rest/getOrderStatusExtended.do", data={**creds, **params})
    assert response.status_code == 200
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def legacy(client: FlaskClient, creds: dict[str, str] = AMD, **params: str) -> dict[str, Any]:
    body = client.post("/payment/rest/getOrderStatus.do", data={**creds, **params}).get_json()
    assert isinstance(body, dict)
    return body


def pay(client: FlaskClient, md_order: str, pan: str) -> None:
    response = client.post(f"/_control/vpos/orders/{md_order}/pay", json={"pan": pan, "expiry": "12/39"})
    assert response.status_code == 200


def put_shapes(client: FlaskClient, **body: Any) -> dict[str, Any]:
    response = client.put(SHAPES, json=body)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert isinstance(data, dict)
    return data


PAID = "4242424242424242"
DECLINED = "4000000000000002"


# -- defaults: today's shapes ---------------------------------------------------------------------------------


def test_default_shapes_are_unchanged(client: FlaskClient) -> None:
    registered = register(client)
    assert registered["errorCode"] == 0
    assert register(client)["errorCode"] == "1"
    md_order = registered["orderId"]
    assert status(client, orderId=md_order)["errorCode"] == "0"
    assert status(client, orderId=UNKNOWN) == {"errorCode": "6", "errorMessage": "Order not found"}
    assert legacy(client, orderId=md_order)["ErrorCode"] == "0"
    body = status(client, orderId=md_order)
    assert "chargeback" not in body and "displayErrorMessage" not in body
    assert {"paymentAmountInfo", "refunds"} <= set(body)
    assert client.get(SHAPES).get_json() == {
        "global": {"errorCodeType": {}, "omitErrorCodeOnSuccess": {}, "declinedErrorCode": None, "statusVersion": None},
        "merchants": {},
    }


def test_a_declined_order_answers_error_code_0_by_default(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    pay(client, md_order, DECLINED)
    body = status(client, orderId=md_order)
    assert (body["errorCode"], body["orderStatus"]) == ("0", 6)


# -- errorCode number or string, per method ------------------------------------------------------------------


def test_error_code_as_string_or_number_per_method(client: FlaskClient) -> None:
    answer = put_shapes(client, errorCodeType={"register.do": "string", "getOrderStatusExtended.do": "number"})
    assert answer["global"]["errorCodeType"] == {"register.do": "string", "getOrderStatusExtended.do": "number"}
    md_order = register(client)["orderId"]
    assert register(client, "N-2")["errorCode"] == "0"
    assert register(client)["errorCode"] == "1"
    assert status(client, orderId=md_order)["errorCode"] == 0
    assert status(client, orderId=UNKNOWN)["errorCode"] == 6
    assert status(client, orderId=md_order, password="bad")["errorCode"] == 5
    assert legacy(client, orderId=md_order)["ErrorCode"] == "0"  # not named: unchanged


def test_error_code_number_for_register_errors_too(client: FlaskClient) -> None:
    put_shapes(client, errorCodeType={"register.do": "number"})
    assert register(client)["errorCode"] == 0
    assert register(client)["errorCode"] == 1
    body = client.post("/payment/rest/register.do", data=AMD).get_json()
    assert body["errorCode"] == 4


def test_wildcard_error_code_type_covers_every_method_and_a_named_method_wins(client: FlaskClient) -> None:
    put_shapes(client, errorCodeType={"*": "number", "register.do": "string"})
    md_order = register(client)["orderId"]
    assert register(client, "N-2")["errorCode"] == "0"
    assert status(client, orderId=md_order)["errorCode"] == 0
    assert legacy(client, orderId=md_order)["ErrorCode"] == 0
    assert client.post("/payment/rest/getBindings.do", data=AMD).get_json()["errorCode"] == 7


@pytest.mark.parametrize("unset", ["default", None])
def test_default_type_or_null_removes_a_setting(client: FlaskClient, unset: str | None) -> None:
    put_shapes(client, errorCodeType={"register.do": "string", "*": "number"})
    answer = put_shapes(client, errorCodeType={"register.do": unset})
    assert answer["global"]["errorCodeType"] == {"*": "number"}
    assert register(client)["errorCode"] == 0


# -- errorCode omitted on success ------------------------------------------------------------------------------


def test_error_code_omitted_on_success(client: FlaskClient) -> None:
    put_shapes(
        client,
        omitErrorCodeOnSuccess={"register.do": True, "getOrderStatusExtended.do": True, "getOrderStatus.do": True},
    )
    registered = register(client)
    assert set(registered) == {"orderId", "formUrl"}
    body = status(client, orderId=registered["orderId"])
    assert "errorCode" not in body and "errorMessage" not in body
    assert body["orderStatus"] == 0
    old = legacy(client, orderId=registered["orderId"])
    assert "ErrorCode" not in old and "ErrorMessage" not in old
    assert register(client)["errorCode"] == "1"  # errors keep it
    assert status(client, orderId=UNKNOWN)["errorCode"] == "6"


def test_omission_can_be_switched_off_again(client: FlaskClient) -> None:
    put_shapes(client, omitErrorCodeOnSuccess={"register.do": True})
    answer = put_shapes(client, omitErrorCodeOnSuccess={"register.do": None})
    assert answer["global"]["omitErrorCodeOnSuccess"] == {}
    assert register(client)["errorCode"] == 0


# -- errorCode 2 for a declined order ---------------------------------------------------------------------------


def test_declined_order_answered_with_error_code_2_and_its_full_status(client: FlaskClient) -> None:
    put_shapes(client, declinedErrorCode=2)
    declined = register(client, "D-1")["orderId"]
    paid = register(client, "P-1")["orderId"]
    pay(client, declined, DECLINED)
    pay(client, paid, PAID)
    body = status(client, orderId=declined)
    assert (body["errorCode"], body["orderStatus"], body["actionCode"]) == ("2", 6, 100)
    assert body["errorMessage"]
    assert body["orderNumber"] == "D-1"
    assert status(client, orderId=paid)["errorCode"] == "0"
    assert status(client, orderId=register(client, "R-1")["orderId"])["errorCode"] == "0"
    assert legacy(client, orderId=declined)["ErrorCode"] == "2"


def test_declined_error_code_2_is_never_omitted_and_follows_the_type(client: FlaskClient) -> None:
    put_shapes(
        client,
        declinedErrorCode=2,
        errorCodeType={"getOrderStatusExtended.do": "number"},
        omitErrorCodeOnSuccess={"getOrderStatusExtended.do": True},
    )
    md_order = register(client)["orderId"]
    pay(client, md_order, DECLINED)
    assert status(client, orderId=md_order)["errorCode"] == 2


# -- per merchant ------------------------------------------------------------------------------------------------


def test_a_merchant_setting_applies_to_that_merchant_only_and_wins_over_the_global_one(client: FlaskClient) -> None:
    put_shapes(client, errorCodeType={"register.do": "string"})
    answer = put_shapes(client, merchant="shop_usd", errorCodeType={"register.do": "number"}, statusVersion=3)
    assert answer["merchants"]["shop_usd"]["errorCodeType"] == {"register.do": "number"}
    assert answer["merchants"]["shop_usd"]["statusVersion"] == 3
    assert register(client, "A-1")["errorCode"] == "0"
    usd = register(client, "U-1", USD)
    assert usd["errorCode"] == 0
    assert "refunds" not in status(client, USD, orderId=usd["orderId"])
    assert "refunds" in status(client, orderId=register(client, "A-2")["orderId"])


def test_a_merchant_setting_applies_even_to_its_failed_logins(client: FlaskClient) -> None:
    put_shapes(client, merchant="shop_usd", errorCodeType={"getOrderStatusExtended.do": "number"})
    assert status(client, {"userName": "shop_usd", "password": "wrong"}, orderId=UNKNOWN)["errorCode"] == 5
    assert status(client, {"userName": "nobody", "password": "wrong"}, orderId=UNKNOWN)["errorCode"] == "5"


def test_delete_restores_default_shapes_and_so_does_reset(client: FlaskClient) -> None:
    put_shapes(client, statusVersion=1, merchant="shop_amd")
    put_shapes(client, declinedErrorCode=2)
    cleared = client.delete(SHAPES)
    assert cleared.status_code == 200
    assert cleared.get_json()["merchants"] == {}
    assert cleared.get_json()["global"]["declinedErrorCode"] is None
    put_shapes(client, statusVersion=1)
    client.post("/_control/reset")
    assert client.get(SHAPES).get_json()["global"]["statusVersion"] is None


def test_shape_changes_are_journaled(client: FlaskClient) -> None:
    put_shapes(client, statusVersion=30)
    client.delete(SHAPES)
    entries = client.get("/_control/journal?service=control").get_json()["entries"]
    assert [entry["operation"] for entry in entries] == ["shapes", "shapes reset"]


@pytest.mark.parametrize(
    ("body", "status_code", "message"),
    [
        ([], 400, "JSON object"),
        ({}, 400, "at least one"),
        ({"merchant": "shop_amd"}, 400, "at least one"),
        ({"colour": "red"}, 400, "colour"),
        ({"merchant": 5, "statusVersion": 3}, 400, "merchant"),
        ({"merchant": "nobody", "statusVersion": 3}, 404, "nobody"),
        ({"errorCodeType": "number"}, 400, "errorCodeType"),
        ({"errorCodeType": {"register": "number"}}, 400, "register"),
        ({"errorCodeType": {"register.do": "int"}}, 400, "errorCodeType"),
        ({"omitErrorCodeOnSuccess": ["register.do"]}, 400, "omitErrorCodeOnSuccess"),
        ({"omitErrorCodeOnSuccess": {"register.do": "yes"}}, 400, "omitErrorCodeOnSuccess"),
        ({"omitErrorCodeOnSuccess": {"x": True}}, 400, "x"),
        ({"omitErrorCodeOnSuccess": {"register.do": 1}}, 400, "omitErrorCodeOnSuccess"),
        ({"declinedErrorCode": 1}, 400, "declinedErrorCode"),
        ({"declinedErrorCode": "2"}, 400, "declinedErrorCode"),
        ({"declinedErrorCode": True}, 400, "declinedErrorCode"),
        ({"statusVersion": 0}, 400, "statusVersion"),
        ({"statusVersion": 47}, 400, "statusVersion"),
        ({"statusVersion": 3.5}, 400, "statusVersion"),
        ({"statusVersion": "30"}, 400, "statusVersion"),
        ({"statusVersion": False}, 400, "statusVersion"),
    ],
)
def test_bad_shape_input(client: FlaskClient, body: Any, status_code: int, message: str) -> None:
    response = client.put(SHAPES, json=body)
    assert response.status_code == status_code
    answer = response.get_json()
    assert answer["error"] == ("bad_input" if status_code == 400 else "not_found")
    assert message in answer["message"]
    assert client.get(SHAPES).get_json()["merchants"] == {}


def test_a_bad_shape_request_changes_nothing(client: FlaskClient) -> None:
    response = client.put(SHAPES, json={"statusVersion": 3, "declinedErrorCode": 9})
    assert response.status_code == 400
    assert client.get(SHAPES).get_json()["global"]["statusVersion"] is None


# -- the getOrderStatusExtended response version (protocols.md 2.9) ------------------------------------------


def paid_status(client: FlaskClient, version: int | None, number: str = "N-1") -> dict[str, Any]:
    put_shapes(client, statusVersion=version)
    md_order = register(client, number)["orderId"]
    pay(client, md_order, PAID)
    return status(client, orderId=md_order)


@pytest.mark.parametrize("version", [1, 2])
def test_versions_before_3_have_no_amount_info_bank_info_or_refunds(client: FlaskClient, version: int) -> None:
    body = paid_status(client, version)
    assert body["orderStatus"] == 2
    assert not {"paymentAmountInfo", "bankInfo", "refunds", "chargeback", "displayErrorMessage"} & set(body)
    assert body["cardAuthInfo"]["maskedPan"] == "424242**4242"


def test_version_3_adds_amount_info_and_bank_info(client: FlaskClient) -> None:
    body = paid_status(client, 3)
    assert body["paymentAmountInfo"]["paymentState"] == "DEPOSITED"
    assert body["bankInfo"]["bankCountryCode"] == "AM"
    assert "refunds" not in body


def test_version_5_adds_refunds(client: FlaskClient) -> None:
    body = paid_status(client, 5)
    assert body["refunds"] == []
    assert "chargeback" not in body


def test_version_6_adds_chargeback(client: FlaskClient) -> None:
    assert paid_status(client, 6)["chargeback"] is False


def test_unversioned_default_equals_version_5(client: FlaskClient) -> None:
    default = paid_status(client, None, "N-1")
    five = paid_status(client, 5, "N-2")
    assert set(default) == set(five)


def test_refund_external_id_from_version_21(client: FlaskClient, app: flask.Flask) -> None:
    md_order = register(client)["orderId"]
    pay(client, md_order, PAID)
    order = get_state(app).bank.get(md_order)
    refund = {"amount": 1000, "date": 1751294405226, "externalRefundId": "r-1", "actionCode": 0}
    object.__setattr__(order, "refunds", [refund])  # a refund as the order book will keep it
    put_shapes(client, statusVersion=20)
    assert status(client, orderId=md_order)["refunds"] == [{"amount": 1000, "date": 1751294405226, "actionCode": 0}]
    put_shapes(client, statusVersion=21)
    assert status(client, orderId=md_order)["refunds"] == [refund]


def test_three_ds2_fields_from_version_30(client: FlaskClient, app: flask.Flask) -> None:
    md_order = register(client)["orderId"]
    pay(client, md_order, PAID)
    order = get_state(app).bank.get(md_order)
    object.__setattr__(order, "three_ds_protocol_version", "2.2.0")  # set by a 3-D Secure payment
    put_shapes(client, statusVersion=29)
    assert "threeDSProtocolVersion" not in status(client, orderId=md_order)["cardAuthInfo"]["secureAuthInfo"]
    put_shapes(client, statusVersion=30)
    secure = status(client, orderId=md_order)["cardAuthInfo"]["secureAuthInfo"]
    assert secure["threeDSProtocolVersion"] == "2.2.0"


def test_three_ds2_fields_never_appear_for_a_payment_without_3ds(client: FlaskClient) -> None:
    body = paid_status(client, 46)
    assert "threeDSProtocolVersion" not in body["cardAuthInfo"]["secureAuthInfo"]


def test_display_error_message_from_version_33_for_a_declined_order(client: FlaskClient) -> None:
    put_shapes(client, statusVersion=32)
    md_order = register(client)["orderId"]
    pay(client, md_order, DECLINED)
    assert "displayErrorMessage" not in status(client, orderId=md_order)
    put_shapes(client, statusVersion=33)
    assert status(client, orderId=md_order, language="en")["displayErrorMessage"]
    assert "displayErrorMessage" not in paid_status(client, 33, "N-2")


# -- lookups and errors of protocols.md 2.4/2.5, in every shape -----------------------------------------------


@pytest.mark.parametrize(
    "shapes",
    [
        {},
        {"errorCodeType": {"*": "number"}},
        {"omitErrorCodeOnSuccess": {"*": True}},
        {"statusVersion": 1},
        {"statusVersion": 46, "declinedErrorCode": 2},
    ],
)
def test_order_not_found_has_no_order_status_in_any_shape(client: FlaskClient, shapes: dict[str, Any]) -> None:
    if shapes:
        put_shapes(client, **shapes)
    register(client)
    for params in ({"orderId": UNKNOWN}, {"orderNumber": "nope"}, {}):
        body = status(client, **params)
        assert str(body["errorCode"]) == "6"
        assert "orderStatus" not in body
    assert "OrderStatus" not in legacy(client, orderId=UNKNOWN)


def test_status_by_order_number_is_the_merchants_own_order(client: FlaskClient) -> None:
    amd = register(client, "SAME")["orderId"]
    usd = register(client, "SAME", USD)["orderId"]
    assert status(client, orderNumber="SAME")["attributes"] == [{"name": "mdOrder", "value": amd}]
    assert status(client, USD, orderNumber="SAME")["attributes"] == [{"name": "mdOrder", "value": usd}]
    assert status(client, orderNumber="SAME")["orderNumber"] == "SAME"


def test_status_by_order_number_checks_credentials_first(client: FlaskClient) -> None:
    register(client)
    assert status(client, {"userName": "shop_amd", "password": "bad"}, orderNumber="N-1")["errorCode"] == "5"
    assert status(client, {"userName": "shop_usd", "password": "pw-usd"}, orderNumber="N-1")["errorCode"] == "6"


def test_status_with_order_id_and_order_number_uses_the_order_id(client: FlaskClient) -> None:
    first = register(client, "N-1")["orderId"]
    register(client, "N-2")
    body = status(client, orderId=first, orderNumber="N-2")
    assert body["orderNumber"] == "N-1"
    assert status(client, orderId=UNKNOWN, orderNumber="N-2")["errorCode"] == "6"


def test_status_by_order_number_follows_language_and_reports_the_payment(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    pay(client, md_order, DECLINED)
    body = status(client, orderNumber="N-1", language="ru")
    assert (body["orderStatus"], body["actionCode"]) == (6, 100)
    assert body["actionCodeDescription"] != status(client, orderNumber="N-1", language="en")["actionCodeDescription"]


def test_legacy_status_takes_order_id_only(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    assert legacy(client, orderNumber="N-1")["ErrorCode"] == "6"
    assert legacy(client, orderId=md_order)["OrderNumber"] == "N-1"


def test_form_url_is_unchanged_by_shapes(client: FlaskClient) -> None:
    put_shapes(client, omitErrorCodeOnSuccess={"*": True}, errorCodeType={"*": "string"})
    registered = register(client)
    assert urlsplit(registered["formUrl"]).path == "/payment/merchants/sim/payment_en.html"
