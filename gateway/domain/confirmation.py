"""What a provider's order status means for an attempt: the pure decision behind every confirmation.

The customer return, callbacks, the poller and the stale-registration recovery all end here, so "paid" is decided
in exactly one place: orderStatus 2 (or 1, held, in two-phase) AND amount AND currency equal to what we
registered. A refund is full or partial by the bank's amounts (``paymentAmountInfo``), never by orderStatus 4
alone, which the bank also reports after a partial refund (protocols.md 2.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.states import AttemptStatus

S = AttemptStatus

# RBS orderStatus (protocols.md 2.5) -> target, where the target does not depend on amounts or the current state.
ORDER_STATUS_TARGETS: dict[int, AttemptStatus | None] = {
    0: None,  # registered, not paid yet: nothing to change
    1: S.AUTHORIZED,
    2: S.PAID,
    5: S.AUTHENTICATING,
    6: S.DECLINED,
    7: S.PENDING,
}
PARTIAL_COMPLETION_STATUS = 8
REVERSED_STATUS = 3
REFUNDED_STATUS = 4
DECLINE_BY_TIMEOUT_CODES = frozenset({"-2007", "1001"})


@dataclass(frozen=True)
class ProviderRefund:
    """One entry of the bank's ``refunds[]`` (response version 5+; ``externalRefundId`` from version 21)."""

    amount_minor: int | None
    external_refund_id: str | None = None
    bank_refund_id: str | None = None
    succeeded: bool = True  # False: the bank accepted the request, then the refund failed


@dataclass(frozen=True)
class ProviderStatus:
    """The parts of getOrderStatusExtended a decision needs. Amounts are minor units; ``None`` when the bank's
    response version does not carry them (protocols.md 2.9)."""

    order_status: int
    action_code: str
    amount_minor: int | None
    currency_numeric: str | None
    order_number: str | None = None
    masked_pan: str | None = None
    deposited_minor: int | None = None
    refunded_minor: int | None = None
    provider_order_id: str | None = None  # mdOrder, when the answer names it (lookups by orderNumber)
    approved_minor: int | None = None
    payment_state: str | None = None  # paymentAmountInfo.paymentState (CREATED / APPROVED / DEPOSITED / ...)
    refunds: tuple[ProviderRefund, ...] | None = None  # None: this response version has no refunds[]


@dataclass(frozen=True)
class Decision:
    target: AttemptStatus | None
    exception_code: str | None = None
    detail: str = ""
    refunded_minor: int | None = None


def decide(
    status: ProviderStatus,
    *,
    amount_minor: int,
    currency_numeric: str,
    current: AttemptStatus = S.REGISTERED,
    session_over: bool = False,
    expected_deposit_minor: int | None = None,
) -> Decision:
    """Map a provider status to the attempt's target state, or to an operator exception.

    Never returns PAID/AUTHORIZED when amount or currency differ from the registered ones, nor when the bank
    held (``approvedAmount``) or took (``depositedAmount``) another sum than the registered amount, or than
    ``expected_deposit_minor`` after a partial capture we asked for (a partial authorisation is never PAID).
    ``session_over``: our clock says the bank page's session has ended, so an order the bank still reports as
    merely registered (0) can no longer be paid and expires.
    """
    code = status.order_status
    if code == REVERSED_STATUS:
        # A hold released (cancelled, also when we already know it) or a payment given back (reversed).
        return Decision(S.CANCELLED if current in (S.AUTHORIZED, S.CANCELLED) else S.REVERSED)
    if code == REFUNDED_STATUS:
        return _refund_decision(status, amount_minor)
    if code == PARTIAL_COMPLETION_STATUS:
        # Part of a held amount deposited, more may follow: a partial payment is never PAID; a person decides.
        return Decision(None, "partial_completion", f"orderStatus 8, deposited {status.deposited_minor}")
    if code not in ORDER_STATUS_TARGETS:
        return Decision(None, "unknown_order_status", f"orderStatus {code}")
    target = ORDER_STATUS_TARGETS[code]
    if target in (S.PAID, S.AUTHORIZED) and (
        status.amount_minor != amount_minor or status.currency_numeric != currency_numeric
    ):
        return Decision(
            None,
            "amount_mismatch",
            f"bank reports {status.amount_minor} {status.currency_numeric}, "
            f"registered {amount_minor} {currency_numeric}",
        )
    moved = _moved_amount_problem(status, target, amount_minor, expected_deposit_minor)
    if moved:
        return Decision(None, "amount_mismatch", moved)
    if target is S.DECLINED and status.action_code in DECLINE_BY_TIMEOUT_CODES:
        return Decision(S.EXPIRED)
    if target is None and session_over:
        return Decision(S.EXPIRED)
    return Decision(target)


def _moved_amount_problem(
    status: ProviderStatus, target: AttemptStatus | None, amount_minor: int, expected_deposit_minor: int | None
) -> str:
    """What is wrong with the amount the bank actually held or took, or "" when it is what we expect."""
    if target is S.AUTHORIZED and status.approved_minor is not None and status.approved_minor != amount_minor:
        return f"bank holds {status.approved_minor}, registered {amount_minor} (partial authorisation)"
    expected = expected_deposit_minor if expected_deposit_minor is not None else amount_minor
    if target is S.PAID and status.deposited_minor is not None and status.deposited_minor != expected:
        return f"bank deposited {status.deposited_minor}, expected {expected}"
    return ""


def _refund_decision(status: ProviderStatus, amount_minor: int) -> Decision:
    refunded = status.refunded_minor
    if refunded is None or refunded <= 0:
        return Decision(None, "refund_amount_unknown", "bank reports orderStatus 4 without a refunded amount")
    # The deposited amount is what can be refunded; older response versions lack it: the registered amount was
    # verified as paid, so it stands in.
    base = status.deposited_minor if status.deposited_minor else amount_minor
    target = S.REFUNDED if refunded >= base else S.PARTIALLY_REFUNDED
    return Decision(target, refunded_minor=refunded)


# Callback operations (protocols.md 2.8) -> attempt states in which that news is already accounted for.
_ACCOUNTED_FOR: dict[str, frozenset[AttemptStatus]] = {
    "approved": frozenset({S.AUTHORIZED, S.PAID, S.CANCELLED, S.PARTIALLY_REFUNDED, S.REFUNDED, S.REVERSED}),
    "deposited": frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED, S.REVERSED}),
    "reversed": frozenset({S.REVERSED, S.CANCELLED}),
    "refunded": frozenset({S.REFUNDED}),
    "declinedbytimeout": frozenset(
        {S.DECLINED, S.EXPIRED, S.REGISTER_FAILED, S.CANCELLED, S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED, S.REVERSED}
    ),
}


def callback_is_news(operation: str, current: AttemptStatus) -> bool:
    """Whether a (verified) callback could change what we know, so it is worth a status query at the bank.

    A replayed ``deposited`` for an attempt already paid changes nothing and costs no bank call; a ``refunded`` for
    a paid attempt, or any operation we do not know, still asks the bank. ``deposited`` for a declined or expired
    attempt asks too: money on a closed attempt must be found.
    """
    accounted = _ACCOUNTED_FOR.get(operation.strip().lower())
    return accounted is None or current not in accounted
