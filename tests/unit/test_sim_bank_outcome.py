"""Deciding a bank order without a browser: ``POST /_control/vpos/orders/{mdOrder}/outcome`` goes through the same
single writer and sends the same callbacks as the card and ACS pages; bad input 400, unknown order 404, a transition
the state machine does not allow 409. Also the card table and bank settings as JSON."""

from __future__ import annotations

from typing import Any

import flask
import pytest
from flask.testing import FlaskClient

from simulator import get_state
from simulator.vpos.cards import TEST_CARDS
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


def outcome(client: FlaskClient, md_order: str, expected: int = 200, **body: Any) -> dict[str, Any]:
    response = client.post(f"/_control/vpos/orders/{md_order}/outcome", json=body)
    assert response.status_code == expected, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


# -- the outcomes -----------------------------------------------------------------------------------------------


def test_pay_a_registered_order(client: FlaskClient, merchant: Merchant) -> None:
    md_order = register(client)["orderId"]
    result = outcome(client, md_order, outcome="pay")
    assert (result["previousOrderStatus"], result["orderStatus"], result["actionCode"]) == (0, 2, 0)
    assert result["redirectUrl"] == f"http://gw.test/return?orderId={md_order}&lang=en"
    assert result["callback"]["outcome"] == "delivered"
    assert merchant.seen() == [("deposited", "1")]
    body = status(client, md_order)
    assert (body["orderStatus"], body["actionCode"]) == (2, 0)
    assert body["cardAuthInfo"]["maskedPan"] == "424242**4242"  # the Visa test card stands in
    assert body["cardAuthInfo"]["secureAuthInfo"] == {"eci": 7}
    assert len(body["cardAuthInfo"]["approvalCode"]) == 6
    assert bank_jobs(client) == []
    assert control_order(client, md_order)["operations"][-1]["operation"] == "control pay"


