"""An operator finishes an Ecwid update that failed for good: ``retry_failed`` sends the session's latest status
again, resolves the open exceptions when Ecwid takes it, and records who did it, also when Ecwid refuses again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.domain.errors import UnknownPayment
from gateway.services.confirm import confirm_attempt
from gateway.services.outbox import relay, retry_failed
from gateway.store.models import OperatorAction
from tests.gateway_fakes import Gateway, queue_ecwid_updates


def actions(gw: Gateway) -> list[OperatorAction]:
    with gw.ctx.db.session() as session:
        return list(session.scalars(select(OperatorAction).order_by(OperatorAction.id)))


def failed_for_good(gw: Gateway, status: int = 403) -> int:
    [session_id] = queue_ecwid_updates(gw, 1003, 1)
    gw.ecwid.fail_next(status)
    assert relay(gw.ctx).failed == 1
    assert [e.code for e in gw.exceptions()] == ["ecwid_update_failed"]
    return session_id


def test_a_manual_retry_delivers_resolves_the_exception_and_is_audited(gw: Gateway) -> None:
    session_id = failed_for_good(gw)
    gw.clock.advance(600)

    result = retry_failed(gw.ctx, session_id, actor="alice")

    assert (result.sent, result.delivered) == (1, True)
    assert gw.ecwid.statuses() == ["PAID", "PAID"]
    assert [(m.state, m.tries, m.last_error) for m in gw.outbox()] == [("sent", 1, None)]
    [exception] = gw.exceptions()
    assert (exception.resolved_by, exception.resolved_at is not None) == ("alice", True)
    [action] = actions(gw)
    assert (action.actor, action.action, action.outcome, action.session_id) == (
        "alice",
        "ecwid_retry",
        "ok",
        session_id,
    )
    assert action.exception_id == exception.id
    assert "ecwid_retry:ok" in gw.events()


def test_a_manual_retry_refused_again_keeps_the_exception_open(gw: Gateway) -> None:
    session_id = failed_for_good(gw, 402)
    gw.ecwid.fail_next(402)

    result = retry_failed(gw.ctx, session_id, actor="bob")

    assert (result.sent, result.failed, result.delivered) == (0, 1, False)
    assert [(m.state, m.tries) for m in gw.outbox()] == [("failed", 1)]  # a fresh count: one more refusal
    [exception] = gw.exceptions()  # the same exception, still open; no duplicate
    assert exception.resolved_at is None
    [action] = actions(gw)
    assert (action.actor, action.outcome) == ("bob", "failed")
    assert "402" in action.detail
    assert "ecwid_retry:failed" in gw.events()


def test_a_manual_retry_that_meets_a_transient_failure_is_retried_automatically(gw: Gateway) -> None:
    session_id = failed_for_good(gw, 409)
    gw.ecwid.fail_next(503)

    assert retry_failed(gw.ctx, session_id, actor="carol").retried == 1

    [message] = gw.outbox()
    assert (message.state, message.tries) == ("pending", 1)
    assert gw.exceptions()[0].resolved_at is None
    assert actions(gw)[0].outcome == "failed"
    gw.clock.advance(gw.settings.ecwid_backoff_max_s)
    assert relay(gw.ctx).sent == 1
    # The operator's next retry finds it delivered and closes the exception.
    again = retry_failed(gw.ctx, session_id, actor="carol")
    assert (again.sent, again.delivered) == (0, True)
    assert gw.exceptions()[0].resolved_by == "carol"
    assert [a.outcome for a in actions(gw)] == ["failed", "ok"]


def test_only_the_latest_failed_status_is_sent_again(gw: Gateway) -> None:
    outcome = gw.start()
    number = outcome.attempt_order_number or ""
    session_id = gw.payment_session().id
    gw.ecwid.fail_next(403, times=2)
    for order_status in (1, 2):  # held (two-phase): AWAITING_PAYMENT, then deposited: PAID; each refused
        status = gw.provider.status_of(gw.provider.set_status(number, order_status))
        confirm_attempt(gw.ctx, gw.attempt(number).id, status, source="test")
        relay(gw.ctx)
    assert [(m.payload["paymentStatus"], m.state) for m in gw.outbox()] == [
        ("AWAITING_PAYMENT", "failed"),
        ("PAID", "failed"),
    ]

    assert retry_failed(gw.ctx, session_id, actor="alice").sent == 1

    assert gw.ecwid.statuses() == ["AWAITING_PAYMENT", "PAID", "PAID"]  # the stale status is never sent again
    assert [m.state for m in gw.outbox()] == ["superseded", "sent"]
    assert all(e.resolved_by == "alice" for e in gw.exceptions())


def test_nothing_to_retry_is_refused_and_recorded(gw: Gateway) -> None:
    [session_id] = queue_ecwid_updates(gw, 1003, 1)
    relay(gw.ctx)
    assert retry_failed(gw.ctx, session_id, actor="alice").sent == 0
    assert len(gw.ecwid.puts) == 1
    assert [(a.outcome, a.session_id) for a in actions(gw)] == [("refused", session_id)]


def test_an_unknown_session_is_refused_and_recorded(gw: Gateway) -> None:
    with pytest.raises(UnknownPayment):
        retry_failed(gw.ctx, 999_999, actor="alice")
    assert [(a.outcome, a.session_id) for a in actions(gw)] == [("refused", None)]
