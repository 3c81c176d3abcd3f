"""The pure payment domain: the transition table, the Ecwid status projection, the one "paid" decision, Money."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest

from gateway.domain.confirmation import Decision, ProviderStatus, callback_is_news, decide
from gateway.domain.money import CURRENCIES, Money, MoneyError
from gateway.domain.states import (
    OPEN_STATES,
    TRANSITIONS,
    AttemptStatus,
    EcwidStatus,
    allowed_sources,
    can_transition,
    is_final,
    project_ecwid_status,
)

S = AttemptStatus
FINAL = [S.REGISTER_FAILED, S.DECLINED, S.EXPIRED, S.CANCELLED, S.REVERSED, S.REFUNDED]

# --- transitions --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", FINAL)
def test_final_states_never_change_again(status: AttemptStatus) -> None:
    assert is_final(status)
    assert all(not can_transition(status, target) for target in AttemptStatus)


@pytest.mark.parametrize("target", [S.DECLINED, S.EXPIRED, S.AUTHENTICATING, S.REGISTERED, S.REGISTERING])
def test_paid_never_goes_back(target: AttemptStatus) -> None:
    assert not can_transition(S.PAID, target)
    assert S.PAID not in allowed_sources(target)


def test_paid_only_moves_on_to_refund_or_reversal() -> None:
    assert TRANSITIONS[S.PAID] == {S.PARTIALLY_REFUNDED, S.REFUNDED, S.REVERSED}


def test_the_lifecycle_of_architecture_md_is_allowed() -> None:
    path = [S.REGISTERING, S.REGISTERED, S.AUTHENTICATING, S.AUTHORIZED, S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED]
    assert all(can_transition(a, b) for a, b in pairwise(path))
    assert can_transition(S.REGISTERED, S.PAID)
    assert can_transition(S.AUTHORIZED, S.CANCELLED)
    assert can_transition(S.PARTIALLY_REFUNDED, S.PARTIALLY_REFUNDED)  # a second partial refund


def test_allowed_sources_is_the_inverse_of_the_table() -> None:
    assert allowed_sources(S.PAID) == {S.REGISTERED, S.AUTHENTICATING, S.PENDING, S.AUTHORIZED}
    assert allowed_sources(S.DECLINED) == {S.REGISTERED, S.AUTHENTICATING, S.PENDING}
    assert allowed_sources(S.PENDING) == {S.REGISTERED, S.AUTHENTICATING}
    assert allowed_sources(S.REGISTERED) == {S.REGISTERING}
    assert allowed_sources(S.REGISTERING) == frozenset()
    for target in AttemptStatus:
        for source in allowed_sources(target):
            assert can_transition(source, target)


def test_open_states_are_the_ones_a_customer_can_still_pay() -> None:
    assert {S.REGISTERING, S.REGISTERED, S.AUTHENTICATING, S.PENDING} == OPEN_STATES


# --- projection to Ecwid ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], EcwidStatus.INCOMPLETE),
        ([S.REGISTERED], EcwidStatus.INCOMPLETE),
        ([S.DECLINED], EcwidStatus.INCOMPLETE),
        ([S.EXPIRED], EcwidStatus.INCOMPLETE),
        ([S.REGISTER_FAILED], EcwidStatus.INCOMPLETE),
        ([S.AUTHENTICATING], EcwidStatus.INCOMPLETE),  # no early signal: the customer has not been released
        ([S.PENDING], EcwidStatus.INCOMPLETE),
        ([S.AUTHORIZED], EcwidStatus.AWAITING_PAYMENT),
        ([S.PAID], EcwidStatus.PAID),
        ([S.PAID, S.DECLINED], EcwidStatus.PAID),  # a later attempt's decline must not hide a payment
        ([S.DECLINED, S.PAID], EcwidStatus.PAID),
        ([S.PAID, S.EXPIRED, S.REGISTERED], EcwidStatus.PAID),
        ([S.DECLINED, S.AUTHENTICATING], EcwidStatus.INCOMPLETE),
        ([S.AUTHENTICATING, S.DECLINED], EcwidStatus.INCOMPLETE),  # the latest attempt speaks
        ([S.CANCELLED], EcwidStatus.CANCELLED),
        ([S.REVERSED], EcwidStatus.CANCELLED),
        ([S.REFUNDED], EcwidStatus.REFUNDED),
        ([S.PARTIALLY_REFUNDED], EcwidStatus.PARTIALLY_REFUNDED),
    ],
)
def test_ecwid_status_projection(statuses: list[AttemptStatus], expected: EcwidStatus) -> None:
    assert project_ecwid_status(statuses) is expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([S.AUTHENTICATING], EcwidStatus.AWAITING_PAYMENT),
        ([S.PENDING], EcwidStatus.AWAITING_PAYMENT),
        ([S.DECLINED, S.PENDING], EcwidStatus.AWAITING_PAYMENT),
        ([S.REGISTERED], EcwidStatus.INCOMPLETE),  # released means nothing unless the bank is still deciding
        ([S.DECLINED], EcwidStatus.INCOMPLETE),  # the bank said no after the customer was released
        ([S.PAID], EcwidStatus.PAID),
    ],
)
def test_a_released_customer_makes_a_waiting_attempt_awaiting_payment(
    statuses: list[AttemptStatus], expected: EcwidStatus
) -> None:
    assert project_ecwid_status(statuses, released=True) is expected


def test_order_status_7_is_pending_and_8_is_never_paid() -> None:
    assert decided(status(7)).target is S.PENDING
    partial = decided(status(8))
    assert (partial.target, partial.exception_code) == (None, "partial_completion")


# --- the paid decision --------------------------------------------------------------------------------------------

AMD = CURRENCIES["AMD"][0]


def status(
    order_status: int, *, action: str = "0", amount: int | None = 1500000, currency: str | None = AMD
) -> ProviderStatus:
    return ProviderStatus(order_status=order_status, action_code=action, amount_minor=amount, currency_numeric=currency)


def decided(provider_status: ProviderStatus) -> Decision:
    return decide(provider_status, amount_minor=1500000, currency_numeric=AMD)


def test_deposited_with_the_registered_amount_is_paid() -> None:
    assert decided(status(2)) == Decision(S.PAID)


def test_held_with_the_registered_amount_is_authorized() -> None:
    assert decided(status(1)) == Decision(S.AUTHORIZED)


@pytest.mark.parametrize(
    "provider_status",
    [
        status(2, amount=1499999),
        status(2, amount=150000000),
        status(2, amount=None),
        status(2, currency="840"),
        status(2, currency=None),
        status(1, amount=1),
    ],
    ids=["less", "more", "no-amount", "other-currency", "no-currency", "held-less"],
)
def test_amount_or_currency_mismatch_is_an_exception_never_paid(provider_status: ProviderStatus) -> None:
    decision = decided(provider_status)
    assert decision.target is None
    assert decision.exception_code == "amount_mismatch"
    assert "1500000" in decision.detail


@pytest.mark.parametrize("action", ["-2007", "1001"])
def test_decline_by_timeout_is_expired(action: str) -> None:
    assert decided(status(6, action=action)) == Decision(S.EXPIRED)


@pytest.mark.parametrize("action", ["116", "101", "-2006", "100", ""])
def test_other_declines_are_declined(action: str) -> None:
    assert decided(status(6, action=action)) == Decision(S.DECLINED)


def test_registered_not_paid_changes_nothing() -> None:
    assert decided(status(0, action="-100")) == Decision(None)


def test_three_d_secure_in_progress_is_authenticating() -> None:
    assert decided(status(5)).target is S.AUTHENTICATING


def test_a_declined_status_does_not_need_a_matching_amount() -> None:
    assert decided(status(6, action="116", amount=None, currency=None)).target is S.DECLINED


def test_unknown_order_status_is_an_exception() -> None:
    decision = decided(status(9))
    assert (decision.target, decision.exception_code) == (None, "unknown_order_status")


# --- money --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        (2014.97, "USD", 201497),
        (15000.0, "AMD", 1500000),
        (15000, "AMD", 1500000),
        ("0.01", "EUR", 1),
        (Decimal("19.90"), "RUB", 1990),
        (1e3, "USD", 100000),
        (0.1 + 0.2, "USD", 30),  # 0.30000000000000004: float noise, not a sub-cent amount
        (2014.97 * 3, "AMD", 604491),  # 6044.909999999999
        (0.1 * 3, "EUR", 30),
        (1234567.89, "RUB", 123456789),
    ],
)
def test_money_from_major_is_exact(value: float | int | str | Decimal, currency: str, minor: int) -> None:
    money = Money.from_major(value, currency)
    assert (money.minor, money.currency) == (minor, currency)


def test_money_knows_numeric_currency_and_major_units() -> None:
    money = Money.from_major(2014.97, "USD")
    assert money.numeric_currency == "840"
    assert money.major == Decimal("2014.97")
    assert Money.from_major(15000.0, "AMD").numeric_currency == "051"


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        (0.001, "AMD"),
        (15000.001, "AMD"),
        (10.005, "USD"),
        ("0.30000000000000004", "USD"),  # text is taken literally: only a binary float carries noise
        (Decimal("0.30000000000000004"), "USD"),
        (True, "AMD"),
        (False, "AMD"),
        (float("nan"), "USD"),
        (float("inf"), "USD"),
        ("abc", "USD"),
        (10, "GBP"),
        (10, "amd"),
    ],
)
def test_money_from_major_refuses_what_cannot_be_exact(value: object, currency: str) -> None:
    with pytest.raises(MoneyError):
        Money.from_major(value, currency)  # type: ignore[arg-type]


# --- refunds, reversals and expiry by our clock (issue 5.11) ------------------------------------------------------


def refund_status(deposited: int | None, refunded: int | None) -> ProviderStatus:
    return ProviderStatus(4, "0", 1500000, AMD, deposited_minor=deposited, refunded_minor=refunded)


@pytest.mark.parametrize(
    ("deposited", "refunded", "target"),
    [
        (1500000, 1, S.PARTIALLY_REFUNDED),
        (1500000, 1499999, S.PARTIALLY_REFUNDED),
        (1500000, 1500000, S.REFUNDED),
        (1000000, 1000000, S.REFUNDED),  # a partial capture, refunded in full
        (None, 700000, S.PARTIALLY_REFUNDED),  # no depositedAmount: the registered (verified) amount stands in
        (None, 1500000, S.REFUNDED),
    ],
)
def test_order_status_4_is_full_or_partial_by_the_amounts(
    deposited: int | None, refunded: int, target: AttemptStatus
) -> None:
    decision = decide(refund_status(deposited, refunded), amount_minor=1500000, currency_numeric=AMD, current=S.PAID)
    assert (decision.target, decision.refunded_minor) == (target, refunded)


@pytest.mark.parametrize("refunded", [None, 0])
def test_order_status_4_without_a_refunded_amount_is_an_exception(refunded: int | None) -> None:
    decision = decide(refund_status(1500000, refunded), amount_minor=1500000, currency_numeric=AMD, current=S.PAID)
    assert (decision.target, decision.exception_code) == (None, "refund_amount_unknown")


@pytest.mark.parametrize(("current", "target"), [(S.AUTHORIZED, S.CANCELLED), (S.PAID, S.REVERSED)])
def test_order_status_3_cancels_a_hold_and_reverses_a_payment(current: AttemptStatus, target: AttemptStatus) -> None:
    assert decide(status(3), amount_minor=1500000, currency_numeric=AMD, current=current).target is target


def test_an_unpaid_order_expires_only_once_the_session_is_over() -> None:
    assert decide(status(0), amount_minor=1500000, currency_numeric=AMD, session_over=True).target is S.EXPIRED
    assert decide(status(0), amount_minor=1500000, currency_numeric=AMD, session_over=False).target is None
    # 3-D Secure still in progress at the bank is the bank's word, not ours to overrule
    assert decide(status(5), amount_minor=1500000, currency_numeric=AMD, session_over=True).target is S.AUTHENTICATING


# --- which callbacks are worth a bank call (issue 5.9) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "current", "news"),
    [
        ("deposited", S.PAID, False),
        ("deposited", S.REFUNDED, False),
        ("DEPOSITED", S.PAID, False),
        ("deposited", S.REGISTERED, True),
        ("deposited", S.DECLINED, True),  # money on a closed attempt must be found
        ("deposited", S.EXPIRED, True),
        ("approved", S.AUTHORIZED, False),
        ("approved", S.REGISTERED, True),
        ("refunded", S.PAID, True),
        ("refunded", S.PARTIALLY_REFUNDED, True),
        ("refunded", S.REFUNDED, False),
        ("reversed", S.REVERSED, False),
        ("reversed", S.AUTHORIZED, True),
        ("declinedByTimeout", S.EXPIRED, False),
        ("declinedByTimeout", S.PAID, False),
        ("declinedByTimeout", S.AUTHENTICATING, True),
        ("something_new", S.PAID, True),
        ("", S.PAID, True),
    ],
)
def test_callback_is_news_only_when_it_could_change_the_attempt(
    operation: str, current: AttemptStatus, news: bool
) -> None:
    assert callback_is_news(operation, current) is news


# --- amounts the bank actually held or took (RC-33) ----------------------------------------------------------------


def test_a_partial_authorisation_is_never_authorized() -> None:
    held = ProviderStatus(1, "0", 1500000, AMD, approved_minor=1000000)
    decision = decide(held, amount_minor=1500000, currency_numeric=AMD)
    assert (decision.target, decision.exception_code) == (None, "amount_mismatch")
    assert "partial authorisation" in decision.detail


def test_a_deposit_of_another_sum_is_never_paid() -> None:
    took = ProviderStatus(2, "0", 1500000, AMD, deposited_minor=1499999)
    decision = decide(took, amount_minor=1500000, currency_numeric=AMD)
    assert (decision.target, decision.exception_code) == (None, "amount_mismatch")


def test_a_partial_capture_we_asked_for_is_paid() -> None:
    took = ProviderStatus(2, "0", 1500000, AMD, approved_minor=1500000, deposited_minor=1000000)
    assert decide(took, amount_minor=1500000, currency_numeric=AMD, expected_deposit_minor=1000000).target is S.PAID
    decision = decide(took, amount_minor=1500000, currency_numeric=AMD, expected_deposit_minor=1200000)
    assert decision.exception_code == "amount_mismatch"


def test_the_whole_amount_held_and_taken_is_authorized_then_paid() -> None:
    held = ProviderStatus(1, "0", 1500000, AMD, approved_minor=1500000, deposited_minor=0)
    assert decide(held, amount_minor=1500000, currency_numeric=AMD).target is S.AUTHORIZED
    took = ProviderStatus(2, "0", 1500000, AMD, approved_minor=1500000, deposited_minor=1500000)
    assert decide(took, amount_minor=1500000, currency_numeric=AMD, current=S.AUTHORIZED).target is S.PAID


# --- refund states (one writer: lifecycle.refund_transition) --------------------------------------------------------


def test_a_refund_is_final_once_completed_refused_or_failed() -> None:
    from gateway.domain.states import REFUND_TRANSITIONS, RefundStatus

    finals = set(RefundStatus) - set(REFUND_TRANSITIONS)
    assert finals == {RefundStatus.COMPLETED, RefundStatus.REFUSED, RefundStatus.FAILED}


def test_only_a_refund_the_bank_has_not_taken_can_be_refused_or_lost() -> None:
    from gateway.domain.states import RefundStatus, refund_sources

    R = RefundStatus
    assert refund_sources(R.REFUSED) == {R.REQUESTED, R.UNKNOWN}
    assert refund_sources(R.UNKNOWN) == {R.REQUESTED}
    assert refund_sources(R.COMPLETED) == {R.REQUESTED, R.UNKNOWN, R.ACCEPTED}
    assert refund_sources(R.FAILED) == {R.REQUESTED, R.UNKNOWN, R.ACCEPTED}
    assert refund_sources(R.REQUESTED) == frozenset()  # only ever inserted
