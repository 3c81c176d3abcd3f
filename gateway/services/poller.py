"""Ask the bank about attempts that stay open: returns and callbacks can both be lost (protocols.md 2.7, 2.8)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from gateway.domain.errors import ProviderError
from gateway.domain.states import AttemptStatus
from gateway.services.confirm import confirm_attempt
from gateway.services.context import GatewayContext
from gateway.store.models import Attempt

log = logging.getLogger(__name__)

POLLABLE = (AttemptStatus.REGISTERED.value, AttemptStatus.AUTHENTICATING.value)


def poll_open_attempts(ctx: GatewayContext, *, min_age: timedelta = timedelta(seconds=30), limit: int = 50) -> int:
    """Confirm open attempts older than ``min_age``; returns how many changed. Provider errors skip one attempt."""
    cutoff = ctx.clock.now() - min_age
    with ctx.db.session() as session:
        rows = session.execute(
            select(Attempt.id, Attempt.provider_order_id, Attempt.currency, Attempt.language)
            .where(Attempt.status.in_(POLLABLE), Attempt.updated_at <= cutoff, Attempt.provider_order_id.is_not(None))
            .order_by(Attempt.updated_at)
            .limit(limit)
        ).all()
    changed = 0
    for attempt_id, provider_order_id, currency, language in rows:
        assert provider_order_id is not None  # filtered in the query
        try:
            status = ctx.provider.get_status(provider_order_id, currency, language)
        except ProviderError as exc:
            log.warning("poll_failed attempt_id=%s error=%s", attempt_id, exc)
            continue
        changed += confirm_attempt(ctx, attempt_id, status, source="poller").changed
    return changed
