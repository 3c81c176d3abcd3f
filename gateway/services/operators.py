"""Operator accounts for the console: create, change the password, enable TOTP, disable; log in with lockout.

Guarantees:
- a password exists only as an argon2id hash (``argon2-cffi``'s ``PasswordHasher``: RFC 9106 parameters); it is
  never stored, logged or recorded in clear, and hashes are upgraded on the next login when the parameters change;
- a TOTP secret is stored sealed with the token box (``ctx.tokens``) and shown once, as an ``otpauth://`` URI, when
  it is made; a TOTP code is accepted once (a replayed code within its window is refused);
- after ``MAX_FAILURES`` failed logins in a row an account is locked for ``LOCKOUT``; attempts while it is locked do
  not extend the lock. Failures are the refused ``login`` actions in ``operator_actions``, so the lock needs no
  column of its own and every refused login is on record (actor, reason, never the password typed);
- an inactive operator cannot log in, whatever the password.

    OperatorProblem(ValueError)   code: username_invalid, username_taken, password_too_short, language_invalid,
                                        no_such_operator
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.services.audit import record_action
from gateway.services.context import GatewayContext
from gateway.store.models import Operator, OperatorAction

log = logging.getLogger(__name__)

LANGUAGES = ("hy", "ru", "en")
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
TOTP_ISSUER = "vposlab gateway"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
# Compared against when the username is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash("not-a-password-of-anyone")


class OperatorProblem(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class OperatorView:
    """An account as the console and the CLI show it: never the hash or the TOTP secret."""

    id: int
    username: str
    language: str
    active: bool
    totp: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class LoginResult:
    """``outcome``: ``ok`` (logged in), ``need_totp`` (password right, now the code), or ``refused`` with ``reason``
    ``bad_credentials``, ``locked``, ``inactive``, ``totp_not_enrolled`` or ``bad_totp``."""

    outcome: str
    operator: OperatorView | None = None
    reason: str = ""
    locked_until: datetime | None = None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _view(operator: Operator) -> OperatorView:
    return OperatorView(
        id=operator.id,
        username=operator.username,
        language=operator.language,
        active=operator.active,
        totp=operator.totp_secret_encrypted is not None,
        created_at=operator.created_at,
        last_login_at=operator.last_login_at,
    )


def password_fingerprint(password_hash: str) -> str:
    """A short value that changes when the password changes: sessions carry it, so a new password ends them."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def check_username(username: str) -> str:
    if not _USERNAME.fullmatch(username):
        raise OperatorProblem(
            "username_invalid", "username: 2-64 characters, lower-case letters, digits, '.', '_' or '-'"
        )
    return username


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise OperatorProblem("password_too_short", f"password: at least {MIN_PASSWORD_LENGTH} characters")
    return password


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise OperatorProblem("language_invalid", f"language: one of {', '.join(LANGUAGES)}")
    return language


def _get(session: Session, username: str) -> Operator:
    operator = session.scalar(select(Operator).where(Operator.username == username))
    if operator is None:
        raise OperatorProblem("no_such_operator", f"no operator {username!r}")
    return operator


def _new_totp(ctx: GatewayContext, operator: Operator) -> str:
    secret = pyotp.random_base32()
    operator.totp_secret_encrypted = ctx.tokens.seal(secret)
    return pyotp.TOTP(secret).provisioning_uri(name=operator.username, issuer_name=TOTP_ISSUER)


def create_operator(
    ctx: GatewayContext, username: str, password: str, *, language: str = "en", totp: bool = False, actor: str
) -> tuple[OperatorView, str | None]:
    """A new active account; returns it and, with ``totp``, the ``otpauth://`` URI to show once."""
    check_username(username)
    check_password(password)
    check_language(language)
    now = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        if session.scalar(select(Operator.id).where(Operator.username == username)) is not None:
            raise OperatorProblem("username_taken", f"operator {username!r} exists already")
        operator = Operator(
            username=username, password_hash=_HASHER.hash(password), language=language, active=True, created_at=now
        )
        uri = _new_totp(ctx, operator) if totp else None
        session.add(operator)
        session.flush()
        record_action(session, actor, "operator_add", now, detail=f"{username} language={language} totp={totp}")
        return _view(operator), uri


