"""Realistic Ecwid orders made up with ``faker`` (``POST /_control/ecwid/orders/fake``).

Buyers with names, e-mails, addresses and phones of the order's language (hy -> Armenian-flavoured English data, as
faker has no ``hy`` locale; ru -> ru_RU; en -> en_US), one to four items with cents in their prices, and ids of
three styles:

- ``short``: Ecwid's own ("XJ12H"), ``referenceTransactionId`` ``transaction_<internalId>``;
- ``long``: 40+ characters with dashes (``ORD-20261123-...``) for both the id and the reference;
- ``odd``: ASCII a path must percent-encode or that naive code mangles: ``ORD-2026/11#A_b.c-<n>`` and a reference
  such as ``ref:2026/11#<n>+x_y.z``.

``seed`` makes the data repeatable (ids stay unique per store).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, get_args

from faker import Faker

from simulator.ecwid.orders import OrderItem

IdStyle = Literal["short", "long", "odd"]
ID_STYLES: tuple[str, ...] = get_args(IdStyle)
FAKE_CURRENCIES = ("AMD", "USD", "EUR", "RUB")
_LOCALES = {"en": "en_US", "ru": "ru_RU", "hy": "en_US"}
_PRICE_RANGES: dict[str, tuple[int, int]] = {
    "AMD": (50_000, 5_000_000),  # in cents: 500.00 .. 50 000.00
    "USD": (199, 50_000),
    "EUR": (199, 50_000),
    "RUB": (9_900, 2_000_000),
}
_GOODS = (
    "Apricot jam",
    "Gata sweet bread",
    "Lavash",
    "Armenian brandy",
    "Apricot-wood duduk",
    "Dried fruit mix",
    "Pomegranate wine",
    "Carpet, hand-woven",
    "Sujukh",
    "Jingalov hats kit",
)


_FAKERS: dict[str, Faker] = {}
_FAKERS_LOCK = threading.Lock()  # a Faker is slow to build and not thread-safe once seeded: one per locale, locked


@dataclass(frozen=True)
class FakeOrder:
    """What ``EcwidOrderBook.create`` needs, made up."""

    order_id: str
    reference_id: str | None
    email: str
    person: dict[str, Any]
    items: list[OrderItem]
    total: float
    ip_address: str


def _money(cents: int) -> float:
    return float((Decimal(cents) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def fake_order(
    *, lang: str, currency: str, id_style: IdStyle, seed: int | None, serial: int, total: float | None = None
) -> FakeOrder:
    """A made-up order; ``serial`` (e.g. the store's order count) keeps ids unique; ``total`` overrides the sum
    (one item at that price)."""
    locale = _LOCALES.get(lang, "en_US")
    with _FAKERS_LOCK:
        fake = _FAKERS.get(locale) or _FAKERS.setdefault(locale, Faker(locale))
        return _made_up(fake, lang, currency, id_style, seed, serial, total)


def _made_up(
    fake: Faker, lang: str, currency: str, id_style: IdStyle, seed: int | None, serial: int, total: float | None
) -> FakeOrder:
    rng = random.Random(seed)
    fake.seed_instance(seed if seed is not None else rng.randrange(1 << 30))
    low, high = _PRICE_RANGES.get(currency, (199, 50_000))
    if total is None:
        items = [
            OrderItem(
                name=rng.choice(_GOODS),
                price=_money(rng.randrange(low, high) // 100 * 100 + rng.choice((0, 50, 97, 99))),
                quantity=rng.randint(1, 3),
                sku=f"sku-{fake.bothify('??###').lower()}",
            )
            for _ in range(rng.randint(1, 4))
        ]
        amount = _money(sum(round(item.price * 100) * item.quantity for item in items))
    else:
        amount = total
        items = [
            OrderItem(name=rng.choice(_GOODS), price=total, quantity=1, sku=f"sku-{fake.bothify('??###').lower()}")
        ]
    token = fake.bothify("??##").upper()
    if id_style == "long":
        order_id = f"ORD-{fake.date_this_year().strftime('%Y%m%d')}-{fake.uuid4()}-{serial}"
        reference: str | None = f"txn-{fake.uuid4()}-{token.lower()}-{serial}"
    elif id_style == "odd":
        order_id = f"ORD-2026/11#A_b.c-{token}{serial}"
        reference = f"ref:2026/11#{serial}+x_y.z-{token}"
    else:
        order_id = f"{fake.bothify('?#??#').upper()}{serial}"
        reference = None
    email = fake.email()
    person = {
        "name": fake.name(),
        "email": email,
        "street": fake.street_address(),
        "city": "Yerevan" if lang == "hy" else fake.city(),
        "countryCode": {"hy": "AM", "ru": "RU"}.get(lang, "US"),
        "postalCode": fake.postcode(),
        "phone": fake.phone_number(),
    }
    return FakeOrder(
        order_id=order_id,
        reference_id=reference,
        email=email,
        person=person,
        items=items,
        total=amount,
        ip_address=fake.ipv4_public(),
    )
