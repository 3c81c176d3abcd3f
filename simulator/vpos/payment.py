"""The customer's side of a bank order: paying with a card, cancelling, and session expiry.

One code path for the hosted card page and ``POST /_control/vpos/orders/{mdOrder}/pay``: decide with the test
card table, update the order exactly once (under the order book's lock), send the callback, and compute where
the browser goes next (returnUrl, or failUrl for a decline, with ``orderId`` and ``lang`` appended).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from simulator.control.journal import mask_pan
from simulator.errors import NotFound
from simulator.state import SimulatorState
from simulator.vpos.callbacks import DispatchResult
from simulator.vpos.cards import (
    ACTION_SESSION_EXPIRED,
    ORDER_DECLINED,
    decide,
    payment_system,
)
from simulator.vpos.orders import BankOrder, CardAuth

_EXPIRY = re.compile(r"^\s*(\d{2})\s*/\s*(\d{2}|\d{4})\s*$")
_CVC = re.compile(r"^\d{3,4}$")


class CardInputError(ValueError):
    """The card form is incomplete or malformed; ``fields`` names every offending input in form order (pan, expiry,
    cvc) and ``field`` the first. No state changes."""

    def __init__(self, field: str, *more: str) -> None:
        self.fields: tuple[str, ...] = (field, *more)
        super().__init__(f"invalid {', '.join(self.fields)}")
        self.field = field


@dataclass(frozen=True)
class CardInput:
    pan: str
    expiry: str
    """MM/YY as typed by the customer."""
    cardholder: str = ""
    cvc: str = ""


@dataclass(frozen=True)
class PaymentResult:
    order: BankOrder
    redirect_url: str
    already_processed: bool
    callback: DispatchResult | None


def parse_expiry(expiry: str) -> tuple[int, int]:
    """``MM/YY`` (or ``MM/YYYY``) -> (month, four-digit year); CardInputError("expiry") otherwise."""
    match = _EXPIRY.match(expiry)
    if match is None:
        raise CardInputError("expiry")
    month, year = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise CardInputError("expiry")
    return month, year + 2000 if year < 100 else year


def normalise_pan(pan: str) -> str:
    digits = re.sub(r"[\s-]", "", pan)
    if not digits.isdigit() or not digits.isascii():
        raise CardInputError("pan")
    return digits


def check_card(card: CardInput, *, require_cvc: bool) -> tuple[str, int, int]:
    """(pan digits, month, four-digit year) of a well-formed card; else one CardInputError naming every bad field,
    so the page can show all of them at once."""
    bad: list[str] = []
    month, year = 0, 0
    try:
        pan = normalise_pan(card.pan)
    except CardInputError:
        pan = ""
    if not pan:
        bad.append("pan")
    try:
        month, year = parse_expiry(card.expiry)
    except CardInputError:
        bad.append("expiry")
    if (require_cvc or card.cvc) and not _CVC.match(card.cvc):
        bad.append("cvc")
    if bad:
        raise CardInputError(*bad)
    return pan, month, year


def return_redirect(order: BankOrder) -> str:
    """Where the bank page sends the browser: failUrl for a decline when given, else returnUrl."""
    target = order.fail_url if order.order_status == ORDER_DECLINED and order.fail_url else order.return_url
    separator = "&" if "?" in target else "?"
    return f"{target}{separator}{urlencode({'orderId': order.md_order, 'lang': order.language})}"


def _require(state: SimulatorState, md_order: str) -> BankOrder:
    order = state.bank.get(md_order)
    if order is None:
        raise NotFound(f"unknown mdOrder {md_order}")
    return order


def expire_if_due(state: SimulatorState, md_order: str) -> None:
    """Lazy session expiry on any read: an unpaid order past its timeout becomes declined (-2007) and the
    ``declinedByTimeout`` callback goes out in the background (never blocking the reader)."""
    now = state.clock.now()
    if state.bank.expire_if_due(md_order, now):
        order = _require(state, md_order)
        state.callbacks.dispatch(order, "declinedByTimeout", 0, now, background=True)


def submit_payment(
    state: SimulatorState, md_order: str, card: CardInput, *, ip: str, require_cvc: bool = False
) -> PaymentResult:
    """Pay ``md_order`` with ``card``. Decides at most once: a second submit returns ``already_processed``
    without touching the order. Raises NotFound (unknown order) or CardInputError (malformed form)."""
    order = _require(state, md_order)
    pan, month, year = check_card(card, require_cvc=require_cvc)

    now = state.clock.now()
    operation = "deposited"

    def apply(target: BankOrder) -> bool:
        nonlocal operation
        if target.is_final:
            return False
        if now > target.expires_at:
            target.order_status, target.action_code = ORDER_DECLINED, ACTION_SESSION_EXPIRED
            operation = "declinedByTimeout"
        else:
            decision = decide(pan, month, year, now)
            target.order_status, target.action_code = decision.order_status, decision.action_code
            target.card = CardAuth(
                masked_pan=mask_pan(pan),
                expiration=f"{year:04d}{month:02d}",
                cardholder_name=card.cardholder.strip().upper() or "CARDHOLDER",
                approval_code=f"{secrets.randbelow(1_000_000):06d}" if decision.approved else "",
                payment_system=payment_system(pan),
            )
            target.auth_ref_num = f"{secrets.randbelow(10**12):012d}"
        target.auth_at = now
        target.ip = ip
        target.operations.append(
            {"operation": operation, "at": int(now.timestamp() * 1000), "actionCode": target.action_code}
        )
        return True

    updated, changed = state.bank.update(md_order, apply)
    order = updated or order
    if not changed:
        return PaymentResult(order, return_redirect(order), already_processed=True, callback=None)
    status = 1 if order.order_status != ORDER_DECLINED else 0
    callback = state.callbacks.dispatch(order, operation, status, now)
    return PaymentResult(order, return_redirect(order), already_processed=False, callback=callback)


def cancel_payment(state: SimulatorState, md_order: str) -> str:
    """The customer leaves the bank page: no payment, orderStatus unchanged; returns the redirect URL
    (failUrl when given, else returnUrl)."""
    order = _require(state, md_order)
    target = order.fail_url or order.return_url
    separator = "&" if "?" in target else "?"
    return f"{target}{separator}{urlencode({'orderId': order.md_order, 'lang': order.language})}"
