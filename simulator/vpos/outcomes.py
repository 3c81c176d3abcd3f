"""Outcomes decided without a browser (``POST /_control/vpos/orders/{mdOrder}/outcome``): the same moves as the card
and ACS pages, through ``lifecycle.decide`` (the one writer, then the same callbacks).

=========  ==========================  =========================================================================
outcome    from orderStatus            to
=========  ==========================  =========================================================================
pay        0, 5, 7                     2, actionCode 0, approval code; eci as given, else the challenge's (from 5),
                                       the pending plan's (from 7), or none-3DS for the card (from 0); with
                                       ``reportedAmount`` / ``reportedCurrency`` the status answers report those
                                       instead of the registered ones, with ``approvedAmount`` (less than the
                                       amount) a partial authorisation: approved and deposited that much
decline    0, 5, 7                     6 with ``actionCode`` (default 100; -2006 from 5); -2007 sends
                                       ``declinedByTimeout``
hold3ds    0                           5: the ACS page waits; a passed challenge pays with ``eci`` (default 05/02)
pending    0, 5                        7; resolves by itself after ``resolveAfterSeconds`` (default: the bank's
                                       ``pendingSeconds``) to ``resolveTo`` paid (with ``eci``) or declined (with
                                       ``actionCode``, default 100)
expire     0, 5                        6, actionCode -2007, ``declinedByTimeout``, whatever the time
=========  ==========================  =========================================================================

A two-phase order (``registerPreAuth.do``) is held (1) instead of paid (2) by ``pay`` and a paid resolution (the
one writer's rule). An order without a card attempt gets the Visa test card's details (``424242**4242``, or
``400000**3220`` at the ACS), so a paid order always has ``cardAuthInfo``. A move the table (or the column
above) refuses raises ``OutcomeRefused``; nothing changes and nothing is sent.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from simulator.control.journal import mask_pan
from simulator.state import SimulatorState
from simulator.vpos.cards import (
    ACTION_3DS_DECLINED,
    ACTION_APPROVED,
    ACTION_GENERIC_DECLINE,
    ACTION_SESSION_EXPIRED,
    THREE_DS_PROTOCOL_VERSION,
    eci_for,
)
from simulator.vpos.lifecycle import Decision, approval_code, decide, expire_if_due
from simulator.vpos.orders import BankOrder, CardAuth, Challenge, PendingPlan, UnknownBankOrder
from simulator.vpos.states import OrderStatus

OutcomeName = Literal["pay", "decline", "hold3ds", "pending", "expire"]
OUTCOMES: tuple[str, ...] = get_args(OutcomeName)
ResolveTo = Literal["paid", "declined"]
RESOLVE_TO: tuple[str, ...] = get_args(ResolveTo)

_S = OrderStatus
SOURCES: dict[str, frozenset[OrderStatus]] = {
    "pay": frozenset({_S.REGISTERED, _S.ACS_AUTH, _S.PENDING}),
    "decline": frozenset({_S.REGISTERED, _S.ACS_AUTH, _S.PENDING}),
    "hold3ds": frozenset({_S.REGISTERED}),
    "pending": frozenset({_S.REGISTERED, _S.ACS_AUTH}),
    "expire": frozenset({_S.REGISTERED, _S.ACS_AUTH}),
}
STAND_IN_PAN = "4242424242424242"
STAND_IN_3DS_PAN = "4000000000003220"


@dataclass(frozen=True)
class Outcome:
    """A validated request (``simulator.control.bank_api`` checks the JSON)."""

    name: OutcomeName
    action_code: int | None = None
    eci: int | None = None
    resolve_after_seconds: float | None = None
    resolve_to: ResolveTo = "paid"
    reported_amount: int | None = None
    """pay: the amount (minor units) the bank's status answers report instead of the registered one."""
    reported_currency: str | None = None
    """pay: the numeric currency the status answers report instead of the registered one."""
    approved_amount: int | None = None
    """pay: a partial authorisation, approved and deposited (less than the order's amount)."""


class OutcomeRefused(Exception):
    """The order's current status does not allow this outcome; ``status`` is that status."""

    def __init__(self, outcome: str, status: OrderStatus) -> None:
        super().__init__(f"orderStatus {int(status)} ({status.name.lower()}) does not allow {outcome}")
        self.status = status


@dataclass(frozen=True)
class OutcomeResult:
    decision: Decision
    previous: OrderStatus
    resolves_at: datetime | None


