"""Who did what: every operator action (console or command line), refused and failed ones included.

Written in the same transaction as the action's effect when there is one, so the record and the change agree; a
refused action is recorded on its own. Details are ids, amounts and codes, never secrets or payloads.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from gateway.store.models import OperatorAction

log = logging.getLogger(__name__)

OUTCOMES = frozenset({"ok", "refused", "failed"})


def record_action(
    session: Session,
    actor: str,
    action: str,
    at: datetime,
    *,
    outcome: str = "ok",
    session_id: int | None = None,
    attempt_id: int | None = None,
    exception_id: int | None = None,
    detail: str = "",
) -> None:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    session.add(
        OperatorAction(
            actor=actor[:64],
            action=action[:64],
            outcome=outcome,
            session_id=session_id,
            attempt_id=attempt_id,
            exception_id=exception_id,
            detail=detail,
            at=at,
        )
    )
    log.info("operator_action actor=%s action=%s outcome=%s session=%s", actor, action, outcome, session_id)
