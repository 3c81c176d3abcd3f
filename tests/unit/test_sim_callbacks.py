"""Bank callbacks delivered in-process to a receiving WSGI app through httpx.WSGITransport: what is sent, the
delivery modes and the retry schedule on the virtual clock (tests advance the clock, they never sleep)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from flask.testing import FlaskClient

from simulator import SimulatorConfig, VposMerchant, create_app, get_state
from simulator.vpos.checksum import sign, verify, wrong_checksum
from tests.sim_callback_fakes import (
    KEY,
    Receiver,
    advance,
    build,
    callback_journal,
    expected_checksum,
    manual,
    pay,
    pay_control,
    register,
)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def client(receiver: Receiver) -> FlaskClient:
    return manual(build(receiver).test_client())


def test_immediate_callback_arrives_before_the_redirect_and_is_signed(client: FlaskClient, receiver: Receiver) -> None:
    md_order = register(client)
    response = pay(client, md_order)
    assert response.status_code == 302
    assert len(receiver.calls) == 1  # already delivered when the browser is redirected
    call = receiver.calls[0]
    assert (call["method"], call["path"]) == ("GET", "/bank/callback")
    params = dict(call["query"])
    assert params.pop("source") == "arca"  # the configured URL's own query survives
    assert {k: params[k] for k in ("mdOrder", "orderNumber", "operation", "status", "amount")} == {
        "mdOrder": md_order,
        "orderNumber": "N-1",
        "operation": "deposited",
        "status": "1",
        "amount": "500000",
    }
    assert re.fullmatch(
        r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} AMT \d{4}", params["callbackCreationDate"]
    )
    assert params["checksum"] == expected_checksum(params, KEY)


def test_declined_payment_sends_status_0(client: FlaskClient, receiver: Receiver) -> None:
    pay(client, register(client), pan="4000000000009995")
    params = receiver.calls[0]["query"]
    assert (params["operation"], params["status"]) == ("deposited", "0")


def test_dynamic_callback_url_overrides_the_configured_one(client: FlaskClient, receiver: Receiver) -> None:
    pay(client, register(client, dynamicCallbackUrl="http://merchant.test/per-order"))
    assert receiver.calls[0]["path"] == "/per-order"


def test_post_callbacks_send_a_form(receiver: Receiver) -> None:
    client = build(receiver, method="POST").test_client()
    pay(client, register(client))
    call = receiver.calls[0]
    assert call["method"] == "POST"
    assert call["form"]["checksum"] == expected_checksum(call["form"], KEY)
    assert call["query"] == {"source": "arca"}


def test_without_a_key_callbacks_are_unsigned(receiver: Receiver) -> None:
    client = build(receiver, key=None).test_client()
    pay(client, register(client))
    assert "checksum" not in receiver.calls[0]["query"]


def test_mode_none_sends_nothing_but_keeps_the_dropped_callback(client: FlaskClient, receiver: Receiver) -> None:
    assert client.put("/_control/vpos/callbacks", json={"mode": "none"}).status_code == 200
    md_order = register(client)
    result = pay_control(client, md_order)
    advance(client, 3600)
    assert receiver.calls == []
    assert result["callback"]["outcome"] == "disabled"
    [callback] = client.get(f"/_control/vpos/orders/{md_order}/callbacks").get_json()["callbacks"]
    assert (callback["state"], callback["operation"], callback["attempts"]) == ("dropped", "deposited", [])
    assert callback["id"] == result["callback"]["callbackIds"][0]


def test_mode_after_return_sends_after_its_delay_on_the_virtual_clock(client: FlaskClient, receiver: Receiver) -> None:
    client.put("/_control/vpos/callbacks", json={"mode": "after_return", "delaySeconds": 5})
    result = pay_control(client, register(client))
    assert result["callback"]["outcome"] == "scheduled"
    advance(client, 4.9)
    assert receiver.calls == []
    advance(client, 0.1)
    assert receiver.operations() == ["deposited"]


def test_after_return_defaults_to_half_a_second(client: FlaskClient, receiver: Receiver) -> None:
    client.put("/_control/vpos/callbacks", json={"mode": "after_return"})
    pay(client, register(client))
    advance(client, 0.4)
    assert receiver.calls == []
    advance(client, 0.1)
    assert len(receiver.calls) == 1


def test_a_failed_immediate_callback_is_retried_every_30_virtual_seconds() -> None:
    failing = Receiver(statuses=[500, 503, 200])
    client = manual(build(failing).test_client())
    result = pay_control(client, register(client))
    assert result["callback"] == {
        "outcome": "scheduled",
        "attempts": 1,
        "lastStatus": 500,
        "callbackIds": result["callback"]["callbackIds"],
    }
    assert len(failing.calls) == 1  # only the first attempt happens before the redirect
    advance(client, 29)
    assert len(failing.calls) == 1
    advance(client, 1)
    assert len(failing.calls) == 2
    advance(client, 30)
    assert [e["status"] for e in callback_journal(client)] == [500, 503, 200]
    advance(client, 300)
    assert len(failing.calls) == 3  # delivered: no more tries
    [callback] = client.get("/_control/vpos/callbacks/sent").get_json()["callbacks"]
    assert callback["state"] == "delivered"
    assert [a["httpStatus"] for a in callback["attempts"]] == [500, 503, 200]


def test_a_callback_that_always_fails_stops_after_four_attempts() -> None:
    failing = Receiver(statuses=[500] * 10)
    client = manual(build(failing).test_client())
    pay_control(client, register(client))
    advance(client, 3600)
    assert len(failing.calls) == 4
    [callback] = client.get("/_control/vpos/callbacks/sent").get_json()["callbacks"]
    assert callback["state"] == "failed"
    assert client.get("/_control/vpos/callbacks/pending").get_json()["orders"] == []


def test_the_retry_schedule_is_configurable() -> None:
    failing = Receiver(statuses=[500] * 10)
    client = manual(build(failing).test_client())
    client.put("/_control/vpos/callbacks", json={"retry": {"intervalSeconds": 10, "times": 1}})
    pay_control(client, register(client))
    advance(client, 9)
    assert len(failing.calls) == 1
    advance(client, 1)
    assert len(failing.calls) == 2
    advance(client, 3600)
    assert len(failing.calls) == 2


def test_without_retries_a_failed_immediate_callback_fails_at_once() -> None:
    failing = Receiver(statuses=[500])
    client = manual(build(failing).test_client())
    client.put("/_control/vpos/callbacks", json={"retry": {"times": 0}})
    result = pay_control(client, register(client))
    assert (result["callback"]["outcome"], result["callback"]["attempts"]) == ("failed", 1)


def test_callbacks_are_journaled_without_the_checksum_and_tagged_with_the_order(
    client: FlaskClient, receiver: Receiver
) -> None:
    md_order = register(client)
    pay(client, md_order)
    [callback] = callback_journal(client)
    assert callback["direction"] == "out"
    assert callback["status"] == 200
    assert callback["params"]["checksum"] == "***"
    assert (callback["params"]["mdOrder"], callback["params"]["orderNumber"]) == (md_order, "N-1")
    assert callback["path"] == "http://merchant.test/bank/callback?source=arca"
    assert "attempt 1/4 -> 200" in callback["summary"]
    journal_text = client.get("/_control/journal").get_data(as_text=True)
    assert receiver.calls[0]["query"]["checksum"] not in journal_text
    assert KEY not in journal_text


def test_session_expiry_sends_declined_by_timeout_when_the_clock_gets_there(
    client: FlaskClient, receiver: Receiver
) -> None:
    register(client)
    advance(client, 1199)
    assert receiver.calls == []
    advance(client, 2)
    assert (receiver.params()["operation"], receiver.params()["status"]) == ("declinedByTimeout", "0")


def test_a_background_dispatch_never_sends_before_returning(receiver: Receiver) -> None:
    app = build(receiver)
    client = manual(app.test_client())
    state = get_state(app)
    order = state.bank.get(register(client))
    assert order is not None
    result = state.callbacks.dispatch(order, "deposited", 1, state.clock.now(), background=True)
    assert (result.outcome, receiver.calls) == ("scheduled", [])
    advance(client, 0)
    assert receiver.operations() == ["deposited"]


def test_no_callback_url_means_no_callback(receiver: Receiver) -> None:
    app = build(receiver)
    get_state(app).reconfigure(callback_url=None)
    client = app.test_client()
    result = pay_control(client, register(client))
    assert result["callback"]["outcome"] == "no_url"
    assert receiver.calls == []


def test_reset_drops_scheduled_callbacks_and_restores_the_defaults(client: FlaskClient, receiver: Receiver) -> None:
    client.put("/_control/vpos/callbacks", json={"mode": "after_return", "delaySeconds": 10})
    pay(client, register(client))
    client.post("/_control/reset")
    manual(client)
    advance(client, 60)
    assert receiver.calls == []
    assert client.get("/_control/vpos/callbacks").get_json()["mode"] == "immediate"
    assert client.get("/_control/vpos/callbacks/pending").get_json()["orders"] == []
    assert client.get("/_control/vpos/callbacks/sent").get_json()["callbacks"] == []


def test_unreachable_callback_url_does_not_break_the_payment() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/pay",
        stores=(),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
        callback_url="http://merchant.test/cb",
    )
    app = create_app(config, http_transport=httpx.MockTransport(broken))
    client = manual(app.test_client())
    md_order = register(client)
    assert urlsplit(pay(client, md_order).headers["Location"]).path == "/return"
    advance(client, 90)
    entries = [e for e in get_state(app).journal.entries() if e.operation == "callback"]
    assert len(entries) == 4
    assert all(e.status is None and "ConnectError" in e.summary for e in entries)


def test_a_wrong_checksum_is_well_formed_and_never_verifies() -> None:
    params = {"mdOrder": "m", "orderNumber": "1", "operation": "deposited", "status": "1", "amount": "100"}
    wrong = wrong_checksum(params, KEY)
    assert len(wrong) == 64 and wrong == wrong.upper()
    assert not verify({**params, "checksum": wrong}, KEY)
    assert verify({**params, "checksum": sign(params, KEY)}, KEY)
    assert len(wrong_checksum(params, None)) == 64


def test_a_failed_scheduled_attempt_is_retried_on_the_same_schedule() -> None:
    failing = Receiver(statuses=[503])
    client = manual(build(failing).test_client())
    client.put("/_control/vpos/callbacks", json={"mode": "after_return", "delaySeconds": 10})
    pay(client, register(client))
    advance(client, 10)
    advance(client, 29)
    assert len(failing.calls) == 1
    advance(client, 1)
    assert [e["status"] for e in callback_journal(client)] == [503, 200]
