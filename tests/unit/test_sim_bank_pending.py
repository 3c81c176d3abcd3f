"""Pending payments: cards that leave the order in orderStatus 7 for the bank's ``pendingSeconds`` of virtual time,
then resolve by themselves (a scheduled job) to paid or declined, with the callback sent at resolution."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.sim_bank_fakes import (
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

THEN_PAID = "4000000000007015"
THEN_DECLINED = "4000000000007023"


def pending_order(client: FlaskClient, pan: str = THEN_PAID, **params: str) -> dict[str, Any]:
    registered = register(client, **params)
    response = submit(client, registered, pan)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("http://gw.test/return?")  # back to the shop while pending
    return registered


def test_a_pending_card_leaves_the_order_in_7_without_a_callback(client: FlaskClient, merchant: Merchant) -> None:
    registered = pending_order(client)
    body = status(client, registered["orderId"])
    assert (body["orderStatus"], body["actionCode"]) == (7, -100)
    assert body["paymentAmountInfo"]["paymentState"] == "CREATED"
    assert body["cardAuthInfo"]["approvalCode"] == ""
    legacy = client.post(
        "/payment/rest/getOrderStatus.do", data={"userName": "shop_amd", "password": "pw-amd", **registered}
    ).get_json()
    assert legacy["OrderStatus"] == 7
    assert merchant.seen() == []
    [job] = bank_jobs(client)
    assert job["tags"] == {"md_order": registered["orderId"], "bank": "pending"}  # the session job is gone
    assert control_order(client, registered["orderId"])["pending"]["resolveTo"] == "paid"


def test_it_resolves_to_paid_after_the_pending_seconds(client: FlaskClient, merchant: Merchant) -> None:
    registered = pending_order(client)
    advance(client, 59)
    assert status(client, registered["orderId"])["orderStatus"] == 7
    advance(client, 1)
    body = status(client, registered["orderId"])
    assert (body["orderStatus"], body["actionCode"]) == (2, 0)
    assert len(body["cardAuthInfo"]["approvalCode"]) == 6
    assert body["cardAuthInfo"]["secureAuthInfo"] == {"eci": 7}
    assert merchant.seen() == [("deposited", "1")]
    assert bank_jobs(client) == []
    assert control_order(client, registered["orderId"])["operations"][-1]["operation"] == "pending resolved"


def test_it_resolves_to_declined(client: FlaskClient, merchant: Merchant) -> None:
    registered = pending_order(client, THEN_DECLINED)
    advance(client, 60)
    body = status(client, registered["orderId"])
    assert (body["orderStatus"], body["actionCode"]) == (6, 100)
    assert merchant.seen() == [("deposited", "0")]


def test_a_pending_order_outlives_its_session(client: FlaskClient, merchant: Merchant) -> None:
    assert client.put("/_control/vpos/bank", json={"pendingSeconds": 600}).status_code == 200
    registered = pending_order(client, sessionTimeoutSecs="120")
    advance(client, 300)
    assert status(client, registered["orderId"])["orderStatus"] == 7  # the issuer decides, not the session
    advance(client, 300)
    assert (status(client, registered["orderId"])["orderStatus"], merchant.seen()) == (2, [("deposited", "1")])


def test_the_pending_time_is_a_bank_setting(client: FlaskClient) -> None:
    assert client.get("/_control/vpos/bank").get_json()["pendingSeconds"] == 60.0
    body = client.put("/_control/vpos/bank", json={"pendingSeconds": 5}).get_json()
    assert body["pendingSeconds"] == 5.0
    registered = pending_order(client)
    advance(client, 5)
    assert status(client, registered["orderId"])["orderStatus"] == 2


def test_reset_restores_the_pending_time(client: FlaskClient) -> None:
    client.put("/_control/vpos/bank", json={"pendingSeconds": 5})
    client.post("/_control/reset")
    assert client.get("/_control/vpos/bank").get_json()["pendingSeconds"] == 60.0


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        {"pendingSeconds": 0},
        {"pendingSeconds": -1},
        {"pendingSeconds": "5"},
        {"pendingSeconds": True},
        {"pendingSeconds": 86401},
        {"pendingSeconds": 5, "colour": "blue"},
    ],
)
def test_bad_bank_settings_are_400(client: FlaskClient, body: Any) -> None:
    response = client.put("/_control/vpos/bank", json=body)
    assert (response.status_code, response.get_json()["error"]) == (400, "bad_input")
    assert client.get("/_control/vpos/bank").get_json()["pendingSeconds"] == 60.0


def test_the_card_page_of_a_pending_order_says_the_bank_is_processing(client: FlaskClient) -> None:
    registered = pending_order(client, language="ru")
    page = client.get(page_path(registered["formUrl"]))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-message="payment_pending"' in html and "Банк ещё обрабатывает" in html
    again = submit(client, registered, "4242424242424242")
    assert again.status_code == 409 and 'data-message="payment_pending"' in again.get_data(as_text=True)
    assert status(client, registered["orderId"])["orderStatus"] == 7


def test_a_pending_job_for_a_decided_order_changes_nothing(client: FlaskClient, merchant: Merchant) -> None:
    registered = pending_order(client)
    decided = client.post(f"/_control/vpos/orders/{registered['orderId']}/outcome", json={"outcome": "decline"})
    assert decided.status_code == 200
    assert bank_jobs(client) == []  # the resolution was cancelled with the decision
    advance(client, 60)
    assert (status(client, registered["orderId"])["orderStatus"], merchant.seen()) == (6, [("deposited", "0")])
