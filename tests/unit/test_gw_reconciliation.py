"""The pure reconciliation (RC-28): each finding, with its stable code and action, from plain facts (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from gateway.domain.confirmation import ProviderRefund, ProviderStatus
from gateway.domain.reconciliation import (
    ACTIONS,
    AttemptCase,
    AttemptFacts,
    BankView,
    EcwidView,
    FindingCode,
    OpenException,
    Reconciliation,
    SessionCase,
    SessionFacts,
    compare_attempt,
    compare_session,
)
from gateway.domain.states import AttemptStatus

F = FindingCode
S = AttemptStatus
SESSION = SessionFacts(
    session_id=1,
    store_id=1003,
    reference_transaction_id="transaction_1",
    ecwid_order_id="XJ12H",
    amount_minor=1500000,
    currency="AMD",
    ecwid_status="PAID",
)


def attempt(status: AttemptStatus = S.PAID, no: int = 1, **kwargs: Any) -> AttemptFacts:
    values: dict[str, Any] = {
        "attempt_id": no,
        "attempt_no": no,
        "order_number": f"N{no}",
        "provider_order_id": f"md-{no}",
        "status": status,
        "amount_minor": 1500000,
        "currency": "AMD",
    }
    values.update(kwargs)
    return AttemptFacts(**values)


def bank(order_status: int = 2, **kwargs: Any) -> BankView:
    values: dict[str, Any] = {
        "order_status": order_status,
        "action_code": "0",
        "amount_minor": 1500000,
        "currency_numeric": "051",
    }
    values.update(kwargs)
    return BankView(status=ProviderStatus(**values))


ECWID_PAID = EcwidView(payment_status="PAID", total=15000.0)


def codes(findings: Any) -> list[str]:
    return [f.code.value for f in findings]


def session_rows(*cases: AttemptCase, ecwid: EcwidView = ECWID_PAID, session: SessionFacts = SESSION) -> Any:
    return compare_session(SessionCase(session, tuple(cases), ecwid))


def test_every_finding_code_has_an_action() -> None:
    assert set(ACTIONS) == set(FindingCode)
    assert all(text.strip() for text in ACTIONS.values())


def test_paid_everywhere_agrees() -> None:
    [row] = session_rows(AttemptCase(attempt(), bank(2, payment_state="DEPOSITED")))
    assert row.agrees
    assert (row.gateway_state, row.bank_state, row.ecwid_payment_status) == ("paid", "2 DEPOSITED", "PAID")
    assert row.amount == "15000.00 AMD"


def test_bank_paid_gateway_not() -> None:
    findings = compare_attempt(attempt(S.DECLINED), bank(2))
    assert codes(findings) == ["bank_paid_gateway_not"]
    assert "operator console" in findings[0].action


def test_bank_held_two_phase_gateway_open_is_bank_paid_gateway_not() -> None:
    assert codes(compare_attempt(attempt(S.AUTHENTICATING), bank(1))) == ["bank_paid_gateway_not"]


def test_gateway_paid_bank_not_for_each_unpaid_bank_status() -> None:
    for order_status in (0, 3, 4, 6):
        kwargs = {"refunded_minor": 0} if order_status == 4 else {}
        findings = compare_attempt(attempt(S.PAID), bank(order_status, **kwargs))
        assert codes(findings) == ["gateway_paid_bank_not"], order_status


def test_other_state_disagreement_is_a_state_mismatch() -> None:
    assert codes(compare_attempt(attempt(S.PAID), bank(1))) == ["state_mismatch"]
    assert codes(compare_attempt(attempt(S.DECLINED), bank(3))) == ["state_mismatch"]


def test_open_states_agree_with_a_bank_still_deciding() -> None:
    assert compare_attempt(attempt(S.REGISTERED), bank(0)) == []
    assert compare_attempt(attempt(S.AUTHENTICATING), bank(5)) == []
    assert compare_attempt(attempt(S.EXPIRED), bank(6, action_code="-2007")) == []


def test_amount_mismatch_replaces_bank_paid_gateway_not() -> None:
    findings = compare_attempt(attempt(S.REGISTERED), bank(2, amount_minor=100))
    assert codes(findings) == ["bank_amount_mismatch"]
    assert "100" in findings[0].detail and "1500000" in findings[0].detail


def test_currency_mismatch() -> None:
    assert codes(compare_attempt(attempt(S.PAID), bank(2, currency_numeric="840"))) == ["bank_amount_mismatch"]


def test_refund_mismatch_by_refunded_amount() -> None:
    findings = compare_attempt(
        attempt(S.PARTIALLY_REFUNDED, refunded_minor=500000), bank(4, refunded_minor=700000, deposited_minor=1500000)
    )
    assert codes(findings) == ["refund_mismatch"]
    assert findings[0].detail == "bank refunded 700000, gateway 500000"


def test_refund_mismatch_by_refunds_list_when_no_amount_info() -> None:
    refunds = (ProviderRefund(300000), ProviderRefund(200000, succeeded=False))
    assert compare_attempt(attempt(S.PARTIALLY_REFUNDED, refunded_minor=300000), bank(4, refunds=refunds)) == []
    assert codes(compare_attempt(attempt(S.PAID), bank(2, refunds=(ProviderRefund(300000),)))) == ["refund_mismatch"]


def test_unknown_refunded_amount_is_not_guessed() -> None:
    assert compare_attempt(attempt(S.REFUNDED, refunded_minor=1500000), bank(4)) == []


def test_bank_unchecked_keeps_the_error() -> None:
    findings = compare_attempt(attempt(), BankView(error="ProviderUnavailable: getOrderStatusExtended.do timed out"))
    assert codes(findings) == ["bank_unchecked"]
    assert "timed out" in findings[0].detail and "rerun" in findings[0].action


def test_open_exceptions_are_listed() -> None:
    known = attempt(S.REGISTERED, open_exceptions=(OpenException(7, "amount_mismatch", "bank reports 100"),))
    findings = compare_attempt(known, bank(2, amount_minor=100))
    assert codes(findings) == ["bank_amount_mismatch", "open_exception"]
    assert findings[1].detail == "#7 amount_mismatch: bank reports 100"


def test_ecwid_status_mismatch_on_paid_order_still_awaiting_payment() -> None:
    [row] = session_rows(
        AttemptCase(attempt(), bank(2)), ecwid=EcwidView(payment_status="AWAITING_PAYMENT", total=15000)
    )
    assert codes(row.findings) == ["ecwid_status_mismatch"]
    assert row.findings[0].action == "retry the Ecwid update from the operator console"
    assert row.findings[0].detail == "gateway says PAID, Ecwid shows AWAITING_PAYMENT"


def test_ecwid_total_mismatch() -> None:
    for total in (14999.99, "junk", None):
        [row] = session_rows(AttemptCase(attempt(), bank(2)), ecwid=EcwidView(payment_status="PAID", total=total))
        assert codes(row.findings) == ["ecwid_total_mismatch"], total


def test_ecwid_unchecked() -> None:
    [row] = session_rows(AttemptCase(attempt(), bank(2)), ecwid=EcwidView(error="EcwidApiError: 403 INVALID_TOKEN"))
    assert codes(row.findings) == ["ecwid_unchecked"]
    assert row.ecwid_payment_status is None and row.compared_with_ecwid


def test_ecwid_is_compared_once_per_session_on_the_latest_attempt() -> None:
    first = AttemptCase(attempt(S.DECLINED, 1), bank(6))
    second = AttemptCase(attempt(S.PAID, 2), bank(2))
    rows = session_rows(first, second, ecwid=EcwidView(payment_status="INCOMPLETE", total=15000))
    assert [r.compared_with_ecwid for r in rows] == [False, True]
    assert rows[0].agrees and rows[0].ecwid_payment_status is None
    assert codes(rows[1].findings) == ["ecwid_status_mismatch"]


def test_double_charge_once_per_session() -> None:
    first = AttemptCase(attempt(S.DECLINED, 1), bank(2))  # paid at the bank after the customer moved on
    second = AttemptCase(attempt(S.PAID, 2), bank(2))
    rows = session_rows(first, second)
    assert codes(rows[0].findings) == ["bank_paid_gateway_not"]
    assert codes(rows[1].findings) == ["double_charge"]
    assert rows[1].findings[0].detail == "paid attempts: N1, N2"


def test_refunded_attempt_is_not_a_double_charge() -> None:
    first = AttemptCase(attempt(S.REFUNDED, 1, refunded_minor=1500000), bank(4, refunded_minor=1500000))
    second = AttemptCase(attempt(S.PAID, 2), bank(2))
    assert all(r.agrees for r in session_rows(first, second))


def test_reconciliation_counts_and_order() -> None:
    good = session_rows(AttemptCase(attempt(), bank(2)))
    bad = session_rows(AttemptCase(attempt(S.DECLINED, 3), bank(2)))
    now = datetime(2025, 6, 30, 12, tzinfo=UTC)
    result = Reconciliation(date(2025, 6, 30), "UTC", now, now, tuple(good + bad))
    assert not result.ok
    assert result.counts() == {"attempts": 2, "agreeing": 1, "mismatching": 1, "bank_paid_gateway_not": 1}
    assert Reconciliation(date(2025, 6, 30), "UTC", now, now, tuple(good)).ok