def apply_outcome(state: SimulatorState, md_order: str, outcome: Outcome) -> OutcomeResult:
    """Decide ``md_order`` as ``outcome`` says. An order whose session is over is expired first (as every read
    does). Raises UnknownBankOrder or OutcomeRefused."""
    if state.bank.get(md_order) is None:
        raise UnknownBankOrder(md_order)
    expire_if_due(state, md_order)
    now = state.clock.now()
    plan: PendingPlan | None = None
    action_code: int | None
    if outcome.name == "pay":
        to, action_code, facts = _S.DEPOSITED, ACTION_APPROVED, _pay(now, outcome)
    elif outcome.name == "decline":
        to, action_code, facts = _S.DECLINED, outcome.action_code, _decline(now, outcome.action_code is None)
    elif outcome.name == "hold3ds":
        to, action_code, facts = _S.ACS_AUTH, None, _hold3ds(now, outcome.eci)
    elif outcome.name == "pending":
        plan = _plan(state, outcome, now)
        to, action_code, facts = _S.PENDING, None, _pending(now, plan)
    else:
        to, action_code, facts = _S.DECLINED, ACTION_SESSION_EXPIRED, _decline(now, False)
    decision = decide(
        state,
        md_order,
        to,
        operation=f"control {outcome.name}",
        now=now,
        action_code=action_code,
        sources=SOURCES[outcome.name],
        facts=facts,
        callback_amount=_callback_amount if outcome.name == "pay" else None,
    )
    if not decision.changed:
        raise OutcomeRefused(outcome.name, decision.transition.previous)
    return OutcomeResult(decision, decision.transition.previous, plan.due if plan is not None else None)


# The facts of each outcome, applied by the writer under the book's lock before the status changes (so
# ``order.order_status`` is still the status the order comes from).

Facts = Callable[[BankOrder], None]


def _pay(now: datetime, outcome: Outcome) -> Facts:
    eci = outcome.eci

    def facts(order: BankOrder) -> None:
        previous = order.order_status
        card = _card(order, STAND_IN_PAN, now)
        card.approval_code = approval_code()
        card.eci = eci if eci is not None else _paid_eci(order, previous)
        if previous is _S.ACS_AUTH:
            card.three_ds_protocol_version = THREE_DS_PROTOCOL_VERSION
        order.auth_at = now
        order.reported_amount = outcome.reported_amount
        order.reported_currency = outcome.reported_currency
        order.partial_amount = outcome.approved_amount

    return facts


def _callback_amount(order: BankOrder) -> int:
    """The ``amount`` of a payment's callback: what the bank reports (``reportedAmount``), else what it took."""
    return order.reported_amount if order.reported_amount is not None else order.authorised_amount


def _decline(now: datetime, default_code: bool) -> Facts:
    def facts(order: BankOrder) -> None:
        if default_code:
            order.action_code = ACTION_3DS_DECLINED if order.order_status is _S.ACS_AUTH else ACTION_GENERIC_DECLINE
        if order.order_status is _S.ACS_AUTH and order.card is not None:
            order.card.eci = None  # no authentication result
        order.auth_at = now

    return facts


def _hold3ds(now: datetime, eci: int | None) -> Facts:
    def facts(order: BankOrder) -> None:
        card = _card(order, STAND_IN_3DS_PAN, now)
        passed_eci = eci if eci is not None else eci_for(card.payment_system, "authenticated")
        order.challenge = Challenge(_S.DEPOSITED, ACTION_APPROVED, passed_eci)
        card.eci = None
        card.three_ds_protocol_version = THREE_DS_PROTOCOL_VERSION
        order.auth_at = now

    return facts


def _plan(state: SimulatorState, outcome: Outcome, now: datetime) -> PendingPlan:
    seconds = outcome.resolve_after_seconds or state.bank.settings.pending_seconds
    if outcome.resolve_to == "paid":
        return PendingPlan(_S.DEPOSITED, ACTION_APPROVED, outcome.eci, now + timedelta(seconds=seconds))
    code = outcome.action_code if outcome.action_code is not None else ACTION_GENERIC_DECLINE
    return PendingPlan(_S.DECLINED, code, None, now + timedelta(seconds=seconds))


def _pending(now: datetime, plan: PendingPlan) -> Facts:
    def facts(order: BankOrder) -> None:
        _card(order, STAND_IN_PAN, now)
        if plan.resolve_to.is_paid and plan.eci is None:
            plan.eci = _paid_eci(order, order.order_status)
        order.pending = plan
        order.auth_at = now

    return facts


def _card(order: BankOrder, pan: str, now: datetime) -> CardAuth:
    """The order's card, or the stand-in test card for an order without a card attempt."""
    if order.card is None:
        order.card = CardAuth(
            masked_pan=mask_pan(pan),
            expiration=f"{now.year + 3:04d}12",
            cardholder_name="TEST CARDHOLDER",
            approval_code="",
            payment_system="VISA",
            eci=eci_for("VISA", "none"),
        )
        order.auth_ref_num = order.auth_ref_num or f"{secrets.randbelow(10**12):012d}"
    return order.card


def _paid_eci(order: BankOrder, previous: OrderStatus) -> int | None:
    """The eci of a payment decided from ``previous``: the challenge's after 3-D Secure, the plan's when pending,
    else the card's (none-3DS by default)."""
    card = order.card
    scheme = card.payment_system if card is not None else "VISA"
    if previous is _S.ACS_AUTH:
        passed = order.challenge.pass_eci if order.challenge is not None else None
        return passed if passed is not None else eci_for(scheme, "authenticated")
    if previous is _S.PENDING and order.pending is not None and order.pending.eci is not None:
        return order.pending.eci
    if card is not None and card.eci is not None:
        return card.eci
    return eci_for(scheme, "none")
