"""Refunds (``refund.do``): their own records, idempotent at the bank, final only when the bank's ``refunds[]``
says so.

The path of one refund, each step its own transaction so a crash anywhere loses nothing:

1. the attempt is brought up to date with the bank (fresh deposited and refunded amounts);
2. a ``requested`` row is written with our ``externalRefundId`` after checking what is left to refund (the
   deposited amount, minus what the bank refunded, minus refunds still on their way); one refund in flight per
   attempt is a database constraint, so two operators racing for the last amount refund it once;
3. ``refund.do`` with that ``externalRefundId`` and ``expectedDepositedAmount``: a lost answer leaves the row
   ``unknown`` and the worker resends the same id, which the bank answers with the existing refund;
4. the bank's status of record moves the row (``completed`` / ``failed``) and the attempt (PARTIALLY_REFUNDED /
   REFUNDED) together, and queues the Ecwid status.

An amount of 0 is never sent: the bank reads it as "refund everything".
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from gateway.domain.errors import OperationRefused, ProviderError, ProviderUnavailable
from gateway.domain.states import OPEN_REFUND_STATES, AttemptStatus, RefundStatus
from gateway.services.audit import record_action
from gateway.services.confirm import aware, confirm_attempt
from gateway.services.context import GatewayContext
from gateway.services.lifecycle import refund_transition
from gateway.services.money_checks import refuse
from gateway.store.models import Attempt, PaymentSession, Refund

log = logging.getLogger(__name__)

REFUNDABLE = frozenset({AttemptStatus.PAID, AttemptStatus.PARTIALLY_REFUNDED})
RESEND_AFTER = timedelta(seconds=30)  # a ``requested`` row this old lost its process between insert and call
CLAIM = timedelta(seconds=60)  # longer than one refund.do plus one status call


@dataclass(frozen=True)
class RefundOutcome:
    refund_id: int
    status: RefundStatus
    attempt_status: AttemptStatus
    ecwid_status: str


def refund_payment(ctx: GatewayContext, attempt_id: int, amount_minor: int, *, actor: str) -> RefundOutcome:
    """Refund ``amount_minor`` of a paid attempt. Raises ``OperationRefused`` (recorded as a refused action) when
    the amount is not positive, the attempt is not paid, or the amount exceeds what is left to refund."""
    if amount_minor <= 0:
        refuse(ctx, actor, "refund", attempt_id, "amount_not_positive", f"amount {amount_minor}")
    attempt = _load(ctx, attempt_id)
    state_problem = refund_refusal(AttemptStatus(attempt.status))
    if state_problem:
        refuse(ctx, actor, "refund", attempt_id, state_problem, f"attempt is {attempt.status}")
    try:
        bank = ctx.provider.get_status(attempt.provider_order_id or "", attempt.currency, attempt.language)
    except ProviderError as exc:
        refuse(ctx, actor, "refund", attempt_id, "bank_unavailable", f"status check failed: {exc}")
    confirm_attempt(ctx, attempt_id, bank, source="refund_check")
    refund_id = _claim(ctx, attempt_id, amount_minor, bank.deposited_minor, actor=actor)
    return send_refund(ctx, refund_id, actor=actor)


def refund_refusal(current: AttemptStatus) -> str | None:
    """Why an attempt in ``current`` cannot be refunded, or None when it can."""
    if current in REFUNDABLE:
        return None
    if current is AttemptStatus.REFUNDED:
        return "over_refund"
    if current in (AttemptStatus.REVERSED, AttemptStatus.CANCELLED):
        return "already_reversed"
    return "not_paid"


def _load(ctx: GatewayContext, attempt_id: int) -> Attempt:
    with ctx.db.session() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            raise LookupError(attempt_id)
        session.expunge(attempt)
        return attempt


def _claim(
    ctx: GatewayContext, attempt_id: int, amount_minor: int, expected_deposited: int | None, *, actor: str
) -> int:
    """Write the ``requested`` row if the amount is still there to refund; the one-in-flight index settles races."""
    now = ctx.clock.now()
    try:
        with ctx.db.session() as session, session.begin():
            attempt = session.get(Attempt, attempt_id)
            assert attempt is not None
            state_problem = refund_refusal(AttemptStatus(attempt.status))
            if state_problem:
                raise OperationRefused(state_problem, f"attempt is {attempt.status}")
            on_the_way = session.scalar(
                select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
                    Refund.attempt_id == attempt_id, Refund.status.in_([s.value for s in OPEN_REFUND_STATES])
                )
            )
            deposited = attempt.deposited_minor or attempt.amount_minor
            left = deposited - (attempt.refunded_minor or 0) - int(on_the_way or 0)
            if amount_minor > left:
                raise OperationRefused(
                    "over_refund", f"refund of {amount_minor} exceeds the {max(left, 0)} left to refund"
                )
            refund = Refund(
                attempt_id=attempt_id,
                session_id=attempt.session_id,
                external_refund_id="rf" + secrets.token_hex(12),
                amount_minor=amount_minor,
                currency=attempt.currency,
                expected_deposited_minor=expected_deposited,
                status=RefundStatus.REQUESTED.value,
                requested_by=actor,
                created_at=now,
                updated_at=now,
            )
            session.add(refund)
            session.flush()
            record_action(
                session,
                actor,
                "refund",
                now,
                session_id=attempt.session_id,
                attempt_id=attempt_id,
                detail=f"requested {amount_minor} {attempt.currency} as {refund.external_refund_id}",
            )
            return refund.id
    except OperationRefused as exc:
        refuse(ctx, actor, "refund", attempt_id, exc.reason, exc.detail)
    except IntegrityError:
        refuse(ctx, actor, "refund", attempt_id, "operation_in_progress", "another refund is on its way to the bank")


def send_refund(ctx: GatewayContext, refund_id: int, *, actor: str) -> RefundOutcome:
    """Send (or resend, with the same ``externalRefundId``) one refund and follow the bank's answer."""
    with ctx.db.session() as session:
        refund = session.get(Refund, refund_id)
        assert refund is not None
        attempt = session.get(Attempt, refund.attempt_id)
        assert attempt is not None
        md, currency, language = attempt.provider_order_id or "", attempt.currency, attempt.language
        amount, external_id, expected = refund.amount_minor, refund.external_refund_id, refund.expected_deposited_minor
        attempt_id, session_id = attempt.id, attempt.session_id
    try:
        ctx.provider.refund(md, amount, currency, external_refund_id=external_id, expected_deposited_minor=expected)
    except ProviderUnavailable as exc:
        if exc.error_code is None:  # no answer at all: resent later with the same externalRefundId
            log.warning("refund_unanswered refund=%s error=%s", external_id, exc)
            _move(ctx, refund_id, RefundStatus.UNKNOWN, source="refund.do")
            return _outcome(ctx, refund_id)
        # errorCode 7 is both "system error" and, for refund.do, "wrong state / amount too high": the bank's record
        # of refunds says whether this one was made.
        return _settle_by_record(ctx, refund_id, attempt_id, session_id, actor=actor, cause=exc)
    except ProviderError as exc:
        _move(
            ctx,
            refund_id,
            RefundStatus.REFUSED,
            source="refund.do",
            values={"error_code": (exc.error_code or "")[:16], "error_message": str(exc)[:500]},
        )
        detail = f"the bank refused refund {external_id}: {exc}"
        refuse(ctx, actor, "refund", attempt_id, "bank_refused", detail, session_id=session_id)
    _move(ctx, refund_id, RefundStatus.ACCEPTED, source="refund.do")
    try:
        status = ctx.provider.get_status(md, currency, language)
    except ProviderError as exc:
        log.warning("refund_status_unavailable refund=%s error=%s", external_id, exc)
        return _outcome(ctx, refund_id)
    confirm_attempt(ctx, attempt_id, status, source="refund")
    return _outcome(ctx, refund_id)


