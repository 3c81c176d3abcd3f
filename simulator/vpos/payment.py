"""The customer's side of a bank order: paying with a card, cancelling, and where the browser goes next.

One code path for the hosted card page and ``POST /_control/vpos/orders/{mdOrder}/pay``: validate the form, let
the test card table decide (``simulator.vpos.cards``), and move the order once through ``lifecycle.decide`` (the one
writer, then the callback). A card decides at once (paid 2 / declined 6), or starts 3-D Secure (5: the browser goes
to the ACS page, ``simulator.vpos.threeds``), or leaves the order pending (7: it resolves by itself after the bank's
``pendingSeconds``). The browser then goes to the ACS page, or to returnUrl (failUrl for a decline, when given) with
``orderId`` and ``lang`` appended.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from simulator.control.journal import mask_pan
from simulator.errors import NotFound
from simulator.state import SimulatorState
from simulator.vpos.callbacks import DispatchResult
from simulator.vpos.cards import ORDER_DECLINED, CardDecision, Flow, decide, payment_system
from simulator.vpos.lifecycle import approval_code, expire, expire_if_due
from simulator.vpos.lifecycle import decide as decide_order
from simulator.vpos.orders import BankOrder, CardAuth, Challenge, PendingPlan
from simulator.vpos.states import AWAITING_CUSTOMER, OrderStatus

__all__ = [
    "CardInput",
    "CardInputError",
    "PaymentResult",
    "cancel_payment",
    "check_card",
    "expire_if_due",
    "next_url",
    "return_redirect",
    "submit_payment",
]

_EXPIRY = re.compile(r"^\s*(\d{2})\s*/\s*(\d{2}|\d{4})\s*$")
_CVC = re.compile(r"^\d{3,4}$")
ACS_PATH = "/payment/acs/challenge"


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


def _with_order(target: str, order: BankOrder) -> str:
    separator = "&" if "?" in target else "?"
    return f"{target}{separator}{urlencode({'orderId': order.md_order, 'lang': order.language})}"


def return_redirect(order: BankOrder) -> str:
    """Where the bank page sends the browser: failUrl for a decline when given, else returnUrl."""
    target = order.fail_url if order.order_status == ORDER_DECLINED and order.fail_url else order.return_url
    return _with_order(target, order)


def acs_url(state: SimulatorState, order: BankOrder) -> str:
    """The ACS (3-D Secure challenge) page of an order in orderStatus 5."""
    return f"{state.config.public_url}{ACS_PATH}?{urlencode({'mdOrder': order.md_order})}"


def next_url(state: SimulatorState, order: BankOrder) -> str:
    """Where the browser goes from the bank's pages: the ACS page while 3-D Secure is in progress, else back to
    the merchant (``return_redirect``)."""
    return acs_url(state, order) if order.order_status is OrderStatus.ACS_AUTH else return_redirect(order)


def _require(state: SimulatorState, md_order: str) -> BankOrder:
    order = state.bank.get(md_order)
    if order is None:
        raise NotFound(f"unknown mdOrder {md_order}")
    return order


def submit_payment(
    state: SimulatorState, md_order: str, card: CardInput, *, ip: str, require_cvc: bool = False
) -> PaymentResult:
    """Pay ``md_order`` with ``card``. Only a registered order takes a card: any other returns
    ``already_processed`` without touching the order. Raises NotFound (unknown order) or CardInputError (malformed
    form)."""
    order = _require(state, md_order)
    pan, month, year = check_card(card, require_cvc=require_cvc)

    now = state.clock.now()
    if order.session_over(now) and order.order_status in AWAITING_CUSTOMER:  # the first to notice the end
        decision = expire(state, md_order)
        if decision.changed:
            state.bank.update(md_order, lambda target: _note_attempt(target, ip, now))
    else:
        verdict = decide(pan, month, year, now)
        auth = CardAuth(
            masked_pan=mask_pan(pan),
            expiration=f"{year:04d}{month:02d}",
            cardholder_name=card.cardholder.strip().upper() or "CARDHOLDER",
            approval_code=approval_code() if verdict.first_status is OrderStatus.DEPOSITED else "",
            payment_system=payment_system(pan),
            eci=verdict.eci if verdict.first_status is not OrderStatus.ACS_AUTH else None,
            three_ds_protocol_version=verdict.three_ds_protocol_version,
        )
        pending_seconds = state.bank.settings.pending_seconds

        def facts(target: BankOrder) -> None:
            target.card = auth
            _note_attempt(target, ip, now)
            target.auth_ref_num = f"{secrets.randbelow(10**12):012d}"
            target.challenge = _challenge(verdict)
            target.pending = _pending_plan(verdict, now + timedelta(seconds=pending_seconds))

        first = verdict.first_status
        decision = decide_order(
            state,
            md_order,
            first,
            operation=f"card {verdict.flow.value}",
            now=now,
            action_code=verdict.action_code if first in (OrderStatus.DEPOSITED, OrderStatus.DECLINED) else None,
            sources={OrderStatus.REGISTERED},
            facts=facts,
        )
    order = decision.order
    if not decision.changed:
        return PaymentResult(order, next_url(state, order), already_processed=True, callback=None)
    return PaymentResult(order, next_url(state, order), already_processed=False, callback=decision.callback)


def _note_attempt(order: BankOrder, ip: str, now: datetime) -> bool:
    order.ip = ip
    order.auth_at = now
    return True


def _challenge(verdict: CardDecision) -> Challenge | None:
    if verdict.flow is not Flow.CHALLENGE:
        return None
    return Challenge(verdict.order_status, verdict.action_code, verdict.eci)


def _pending_plan(verdict: CardDecision, due: datetime) -> PendingPlan | None:
    if verdict.flow is not Flow.PENDING:
        return None
    return PendingPlan(verdict.order_status, verdict.action_code, verdict.eci, due)


def cancel_payment(state: SimulatorState, md_order: str) -> str:
    """The customer leaves the bank page: no payment, orderStatus unchanged; returns the redirect URL
    (failUrl when given, else returnUrl)."""
    order = _require(state, md_order)
    return _with_order(order.fail_url or order.return_url, order)
