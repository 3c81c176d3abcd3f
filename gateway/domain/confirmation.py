"""What a provider's order status means for an attempt: the pure decision behind every confirmation.

The customer return, callbacks and the poller all end here, so "paid" is decided in exactly one place:
orderStatus 2 (or 1, held, in two-phase) AND amount AND currency equal to what we registered.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.states import AttemptStatus

# RBS orderStatus (protocols.md 2.5). 3/4 come after a payment and belong to refunds, not to confirmation.
ORDER_STATUS_TARGETS: dict[int, AttemptStatus | None] = {
    0: None,  # registered, not paid yet: nothing to change
    1: AttemptStatus.AUTHORIZED,
    2: AttemptStatus.PAID,
    3: AttemptStatus.REVERSED,
    4: AttemptStatus.REFUNDED,
    5: AttemptStatus.AUTHENTICATING,
    6: AttemptStatus.DECLINED,
}
DECLINE_BY_TIMEOUT_CODES = frozenset({"-2007", "1001"})


@dataclass(frozen=True)
class ProviderStatus:
    """The parts of getOrderStatusExtended a decision needs."""

    order_status: int
    action_code: str
    amount_minor: int | None
    currency_numeric: str | None
    order_number: str | None = None
    masked_pan: str | None = None


@dataclass(frozen=True)
class Decision:
    target: AttemptStatus | None
    exception_code: str | None = None
    detail: str = ""


def decide(status: ProviderStatus, *, amount_minor: int, currency_numeric: str) -> Decision:
    """Map a provider status to the attempt's target state, or to an operator exception.

    Never returns PAID/AUTHORIZED when amount or currency differ from the registered ones.
    """
    if status.order_status not in ORDER_STATUS_TARGETS:
        return Decision(None, "unknown_order_status", f"orderStatus {status.order_status}")
    target = ORDER_STATUS_TARGETS[status.order_status]
    if target in (AttemptStatus.PAID, AttemptStatus.AUTHORIZED) and (
        status.amount_minor != amount_minor or status.currency_numeric != currency_numeric
    ):
        return Decision(
            None,
            "amount_mismatch",
            f"bank reports {status.amount_minor} {status.currency_numeric}, "
            f"registered {amount_minor} {currency_numeric}",
        )
    if target is AttemptStatus.DECLINED and status.action_code in DECLINE_BY_TIMEOUT_CODES:
        return Decision(AttemptStatus.EXPIRED)
    return Decision(target)
