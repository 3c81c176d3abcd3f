"""The outbox relay: delivers queued Ecwid statuses, retrying transient failures with backoff and ``Retry-After``.

A message is claimed with a compare-and-set on ``next_try_at`` (a lease), so the in-request delivery and the
worker never send the same message at the same moment. After the last try, or on a permanent refusal, the message
is marked failed and an operator exception is opened: a verified payment is never silently lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from gateway.domain.errors import ConfigurationError, EcwidApiError
from gateway.services.context import GatewayContext
from gateway.services.journal import raise_exception, record_event
from gateway.store.models import OutboxMessage, PaymentSession

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
BACKOFF_BASE_S = 2.0
BACKOFF_MAX_S = 300.0


@dataclass(frozen=True)
class RelayResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def backoff_s(tries: int) -> float:
    return float(min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, tries - 1)))


def relay(ctx: GatewayContext, *, session_id: int | None = None, limit: int = 100) -> RelayResult:
    """Deliver due messages, oldest first; one session's messages strictly in order."""
    now = ctx.clock.now()
    with ctx.db.session() as session:
        query = select(OutboxMessage.id, OutboxMessage.session_id).where(OutboxMessage.state == "pending")
        if session_id is not None:
            query = query.where(OutboxMessage.session_id == session_id)
        rows = session.execute(query.order_by(OutboxMessage.id).limit(limit)).all()
    sent = retried = failed = 0
    blocked: set[int] = set()
    for message_id, owner in rows:
        if owner in blocked:
            continue
        outcome = _deliver_one(ctx, message_id, now)
        if outcome != "sent":
            blocked.add(owner)  # keep order: a later status must not overtake an undelivered earlier one
        sent += outcome == "sent"
        retried += outcome == "retry"
        failed += outcome == "failed"
    return RelayResult(sent, retried, failed)


def _deliver_one(ctx: GatewayContext, message_id: int, now: datetime) -> str:
    with ctx.db.session() as session, session.begin():
        claimed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.state == "pending", OutboxMessage.next_try_at <= now)
            .values(next_try_at=now + LEASE, tries=OutboxMessage.tries + 1)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return "skipped"
    with ctx.db.session() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        owner = session.get(PaymentSession, message.session_id)
        assert owner is not None
        store_id, ref, sealed = owner.store_id, owner.reference_transaction_id, owner.token_encrypted
        payload, tries = dict(message.payload), message.tries
    error: EcwidApiError | None = None
    try:
        ctx.ecwid.update_order(store_id, ref, ctx.tokens.open(sealed), payload)
    except EcwidApiError as exc:
        error = exc
    except ConfigurationError as exc:
        error = EcwidApiError(str(exc), status=0)
    done = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        if error is None:
            message.state, message.sent_at, message.last_error = "sent", done, None
            record_event(session, message.session_id, f"ecwid_updated:{payload.get('paymentStatus')}", done)
            log.info("ecwid_updated session=%s status=%s", message.session_id, payload.get("paymentStatus"))
            return "sent"
        message.last_error = str(error)[:500]
        if error.transient and tries < ctx.settings.ecwid_max_attempts:
            wait = error.retry_after if error.retry_after is not None else backoff_s(tries)
            message.next_try_at = done + timedelta(seconds=wait)
            log.warning(
                "ecwid_update_retry session=%s try=%s wait=%.1fs error=%s", message.session_id, tries, wait, error
            )
            return "retry"
        message.state = "failed"
        raise_exception(
            session,
            "ecwid_update_failed",
            f"Ecwid status {payload.get('paymentStatus')} not delivered after {tries} tries: {error}",
            done,
            session_id=message.session_id,
        )
        log.error("ecwid_update_failed session=%s tries=%s error=%s", message.session_id, tries, error)
        return "failed"
