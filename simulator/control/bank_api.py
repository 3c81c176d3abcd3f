"""Control API for the bank's decisions, under ``/_control/vpos/`` (JSON):

- ``POST /orders/{mdOrder}/outcome``: decide an order without a browser (pay, decline, hold in 3-D Secure, leave
  pending, expire) through the same single writer and callbacks as the card and ACS pages
  (``simulator.vpos.outcomes``); ``pay`` may make the bank report another ``reportedAmount`` /
  ``reportedCurrency`` than registered, or approve less (``approvedAmount``, a partial authorisation); 400 bad
  input, 404 unknown order, 409 a move the state machine refuses;
- ``GET /cards``: the test card table (``simulator.vpos.cards.TEST_CARDS``), the ACS page's magic OTP;
- ``GET|PUT /bank``: bank-wide settings: ``pendingSeconds`` (how long a pending test card stays in orderStatus 7),
  ``reverseWindowSeconds`` (how long reverse.do still cancels a deposited order, 72 h by default),
  ``partialDeposit`` (deposit.do may capture less than held), ``failNextRefund`` (the next refund.do answers 0 but
  the refund ends FAILED), ``disabledMethods`` (per merchant userName or ``*``: money methods answering HTTP 404).

Bad input -> 400 ``{"error": "bad_input", "message": ...}``, unknown things -> 404, refused moves -> 409
``{"error": "conflict", ...}`` (``simulator.errors``). Changes are journaled (service ``control``). Reset
(``POST /_control/reset``) restores the settings. Endpoints are listed in ``simulator/README.md``.
"""

from __future__ import annotations

import math
from typing import Any, cast

from flask import Blueprint, Response, jsonify, request

from simulator.errors import BadInput, Conflict, NotFound
from simulator.state import current_state
from simulator.vpos.cards import TEST_CARDS
from simulator.vpos.orders import UnknownBankOrder
from simulator.vpos.outcomes import (
    OUTCOMES,
    RESOLVE_TO,
    Outcome,
    OutcomeName,
    OutcomeRefused,
    ResolveTo,
    apply_outcome,
)
from simulator.vpos.payment import next_url
from simulator.vpos.threeds import MAGIC_OTP, MAX_OTP_ATTEMPTS
from simulator.web import note, note_orders

bp = Blueprint("vpos_bank", __name__, url_prefix="/_control/vpos")

MAX_PENDING_SECONDS = 30 * 86400
MAX_PENDING_SETTING = 86400
MAX_REVERSE_WINDOW_SECONDS = 365 * 86400
GATED_METHODS = ("registerPreAuth.do", "deposit.do", "reverse.do", "refund.do", "decline.do")
"""Methods ``disabledMethods`` can switch off (the methods a bank deploys per merchant)."""
BANK_FIELDS = ("pendingSeconds", "reverseWindowSeconds", "partialDeposit", "failNextRefund", "disabledMethods")
_MAX_ACTION_CODE = 999_999
MAX_MINOR_UNITS = 10**15
_FIELDS: dict[str, frozenset[str]] = {
    "pay": frozenset({"eci", "reportedAmount", "reportedCurrency", "approvedAmount"}),
    "decline": frozenset({"actionCode"}),
    "hold3ds": frozenset({"eci"}),
    "pending": frozenset({"resolveAfterSeconds", "resolveTo", "actionCode", "eci"}),
    "expire": frozenset(),
}


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object")
    return body


