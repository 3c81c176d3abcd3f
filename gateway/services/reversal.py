"""Reverse (``reverse.do``: the same-day cancel of a payment or of a hold) and capture (``deposit.do``: two-phase).

Both are claimed on the attempt by compare-and-set before the bank is called (``reverse_requested_at``,
``deposit_requested_at``), so two operators clicking at once reach the bank once. The bank's reverse works once and
a failed one cannot be repeated, so a reverse claim is never released: after it, money goes back by refund. A
refused capture releases its claim (the hold is still there to capture). The bank's status of record, through the
one lifecycle writer, then moves the attempt and queues Ecwid's status (CANCELLED, PAID).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from gateway.domain.errors import ProviderError, ProviderUnavailable
from gateway.domain.states import AttemptStatus
from gateway.services.audit import record_action
from gateway.services.confirm import aware, confirm_attempt
from gateway.services.context import GatewayContext
from gateway.services.journal import raise_exception
from gateway.services.money_checks import refuse
from gateway.store.models import Attempt, PaymentEvent

log = logging.getLogger(__name__)

S = AttemptStatus
REVERSIBLE = frozenset({S.PAID, S.AUTHORIZED})


@dataclass(frozen=True)
class MoneyOutcome:
    attempt_status: AttemptStatus
    ecwid_status: str


def reverse_refusal(current: AttemptStatus) -> str | None:
    """Why an attempt in ``current`` cannot be reversed, or None when it can (window aside)."""
    if current in REVERSIBLE:
        return None
    if current in (S.REVERSED, S.CANCELLED):
        return "already_reversed"
    if current in (S.PARTIALLY_REFUNDED, S.REFUNDED):
        return "not_reversible"
    return "not_paid"


def reverse_payment(ctx: GatewayContext, attempt_id: int, *, actor: str) -> MoneyOutcome:
    """Cancel a paid attempt within the bank's reverse window, or a held one. Refused (and recorded) when it is
    not paid, already reversed (or a reverse was already sent), refunded, or past the window."""
    now = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            raise LookupError(attempt_id)
        problem = reverse_refusal(S(attempt.status))
        if problem is None and attempt.reverse_requested_at is not None:
            problem = "already_reversed"
        if problem is None and S(attempt.status) is S.PAID:
            paid_at = _paid_at(session, attempt)
            if now - paid_at > timedelta(seconds=ctx.settings.reverse_window_s):
                problem = "not_reversible"
        claimed = problem is None and _claim(session, attempt_id, Attempt.reverse_requested_at, now)
        if problem is None and not claimed:
            problem = "already_reversed"
        status_then = attempt.status
        if not problem:
            record_action(
                session, actor, "reverse", now, session_id=attempt.session_id, attempt_id=attempt_id, detail="requested"
            )
    if problem:
        refuse(ctx, actor, "reverse", attempt_id, problem, _reverse_detail(problem, status_then))
    attempt = _load(ctx, attempt_id)
    try:
        ctx.provider.reverse(attempt.provider_order_id or "", attempt.currency)
    except ProviderUnavailable as exc:
        log.warning("reverse_unanswered attempt_id=%s error=%s", attempt_id, exc)
        outcome = _follow(ctx, attempt, source="reverse")
        if outcome is not None and outcome.attempt_status in (S.REVERSED, S.CANCELLED):
            return outcome
        refuse(ctx, actor, "reverse", attempt_id, "bank_unavailable", f"reverse.do got no answer: {exc}")
    except ProviderError as exc:
        refuse(ctx, actor, "reverse", attempt_id, "bank_refused", f"the bank refused the reverse: {exc}")
    outcome = _follow(ctx, attempt, source="reverse")
    return outcome or _current(ctx, attempt_id)


def capture_payment(ctx: GatewayContext, attempt_id: int, amount_minor: int | None, *, actor: str) -> MoneyOutcome:
    """Capture a held (two-phase) attempt: the whole hold (``amount_minor=None``, sent as the exact amount, never
    as 0) or part of it. Refused (and recorded) when nothing is held, the amount is not positive or above the hold,
    or a capture is already on its way."""
    now = ctx.clock.now()
    problem, detail = None, ""
    with ctx.db.session() as session, session.begin():
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            raise LookupError(attempt_id)
        amount = attempt.amount_minor if amount_minor is None else amount_minor
        if S(attempt.status) is not S.AUTHORIZED:
            problem, detail = "not_held", f"attempt is {attempt.status}"
        elif amount <= 0:
            problem, detail = "amount_not_positive", f"amount {amount}"
        elif amount > attempt.amount_minor:
            problem, detail = "over_capture", f"capture of {amount} exceeds the {attempt.amount_minor} held"
        elif not _claim(session, attempt_id, Attempt.deposit_requested_at, now, deposited_minor=amount):
            problem, detail = "operation_in_progress", "a capture is already on its way to the bank"
        else:
            record_action(
                session,
                actor,
                "capture",
                now,
                session_id=attempt.session_id,
                attempt_id=attempt_id,
                detail=f"requested {amount} {attempt.currency}",
            )
    if problem:
        refuse(ctx, actor, "capture", attempt_id, problem, detail)
    attempt = _load(ctx, attempt_id)
    try:
        ctx.provider.deposit(attempt.provider_order_id or "", amount, attempt.currency)
    except ProviderUnavailable as exc:
        log.warning("deposit_unanswered attempt_id=%s error=%s", attempt_id, exc)
        outcome = _follow(ctx, attempt, source="capture")
        if outcome is not None and outcome.attempt_status is S.PAID:
            return outcome
        refuse(ctx, actor, "capture", attempt_id, "bank_unavailable", f"deposit.do got no answer: {exc}")
    except ProviderError as exc:
        _release_capture(ctx, attempt_id)
        refuse(ctx, actor, "capture", attempt_id, "bank_refused", f"the bank refused the capture: {exc}")
    outcome = _follow(ctx, attempt, source="capture")
    return outcome or _current(ctx, attempt_id)


def _claim(
    session: Session, attempt_id: int, column: InstrumentedAttribute[datetime | None], now: datetime, **values: object
) -> bool:
    result = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, column.is_(None))
        .values({column.key: now, **values})
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _release_capture(ctx: GatewayContext, attempt_id: int) -> None:
    with ctx.db.session() as session, session.begin():
        session.execute(
            update(Attempt)
            .where(Attempt.id == attempt_id, Attempt.status == S.AUTHORIZED.value)
            .values(deposit_requested_at=None, deposited_minor=None)
            .execution_options(synchronize_session=False)
        )


def _paid_at(session: Session, attempt: Attempt) -> datetime:
    at = session.scalar(
        select(PaymentEvent.at)
        .where(PaymentEvent.attempt_id == attempt.id, PaymentEvent.kind == "attempt:paid")
        .order_by(PaymentEvent.at)
        .limit(1)
    )
    return aware(at if at is not None else attempt.updated_at)


def _reverse_detail(problem: str, status: str) -> str:
    return {
        "already_reversed": "a reverse was already sent for this payment (the bank accepts one); use a refund",
        "not_reversible": f"attempt is {status}: past the bank's reverse window or refunds were made; use a refund",
    }.get(problem, f"attempt is {status}")


def _follow(ctx: GatewayContext, attempt: Attempt, *, source: str) -> MoneyOutcome | None:
    """Ask the bank for the status of record and apply it; None when the bank cannot answer now. The money may have
    moved then, and no poller looks at a paid or held attempt: a callback may still tell us, but an operator
    exception makes sure a person sees it (its retry asks the bank again and applies the answer)."""
    try:
        status = ctx.provider.get_status(attempt.provider_order_id or "", attempt.currency, attempt.language)
    except ProviderError as exc:
        log.warning("status_after_%s_unavailable attempt_id=%s error=%s", source, attempt.id, exc)
        with ctx.db.session() as session, session.begin():
            raise_exception(
                session,
                "money_operation_unconfirmed",
                f"{source} of attempt {attempt.order_number} was sent to the bank, but its status could not be read"
                f" ({exc.code}): the money may have moved; retry asks the bank again",
                ctx.clock.now(),
                session_id=attempt.session_id,
                attempt_id=attempt.id,
            )
        return None
    confirmation = confirm_attempt(ctx, attempt.id, status, source=source)
    return MoneyOutcome(confirmation.attempt_status, confirmation.ecwid_status)


def _load(ctx: GatewayContext, attempt_id: int) -> Attempt:
    with ctx.db.session() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        session.expunge(attempt)
        return attempt


def _current(ctx: GatewayContext, attempt_id: int) -> MoneyOutcome:
    with ctx.db.session() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        return MoneyOutcome(S(attempt.status), attempt.session.ecwid_status)
