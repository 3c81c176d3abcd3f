"""An attempt that stays open for days (held open by an operator exception: the bank reports another amount than
registered, so it is never paid and never expires) is checked again and again; its check count once reached 1024
and the backoff ``poll_after_s * 2 ** count`` no longer fit in a float: OverflowError, outside the per-attempt error
handling, so every later pass of the poller failed on that first, most overdue attempt and no open payment was ever
polled again. Found by the lifecycle state machine's long mode (``python -m bench.lifecycle``)."""

from __future__ import annotations

from sqlalchemy import update

from gateway.services.confirm import confirm_attempt
from gateway.services.poller import poll_interval_s, poll_open_attempts
from gateway.store.models import Attempt
from gateway.worker import run_pass
from tests.gateway_fakes import Gateway


def test_the_backoff_of_an_attempt_checked_thousands_of_times_is_the_longest_interval(gw: Gateway) -> None:
    for count in (0, 1, 60, 1023, 1024, 5000, 10**6):
        assert 0 < poll_interval_s(gw.ctx, count) <= gw.settings.poll_max_interval_s
    assert poll_interval_s(gw.ctx, 10**6) == gw.settings.poll_max_interval_s


def test_an_attempt_open_for_days_does_not_stop_the_poller(gw: Gateway) -> None:
    stuck = gw.start(reference="transaction_stuck", order_id="STUCK").attempt_order_number or ""
    md_stuck = gw.provider.set_status(stuck, 2, amount_minor=1)  # paid with another amount: an operator exception
    confirm_attempt(gw.ctx, gw.attempt(stuck).id, gw.provider.status_of(md_stuck), source="test")
    assert gw.attempt(stuck).status == "registered"
    with gw.ctx.db.session() as session, session.begin():  # days of checks every poll_max_interval_s
        session.execute(update(Attempt).where(Attempt.order_number == stuck).values(poll_count=1024))
    paid = gw.start(reference="transaction_paid", order_id="PAID").attempt_order_number or ""
    gw.provider.set_status(paid, 2)  # paid, its callback and the return lost: only the poller can find it
    gw.clock.advance(gw.settings.poll_max_interval_s + 1)

    result = poll_open_attempts(gw.ctx)

    assert (result.checked, result.failed) == (2, 0)
    assert gw.attempt(paid).status == "paid"
    assert run_pass(gw.ctx).poll is not None  # the worker's pass polls (it used to fail as a whole)
