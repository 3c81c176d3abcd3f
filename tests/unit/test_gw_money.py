"""Money's range: minor units are a signed 64-bit integer everywhere (the bank's ``amount``, the database columns),
so an amount that does not fit is a ``MoneyError`` at the edge, never an overflow later."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.money import CURRENCIES, MINOR_MAX, MINOR_MIN, Money, MoneyError


def test_the_range_is_signed_64_bit() -> None:
    assert (MINOR_MIN, MINOR_MAX) == (-(2**63), 2**63 - 1)


@pytest.mark.parametrize(
    ("value", "minor"),
    [
        (Decimal("92233720368547758.07"), 2**63 - 1),
        (Decimal("-92233720368547758.08"), -(2**63)),
        (21474836.48, 2**31),
        ("21474836.47", 2**31 - 1),
    ],
    ids=["int64-max", "int64-min", "2**31-as-float", "int32-max"],
)
def test_amounts_whose_minor_units_fit_in_64_bits_are_exact(value: float | str | Decimal, minor: int) -> None:
    assert Money.from_major(value, "AMD").minor == minor


@pytest.mark.parametrize(
    "value",
    [1e300, 10**30, Decimal("92233720368547758.08"), Decimal("-92233720368547758.09"), "1E+17", -1e19],
    ids=["1e300", "10**30", "int64-max+1", "int64-min-1", "1e17-string", "-1e19"],
)
def test_amounts_whose_minor_units_do_not_fit_in_64_bits_are_refused(value: float | int | str | Decimal) -> None:
    with pytest.raises(MoneyError):
        Money.from_major(value, "USD")


def test_a_huge_exponent_is_refused_without_building_the_number() -> None:
    with pytest.raises(MoneyError):
        Money.from_major("1E+999999999", "AMD")


@given(
    cents=st.integers(min_value=1, max_value=10**13),
    currency=st.sampled_from(sorted(CURRENCIES)),
)
def test_a_float_total_converts_to_its_minor_units_without_drift(cents: int, currency: str) -> None:
    # What a shop's float arithmetic hands Ecwid: the nearest double to an amount with whole minor units.
    exponent = CURRENCIES[currency][1]
    total = float(Decimal(cents).scaleb(-exponent))
    assert Money.from_major(total, currency).minor == cents


@given(
    cents=st.integers(min_value=0, max_value=10**6),
    items=st.lists(st.integers(min_value=1, max_value=10**5), min_size=1, max_size=8),
)
def test_a_float_sum_of_prices_converts_to_the_exact_sum(cents: int, items: list[int]) -> None:
    # 0.1 + 0.2 style: a sum computed in binary floating point carries noise below a cent, never a cent.
    total = sum(item / 100 for item in items) + cents / 100
    assert Money.from_major(total, "USD").minor == sum(items) + cents