def _action_code(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _MAX_ACTION_CODE:
        raise BadInput(f"actionCode must be an integer between -{_MAX_ACTION_CODE} and {_MAX_ACTION_CODE}")
    if value == 0:
        raise BadInput("actionCode 0 means approved: use outcome pay")
    return value


def _eci(value: Any) -> int:
    """An ECI: an integer 0..7, or its two-digit spelling such as ``"05"``."""
    if isinstance(value, str) and value.isdigit() and value.isascii() and 1 <= len(value) <= 2:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 7:
        raise BadInput('eci must be an integer 0..7 (or a string such as "05")')
    return value


def _minor_units(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_MINOR_UNITS:
        raise BadInput(f"{name} must be a positive integer (minor units) of at most {MAX_MINOR_UNITS}")
    return value


def _numeric_currency(value: Any) -> str:
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) != 3:
        raise BadInput('reportedCurrency must be an ISO 4217 numeric code of three digits, such as "840"')
    return value


def _seconds(value: Any, name: str, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInput(f"{name} must be a number")
    if not 0 < value <= upper:
        raise BadInput(f"{name} must be greater than 0 and at most {upper:g}")
    return float(value)


def parse_outcome(body: dict[str, Any]) -> Outcome:
    """The JSON body of ``POST /orders/{mdOrder}/outcome`` as an ``Outcome``; BadInput names the first problem."""
    name = body.get("outcome")
    if not isinstance(name, str) or name not in OUTCOMES:
        raise BadInput(f"outcome must be one of {', '.join(OUTCOMES)}")
    accepted = _FIELDS[name]
    extra = sorted(set(body) - accepted - {"outcome"})
    if extra:
        allowed = ", ".join(sorted(accepted)) or "no other field"
        raise BadInput(f"{name} does not take {', '.join(extra)} (it takes {allowed})")
    resolve_to = body.get("resolveTo", "paid")
    if resolve_to not in RESOLVE_TO:
        raise BadInput(f"resolveTo must be one of {', '.join(RESOLVE_TO)}")
    if name == "pending" and resolve_to == "paid" and "actionCode" in body:
        raise BadInput("actionCode is for resolveTo declined")
    if name == "pending" and resolve_to == "declined" and "eci" in body:
        raise BadInput("eci is for resolveTo paid")
    after = body.get("resolveAfterSeconds")
    return Outcome(
        name=cast(OutcomeName, name),
        action_code=_action_code(body["actionCode"]) if "actionCode" in body else None,
        eci=_eci(body["eci"]) if "eci" in body else None,
        resolve_after_seconds=_seconds(after, "resolveAfterSeconds", MAX_PENDING_SECONDS)
        if after is not None
        else None,
        resolve_to=cast(ResolveTo, resolve_to),
        reported_amount=_minor_units(body["reportedAmount"], "reportedAmount") if "reportedAmount" in body else None,
        reported_currency=_numeric_currency(body["reportedCurrency"]) if "reportedCurrency" in body else None,
        approved_amount=_minor_units(body["approvedAmount"], "approvedAmount") if "approvedAmount" in body else None,
    )


@bp.route("/orders/<md_order>/outcome", methods=["POST"])
def post_outcome(md_order: str) -> Response:
    """Decide a bank order without a browser (``simulator.vpos.outcomes``)."""
    note("outcome", f"mdOrder={md_order}")
    note_orders(mdOrder=md_order)
    state = current_state()
    if state.bank.get(md_order) is None:
        raise NotFound(f"unknown mdOrder {md_order}")
    outcome = parse_outcome(_body())
    registered = state.bank.get(md_order)
    if registered is not None and outcome.approved_amount is not None and outcome.approved_amount >= registered.amount:
        raise BadInput(f"approvedAmount must be less than the order's amount ({registered.amount}): a partial one")
    try:
        result = apply_outcome(state, md_order, outcome)
    except UnknownBankOrder:
        raise NotFound(f"unknown mdOrder {md_order}") from None
    except OutcomeRefused as exc:
        note("outcome", f"mdOrder={md_order} {outcome.name} -> refused: {exc}")
        raise Conflict(str(exc)) from None
    order = result.decision.order
    callback = result.decision.callback
    note(
        "outcome",
        f"mdOrder={md_order} {outcome.name} -> orderStatus {int(order.order_status)} actionCode {order.action_code} "
        f"callback {callback.outcome if callback else 'none'}",
    )
    return jsonify(
        {
            "mdOrder": md_order,
            "outcome": outcome.name,
            "previousOrderStatus": int(result.previous),
            "orderStatus": int(order.order_status),
            "actionCode": order.action_code,
            "redirectUrl": next_url(state, order),
            "resolvesAt": result.resolves_at.isoformat() if result.resolves_at else None,
            "callback": callback.to_json() if callback else None,
            "order": order.to_json(),
        }
    )


@bp.route("/cards", methods=["GET"])
def get_cards() -> Response:
    return jsonify(
        {"cards": [card.to_json() for card in TEST_CARDS], "otp": MAGIC_OTP, "maxOtpAttempts": MAX_OTP_ATTEMPTS}
    )


@bp.route("/bank", methods=["GET"])
def get_bank() -> Response:
    return jsonify(current_state().bank.settings.to_json())


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise BadInput(f"{name} must be true or false")
    return value


def _disabled_methods(value: Any) -> dict[str, list[str]]:
    """``{"<userName>" | "*": ["deposit.do", ...]}``: replaces the whole mapping ({} deploys everything)."""
    if not isinstance(value, dict):
        raise BadInput("disabledMethods must be an object: userName (or *) -> list of methods")
    result: dict[str, list[str]] = {}
    for merchant, methods in value.items():
        if not isinstance(methods, list) or not all(isinstance(m, str) and m in GATED_METHODS for m in methods):
            raise BadInput(f"disabledMethods[{merchant}] must be a list of: {', '.join(GATED_METHODS)}")
        if methods:
            result[str(merchant)] = sorted(set(methods))
    return result


@bp.route("/bank", methods=["PUT"])
def put_bank() -> Response:
    """Change some of the bank-wide settings (any non-empty subset; all checked before any applies):
    ``pendingSeconds`` (0 < n <= 86400), ``reverseWindowSeconds`` (0 < n <= 365 days), ``partialDeposit``,
    ``failNextRefund`` (booleans), ``disabledMethods``."""
    note("bank settings")
    body = _body()
    unknown = sorted(set(body) - set(BANK_FIELDS))
    if not body or unknown:
        raise BadInput(f"accepted fields: {', '.join(BANK_FIELDS)}")
    changes: dict[str, Any] = {}
    if "pendingSeconds" in body:
        changes["pending_seconds"] = _seconds(body["pendingSeconds"], "pendingSeconds", MAX_PENDING_SETTING)
    if "reverseWindowSeconds" in body:
        changes["reverse_window_seconds"] = _seconds(
            body["reverseWindowSeconds"], "reverseWindowSeconds", MAX_REVERSE_WINDOW_SECONDS
        )
    if "partialDeposit" in body:
        changes["partial_deposit"] = _flag(body["partialDeposit"], "partialDeposit")
    if "failNextRefund" in body:
        changes["fail_next_refund"] = _flag(body["failNextRefund"], "failNextRefund")
    if "disabledMethods" in body:
        changes["disabled_methods"] = _disabled_methods(body["disabledMethods"])
    settings = current_state().bank.settings
    for name, value in changes.items():
        setattr(settings, name, value)
    note("bank settings", " ".join(f"{name}={body[name]}" for name in BANK_FIELDS if name in body))
    return jsonify(settings.to_json())
