"""The operator exceptions queue: list, resolve with a note, add a note, retry what the machine gave up on.

Every action is recorded with ``gateway.services.audit.record_action`` (who, what, outcome) in the same transaction
as its effect; a refused one (already resolved, nothing to retry) is recorded on its own.

Retry dispatch by the exception's code:
- Ecwid delivery (``ecwid_update_failed``, ``ecwid_relay_error``): ``gateway.services.outbox.retry_failed``, which
  sends the session's current status again and resolves the exception itself when Ecwid has it;
- bound to an attempt (``double_charge``, ``payment_on_closed_attempt``, ``unexpected_bank_status``,
  ``poll_failing``, ``registration_unresolved``...): ask the bank for the attempt's status of record and apply it
  with the one confirmation path (``gateway.services.confirm``), reporting what changed. The exception stays open
  for a person to resolve: the bank's answer may need their judgement (a double charge is still one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.domain.errors import ProviderError
from gateway.services import outbox
from gateway.services.audit import record_action
from gateway.services.confirm import apply_status
from gateway.services.context import GatewayContext
from gateway.store.models import Attempt, OperatorException

ECWID_CODES = frozenset({"ecwid_update_failed", "ecwid_relay_error"})
MAX_NOTE = 2000
STATES = ("open", "resolved", "all")


@dataclass(frozen=True)
class ExceptionView:
    id: int
    code: str
    detail: str
    session_id: int | None
    attempt_id: int | None
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    note: str | None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True)
class ActionOutcome:
    """``outcome``: ok | refused | failed; ``reason`` a stable code the console translates; ``detail`` says what
    changed (statuses, counts), no secrets."""

    outcome: str
    reason: str = ""
    detail: str = ""


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _view(row: OperatorException) -> ExceptionView:
    created = _aware(row.created_at)
    assert created is not None
    return ExceptionView(
        id=row.id,
        code=row.code,
        detail=row.detail,
        session_id=row.session_id,
        attempt_id=row.attempt_id,
        created_at=created,
        resolved_at=_aware(row.resolved_at),
        resolved_by=row.resolved_by,
        note=row.note,
    )


def list_exceptions(
    session: Session, state: str = "open", *, session_id: int | None = None, limit: int = 200
) -> list[ExceptionView]:
    """Open ones first (oldest first: they waited longest), then resolved ones (newest first); with ``session_id``
    only that payment's."""
    if state not in STATES:
        raise ValueError(state)
    query = select(OperatorException)
    if session_id is not None:
        query = query.where(OperatorException.session_id == session_id)
    if state == "open":
        query = query.where(OperatorException.resolved_at.is_(None))
    elif state == "resolved":
        query = query.where(OperatorException.resolved_at.is_not(None))
    rows = list(session.scalars(query.order_by(OperatorException.id).limit(10_000)))
    open_rows = [r for r in rows if r.resolved_at is None]
    resolved = sorted((r for r in rows if r.resolved_at is not None), key=lambda r: r.id, reverse=True)
    return [_view(r) for r in [*open_rows, *resolved][:limit]]


def get_exception(session: Session, exception_id: int) -> ExceptionView | None:
    row = session.get(OperatorException, exception_id)
    return None if row is None else _view(row)


def _clean_note(note: str) -> str:
    return note.strip()[:MAX_NOTE]


