"""decline.do, the bank settings for money after the payment (``/_control/vpos/bank``), methods the bank does not
deploy (HTTP 404), the journal of money calls, and the one writer of the status still being the only one."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.sim_bank_fakes import (
    CREDS,
    Merchant,
    advance,
    control_order,
    rbs,
    register,
    register_pre_auth,
    status,
    submit,
)
from tests.sim_bank_fakes import app as app
from tests.sim_bank_fakes import client as client
from tests.sim_bank_fakes import merchant as merchant

PAID = "4242424242424242"
CHALLENGE = "4000000000003220"
PENDING = "4000000000007015"
BANK = "/_control/vpos/bank"


# -- decline.do ----------------------------------------------------------------------------------------------------


def test_decline_cancels_a_registered_order_without_a_callback(client: FlaskClient, merchant: Merchant) -> None:
    md_order = register(client)["orderId"]
    assert rbs(client, "decline.do", orderId=md_order, merchantLogin="whoever") == {
        "errorCode": "0",
        "errorMessage": "Success",
    }
    body = status(client, md_order)
    assert (body["orderStatus"], body["actionCode"]) == (6, -100)
    assert body["paymentAmountInfo"]["paymentState"] == "DECLINED"
    assert merchant.seen() == []
    assert control_order(client, md_order)["operations"][-1]["operation"] == "decline.do"


def test_decline_finds_the_order_by_its_order_number(client: FlaskClient) -> None:
    md_order = register(client, "N-7")["orderId"]
    assert rbs(client, "decline.do", orderNumber="N-7")["errorCode"] == "0"
    assert status(client, md_order)["orderStatus"] == 6
    assert rbs(client, "decline.do", orderNumber="N-unknown")["errorCode"] == "6"


@pytest.mark.parametrize("pan", [CHALLENGE, PENDING])
def test_decline_cancels_an_order_in_3ds_or_pending(client: FlaskClient, pan: str) -> None:
    registered = register(client)
    submit(client, registered, pan)
    assert status(client, registered["orderId"])["orderStatus"] in (5, 7)
    assert rbs(client, "decline.do", orderId=registered["orderId"])["errorCode"] == "0"
    assert status(client, registered["orderId"])["orderStatus"] == 6
    advance(client, 120)  # the pending job no longer pays it
    assert status(client, registered["orderId"])["orderStatus"] == 6


def test_decline_refuses_completed_orders_with_7(client: FlaskClient) -> None:
    paid = register(client, "N-1")
    submit(client, paid, PAID)
    held = register_pre_auth(client, "P-1")
    submit(client, held, PAID)
    declined = register(client, "N-2")
    submit(client, declined, "4000000000000002")
    for md_order, before in ((paid["orderId"], 2), (held["orderId"], 1), (declined["orderId"], 6)):
        assert rbs(client, "decline.do", orderId=md_order)["errorCode"] == "7"
        assert status(client, md_order)["orderStatus"] == before


def test_decline_of_an_expired_order_is_7(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    advance(client, 1201)
    assert rbs(client, "decline.do", orderId=md_order)["errorCode"] == "7"
    assert status(client, md_order)["actionCode"] == -2007


# -- bank settings -------------------------------------------------------------------------------------------------


DEFAULTS = {
    "pendingSeconds": 60.0,
    "reverseWindowSeconds": 259200.0,
    "partialDeposit": True,
    "failNextRefund": False,
    "disabledMethods": {},
}


def test_the_bank_settings_show_the_money_defaults_and_reset_restores_them(client: FlaskClient) -> None:
    assert client.get(BANK).get_json() == DEFAULTS
    changed = client.put(
        BANK,
        json={
            "reverseWindowSeconds": 3600,
            "partialDeposit": False,
            "failNextRefund": True,
            "disabledMethods": {"*": ["refund.do"], "shop_amd": ["reverse.do", "deposit.do"]},
        },
    ).get_json()
    assert changed == {
        "pendingSeconds": 60.0,
        "reverseWindowSeconds": 3600.0,
        "partialDeposit": False,
        "failNextRefund": True,
        "disabledMethods": {"*": ["refund.do"], "shop_amd": ["deposit.do", "reverse.do"]},
    }
    assert client.post("/_control/reset").status_code == 200
    assert client.get(BANK).get_json() == DEFAULTS


@pytest.mark.parametrize(
    "body",
    [
        {"reverseWindowSeconds": 0},
        {"reverseWindowSeconds": "72h"},
        {"reverseWindowSeconds": 366 * 86400},
        {"partialDeposit": "yes"},
        {"failNextRefund": 1},
        {"disabledMethods": ["refund.do"]},
        {"disabledMethods": {"*": ["getOrderStatusExtended.do"]}},
        {"disabledMethods": {"*": "refund.do"}},
        {"reverseWindowSeconds": 60, "partialDeposit": "no"},
    ],
)
def test_bad_money_settings_are_400_and_change_nothing(client: FlaskClient, body: dict[str, Any]) -> None:
    response = client.put(BANK, json=body)
    assert (response.status_code, response.get_json()["error"]) == (400, "bad_input")
    assert client.get(BANK).get_json() == DEFAULTS


def test_a_method_the_bank_does_not_deploy_answers_404(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    client.put(BANK, json={"disabledMethods": {"shop_amd": ["decline.do", "registerPreAuth.do"]}})
    response = client.post("/payment/rest/decline.do", data={**CREDS, "orderId": md_order})
    assert response.status_code == 404
    pre_auth = client.post(
        "/payment/rest/registerPreAuth.do",
        data={**CREDS, "orderNumber": "P-1", "amount": "100", "returnUrl": "http://gw.test/r"},
    )
    assert pre_auth.status_code == 404
    assert status(client, md_order)["orderStatus"] == 0
    other = client.post("/payment/rest/decline.do", data={"userName": "someone", "password": "x", "orderId": md_order})
    assert (other.status_code, other.get_json()["errorCode"]) == (200, "5")  # deployed for other merchants
    client.put(BANK, json={"disabledMethods": {}})
    assert rbs(client, "decline.do", orderId=md_order)["errorCode"] == "0"


def test_a_wildcard_switches_a_method_off_for_every_merchant(client: FlaskClient) -> None:
    client.put(BANK, json={"disabledMethods": {"*": ["refund.do"]}})
    assert client.post("/payment/rest/refund.do", data={**CREDS, "orderId": "x", "amount": "1"}).status_code == 404
    assert client.post("/payment/rest/deposit.do", data={**CREDS, "orderId": "x", "amount": "1"}).status_code == 200


# -- journal and response shapes -----------------------------------------------------------------------------------


def journal(client: FlaskClient, md_order: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = client.get(f"/_control/journal?order={md_order}").get_json()["entries"]
    return entries


def test_money_calls_are_journaled_with_their_outcome(client: FlaskClient) -> None:
    registered = register_pre_auth(client)
    submit(client, registered, PAID)
    md_order = registered["orderId"]
    rbs(client, "deposit.do", orderId=md_order, amount="0")
    rbs(client, "refund.do", orderId=md_order, amount="100", externalRefundId="e-1")
    rbs(client, "refund.do", orderId=md_order, amount="99999999")
    rbs(client, "reverse.do", orderId=md_order)
    calls = [entry for entry in journal(client, md_order) if entry["operation"].endswith(".do")]
    summaries: dict[str, list[str]] = {entry["operation"]: [] for entry in calls}
    for entry in calls:
        summaries[entry["operation"]].append(entry["summary"])
    assert "errorCode 0 orderStatus 2" in summaries["deposit.do"][0]
    assert "refund APPROVED" in summaries["refund.do"][0]
    assert "errorCode=7" in summaries["refund.do"][1]
    assert "errorCode=7" in summaries["reverse.do"][0]
    assert "registerPreAuth.do" in summaries
    assert "pw-amd" not in str(calls)  # credentials are redacted like every other bank call


def test_money_answers_follow_the_merchants_error_code_type(client: FlaskClient) -> None:
    client.put("/_control/vpos/shapes", json={"errorCodeType": {"*": "number"}})
    md_order = register(client)["orderId"]
    assert rbs(client, "refund.do", orderId=md_order, amount="1")["errorCode"] == 7
    client.put("/_control/vpos/shapes", json={"omitErrorCodeOnSuccess": {"decline.do": True}})
    assert rbs(client, "decline.do", orderId=md_order) == {}


def test_a_fault_on_a_money_method_changes_nothing(client: FlaskClient) -> None:
    registered = register(client)
    submit(client, registered, PAID)
    md_order = registered["orderId"]
    faulted = client.post("/_control/vpos/faults", json={"method": "refund.do", "fault": "http_503"})
    assert faulted.status_code in (200, 201)
    assert client.post("/payment/rest/refund.do", data={**CREDS, "orderId": md_order, "amount": "1"}).status_code == 503
    assert status(client, md_order)["paymentAmountInfo"]["refundedAmount"] == 0
