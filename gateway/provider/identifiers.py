"""Which bank identifiers are well-formed enough to be looked up at all: a malformed one is simply unknown and
costs no database query (PostgreSQL refuses NUL in text; junk never reaches a query or a log line)."""

from __future__ import annotations

import re
from collections.abc import Mapping

# mdOrder (the return's orderId) is the bank's UUID; orderNumber (our ``attempt``) is our 12-character reference.
# Both are visible ASCII: no space, no control character, nothing beyond 0x7e.
_PROVIDER_ORDER_ID = re.compile(r"[\x21-\x7e]{1,64}")
_ORDER_NUMBER = re.compile(r"[\x21-\x7e]{1,32}")


def is_provider_order_id(value: str | None) -> bool:
    """An mdOrder (the return's ``orderId``): 1 to 64 visible ASCII characters."""
    return value is not None and _PROVIDER_ORDER_ID.fullmatch(value) is not None


def is_order_number(value: str | None) -> bool:
    """An orderNumber (the return's ``attempt``): 1 to 32 visible ASCII characters."""
    return value is not None and _ORDER_NUMBER.fullmatch(value) is not None


def callback_ids_well_formed(params: Mapping[str, str]) -> bool:
    """False when a callback's ``mdOrder`` or ``orderNumber`` is present but cannot be the bank's (an absent or
    empty one is the service's ordinary "unknown order")."""
    md_order, order_number = params.get("mdOrder"), params.get("orderNumber")
    return (not md_order or is_provider_order_id(md_order)) and (not order_number or is_order_number(order_number))
