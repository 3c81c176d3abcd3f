"""How the project drives Debian's chromium (docs/tooling.md), in one place for the feature suite and the e2e tests:
the executable, the launch arguments that keep it quiet on a closed network, contexts per device, screenshots a
person can look at, and the no-sideways-scrolling check. ``features/conftest.py`` and ``tests/e2e/conftest.py``
turn these into fixtures."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, Playwright

CHROMIUM = os.environ.get("VPOSLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
DESKTOP_VIEWPORT = {"width": 1280, "height": 720}
# The device names the features use, and the Playwright descriptor each emulates (None: a desktop browser).
DEVICES: dict[str, str | None] = {"desktop": None, "iPhone": "iPhone 13", "Android": "Pixel 7"}
PHONES = {name: descriptor for name, descriptor in DEVICES.items() if descriptor is not None}
OpenPage = Callable[[str], Page]
"""``open_page("desktop")`` or ``open_page("iPhone 13")`` (the ``open_page`` fixture)."""


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def new_context(
    browser: Browser,
    playwright: Playwright,
    device: str = "desktop",
    *,
    viewport: dict[str, int] | None = None,
    user_agent: str | None = None,
) -> BrowserContext:
    """A fresh context: "desktop" (``viewport``, 1280x720 by default) or a Playwright device name, emulated on
    chromium (the device's ``default_browser_type``, webkit for iPhones, is dropped); ``user_agent`` replaces the
    one the device sends (an in-app browser's web view)."""
    options: dict[str, Any] = {"viewport": viewport or DESKTOP_VIEWPORT}
    if device != "desktop":
        options = dict(playwright.devices[device])
        options.pop("default_browser_type", None)
    if user_agent is not None:
        options["user_agent"] = user_agent
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    return context


class Contexts:
    """The fresh contexts a fixture opens for one test, a page each (``page``), every page handed to ``watch``
    (the scenario's evidence); ``opened`` to close them when the test is over (``close``)."""

    def __init__(self, browser: Browser, playwright: Playwright, watch: Callable[[Page], None]) -> None:
        self.browser = browser
        self.playwright = playwright
        self.watch = watch
        self.opened: list[BrowserContext] = []

    def page(self, device: str = "desktop", *, user_agent: str | None = None) -> Page:
        """A page on a fresh ``new_context``, watched."""
        context = new_context(self.browser, self.playwright, device, user_agent=user_agent)
        self.opened.append(context)
        page = context.new_page()
        self.watch(page)
        return page

    def close(self) -> None:
        for context in self.opened:
            context.close()


def shot(page: Page, folder: Path, name: str) -> Path:
    """A full-page screenshot in ``folder``, copied to ``$VPOSLAB_E2E_SCREENSHOTS`` when set (to look at it)."""
    path = folder / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # sticky headers: a full-page shot shows them where they stand
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("VPOSLAB_E2E_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)
    return path


def assert_no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"
