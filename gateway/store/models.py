"""Tables. Idempotency lives here as constraints, not only in code:

- one payment session per ``(store_id, reference_transaction_id)``;
- one bank ``order_number`` and one ``provider_order_id`` per attempt, globally;
- at most one OPEN attempt per session (partial unique index), so a double submit cannot register twice.

Money in minor units and Ecwid's numeric ids are 64-bit (``BigInteger``): PostgreSQL's ``integer`` stops at
2^31 - 1 (21,474,836.47 AMD), which SQLite hides. Every change here is an Alembic migration (``migrations/``);
no process creates tables as a side effect of starting.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gateway.domain.states import OPEN_STATES, AttemptStatus

_OPEN_SQL = "status IN (" + ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATES)) + ")"
_IN_FLIGHT_SQL = "status IN ('requested', 'unknown')"


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


class PaymentSession(Base):
    __tablename__ = "payment_sessions"
    __table_args__ = (UniqueConstraint("store_id", "reference_transaction_id", name="uq_session_ecwid_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(BigInteger)
    reference_transaction_id: Mapped[str] = mapped_column(String(256))
    ecwid_order_id: Mapped[str] = mapped_column(String(256))
    ecwid_internal_id: Mapped[int | None] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    return_url: Mapped[str] = mapped_column(Text)  # the latest one received, kept exactly as received
    lang: Mapped[str] = mapped_column(String(8))
    token_encrypted: Mapped[str] = mapped_column(Text)
    ecwid_status: Mapped[str] = mapped_column(String(32))  # the last status queued for Ecwid
    trace_id: Mapped[str | None] = mapped_column(String(64))  # request id of the paymentUrl request: in every log
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    attempts: Mapped[list[Attempt]] = relationship(back_populates="session", order_by="Attempt.attempt_no")


class Attempt(Base):
    __tablename__ = "payment_attempts"
    __table_args__ = (
        UniqueConstraint("session_id", "attempt_no", name="uq_attempt_no"),
        Index(
            "uq_one_open_attempt",
            "session_id",
            unique=True,
            sqlite_where=text(_OPEN_SQL),
            postgresql_where=text(_OPEN_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("payment_sessions.id"))
    attempt_no: Mapped[int]
    order_number: Mapped[str] = mapped_column(String(32), unique=True)
    provider_order_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    form_url: Mapped[str | None] = mapped_column(Text)
    # Written only by ``gateway.services.lifecycle.transition`` (house rule 14; a test enforces it).
    status: Mapped[str] = mapped_column(String(32), default=AttemptStatus.REGISTERING.value)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_minor: Mapped[int | None] = mapped_column(BigInteger)  # as the bank reports it, after a refund
    deposited_minor: Mapped[int | None] = mapped_column(BigInteger)  # as the bank reports it (two-phase: captured)
    two_phase: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # reverse.do and deposit.do work once at the bank: claimed by compare-and-set before the call, never cleared.
    reverse_requested_at: Mapped[datetime | None]
    deposit_requested_at: Mapped[datetime | None]
    currency: Mapped[str] = mapped_column(String(3))
    language: Mapped[str] = mapped_column(String(2))
    page_view: Mapped[str] = mapped_column(String(8))
    action_code: Mapped[str | None] = mapped_column(String(16))
    masked_pan: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Poll schedule: a due time that moves on every check (with backoff), so no backlog starves an attempt.
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    poll_count: Mapped[int] = mapped_column(Integer, default=0)
    poll_errors: Mapped[int] = mapped_column(Integer, default=0)  # consecutive failed checks
    # The customer came back while the bank was still deciding (3-D Secure, pending): first seen, and when they were
    # sent on to the store after waiting on the processing page (then Ecwid shows AWAITING_PAYMENT).
    customer_returned_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]

    session: Mapped[PaymentSession] = relationship(back_populates="attempts")


class OutboxMessage(Base):
    """An Ecwid status to deliver, written in the same transaction as the state change that caused it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("payment_sessions.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending/sent/failed/superseded
    tries: Mapped[int] = mapped_column(Integer, default=0)  # answers from Ecwid (or timeouts), never crashes
    next_try_at: Mapped[datetime]  # due time; while claimed, the end of the claim's lease
    claim_token: Mapped[str | None] = mapped_column(String(32))  # who holds the lease; results need it
    local_errors: Mapped[int] = mapped_column(Integer, default=0)  # our own failures, not Ecwid's answers
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Refund(Base):
    """One refund of ours at the bank. ``external_refund_id`` is sent as ``externalRefundId`` so a retry after a lost
    answer returns the bank's existing refund instead of making a second one. Written only by
    ``gateway.services.lifecycle.refund_transition`` (house rule 14)."""

    __tablename__ = "refunds"
    # One refund on its way to the bank per attempt: two operators racing for the last amount refund it once.
    __table_args__ = (
        Index(
            "uq_one_refund_in_flight",
            "attempt_id",
            unique=True,
            sqlite_where=text(_IN_FLIGHT_SQL),
            postgresql_where=text(_IN_FLIGHT_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("payment_attempts.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("payment_sessions.id"), index=True)
    external_refund_id: Mapped[str] = mapped_column(String(32), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    expected_deposited_minor: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="requested")
    bank_refund_id: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]  # a worker resending or following it holds it until then


class Operator(Base):
    """A person at the shop who uses the operator console: their own account, a hashed password, optionally TOTP."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)  # sealed like Ecwid tokens
    language: Mapped[str] = mapped_column(String(2), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class OperatorAction(Base):
    """Who did what in the console (and from the command line): every action, refused ones included."""

    __tablename__ = "operator_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))  # an operator's username, or "cli:<user>" / "system"
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16), default="ok")  # ok | refused | failed
    session_id: Mapped[int | None] = mapped_column(ForeignKey("payment_sessions.id"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("payment_attempts.id"))
    exception_id: Mapped[int | None] = mapped_column(ForeignKey("operator_exceptions.id"))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class OperatorException(Base):
    """Something a person must look at: never hidden, never silently pushed into Ecwid."""

    __tablename__ = "operator_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("payment_sessions.id"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("payment_attempts.id"))
    code: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)  # the latest operator note (all notes: operator_actions)


class PaymentEvent(Base):
    """Audit trail: what happened to a session, in order (ids and codes, never payloads or secrets)."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("payment_sessions.id"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("payment_attempts.id"))
    kind: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class ClockOffset(Base):
    """The TEST-only test clock's offset (``gateway.test_clock``): one row (id 1), written by the migration, moved
    forward only by ``gateway.test_clock.advance`` with an atomic ``offset_us = offset_us + delta``."""

    __tablename__ = "test_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    offset_us: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))  # microseconds
    updated_at: Mapped[datetime | None]
