"""Cancel a stale attempt at the bank (``decline.do``) so its page can no longer take money (RC-36).

A customer who abandoned a bank page may still have it open in another tab; once the gateway moves on (a new
attempt, or the session is over), a payment on the old page would be a double charge that can only be detected,
not prevented. Declining the old order at the bank prevents it. The bank refuses to decline an order that is
already completed: that answer is recorded, never fatal, and the status of record decides what happened.
"""

from __future__ import annotations

import logging

from gateway.domain.errors import ProviderError
from gateway.services.context import GatewayContext
from gateway.services.journal import record_event

log = logging.getLogger(__name__)

DECLINABLE_ORDER_STATUSES = frozenset({0, 5})
"""orderStatus values whose page can still take money: registered, and 3-D Secure at the issuer's ACS. A pending
payment (7) is already on its way and is left to the bank."""


def decline_at_bank(
    ctx: GatewayContext,
    *,
    attempt_id: int,
    session_id: int,
    provider_order_id: str,
    order_number: str,
    currency: str,
    reason: str,
) -> bool:
    """Ask the bank to decline the order; True when it did. Never raises for the bank's answer."""
    try:
        ctx.provider.decline(provider_order_id, order_number, currency)
    except ProviderError as exc:
        log.info("bank_decline_refused attempt=%s reason=%s error=%s", order_number, reason, exc)
        kind, detail = "bank_decline_refused", f"{reason}: {exc}"
        declined = False
    else:
        log.info("bank_declined attempt=%s reason=%s", order_number, reason)
        kind, detail, declined = "bank_declined", reason, True
    with ctx.db.session() as session, session.begin():
        record_event(session, session_id, kind, ctx.clock.now(), attempt_id=attempt_id, detail=detail[:500])
    return declined