def set_password(ctx: GatewayContext, username: str, password: str, *, actor: str) -> None:
    check_password(password)
    now = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        operator = _get(session, username)
        operator.password_hash = _HASHER.hash(password)
        record_action(session, actor, "operator_set_password", now, detail=username)


def enroll_totp(ctx: GatewayContext, username: str, *, actor: str) -> str:
    """A new TOTP secret (replacing any old one); the ``otpauth://`` URI is returned once, never stored in clear."""
    now = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        operator = _get(session, username)
        uri = _new_totp(ctx, operator)
        record_action(session, actor, "operator_totp", now, detail=username)
        return uri


def set_active(ctx: GatewayContext, username: str, active: bool, *, actor: str) -> None:
    now = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        operator = _get(session, username)
        operator.active = active
        record_action(session, actor, "operator_enable" if active else "operator_disable", now, detail=username)


def set_language(ctx: GatewayContext, operator_id: int, language: str) -> None:
    check_language(language)
    with ctx.db.session() as session, session.begin():
        operator = session.get(Operator, operator_id)
        if operator is not None:
            operator.language = language


def list_operators(ctx: GatewayContext) -> list[OperatorView]:
    with ctx.db.session() as session:
        return [_view(o) for o in session.scalars(select(Operator).order_by(Operator.username))]


def get_operator(ctx: GatewayContext, operator_id: int) -> tuple[OperatorView, str] | None:
    """The account and its password fingerprint (see ``password_fingerprint``), or None."""
    with ctx.db.session() as session:
        operator = session.get(Operator, operator_id)
        if operator is None:
            return None
        return _view(operator), password_fingerprint(operator.password_hash)


# --- login -------------------------------------------------------------------------------------------------------


def locked_until(session: Session, username: str, now: datetime) -> datetime | None:
    """When the account's lock ends, or None when it is not locked.

    Failed logins since the last successful one are counted in order; the fifth starts a lock of ``LOCKOUT`` and
    the count starts again. Attempts while locked are recorded as ``locked`` and are not counted."""
    since = now - timedelta(days=1)
    last_ok = session.scalar(
        select(OperatorAction.at)
        .where(OperatorAction.actor == username, OperatorAction.action == "login", OperatorAction.outcome == "ok")
        .order_by(OperatorAction.at.desc())
        .limit(1)
    )
    if last_ok is not None:
        since = max(since, _aware(last_ok))
    failures = session.scalars(
        select(OperatorAction.at)
        .where(
            OperatorAction.actor == username,
            OperatorAction.action == "login",
            OperatorAction.outcome == "refused",
            OperatorAction.detail.in_(("bad_credentials", "bad_totp")),
            OperatorAction.at > since,
        )
        .order_by(OperatorAction.at, OperatorAction.id)
    ).all()
    streak, until = 0, None
    for at in failures:
        at = _aware(at)
        if until is not None and at < until:
            continue
        streak += 1
        if streak >= MAX_FAILURES:
            until, streak = at + LOCKOUT, 0
    return until if until is not None and until > now else None


def _refuse(session: Session, actor: str, reason: str, now: datetime, until: datetime | None = None) -> LoginResult:
    record_action(session, actor, "login", now, outcome="refused", detail=reason)
    log.warning("console_login_refused actor=%s reason=%s", actor, reason)
    return LoginResult("refused", reason=reason, locked_until=until)


