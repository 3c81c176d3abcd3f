"""Steps of the phone features: the bank page in its mobile view and the way back to the store on a phone (RC-22),
and an in-app browser (Instagram, Facebook) that closes before the customer is sent back, so only the server can
settle the payment (RC-23).

Phones are Playwright's device emulation on chromium ("iPhone": iPhone 13, "Android": Pixel 7, the names of the
``browser_factory`` fixture). An in-app browser is the same phone with the user agent its app's web view sends (no
``Safari`` on iOS, ``wv`` on Android, the app's own suffix); it is opened here, on a context of its own, because the
app closes it (the context) while the customer's payment is on its way back. The shared steps (``common_steps.py``,
``bank_flow_steps.py``, ``chaos_steps.py``) are reused by their text; the state they return (``shopper``,
``order_under_test``, ``baseline``) is requested by name, and what these steps produce travels the same way,
registered in ``scenario_state`` for the evidence. Checks read the outside world only: the page, the simulator's
request journal and bank orders, and the Ecwid order."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect
from pytest_bdd import given, parsers, then, when

from features.support.browser import PHONES, Contexts, assert_no_horizontal_scroll
from features.support.control import SimulatorControl
from features.support.evidence import ScenarioEvidence
from features.support.gateway_api import ConsoleApi
from features.support.state import Baseline, EcwidOrderUnderTest, ScenarioState, Shopper
from lab import Lab
from lab.lab import STORE_ID

"""The phones of ``browser_factory`` (features/conftest.py), by the same names."""

APP_SUFFIXES = {
    ("Instagram", "iPhone"): "Instagram 300.0.0.18.119 (iPhone14,5; iOS 15_0; en_US; en-US; scale=3.00; 1170x2532)",
    ("Instagram", "Android"): "Instagram 300.0.0.29.110 Android (34/14; 420dpi; 1080x2400; Google/google; Pixel 7)",
    ("Facebook", "iPhone"): "[FBAN/FBIOS;FBAV/440.0.0.0;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/15.0;FBLC/en_US]",
    ("Facebook", "Android"): "[FB_IAB/FB4A;FBAV/440.0.0.0;]",
}
"""What each app appends to its web view's user agent."""


@dataclass(frozen=True)
class InAppShopper(Shopper):
    """A customer in an app's in-app browser: the phone and the app it runs in."""

    device: str = "iPhone"
    app: str = "Instagram"


@dataclass(frozen=True)
class ClosedInApp:
    """An in-app browser closed while the bank was sending the customer back: the phone, and the URL the bank's
    redirect was on its way to when the app closed its browser (never requested from the gateway)."""

    device: str
    app: str
    cut_off_url: str

    def evidence_values(self) -> Mapping[str, Any]:
        return {"cut_off_url": self.cut_off_url}


class OpenInApp(Protocol):
    def __call__(self, device: str, app: str) -> Page: ...


def in_app_user_agent(phone_user_agent: str, device: str, app: str) -> str:
    """The user agent of ``app``'s web view on the phone whose browser sends ``phone_user_agent``: WKWebView on iOS
    has no ``Version/...`` and no ``Safari/...``; Android's WebView adds ``wv`` and ``Version/4.0``."""
    if device == "iPhone":
        base = re.sub(r" Safari/\S+", "", re.sub(r" Version/\S+", "", phone_user_agent))
    elif device == "Android":
        base = re.sub(r"\)", "; wv)", phone_user_agent, count=1).replace(" Chrome/", " Version/4.0 Chrome/", 1)
    else:
        raise AssertionError(f"in-app browsers are phone browsers, not {device!r}")
    return f"{base} {APP_SUFFIXES[(app, device)]}"