def test_pay_with_an_eci(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    outcome(client, md_order, outcome="pay", eci="05")
    assert status(client, md_order)["cardAuthInfo"]["secureAuthInfo"] == {"eci": 5}


def test_decline_with_any_action_code(client: FlaskClient, merchant: Merchant) -> None:
    md_order = register(client)["orderId"]
    result = outcome(client, md_order, outcome="decline", actionCode=-1)
    assert (result["orderStatus"], result["actionCode"]) == (6, -1)
    assert result["redirectUrl"] == f"http://gw.test/fail?orderId={md_order}&lang=en"
    assert merchant.seen() == [("deposited", "0")]
    assert status(client, md_order)["actionCodeDescription"] == "Processing timeout"


def test_decline_defaults_to_100_and_to_minus_2006_at_the_acs(client: FlaskClient) -> None:
    first = register(client)["orderId"]
    assert outcome(client, first, outcome="decline")["actionCode"] == 100
    second = register(client, "N-2")["orderId"]
    outcome(client, second, outcome="hold3ds")
    assert outcome(client, second, outcome="decline")["actionCode"] == -2006


def test_decline_with_minus_2007_sends_declined_by_timeout(client: FlaskClient, merchant: Merchant) -> None:
    md_order = register(client)["orderId"]
    outcome(client, md_order, outcome="decline", actionCode=-2007)
    assert merchant.seen() == [("declinedByTimeout", "0")]


def test_hold3ds_puts_the_order_at_the_acs_page(client: FlaskClient, merchant: Merchant) -> None:
    registered = register(client)
    md_order = registered["orderId"]
    result = outcome(client, md_order, outcome="hold3ds")
    assert (result["orderStatus"], result["callback"]) == (5, None)
    assert result["redirectUrl"] == f"{PUBLIC}/payment/acs/challenge?mdOrder={md_order}"
    assert merchant.seen() == []
    page = client.get(page_path(registered["formUrl"]))
    assert page.status_code == 302 and page.headers["Location"] == result["redirectUrl"]
    acs = page_path(result["redirectUrl"])
    assert "Visa Secure" in client.get(acs).get_data(as_text=True)
    answer = client.post(acs, data={"action": "pass", "otp": "123456"})
    assert answer.status_code == 302
    body = status(client, md_order)
    assert (body["orderStatus"], body["cardAuthInfo"]["secureAuthInfo"]) == (2, {"eci": 5})
    assert merchant.seen() == [("deposited", "1")]


def test_hold3ds_then_pay_or_expire_without_a_browser(client: FlaskClient, merchant: Merchant) -> None:
    paid = register(client)["orderId"]
    outcome(client, paid, outcome="hold3ds", eci=6)
    assert outcome(client, paid, outcome="pay")["orderStatus"] == 2
    assert status(client, paid)["cardAuthInfo"]["secureAuthInfo"] == {"eci": 6}  # the challenge's eci
    expired = register(client, "N-2")["orderId"]
    outcome(client, expired, outcome="hold3ds")
    result = outcome(client, expired, outcome="expire")
    assert (result["orderStatus"], result["actionCode"]) == (6, -2007)
    assert merchant.seen() == [("deposited", "1"), ("declinedByTimeout", "0")]


def test_expire_a_registered_order_before_its_time(client: FlaskClient, merchant: Merchant) -> None:
    md_order = register(client)["orderId"]
    result = outcome(client, md_order, outcome="expire")
    assert (result["orderStatus"], result["actionCode"]) == (6, -2007)
    assert merchant.seen() == [("declinedByTimeout", "0")]
    assert bank_jobs(client) == []


def test_pending_then_paid_after_the_given_seconds(client: FlaskClient, merchant: Merchant) -> None:
    md_order = register(client)["orderId"]
    result = outcome(client, md_order, outcome="pending", resolveAfterSeconds=30)
    assert (result["orderStatus"], result["callback"]) == (7, None)
    assert result["resolvesAt"] is not None
    assert result["redirectUrl"] == f"http://gw.test/return?orderId={md_order}&lang=en"
    advance(client, 29)
    assert status(client, md_order)["orderStatus"] == 7
    advance(client, 1)
    assert (status(client, md_order)["orderStatus"], merchant.seen()) == (2, [("deposited", "1")])


def test_pending_then_declined_with_a_code(client: FlaskClient, merchant: Merchant) -> None:
    md_order = register(client)["orderId"]
    outcome(client, md_order, outcome="pending", resolveTo="declined", actionCode=151019)
    advance(client, 60)  # the bank's pendingSeconds
    body = status(client, md_order)
    assert (body["orderStatus"], body["actionCode"]) == (6, 151019)
    assert merchant.seen() == [("deposited", "0")]


def test_pending_can_follow_3ds_and_be_decided_early(client: FlaskClient, merchant: Merchant) -> None:
    md_order = register(client)["orderId"]
    outcome(client, md_order, outcome="hold3ds")
    outcome(client, md_order, outcome="pending", resolveAfterSeconds=600, eci=5)
    assert outcome(client, md_order, outcome="pay")["orderStatus"] == 2
    assert status(client, md_order)["cardAuthInfo"]["secureAuthInfo"] == {"eci": 5}
    advance(client, 600)
    assert merchant.seen() == [("deposited", "1")]


def test_pay_after_a_card_keeps_the_card(client: FlaskClient) -> None:
    registered = register(client)
    submit(client, registered, "4000000000003220")  # into 3-D Secure
    outcome(client, registered["orderId"], outcome="pay")
    card = status(client, registered["orderId"])["cardAuthInfo"]
    assert (card["maskedPan"], card["secureAuthInfo"]) == ("400000**3220", {"eci": 5})


# -- refused ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ({"outcome": "pay"}, {"outcome": "pay"}),
        ({"outcome": "pay"}, {"outcome": "decline"}),
        ({"outcome": "decline"}, {"outcome": "pay"}),
        ({"outcome": "pay"}, {"outcome": "hold3ds"}),
        ({"outcome": "hold3ds"}, {"outcome": "hold3ds"}),
        ({"outcome": "pending"}, {"outcome": "hold3ds"}),
        ({"outcome": "pending"}, {"outcome": "pending"}),
        ({"outcome": "pending"}, {"outcome": "expire"}),
        ({"outcome": "expire"}, {"outcome": "expire"}),
    ],
)
def test_a_transition_the_state_machine_refuses_is_409(
    client: FlaskClient, merchant: Merchant, first: dict[str, Any], then: dict[str, Any]
) -> None:
    md_order = register(client)["orderId"]
    before = outcome(client, md_order, **first)
    calls = len(merchant.calls)
    refused = outcome(client, md_order, 409, **then)
    assert refused["error"] == "conflict"
    assert f"orderStatus {before['orderStatus']}" in refused["message"]
    after = control_order(client, md_order)
    assert (after["orderStatus"], after["actionCode"]) == (before["orderStatus"], before["actionCode"])
    assert len(merchant.calls) == calls


