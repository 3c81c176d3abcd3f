"""The storefront's text catalogue (simulator.ecwid.texts): every key in every language, same placeholders."""

from __future__ import annotations

import string

import pytest

from simulator.ecwid.catalog import PRODUCTS
from simulator.ecwid.orders import PAYMENT_STATUSES
from simulator.ecwid.texts import TEXTS, product_name, texts
from simulator.vpos.register import LANGUAGES


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_there_is_a_catalogue_for_every_customer_language() -> None:
    assert set(TEXTS) == set(LANGUAGES) == {"hy", "ru", "en"}


@pytest.mark.parametrize("lang", ["hy", "ru"])
def test_every_key_exists_in_every_language(lang: str) -> None:
    assert set(TEXTS[lang]) == set(TEXTS["en"]), {
        "missing": sorted(set(TEXTS["en"]) - set(TEXTS[lang])),
        "extra": sorted(set(TEXTS[lang]) - set(TEXTS["en"])),
    }


@pytest.mark.parametrize("lang", ["hy", "ru", "en"])
def test_no_text_is_empty_and_placeholders_match_english(lang: str) -> None:
    for key, text in TEXTS[lang].items():
        assert text.strip(), f"{lang}.{key} is empty"
        assert placeholders(text) == placeholders(TEXTS["en"][key]), f"{lang}.{key}"


@pytest.mark.parametrize("lang", ["hy", "ru"])
def test_translations_are_not_english_copies(lang: str) -> None:
    same = [key for key, text in TEXTS[lang].items() if text == TEXTS["en"][key] and not key.startswith("lang_")]
    assert set(same) <= {"store_name"}, same


def test_every_product_and_common_status_has_a_name_in_every_language() -> None:
    for lang in LANGUAGES:
        for item in PRODUCTS:
            assert f"product.{item.sku}" in TEXTS[lang]
        for status in ("PAID", "AWAITING_PAYMENT", "INCOMPLETE", "CANCELLED", "REFUNDED", "PARTIALLY_REFUNDED"):
            assert status in PAYMENT_STATUSES
            assert f"status_{status}" in TEXTS[lang]


def test_texts_falls_back_to_english_and_product_name_to_the_given_name() -> None:
    assert texts("de") is TEXTS["en"]
    assert product_name("gata", "ru", "Gata sweet bread") == TEXTS["ru"]["product.gata"]
    assert product_name("not-a-sku", "hy", "Custom item") == "Custom item"
