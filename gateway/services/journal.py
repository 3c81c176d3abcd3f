"""Small write helpers shared by the use cases: audit events and operator exceptions (deduplicated)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store.models import OperatorException, PaymentEvent

log = logging.getLogger(__name__)


def record_event(
    session: Session, session_id: int, kind: str, at: datetime, *, attempt_id: int | None = None, detail: str = ""
) -> None:
    session.add(PaymentEvent(session_id=session_id, attempt_id=attempt_id, kind=kind, detail=detail, at=at))


def raise_exception(
    session: Session,
    code: str,
    detail: str,
    at: datetime,
    *,
    session_id: int | None = None,
    attempt_id: int | None = None,
    match_detail: bool = False,
) -> bool:
    """Open an operator exception unless the same one is already open (same code and payment; with
    ``match_detail`` also the same detail, for exceptions about no payment of ours). True when one was opened."""
    same = [
        OperatorException.code == code,
        OperatorException.session_id.is_(None) if session_id is None else OperatorException.session_id == session_id,
        OperatorException.attempt_id.is_(None) if attempt_id is None else OperatorException.attempt_id == attempt_id,
        OperatorException.resolved_at.is_(None),
    ]
    if match_detail:
        same.append(OperatorException.detail == detail)
    existing = session.scalar(select(OperatorException.id).where(*same))
    if existing is not None:
        return False
    session.add(
        OperatorException(session_id=session_id, attempt_id=attempt_id, code=code, detail=detail, created_at=at)
    )
    log.warning("operator_exception code=%s session=%s attempt_id=%s", code, session_id, attempt_id)
    return True
