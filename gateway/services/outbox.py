"""The outbox relay: delivers queued Ecwid statuses, retrying transient failures with backoff and ``Retry-After``.

A message is claimed with a compare-and-set on ``next_try_at`` (a lease with an owner, ``claim_token``), so the
in-request delivery and the workers never send the same message at the same moment. Only an answer from Ecwid (or
a timeout) counts as a try: a process killed while it held the claim costs nothing, and once the lease runs out
the message is simply taken again. A result is written only by the claim's owner. After the last try, or on a
permanent refusal (400, 402, 403, 404, 409...), the message is marked failed and an operator exception is opened: a
verified payment is never silently lost, and an operator can finish it with ``retry_failed``. Our own errors (not
Ecwid's answers) are counted apart and raise an operator exception when they keep happening; one bad message never
stops the relay (house rule 16).

Pacing and fairness:
- a transient failure waits ``backoff_s``: exponential from ``ecwid_backoff_base_s``, capped at
  ``ecwid_backoff_max_s``, with equal jitter so many messages that failed together do not come back together;
  Ecwid's ``Retry-After`` wins over it (0 .. ``RETRY_AFTER_MAX_S``);
- every call first takes a slot from the process's per-token limiter (``ecwid_rate_limit``), so a backlog for one
  token never goes over ``ecwid_rate_limit_per_minute``; a message without a slot simply stays due (no try
  counted); a 429 pauses the whole token for ``Retry-After``;
- a pass takes candidates round-robin across stores (each store's oldest due message first), and once a store
  fails transiently (a 5xx, a 429, a hang) or a token is out of budget, that store's (token's) other messages wait
  for the next pass: one failing store costs at most one HTTP timeout per pass and never holds the others up.

Error tree: none of its own; Ecwid's refusals are ``EcwidApiError`` (``gateway.domain.errors``).
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session, aliased

from gateway.domain.errors import ConfigurationError, EcwidApiError, UnknownPayment
from gateway.logs import payment_context
from gateway.services.audit import record_action
from gateway.services.context import GatewayContext
from gateway.services.ecwid_rate_limit import TokenRateLimiter, limiter_for, token_key
from gateway.services.journal import raise_exception, record_event
from gateway.settings import Settings
from gateway.store.models import OperatorException, OutboxMessage, PaymentSession

log = logging.getLogger(__name__)

LOCAL_ERRORS_BEFORE_EXCEPTION = 5
DELIVERY_POLL_S = 0.05
RETRY_AFTER_MAX_S = 3600.0  # a Retry-After beyond an hour is a broken header, not a plan
CANDIDATES_PER_SEND = 10  # a pass looks at up to limit * this many due messages to fill its limit fairly
RETRY_RESOLVES = ("ecwid_update_failed", "ecwid_relay_error")

_jitter = random.Random()  # default randomness for the backoff jitter; tests pass their own seeded Random


@dataclass(frozen=True)
class RelayResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: int = 0  # our own failures (not Ecwid's answers)
    limited: int = 0  # left due because their token had no budget (rate limit or a 429 pause): no try counted
    delivered: bool = False  # retry_failed only: Ecwid has the session's latest status (now or already before)


@dataclass(frozen=True)
class _Candidate:
    message_id: int
    session_id: int
    store_id: int
    sealed_token: str


def backoff_ceiling_s(tries: int, settings: Settings) -> float:
    """The longest wait after ``tries`` answers: ``base * 2^(tries-1)``, capped at ``ecwid_backoff_max_s``."""
    exponent = min(max(0, tries - 1), 62)  # 2^62 * base is past any cap: no float overflow for absurd counts
    return float(min(settings.ecwid_backoff_max_s, settings.ecwid_backoff_base_s * 2**exponent))


def backoff_s(tries: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Equal jitter: uniformly in ``[ceiling / 2, ceiling]`` (``backoff_ceiling_s``). Never below half the
    exponential step (a struggling Ecwid gets real room), never above the cap; ``rng`` makes it deterministic."""
    ceiling = backoff_ceiling_s(tries, settings)
    return ceiling / 2 + (rng or _jitter).uniform(0.0, ceiling / 2)


