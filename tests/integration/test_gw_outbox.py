"""The Ecwid outbox relay against a real database and a fake Ecwid: transient failures are retried with backoff
and ``Retry-After``, permanent ones and exhausted retries become operator exceptions; the token travels only in the
``Authorization`` header and is encrypted at rest."""

from __future__ import annotations

import contextlib
from typing import Any

from gateway.domain.errors import EcwidApiError
from gateway.services.confirm import confirm_attempt
from gateway.services.outbox import backoff_ceiling_s, relay
from tests.gateway_fakes import ECWID_TOKEN, Gateway, make_settings


def paid_and_queued(gw: Gateway) -> None:
    outcome = gw.start()
    number = outcome.attempt_order_number or ""
    status = gw.provider.status_of(gw.provider.set_status(number, 2))
    confirm_attempt(gw.ctx, gw.attempt(number).id, status, source="test")
    assert [m.state for m in gw.outbox()] == ["pending"]


def test_server_error_is_retried_after_backoff_and_then_sent(gw: Gateway) -> None:
    paid_and_queued(gw)
    gw.ecwid.fail_next(500)

    first = relay(gw.ctx)
    assert (first.sent, first.retried, first.failed) == (0, 1, 0)
    message = gw.outbox()[0]
    assert (message.state, message.tries) == ("pending", 1)
    assert "500" in (message.last_error or "")

    assert relay(gw.ctx).sent == 0  # not due yet: no second PUT
    assert len(gw.ecwid.puts) == 1

    gw.clock.advance(backoff_ceiling_s(1, gw.settings))
    assert relay(gw.ctx).sent == 1
    message = gw.outbox()[0]
    assert (message.state, message.tries, message.last_error) == ("sent", 2, None)
    assert gw.ecwid.statuses() == ["PAID", "PAID"]
    assert gw.exceptions() == []


def test_rate_limit_is_retried_not_before_retry_after(gw: Gateway) -> None:
    paid_and_queued(gw)
    gw.ecwid.fail_next(429, headers={"Retry-After": "7"})

    assert relay(gw.ctx).retried == 1
    gw.clock.advance(6.9)
    assert relay(gw.ctx).sent == 0
    assert len(gw.ecwid.puts) == 1
    gw.clock.advance(0.1)
    assert relay(gw.ctx).sent == 1
    assert len(gw.ecwid.puts) == 2


def test_rate_limit_without_retry_after_waits_ten_seconds(gw: Gateway) -> None:
    paid_and_queued(gw)
    gw.ecwid.fail_next(429)
    relay(gw.ctx)
    gw.clock.advance(9.9)
    assert relay(gw.ctx).sent == 0
    gw.clock.advance(0.1)
    assert relay(gw.ctx).sent == 1


def test_permanent_refusal_fails_at_once_with_an_operator_exception(gw: Gateway) -> None:
    paid_and_queued(gw)
    gw.ecwid.fail_next(403)

    result = relay(gw.ctx)

    assert (result.sent, result.retried, result.failed) == (0, 0, 1)
    assert [(m.state, m.tries) for m in gw.outbox()] == [("failed", 1)]
    exceptions = gw.exceptions()
    assert [e.code for e in exceptions] == ["ecwid_update_failed"]
    assert "PAID" in exceptions[0].detail
    assert ECWID_TOKEN not in exceptions[0].detail
    gw.clock.advance(3600)
    relay(gw.ctx)
    assert len(gw.ecwid.puts) == 1  # a failed message is not retried by itself


def test_exhausted_retries_fail_with_an_operator_exception(database_url: str) -> None:
    gw = Gateway.build(make_settings(database_url, ecwid_max_attempts=3))
    try:
        paid_and_queued(gw)
        gw.ecwid.fail_next(503, times=10)
        outcomes = []
        for _ in range(5):
            result = relay(gw.ctx)
            outcomes.append((result.retried, result.failed))
            gw.clock.advance(gw.settings.ecwid_backoff_max_s)
        assert outcomes == [(1, 0), (1, 0), (0, 1), (0, 0), (0, 0)]
        assert [(m.state, m.tries) for m in gw.outbox()] == [("failed", 3)]
        assert len(gw.ecwid.puts) == 3
        assert [e.code for e in gw.exceptions()] == ["ecwid_update_failed"]
    finally:
        gw.close()


