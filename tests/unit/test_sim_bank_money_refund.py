"""refund.do at the simulated bank: partial and repeated refunds up to the deposited total, ``amount=0`` refunds all
that is left, ``externalRefundId`` makes a repeat harmless, ``expectedDepositedAmount`` guards against a stale view,
a refund can be accepted and fail later; ``paymentAmountInfo`` and ``refunds[]`` tell the truth per response
version; callbacks carry the refund's amount and a valid checksum."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app
from simulator.vpos.checksum import verify
from tests.sim_bank_fakes import (
    PUBLIC,
    Merchant,
    manual,
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
FULL = 1_500_000
KEY = "callback-key-for-tests"


def paid(client: FlaskClient, number: str = "N-1") -> str:
    registered = register(client, number)
    submit(client, registered, PAID)
    md_order: str = registered["orderId"]
    return md_order


def refund(client: FlaskClient, md_order: str, amount: int | str, **extra: str) -> str:
    code: str = rbs(client, "refund.do", orderId=md_order, amount=str(amount), **extra)["errorCode"]
    return code


def amounts(client: FlaskClient, md_order: str) -> dict[str, Any]:
    info: dict[str, Any] = status(client, md_order)["paymentAmountInfo"]
    return info


def refunds(client: FlaskClient, md_order: str, **params: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = status(client, md_order, **params)["refunds"]
    return listed


def test_a_partial_refund_moves_the_order_to_refunded_and_counts_in_refunded_amount(
    client: FlaskClient, merchant: Merchant
) -> None:
    md_order = paid(client)
    assert rbs(client, "refund.do", orderId=md_order, amount="500000") == {"errorCode": "0", "errorMessage": "Success"}
    body = status(client, md_order)
    assert body["orderStatus"] == 4
    assert body["paymentAmountInfo"] == {
        "paymentState": "REFUNDED",
        "approvedAmount": FULL,
        "depositedAmount": FULL,
        "refundedAmount": 500_000,
    }
    (only,) = body["refunds"]
    assert (only["amount"], only["status"], only["approved"], only["actionCode"]) == (500_000, "APPROVED", True, 0)
    assert only["refundId"] and only["approvalCode"] and only["referenceNumber"]
    assert isinstance(only["date"], int) and only["date"] > 1_000_000_000_000
    assert "externalRefundId" not in only
    assert merchant.seen() == [("deposited", "1"), ("refunded", "1")]
    assert merchant.calls[-1]["amount"] == "500000"


def test_repeated_partial_refunds_add_up_to_the_deposited_total(client: FlaskClient) -> None:
    md_order = paid(client)
    assert [refund(client, md_order, amount) for amount in (500_000, 500_000, 500_000)] == ["0", "0", "0"]
    assert amounts(client, md_order)["refundedAmount"] == FULL
    assert [item["amount"] for item in refunds(client, md_order)] == [500_000] * 3
    assert status(client, md_order)["orderStatus"] == 4


def test_a_refund_above_what_is_left_is_refused_with_7_and_changes_nothing(
    client: FlaskClient, merchant: Merchant
) -> None:
    md_order = paid(client)
    assert refund(client, md_order, FULL + 1) == "7"
    assert status(client, md_order)["orderStatus"] == 2
    assert refunds(client, md_order) == []
    assert refund(client, md_order, 1_000_000) == "0"
    assert refund(client, md_order, 500_001) == "7"
    assert amounts(client, md_order)["refundedAmount"] == 1_000_000
    assert len(refunds(client, md_order)) == 1
    assert merchant.seen() == [("deposited", "1"), ("refunded", "1")]


def test_amount_zero_refunds_everything_that_is_left(client: FlaskClient, merchant: Merchant) -> None:
    md_order = paid(client)
    refund(client, md_order, 400_000)
    assert refund(client, md_order, 0) == "0"
    assert [item["amount"] for item in refunds(client, md_order)] == [400_000, 1_100_000]
    assert amounts(client, md_order)["refundedAmount"] == FULL
    assert merchant.calls[-1]["amount"] == "1100000"
    assert refund(client, md_order, 0) == "7"  # nothing left
    assert refund(client, md_order, 1) == "7"


def test_amount_zero_on_a_fresh_order_refunds_the_whole_order(client: FlaskClient) -> None:
    md_order = paid(client)
    assert refund(client, md_order, 0) == "0"
    assert amounts(client, md_order)["refundedAmount"] == FULL


def test_a_partly_deposited_order_refunds_up_to_its_deposited_amount(client: FlaskClient) -> None:
    registered = register_pre_auth(client)
    submit(client, registered, PAID)
    md_order = registered["orderId"]
    rbs(client, "deposit.do", orderId=md_order, amount="600000")
    assert refund(client, md_order, 600_001) == "7"
    assert refund(client, md_order, 0) == "0"
    assert amounts(client, md_order) == {
        "paymentState": "REFUNDED",
        "approvedAmount": FULL,
        "depositedAmount": 600_000,
        "refundedAmount": 600_000,
    }


def test_only_deposited_orders_are_refunded(client: FlaskClient) -> None:
    registered = register(client)["orderId"]
    assert refund(client, registered, 1) == "7"
    held = register_pre_auth(client)
    submit(client, held, PAID)
    assert refund(client, held["orderId"], 1) == "7"
    assert status(client, held["orderId"])["orderStatus"] == 1
    reversed_order = paid(client, "N-2")
    rbs(client, "reverse.do", orderId=reversed_order)
    assert refund(client, reversed_order, 1) == "7"
    declined = register(client, "N-3")
    submit(client, declined, "4000000000000002")
    assert refund(client, declined["orderId"], 1) == "7"


@pytest.mark.parametrize("amount", ["-5", "1.5", "x", ""])
def test_a_malformed_refund_amount_is_5(client: FlaskClient, amount: str) -> None:
    md_order = paid(client)
    assert refund(client, md_order, amount) == "5"
    assert refunds(client, md_order) == []


# -- externalRefundId ----------------------------------------------------------------------------------------------


def test_a_repeated_external_refund_id_returns_the_existing_refund(client: FlaskClient, merchant: Merchant) -> None:
    md_order = paid(client)
    assert refund(client, md_order, 300_000, externalRefundId="ecwid-r-1") == "0"
    first = refunds(client, md_order)
    assert refund(client, md_order, 300_000, externalRefundId="ecwid-r-1") == "0"
    assert refund(client, md_order, 999_999, externalRefundId="ecwid-r-1") == "0"
    assert refunds(client, md_order) == first
    assert first[0]["externalRefundId"] == "ecwid-r-1"
    assert amounts(client, md_order)["refundedAmount"] == 300_000
    assert merchant.seen() == [("deposited", "1"), ("refunded", "1")]
    assert refund(client, md_order, 300_000, externalRefundId="ecwid-r-2") == "0"
    assert amounts(client, md_order)["refundedAmount"] == 600_000


def test_a_repeated_external_refund_id_is_harmless_even_when_nothing_is_left(client: FlaskClient) -> None:
    md_order = paid(client)
    assert refund(client, md_order, 0, externalRefundId="all") == "0"
    assert refund(client, md_order, 0, externalRefundId="all") == "0"
    assert len(refunds(client, md_order)) == 1


def test_an_external_refund_id_over_32_characters_is_5(client: FlaskClient) -> None:
    md_order = paid(client)
    assert refund(client, md_order, 1, externalRefundId="x" * 33) == "5"
    assert refund(client, md_order, 1, externalRefundId="x" * 32) == "0"


# -- expectedDepositedAmount -----------------------------------------------------------------------------------------


def test_expected_deposited_amount_must_equal_the_deposited_total(client: FlaskClient) -> None:
    md_order = paid(client)
    assert refund(client, md_order, 100, expectedDepositedAmount=str(FULL - 1)) == "7"
    assert refunds(client, md_order) == []
    assert refund(client, md_order, 100, expectedDepositedAmount=str(FULL)) == "0"
    # the deposited total does not shrink with refunds: the gateway sends what paymentAmountInfo shows
    assert amounts(client, md_order)["depositedAmount"] == FULL
    assert refund(client, md_order, 100, expectedDepositedAmount=str(FULL)) == "0"
    assert refund(client, md_order, 100, expectedDepositedAmount="abc") == "5"


def test_expected_deposited_amount_follows_a_partial_deposit(client: FlaskClient) -> None:
    registered = register_pre_auth(client)
    submit(client, registered, PAID)
    md_order = registered["orderId"]
    rbs(client, "deposit.do", orderId=md_order, amount="700000")
    assert refund(client, md_order, 100, expectedDepositedAmount=str(FULL)) == "7"
    assert refund(client, md_order, 100, expectedDepositedAmount="700000") == "0"


# -- accepted, then failed -------------------------------------------------------------------------------------------


def test_a_refund_can_be_accepted_and_fail_later(client: FlaskClient, merchant: Merchant) -> None:
    md_order = paid(client)
    body = client.put("/_control/vpos/bank", json={"failNextRefund": True}).get_json()
    assert body["failNextRefund"] is True
    assert refund(client, md_order, 500_000, externalRefundId="r-1") == "0"
    answer = status(client, md_order)
    assert answer["orderStatus"] == 2
    assert answer["paymentAmountInfo"]["refundedAmount"] == 0
    (failed,) = answer["refunds"]
    assert (failed["status"], failed["approved"], failed["amount"]) == ("FAILED", False, 500_000)
    assert failed["actionCode"] != 0
    assert merchant.seen() == [("deposited", "1"), ("refunded", "0")]
    assert client.get("/_control/vpos/bank").get_json()["failNextRefund"] is False
    # the next refund works again; the failed one does not count against the total
    assert refund(client, md_order, 0, externalRefundId="r-2") == "0"
    answer = status(client, md_order)
    assert (answer["orderStatus"], answer["paymentAmountInfo"]["refundedAmount"]) == (4, FULL)
    assert [item["status"] for item in answer["refunds"]] == ["FAILED", "APPROVED"]


def test_a_failing_refund_is_still_checked_first(client: FlaskClient) -> None:
    md_order = paid(client)
    client.put("/_control/vpos/bank", json={"failNextRefund": True})
    assert refund(client, md_order, FULL + 1) == "7"
    assert refunds(client, md_order) == []
    assert client.get("/_control/vpos/bank").get_json()["failNextRefund"] is True


def test_a_failed_refund_leaves_a_refunded_order_refunded(client: FlaskClient) -> None:
    md_order = paid(client)
    refund(client, md_order, 100)
    client.put("/_control/vpos/bank", json={"failNextRefund": True})
    assert refund(client, md_order, 100) == "0"
    answer = status(client, md_order)
    assert (answer["orderStatus"], answer["paymentAmountInfo"]["refundedAmount"]) == (4, 100)


# -- response versions -------------------------------------------------------------------------------------------


def put_version(client: FlaskClient, version: int) -> None:
    assert client.put("/_control/vpos/shapes", json={"statusVersion": version}).status_code == 200


def test_refunds_follow_the_response_version(client: FlaskClient) -> None:
    md_order = paid(client)
    refund(client, md_order, 100, externalRefundId="ext-1")
    put_version(client, 1)
    old = status(client, md_order)
    assert "paymentAmountInfo" not in old and "refunds" not in old
    put_version(client, 3)
    v3 = status(client, md_order)
    assert v3["paymentAmountInfo"]["refundedAmount"] == 100 and "refunds" not in v3
    put_version(client, 5)
    (v5,) = refunds(client, md_order)
    assert v5["amount"] == 100 and "externalRefundId" not in v5
    put_version(client, 21)
    (v21,) = refunds(client, md_order)
    assert v21["externalRefundId"] == "ext-1"


# -- callbacks -------------------------------------------------------------------------------------------------------


def test_money_callbacks_carry_a_valid_checksum() -> None:
    receiver = Merchant()
    config = SimulatorConfig(
        public_url=PUBLIC,
        payment_url="http://gw.test/pay",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", "secret_token_1003"),),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
        callback_url="http://merchant.test/callback",
        callback_key=KEY,
    )
    client = manual(create_app(config, http_transport=httpx.WSGITransport(app=receiver)).test_client())
    held = register_pre_auth(client)
    submit(client, held, PAID)
    rbs(client, "deposit.do", orderId=held["orderId"], amount="0")
    rbs(client, "refund.do", orderId=held["orderId"], amount="100")
    other = register_pre_auth(client, "P-2")
    submit(client, other, PAID)
    rbs(client, "reverse.do", orderId=other["orderId"])
    operations = [call["operation"] for call in receiver.calls]
    assert operations == ["approved", "deposited", "refunded", "approved", "reversed"]
    assert all(verify(call, KEY) for call in receiver.calls)
