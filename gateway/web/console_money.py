"""Money actions on a payment page: refund (full or partial), reverse (same-day cancel), capture (two-phase, full or
partial). Each is three steps, so nothing moves money by one click:

    GET  /ops/attempts/<id>/<action>            the form (an amount in major units for refund and capture)
    POST /ops/attempts/<id>/<action>/confirm    the confirmation page: the exact amount and currency
    POST /ops/attempts/<id>/<action>            with ``confirmed=yes``: calls the service, then back to the payment

The amount typed is converted exactly with ``Money.from_major`` (never a float); an empty amount means the full
amount (for a refund: what is left to refund). The services (``gateway.services.refunds``,
``gateway.services.reversal``) check the rules, call the bank and record the
operator action themselves, so nothing is recorded twice here; each ``OperationRefused.reason`` becomes its own
translated message (``refused_<reason>``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from gateway.domain.errors import OperationRefused
from gateway.domain.money import CURRENCIES, Money, MoneyError
from gateway.services.refunds import refund_payment
from gateway.services.reversal import capture_payment, reverse_payment
from gateway.store.models import Attempt, PaymentSession
from gateway.web.console_auth import bp, current_operator, t
from gateway.web.console_texts import TEXTS
from gateway.web.wiring import context

log = logging.getLogger(__name__)

ACTIONS = ("refund", "reverse", "capture")
TAKES_AMOUNT = {"refund": True, "reverse": False, "capture": True}


@dataclass(frozen=True)
class AttemptFacts:
    id: int
    session_id: int
    order_number: str
    ecwid_order_id: str
    currency: str
    amount_minor: int
    refunded_minor: int
    deposited_minor: int | None


def refusal_message(exc: OperationRefused) -> str:
    key = f"refused_{exc.reason}"
    return t(key) if key in TEXTS else t("refused_other", reason=exc.reason)


def _facts(attempt_id: int) -> AttemptFacts:
    with context().db.session() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            abort(404)
        owner = session.get(PaymentSession, attempt.session_id)
        assert owner is not None
        return AttemptFacts(
            id=attempt.id,
            session_id=attempt.session_id,
            order_number=attempt.order_number,
            ecwid_order_id=owner.ecwid_order_id,
            currency=attempt.currency,
            amount_minor=attempt.amount_minor,
            refunded_minor=attempt.refunded_minor or 0,
            deposited_minor=attempt.deposited_minor,
        )


def _action(action: str) -> str:
    if action not in ACTIONS:
        abort(404)
    return action


def _default_minor(action: str, facts: AttemptFacts) -> int:
    """What 'the full amount' means: what is left to refund, or the whole held amount."""
    if action == "refund":
        paid = facts.deposited_minor if facts.deposited_minor is not None else facts.amount_minor
        return max(paid - facts.refunded_minor, 0)
    return facts.amount_minor


def parse_amount(raw: str, currency: str) -> int | None:
    """Major units as typed ('1500', '1500.50', '1 500,50') -> exact minor units; None when not a positive amount
    the currency can hold."""
    cleaned = raw.strip().replace(" ", "").replace("\u00a0", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not cleaned or not all(c.isdigit() or c == "." for c in cleaned):
        return None
    try:
        minor = Money.from_major(cleaned, currency).minor
    except MoneyError:
        return None
    return minor if minor > 0 else None


def _money(minor: int, currency: str) -> str:
    return str(Money(minor, currency))


@bp.get("/attempts/<int:attempt_id>/<action>")
def money_form(attempt_id: int, action: str) -> str:
    action, facts = _action(action), _facts(attempt_id)
    full = _money(_default_minor(action, facts), facts.currency)
    if not TAKES_AMOUNT[action]:
        return _confirmation(action, facts, None)
    return render_template("ops/money_form.html", action=action, facts=facts, full=full, error=None, amount="")


@bp.post("/attempts/<int:attempt_id>/<action>/confirm")
def money_confirm(attempt_id: int, action: str) -> str:
    action, facts = _action(action), _facts(attempt_id)
    raw = request.form.get("amount", "")
    minor: int | None = None
    if raw.strip():
        minor = parse_amount(raw, facts.currency)
        if minor is None:
            full = _money(_default_minor(action, facts), facts.currency)
            return render_template(
                "ops/money_form.html", action=action, facts=facts, full=full, error=t("amount_invalid"), amount=raw
            )
    return _confirmation(action, facts, minor)


def _confirmation(action: str, facts: AttemptFacts, minor: int | None) -> str:
    shown = minor if minor is not None else _default_minor(action, facts)
    if TAKES_AMOUNT[action] and shown <= 0:
        # Nothing is left (another operator refunded it meanwhile): never ask to confirm an amount of 0.
        return render_template(
            "ops/money_form.html",
            action=action,
            facts=facts,
            full=_money(0, facts.currency),
            error=t("amount_invalid"),
            amount="",
        )
    return render_template(
        "ops/money_confirm.html",
        action=action,
        facts=facts,
        # A refund always carries the exact amount shown; a capture without one takes the whole hold.
        amount_minor=str(shown) if action == "refund" or minor is not None else "",
        question=t(f"confirm_{action}", amount=_money(shown, facts.currency), order=facts.ecwid_order_id),
        digits=CURRENCIES[facts.currency][1],
    )


@bp.post("/attempts/<int:attempt_id>/<action>")
def money_execute(attempt_id: int, action: str) -> Response:
    action, facts = _action(action), _facts(attempt_id)
    back = redirect(url_for("ops.payment", session_id=facts.session_id))
    if request.form.get("confirmed") != "yes":
        return redirect(url_for("ops.money_form", attempt_id=attempt_id, action=action))
    raw = request.form.get("amount_minor", "").strip()
    amount_minor: int | None = None
    if raw:
        if not raw.lstrip("-").isdigit() or len(raw) > 19:
            abort(400)
        amount_minor = int(raw)
    actor = current_operator().username
    ctx = context()
    try:
        if action == "refund":
            minor = amount_minor if amount_minor is not None else _default_minor(action, facts)
            refunded = refund_payment(ctx, attempt_id, minor, actor=actor)
            flash(
                t(
                    "refund_done",
                    status=refunded.status.value,
                    attempt_status=refunded.attempt_status.value,
                    ecwid_status=refunded.ecwid_status,
                )
            )
            return back
        if action == "reverse":
            result = reverse_payment(ctx, attempt_id, actor=actor)
        else:
            result = capture_payment(ctx, attempt_id, amount_minor, actor=actor)
        flash(t("money_done", attempt_status=result.attempt_status.value, ecwid_status=result.ecwid_status))
    except OperationRefused as exc:
        log.info("console_money_refused action=%s attempt=%s reason=%s", action, attempt_id, exc.reason)
        flash(refusal_message(exc))
    return back
