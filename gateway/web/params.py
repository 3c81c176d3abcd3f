"""Parameter hygiene for the public endpoints, as pure functions: which parameter names and values are refused
outright (400, by the request guard in ``gateway.web.guards``), and which bank ids are well-formed enough to be
looked up at all (a malformed one is simply unknown, and costs no database query).

Nothing legitimate sent to these endpoints (Ecwid's form, the bank's return and callback parameters) carries a
control character (tab and line breaks included), a lone surrogate, or a long name or value; the only long values
are Ecwid's encrypted ``enc_data`` and ``data``, bounded by the request size limit instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from gateway.domain.text import has_unsafe_characters

MAX_PARAMETERS = 64
MAX_NAME_LENGTH = 64
MAX_VALUE_LENGTH = 2048
# Per path, the parameters whose values only the request size limit bounds.
BULK_PARAMETERS: dict[str, frozenset[str]] = {"/ecwid/payment": frozenset({"enc_data", "data"})}

# mdOrder (the return's orderId) is the bank's UUID; orderNumber (our ``attempt``) is our 12-character reference.
# Both are visible ASCII: no space, no control character, nothing beyond 0x7e.
_PROVIDER_ORDER_ID = re.compile(r"[\x21-\x7e]{1,64}")
_ORDER_NUMBER = re.compile(r"[\x21-\x7e]{1,32}")


def parameter_problem(name: str, value: str, *, max_value_length: int | None = MAX_VALUE_LENGTH) -> str | None:
    """None when the parameter may reach a view; otherwise a short reason for the logs, which never quotes it."""
    if not name or len(name) > MAX_NAME_LENGTH:
        return "parameter name length"
    if max_value_length is not None and len(value) > max_value_length:
        return "parameter value too long"
    if has_unsafe_characters(name) or has_unsafe_characters(value):
        return "control character in a parameter"
    return None


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
