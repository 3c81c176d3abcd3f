"""orderStatus 3 (reversed) for a hold that is already cancelled means the same thing again: cancelled, not a
reversal of a payment never taken. Found by the lifecycle state machine (``bench/lifecycle.py``): the bank's
``reversed`` callback cancels the hold first, then the operator's reverse reads orderStatus 3 and used to ask for
REVERSED, which the transition table refuses, so a false "unexpected bank status" exception was opened."""

from __future__ import annotations

import pytest

from gateway.domain.confirmation import ProviderStatus, decide
from gateway.domain.states import AttemptStatus

S = AttemptStatus


def reversed_status() -> ProviderStatus:
    return ProviderStatus(order_status=3, action_code="0", amount_minor=1500000, currency_numeric="051")


@pytest.mark.parametrize("current", [S.AUTHORIZED, S.CANCELLED])
def test_a_reversed_hold_is_cancelled_whether_or_not_we_already_know(current: AttemptStatus) -> None:
    assert decide(reversed_status(), amount_minor=1500000, currency_numeric="051", current=current).target is (
        S.CANCELLED
    )


@pytest.mark.parametrize("current", [S.PAID, S.REVERSED])
def test_a_reversed_payment_is_reversed(current: AttemptStatus) -> None:
    assert decide(reversed_status(), amount_minor=1500000, currency_numeric="051", current=current).target is (
        S.REVERSED
    )
