"""A payment's records as plain JSON-ready data, for the console's JSON view (``/ops/api/*``,
``gateway.web.console_api``): what the console's pages show, for tools instead of people.

- ``search``: ``gateway.services.timeline.search_payments`` (exact Ecwid order id, referenceTransactionId,
  orderNumber or mdOrder) as payment summaries;
- ``payment_record``: one payment session with its attempts (each with its refunds, oldest first), its operator
  exceptions (open and resolved, oldest first) and its one timeline (``timeline.payment_timeline``).

Read only. Every field is picked by name: the sealed Ecwid token, the return URL, the bank's payment page URL and
every other stored secret are never read out. Datetimes are ISO-8601 with their zone (UTC); SQLite's naive values
are stored UTC and made aware.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.services import timeline
from gateway.services.timeline import PaymentSummary, TimelineEntry
from gateway.store.models import Attempt, OperatorException, PaymentSession, Refund

JsonObject = dict[str, Any]


def iso(value: datetime | None) -> str | None:
    """ISO-8601 with the zone; ``None`` stays ``None``."""
    return None if value is None else timeline.aware(value).isoformat()


def summary_json(summary: PaymentSummary) -> JsonObject:
    return {
        "id": summary.id,
        "store_id": summary.store_id,
        "ecwid_order_id": summary.ecwid_order_id,
        "reference_transaction_id": summary.reference_transaction_id,
        "amount": summary.amount,
        "amount_minor": summary.amount_minor,
        "currency": summary.currency,
        "ecwid_status": summary.ecwid_status,
        "created_at": iso(summary.created_at),
    }


def search(session: Session, query: str) -> JsonObject:
    """``{"query", "payments"}``: the sessions any of whose ids is exactly ``query`` (blanks around it ignored)."""
    query = query.strip()
    found = timeline.search_payments(session, query) if query else []
    return {"query": query, "payments": [summary_json(s) for s in found]}


def _refund_json(refund: Refund) -> JsonObject:
    return {
        "id": refund.id,
        "external_refund_id": refund.external_refund_id,
        "amount_minor": refund.amount_minor,
        "currency": refund.currency,
        "status": refund.status,
        "requested_by": refund.requested_by,
        "created_at": iso(refund.created_at),
        "completed_at": iso(refund.completed_at),
    }


def _attempt_json(attempt: Attempt, refunds: list[Refund]) -> JsonObject:
    return {
        "id": attempt.id,
        "attempt_no": attempt.attempt_no,
        "order_number": attempt.order_number,
        "md_order": attempt.provider_order_id,
        "status": attempt.status,
        "two_phase": attempt.two_phase,
        "amount_minor": attempt.amount_minor,
        "currency": attempt.currency,
        "deposited_minor": attempt.deposited_minor,
        "refunded_minor": attempt.refunded_minor,
        "masked_pan": attempt.masked_pan,
        "action_code": attempt.action_code,
        "created_at": iso(attempt.created_at),
        "refunds": [_refund_json(r) for r in refunds if r.attempt_id == attempt.id],
    }


def _exception_json(row: OperatorException, order_numbers: dict[int, str]) -> JsonObject:
    return {
        "id": row.id,
        "code": row.code,
        "detail": row.detail,
        "attempt_id": row.attempt_id,
        "attempt_order_number": order_numbers.get(row.attempt_id) if row.attempt_id is not None else None,
        "open": row.resolved_at is None,
        "resolved_by": row.resolved_by,
        "note": row.note,
        "created_at": iso(row.created_at),
        "resolved_at": iso(row.resolved_at),
    }


def _timeline_json(entry: TimelineEntry) -> JsonObject:
    return {
        "at": iso(entry.at),
        "source": entry.source,
        "kind": entry.kind,
        "detail": entry.detail,
        "attempt_id": entry.attempt_id,
        "outcome": entry.outcome,
    }


def payment_record(session: Session, session_id: int) -> JsonObject | None:
    """``{"payment", "attempts", "exceptions", "timeline"}`` of one payment session, or None when there is none."""
    row = session.get(PaymentSession, session_id)
    if row is None:
        return None
    attempts = list(
        session.scalars(select(Attempt).where(Attempt.session_id == session_id).order_by(Attempt.attempt_no))
    )
    refunds = list(
        session.scalars(select(Refund).where(Refund.session_id == session_id).order_by(Refund.created_at, Refund.id))
    )
    exceptions = session.scalars(
        select(OperatorException)
        .where(OperatorException.session_id == session_id)
        .order_by(OperatorException.created_at, OperatorException.id)
    )
    order_numbers = {attempt.id: attempt.order_number for attempt in attempts}
    return {
        "payment": summary_json(timeline.summary(row)),
        "attempts": [_attempt_json(attempt, refunds) for attempt in attempts],
        "exceptions": [_exception_json(exc, order_numbers) for exc in exceptions],
        "timeline": [_timeline_json(entry) for entry in timeline.payment_timeline(session, session_id)],
    }