def test_an_order_whose_session_is_over_is_expired_first(client: FlaskClient, app: flask.Flask) -> None:
    state = get_state(app)
    md_order = register(client, sessionTimeoutSecs="60")["orderId"]
    for job in state.scheduler.pending(md_order=md_order):
        state.scheduler.cancel(job.seq)
    advance(client, 61)
    refused = outcome(client, md_order, 409, outcome="pay")
    assert "orderStatus 6" in refused["message"]
    assert control_order(client, md_order)["actionCode"] == -2007


def test_unknown_order_is_404(client: FlaskClient) -> None:
    response = client.post("/_control/vpos/orders/nope/outcome", json={"outcome": "pay"})
    assert (response.status_code, response.get_json()["error"]) == (404, "not_found")


BAD_BODIES: list[Any] = [
    [],
    "pay",
    {},
    {"outcome": "refund"},
    {"outcome": 1},
    {"outcome": "pay", "colour": "blue"},
    {"outcome": "pay", "actionCode": 0},
    {"outcome": "pay", "resolveTo": "paid"},
    {"outcome": "pay", "eci": 8},
    {"outcome": "pay", "eci": -1},
    {"outcome": "pay", "eci": "5x"},
    {"outcome": "pay", "eci": True},
    {"outcome": "pay", "eci": 5.0},
    {"outcome": "decline", "actionCode": 0},
    {"outcome": "decline", "actionCode": "116"},
    {"outcome": "decline", "actionCode": True},
    {"outcome": "decline", "actionCode": 1.5},
    {"outcome": "decline", "actionCode": 10**9},
    {"outcome": "decline", "eci": 5},
    {"outcome": "decline", "resolveAfterSeconds": 5},
    {"outcome": "hold3ds", "actionCode": 100},
    {"outcome": "expire", "actionCode": -2007},
    {"outcome": "expire", "eci": 7},
    {"outcome": "pending", "resolveAfterSeconds": 0},
    {"outcome": "pending", "resolveAfterSeconds": -5},
    {"outcome": "pending", "resolveAfterSeconds": "60"},
    {"outcome": "pending", "resolveAfterSeconds": 30 * 86400 + 1},
    {"outcome": "pending", "resolveTo": "maybe"},
    {"outcome": "pending", "resolveTo": "paid", "actionCode": 100},
    {"outcome": "pending", "resolveTo": "declined", "actionCode": 0},
    {"outcome": "pending", "resolveTo": "declined", "eci": 5},
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_input_is_400_and_changes_nothing(client: FlaskClient, merchant: Merchant, body: Any) -> None:
    md_order = register(client)["orderId"]
    response = client.post(f"/_control/vpos/orders/{md_order}/outcome", json=body)
    assert (response.status_code, response.get_json()["error"]) == (400, "bad_input"), body
    assert control_order(client, md_order)["orderStatus"] == 0
    assert merchant.calls == []


def test_outcomes_are_journaled_for_the_order(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    outcome(client, md_order, outcome="decline", actionCode=116)
    entries = client.get(f"/_control/journal?service=control&order={md_order}").get_json()["entries"]
    [entry] = [e for e in entries if e["operation"] == "outcome"]
    assert "decline" in entry["summary"] and "orderStatus 6" in entry["summary"]


# -- the card table and the bank's settings ------------------------------------------------------------------------


def test_the_card_table_as_json(client: FlaskClient) -> None:
    body = client.get("/_control/vpos/cards").get_json()
    assert [card["pan"] for card in body["cards"]] == [card.pan for card in TEST_CARDS]
    assert body["otp"] == "123456"
    assert body["maxOtpAttempts"] == 3
    assert body["cards"][0] == TEST_CARDS[0].to_json()
