"""Text hygiene for strings that come from outside: which characters are never legitimate in a value we store,
echo, log or put in a header. Pure Python; the Ecwid schema and the web layer's parameter guard both use it."""

from __future__ import annotations

import re

# C0 controls (NUL, tab, CR, LF...), DEL, C1 controls, and UTF-16 surrogates: a lone surrogate (JSON "\ud800")
# cannot be encoded as UTF-8, so the database driver, the log handler or the response would fail on it later.
UNSAFE_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def has_unsafe_characters(text: str) -> bool:
    """True when ``text`` holds a control character (C0, DEL, C1) or a lone surrogate."""
    return UNSAFE_CHARACTERS.search(text) is not None
