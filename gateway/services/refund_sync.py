"""Our refund records follow the bank's ``refunds[]``, the only proof that a refund is final (protocols.md 2.9).

Called inside every confirmation (``confirm.apply_status``), so the refund rows and the attempt's state move in one
transaction: a refund is ``completed`` exactly when the bank lists it as made under our ``externalRefundId``, and
``failed`` when the bank lists it as failed (the money did not go back: an operator exception says so).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.confirmation import ProviderStatus
from gateway.domain.states import OPEN_REFUND_STATES, RefundStatus
from gateway.services.journal import raise_exception
from gateway.services.lifecycle import refund_transition
from gateway.store.models import Attempt, Refund


def sync_refund_rows(session: Session, attempt: Attempt, status: ProviderStatus, now: datetime, source: str) -> None:
    """Move each of the attempt's refunds still on its way to what the bank's ``refunds[]`` says about it."""
    pending = session.scalars(
        select(Refund).where(Refund.attempt_id == attempt.id, Refund.status.in_([s.value for s in OPEN_REFUND_STATES]))
    ).all()
    if not pending:
        return
    listed = {entry.external_refund_id: entry for entry in status.refunds or () if entry.external_refund_id}
    for refund in pending:
        entry = listed.get(refund.external_refund_id)
        if entry is None:
            if status.refunds is None or (status.refunds and not listed):
                # This response version cannot name our refunds: only a person can tell whether it was made.
                raise_exception(
                    session,
                    "refund_unverifiable",
                    f"refund {refund.external_refund_id} of {refund.amount_minor}: the bank's answer has no "
                    "refunds[] with externalRefundId (response version), check it in the bank's portal",
                    now,
                    session_id=attempt.session_id,
                    attempt_id=attempt.id,
                )
            continue
        if entry.succeeded:
            refund_transition(
                session,
                refund.id,
                RefundStatus.COMPLETED,
                now=now,
                source=source,
                values={"bank_refund_id": entry.bank_refund_id},
            )
            continue
        if refund_transition(
            session,
            refund.id,
            RefundStatus.FAILED,
            now=now,
            source=source,
            values={"bank_refund_id": entry.bank_refund_id},
        ):
            raise_exception(
                session,
                "refund_failed",
                f"the bank took refund {refund.external_refund_id} of {refund.amount_minor} and then failed it: "
                "the money did not go back to the customer",
                now,
                session_id=attempt.session_id,
                attempt_id=attempt.id,
            )
