"""Parameter hygiene for the public endpoints, as pure functions: which parameter names and values are refused
outright (400, by the request guard in ``gateway.web.guards``). Which bank ids are well-formed enough to be looked
up at all is ``gateway.provider.identifiers``.

Nothing legitimate sent to these endpoints (Ecwid's form, the bank's return and callback parameters) carries a
control character (tab and line breaks included), a lone surrogate, or a long name or value; the only long values
are Ecwid's encrypted ``enc_data`` and ``data``, bounded by the request size limit instead.
"""

from __future__ import annotations

from gateway.domain.text import has_unsafe_characters

MAX_PARAMETERS = 64
MAX_NAME_LENGTH = 64
MAX_VALUE_LENGTH = 2048
# Per path, the parameters whose values only the request size limit bounds.
BULK_PARAMETERS: dict[str, frozenset[str]] = {"/ecwid/payment": frozenset({"enc_data", "data"})}


def parameter_problem(name: str, value: str, *, max_value_length: int | None = MAX_VALUE_LENGTH) -> str | None:
    """None when the parameter may reach a view; otherwise a short reason for the logs, which never quotes it."""
    if not name or len(name) > MAX_NAME_LENGTH:
        return "parameter name length"
    if max_value_length is not None and len(value) > max_value_length:
        return "parameter value too long"
    if has_unsafe_characters(name) or has_unsafe_characters(value):
        return "control character in a parameter"
    return None
