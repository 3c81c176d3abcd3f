"""Callback checksum of the RBS bank (protocols.md 2.8), written independently of any gateway.

Drop ``checksum`` and ``sign_alias``; sort the remaining parameters by name; concatenate ``name;value;``;
HMAC-SHA256 with the shared key; upper-case hex (as the bank sends it). ``wrong_checksum`` forges a well-formed but
wrong one, for callbacks sent with a bad checksum on purpose.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

_EXCLUDED = frozenset({"checksum", "sign_alias"})


def checksum_string(params: Mapping[str, str]) -> str:
    """The signed string, e.g. ``amount;123456;mdOrder;...;status;1;`` (ends with ``;``)."""
    return "".join(f"{name};{params[name]};" for name in sorted(params) if name not in _EXCLUDED)


def sign(params: Mapping[str, str], key: str) -> str:
    """Upper-case hex HMAC-SHA256 of ``checksum_string(params)`` under ``key``."""
    digest = hmac.new(key.encode("utf-8"), checksum_string(params).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest().upper()


def verify(params: Mapping[str, str], key: str) -> bool:
    """Constant-time, case-insensitive check of ``params["checksum"]``."""
    given = params.get("checksum", "")
    return hmac.compare_digest(given.upper().encode("ascii", "replace"), sign(params, key).encode("ascii"))


def wrong_checksum(params: Mapping[str, str], key: str | None) -> str:
    """A well-formed checksum (64 upper-case hex digits) that never verifies under ``key``: the HMAC of the same
    string under another key. With no key configured it is still a checksum nobody could have computed."""
    wrong = sign(params, f"not-{key or 'the-key'}")
    if key is not None and wrong == sign(params, key):  # pragma: no cover - an HMAC collision
        wrong = wrong[:-1] + ("0" if wrong[-1] != "0" else "1")
    return wrong
