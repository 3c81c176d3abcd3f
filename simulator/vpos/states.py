"""The bank order's state machine: RBS ``orderStatus`` (protocols.md 2.5 and 2.9) and its ONE transition table.

::

    REGISTERED 0 --card--> DEPOSITED 2 (paid) | DECLINED 6 | APPROVED 1 (held, two-phase)
         |  \\--challenge card--> ACS_AUTH 5 (3-D Secure at the issuer's ACS) --> 2 | 1 | 6 | 7
         \\----pending card----> PENDING 7 (the issuer decides later) ----------> 2 | 1 | 6
    APPROVED 1 --> DEPOSITED 2 | PARTLY_DEPOSITED 8 | REVERSED 3
    PARTLY_DEPOSITED 8 --> DEPOSITED 2 | PARTLY_DEPOSITED 8 | REFUNDED 4
    DEPOSITED 2 --> REFUNDED 4 | REVERSED 3;  REFUNDED 4 --> REFUNDED 4 (another partial refund)
    DECLINED 6, REVERSED 3: final

A two-phase order (``registerPreAuth.do``) is held (1) where a one-phase order is paid (2): the writer makes that
substitution. The money methods (``simulator.vpos.money``) use the rows after payment: deposit.do 1 -> 2,
reverse.do 1 | 2 -> 3 (once: 3 is final; a refunded order 4 can no longer be reversed), refund.do 2 | 4 -> 4,
decline.do 0 | 5 | 7 -> 6.

3-D Secure and pending are states, not special cases: an order in 5 or 7 waits for an answer (the customer at the
ACS page, the issuer, a scheduled job or the control API) that moves it on through the same table. Nothing ever
goes back to REGISTERED. The only writer of an order's status is ``BankOrderBook.transition``, which reads this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum


class OrderStatus(IntEnum):
    """RBS ``orderStatus``; an ``int``, so it serialises as the bank's number."""

    REGISTERED = 0
    """Registered, not paid."""
    APPROVED = 1
    """Pre-authorised: the amount is held (two-phase)."""
    DEPOSITED = 2
    """Paid."""
    REVERSED = 3
    """The authorisation was cancelled."""
    REFUNDED = 4
    """Refunded (also after a partial refund)."""
    ACS_AUTH = 5
    """3-D Secure in progress at the issuer's ACS."""
    DECLINED = 6
    """Declined (card, 3-D Secure, timeout)."""
    PENDING = 7
    """Pending payment: the issuer has not answered yet."""
    PARTLY_DEPOSITED = 8
    """Intermediate completion: part of the held amount was deposited."""

    @property
    def payment_state(self) -> str:
        """``paymentAmountInfo.paymentState``: CREATED / APPROVED / DEPOSITED / DECLINED / REVERSED / REFUNDED."""
        return _PAYMENT_STATES[self]

    @property
    def is_paid(self) -> bool:
        """Money was taken (held or deposited), whatever happened to it later."""
        return self in (OrderStatus.APPROVED, OrderStatus.DEPOSITED, OrderStatus.PARTLY_DEPOSITED)


_PAYMENT_STATES: Mapping[OrderStatus, str] = {
    OrderStatus.REGISTERED: "CREATED",
    OrderStatus.APPROVED: "APPROVED",
    OrderStatus.DEPOSITED: "DEPOSITED",
    OrderStatus.REVERSED: "REVERSED",
    OrderStatus.REFUNDED: "REFUNDED",
    OrderStatus.ACS_AUTH: "CREATED",
    OrderStatus.DECLINED: "DECLINED",
    OrderStatus.PENDING: "CREATED",
    OrderStatus.PARTLY_DEPOSITED: "DEPOSITED",
}

_S = OrderStatus
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    _S.REGISTERED: frozenset({_S.APPROVED, _S.DEPOSITED, _S.ACS_AUTH, _S.DECLINED, _S.PENDING}),
    _S.ACS_AUTH: frozenset({_S.APPROVED, _S.DEPOSITED, _S.DECLINED, _S.PENDING}),
    _S.PENDING: frozenset({_S.APPROVED, _S.DEPOSITED, _S.DECLINED}),
    _S.APPROVED: frozenset({_S.DEPOSITED, _S.PARTLY_DEPOSITED, _S.REVERSED}),
    _S.PARTLY_DEPOSITED: frozenset({_S.DEPOSITED, _S.PARTLY_DEPOSITED, _S.REFUNDED}),
    _S.DEPOSITED: frozenset({_S.REFUNDED, _S.REVERSED}),
    _S.REFUNDED: frozenset({_S.REFUNDED}),
    _S.REVERSED: frozenset(),
    _S.DECLINED: frozenset(),
}
"""Allowed targets per current status; a target listed for itself is an operation that keeps the status."""

FINAL: frozenset[OrderStatus] = frozenset(status for status, targets in TRANSITIONS.items() if not targets)
AWAITING_CUSTOMER: frozenset[OrderStatus] = frozenset({_S.REGISTERED, _S.ACS_AUTH})
"""The customer still has to act (card page, ACS page): the bank session can expire (actionCode -2007)."""


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[current]
