"""The poller: asks the bank about attempts that stay open, because the return and the callbacks can be lost.

Attempts are taken by a due time (``next_poll_at``) that moves forward on every check, with backoff per attempt
(``poll_after_s``, doubling up to ``poll_max_interval_s``): whatever the backlog, every open attempt is checked
again within ``ceil(open / limit)`` passes after it falls due, and a newer paid order is never starved by older
ones. A check is claimed with a compare-and-set on the due time, so two workers never check one attempt at once.

Each check fails alone (house rule 16): an error is logged, counted on the attempt, and after ``ERRORS_BEFORE_
EXCEPTION`` consecutive failures an operator exception is opened; the loop goes on with the next attempt.
A ``registering`` attempt past ``registering_stale_s`` is recovered by asking the bank by orderNumber; an attempt
the bank still reports as unpaid after its session (plus ``EXPIRY_GRACE``) expires.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from gateway.domain.states import OPEN_STATES, AttemptStatus
from gateway.logs import payment_context
from gateway.services.bank_cancel import DECLINABLE_ORDER_STATUSES, decline_at_bank
from gateway.services.confirm import aware, confirm_attempt
from gateway.services.context import GatewayContext
from gateway.services.journal import raise_exception
from gateway.services.recovery import recover_registering
from gateway.store.models import Attempt

log = logging.getLogger(__name__)

POLLABLE = tuple(sorted(s.value for s in OPEN_STATES))
ERRORS_BEFORE_EXCEPTION = 5
EXPIRY_GRACE = timedelta(seconds=60)


@dataclass(frozen=True)
class PollResult:
    checked: int = 0
    changed: int = 0
    failed: int = 0


def poll_interval_s(ctx: GatewayContext, poll_count: int) -> float:
    """The gap before the next check of an attempt already checked ``poll_count`` times. The exponent is capped: an
    attempt open for days is checked thousands of times, and ``2 ** 1024`` times a float no longer fits in one."""
    exponent = min(max(0, poll_count), 62)  # 2^62 keeps the product finite, and far past any longest interval
    return float(min(ctx.settings.poll_max_interval_s, ctx.settings.poll_after_s * 2**exponent))


def poll_open_attempts(ctx: GatewayContext, *, limit: int = 50) -> PollResult:
    """Check the open attempts that are due, most overdue first."""
    now = ctx.clock.now()
    with ctx.db.session() as session:
        due = session.execute(
            select(Attempt.id, Attempt.next_poll_at, Attempt.poll_count)
            .where(Attempt.status.in_(POLLABLE), Attempt.next_poll_at.is_not(None), Attempt.next_poll_at <= now)
            .order_by(Attempt.next_poll_at, Attempt.id)
            .limit(limit)
        ).all()
    checked = changed = failed = 0
    for attempt_id, due_at, poll_count in due:
        if not _claim(ctx, attempt_id, due_at, now + timedelta(seconds=poll_interval_s(ctx, poll_count))):
            continue  # another worker took this check
        checked += 1
        try:
            changed += _check(ctx, attempt_id)
        except Exception as exc:  # one attempt's failure never stops the pass (house rule 16)
            failed += 1
            _record_failure(ctx, attempt_id, exc)
        else:
            _record_success(ctx, attempt_id)
    return PollResult(checked, changed, failed)


def _claim(ctx: GatewayContext, attempt_id: int, due_at: datetime | None, next_at: datetime) -> bool:
    with ctx.db.session() as session, session.begin():
        claimed = session.execute(
            update(Attempt)
            .where(Attempt.id == attempt_id, Attempt.next_poll_at == due_at)
            .values(next_poll_at=next_at, poll_count=Attempt.poll_count + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def _check(ctx: GatewayContext, attempt_id: int) -> bool:
    """Ask the bank about one due attempt and apply its answer, with the payment's trace id on the log lines."""
    with ctx.db.session() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            return False
        status, provider_order_id = AttemptStatus(attempt.status), attempt.provider_order_id
        currency, language, expires_at = attempt.currency, attempt.language, aware(attempt.expires_at)
        session_id, order_number, trace = attempt.session_id, attempt.order_number, attempt.session.trace_id
    with payment_context(trace):
        if status is AttemptStatus.REGISTERING:
            return recover_registering(ctx, attempt_id) is not AttemptStatus.REGISTERING
        if provider_order_id is None:
            raise RuntimeError("open attempt without a bank order id")
        bank = ctx.provider.get_status(provider_order_id, currency, language)
        expire = ctx.clock.now() >= expires_at + EXPIRY_GRACE
        if (
            expire
            and bank.order_status in DECLINABLE_ORDER_STATUSES
            and not decline_at_bank(
                ctx,
                attempt_id=attempt_id,
                session_id=session_id,
                provider_order_id=provider_order_id,
                order_number=order_number,
                currency=currency,
                reason="session over",
            )
        ):
            # The session is over and the page could still take money, so it was cancelled at the bank: declined
            # means nothing was paid and the attempt expires on the status already read. Not declined: the order
            # completed meanwhile (perhaps paid), and its status of record decides.
            bank = ctx.provider.get_status(provider_order_id, currency, language)
        return confirm_attempt(ctx, attempt_id, bank, source="poller", expire_unpaid=expire).changed


def _record_success(ctx: GatewayContext, attempt_id: int) -> None:
    with ctx.db.session() as session, session.begin():
        session.execute(
            update(Attempt)
            .where(Attempt.id == attempt_id, Attempt.poll_errors != 0)
            .values(poll_errors=0)
            .execution_options(synchronize_session=False)
        )


def _record_failure(ctx: GatewayContext, attempt_id: int, exc: Exception) -> None:
    log.warning("poll_failed attempt_id=%s error=%s: %s", attempt_id, type(exc).__name__, exc)
    try:
        with ctx.db.session() as session, session.begin():
            session.execute(
                update(Attempt)
                .where(Attempt.id == attempt_id)
                .values(poll_errors=Attempt.poll_errors + 1)
                .execution_options(synchronize_session=False)
            )
            attempt = session.get(Attempt, attempt_id)
            if attempt is not None and attempt.poll_errors >= ERRORS_BEFORE_EXCEPTION:
                raise_exception(
                    session,
                    "poll_failing",
                    f"status checks of attempt {attempt.order_number} failed {attempt.poll_errors} times in a row; "
                    f"last: {type(exc).__name__}: {str(exc)[:200]}",
                    ctx.clock.now(),
                    session_id=attempt.session_id,
                    attempt_id=attempt_id,
                )
    except Exception:
        log.exception("poll_failure_not_recorded attempt_id=%s", attempt_id)