@pytest.fixture
def in_app_browser(browser: Browser, playwright_session: Playwright, evidence: ScenarioEvidence) -> Iterator[OpenInApp]:
    """Opens a page in ``app``'s in-app browser on ``device``: a context of its own (the app closes it), emulating
    the phone with the web view's user agent; every page is watched for the evidence, like ``browser_factory``'s."""
    contexts = Contexts(browser, playwright_session, evidence.watch)

    def open_page(device: str, app: str) -> Page:
        descriptor = PHONES[device]
        user_agent = in_app_user_agent(playwright_session.devices[descriptor]["user_agent"], device, app)
        return contexts.page(descriptor, user_agent=user_agent)

    yield open_page
    for context in contexts.opened:
        with contextlib.suppress(Exception):  # closed by the scenario already
            context.close()


def _screen_fit(page: Page) -> None:
    """The page is laid out for the screen it is on (a phone's width, not a zoomed-out desktop layout: without a
    viewport meta a phone lays pages out 980 px wide) and never scrolls sideways."""
    viewport = page.viewport_size
    assert viewport is not None
    sizes = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
        " layout: document.documentElement.clientWidth})"
    )
    assert sizes["layout"] <= viewport["width"], (
        f"{page.url} is laid out {sizes['layout']}px wide on a {viewport['width']}px screen"
    )
    assert sizes["scroll"] <= sizes["inner"], (
        f"{page.url} scrolls sideways: {sizes['scroll']}px of content in a {sizes['inner']}px window"
    )
    assert_no_horizontal_scroll(page)


def _register_entries(control: SimulatorControl, baseline: Baseline, order_number: str) -> list[dict[str, Any]]:
    return [
        e
        for e in control.journal(since=baseline.mark, service="vpos")
        if e["operation"] in ("register.do", "registerPreAuth.do") and e["params"].get("orderNumber") == order_number
    ]


# --- Given ------------------------------------------------------------------------------------------------------


@given(
    parsers.parse('a customer opens the store in the "{app}" in-app browser on their {device}'),
    target_fixture="shopper",
)
def customer_in_app(
    baseline: Baseline, scenario_state: ScenarioState, in_app_browser: OpenInApp, lab: Lab, app: str, device: str
) -> InAppShopper:
    shopper = InAppShopper(in_app_browser(device, app), "en", device=device, app=app)
    scenario_state.register(shopper)
    assert APP_SUFFIXES[(app, device)] in shopper.page.evaluate("navigator.userAgent")
    shopper.page.goto(lab.storefront_url)
    return shopper


# --- When -------------------------------------------------------------------------------------------------------


@when(
    parsers.parse('pays on the bank page with card "{pan}", and the app closes its browser before the return'),
    target_fixture="closed_in_app",
)
def pay_and_app_closes(
    shopper: Shopper, scenario_state: ScenarioState, evidence: ScenarioEvidence, lab: Lab, pan: str
) -> ClosedInApp:
    """The customer pays; the bank decides and redirects the browser back; before that redirect reaches the
    gateway, the app closes its browser (the customer switched back to the feed): the return never happens."""
    assert isinstance(shopper, InAppShopper), "the customer is not in an in-app browser"
    page = shopper.page
    expect(page.locator("#card-form")).to_be_visible()
    page.fill("#pan", pan)
    page.fill("#expiry", "12/30")
    page.fill("#cardholder", "ANI PETROSYAN")
    page.fill("#cvc", "123")
    evidence.page(page, f"bank page in the {shopper.app} in-app browser, card entered")
    # Nothing leaves the bank's page for the gateway any more: the first such request is where the app cut it off.
    page.context.route(f"{lab.gateway_url}/**", lambda route: route.abort())
    with page.expect_request(lambda r: r.url.startswith(lab.gateway_url), timeout=15_000) as back:
        page.click("#pay", no_wait_after=True)
    cut_off = back.value.url
    page.context.close()
    closed = ClosedInApp(shopper.device, shopper.app, cut_off)
    scenario_state.register(closed)
    evidence.note(
        "in-app browser closed",
        f"the {shopper.app} in-app browser on the {shopper.device} closed after the bank took the card; the bank's"
        f" redirect to {cut_off} was never followed",
    )
    return closed


