"""The demo storefront's products: Armenian goods priced in AMD, plus one in USD."""

from __future__ import annotations

from dataclasses import dataclass


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
)


def product(sku: str) -> Product | None:
    return next((item for item in PRODUCTS if item.sku == sku), None)
