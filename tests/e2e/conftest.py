"""Browser fixtures for the e2e tests: one chromium per test module, a fresh context per page (skipped, with the
reason, when Debian's chromium is not installed).

Module scope, not session scope: Playwright's sync API runs its own event loop, and one left open would make the
feature suite's own Playwright (started later in the same pytest run) fail with "Sync API inside the asyncio loop"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from features.support.browser import CHROMIUM, OpenPage, launch, new_context
from tests.e2e.whole_lab_run import whole_lab_run as whole_lab_run  # one whole lab run per session, shared


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (bash scripts/setup.sh installs it)")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = launch(playwright)
    yield launched
    launched.close()


@pytest.fixture
def open_page(browser: Browser, playwright: Playwright) -> Iterator[OpenPage]:
    """``open_page("desktop")`` or ``open_page("iPhone 13")``: a page on its own fresh context."""
    contexts = []

    def open_for(device: str) -> Page:
        context = new_context(browser, playwright, device)
        contexts.append(context)
        return context.new_page()

    yield open_for
    for context in contexts:
        context.close()