def _settle_by_record(
    ctx: GatewayContext, refund_id: int, attempt_id: int, session_id: int, *, actor: str, cause: Exception
) -> RefundOutcome:
    with ctx.db.session() as session:
        refund = session.get(Refund, refund_id)
        attempt = session.get(Attempt, attempt_id)
        assert refund is not None and attempt is not None
        external_id, md = refund.external_refund_id, attempt.provider_order_id or ""
        currency, language = attempt.currency, attempt.language
    try:
        status = ctx.provider.get_status(md, currency, language)
    except ProviderError:
        _move(ctx, refund_id, RefundStatus.UNKNOWN, source="refund.do")
        return _outcome(ctx, refund_id)
    listed = {r.external_refund_id for r in status.refunds or ()}
    if external_id in listed:
        confirm_attempt(ctx, attempt_id, status, source="refund")
        return _outcome(ctx, refund_id)
    if status.refunds is None:  # this response version cannot tell: resent later, the bank refunds once
        _move(ctx, refund_id, RefundStatus.UNKNOWN, source="refund.do")
        return _outcome(ctx, refund_id)
    _move(
        ctx,
        refund_id,
        RefundStatus.REFUSED,
        source="refund.do",
        values={"error_code": "7", "error_message": str(cause)[:500]},
    )
    refuse(
        ctx,
        actor,
        "refund",
        attempt_id,
        "bank_refused",
        f"the bank did not make refund {external_id}: {cause}",
        session_id=session_id,
    )


