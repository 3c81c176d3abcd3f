"""Payment attempt states, the one transition table, and the Ecwid status projection.

An attempt is one bank order. ``registering`` exists only between our INSERT and the bank's answer, so a
concurrent duplicate request can see that an attempt is on its way. Final states never change again: a late
"declined" after "paid" is ignored (logged by the caller).

    registering -> registered | register_failed
    registered -> authenticating | pending | authorized | paid | declined | expired
    authenticating -> pending | authorized | paid | declined | expired
    pending -> authorized | paid | declined | expired
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
    AUTHENTICATING = "authenticating"  # orderStatus 5: 3-D Secure at the issuer's ACS
    PENDING = "pending"  # orderStatus 7: the bank keeps the payment pending
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
    S.REGISTERED: frozenset({S.AUTHENTICATING, S.PENDING, S.AUTHORIZED, S.PAID, S.DECLINED, S.EXPIRED}),
    S.AUTHENTICATING: frozenset({S.PENDING, S.AUTHORIZED, S.PAID, S.DECLINED, S.EXPIRED}),
    S.PENDING: frozenset({S.AUTHORIZED, S.PAID, S.DECLINED, S.EXPIRED}),
    S.AUTHORIZED: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED, S.REVERSED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
}

OPEN_STATES = frozenset({S.REGISTERING, S.REGISTERED, S.AUTHENTICATING, S.PENDING})
"""States in which the customer may still pay this attempt; at most one per session (a DB constraint)."""

WAITING_STATES = frozenset({S.AUTHENTICATING, S.PENDING})
"""The bank has the customer's payment in hand but has not decided: nothing may tell Ecwid "paid" yet."""

SETTLED_PAID_STATES = frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED, S.REVERSED})


class RefundStatus(StrEnum):
    """A refund of ours (one ``refund.do`` with our ``externalRefundId``). Only the bank's ``refunds[]`` makes one
    final: errorCode 0 from refund.do proves only that the bank took the request (protocols.md 2.9).

        requested -> accepted | completed | refused | failed | unknown
        accepted -> completed | failed
        unknown -> accepted | completed | refused | failed

    ``requested``: written before the bank call (a crash after it leaves a row to retry with the same id);
    ``unknown``: the call got no clear answer; a retry sends the same ``externalRefundId``, so it refunds once.
    """

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    UNKNOWN = "unknown"
    COMPLETED = "completed"
    REFUSED = "refused"
    FAILED = "failed"


R = RefundStatus

REFUND_TRANSITIONS: dict[RefundStatus, frozenset[RefundStatus]] = {
    R.REQUESTED: frozenset({R.ACCEPTED, R.COMPLETED, R.REFUSED, R.FAILED, R.UNKNOWN}),
    R.UNKNOWN: frozenset({R.ACCEPTED, R.COMPLETED, R.REFUSED, R.FAILED}),
    R.ACCEPTED: frozenset({R.COMPLETED, R.FAILED}),
}

OPEN_REFUND_STATES = frozenset({R.REQUESTED, R.UNKNOWN, R.ACCEPTED})
"""Refunds whose money may still leave: counted against what is left to refund."""


def refund_sources(target: RefundStatus) -> frozenset[RefundStatus]:
    return frozenset(src for src, targets in REFUND_TRANSITIONS.items() if target in targets)


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


def project_ecwid_status(statuses: list[AttemptStatus], *, released: bool = False) -> EcwidStatus:
    """The Ecwid status of a session, from its attempts' statuses (oldest first).

    A paid attempt wins over anything else (another attempt's decline must not hide a payment); otherwise the
    latest attempt speaks: money held (two-phase) -> AWAITING_PAYMENT; still waiting at the bank (3-D Secure,
    pending) -> AWAITING_PAYMENT only once the customer has been ``released`` to the store after waiting on our
    processing page (never earlier: no fulfillment signal before the bank decides); anything else -> INCOMPLETE so
    the customer keeps the cart and can retry.
    """
    for settled, ecwid in (
        (S.REFUNDED, EcwidStatus.REFUNDED),
        (S.PARTIALLY_REFUNDED, EcwidStatus.PARTIALLY_REFUNDED),
        (S.REVERSED, EcwidStatus.CANCELLED),
        (S.PAID, EcwidStatus.PAID),
    ):
        if settled in statuses:
            return ecwid
    if statuses and (statuses[-1] is S.AUTHORIZED or (statuses[-1] in WAITING_STATES and released)):
        return EcwidStatus.AWAITING_PAYMENT
    if statuses and statuses[-1] is S.CANCELLED:
        return EcwidStatus.CANCELLED
    return EcwidStatus.INCOMPLETE