def retry_delay_s(error: EcwidApiError, tries: int, settings: Settings, rng: random.Random | None = None) -> float:
    """``Retry-After`` when Ecwid sent one (clamped to 0 .. ``RETRY_AFTER_MAX_S``), else ``backoff_s``."""
    if error.retry_after is not None:
        return min(RETRY_AFTER_MAX_S, max(0.0, error.retry_after))
    return backoff_s(tries, settings, rng)


def relay(
    ctx: GatewayContext, *, session_id: int | None = None, limit: int = 100, rng: random.Random | None = None
) -> RelayResult:
    """Deliver due messages: at most ``limit`` calls to Ecwid, round-robin across stores, one session's messages
    strictly in order. Never raises for one message (house rule 16); never sends without a slot of the token's
    rate limit; after a transient failure or a rate limit, skips the rest of that store's (token's) messages."""
    now = ctx.clock.now()
    limiter = limiter_for(ctx)
    candidates = _candidates(ctx, now, session_id, limit)
    sent = retried = failed = errors = limited = calls = 0
    keys: dict[str, str | None] = {}
    blocked_sessions: set[int] = set()  # keep order: a later status must not overtake an undelivered earlier one
    blocked_stores: set[int] = set()
    blocked_tokens: set[str] = set()
    for candidate in candidates:
        if calls >= limit:
            break
        if candidate.session_id in blocked_sessions or candidate.store_id in blocked_stores:
            continue
        if candidate.sealed_token not in keys:
            keys[candidate.sealed_token] = _token_key(ctx, candidate.sealed_token)
        key = keys[candidate.sealed_token]
        if key is not None and (key in blocked_tokens or limiter.wait_s(key, now) > 0):
            blocked_tokens.add(key)
            blocked_sessions.add(candidate.session_id)
            limited += 1
            continue
        calls += 1
        try:
            outcome = _deliver_one(ctx, candidate.message_id, now, key, limiter, rng)
        except Exception as exc:  # our own failure, not Ecwid's answer: this message alone waits
            outcome = _local_failure(ctx, candidate.message_id, exc)
        if outcome != "sent":
            blocked_sessions.add(candidate.session_id)
        if outcome in ("retry", "limited"):
            blocked_stores.add(candidate.store_id)  # Ecwid is struggling for this store: the others go first
        if key is not None and limiter.wait_s(key, ctx.clock.now()) > 0:
            blocked_tokens.add(key)  # out of budget, or paused by a 429: for every store that uses the token
        sent += outcome == "sent"
        retried += outcome == "retry"
        failed += outcome == "failed"
        errors += outcome == "error"
        limited += outcome == "limited"
    return RelayResult(sent, retried, failed, errors, limited)


