"""Money's range: minor units are a signed 64-bit integer everywhere (the bank's ``amount``, the database columns),
so an amount that does not fit is a ``MoneyError`` at the edge, never an overflow later."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.domain.money import MINOR_MAX, MINOR_MIN, Money, MoneyError


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
