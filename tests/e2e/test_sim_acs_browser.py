"""The issuer's 3-D Secure ACS page in Debian's chromium over real sockets (the lab: gateway + simulator), on a
desktop and on an emulated iPhone 13: the page in the order's language without sideways scrolling, a wrong code
shown, the magic code passing to the thank-you page, and Fail bringing the customer back to checkout.

Screenshots go to ``tmp_path``, and also to ``$VPOSLAB_E2E_SCREENSHOTS`` when it is set (to look at them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from features.support.browser import OpenPage, assert_no_horizontal_scroll, shot
from lab import Lab
from simulator.vpos.texts import ACS_TEXTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PHONE = "iPhone 13"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with Lab(tmp_path_factory.mktemp("acs-browser")) as running:
        yield running


def to_acs(page: Page, lab: Lab, lang: str, pan: str) -> None:
    """One-click buy in ``lang``, pay with a challenge card: the browser lands on the ACS page."""
    page.goto(lab.storefront_url)
    page.fill("#quantity-gata", "1")
    page.select_option("#lang-gata", lang)
    page.click("#buy-gata")
    page.click("#pay-button")
    expect(page.locator("#card-form")).to_be_visible()
    page.fill("#pan", pan)
    page.fill("#expiry", "12/30")
    page.fill("#cvc", "123")
    page.click("#pay")
    expect(page.get_by_test_id("acs-page")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", lang)


@pytest.mark.parametrize(("device", "lang"), [("desktop", "en"), (PHONE, "hy")])
def test_a_challenge_passed_with_the_magic_code_ends_on_the_thank_you_page(
    open_page: OpenPage, lab: Lab, tmp_path: Path, device: str, lang: str
) -> None:
    page = open_page(device)
    to_acs(page, lab, lang, "4000000000003220")
    expect(page.locator("body")).to_have_class("page-desktop" if device == "desktop" else "page-mobile")
    expect(page.get_by_test_id("acs-brand")).to_have_text("Visa Secure")
    expect(page.locator("#acs-pass")).to_have_text(ACS_TEXTS[lang]["pass"])
    assert_no_horizontal_scroll(page)
    shot(page, tmp_path, f"acs-{lang}-{device.replace(' ', '')}")
    page.fill("#otp", "111111")
    page.click("#acs-pass")
    expect(page.get_by_test_id("acs-error")).to_have_text(ACS_TEXTS[lang]["wrong_otp"].format(left=2))
    page.fill("#otp", "123456")
    page.click("#acs-pass")
    expect(page.get_by_test_id("thank-you")).to_be_visible()
    expect(page.get_by_test_id("payment-status")).to_have_text("PAID")


def test_fail_at_the_acs_returns_to_checkout_with_a_message(open_page: OpenPage, lab: Lab, tmp_path: Path) -> None:
    page = open_page(PHONE)
    to_acs(page, lab, "ru", "5555555555555599")
    expect(page.get_by_test_id("acs-brand")).to_have_text("Mastercard Identity Check")
    assert_no_horizontal_scroll(page)
    page.click("#acs-fail")
    expect(page.get_by_test_id("checkout-error")).to_be_visible()
    expect(page.locator("#pay-again")).to_be_visible()
    shot(page, tmp_path, "acs-failed-ru-iphone")