def ecwid_lacks_status(ctx: GatewayContext, session_id: int) -> bool:
    """True when the session's latest Ecwid status failed for good (an operator exception is open): Ecwid still
    shows an older status, so sending the customer to the store would show "not paid" for money we verified."""
    with ctx.db.session() as session:
        latest = session.scalar(
            select(OutboxMessage.state)
            .where(OutboxMessage.session_id == session_id, OutboxMessage.state != "superseded")
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    return latest == "failed"


def wait_until_delivered(ctx: GatewayContext, session_id: int, timeout_s: float) -> bool:
    """Deliver this session's queued Ecwid statuses, or wait while someone else (a callback's request, a worker) is
    delivering them; True once nothing is pending for the session (sent, or failed with an operator exception),
    False when ``timeout_s`` passes first. The customer return calls this before sending the customer back.
    Bounded by ``timeout_s`` (real time) whatever the rate limiter says: a token out of budget only makes it False."""
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


def retry_failed(ctx: GatewayContext, session_id: int, *, actor: str, rng: random.Random | None = None) -> RelayResult:
    """An operator's manual retry: make Ecwid show the session's latest status, now.

    Only the latest status matters: the session's newest message, when failed, is queued again with fresh tries
    (and no local errors); older failed messages are marked ``superseded`` (never sent: they would overwrite the
    newer status). Then this session is relayed once, within the token's rate limit. When the newest message is
    delivered (now or already before), the session's open ``ecwid_update_failed`` / ``ecwid_relay_error``
    exceptions are resolved by ``actor``. Always records an operator action ``ecwid_retry`` (outcome ``ok``;
    ``failed`` when Ecwid refused again or answered transiently, the exception then stays open and a transient
    failure goes on being retried automatically; ``refused`` when there is nothing to retry) and a payment event.
    Raises ``UnknownPayment`` for an unknown session (the refusal is recorded first). The result counts this
    relay's calls; ``delivered`` says whether Ecwid has the latest status (also when it was delivered before).
    """
    now = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        known = session.get(PaymentSession, session_id) is not None
        if known:
            latest_id = _requeue_latest(session, session_id, now, actor)
        else:
            record_action(session, actor, "ecwid_retry", now, outcome="refused", detail=f"no session {session_id}")
    if not known:
        raise UnknownPayment(f"no payment session {session_id}")
    result = relay(ctx, session_id=session_id, rng=rng) if latest_id is not None else RelayResult()
    done = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        latest = session.get(OutboxMessage, latest_id) if latest_id is not None else None
        open_exceptions = list(
            session.scalars(
                select(OperatorException).where(
                    OperatorException.session_id == session_id,
                    OperatorException.code.in_(RETRY_RESOLVES),
                    OperatorException.resolved_at.is_(None),
                )
            )
        )
        status = latest.payload.get("paymentStatus") if latest is not None else None
        if latest is None or (latest.state == "sent" and not open_exceptions and result.sent == 0):
            outcome, detail = "refused", "nothing to retry: no failed Ecwid update"
        elif latest.state == "sent":
            for exception in open_exceptions:
                exception.resolved_at, exception.resolved_by = done, actor[:64]
            resolved = ",".join(str(e.id) for e in open_exceptions) or "-"
            outcome, detail = "ok", f"Ecwid has {status}; resolved exceptions {resolved}"
        elif latest.state == "failed":
            outcome, detail = "failed", f"Ecwid refused {status} again: {latest.last_error or '-'}"
        else:
            why = latest.last_error or ("rate limit of the token" if result.limited else "being delivered")
            outcome, detail = "failed", f"{status} not delivered yet ({why}); retried automatically"
        record_action(
            session,
            actor,
            "ecwid_retry",
            done,
            outcome=outcome,
            session_id=session_id,
            exception_id=open_exceptions[0].id if open_exceptions else None,
            detail=detail[:500],
        )
        record_event(session, session_id, f"ecwid_retry:{outcome}", done, detail=f"by {actor[:64]}")
    log.info("ecwid_retry session=%s actor=%s outcome=%s", session_id, actor, outcome)
    return replace(result, delivered=outcome == "ok")


def _requeue_latest(session: Session, session_id: int, now: datetime, actor: str) -> int | None:
    """Supersede older failed messages and queue the newest again when it failed; returns the newest's id."""
    messages = list(
        session.scalars(select(OutboxMessage).where(OutboxMessage.session_id == session_id).order_by(OutboxMessage.id))
    )
    if not messages:
        return None
    latest = messages[-1]
    older_failed = [m.id for m in messages[:-1] if m.state == "failed"]
    if older_failed:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(older_failed), OutboxMessage.state == "failed")
            .values(state="superseded")
            .execution_options(synchronize_session=False)
        )
    if latest.state == "failed":
        session.execute(  # compare-and-set: two operators pressing retry at once queue it once
            update(OutboxMessage)
            .where(OutboxMessage.id == latest.id, OutboxMessage.state == "failed")
            .values(state="pending", tries=0, local_errors=0, next_try_at=now, claim_token=None)
            .execution_options(synchronize_session=False)
        )
        record_event(session, session_id, f"ecwid_requeued:{latest.payload.get('paymentStatus')}", now)
        log.info("ecwid_requeued session=%s superseded=%s actor=%s", session_id, len(older_failed), actor)
    return latest.id