def resume_refunds(ctx: GatewayContext, *, limit: int = 20) -> int:
    """Worker step: resend refunds whose answer was lost (same ``externalRefundId``: the bank refunds once) and
    follow accepted ones until the bank lists them. Each refund fails alone (house rule 16). Returns how many
    refunds were looked at."""
    now = ctx.clock.now()
    with ctx.db.session() as session:
        rows = session.execute(
            select(Refund.id, Refund.status, Refund.updated_at)
            .where(Refund.status.in_([s.value for s in OPEN_REFUND_STATES]))
            .order_by(Refund.updated_at)
            .limit(limit)
        ).all()
    for refund_id, status, updated_at in rows:
        due = status != RefundStatus.REQUESTED.value or now - aware(updated_at) >= RESEND_AFTER
        if not due or not _claim_for_resume(ctx, refund_id, status, now):
            continue  # too young, or another worker has it right now
        try:
            if status == RefundStatus.ACCEPTED.value:
                _follow(ctx, refund_id)
            else:
                send_refund(ctx, refund_id, actor="system")
        except OperationRefused:
            pass  # recorded by send_refund
        except Exception:
            log.exception("refund_resume_failed refund_id=%s", refund_id)
    return len(rows)


def _claim_for_resume(ctx: GatewayContext, refund_id: int, status: str, now: datetime) -> bool:
    """Hold the refund for ``CLAIM`` so no other worker resends or follows it meanwhile (a compare-and-set; the
    claim simply runs out if this worker dies)."""
    with ctx.db.session() as session, session.begin():
        claimed = session.execute(
            update(Refund)
            .where(
                Refund.id == refund_id,
                Refund.status == status,
                or_(Refund.claimed_until.is_(None), Refund.claimed_until <= now),
            )
            .values(claimed_until=now + CLAIM)
            .execution_options(synchronize_session=False)
        )
        return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def _follow(ctx: GatewayContext, refund_id: int) -> None:
    with ctx.db.session() as session:
        refund = session.get(Refund, refund_id)
        assert refund is not None
        attempt = session.get(Attempt, refund.attempt_id)
        assert attempt is not None
        md, currency, language, attempt_id = (
            attempt.provider_order_id or "",
            attempt.currency,
            attempt.language,
            attempt.id,
        )
    confirm_attempt(ctx, attempt_id, ctx.provider.get_status(md, currency, language), source="refund_follow")


def _move(
    ctx: GatewayContext, refund_id: int, target: RefundStatus, *, source: str, values: dict[str, object] | None = None
) -> None:
    with ctx.db.session() as session, session.begin():
        refund_transition(session, refund_id, target, now=ctx.clock.now(), source=source, values=values)


def _outcome(ctx: GatewayContext, refund_id: int) -> RefundOutcome:
    with ctx.db.session() as session:
        refund = session.get(Refund, refund_id)
        assert refund is not None
        attempt = session.get(Attempt, refund.attempt_id)
        assert attempt is not None
        owner = session.get(PaymentSession, attempt.session_id)
        assert owner is not None
        return RefundOutcome(refund.id, RefundStatus(refund.status), AttemptStatus(attempt.status), owner.ecwid_status)
