"""The pages a shopper sees, in Debian's chromium over real sockets (the lab: gateway + simulator), on a desktop and
on an emulated iPhone 13: no horizontal scrolling, texts in hy/ru/en, a working cart, the card number grouped as
typed, every card-form error shown at once next to its field, the TEST card table, and a decline retried.

Screenshots go to ``tmp_path``, and also to ``$VPOSLAB_E2E_SCREENSHOTS`` when it is set (to look at them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from features.support.browser import OpenPage, assert_no_horizontal_scroll, shot
from lab import Lab
from simulator.ecwid.texts import TEXTS as STORE
from simulator.vpos.cards import TEST_CARDS
from simulator.vpos.texts import TEXTS as BANK

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PHONE = "iPhone 13"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with Lab(tmp_path_factory.mktemp("store-browser")) as running:
        yield running


def below(message: Locator, field: Locator) -> None:
    """``message`` sits right under ``field``, in the same column."""
    field_box, message_box = field.bounding_box(), message.bounding_box()
    assert field_box and message_box
    gap = message_box["y"] - (field_box["y"] + field_box["height"])
    assert 0 <= gap < 24, gap
    assert abs(message_box["x"] - field_box["x"]) < 4


def go_to_bank_with_one_click_buy(page: Page, lab: Lab, lang: str, sku: str = "gata") -> None:
    page.goto(lab.storefront_url)
    page.fill(f"#quantity-{sku}", "1")
    page.select_option(f"#lang-{sku}", lang)
    page.click(f"#buy-{sku}")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("#pay-button")).to_have_text(STORE[lang]["pay_by_card"])
    page.click("#pay-button")
    expect(page.locator("#card-form")).to_be_visible()


def pay(page: Page, pan: str) -> None:
    page.fill("#pan", pan)
    page.fill("#expiry", "12/30")
    page.fill("#cardholder", "ANI PETROSYAN")
    page.fill("#cvc", "123")
    page.click("#pay")


@pytest.mark.parametrize("device", ["desktop", PHONE])
@pytest.mark.parametrize("lang", ["hy", "ru", "en"])
def test_storefront_speaks_each_language_without_sideways_scrolling(
    open_page: OpenPage, lab: Lab, tmp_path: Path, device: str, lang: str
) -> None:
    page = open_page(device)
    page.goto(lab.storefront_url)
    page.click(f"#store-lang-{lang}")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("h1")).to_have_text(STORE[lang]["products"])
    expect(page.locator("#buy-lavash")).to_have_text(STORE[lang]["buy_now"])
    expect(page.get_by_test_id("product-lavash")).to_contain_text(STORE[lang]["product.lavash"])
    expect(page.locator("#lang-lavash")).to_have_value(lang)
    assert_no_horizontal_scroll(page)
    page.goto(lab.storefront_url)  # the choice is remembered
    expect(page.locator("html")).to_have_attribute("lang", lang)
    shot(page, tmp_path, f"storefront-{lang}-{device.replace(' ', '')}")


def test_a_phone_shopper_fills_a_cart_pays_and_is_thanked_in_russian(
    open_page: OpenPage, lab: Lab, tmp_path: Path
) -> None:
    page = open_page(PHONE)
    page.goto(lab.storefront_url + "?lang=ru")
    page.fill("#quantity-apricot-jam", "2")
    page.click("#add-apricot-jam")
    expect(page.get_by_test_id("in-cart-apricot-jam")).to_contain_text("2")
    page.click("#add-lavash")
    expect(page.get_by_test_id("cart-count")).to_have_text("3")
    page.click("#cart-link")
    expect(page.get_by_test_id("cart")).to_have_text(STORE["ru"]["cart_title"])
    expect(page.get_by_test_id("cart-total")).to_have_text("16,200.00 AMD")
    assert_no_horizontal_scroll(page)
    page.fill("#cart-quantity-lavash", "2")
    page.click("#cart-update")
    expect(page.get_by_test_id("cart-total")).to_have_text("17,400.00 AMD")
    shot(page, tmp_path, "cart-ru-iphone")

    page.click("#cart-checkout")
    expect(page.locator("#pay-button")).to_have_text(STORE["ru"]["pay_by_card"])
    expect(page.get_by_test_id("order-item")).to_have_count(2)
    expect(page.get_by_test_id("order-total")).to_have_text("17,400.00 AMD")
    assert_no_horizontal_scroll(page)
    shot(page, tmp_path, "payment-ru-iphone")

    page.click("#pay-button")
    expect(page.locator("body")).to_have_class("page-mobile")
    expect(page.locator("#pay")).to_contain_text(BANK["ru"]["pay"])
    assert_no_horizontal_scroll(page)
    pay(page, "4242424242424242")
    expect(page.get_by_test_id("thank-you")).to_have_text(STORE["ru"]["thank_you"])
    expect(page.get_by_test_id("payment-status")).to_have_text("PAID")
    assert_no_horizontal_scroll(page)
    shot(page, tmp_path, "thank-you-ru-iphone")
    page.click("#cart-link")
    expect(page.get_by_test_id("cart-empty")).to_be_visible()  # the paid cart is gone


@pytest.mark.parametrize("device", ["desktop", PHONE])
def test_card_number_is_grouped_and_every_error_is_shown_at_once(
    open_page: OpenPage, lab: Lab, tmp_path: Path, device: str
) -> None:
    page = open_page(device)
    go_to_bank_with_one_click_buy(page, lab, "hy")
    pan, expiry, cvc = page.locator("#pan"), page.locator("#expiry"), page.locator("#cvc")
    pan.press_sequentially("4242424242424242")
    expect(pan).to_have_value("4242 4242 4242 4242")
    expiry.press_sequentially("1230")
    expect(expiry).to_have_value("12/30")

    pan.fill("")
    expiry.fill("13/30")
    cvc.fill("1")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.click("#pay")
    assert answer.value.status == 400
    expect(page.get_by_test_id("form-error")).to_be_visible()
    for field in ("pan", "expiry", "cvc"):
        message = page.get_by_test_id(f"error-{field}")
        expect(message).to_have_text(BANK["hy"][f"error_{field}"])
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
        below(message, page.locator(f"#{field}"))
    assert_no_horizontal_scroll(page)
    shot(page, tmp_path, f"card-errors-hy-{device.replace(' ', '')}")

    table = page.get_by_test_id("test-cards")
    expect(table.locator("tbody tr").first).to_be_hidden()  # collapsed until asked for
    table.locator("summary").click()
    expect(table.locator("tbody tr")).to_have_count(len(TEST_CARDS))
    expect(table).to_contain_text("4000 0000 0000 9995")
    assert_no_horizontal_scroll(page)
    shot(page, tmp_path, f"card-test-table-hy-{device.replace(' ', '')}")
    table.locator('button[data-pan="4242424242424242"]').click()
    expect(pan).to_have_value("4242 4242 4242 4242")
    expiry.fill("12/30")
    cvc.fill("123")
    page.click("#pay")
    expect(page.get_by_test_id("thank-you")).to_have_text(STORE["hy"]["thank_you"])


@pytest.mark.parametrize(("device", "lang", "message"), [(PHONE, "hy", "անբավարար միջոցներ"), ("desktop", "ru", None)])
def test_a_declined_shopper_reads_why_in_their_language_and_pays_again(
    open_page: OpenPage, lab: Lab, tmp_path: Path, device: str, lang: str, message: str | None
) -> None:
    page = open_page(device)
    go_to_bank_with_one_click_buy(page, lab, lang)
    first_bank_page = page.url
    pay(page, "4000000000009995")
    expect(page.get_by_test_id("checkout")).to_have_text(STORE[lang]["checkout_title"])
    expect(page.get_by_role("alert")).to_contain_text(STORE[lang]["payment_failed"])
    error = page.get_by_test_id("checkout-error")
    expect(error).to_be_visible()
    if message:
        expect(error).to_contain_text(message)
    assert re.search(r"[\u0531-\u058f\u0400-\u04ff]", error.inner_text()), "the bank's reason is not in English"
    retry = page.locator("#pay-again")
    expect(retry).to_have_text(STORE[lang]["pay_again"])
    assert retry.bounding_box() is not None and error.bounding_box() is not None
    assert_no_horizontal_scroll(page)
    shot(page, tmp_path, f"declined-{lang}-{device.replace(' ', '')}")

    retry.click()  # one click: straight to a new bank page
    expect(page.locator("#card-form")).to_be_visible()
    assert page.url != first_bank_page, "a retry is a new bank order"
    pay(page, "4242424242424242")
    expect(page.get_by_test_id("thank-you")).to_have_text(STORE[lang]["thank_you"])