def _candidates(ctx: GatewayContext, now: datetime, session_id: int | None, limit: int) -> list[_Candidate]:
    """Due messages that are next in their session, round-robin across stores: every store's oldest first, then
    every store's second... so a store with a backlog cannot push the others out of a pass."""
    earlier = aliased(OutboxMessage)
    behind_a_waiting_one = (
        exists()
        .where(
            earlier.session_id == OutboxMessage.session_id,
            earlier.state == "pending",
            earlier.id < OutboxMessage.id,
            earlier.next_try_at > now,  # in backoff or claimed: the later status waits behind it
        )
        .correlate(OutboxMessage)
    )
    turn = func.row_number().over(partition_by=PaymentSession.store_id, order_by=OutboxMessage.id).label("turn")
    due = (
        select(
            OutboxMessage.id.label("message_id"),
            OutboxMessage.session_id.label("session_id"),
            PaymentSession.store_id.label("store_id"),
            PaymentSession.token_encrypted.label("sealed_token"),
            turn,
        )
        .join(PaymentSession, PaymentSession.id == OutboxMessage.session_id)
        .where(OutboxMessage.state == "pending", OutboxMessage.next_try_at <= now, ~behind_a_waiting_one)
    )
    if session_id is not None:
        due = due.where(OutboxMessage.session_id == session_id)
    ranked = due.subquery()
    query = (
        select(ranked.c.message_id, ranked.c.session_id, ranked.c.store_id, ranked.c.sealed_token)
        .where(ranked.c.turn <= limit)
        .order_by(ranked.c.turn, ranked.c.message_id)
        .limit(limit * CANDIDATES_PER_SEND)
    )
    with ctx.db.session() as session:
        return [_Candidate(*row) for row in session.execute(query).all()]


def _token_key(ctx: GatewayContext, sealed: str) -> str | None:
    """The rate-limit key of a stored token; None when it cannot be opened (the delivery then fails it properly)."""
    try:
        return token_key(ctx.tokens.open(sealed))
    except ConfigurationError:
        return None


def _deliver_one(
    ctx: GatewayContext,
    message_id: int,
    now: datetime,
    key: str | None,
    limiter: TokenRateLimiter,
    rng: random.Random | None,
) -> str:
    token = secrets.token_hex(16)
    with ctx.db.session() as session, session.begin():
        claimed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.state == "pending", OutboxMessage.next_try_at <= now)
            .values(next_try_at=now + timedelta(seconds=ctx.settings.outbox_lease_s), claim_token=token)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return "skipped"
    with ctx.db.session() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        owner = session.get(PaymentSession, message.session_id)
        assert owner is not None
        target = _Target(owner.store_id, owner.reference_transaction_id, owner.token_encrypted, dict(message.payload))
        trace = owner.trace_id
    with payment_context(trace):  # the payment's trace id on every log line of the delivery
        return _send_claimed(ctx, message_id, token, target, now, key, limiter, rng)


@dataclass(frozen=True)
class _Target:
    store_id: int
    ref: str
    sealed_token: str
    payload: dict[str, Any]


def _send_claimed(
    ctx: GatewayContext,
    message_id: int,
    token: str,
    target: _Target,
    now: datetime,
    key: str | None,
    limiter: TokenRateLimiter,
    rng: random.Random | None,
) -> str:
    """Send one claimed message to Ecwid and record the answer (only while the claim is still ours)."""
    store_id, ref, sealed, payload = target.store_id, target.ref, target.sealed_token, target.payload
    if key is not None and limiter.try_acquire(key, ctx.clock.now()) > 0:
        # Another thread took the token's last slot since the pass looked: give the message back, no try counted.
        with ctx.db.session() as session, session.begin():
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token)
                .values(next_try_at=now, claim_token=None)
                .execution_options(synchronize_session=False)
            )
        return "limited"
    error: EcwidApiError | None = None
    try:
        ctx.ecwid.update_order(store_id, ref, ctx.tokens.open(sealed), payload)
    except EcwidApiError as exc:
        error = exc
    except ConfigurationError as exc:
        error = EcwidApiError(str(exc), status=0)
    done = ctx.clock.now()
    if error is not None and error.status == 429 and key is not None:
        # Ecwid counts per token: every message of this token waits, not only this one.
        limiter.pause(key, done + timedelta(seconds=retry_delay_s(error, 1, ctx.settings, rng)))
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
            wait = retry_delay_s(error, tries, ctx.settings, rng)
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
