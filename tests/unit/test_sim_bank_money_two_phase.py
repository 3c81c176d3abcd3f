"""Two-phase payments at the simulated bank: registerPreAuth.do holds the money (orderStatus 1), deposit.do captures
it (2), reverse.do cancels it (3) once, a deposited order only within the bank's reverse window (virtual clock)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.sim_bank_fakes import (
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
PENDING_THEN_PAID = "4000000000007015"
FULL = 1_500_000


def held(client: FlaskClient, number: str = "P-1") -> str:
    registered = register_pre_auth(client, number)
    submit(client, registered, PAID)
    md_order: str = registered["orderId"]
    assert status(client, md_order)["orderStatus"] == 1
    return md_order


def paid(client: FlaskClient, number: str = "N-1") -> str:
    registered = register(client, number)
    submit(client, registered, PAID)
    md_order: str = registered["orderId"]
    assert status(client, md_order)["orderStatus"] == 2
    return md_order


def amounts(client: FlaskClient, md_order: str) -> dict[str, Any]:
    info: dict[str, Any] = status(client, md_order)["paymentAmountInfo"]
    return info


# -- registerPreAuth.do --------------------------------------------------------------------------------------------


def test_a_pre_authorised_order_is_held_after_the_card_with_the_approved_callback(
    client: FlaskClient, merchant: Merchant
) -> None:
    md_order = held(client)
    body = status(client, md_order)
    assert (body["orderStatus"], body["actionCode"]) == (1, 0)
    assert body["paymentAmountInfo"] == {
        "paymentState": "APPROVED",
        "approvedAmount": FULL,
        "depositedAmount": 0,
        "refundedAmount": 0,
    }
    assert body["cardAuthInfo"]["approvalCode"]
    assert merchant.seen() == [("approved", "1")]
    assert merchant.calls[0]["amount"] == str(FULL)
    assert control_order(client, md_order)["twoPhase"] is True


def test_register_pre_auth_validates_like_register(client: FlaskClient) -> None:
    register_pre_auth(client, "P-1")
    repeat = client.post(
        "/payment/rest/registerPreAuth.do",
        data={
            "userName": "shop_amd",
            "password": "pw-amd",
            "orderNumber": "P-1",
            "amount": "1",
            "returnUrl": "http://x.test/r",
        },
    ).get_json()
    assert repeat["errorCode"] == "1"
    missing = rbs(client, "registerPreAuth.do", orderNumber="P-2")
    assert missing["errorCode"] == "4"


def test_a_two_phase_order_is_held_whoever_decides_the_payment(client: FlaskClient, merchant: Merchant) -> None:
    by_control = register_pre_auth(client, "P-1")["orderId"]
    answer = client.post(f"/_control/vpos/orders/{by_control}/outcome", json={"outcome": "pay"}).get_json()
    assert answer["orderStatus"] == 1
    challenged = register_pre_auth(client, "P-2")
    submit(client, challenged, CHALLENGE)
    assert status(client, challenged["orderId"])["orderStatus"] == 5
    client.post("/payment/acs/challenge", data={"mdOrder": challenged["orderId"], "action": "pass", "otp": "123456"})
    assert status(client, challenged["orderId"])["orderStatus"] == 1
    pending = register_pre_auth(client, "P-3")
    submit(client, pending, PENDING_THEN_PAID)
    advance(client, 60)
    assert status(client, pending["orderId"])["orderStatus"] == 1
    assert ("approved", "1") in merchant.seen()
    assert all(operation != "deposited" for operation, _ in merchant.seen())


def test_a_one_phase_order_is_still_deposited_at_once(client: FlaskClient, merchant: Merchant) -> None:
    md_order = paid(client)
    assert amounts(client, md_order) == {
        "paymentState": "DEPOSITED",
        "approvedAmount": FULL,
        "depositedAmount": FULL,
        "refundedAmount": 0,
    }
    assert merchant.seen() == [("deposited", "1")]


# -- deposit.do ----------------------------------------------------------------------------------------------------


def test_deposit_amount_zero_captures_everything_held(client: FlaskClient, merchant: Merchant) -> None:
    md_order = held(client)
    assert rbs(client, "deposit.do", orderId=md_order, amount="0") == {"errorCode": "0", "errorMessage": "Success"}
    body = status(client, md_order)
    assert body["orderStatus"] == 2
    assert body["paymentAmountInfo"]["depositedAmount"] == FULL
    assert merchant.seen() == [("approved", "1"), ("deposited", "1")]
    assert merchant.calls[-1]["amount"] == str(FULL)


def test_a_partial_deposit_captures_less_and_says_so_in_the_callback(client: FlaskClient, merchant: Merchant) -> None:
    md_order = held(client)
    assert rbs(client, "deposit.do", orderId=md_order, amount="1000000")["errorCode"] == "0"
    assert amounts(client, md_order) == {
        "paymentState": "DEPOSITED",
        "approvedAmount": FULL,
        "depositedAmount": 1_000_000,
        "refundedAmount": 0,
    }
    assert status(client, md_order)["orderStatus"] == 2
    assert merchant.calls[-1]["amount"] == "1000000"


def test_a_partial_deposit_is_wrong_amount_5_when_the_bank_forbids_it(client: FlaskClient) -> None:
    assert client.put("/_control/vpos/bank", json={"partialDeposit": False}).status_code == 200
    md_order = held(client)
    assert rbs(client, "deposit.do", orderId=md_order, amount="1000000")["errorCode"] == "5"
    assert status(client, md_order)["orderStatus"] == 1
    assert rbs(client, "deposit.do", orderId=md_order, amount=str(FULL))["errorCode"] == "0"


def test_a_deposit_above_the_held_amount_is_refused_with_5_and_changes_nothing(
    client: FlaskClient, merchant: Merchant
) -> None:
    md_order = held(client)
    body = rbs(client, "deposit.do", orderId=md_order, amount=str(FULL + 1))
    assert body["errorCode"] == "5"
    assert status(client, md_order)["orderStatus"] == 1
    assert merchant.seen() == [("approved", "1")]


@pytest.mark.parametrize("amount", ["-1", "1.5", "abc"])
def test_a_malformed_deposit_amount_is_5(client: FlaskClient, amount: str) -> None:
    md_order = held(client)
    assert rbs(client, "deposit.do", orderId=md_order, amount=amount)["errorCode"] == "5"


def test_deposit_needs_a_held_order_else_7(client: FlaskClient) -> None:
    one_phase = paid(client)
    assert rbs(client, "deposit.do", orderId=one_phase, amount="0")["errorCode"] == "7"
    registered = register_pre_auth(client, "P-9")["orderId"]
    assert rbs(client, "deposit.do", orderId=registered, amount="0")["errorCode"] == "7"
    md_order = held(client)
    assert rbs(client, "deposit.do", orderId=md_order, amount="0")["errorCode"] == "0"
    assert rbs(client, "deposit.do", orderId=md_order, amount="0")["errorCode"] == "7"  # a second deposit


def test_money_methods_check_credentials_parameters_and_the_order(client: FlaskClient) -> None:
    md_order = held(client)
    for method in ("deposit.do", "reverse.do", "refund.do", "decline.do"):
        bad = client.post(
            f"/payment/rest/{method}",
            data={"userName": "shop_amd", "password": "nope", "orderId": md_order, "amount": "0"},
        ).get_json()
        assert bad["errorCode"] == "5", method
        assert rbs(client, method, amount="0")["errorCode"] == "5", method  # no orderId
        assert rbs(client, method, orderId="no-such-order", amount="0")["errorCode"] == "6", method
    assert rbs(client, "deposit.do", orderId=md_order)["errorCode"] == "5"  # no amount
    assert rbs(client, "refund.do", orderId=md_order)["errorCode"] == "5"
    assert status(client, md_order)["orderStatus"] == 1


# -- reverse.do ----------------------------------------------------------------------------------------------------


def test_reversing_a_held_order_cancels_it_once(client: FlaskClient, merchant: Merchant) -> None:
    md_order = held(client)
    assert rbs(client, "reverse.do", orderId=md_order)["errorCode"] == "0"
    body = status(client, md_order)
    assert body["orderStatus"] == 3
    assert body["paymentAmountInfo"] == {
        "paymentState": "REVERSED",
        "approvedAmount": 0,
        "depositedAmount": 0,
        "refundedAmount": 0,
    }
    assert merchant.seen() == [("approved", "1"), ("reversed", "1")]
    assert merchant.calls[-1]["amount"] == str(FULL)
    assert rbs(client, "reverse.do", orderId=md_order)["errorCode"] == "7"
    assert rbs(client, "deposit.do", orderId=md_order, amount="0")["errorCode"] == "7"
    assert merchant.seen() == [("approved", "1"), ("reversed", "1")]


def test_a_held_order_can_be_reversed_long_after_the_payment(client: FlaskClient) -> None:
    md_order = held(client)
    advance(client, 10 * 86400)
    assert rbs(client, "reverse.do", orderId=md_order)["errorCode"] == "0"


def test_a_deposited_order_is_reversible_within_72_hours_of_the_payment(client: FlaskClient) -> None:
    md_order = paid(client)
    advance(client, 72 * 3600 - 1)
    assert rbs(client, "reverse.do", orderId=md_order)["errorCode"] == "0"
    assert status(client, md_order)["orderStatus"] == 3


def test_a_deposited_order_is_no_longer_reversible_after_the_window(client: FlaskClient, merchant: Merchant) -> None:
    md_order = paid(client)
    advance(client, 72 * 3600 + 1)
    assert rbs(client, "reverse.do", orderId=md_order)["errorCode"] == "7"
    assert status(client, md_order)["orderStatus"] == 2
    assert merchant.seen() == [("deposited", "1")]


def test_the_reverse_window_is_a_bank_setting(client: FlaskClient) -> None:
    body = client.put("/_control/vpos/bank", json={"reverseWindowSeconds": 600}).get_json()
    assert body["reverseWindowSeconds"] == 600
    early, late = paid(client, "N-1"), paid(client, "N-2")
    advance(client, 300)
    assert rbs(client, "reverse.do", orderId=early)["errorCode"] == "0"
    advance(client, 301)
    assert rbs(client, "reverse.do", orderId=late)["errorCode"] == "7"


def test_the_reverse_window_runs_from_the_payment_not_the_registration(client: FlaskClient) -> None:
    client.put("/_control/vpos/bank", json={"reverseWindowSeconds": 600})
    registered = register(client)
    advance(client, 500)
    submit(client, registered, PAID)
    advance(client, 500)
    assert rbs(client, "reverse.do", orderId=registered["orderId"])["errorCode"] == "0"


def test_a_reverse_after_a_refund_is_refused(client: FlaskClient) -> None:
    md_order = paid(client)
    assert rbs(client, "refund.do", orderId=md_order, amount="1000")["errorCode"] == "0"
    assert rbs(client, "reverse.do", orderId=md_order)["errorCode"] == "7"
    assert status(client, md_order)["orderStatus"] == 4


def test_reverse_takes_the_whole_amount_only(client: FlaskClient) -> None:
    md_order = held(client)
    assert rbs(client, "reverse.do", orderId=md_order, amount="1000")["errorCode"] == "5"
    assert status(client, md_order)["orderStatus"] == 1
    assert rbs(client, "reverse.do", orderId=md_order, amount=str(FULL))["errorCode"] == "0"


def test_reverse_of_unpaid_orders_is_7(client: FlaskClient) -> None:
    registered = register(client)["orderId"]
    assert rbs(client, "reverse.do", orderId=registered)["errorCode"] == "7"
    declined = register(client, "N-2")
    submit(client, declined, "4000000000000002")
    assert rbs(client, "reverse.do", orderId=declined["orderId"])["errorCode"] == "7"


def test_a_partially_deposited_order_reverses_its_deposited_amount(client: FlaskClient, merchant: Merchant) -> None:
    md_order = held(client)
    rbs(client, "deposit.do", orderId=md_order, amount="500000")
    assert rbs(client, "reverse.do", orderId=md_order, amount="500000")["errorCode"] == "0"
    assert merchant.calls[-1]["operation"] == "reversed"
    assert merchant.calls[-1]["amount"] == "500000"
