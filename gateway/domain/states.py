"""Payment attempt states, the one transition table, and the Ecwid status projection.

An attempt is one bank order. ``registering`` exists only between our INSERT and the bank's answer, so a
concurrent duplicate request can see that an attempt is on its way. Final states never change again: a late
"declined" after "paid" is ignored (logged by the caller).

    registering -> registered | register_failed
    registered -> authenticating | authorized | paid | declined | expired
    authenticating -> authorized | paid | declined | expired
    authorized -> paid | cancelled
    paid -> partially_refunded | refunded | reversed
    partially_refunded -> partially_refunded | refunded
"""

from __future__ import annotations

from enum import StrEnum


class AttemptStatus(StrEnum):
    REGISTERING = "registering"
    REGISTER_FAILED = "register_failed"
    REGISTERED = "registered"
    AUTHENTICATING = "authenticating"
    AUTHORIZED = "authorized"
    PAID = "paid"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REVERSED = "reversed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


S = AttemptStatus

TRANSITIONS: dict[AttemptStatus, frozenset[AttemptStatus]] = {
    S.REGISTERING: frozenset({S.REGISTERED, S.REGISTER_FAILED}),
    S.REGISTERED: frozenset({S.AUTHENTICATING, S.AUTHORIZED, S.PAID, S.DECLINED, S.EXPIRED}),
    S.AUTHENTICATING: frozenset({S.AUTHORIZED, S.PAID, S.DECLINED, S.EXPIRED}),
    S.AUTHORIZED: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED, S.REVERSED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
}

OPEN_STATES = frozenset({S.REGISTERING, S.REGISTERED, S.AUTHENTICATING})
"""States in which the customer may still pay this attempt; at most one per session (a DB constraint)."""

SETTLED_PAID_STATES = frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED, S.REVERSED})


def allowed_sources(target: AttemptStatus) -> frozenset[AttemptStatus]:
    """Every state from which ``target`` may be reached: the WHERE clause of a compare-and-set update."""
    return frozenset(src for src, targets in TRANSITIONS.items() if target in targets)


def can_transition(current: AttemptStatus, target: AttemptStatus) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def is_final(status: AttemptStatus) -> bool:
    return status not in TRANSITIONS


class EcwidStatus(StrEnum):
    """Ecwid ``paymentStatus`` values this gateway sends (protocols.md 1.3)."""

    PAID = "PAID"
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    INCOMPLETE = "INCOMPLETE"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


def project_ecwid_status(statuses: list[AttemptStatus]) -> EcwidStatus:
    """The Ecwid status of a session, from its attempts' statuses (oldest first).

    A paid attempt wins over anything else (another attempt's decline must not hide a payment); otherwise the
    latest attempt speaks: still at the bank's 3-D Secure -> AWAITING_PAYMENT, anything else -> INCOMPLETE so the
    customer keeps the cart and can retry.
    """
    for settled, ecwid in (
        (S.REFUNDED, EcwidStatus.REFUNDED),
        (S.PARTIALLY_REFUNDED, EcwidStatus.PARTIALLY_REFUNDED),
        (S.REVERSED, EcwidStatus.CANCELLED),
        (S.PAID, EcwidStatus.PAID),
    ):
        if settled in statuses:
            return ecwid
    if statuses and statuses[-1] in (S.AUTHENTICATING, S.AUTHORIZED):
        return EcwidStatus.AWAITING_PAYMENT
    if statuses and statuses[-1] is S.CANCELLED:
        return EcwidStatus.CANCELLED
    return EcwidStatus.INCOMPLETE
