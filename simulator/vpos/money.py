"""What happens to the money after the payment: ``deposit.do``, ``reverse.do``, ``refund.do``, ``decline.do``
(protocols.md 2.4 and 2.9), each one move through ``lifecycle.decide`` (the one writer, then the callback).

=============  ====================  ====================================================================
method         from orderStatus      to (callback)
=============  ====================  ====================================================================
deposit.do     1 (held)              2 (``deposited`` 1, amount = deposited); ``amount=0``: everything held
reverse.do     1; 2 within the       3 (``reversed`` 1); once only; a refunded order (4) is refused
               reverse window
refund.do      2, 4                  4 (``refunded`` 1, amount = the refund); ``amount=0``: all that is left
decline.do     0, 5, 7               6, actionCode unchanged (-100 for an order never paid); no callback
=============  ====================  ====================================================================

Error codes (BPC's tables for these methods): 0 success; 5 access denied, a missing or malformed parameter,
a wrong amount (a deposit above the held amount, a partial deposit the bank does not allow, a partial reverse,
``externalRefundId`` over 32 characters); 6 unknown order; 7 the order is not in a state for the operation
(which includes a second reverse, a reverse after a refund or after the window, a refund above what is left,
an ``expectedDepositedAmount`` different from ``depositedAmount``) and system errors. A refused call changes
nothing and sends nothing.

Every check that depends on the order runs in the writer's guard, under the order book's lock, so two racing
refunds can never together exceed the deposited total. ``refund.do`` with an ``externalRefundId`` the order
already has answers errorCode 0 and changes nothing (the existing refund stands). The bank setting
``failNextRefund`` makes the next accepted refund FAILED: errorCode 0, a FAILED entry in ``refunds[]``, no change
of orderStatus or ``refundedAmount``, a ``refunded`` callback with status 0.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from simulator.errors import RbsError
from simulator.state import SimulatorState
from simulator.vpos.cards import ACTION_ISSUER_UNAVAILABLE
from simulator.vpos.lifecycle import Decision, approval_code, decide
from simulator.vpos.orders import REFUND_APPROVED, REFUND_FAILED, BankOrder, Refund
from simulator.vpos.states import OrderStatus

WRONG_PARAMETER = 5
UNKNOWN_ORDER = 6
WRONG_STATE = 7
MAX_EXTERNAL_REFUND_ID_LENGTH = 32
STATE_MESSAGE = "Payment must be in the correct state"

_S = OrderStatus
DECLINABLE = frozenset({_S.REGISTERED, _S.ACS_AUTH, _S.PENDING})
REFUNDABLE = frozenset({_S.DEPOSITED, _S.REFUNDED})


def _amount(params: Mapping[str, str], *, required: bool) -> int | None:
    """``amount`` in minor units: a non-negative integer (0 means "all"); None when absent and not required."""
    raw = params.get("amount")
    if raw is None or raw == "":
        if required:
            raise RbsError(WRONG_PARAMETER, "[amount] is empty")
        return None
    if not raw.isdigit() or not raw.isascii():
        raise RbsError(WRONG_PARAMETER, "Wrong amount")
    return int(raw)


class _Refusal:
    """The guard's reason for refusing, raised after the writer answered "unchanged"."""

    def __init__(self) -> None:
        self.error: RbsError | None = None

    def refuse(self, code: int, message: str) -> bool:
        self.error = RbsError(code, message)
        return False

    def raise_it(self) -> NoReturn:
        raise self.error or RbsError(WRONG_STATE, STATE_MESSAGE)


# -- deposit.do ---------------------------------------------------------------------------------------------------


