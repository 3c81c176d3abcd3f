"""Recover an attempt stuck in ``registering``: the process died (or failed) between our INSERT and the bank's
answer, so nobody will ever finish it, and the one-open-attempt rule would block the order for good.

The bank is asked by our orderNumber (never guessed): no such order -> ``register_failed``; an order with its
mdOrder -> adopted as ``registered`` and confirmed like any other (the customer never received its page, so an
unpaid one expires at once); an order the bank reports without an mdOrder -> closed when no money moved, otherwise
an operator exception. Provider errors propagate: the attempt stays as it is and is tried again later.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from gateway.domain.confirmation import ProviderStatus
from gateway.domain.states import AttemptStatus
from gateway.services.confirm import Confirmation, apply_status, aware
from gateway.services.context import GatewayContext
from gateway.services.journal import raise_exception
from gateway.services.lifecycle import transition
from gateway.store.models import Attempt

log = logging.getLogger(__name__)

NO_MONEY_STATUSES = frozenset({0, 6})


def is_stale_registering(ctx: GatewayContext, attempt: Attempt) -> bool:
    age = ctx.clock.now() - aware(attempt.created_at)
    return attempt.status == AttemptStatus.REGISTERING and age >= timedelta(seconds=ctx.settings.registering_stale_s)


def recover_registering(ctx: GatewayContext, attempt_id: int) -> AttemptStatus:
    """Settle a stale ``registering`` attempt by asking the bank. Returns the attempt's status afterwards."""
    with ctx.db.session() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            raise LookupError(attempt_id)
        if attempt.status != AttemptStatus.REGISTERING:
            return AttemptStatus(attempt.status)
        order_number, currency, language = attempt.order_number, attempt.currency, attempt.language
    found = ctx.provider.find_by_order_number(order_number, currency, language)
    with ctx.db.session() as session, session.begin():
        status = _settle(session, ctx, attempt_id, found)
    log.info("registering_recovered attempt=%s status=%s", order_number, status)
    return status


def _settle(session: Session, ctx: GatewayContext, attempt_id: int, found: ProviderStatus | None) -> AttemptStatus:
    now = ctx.clock.now()
    if found is None:
        return transition(
            session, attempt_id, AttemptStatus.REGISTER_FAILED, now=now, source="recovery", detail="bank has no order"
        ).status
    if found.provider_order_id:
        adopted = transition(
            session,
            attempt_id,
            AttemptStatus.REGISTERED,
            now=now,
            source="recovery",
            detail=f"adopted mdOrder={found.provider_order_id}",
            values={"provider_order_id": found.provider_order_id[:64], "next_poll_at": now},
        )
        if adopted.status is not AttemptStatus.REGISTERED:
            return adopted.status
        confirmation: Confirmation = apply_status(session, ctx, attempt_id, found, "recovery", expire_unpaid=True)
        return confirmation.attempt_status
    if found.order_status in NO_MONEY_STATUSES:
        return transition(
            session,
            attempt_id,
            AttemptStatus.REGISTER_FAILED,
            now=now,
            source="recovery",
            detail=f"bank order without mdOrder, orderStatus {found.order_status}",
        ).status
    attempt = session.get(Attempt, attempt_id)
    assert attempt is not None
    raise_exception(
        session,
        "registration_unresolved",
        f"bank reports orderStatus {found.order_status} for {attempt.order_number} but names no mdOrder",
        now,
        session_id=attempt.session_id,
        attempt_id=attempt_id,
    )
    return AttemptStatus(attempt.status)
