"""Daily reconciliation, the gathering part (RC-28): read the gateway's rows, ask the bank and Ecwid, compare.

Read-only by construction: one read transaction that is rolled back, then only status queries
(``getOrderStatusExtended``) at the bank and ``GET`` orders at Ecwid. No transition, no outbox message, no operator
exception, no event: a reconciliation may run at any time, as often as wanted, beside a live gateway. The
comparison itself is ``gateway.domain.reconciliation``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import or_, select

from gateway.domain.errors import GatewayError
from gateway.domain.reconciliation import (
    AttemptCase,
    AttemptFacts,
    BankView,
    EcwidView,
    OpenException,
    Reconciliation,
    Row,
    SessionCase,
    SessionFacts,
    compare_session,
)
from gateway.domain.states import AttemptStatus
from gateway.services.context import GatewayContext
from gateway.store.models import Attempt, OperatorException, PaymentSession

log = logging.getLogger(__name__)
_MAX_DETAIL = 300


def day_bounds(day: date, tz: tzinfo = UTC) -> tuple[datetime, datetime]:
    """``[start, end)`` of ``day`` in ``tz``, as UTC instants."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def reconcile_day(ctx: GatewayContext, day: date, *, tz: tzinfo = UTC) -> Reconciliation:
    """Compare gateway, bank and Ecwid for every attempt with a bank order whose attempt or session was created or
    changed on ``day`` (in ``tz``), with all the attempts of those sessions.

    Guarantees: changes nothing anywhere (no write to the database, no money operation, no Ecwid update); asks the
    bank once per attempt and Ecwid once per session; a failure to ask either becomes a finding on that row, never
    an aborted run; no secret (token, password) appears in any finding.
    """
    started_at = ctx.clock.now()
    sessions, tokens = _read(ctx, day, tz)
    secrets = [*ctx.settings.secret_values]
    rows: list[Row] = []
    for facts, attempts in sessions:
        sealed = tokens[facts.session_id]
        cases = tuple(AttemptCase(a, _ask_bank(ctx, a, secrets)) for a in attempts)
        ecwid = _ask_ecwid(ctx, facts, sealed, secrets)
        rows.extend(compare_session(SessionCase(facts, cases, ecwid)))
    return Reconciliation(
        day=day,
        timezone=str(tz),
        started_at=started_at,
        finished_at=ctx.clock.now(),
        rows=tuple(rows),
    )


def _read(
    ctx: GatewayContext, day: date, tz: tzinfo
) -> tuple[list[tuple[SessionFacts, list[AttemptFacts]]], dict[int, str]]:
    start, end = day_bounds(day, tz)
    with ctx.db.session() as db:
        try:
            touched_attempts = select(Attempt.session_id).where(
                or_(
                    (Attempt.created_at >= start) & (Attempt.created_at < end),
                    (Attempt.updated_at >= start) & (Attempt.updated_at < end),
                )
            )
            session_rows = db.scalars(
                select(PaymentSession)
                .where(
                    or_(
                        (PaymentSession.created_at >= start) & (PaymentSession.created_at < end),
                        (PaymentSession.updated_at >= start) & (PaymentSession.updated_at < end),
                        PaymentSession.id.in_(touched_attempts),
                    )
                )
                .order_by(PaymentSession.id)
            ).all()
            ids = [s.id for s in session_rows]
            attempts_by_session: dict[int, list[AttemptFacts]] = defaultdict(list)
            open_by_attempt: dict[int, list[OpenException]] = defaultdict(list)
            if ids:
                for exc in db.scalars(
                    select(OperatorException)
                    .where(OperatorException.session_id.in_(ids), OperatorException.resolved_at.is_(None))
                    .order_by(OperatorException.id)
                ):
                    if exc.attempt_id is not None:
                        open_by_attempt[exc.attempt_id].append(
                            OpenException(exc.id, exc.code, exc.detail[:_MAX_DETAIL])
                        )
                for attempt in db.scalars(
                    select(Attempt)
                    .where(Attempt.session_id.in_(ids), Attempt.provider_order_id.is_not(None))
                    .order_by(Attempt.session_id, Attempt.attempt_no)
                ):
                    assert attempt.provider_order_id is not None
                    attempts_by_session[attempt.session_id].append(
                        AttemptFacts(
                            attempt_id=attempt.id,
                            attempt_no=attempt.attempt_no,
                            order_number=attempt.order_number,
                            provider_order_id=attempt.provider_order_id,
                            status=AttemptStatus(attempt.status),
                            amount_minor=attempt.amount_minor,
                            currency=attempt.currency,
                            refunded_minor=attempt.refunded_minor,
                            deposited_minor=attempt.deposited_minor,
                            open_exceptions=tuple(open_by_attempt.get(attempt.id, ())),
                        )
                    )
            result = []
            tokens = {}
            for s in session_rows:
                if not attempts_by_session.get(s.id):
                    continue  # no bank order: nothing the bank or Ecwid could disagree with
                facts = SessionFacts(
                    session_id=s.id,
                    store_id=s.store_id,
                    reference_transaction_id=s.reference_transaction_id,
                    ecwid_order_id=s.ecwid_order_id,
                    amount_minor=s.amount_minor,
                    currency=s.currency,
                    ecwid_status=s.ecwid_status,
                )
                result.append((facts, attempts_by_session[s.id]))
                tokens[s.id] = s.token_encrypted
            return result, tokens
        finally:
            db.rollback()  # read-only: nothing to keep, whatever happened


def _ask_bank(ctx: GatewayContext, attempt: AttemptFacts, secrets: list[str]) -> BankView:
    try:
        return BankView(status=ctx.provider.get_status(attempt.provider_order_id, attempt.currency))
    except Exception as exc:  # any failure is a finding on this row; the run goes on
        log.warning("reconcile: bank not asked for attempt %s: %s", attempt.attempt_id, type(exc).__name__)
        return BankView(error=_describe(exc, secrets))


def _ask_ecwid(ctx: GatewayContext, facts: SessionFacts, sealed: str, secrets: list[str]) -> EcwidView:
    try:
        token = ctx.tokens.open(sealed)
    except Exception as exc:
        return EcwidView(error=_describe(exc, secrets))
    try:
        order = ctx.ecwid.get_order(facts.store_id, facts.reference_transaction_id, token)
    except Exception as exc:
        log.warning("reconcile: Ecwid not asked for session %s: %s", facts.session_id, type(exc).__name__)
        return EcwidView(error=_describe(exc, [*secrets, token]))
    status = order.get("paymentStatus")
    return EcwidView(payment_status=str(status) if status is not None else None, total=order.get("total"))


def _describe(exc: Exception, secrets: list[str]) -> str:
    """Error class and message. The gateway's own errors carry no secrets by contract; anything else is reduced to
    its class; and every configured secret is masked anyway."""
    text = f"{type(exc).__name__}: {exc}" if isinstance(exc, GatewayError) else type(exc).__name__
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text[:_MAX_DETAIL]
