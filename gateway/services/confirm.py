"""Apply a provider status to an attempt: compare-and-set, projection to Ecwid, outbox, operator exceptions.

Every confirmation path (customer return, callback, poller) ends here, so a state changes at most once however
many hints arrive, and concurrently: the UPDATE's WHERE clause is the lock (``SELECT ... FOR UPDATE`` is ignored
by SQLite). The outbox row is written in the same transaction as the state change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.domain.confirmation import ProviderStatus, decide
from gateway.domain.money import CURRENCIES
from gateway.domain.states import SETTLED_PAID_STATES, AttemptStatus, allowed_sources, project_ecwid_status
from gateway.services.context import GatewayContext
from gateway.services.journal import raise_exception, record_event
from gateway.store.models import Attempt, OutboxMessage, PaymentSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Confirmation:
    attempt_status: AttemptStatus
    ecwid_status: str
    changed: bool


def confirm_attempt(ctx: GatewayContext, attempt_id: int, status: ProviderStatus, source: str) -> Confirmation:
    """Make the attempt agree with the provider's status of record. Idempotent; never regresses a final state."""
    with ctx.db.session() as session, session.begin():
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            raise LookupError(attempt_id)
        now = ctx.clock.now()
        decision = decide(status, amount_minor=attempt.amount_minor, currency_numeric=CURRENCIES[attempt.currency][0])
        if decision.exception_code:
            if raise_exception(
                session,
                decision.exception_code,
                decision.detail,
                now,
                session_id=attempt.session_id,
                attempt_id=attempt.id,
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
        if target is None or target.value == attempt.status:
            return _current(session, attempt, changed=False)
        from_states = [s.value for s in allowed_sources(target)]
        result = session.execute(
            update(Attempt)
            .where(Attempt.id == attempt.id, Attempt.status.in_(from_states))
            .values(
                status=target.value,
                action_code=status.action_code or None,
                masked_pan=status.masked_pan,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.refresh(attempt)
            if attempt.status != target.value:
                log.info(
                    "transition_ignored attempt=%s from=%s to=%s source=%s",
                    attempt.order_number,
                    attempt.status,
                    target.value,
                    source,
                )
                record_event(
                    session,
                    attempt.session_id,
                    "transition_ignored",
                    now,
                    attempt_id=attempt.id,
                    detail=f"{attempt.status}->{target.value} ({source})",
                )
                if target in (AttemptStatus.PAID, AttemptStatus.AUTHORIZED) and (
                    AttemptStatus(attempt.status) not in SETTLED_PAID_STATES
                ):
                    # The bank took money on an attempt we already closed (declined/expired/cancelled): never lose it.
                    raise_exception(
                        session,
                        "payment_on_closed_attempt",
                        f"bank reports {target.value} for attempt {attempt.order_number} in state {attempt.status}",
                        now,
                        session_id=attempt.session_id,
                        attempt_id=attempt.id,
                    )
            return _current(session, attempt, changed=False)
        session.refresh(attempt)
        record_event(
            session,
            attempt.session_id,
            f"attempt:{target.value}",
            now,
            attempt_id=attempt.id,
            detail=f"source={source} actionCode={status.action_code}",
        )
        log.info("attempt_transition attempt=%s to=%s source=%s", attempt.order_number, target.value, source)
        if target is AttemptStatus.PAID:
            _check_double_charge(session, attempt, now)
        ecwid_status = project_and_enqueue(session, attempt.session_id, ctx, reason=source)
        return Confirmation(AttemptStatus(attempt.status), ecwid_status, changed=True)


def project_and_enqueue(session: Session, session_id: int, ctx: GatewayContext, *, reason: str) -> str:
    """Recompute the session's Ecwid status; when it changed, queue it in the outbox (same transaction)."""
    payment_session = session.get(PaymentSession, session_id)
    assert payment_session is not None
    statuses = [
        AttemptStatus(s)
        for s in session.scalars(
            select(Attempt.status).where(Attempt.session_id == session_id).order_by(Attempt.attempt_no)
        )
    ]
    projected = project_ecwid_status(statuses).value
    if projected == payment_session.ecwid_status:
        return projected
    now = ctx.clock.now()
    changed = session.execute(
        update(PaymentSession)
        .where(PaymentSession.id == session_id, PaymentSession.ecwid_status == payment_session.ecwid_status)
        .values(ecwid_status=projected, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(payment_session)
        return payment_session.ecwid_status
    paid = session.scalars(
        select(Attempt).where(
            Attempt.session_id == session_id, Attempt.status.in_([s.value for s in SETTLED_PAID_STATES])
        )
    ).first()
    payload: dict[str, object] = {"paymentStatus": projected}
    if paid is not None and paid.provider_order_id:
        payload["externalTransactionId"] = paid.provider_order_id
    session.add(
        OutboxMessage(session_id=session_id, payload=payload, state="pending", tries=0, next_try_at=now, created_at=now)
    )
    record_event(session, session_id, f"ecwid_queued:{projected}", now, detail=reason)
    session.refresh(payment_session)
    return projected


def _check_double_charge(session: Session, attempt: Attempt, now: datetime) -> None:
    others = session.scalars(
        select(Attempt.order_number).where(
            Attempt.session_id == attempt.session_id,
            Attempt.id != attempt.id,
            Attempt.status.in_([s.value for s in SETTLED_PAID_STATES]),
        )
    ).all()
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