def deposit(state: SimulatorState, order: BankOrder, params: Mapping[str, str]) -> Decision:
    """Capture a held order (1 -> 2): ``amount=0`` the whole held amount, less only when the bank's
    ``partialDeposit`` allows it, never more. Raises RbsError (5, 7)."""
    amount = _amount(params, required=True)
    assert amount is not None
    allow_partial = state.bank.settings.partial_deposit
    refusal = _Refusal()
    captured = 0

    def guard(target: BankOrder) -> bool:
        nonlocal captured
        held = target.approved_amount
        captured = held if amount == 0 else amount
        if captured > held:
            return refusal.refuse(WRONG_PARAMETER, "Wrong amount: the deposit exceeds the approved amount")
        if captured < held and not allow_partial:
            return refusal.refuse(WRONG_PARAMETER, "Wrong amount: partial deposit is not allowed")
        return True

    def facts(target: BankOrder) -> None:
        target.deposited = captured

    decision = decide(
        state,
        order.md_order,
        _S.DEPOSITED,
        operation=f"deposit.do amount={amount}",
        sources={_S.APPROVED},
        guard=guard,
        facts=facts,
        callback_amount=lambda target: target.deposited_amount,
    )
    if not decision.changed:
        refusal.raise_it()
    return decision


# -- reverse.do ---------------------------------------------------------------------------------------------------


def reverse(state: SimulatorState, order: BankOrder, params: Mapping[str, str]) -> Decision:
    """Cancel the authorisation (1 or 2 -> 3), once: a deposited order only within the bank's reverse window from
    the payment (virtual clock). ``amount``, when given and not 0, must be the whole amount (no partial reverse).
    Raises RbsError (5, 7)."""
    amount = _amount(params, required=False)
    now = state.clock.now()
    window = timedelta(seconds=state.bank.settings.reverse_window_seconds)
    refusal = _Refusal()
    reversed_amount = 0

    def guard(target: BankOrder) -> bool:
        nonlocal reversed_amount
        reversed_amount = target.deposited_amount or target.approved_amount
        if target.order_status is _S.DEPOSITED and (target.paid_at is None or now - target.paid_at > window):
            return refusal.refuse(WRONG_STATE, "Reversal is impossible: the reverse period is over")
        if amount and amount != reversed_amount:
            return refusal.refuse(WRONG_PARAMETER, "Wrong amount: only the whole amount can be reversed")
        return True

    decision = decide(
        state,
        order.md_order,
        _S.REVERSED,
        operation="reverse.do",
        now=now,
        sources={_S.APPROVED, _S.DEPOSITED},
        guard=guard,
        callback_amount=lambda _target: reversed_amount,
    )
    if not decision.changed:
        if refusal.error is None:
            raise RbsError(WRONG_STATE, "Reversal is impossible for the current state of the order")
        refusal.raise_it()
    return decision


# -- refund.do ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundRequest:
    amount: int
    """0: everything that is left."""
    external_refund_id: str | None
    expected_deposited_amount: int | None


@dataclass(frozen=True)
class RefundResult:
    refund: Refund
    existing: bool
    """True: ``externalRefundId`` named a refund the order already had; nothing changed."""


def parse_refund(params: Mapping[str, str]) -> RefundRequest:
    amount = _amount(params, required=True)
    assert amount is not None
    external = params.get("externalRefundId") or None
    if external is not None and len(external) > MAX_EXTERNAL_REFUND_ID_LENGTH:
        raise RbsError(WRONG_PARAMETER, f"externalRefundId is longer than {MAX_EXTERNAL_REFUND_ID_LENGTH} characters")
    expected_raw = params.get("expectedDepositedAmount")
    expected: int | None = None
    if expected_raw:
        if not expected_raw.isdigit() or not expected_raw.isascii():
            raise RbsError(WRONG_PARAMETER, "Wrong expectedDepositedAmount")
        expected = int(expected_raw)
    return RefundRequest(amount, external, expected)


def _new_refund(amount: int, now: datetime, external: str | None, *, failed: bool) -> Refund:
    return Refund(
        refund_id=str(uuid.uuid4()),
        amount=amount,
        at=now,
        status=REFUND_FAILED if failed else REFUND_APPROVED,
        external_refund_id=external,
        action_code=ACTION_ISSUER_UNAVAILABLE if failed else 0,
        approval_code="" if failed else approval_code(),
        reference_number=f"{secrets.randbelow(10**12):012d}",
    )


