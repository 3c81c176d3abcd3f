"""Apply a provider status to an attempt: the decision, the one lifecycle writer, operator exceptions.

Every confirmation path (customer return, callback, poller, stale-registration recovery) ends here, so a state
changes at most once however many hints arrive, and concurrently. Nothing here writes ``Attempt.status`` itself:
``lifecycle.transition`` does, with the Ecwid projection and the outbox row in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.confirmation import ProviderStatus, decide
from gateway.domain.money import CURRENCIES
from gateway.domain.states import SETTLED_PAID_STATES, AttemptStatus
from gateway.services.context import GatewayContext
from gateway.services.journal import raise_exception, record_event
from gateway.services.lifecycle import transition
from gateway.services.refund_sync import sync_refund_rows
from gateway.store.models import Attempt, PaymentSession

log = logging.getLogger(__name__)

MONEY_TARGETS = frozenset({AttemptStatus.PAID, AttemptStatus.AUTHORIZED})
AFTER_PAYMENT_TARGETS = frozenset(
    {AttemptStatus.REFUNDED, AttemptStatus.PARTIALLY_REFUNDED, AttemptStatus.REVERSED, AttemptStatus.CANCELLED}
)


@dataclass(frozen=True)
class Confirmation:
    attempt_status: AttemptStatus
    ecwid_status: str
    changed: bool


def confirm_attempt(
    ctx: GatewayContext, attempt_id: int, status: ProviderStatus, source: str, *, expire_unpaid: bool = False
) -> Confirmation:
    """Make the attempt agree with the provider's status of record. Idempotent; never regresses a final state.

    ``expire_unpaid``: the caller knows the bank page's session is over, so an order the bank still reports as
    registered and unpaid expires.
    """
    with ctx.db.session() as session, session.begin():
        return apply_status(session, ctx, attempt_id, status, source, expire_unpaid=expire_unpaid)


def apply_status(
    session: Session,
    ctx: GatewayContext,
    attempt_id: int,
    status: ProviderStatus,
    source: str,
    *,
    expire_unpaid: bool = False,
) -> Confirmation:
    """``confirm_attempt`` inside the caller's transaction."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise LookupError(attempt_id)
    now = ctx.clock.now()
    current = AttemptStatus(attempt.status)
    decision = decide(
        status,
        amount_minor=attempt.amount_minor,
        currency_numeric=CURRENCIES[attempt.currency][0],
        current=current,
        session_over=expire_unpaid,
        expected_deposit_minor=attempt.deposited_minor,
    )
    sync_refund_rows(session, attempt, status, now, source)
    if decision.exception_code:
        if raise_exception(
            session, decision.exception_code, decision.detail, now, session_id=attempt.session_id, attempt_id=attempt.id
        ):
            record_event(
                session,
                attempt.session_id,
                f"exception:{decision.exception_code}",
                now,
                attempt_id=attempt.id,
                detail=source,
            )
        return _current(session, attempt, changed=False)
    target = decision.target
    if target is None:
        return _current(session, attempt, changed=False)
    values: dict[str, Any] = {}
    if status.action_code:
        values["action_code"] = status.action_code[:16]
    if status.masked_pan:
        values["masked_pan"] = status.masked_pan[:32]
    if decision.refunded_minor is not None:
        values["refunded_minor"] = decision.refunded_minor
    if target is AttemptStatus.PAID and current is not AttemptStatus.PAID:
        values["deposited_minor"] = status.deposited_minor or attempt.deposited_minor or attempt.amount_minor
    if target is current and target not in (AttemptStatus.PARTIALLY_REFUNDED,):
        return _current(session, attempt, changed=False)  # already there: nothing to record
    result = transition(
        session,
        attempt.id,
        target,
        now=now,
        source=source,
        detail=f"actionCode={status.action_code}",
        values=values,
    )
    if result.changed:
        if target is AttemptStatus.PAID:
            _check_double_charge(session, attempt, now)
        return Confirmation(result.status, result.ecwid_status, changed=True)
    if result.status is not target:
        _transition_refused(session, attempt, result.status, target, now, source)
    return Confirmation(result.status, result.ecwid_status, changed=False)


def _transition_refused(
    session: Session, attempt: Attempt, current: AttemptStatus, target: AttemptStatus, now: datetime, source: str
) -> None:
    """The bank says something our state machine will not follow: log it, and never let money vanish in it."""
    log.info("transition_ignored attempt=%s from=%s to=%s source=%s", attempt.order_number, current, target, source)
    record_event(
        session,
        attempt.session_id,
        "transition_ignored",
        now,
        attempt_id=attempt.id,
        detail=f"{current.value}->{target.value} ({source})",
    )
    if target in MONEY_TARGETS and current not in SETTLED_PAID_STATES:
        # The bank took money on an attempt we already closed (declined/expired/cancelled): never lose it. When
        # another attempt of the same order is paid, the customer paid twice.
        others = _paid_siblings(session, attempt)
        code, detail = "payment_on_closed_attempt", ""
        if others:
            code, detail = "double_charge", f"; the order is already paid by {', '.join(others)}"
        raise_exception(
            session,
            code,
            f"bank reports {target.value} for attempt {attempt.order_number} in state {current.value}{detail}",
            now,
            session_id=attempt.session_id,
            attempt_id=attempt.id,
        )
    elif target in AFTER_PAYMENT_TARGETS and current not in SETTLED_PAID_STATES | {AttemptStatus.AUTHORIZED}:
        raise_exception(
            session,
            "unexpected_bank_status",
            f"bank reports {target.value} for attempt {attempt.order_number} we never saw paid ({current.value})",
            now,
            session_id=attempt.session_id,
            attempt_id=attempt.id,
        )


def _paid_siblings(session: Session, attempt: Attempt) -> list[str]:
    """The other attempts of the same order that took or hold money."""
    return list(
        session.scalars(
            select(Attempt.order_number).where(
                Attempt.session_id == attempt.session_id,
                Attempt.id != attempt.id,
                Attempt.status.in_([s.value for s in SETTLED_PAID_STATES | {AttemptStatus.AUTHORIZED}]),
            )
        ).all()
    )


def _check_double_charge(session: Session, attempt: Attempt, now: datetime) -> None:
    others = _paid_siblings(session, attempt)
    if others:
        raise_exception(
            session,
            "double_charge",
            f"attempt {attempt.order_number} paid while {', '.join(others)} already paid for the same order",
            now,
            session_id=attempt.session_id,
            attempt_id=attempt.id,
        )


def _current(session: Session, attempt: Attempt, *, changed: bool) -> Confirmation:
    payment_session = session.get(PaymentSession, attempt.session_id)
    assert payment_session is not None
    return Confirmation(AttemptStatus(attempt.status), payment_session.ecwid_status, changed)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes even for timezone-aware columns; they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
