"""Daily reconciliation, the pure part (RC-28): do the gateway, the bank and Ecwid agree, and what to do when not.

No I/O here: ``gateway.services.reconcile`` gathers the facts (database rows, the bank's status of record, Ecwid's
order) into the plain values below, and ``compare_session`` turns one payment session into report rows.

Per attempt (one bank order) the bank is compared with the gateway: states, the registered amount and currency, the
refunded amount, the operator exceptions still open. Per session (one Ecwid order, one status in Ecwid) Ecwid is
compared with the gateway once, on the row of the session's latest attempt: its ``paymentStatus`` with the status the
gateway projected (``session.ecwid_status``), its ``total`` with the session amount; and a session with money taken
by two attempts is a double charge. Every finding has a stable code and says what a person should do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from gateway.domain.confirmation import ProviderStatus
from gateway.domain.money import CURRENCIES, Money, MoneyError
from gateway.domain.states import AttemptStatus

S = AttemptStatus


class FindingCode(StrEnum):
    OK = "ok"
    BANK_PAID_GATEWAY_NOT = "bank_paid_gateway_not"
    GATEWAY_PAID_BANK_NOT = "gateway_paid_bank_not"
    STATE_MISMATCH = "state_mismatch"
    BANK_AMOUNT_MISMATCH = "bank_amount_mismatch"
    REFUND_MISMATCH = "refund_mismatch"
    ECWID_STATUS_MISMATCH = "ecwid_status_mismatch"
    ECWID_TOTAL_MISMATCH = "ecwid_total_mismatch"
    DOUBLE_CHARGE = "double_charge"
    OPEN_EXCEPTION = "open_exception"
    BANK_UNCHECKED = "bank_unchecked"
    ECWID_UNCHECKED = "ecwid_unchecked"


F = FindingCode

ACTIONS: dict[FindingCode, str] = {
    F.OK: "nothing to do",
    F.BANK_PAID_GATEWAY_NOT: (
        "the bank has the money: confirm the attempt from the operator console (a status check applies the bank's "
        "answer); if the order is already paid by another attempt, refund this one"
    ),
    F.GATEWAY_PAID_BANK_NOT: (
        "the gateway counts money the bank does not hold: confirm the attempt from the operator console and do not "
        "ship the order until the bank shows it paid"
    ),
    F.STATE_MISMATCH: "confirm the attempt from the operator console so the gateway takes the bank's status",
    F.BANK_AMOUNT_MISMATCH: (
        "the bank's amount or currency is not what was registered: do not ship; check the order at the bank and "
        "refund or reverse it from the operator console"
    ),
    F.REFUND_MISMATCH: (
        "refunds differ between bank and gateway: confirm the attempt from the operator console, then check the "
        "refunds at the bank before refunding anything again"
    ),
    F.ECWID_STATUS_MISMATCH: "retry the Ecwid update from the operator console",
    F.ECWID_TOTAL_MISMATCH: (
        "the Ecwid order total is not the amount paid: check the order in Ecwid (edited after payment?) and settle "
        "the difference with the customer"
    ),
    F.DOUBLE_CHARGE: (
        "the customer paid more than once for one order: keep one payment and refund or reverse the others from the "
        "operator console"
    ),
    F.OPEN_EXCEPTION: "already known: resolve the open operator exception in the operator console",
    F.BANK_UNCHECKED: "could not check the bank: rerun the reconciliation",
    F.ECWID_UNCHECKED: "could not check Ecwid: rerun the reconciliation (a 403 means the store's token needs renewal)",
}

# Bank orderStatus (protocols.md 2.5, 2.9) -> gateway states that agree with it.
_OPEN_OR_GONE = frozenset({S.REGISTERING, S.REGISTERED, S.AUTHENTICATING, S.PENDING, S.EXPIRED})
EXPECTED_STATES: dict[int, frozenset[AttemptStatus]] = {
    0: frozenset({S.REGISTERING, S.REGISTERED, S.EXPIRED, S.REGISTER_FAILED, S.DECLINED}),
    1: frozenset({S.AUTHORIZED}),
    2: frozenset({S.PAID}),
    3: frozenset({S.CANCELLED, S.REVERSED}),
    4: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    5: _OPEN_OR_GONE,
    6: frozenset({S.DECLINED, S.EXPIRED}),
    7: _OPEN_OR_GONE,
    8: frozenset({S.AUTHORIZED}),  # partial completion: an operator exception is already open for it
}
BANK_PAID = frozenset({1, 2})
GATEWAY_PAID = frozenset({S.AUTHORIZED, S.PAID})
MONEY_HELD = frozenset({S.AUTHORIZED, S.PAID, S.PARTIALLY_REFUNDED})
"""Gateway states in which the customer's money stays with the shop (for the double-charge check)."""


