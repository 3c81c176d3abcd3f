"""The console's text catalogue: every key in Armenian, Russian and English, none empty, the same placeholders in
every language, each language in its own script, and every key a template or view asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.web.console_texts import LANGUAGES, TEXTS, placeholders, text

ROOT = Path(__file__).resolve().parents[2]
ARMENIAN = re.compile(r"[\u0531-\u058f]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_key_has_a_text_in_every_language(key: str) -> None:
    assert set(TEXTS[key]) == set(LANGUAGES)
    for lang in LANGUAGES:
        assert TEXTS[key][lang].strip(), (key, lang)


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_placeholders_agree_across_languages(key: str) -> None:
    assert placeholders(TEXTS[key]["hy"]) == placeholders(TEXTS[key]["ru"]) == placeholders(TEXTS[key]["en"])


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_armenian_and_russian_are_translations_not_copies(key: str) -> None:
    hy, ru, en = (TEXTS[key][lang] for lang in ("hy", "ru", "en"))
    if not re.search(r"[A-Za-z]{3,}", en.replace("Ecwid", "").replace("TOTP", "").replace("CSV", "")):
        return  # nothing to translate (a code, an abbreviation)
    assert ARMENIAN.search(hy), key
    assert CYRILLIC.search(ru), key
    assert not CYRILLIC.search(hy) and not ARMENIAN.search(ru), key


def _keys_used() -> set[str]:
    used: set[str] = set()
    templates = (ROOT / "gateway" / "web" / "templates" / "ops").glob("*.html")
    modules = (ROOT / "gateway" / "web").glob("console_*.py")
    for path in [*templates, *modules]:
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]*[a-z0-9])["']""", source))
    # keys made from a prefix and a code
    used |= {f"src_{source}" for source in ("event", "refund", "outbox", "exception", "action")}
    used |= {f"login_{reason}" for reason in ("bad_credentials", "locked", "inactive", "totp_not_enrolled", "bad_totp")}
    retry_reasons = ("changed", "unchanged", "ecwid_delivered", "ecwid_not_delivered", "bank_unavailable")
    used |= {f"retry_{reason}" for reason in (*retry_reasons, "not_retryable", "no_bank_order", "unavailable")}
    for action in ("refund", "reverse", "capture"):
        used |= {action, f"{action}_title", f"confirm_{action}"}
    return used


def test_every_key_asked_for_exists() -> None:
    used = _keys_used()
    assert used, "no t(...) calls found"
    assert used - set(TEXTS) == set()


def test_text_fills_placeholders_and_falls_back_to_english() -> None:
    assert text("signed_in_as", "ru", username="anna") == "Вы вошли как anna"
    assert text("logout", "xx") == "Log out"