def resolve(ctx: GatewayContext, exception_id: int, note: str, *, actor: str) -> ActionOutcome:
    """Mark the exception resolved by ``actor`` with ``note`` (compare-and-set: resolved once)."""
    note, now = _clean_note(note), ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        row = session.get(OperatorException, exception_id)
        if row is None:
            return ActionOutcome("refused", "not_found")
        changed = 0
        if note:
            changed = session.execute(
                update(OperatorException)
                .where(OperatorException.id == exception_id, OperatorException.resolved_at.is_(None))
                .values(resolved_at=now, resolved_by=actor[:64], note=note)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
        reason = "" if changed == 1 else "already_resolved" if note else "note_required"
        record_action(
            session,
            actor,
            "exception_resolve",
            now,
            outcome="refused" if reason else "ok",
            session_id=row.session_id,
            exception_id=row.id,
            detail=reason or note,
        )
        return ActionOutcome("refused", reason) if reason else ActionOutcome("ok")


def add_note(ctx: GatewayContext, exception_id: int, note: str, *, actor: str) -> ActionOutcome:
    """Keep ``note`` as the exception's latest note; every note stays in the operator actions."""
    note, now = _clean_note(note), ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        row = session.get(OperatorException, exception_id)
        if row is None:
            return ActionOutcome("refused", "not_found")
        if not note:
            return ActionOutcome("refused", "note_required")
        row.note = note
        record_action(
            session, actor, "exception_note", now, session_id=row.session_id, exception_id=row.id, detail=note
        )
        return ActionOutcome("ok")


def retry(ctx: GatewayContext, exception_id: int, *, actor: str) -> ActionOutcome:
    """Try again what failed (see the module docstring); never resolves a bank-side exception by itself."""
    with ctx.db.session() as session:
        row = session.get(OperatorException, exception_id)
        view = None if row is None else _view(row)
    if view is None:
        return ActionOutcome("refused", "not_found")
    if view.code in ECWID_CODES and view.session_id is not None:
        return _retry_ecwid(ctx, view, actor)
    if view.attempt_id is not None:
        return _retry_bank(ctx, view, view.attempt_id, actor)
    return _refused(ctx, view, actor, "not_retryable")


def _refused(ctx: GatewayContext, view: ExceptionView, actor: str, reason: str) -> ActionOutcome:
    _record_retry(ctx, view, actor, "refused", reason)
    return ActionOutcome("refused", reason)


def _record_retry(ctx: GatewayContext, view: ExceptionView, actor: str, outcome: str, detail: str) -> None:
    """The retry as an operator action of its own (when it changed nothing in the database)."""
    with ctx.db.session() as session, session.begin():
        record_action(
            session,
            actor,
            "exception_retry",
            ctx.clock.now(),
            outcome=outcome,
            session_id=view.session_id,
            attempt_id=view.attempt_id,
            exception_id=view.id,
            detail=detail,
        )


def _retry_ecwid(ctx: GatewayContext, view: ExceptionView, actor: str) -> ActionOutcome:
    assert view.session_id is not None
    result = outbox.retry_failed(ctx, view.session_id, actor=actor)
    detail = f"ecwid delivered={result.delivered} sent={result.sent} retried={result.retried} failed={result.failed}"
    # ``delivered``: Ecwid has the session's latest status, sent now or already before (then nothing is resent).
    outcome = "ok" if result.delivered else "failed"
    _record_retry(ctx, view, actor, outcome, detail)
    return ActionOutcome(outcome, "ecwid_delivered" if outcome == "ok" else "ecwid_not_delivered", detail)


def _retry_bank(ctx: GatewayContext, view: ExceptionView, attempt_id: int, actor: str) -> ActionOutcome:
    with ctx.db.session() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            return ActionOutcome("refused", "not_found")
        md_order, currency, language, before = (
            attempt.provider_order_id,
            attempt.currency,
            attempt.language,
            attempt.status,
        )
    if md_order is None:
        return _refused(ctx, view, actor, "no_bank_order")
    try:
        status = ctx.provider.get_status(md_order, currency, language)
    except ProviderError as exc:
        return _bank_failed(ctx, view, actor, exc)
    with ctx.db.session() as session, session.begin():
        confirmation = apply_status(session, ctx, attempt_id, status, "operator")
        detail = (
            f"bank orderStatus={status.order_status}; attempt {before} -> {confirmation.attempt_status.value}; "
            f"ecwid {confirmation.ecwid_status}"
        )
        record_action(
            session,
            actor,
            "exception_retry",
            ctx.clock.now(),
            session_id=view.session_id,
            attempt_id=attempt_id,
            exception_id=view.id,
            detail=detail,
        )
    return ActionOutcome("ok", "changed" if confirmation.changed else "unchanged", detail)


def _bank_failed(ctx: GatewayContext, view: ExceptionView, actor: str, exc: ProviderError) -> ActionOutcome:
    detail = f"{exc.code} {exc.error_code or ''}".strip()
    _record_retry(ctx, view, actor, "failed", detail)
    return ActionOutcome("failed", "bank_unavailable", detail)
