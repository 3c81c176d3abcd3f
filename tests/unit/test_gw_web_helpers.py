"""Small pure helpers behind the web layer: the bank page view from the User-Agent, the failure redirect to
Ecwid's returnUrl, and the customer texts in hy / ru / en."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from gateway.services.customer_return import with_error_message
from gateway.services.messages import MESSAGES, decline_message, language_of, message
from gateway.web.ecwid_views import page_view_for

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
DESKTOP_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
DESKTOP_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)
RETURN_URL = "https://mystore.example/checkout?clientId=my-pay-app&timestamp=1751294405226&key=abcdefgh"


@pytest.mark.parametrize("agent", [IPHONE, ANDROID], ids=["iphone", "android"])
def test_phones_get_the_mobile_bank_page(agent: str) -> None:
    assert page_view_for(agent) == "MOBILE"


@pytest.mark.parametrize("agent", [DESKTOP_CHROME, DESKTOP_SAFARI, "", None], ids=["chrome", "safari", "empty", "none"])
def test_desktops_and_unknown_agents_get_the_desktop_bank_page(agent: str | None) -> None:
    assert page_view_for(agent) == "DESKTOP"


def test_error_message_keeps_return_url_exactly_and_appends_encoded_text() -> None:
    text = "Платёж отклонён: недостаточно средств & more?"
    url = with_error_message(RETURN_URL, text)
    assert url.startswith(RETURN_URL + "&errorMsg=")
    encoded = url[len(RETURN_URL + "&errorMsg=") :]
    assert re.fullmatch(r"[A-Za-z0-9%._~-]*", encoded), encoded  # nothing left unencoded (no '&', '?', ' ')
    assert unquote(encoded) == text
    query = parse_qs(urlsplit(url).query)
    assert query["errorMsg"] == [text]
    assert query["timestamp"] == ["1751294405226"] and query["key"] == ["abcdefgh"]


def test_error_message_uses_a_question_mark_when_return_url_has_no_query() -> None:
    assert with_error_message("https://mystore.example/checkout", "a b") == (
        "https://mystore.example/checkout?errorMsg=a%20b"
    )


@pytest.mark.parametrize(
    ("action_code", "key"),
    [("116", "insufficient_funds"), ("101", "expired_card"), ("100", "declined"), (None, "declined")],
)
@pytest.mark.parametrize("lang", ["hy", "ru", "en"])
def test_decline_messages_follow_action_code_and_language(action_code: str | None, key: str, lang: str) -> None:
    assert decline_message(action_code, lang) == MESSAGES[lang][key]


def test_decline_messages_are_really_in_three_languages() -> None:
    armenian, russian, english = (decline_message("116", lang) for lang in ("hy", "ru", "en"))
    assert re.search("[\u0530-\u058f]", armenian)
    assert re.search("[\u0400-\u04ff]", russian)
    assert english.isascii() and "insufficient funds" in english
    assert len({decline_message(code, "en") for code in ("116", "101", "100")}) == 3


@pytest.mark.parametrize(
    ("lang", "expected"), [("hy", "hy"), ("am", "hy"), ("ru", "ru"), ("RU-ru", "ru"), ("de", "en"), (None, "en")]
)
def test_language_of_falls_back_to_english(lang: str | None, expected: str) -> None:
    assert language_of(lang) == expected


def test_every_language_has_every_message() -> None:
    keys = set(MESSAGES["en"])
    for lang in ("hy", "ru"):
        assert set(MESSAGES[lang]) == keys
    assert message("timeout", "hy") == MESSAGES["hy"]["timeout"]