def _verify_password(operator: Operator, password: str) -> bool:
    try:
        return _HASHER.verify(operator.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def login_password(ctx: GatewayContext, username: str, password: str) -> LoginResult:
    """First step: the password. ``need_totp`` when the account has TOTP (or the settings require it)."""
    now = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        operator = session.scalar(select(Operator).where(Operator.username == username))
        if operator is None:
            with contextlib.suppress(VerificationError):
                _HASHER.verify(_DUMMY_HASH, password)
            # Never the typed name as the actor: it may be a password typed into the wrong field.
            return _refuse(session, "anonymous", "bad_credentials", now)
        until = locked_until(session, operator.username, now)
        if until is not None:
            return _refuse(session, operator.username, "locked", now, until)
        if not _verify_password(operator, password):
            _refuse(session, operator.username, "bad_credentials", now)
            session.flush()
            until = locked_until(session, operator.username, now)
            return LoginResult("refused", reason="locked" if until else "bad_credentials", locked_until=until)
        if not operator.active:
            return _refuse(session, operator.username, "inactive", now)
        if _HASHER.check_needs_rehash(operator.password_hash):
            operator.password_hash = _HASHER.hash(password)
        if operator.totp_secret_encrypted is not None:
            return LoginResult("need_totp", operator=_view(operator))
        if ctx.settings.console_require_totp:
            return _refuse(session, operator.username, "totp_not_enrolled", now)
        return _logged_in(session, operator, now, "password")


def _logged_in(session: Session, operator: Operator, now: datetime, detail: str) -> LoginResult:
    operator.last_login_at = now
    record_action(session, operator.username, "login", now, detail=detail)
    return LoginResult("ok", operator=_view(operator))


def _last_totp_step(session: Session, username: str) -> int:
    details = session.scalars(
        select(OperatorAction.detail)
        .where(
            OperatorAction.actor == username,
            OperatorAction.action == "login",
            OperatorAction.outcome == "ok",
            OperatorAction.detail.like("totp step=%"),
        )
        .order_by(OperatorAction.at.desc(), OperatorAction.id.desc())
        .limit(1)
    ).all()
    return int(details[0].removeprefix("totp step=")) if details else -1


def login_totp(ctx: GatewayContext, operator_id: int, code: str) -> LoginResult:
    """Second step: the TOTP code (the current one or its neighbours, for clock drift), each accepted once."""
    now = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        operator = session.get(Operator, operator_id)
        if operator is None or operator.totp_secret_encrypted is None:
            return _refuse(session, "anonymous", "bad_credentials", now)
        until = locked_until(session, operator.username, now)
        if until is not None:
            return _refuse(session, operator.username, "locked", now, until)
        if not operator.active:
            return _refuse(session, operator.username, "inactive", now)
        totp = pyotp.TOTP(ctx.tokens.open(operator.totp_secret_encrypted))
        step_now = totp.timecode(now)
        last = _last_totp_step(session, operator.username)
        code = code.strip().replace(" ", "")
        for offset in (0, -1, 1):
            step = step_now + offset
            if step > last and hmac.compare_digest(totp.generate_otp(step), code):
                return _logged_in(session, operator, now, f"totp step={step}")
        _refuse(session, operator.username, "bad_totp", now)
        session.flush()
        until = locked_until(session, operator.username, now)
        return LoginResult("refused", reason="locked" if until else "bad_totp", locked_until=until)


def record_logout(ctx: GatewayContext, username: str) -> None:
    with ctx.db.session() as session, session.begin():
        record_action(session, username, "logout", ctx.clock.now())


def upsert_operator(ctx: GatewayContext, username: str, password: str, *, language: str = "en", actor: str) -> None:
    """Create the account, or give an existing one this password and enable it (the lab's QA account)."""
    try:
        create_operator(ctx, username, password, language=language, actor=actor)
    except OperatorProblem as exc:
        if exc.code != "username_taken":
            raise
        set_password(ctx, username, password, actor=actor)
        set_active(ctx, username, True, actor=actor)