@dataclass(frozen=True)
class Finding:
    code: FindingCode
    detail: str = ""

    @property
    def action(self) -> str:
        return ACTIONS[self.code]


@dataclass(frozen=True)
class SessionFacts:
    session_id: int
    store_id: int
    reference_transaction_id: str
    ecwid_order_id: str
    amount_minor: int
    currency: str
    ecwid_status: str  # what the gateway projected and queued for Ecwid


@dataclass(frozen=True)
class OpenException:
    id: int
    code: str
    detail: str


@dataclass(frozen=True)
class AttemptFacts:
    attempt_id: int
    attempt_no: int
    order_number: str
    provider_order_id: str
    status: AttemptStatus
    amount_minor: int
    currency: str
    refunded_minor: int | None = None
    deposited_minor: int | None = None
    open_exceptions: tuple[OpenException, ...] = ()


@dataclass(frozen=True)
class BankView:
    """The bank's status of record, or why it could not be read (error class and message, no secrets)."""

    status: ProviderStatus | None = None
    error: str | None = None


@dataclass(frozen=True)
class EcwidView:
    """Ecwid's order (``paymentStatus`` and ``total`` in major units), or why it could not be read."""

    payment_status: str | None = None
    total: object = None
    error: str | None = None


@dataclass(frozen=True)
class AttemptCase:
    attempt: AttemptFacts
    bank: BankView


@dataclass(frozen=True)
class SessionCase:
    session: SessionFacts
    attempts: tuple[AttemptCase, ...]  # oldest first; only attempts with a bank order
    ecwid: EcwidView


@dataclass(frozen=True)
class Row:
    """One attempt in the report. ``ecwid_payment_status`` is set only on the session's latest attempt: Ecwid has
    one status per order, so the per-session comparison (and its findings) appears once."""

    store_id: int
    ecwid_order_id: str
    reference_transaction_id: str
    order_number: str
    provider_order_id: str
    attempt_no: int
    amount_minor: int
    currency: str
    gateway_state: str
    bank_state: str
    ecwid_payment_status: str | None
    compared_with_ecwid: bool
    findings: tuple[Finding, ...]

    @property
    def agrees(self) -> bool:
        return not self.findings

    @property
    def amount(self) -> str:
        return format_minor(self.amount_minor, self.currency)


@dataclass(frozen=True)
class Reconciliation:
    day: date
    timezone: str
    started_at: datetime
    finished_at: datetime
    rows: tuple[Row, ...] = field(default_factory=tuple)

    @property
    def mismatches(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if not r.agrees)

    @property
    def agreeing(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.agrees)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def counts(self) -> dict[str, int]:
        """Attempts checked, agreeing, with findings, and findings by code (stable order)."""
        by_code = Counter(f.code for r in self.rows for f in r.findings)
        counts = {"attempts": len(self.rows), "agreeing": len(self.agreeing), "mismatching": len(self.mismatches)}
        counts.update({code.value: by_code[code] for code in FindingCode if code is not F.OK and by_code[code]})
        return counts


def format_minor(amount_minor: int | None, currency: str) -> str:
    if amount_minor is None:
        return ""
    exponent = CURRENCIES.get(currency, ("", 2))[1]
    return f"{Decimal(amount_minor).scaleb(-exponent):.{exponent}f} {currency}"


def bank_state(bank: BankView) -> str:
    """``orderStatus`` and ``paymentState`` as one cell, e.g. ``2 DEPOSITED``; ``unknown`` when not read."""
    if bank.status is None:
        return "unknown"
    return f"{bank.status.order_status} {bank.status.payment_state or ''}".strip()


def bank_refunded_minor(status: ProviderStatus) -> int | None:
    """What the bank says was refunded: ``paymentAmountInfo.refundedAmount``, else the sum of succeeded
    ``refunds[]``; None when this response version carries neither."""
    if status.refunded_minor is not None:
        return status.refunded_minor
    if status.refunds is not None:
        return sum(r.amount_minor or 0 for r in status.refunds if r.succeeded)
    return None