@when("the gateway's clock moves past its longest wait between two status checks of an open payment")
def gateway_clock_past_poll(lab: Lab, console_api: ConsoleApi) -> None:
    """Every open attempt's next status check is due within ``poll_max_interval_s``: past it, the worker's next
    pass (every second) asks the bank. Only the gateway's clock moves: the bank's sessions stay open."""
    lab.advance_gateway_clock(console_api.timings().poll_max_interval_s + 1)


@when(
    "the customer opens the order again later in their phone's own browser and presses pay",
    target_fixture="shopper",
)
def reopen_order(
    closed_in_app: ClosedInApp,
    order_under_test: EcwidOrderUnderTest,
    scenario_state: ScenarioState,
    browser_factory: Any,
    evidence: ScenarioEvidence,
    lab: Lab,
) -> Shopper:
    """Not sure the payment went through, the customer opens the order in the store again (their phone's own
    browser this time) and presses pay: the store posts a new payment request to the gateway."""
    page: Page = browser_factory(closed_in_app.device)
    shopper = Shopper(page, "en")
    scenario_state.register(shopper)
    page.goto(f"{lab.simulator_url}/store/{STORE_ID}/orders/{order_under_test.order_id}/pay")
    expect(page.get_by_test_id("order-id")).to_have_text(order_under_test.order_id)
    evidence.page(page, "store: the order's payment page, reopened later on the phone")
    page.click("#pay-button")
    page.wait_for_load_state()
    return shopper


# --- Then -------------------------------------------------------------------------------------------------------


@then(parsers.parse('the gateway registered the attempt\'s bank order with pageView "{view}"'))
def registered_with_page_view(
    order_under_test: EcwidOrderUnderTest, baseline: Baseline, control: SimulatorControl, view: str
) -> None:
    bank_order = control.bank_order(order_under_test.attempt_md_order)
    registers = _register_entries(control, baseline, bank_order["orderNumber"])
    assert len(registers) == 1, [e["summary"] for e in registers]
    sent = registers[0]["params"].get("pageView")
    assert sent == view, f"the gateway registered {bank_order['orderNumber']} with pageView {sent!r}, not {view!r}"
    assert bank_order["pageView"] == view, bank_order["pageView"]


@then("the bank's card page fits the screen without sideways scrolling")
def bank_page_fits(shopper: Shopper) -> None:
    expect(shopper.page.locator("#card-form")).to_be_visible()
    _screen_fit(shopper.page)


@then("the page the customer sees fits the screen without sideways scrolling")
def page_fits(shopper: Shopper) -> None:
    _screen_fit(shopper.page)


@then("the customer never came back from the bank page to the gateway or the store")
def never_came_back(
    closed_in_app: ClosedInApp,
    order_under_test: EcwidOrderUnderTest,
    shopper: Shopper,
    baseline: Baseline,
    control: SimulatorControl,
    lab: Lab,
) -> None:
    assert shopper.page.is_closed(), "the in-app browser is still open"
    bank_order = control.bank_order(order_under_test.attempt_md_order)
    assert bank_order["orderStatus"] == 2, bank_order["orderStatus"]  # the bank took the card before the app closed
    # The bank's redirect was headed for the gateway's return URL of this very attempt, and was cut off there.
    assert closed_in_app.cut_off_url.startswith(f"{lab.gateway_url}/vpos/return"), closed_in_app.cut_off_url
    assert bank_order["orderNumber"] in closed_in_app.cut_off_url, closed_in_app.cut_off_url
    returns = [
        e
        for e in control.journal(since=baseline.mark, service="store")
        if e["operation"] == "return" and f"order={order_under_test.order_id}" in e["summary"]
    ]
    assert returns == [], [e["summary"] for e in returns]
