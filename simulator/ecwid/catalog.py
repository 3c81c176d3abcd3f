"""The demo storefront's products: Armenian goods priced in AMD, plus one each in USD, EUR and RUB (with cents).

``name`` is the English name that goes into the Ecwid order; the shopper sees the name in their language from
``simulator.ecwid.texts`` (``product.<sku>``).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_QUANTITY = 99
"""The most of one product a single order (or cart line) may hold."""


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: float
    currency: str


PRODUCTS: tuple[Product, ...] = (
    Product("apricot-jam", "Apricot jam, Ararat valley", 7500.0, "AMD"),
    Product("gata", "Gata sweet bread", 3000.0, "AMD"),
    Product("lavash", "Lavash, 5 sheets", 1200.0, "AMD"),
    Product("brandy", "Armenian brandy, 10 years", 25000.0, "AMD"),
    Product("duduk", "Apricot-wood duduk", 120.0, "USD"),
    Product("carpet", "Hand-woven carpet, Artsakh pattern", 340.5, "EUR"),
    Product("sujukh", "Sujukh, walnuts in grape syrup", 890.99, "RUB"),
)


def product(sku: str) -> Product | None:
    return next((item for item in PRODUCTS if item.sku == sku), None)


def parse_quantity(raw: str | None, *, allow_zero: bool = False) -> int | None:
    """A typed quantity (blank = 1, or 0 when ``allow_zero``) -> int within range, or None when it is not one."""
    text = (raw or "").strip() or ("0" if allow_zero else "1")
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    low = 0 if allow_zero else 1
    return value if low <= value <= MAX_QUANTITY else None
