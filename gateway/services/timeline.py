"""The console's read side: find a payment by any id a person may hold, and tell its whole story in one timeline.

``search_payments`` takes an Ecwid order id, a ``referenceTransactionId``, our bank ``orderNumber`` or the bank's
``mdOrder`` (exact match). ``payment_timeline`` merges, in time order, the session's payment events, its refunds,
its Ecwid outbox messages (with their tries and last error), its operator exceptions and the operator actions on it.
Read only; nothing here returns a secret (the sealed Ecwid token and the return URL are never read out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.domain.money import Money
from gateway.store.models import (
    Attempt,
    OperatorAction,
    OperatorException,
    OutboxMessage,
    PaymentEvent,
    PaymentSession,
    Refund,
)

MAX_RESULTS = 50
# Within one instant: what happened first in a transaction is listed first.
_SOURCE_ORDER = {"event": 0, "refund": 1, "exception": 2, "outbox": 3, "action": 4}


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes even for timezone-aware columns; they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _money(minor: int | None, currency: str) -> str:
    return "" if minor is None else str(Money(minor, currency))


@dataclass(frozen=True)
class PaymentSummary:
    id: int
    store_id: int
    ecwid_order_id: str
    reference_transaction_id: str
    amount: str
    ecwid_status: str
    created_at: datetime
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class AttemptView:
    id: int
    attempt_no: int
    order_number: str
    provider_order_id: str | None
    status: str
    two_phase: bool
    amount: str
    amount_minor: int
    currency: str
    refunded: str
    deposited: str
    masked_pan: str | None
    action_code: str | None
    created_at: datetime


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    source: str  # event | refund | outbox | exception | action
    kind: str
    detail: str
    attempt_id: int | None = None
    outcome: str = ""
    link_id: int | None = None  # the exception's id for exception entries


@dataclass(frozen=True)
class PaymentPage:
    payment: PaymentSummary
    attempts: list[AttemptView]
    timeline: list[TimelineEntry]


def summary(row: PaymentSession) -> PaymentSummary:
    return PaymentSummary(
        id=row.id,
        store_id=row.store_id,
        ecwid_order_id=row.ecwid_order_id,
        reference_transaction_id=row.reference_transaction_id,
        amount=_money(row.amount_minor, row.currency),
        ecwid_status=row.ecwid_status,
        created_at=aware(row.created_at),
        amount_minor=row.amount_minor,
        currency=row.currency,
    )


def search_payments(session: Session, query: str) -> list[PaymentSummary]:
    """Sessions whose Ecwid order id, referenceTransactionId, or one of whose attempts' orderNumber or mdOrder is
    exactly ``query`` (surrounding blanks ignored); newest first."""
    query = query.strip()
    if not query:
        return []
    by_attempt = select(Attempt.session_id).where(
        or_(Attempt.order_number == query, Attempt.provider_order_id == query)
    )
    rows = session.scalars(
        select(PaymentSession)
        .where(
            or_(
                PaymentSession.ecwid_order_id == query,
                PaymentSession.reference_transaction_id == query,
                PaymentSession.id.in_(by_attempt),
            )
        )
        .order_by(PaymentSession.created_at.desc(), PaymentSession.id.desc())
        .limit(MAX_RESULTS)
    )
    return [summary(row) for row in rows]


def _attempt_view(attempt: Attempt) -> AttemptView:
    return AttemptView(
        id=attempt.id,
        attempt_no=attempt.attempt_no,
        order_number=attempt.order_number,
        provider_order_id=attempt.provider_order_id,
        status=attempt.status,
        two_phase=attempt.two_phase,
        amount=_money(attempt.amount_minor, attempt.currency),
        amount_minor=attempt.amount_minor,
        currency=attempt.currency,
        refunded=_money(attempt.refunded_minor, attempt.currency),
        deposited=_money(attempt.deposited_minor, attempt.currency),
        masked_pan=attempt.masked_pan,
        action_code=attempt.action_code,
        created_at=aware(attempt.created_at),
    )


def payment_timeline(session: Session, session_id: int) -> list[TimelineEntry]:
    """Everything recorded about the payment session, oldest first (ties: events, refunds, exceptions, outbox,
    operator actions, each in the order written)."""
    entries: list[tuple[TimelineEntry, int]] = []
    for event in session.scalars(select(PaymentEvent).where(PaymentEvent.session_id == session_id)):
        entries.append((TimelineEntry(aware(event.at), "event", event.kind, event.detail, event.attempt_id), event.id))
    for refund in session.scalars(select(Refund).where(Refund.session_id == session_id)):
        amount = _money(refund.amount_minor, refund.currency)
        entries.append(
            (
                TimelineEntry(
                    aware(refund.created_at),
                    "refund",
                    "refund_requested",
                    f"{amount} by {refund.requested_by} (#{refund.external_refund_id})",
                    refund.attempt_id,
                    refund.status,
                ),
                refund.id,
            )
        )
        if refund.completed_at is not None or refund.error_code:
            error = f" error {refund.error_code}: {refund.error_message or ''}" if refund.error_code else ""
            at = refund.completed_at or refund.updated_at
            entries.append(
                (
                    TimelineEntry(
                        aware(at), "refund", f"refund_{refund.status}", f"{amount}{error}", refund.attempt_id
                    ),
                    refund.id,
                )
            )
    for message in session.scalars(select(OutboxMessage).where(OutboxMessage.session_id == session_id)):
        status = message.payload.get("paymentStatus", "") if isinstance(message.payload, dict) else ""
        detail = f"{status} tries={message.tries}"
        if message.last_error:
            detail += f" last error: {message.last_error}"
        entries.append(
            (
                TimelineEntry(aware(message.created_at), "outbox", "ecwid_queued", detail, outcome=message.state),
                message.id,
            )
        )
        if message.sent_at is not None:
            entries.append(
                (
                    TimelineEntry(aware(message.sent_at), "outbox", "ecwid_sent", f"{status} tries={message.tries}"),
                    message.id,
                )
            )
    exception_ids: list[int] = []
    for exc in session.scalars(select(OperatorException).where(OperatorException.session_id == session_id)):
        exception_ids.append(exc.id)
        entries.append(
            (
                TimelineEntry(
                    aware(exc.created_at), "exception", exc.code, exc.detail, exc.attempt_id, "open", link_id=exc.id
                ),
                exc.id,
            )
        )
        if exc.resolved_at is not None:
            note = f": {exc.note}" if exc.note else ""
            entries.append(
                (
                    TimelineEntry(
                        aware(exc.resolved_at),
                        "exception",
                        f"{exc.code} resolved",
                        f"{exc.resolved_by or ''}{note}",
                        exc.attempt_id,
                        "resolved",
                        link_id=exc.id,
                    ),
                    exc.id,
                )
            )
    attempt_ids = select(Attempt.id).where(Attempt.session_id == session_id)
    conditions = [OperatorAction.session_id == session_id, OperatorAction.attempt_id.in_(attempt_ids)]
    if exception_ids:
        conditions.append(OperatorAction.exception_id.in_(exception_ids))
    for action in session.scalars(select(OperatorAction).where(or_(*conditions))):
        entries.append(
            (
                TimelineEntry(
                    aware(action.at),
                    "action",
                    action.action,
                    f"{action.actor}: {action.detail}" if action.detail else action.actor,
                    action.attempt_id,
                    action.outcome,
                ),
                action.id,
            )
        )
    entries.sort(key=lambda pair: (pair[0].at, _SOURCE_ORDER[pair[0].source], pair[1]))
    return [entry for entry, _ in entries]


def payment_page(session: Session, session_id: int) -> PaymentPage | None:
    row = session.get(PaymentSession, session_id)
    if row is None:
        return None
    attempts = session.scalars(select(Attempt).where(Attempt.session_id == session_id).order_by(Attempt.attempt_no))
    return PaymentPage(summary(row), [_attempt_view(a) for a in attempts], payment_timeline(session, session_id))
