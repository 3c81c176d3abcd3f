"""The one writer of the payment lifecycle (house rule 14): ``transition`` is the only code that changes an
attempt's status.

It reads the allowed source states from the transition table, does the compare-and-set (the UPDATE's WHERE clause
is the lock: ``SELECT ... FOR UPDATE`` is ignored by SQLite), checks the row count, records the event, and
recomputes the session's Ecwid status and queues it in the outbox, all in the caller's transaction. It never
records an event or queues anything when no row changed. ``tests/unit/test_gw_one_writer.py`` fails if any other
module writes ``Attempt.status``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from gateway.domain.states import (
    SETTLED_PAID_STATES,
    AttemptStatus,
    RefundStatus,
    allowed_sources,
    project_ecwid_status,
    refund_sources,
)
from gateway.services.journal import record_event
from gateway.store.models import Attempt, OutboxMessage, PaymentSession, Refund

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransitionResult:
    changed: bool
    status: AttemptStatus  # the attempt's status after the call (the winner's, when another writer won)
    ecwid_status: str


def transition(
    session: Session,
    attempt_id: int,
    target: AttemptStatus,
    *,
    now: datetime,
    source: str,
    detail: str = "",
    values: Mapping[str, Any] | None = None,
) -> TransitionResult:
    """Move the attempt to ``target`` if the table allows it from its current state; otherwise change nothing.

    ``values`` are other columns that change with the status (mdOrder, actionCode, refunded amount...). Already in
    ``target`` with the same values: a quiet no-op (idempotent). A self-transition the table allows (another
    partial refund) happens only when one of ``values`` differs.
    """
    values = dict(values or {})
    sources = [s.value for s in allowed_sources(target)]
    not_already_there = or_(
        Attempt.status != target.value, *[getattr(Attempt, name).is_distinct_from(v) for name, v in values.items()]
    )
    result = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.status.in_(sources), not_already_there)
        .values(status=target.value, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise LookupError(attempt_id)
    session.refresh(attempt)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        owner = session.get(PaymentSession, attempt.session_id)
        assert owner is not None
        return TransitionResult(False, AttemptStatus(attempt.status), owner.ecwid_status)
    event_detail = f"source={source}" + (f" {detail}" if detail else "")
    record_event(
        session, attempt.session_id, f"attempt:{target.value}", now, attempt_id=attempt_id, detail=event_detail
    )
    log.info("attempt_transition attempt=%s to=%s source=%s", attempt.order_number, target.value, source)
    ecwid_status = project_and_enqueue(session, attempt.session_id, now=now, reason=source)
    return TransitionResult(True, target, ecwid_status)


def refund_transition(
    session: Session,
    refund_id: int,
    target: RefundStatus,
    *,
    now: datetime,
    source: str,
    values: Mapping[str, Any] | None = None,
) -> bool:
    """The one writer of ``Refund.status`` (house rule 14): a compare-and-set from the states the refund table
    allows, with the event recorded in the caller's transaction. True when this call changed the row."""
    sources = [s.value for s in refund_sources(target)]
    extra = dict(values or {})
    if target in (RefundStatus.COMPLETED, RefundStatus.FAILED, RefundStatus.REFUSED):
        extra.setdefault("completed_at", now)
    result = session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status.in_(sources))
        .values(status=target.value, updated_at=now, **extra)
        .execution_options(synchronize_session=False)
    )
    refund = session.get(Refund, refund_id)
    if refund is None:
        raise LookupError(refund_id)
    session.refresh(refund)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    record_event(
        session,
        refund.session_id,
        f"refund:{target.value}",
        now,
        attempt_id=refund.attempt_id,
        detail=f"source={source} refund={refund.external_refund_id} amount={refund.amount_minor}",
    )
    log.info("refund_transition refund=%s to=%s source=%s", refund.external_refund_id, target.value, source)
    return True


def release_waiting_customer(session: Session, attempt_id: int, *, now: datetime) -> str:
    """The customer waited on the processing page long enough while the bank still decides: record (once) that
    they were sent on to the store, and queue the projection (AWAITING_PAYMENT). Returns the session's Ecwid
    status. Changes no attempt status."""
    released = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.released_at.is_(None))
        .values(released_at=now)
        .execution_options(synchronize_session=False)
    )
    attempt = session.get(Attempt, attempt_id)
    if attempt is None:
        raise LookupError(attempt_id)
    if released.rowcount == 1:  # type: ignore[attr-defined]
        record_event(session, attempt.session_id, "customer_released", now, attempt_id=attempt_id)
    return project_and_enqueue(session, attempt.session_id, now=now, reason="customer_released")


def project_and_enqueue(session: Session, session_id: int, *, now: datetime, reason: str) -> str:
    """Recompute the session's Ecwid status; when it changed, queue it in the outbox (same transaction)."""
    payment_session = session.get(PaymentSession, session_id)
    assert payment_session is not None
    session.refresh(payment_session)
    rows = session.execute(
        select(Attempt.status, Attempt.released_at).where(Attempt.session_id == session_id).order_by(Attempt.attempt_no)
    ).all()
    statuses = [AttemptStatus(status) for status, _ in rows]
    released = bool(rows) and rows[-1][1] is not None
    projected = project_ecwid_status(statuses, released=released).value
    if projected == payment_session.ecwid_status:
        return projected
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
        OutboxMessage(
            session_id=session_id,
            payload=payload,
            state="pending",
            tries=0,
            local_errors=0,
            next_try_at=now,
            created_at=now,
        )
    )
    record_event(session, session_id, f"ecwid_queued:{projected}", now, detail=reason)
    session.refresh(payment_session)
    return projected
