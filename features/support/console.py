"""A page object for the gateway's operator console (``/ops/``), driven in the browser the way an operator works:
sign in, search a payment by its Ecwid order id, open it, press refund / reverse / capture, type an amount, confirm,
read the message the console flashes; open the exceptions queue, retry or resolve an exception with a note; open
the day's reconciliation and download its CSV.

It only clicks and reads what the operator sees (ids from ``gateway/web/templates/ops/*``). Every page it shows is
a page of the browser_factory's context, so the evidence recorder screenshots each one; pages opened in a second
tab are watched explicitly (``second_tab``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from features.support.evidence import ScenarioEvidence


@dataclass
class OperatorConsole:
    page: Page
    console_url: str
    evidence: ScenarioEvidence
    username: str = ""

    # --- signing in and finding a payment ------------------------------------------------------------------------

    def sign_in(self, username: str, password: str) -> None:
        self.page.goto(self.console_url + "login?lang=en")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("#login-submit")
        expect(self.page.locator("#signed-in")).to_contain_text(username)
        self.username = username
        self.shot("console: signed in")

    def find_payment(self, ecwid_order_id: str) -> None:
        """Search by the Ecwid order id from the payments page and open the one result with exactly that id."""
        self.page.click("#nav-payments")
        self.page.fill("#q", ecwid_order_id)
        self.page.click("#search-submit")
        exact = re.compile(f"^{re.escape(ecwid_order_id)}$")
        link = self.page.locator("#search-results a.payment-link").filter(has_text=exact)
        expect(link).to_have_count(1)
        self.shot(f"console: search for order {ecwid_order_id}")
        link.click()
        expect(self.page.locator("#payment-title")).to_contain_text(ecwid_order_id)
        self.shot(f"console: payment of order {ecwid_order_id}")

    def reload_payment(self) -> None:
        self.page.reload()
        expect(self.page.locator("#payment-title")).to_be_visible()

    def attempt_row(self, order_number: str) -> Locator:
        return self.page.locator("#attempts tbody tr", has_text=order_number)

    def attempt_state(self, order_number: str) -> str:
        return self.attempt_row(order_number).locator("td.state").inner_text().strip()

    def ecwid_status(self) -> str:
        return self.page.locator("#ecwid-status").inner_text().strip()

    def timeline_text(self) -> str:
        return self.page.locator("#timeline").inner_text()

    # --- money actions -------------------------------------------------------------------------------------------

    def start(self, action: str, order_number: str) -> None:
        """Press refund / reverse / capture on the attempt's row (the form, or for a reverse the confirmation)."""
        self.attempt_row(order_number).locator(f"a.money.{action}").click()
        self.page.wait_for_load_state()
        self.shot(f"console: {action} pressed")

    def enter_amount(self, amount: str) -> None:
        """Type ``amount`` (major units as typed; empty for the full amount) and continue."""
        expect(self.page.locator("#amount")).to_be_visible()
        self.page.fill("#amount", amount)
        self.shot(f"console: amount typed ({amount or 'empty'})")
        self.page.click("#money-continue")
        self.page.wait_for_load_state()
        self.shot("console: after the amount")

    def amount_error(self) -> str | None:
        error = self.page.locator("#amount-error")
        return error.inner_text().strip() if error.count() else None

    def question(self) -> str:
        """The confirmation page's question (the exact amount and currency)."""
        question = self.page.locator("#money-question")
        expect(question).to_be_visible()
        return question.inner_text().strip()

    def confirm(self) -> str:
        """Press "Yes, do it"; back on the payment page, the message the console flashed."""
        self.page.click("#money-confirm")
        expect(self.page.locator("#payment-title")).to_be_visible(timeout=30_000)
        self.shot("console: payment after the confirmation")
        return self.flash()

    def cancel(self) -> None:
        self.page.get_by_role("link", name="Cancel").click()
        expect(self.page.locator("#payment-title")).to_be_visible()

    def flash(self) -> str:
        flashes = self.page.locator("#flashes")
        return flashes.inner_text().strip() if flashes.count() else ""

    def second_tab(self) -> OperatorConsole:
        """The same operator's session in another tab (one browser context), watched for evidence."""
        tab = self.page.context.new_page()
        self.evidence.watch(tab)
        tab.goto(self.page.url)
        return OperatorConsole(tab, self.console_url, self.evidence, self.username)

    def shot(self, label: str) -> None:
        """A screenshot of the page the operator sees now, in the scenario's evidence."""
        self.evidence.page(self.page, label)

    # --- the exceptions queue ------------------------------------------------------------------------------------

    def open_exceptions(self, state: str = "open") -> None:
        self.page.click("#nav-exceptions")
        if state != "open":
            self.page.click(f"#filter-{state}")
        expect(self.page.locator("main h1")).to_be_visible()

    def exception_row(self, exception_id: int) -> Locator:
        return self.page.locator(f"tr#exception-{exception_id}")

    def retry(self, exception_id: int) -> str:
        self.exception_row(exception_id).locator("button.retry").click()
        expect(self.page.locator("#flashes")).to_be_visible()
        self.shot(f"console: exception {exception_id} retried")
        return self.flash()

    def resolve(self, exception_id: int, note: str) -> str:
        row = self.exception_row(exception_id)
        row.locator("textarea[name=note]").fill(note)
        row.locator("button.resolve").click()
        expect(self.page.locator("#flashes")).to_be_visible()
        self.shot(f"console: exception {exception_id} resolved")
        return self.flash()

    # --- reconciliation ------------------------------------------------------------------------------------------

    def open_reconciliation(self, day: str) -> Page:
        """Open the day's reconciliation report (HTML) from the reconciliation page; the report replaces the
        console page in the same tab."""
        self.page.click("#nav-reconcile")
        self.page.fill("#day", day)
        self.shot(f"console: reconciliation of {day}")
        self.page.click("#reconcile-html")
        expect(self.page.locator("#counts")).to_be_visible(timeout=60_000)
        self.shot(f"console: reconciliation report of {day}")
        return self.page

    def download_reconciliation_csv(self, day: str, folder: Path) -> str:
        """Download the day's reconciliation as CSV from the reconciliation page; the file's text."""
        self.page.goto(self.console_url + "reconcile")
        self.page.fill("#day", day)
        self.shot(f"console: reconciliation of {day}, before the CSV download")
        with self.page.expect_download(timeout=60_000) as download:
            self.page.click("#reconcile-csv")
        target = folder / download.value.suggested_filename
        download.value.save_as(target)
        return target.read_text(encoding="utf-8")


def wait_until(probe: Any, what: str, timeout_s: float = 20.0, interval_s: float = 0.25) -> Any:
    """Ask ``probe`` until it returns something truthy, at most ``timeout_s`` seconds; its last value otherwise
    fails with ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what} (last: {value!r})")
        time.sleep(interval_s)
