"""Refusing a money operation after the payment: recorded as a refused operator action, then raised.

A refusal is data for the operators as much as an answer to the caller: who asked for what, and why not.
"""

from __future__ import annotations

from typing import NoReturn

from gateway.domain.errors import OperationRefused
from gateway.services.audit import record_action
from gateway.services.context import GatewayContext
from gateway.store.models import Attempt


def refuse(
    ctx: GatewayContext,
    actor: str,
    action: str,
    attempt_id: int,
    reason: str,
    detail: str,
    *,
    session_id: int | None = None,
) -> NoReturn:
    """Record ``actor``'s refused ``action`` on the attempt (its own transaction) and raise ``OperationRefused``."""
    with ctx.db.session() as session, session.begin():
        if session_id is None:
            attempt = session.get(Attempt, attempt_id)
            session_id = attempt.session_id if attempt is not None else None
        record_action(
            session,
            actor,
            action,
            ctx.clock.now(),
            outcome="refused",
            session_id=session_id,
            attempt_id=attempt_id if session_id is not None else None,
            detail=f"{reason}: {detail}",
        )
    raise OperationRefused(reason, detail)