def _refund_amount(target: BankOrder, request: RefundRequest, refusal: _Refusal, found: list[Refund]) -> int | None:
    """Check ``request`` against ``target`` (under the lock): the amount to refund, or None when refused
    (``refusal`` says why) or when the externalRefundId already exists (put into ``found``)."""
    if request.external_refund_id is not None:
        for refund in target.refunds:
            if refund.external_refund_id == request.external_refund_id:
                found.append(refund)
                return None
    if target.order_status not in REFUNDABLE:
        refusal.refuse(WRONG_STATE, STATE_MESSAGE)
        return None
    if request.expected_deposited_amount is not None and (request.expected_deposited_amount != target.deposited_amount):
        refusal.refuse(WRONG_STATE, "expectedDepositedAmount differs from the deposited amount")
        return None
    left = target.refundable_amount
    amount = left if request.amount == 0 else request.amount
    if amount <= 0:
        refusal.refuse(WRONG_STATE, "Nothing left to refund")
        return None
    if amount > left:
        refusal.refuse(WRONG_STATE, "Refund amount exceeds the deposited amount")
        return None
    return amount


def refund(state: SimulatorState, order: BankOrder, params: Mapping[str, str]) -> RefundResult:
    """Refund (2 or 4 -> 4), partially and repeatedly, never above the deposited total. Raises RbsError (5, 7)."""
    request = parse_refund(params)
    now = state.clock.now()
    refusal = _Refusal()
    found: list[Refund] = []
    made: list[Refund] = []

    def fail_instead(target: BankOrder) -> bool:
        """Under the lock: with ``failNextRefund`` set, the refund is checked like any other, then recorded FAILED
        without a status change (and the setting is used up). False: not this path."""
        if not state.bank.settings.fail_next_refund:
            return False
        amount = _refund_amount(target, request, refusal, found)
        if amount is not None:
            state.bank.settings.fail_next_refund = False
            made.append(_new_refund(amount, now, request.external_refund_id, failed=True))
            target.refunds.append(made[-1])
            _note_failed_refund(target, made[-1], now)
        return True

    _, failing = state.bank.update(order.md_order, fail_instead)
    if not failing:

        def guard(target: BankOrder) -> bool:
            amount = _refund_amount(target, request, refusal, found)
            if amount is None:
                return False
            made.append(_new_refund(amount, now, request.external_refund_id, failed=False))
            return True

        def facts(target: BankOrder) -> None:
            target.refunds.append(made[-1])

        decide(
            state,
            order.md_order,
            _S.REFUNDED,
            operation=f"refund.do amount={request.amount}",
            now=now,
            sources=REFUNDABLE,
            guard=guard,
            facts=facts,
            callback_amount=lambda _target: made[-1].amount,
        )
    if found:
        return RefundResult(found[0], existing=True)
    if not made:
        refusal.raise_it()
    if failing:
        state.callbacks.dispatch(order, "refunded", 0, now, amount=made[-1].amount)
    return RefundResult(made[-1], existing=False)


def _note_failed_refund(order: BankOrder, refund_record: Refund, now: datetime) -> None:
    order.operations.append(
        {
            "operation": f"refund.do failed refundId={refund_record.refund_id}",
            "at": int(now.timestamp() * 1000),
            "from": int(order.order_status),
            "orderStatus": int(order.order_status),
            "actionCode": order.action_code,
        }
    )


# -- decline.do ---------------------------------------------------------------------------------------------------


def decline(state: SimulatorState, order: BankOrder) -> Decision:
    """Cancel an order that is not completed (0, 5, 7 -> 6); a completed one is refused with 7."""
    decision = decide(
        state,
        order.md_order,
        _S.DECLINED,
        operation="decline.do",
        sources=DECLINABLE,
        send_callback=False,
    )
    if not decision.changed:
        raise RbsError(WRONG_STATE, "The order is in an incorrect state")
    return decision
