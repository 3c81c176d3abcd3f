"""The outbox relay: delivers queued Ecwid statuses, retrying transient failures with backoff and ``Retry-After``.

A message is claimed with a compare-and-set on ``next_try_at`` (a lease with an owner, ``claim_token``), so the
in-request delivery and the workers never send the same message at the same moment. Only an answer from Ecwid (or
a timeout) counts as a try: a process killed while it held the claim costs nothing, and once the lease runs out
the message is simply taken again. A result is written only by the claim's owner. After the last try, or on a
permanent refusal, the message is marked failed and an operator exception is opened: a verified payment is never
silently lost. Our own errors (not Ecwid's answers) are counted apart and raise an operator exception when they
keep happening; one bad message never stops the relay (house rule 16).
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from gateway.domain.errors import ConfigurationError, EcwidApiError
from gateway.services.context import GatewayContext
from gateway.services.journal import raise_exception, record_event
from gateway.store.models import OutboxMessage, PaymentSession

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
LOCAL_ERRORS_BEFORE_EXCEPTION = 5
DELIVERY_POLL_S = 0.05
BACKOFF_BASE_S = 2.0
BACKOFF_MAX_S = 300.0


@dataclass(frozen=True)
class RelayResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: int = 0  # our own failures (not Ecwid's answers)


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
    sent = retried = failed = errors = 0
    blocked: set[int] = set()
    for message_id, owner in rows:
        if owner in blocked:
            continue
        try:
            outcome = _deliver_one(ctx, message_id, now)
        except Exception as exc:  # our own failure, not Ecwid's answer: this message alone waits
            outcome = _local_failure(ctx, message_id, exc)
        if outcome != "sent":
            blocked.add(owner)  # keep order: a later status must not overtake an undelivered earlier one
        sent += outcome == "sent"
        retried += outcome == "retry"
        failed += outcome == "failed"
        errors += outcome == "error"
    return RelayResult(sent, retried, failed, errors)


def wait_until_delivered(ctx: GatewayContext, session_id: int, timeout_s: float) -> bool:
    """Deliver this session's queued Ecwid statuses, or wait while someone else (a callback's request, a worker) is
    delivering them; True once nothing is pending for the session (sent, or failed with an operator exception),
    False when ``timeout_s`` passes first. The customer return calls this before sending the customer back."""
    deadline = time.monotonic() + timeout_s
    while True:
        relay(ctx, session_id=session_id)
        with ctx.db.session() as session:
            pending = session.scalar(
                select(OutboxMessage.id)
                .where(OutboxMessage.session_id == session_id, OutboxMessage.state == "pending")
                .limit(1)
            )
        if pending is None:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(DELIVERY_POLL_S, max(0.0, deadline - time.monotonic())))


def _deliver_one(ctx: GatewayContext, message_id: int, now: datetime) -> str:
    token = secrets.token_hex(16)
    with ctx.db.session() as session, session.begin():
        claimed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.state == "pending", OutboxMessage.next_try_at <= now)
            .values(next_try_at=now + LEASE, claim_token=token)
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
        payload = dict(message.payload)
    error: EcwidApiError | None = None
    try:
        ctx.ecwid.update_order(store_id, ref, ctx.tokens.open(sealed), payload)
    except EcwidApiError as exc:
        error = exc
    except ConfigurationError as exc:
        error = EcwidApiError(str(exc), status=0)
    done = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        # The answer counts as a try only for the claim's owner: a holder whose lease ran out lost the message.
        owned = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token)
            .values(tries=OutboxMessage.tries + 1, claim_token=None)
            .execution_options(synchronize_session=False)
        )
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        if owned.rowcount != 1:  # type: ignore[attr-defined]
            log.warning("ecwid_update_claim_lost session=%s", message.session_id)
            return "skipped"
        tries = message.tries
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


def _local_failure(ctx: GatewayContext, message_id: int, exc: Exception) -> str:
    """Our own error while delivering (database, bug, configuration): logged and counted on the message; it is
    retried after the lease, and an operator exception opens when it keeps failing."""
    log.error("ecwid_relay_error message=%s error=%s: %s", message_id, type(exc).__name__, exc)
    try:
        with ctx.db.session() as session, session.begin():
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(local_errors=OutboxMessage.local_errors + 1, last_error=f"{type(exc).__name__}: {exc}"[:500])
                .execution_options(synchronize_session=False)
            )
            message = session.get(OutboxMessage, message_id)
            if message is not None and message.local_errors >= LOCAL_ERRORS_BEFORE_EXCEPTION:
                raise_exception(
                    session,
                    "ecwid_relay_error",
                    f"delivering Ecwid status {message.payload.get('paymentStatus')} failed "
                    f"{message.local_errors} times in our own code: {type(exc).__name__}",
                    ctx.clock.now(),
                    session_id=message.session_id,
                )
    except Exception:
        log.exception("ecwid_relay_error_not_recorded message=%s", message_id)
    return "error"
