"""Money in the units each side speaks: Ecwid sends major units as a JSON float, RBS wants integer minor units
and the ISO 4217 numeric currency code. Minor units are a signed 64-bit integer everywhere (the bank's ``amount``,
the database's BIGINT columns): an amount outside that range is a ``MoneyError`` here, never an overflow later."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# ISO 4217: alpha -> (numeric, minor-unit exponent). ArCa accepts these four (protocols.md 2.1).
CURRENCIES: dict[str, tuple[str, int]] = {
    "AMD": ("051", 2),
    "USD": ("840", 2),
    "EUR": ("978", 2),
    "RUB": ("643", 2),
}
NUMERIC_TO_ALPHA = {numeric: alpha for alpha, (numeric, _) in CURRENCIES.items()}
MINOR_MIN, MINOR_MAX = -(2**63), 2**63 - 1
# A JSON float computed by the shop (0.1 + 0.2 -> 0.30000000000000004) is the nearest double to a sum that had no
# sub-minor part; it sits within a few units in the last place of the true amount. A real sub-minor amount
# (15000.001) is far further away than that.
_FLOAT_NOISE_ULPS = 4
# Far beyond any amount, yet small enough that scaleb() and int() stay cheap on a hostile "1E+999999999".
_MAX_ADJUSTED_EXPONENT = 30


class MoneyError(ValueError):
    """Amount or currency cannot be represented exactly."""


@dataclass(frozen=True)
class Money:
    minor: int
    currency: str  # ISO alpha, e.g. "AMD"

    @classmethod
    def from_major(cls, value: float | int | str | Decimal, currency: str) -> Money:
        """Convert an Ecwid total (JSON float) to minor units exactly; refuses sub-minor fractions and amounts whose
        minor units do not fit a signed 64-bit integer."""
        if currency not in CURRENCIES:
            raise MoneyError(f"unsupported currency {currency!r}")
        if isinstance(value, bool):
            raise MoneyError("amount is not a number")
        try:
            # str() first: Decimal(2014.97) would carry the binary float's noise.
            amount = Decimal(str(value))
        except InvalidOperation as exc:
            raise MoneyError("amount is not a number") from exc
        if not amount.is_finite():
            raise MoneyError("amount is not finite")
        if amount and amount.adjusted() > _MAX_ADJUSTED_EXPONENT:
            raise MoneyError("amount out of range")
        exponent = CURRENCIES[currency][1]
        minor = amount.scaleb(exponent)
        if minor != minor.to_integral_value():
            minor = _float_noise_removed(value, minor, exponent)
        if not MINOR_MIN <= int(minor) <= MINOR_MAX:
            raise MoneyError("amount out of range: minor units must fit a signed 64-bit integer")
        return cls(int(minor), currency)

    @property
    def numeric_currency(self) -> str:
        return CURRENCIES[self.currency][0]

    @property
    def major(self) -> Decimal:
        return Decimal(self.minor).scaleb(-CURRENCIES[self.currency][1])

    def __str__(self) -> str:
        return f"{self.major:.{CURRENCIES[self.currency][1]}f} {self.currency}"


def _float_noise_removed(value: object, minor: Decimal, exponent: int) -> Decimal:
    """The whole number of minor units a binary float stands for, when its fraction is only float noise; otherwise a
    ``MoneyError``. Text and Decimal amounts are taken literally: only a float can carry noise."""
    rounded = minor.to_integral_value(rounding=ROUND_HALF_EVEN)
    if isinstance(value, float):
        candidate = float(rounded.scaleb(-exponent))
        if abs(candidate - value) <= _FLOAT_NOISE_ULPS * math.ulp(value):
            return rounded
    raise MoneyError("amount has more decimals than the currency allows")
