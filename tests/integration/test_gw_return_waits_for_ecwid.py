"""The customer is sent back to the store only after Ecwid has the verified status, whoever delivers it (issue 5.1).

A callback that arrives just before the customer claims the Ecwid update; with a slow Ecwid the return used to see
the claim, skip it and redirect at once, so the paying customer landed on the checkout instead of "thank you".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from gateway import create_app
from gateway.services.callbacks import handle_callback
from gateway.services.customer_return import handle_return
from gateway.services.messages import MESSAGES
from gateway.services.outbox import retry_failed
from gateway.store.models import OutboxMessage
from tests.gateway_fakes import RETURN_URL, Gateway, ecwid_form, make_settings


@pytest.fixture
def slow_gw(database_url: str) -> Iterator[Gateway]:
    gateway = Gateway.build(make_settings(database_url, return_wait_s=3.0))
    try:
        yield gateway
    finally:
        gateway.close()


def started(gw: Gateway) -> str:
    outcome = gw.start()
    assert outcome.attempt_order_number is not None
    return outcome.attempt_order_number


def wait_for_claim(gw: Gateway, timeout_s: float = 5.0) -> None:
    """Until the callback's request holds the claim on the Ecwid update (it is talking to Ecwid now)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with gw.ctx.db.session() as session:
            if session.scalar(select(OutboxMessage.id).where(OutboxMessage.claim_token.is_not(None))) is not None:
                return
        time.sleep(0.01)
    raise AssertionError("the callback never claimed the Ecwid update")


@pytest.mark.parametrize("ecwid_delay_s", [0.2, 0.6])
def test_return_right_after_a_callback_waits_until_ecwid_says_paid(slow_gw: Gateway, ecwid_delay_s: float) -> None:
    gw = slow_gw
    number = started(gw)
    md_order = gw.provider.set_status(number, 2)
    gw.ecwid.delay_s = ecwid_delay_s
    callback = threading.Thread(target=handle_callback, args=(gw.ctx, gw.signed_callback(number)))
    callback.start()
    try:
        wait_for_claim(gw)
        outcome = handle_return(gw.ctx, md_order, number)
        statuses_when_redirected = gw.ecwid.statuses()
    finally:
        callback.join(timeout=10)

    assert outcome.redirect_url == RETURN_URL
    assert statuses_when_redirected == ["PAID"]  # Ecwid had answered before the customer was sent back
    assert [m.state for m in gw.outbox()] == ["sent"]
    assert len(gw.ecwid.puts) == 1  # the return waited; it did not send a second PUT


def test_return_shows_the_processing_page_while_ecwid_stays_slow(database_url: str) -> None:
    gw = Gateway.build(make_settings(database_url, return_wait_s=0.3))
    try:
        number = started(gw)
        md_order = gw.provider.set_status(number, 2)
        gw.ecwid.delay_s = 1.5
        callback = threading.Thread(target=handle_callback, args=(gw.ctx, gw.signed_callback(number)))
        callback.start()
        try:
            wait_for_claim(gw)
            started_at = time.monotonic()
            outcome = handle_return(gw.ctx, md_order, number)
            waited = time.monotonic() - started_at
        finally:
            callback.join(timeout=10)
        assert outcome.redirect_url is None  # the processing page, which refreshes back to the return
        assert outcome.ecwid_status == "PAID"
        assert waited < 1.4  # bounded by return_wait_s, not by Ecwid

        gw.ecwid.delay_s = 0.0
        again = handle_return(gw.ctx, md_order, number)  # the page refreshes once Ecwid has answered
        assert again.redirect_url == RETURN_URL
    finally:
        gw.close()


def test_return_does_not_send_the_customer_back_when_ecwid_refused_the_update_for_now(database_url: str) -> None:
    gw = Gateway.build(make_settings(database_url, return_wait_s=0.2))
    try:
        number = started(gw)
        md_order = gw.provider.set_status(number, 2)
        gw.ecwid.fail_next(503)

        first = handle_return(gw.ctx, md_order, number)
        assert first.redirect_url is None
        assert gw.ecwid.statuses() == ["PAID"]  # tried once; Ecwid answered 503

        gw.clock.advance(5)  # the retry is due
        second = handle_return(gw.ctx, md_order, number)
        assert second.redirect_url == RETURN_URL
        assert [m.state for m in gw.outbox()] == ["sent"]
    finally:
        gw.close()


def test_return_tells_the_customer_the_payment_arrived_once_the_update_failed_for_good(database_url: str) -> None:
    # A permanent refusal (revoked token) will not heal by waiting: the operator exception is open, and the
    # customer is not kept on a page that refreshes forever, nor sent to a store that still says "not paid" and
    # invites a second payment: the gateway's own page says the money arrived.
    gw = Gateway.build(make_settings(database_url, return_wait_s=0.2))
    try:
        number = started(gw)
        md_order = gw.provider.set_status(number, 2)
        gw.ecwid.fail_next(403)
        outcome = handle_return(gw.ctx, md_order, number)
        assert (outcome.redirect_url, outcome.received, outcome.ecwid_status) == (None, True, "PAID")
        assert [e.code for e in gw.exceptions()] == ["ecwid_update_failed"]
        client = create_app(context=gw.ctx).test_client()
        page = client.get("/vpos/return", query_string={"orderId": md_order, "attempt": number})
        assert page.status_code == 200
        assert MESSAGES["en"]["payment_received"] in page.get_data(as_text=True)
        again = client.post("/ecwid/payment", data=ecwid_form())  # Ecwid's "pay again": no second bank order
        assert again.status_code == 200 and MESSAGES["en"]["payment_received"] in again.get_data(as_text=True)
        assert gw.provider.register_calls == 1
        retry_failed(gw.ctx, gw.payment_session().id, actor="anna")  # the operators finish the update
        assert client.get("/vpos/return", query_string={"orderId": md_order, "attempt": number}).status_code == 303
    finally:
        gw.close()