def test_backoff_ceiling_grows_from_the_settings_and_is_capped(gw: Gateway) -> None:
    assert [backoff_ceiling_s(t, gw.settings) for t in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff_ceiling_s(50, gw.settings) == gw.settings.ecwid_backoff_max_s == 300.0


def test_relay_sends_the_token_as_bearer_header_and_never_in_the_url(gw: Gateway) -> None:
    paid_and_queued(gw)
    relay(gw.ctx)
    put = gw.ecwid.puts[0]
    assert put.headers["Authorization"] == f"Bearer {ECWID_TOKEN}"
    assert put.headers["Content-Type"] == "application/json"
    assert ECWID_TOKEN not in put.url
    assert "token" not in put.url.lower()
    assert ECWID_TOKEN not in str(put.body)


def test_the_token_column_holds_an_encrypted_token(gw: Gateway) -> None:
    gw.start()
    with gw.ctx.db.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT token_encrypted FROM payment_sessions").scalar_one()
    assert ECWID_TOKEN not in raw
    assert "secret_" not in raw
    assert gw.ctx.tokens.open(raw) == ECWID_TOKEN


def test_messages_of_one_session_are_delivered_in_order(gw: Gateway) -> None:
    outcome = gw.start()
    number = outcome.attempt_order_number or ""
    for order_status in (1, 2):  # held (two-phase), then deposited
        status = gw.provider.status_of(gw.provider.set_status(number, order_status))
        confirm_attempt(gw.ctx, gw.attempt(number).id, status, source="test")
    gw.ecwid.fail_next(500)

    assert relay(gw.ctx).retried == 1  # AWAITING_PAYMENT failed: PAID must wait behind it
    assert gw.ecwid.statuses() == ["AWAITING_PAYMENT"]
    gw.clock.advance(backoff_ceiling_s(1, gw.settings))
    assert relay(gw.ctx).sent == 2
    assert gw.ecwid.statuses() == ["AWAITING_PAYMENT", "AWAITING_PAYMENT", "PAID"]


def test_ecwid_client_reports_transient_and_permanent_errors(gw: Gateway) -> None:
    cases: list[tuple[int, dict[str, Any], bool, float | None]] = [
        (500, {}, True, None),
        (429, {"Retry-After": "3"}, True, 3.0),
        (403, {}, False, None),
        (404, {}, False, None),
    ]
    for status, headers, transient, retry_after in cases:
        gw.ecwid.fail_next(status, headers=headers)
        try:
            gw.ctx.ecwid.update_order(1003, "transaction_1", "tok", {"paymentStatus": "PAID"})
        except EcwidApiError as exc:
            assert (exc.status, exc.transient, exc.retry_after) == (status, transient, retry_after)
            assert "tok" not in str(exc)
        else:
            raise AssertionError(f"{status} accepted")
    assert all("tok" not in c.url for c in gw.ecwid.calls)


# --- crashes and our own errors do not use up Ecwid's delivery budget (issue 5.6, 5.13) -------------------------


def crash_while_holding_the_claim(gw: Gateway) -> None:
    """A worker claims the message, starts the PUT and is killed before it records anything."""

    class Killed(BaseException):
        pass

    real = gw.ctx.ecwid.update_order

    def killed(*args: Any, **kwargs: Any) -> None:
        raise Killed

    gw.ctx.ecwid.update_order = killed  # type: ignore[method-assign]
    try:
        with contextlib.suppress(Killed):
            relay(gw.ctx)
    finally:
        gw.ctx.ecwid.update_order = real  # type: ignore[method-assign]


def test_worker_kills_during_a_put_do_not_count_as_tries(database_url: str) -> None:
    gw = Gateway.build(make_settings(database_url, ecwid_max_attempts=3))
    try:
        paid_and_queued(gw)
        for _ in range(2):
            crash_while_holding_the_claim(gw)
            assert relay(gw.ctx).sent == 0  # the lease still stands: nobody else sends meanwhile
            gw.clock.advance(61)  # the dead worker's lease runs out: the message is taken again
        gw.ecwid.fail_next(503)
        assert relay(gw.ctx).retried == 1
        gw.clock.advance(backoff_ceiling_s(1, gw.settings) + 1)
        assert relay(gw.ctx).sent == 1
        [message] = gw.outbox()
        assert (message.state, message.tries) == ("sent", 2)  # one 503 and one 200: the kills cost nothing
        assert gw.exceptions() == []
    finally:
        gw.close()


def test_a_result_is_recorded_only_by_the_claims_owner(gw: Gateway) -> None:
    # A slow worker whose lease ran out must not overwrite what the worker that took over recorded.
    paid_and_queued(gw)
    real = gw.ctx.ecwid.update_order

    def slow_then_overtaken(*args: Any, **kwargs: Any) -> None:
        gw.clock.advance(61)
        gw.ctx.ecwid.update_order = real  # type: ignore[method-assign]
        assert relay(gw.ctx).sent == 1  # another worker takes the expired claim and delivers
        raise EcwidApiError("Ecwid API answered 503", status=503)

    gw.ctx.ecwid.update_order = slow_then_overtaken  # type: ignore[method-assign]
    result = relay(gw.ctx)
    assert (result.sent, result.retried) == (0, 0)
    [message] = gw.outbox()
    assert (message.state, message.tries) == ("sent", 1)


def test_a_message_that_keeps_failing_in_our_code_stays_alone_and_becomes_an_operator_exception(gw: Gateway) -> None:
    paid_and_queued(gw)  # store 1003's session
    other = gw.start(reference="transaction_other", order_id="OTHER")
    number = other.attempt_order_number or ""
    confirm_attempt(gw.ctx, gw.attempt(number).id, gw.provider.status_of(gw.provider.set_status(number, 2)), "test")
    real = gw.ctx.ecwid.update_order
    first_session = gw.outbox()[0].session_id

    def broken_for_one_session(store_id: int, ref: str, token: str, fields: dict[str, Any]) -> None:
        if ref != "transaction_other":
            raise RuntimeError("a bug that only this message triggers")
        real(store_id, ref, token, fields)

    gw.ctx.ecwid.update_order = broken_for_one_session  # type: ignore[method-assign]
    result = relay(gw.ctx)
    assert (result.sent, result.errors) == (1, 1)  # the other session's update still went out
    for _ in range(4):
        gw.clock.advance(61)
        relay(gw.ctx)
    stuck = next(m for m in gw.outbox() if m.session_id == first_session)
    assert (stuck.state, stuck.tries, stuck.local_errors) == ("pending", 0, 5)
    assert [(e.code, e.session_id) for e in gw.exceptions()] == [("ecwid_relay_error", first_session)]
    gw.ctx.ecwid.update_order = real  # type: ignore[method-assign]
    gw.clock.advance(61)
    relay(gw.ctx)
    assert next(m for m in gw.outbox() if m.session_id == first_session).state == "sent"  # fixed: it goes out


def test_the_claim_lease_is_the_configured_one(database_url: str) -> None:
    # VPOSLAB_OUTBOX_LEASE_S: a crash mid-delivery delays the update by the lease, no more and no less.
    gw = Gateway.build(make_settings(database_url, outbox_lease_s=20.0))
    try:
        paid_and_queued(gw)
        crash_while_holding_the_claim(gw)
        gw.clock.advance(19)
        assert relay(gw.ctx).sent == 0  # still leased to the dead worker
        gw.clock.advance(2)
        assert relay(gw.ctx).sent == 1  # past the configured lease: taken again and delivered
    finally:
        gw.close()