def compare_attempt(attempt: AttemptFacts, bank: BankView) -> list[Finding]:
    """The bank against the gateway for one attempt (no Ecwid here). Never calls anything."""
    findings = [Finding(F.OPEN_EXCEPTION, f"#{e.id} {e.code}: {e.detail}") for e in attempt.open_exceptions]
    if bank.status is None:
        return [Finding(F.BANK_UNCHECKED, bank.error or "no answer"), *findings]
    status = bank.status
    code = status.order_status
    gateway = attempt.status
    registered_numeric = CURRENCIES.get(attempt.currency, ("", 0))[0]
    amount_differs = (status.amount_minor is not None and status.amount_minor != attempt.amount_minor) or (
        status.currency_numeric is not None and status.currency_numeric != registered_numeric
    )
    own = []
    if amount_differs:
        own.append(
            Finding(
                F.BANK_AMOUNT_MISMATCH,
                f"bank has {status.amount_minor} {status.currency_numeric}, "
                f"registered {attempt.amount_minor} {registered_numeric} ({attempt.currency})",
            )
        )
    if code in BANK_PAID and gateway not in GATEWAY_PAID:
        if not amount_differs:  # a wrong amount is rightly not paid: the amount finding says what to do
            own.append(Finding(F.BANK_PAID_GATEWAY_NOT, f"bank orderStatus {code}, gateway {gateway.value}"))
    elif gateway in GATEWAY_PAID and code not in BANK_PAID:
        own.append(Finding(F.GATEWAY_PAID_BANK_NOT, f"gateway {gateway.value}, bank orderStatus {code}"))
    elif gateway not in EXPECTED_STATES.get(code, frozenset()):
        own.append(Finding(F.STATE_MISMATCH, f"gateway {gateway.value}, bank orderStatus {code}"))
    bank_refunded = bank_refunded_minor(status)
    ours = attempt.refunded_minor or 0
    if bank_refunded is not None and bank_refunded != ours:
        own.append(Finding(F.REFUND_MISMATCH, f"bank refunded {bank_refunded}, gateway {ours}"))
    return own + findings


def compare_ecwid(session: SessionFacts, ecwid: EcwidView) -> list[Finding]:
    """Ecwid's order against the gateway's session: the status it should show, and the total."""
    if ecwid.error is not None:
        return [Finding(F.ECWID_UNCHECKED, ecwid.error)]
    findings = []
    if ecwid.payment_status != session.ecwid_status:
        findings.append(
            Finding(F.ECWID_STATUS_MISMATCH, f"gateway says {session.ecwid_status}, Ecwid shows {ecwid.payment_status}")
        )
    total_minor: int | None = None
    if isinstance(ecwid.total, int | float | str | Decimal):
        try:
            total_minor = Money.from_major(ecwid.total, session.currency).minor
        except MoneyError:
            total_minor = None
    if total_minor != session.amount_minor:
        findings.append(
            Finding(
                F.ECWID_TOTAL_MISMATCH,
                f"Ecwid total {ecwid.total!r}, session amount {format_minor(session.amount_minor, session.currency)}",
            )
        )
    return findings


def double_charge(cases: tuple[AttemptCase, ...]) -> Finding | None:
    """Money taken by more than one attempt of one order, by the bank's word or, when it could not be asked, the
    gateway's."""
    charged = []
    for case in cases:
        bank = case.bank.status
        held = bank.order_status in BANK_PAID if bank is not None else case.attempt.status in MONEY_HELD
        if held or case.attempt.status in MONEY_HELD:
            charged.append(case.attempt.order_number)
    if len(charged) < 2:
        return None
    return Finding(F.DOUBLE_CHARGE, "paid attempts: " + ", ".join(charged))


def compare_session(case: SessionCase) -> list[Row]:
    """The report rows of one session: one per attempt, the per-session findings on the latest attempt only."""
    session = case.session
    rows = []
    last = len(case.attempts) - 1
    for index, attempt_case in enumerate(case.attempts):
        attempt = attempt_case.attempt
        findings = compare_attempt(attempt, attempt_case.bank)
        latest = index == last
        if latest:
            findings += compare_ecwid(session, case.ecwid)
            extra = double_charge(case.attempts)
            if extra is not None:
                findings.append(extra)
        rows.append(
            Row(
                store_id=session.store_id,
                ecwid_order_id=session.ecwid_order_id,
                reference_transaction_id=session.reference_transaction_id,
                order_number=attempt.order_number,
                provider_order_id=attempt.provider_order_id,
                attempt_no=attempt.attempt_no,
                amount_minor=attempt.amount_minor,
                currency=attempt.currency,
                gateway_state=attempt.status.value,
                bank_state=bank_state(attempt_case.bank),
                ecwid_payment_status=case.ecwid.payment_status if latest else None,
                compared_with_ecwid=latest,
                findings=tuple(findings),
            )
        )
    return rows
