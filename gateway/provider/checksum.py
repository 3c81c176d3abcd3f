"""RBS callback checksum (protocols.md 2.8), verified over the raw parameters before anything else is parsed.

String: drop ``checksum`` and ``sign_alias``, sort by name, ``name;value;`` for each; HMAC-SHA256, hex.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

EXCLUDED = frozenset({"checksum", "sign_alias"})


def checksum_string(params: Mapping[str, str]) -> str:
    return "".join(f"{name};{params[name]};" for name in sorted(params) if name not in EXCLUDED)


def compute_checksum(params: Mapping[str, str], key: str) -> str:
    digest = hmac.new(key.encode("utf-8"), checksum_string(params).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest().upper()


def verify_checksum(params: Mapping[str, str], key: str) -> bool:
    """True only when ``checksum`` is present and matches, compared case-insensitively in constant time."""
    received = params.get("checksum")
    if not received:
        return False
    expected = compute_checksum(params, key)
    return hmac.compare_digest(expected.encode("ascii"), received.strip().upper().encode("ascii", "replace"))
