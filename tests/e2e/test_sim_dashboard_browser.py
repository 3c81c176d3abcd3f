"""The simulator's dashboard in Debian's chromium over a real socket: a developer sees a bank order next to its
Ecwid order, pays it with the Pay button, advances the virtual clock, injects a bank fault through the form and
deletes it, reads the order's journal, and holds, duplicates, reorders, delivers, drops and replays its callbacks;
every button updates the page in place.

Screenshots go to ``tmp_path``, and also to ``$VPOSLAB_E2E_SCREENSHOTS`` when it is set (to look at them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from features.support.browser import shot
from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app, get_state
from simulator.testing import ServerThread

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CREDS = {"userName": "shop_amd", "password": "pw-amd"}


@pytest.fixture
def simulator() -> Iterator[str]:
    config = SimulatorConfig(
        public_url="http://127.0.0.1:1",
        payment_url="http://127.0.0.1:2/ecwid/payment",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", "secret_token_1003"),),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
        callback_key="shared-callback-key",
    )
    app = create_app(config)
    with ServerThread(app) as server:
        get_state(app).reconfigure(public_url=server.url)
        yield server.url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def ecwid_order(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = http.post("/_control/ecwid/orders", json={"storeId": 1003, "total": 15000.0, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def register(http: httpx.Client, number: str, amount: int, description: str, callback: str) -> str:
    params = {
        **CREDS,
        "orderNumber": number,
        "amount": str(amount),
        "returnUrl": "http://127.0.0.1:2/vpos/return",
        "description": description,
        "dynamicCallbackUrl": callback,
    }
    body = http.post("/payment/rest/register.do", data=params).json()
    assert body["errorCode"] == 0, body
    return str(body["orderId"])


def test_developer_pays_advances_the_clock_and_injects_a_fault(simulator: str, page: Page, tmp_path: Path) -> None:
    with httpx.Client(base_url=simulator, timeout=10) as http:
        assert http.put("/_control/clock", json={"mode": "manual"}).status_code == 200
        callback = f"{simulator}/_control/health"  # answers 200: the callbacks are delivered and journaled
        jam = ecwid_order(http, email="buyer@example.com", items=[{"name": "Apricot jam", "price": 15000}])
        md_order = register(http, "GW7K2M9Q4XA1", 1500000, f"Order {jam['id']}", callback)
        lavash = ecwid_order(http, total=1200.0, email="declined@example.com")
        declined = register(http, "GW3B8N1R6TZ2", 120000, f"Order {lavash['id']}", callback)
        pay = http.post(f"/_control/vpos/orders/{declined}/pay", json={"pan": "4000000000009995", "expiry": "12/39"})
        assert pay.status_code == 200
        ecwid_order(http, total=800.0, email="later@example.com")  # not registered at the bank yet

        page.goto(f"{simulator}/_control/dashboard")
        row = page.locator(f'tr[data-md-order="{md_order}"]')
        expect(row).to_contain_text("0 registered")
        expect(row).to_contain_text(jam["id"])
        expect(row).to_contain_text("15\N{NO-BREAK SPACE}000.00 AMD")
        expect(page.locator(f'tr[data-md-order="{declined}"]')).to_contain_text("6 declined")

        # Pay with the chosen test card: the row updates in place, the Ecwid order is still the gateway's to set.
        page.get_by_test_id("pay-card").select_option("4242424242424242")
        row.locator('button[data-action="pay"]').click()
        expect(row.get_by_test_id("order-status")).to_contain_text("2 deposited")
        expect(page.get_by_test_id("flash")).to_contain_text("HTTP 200")
        assert http.get(f"/_control/vpos/orders/{md_order}").json()["orderStatus"] == 2

        # Advance the virtual clock by 90 seconds through the form.
        page.locator("#advance-form input[name=seconds]").fill("90")
        page.locator("#advance-form button[type=submit]").click()
        expect(page.get_by_test_id("clock-offset")).to_contain_text("+90 s")
        assert http.get("/_control/clock").json()["offsetSeconds"] == 90

        # Inject a fault for this order through the form; the bank then answers 503, and the table counts it.
        form = page.locator("#fault-form")
        form.locator("input[name=method]").fill("getOrderStatusExtended.do")
        form.get_by_test_id("fault-kind").select_option("http_503")
        form.locator("input[name=times]").fill("2")
        form.locator("input[name=mdOrder]").fill(md_order)
        form.locator("button[type=submit]").click()
        faults = page.get_by_test_id("faults-table")
        expect(faults).to_contain_text("http_503")
        expect(faults).to_contain_text("2 of 2 left")
        listed = http.get("/_control/vpos/faults").json()["faults"]
        assert [(f["method"], f["fault"], f["times"], f["mdOrder"]) for f in listed] == [
            ("getOrderStatusExtended.do", "http_503", 2, md_order)
        ]
        status = http.post("/payment/rest/getOrderStatusExtended.do", data={**CREDS, "orderId": md_order})
        assert status.status_code == 503
        page.locator("#refresh").click()
        expect(faults).to_contain_text("1 of 2 left")
        shot(page, tmp_path, "dashboard")

        # The order's own page: bank and Ecwid side by side, its journal newest last.
        row.locator(f'a[href="/_control/dashboard/orders/{md_order}"]').click()
        expect(page.locator("h1")).to_contain_text("GW7K2M9Q4XA1")
        journal = page.locator("#journal-live")
        for operation in ("register.do", "pay", "callback", "getOrderStatusExtended.do"):
            expect(journal).to_contain_text(operation)
        expect(journal).not_to_contain_text("GW3B8N1R6TZ2")
        seqs = [int(s) for s in journal.locator("tr[data-seq]").evaluate_all("rows => rows.map(r => r.dataset.seq)")]
        assert seqs == sorted(seqs)
        shot(page, tmp_path, "dashboard-order")

        # Delete the fault from the order's page.
        page.locator("#actions-live button.danger").first.click()
        expect(page.locator("#actions-live")).to_contain_text("None. Add one")
        assert http.get("/_control/vpos/faults").json()["faults"] == []


def test_developer_holds_duplicates_reorders_delivers_drops_and_replays_callbacks(
    simulator: str, page: Page, tmp_path: Path
) -> None:
    with httpx.Client(base_url=simulator, timeout=10) as http:
        assert http.put("/_control/clock", json={"mode": "manual"}).status_code == 200
        order = ecwid_order(http)
        md_order = register(http, "GW5C1D8E2FH3", 1500000, f"Order {order['id']}", f"{simulator}/_control/health")

        page.goto(f"{simulator}/_control/dashboard/orders/{md_order}")
        callbacks = page.locator("#callbacks-live")
        callbacks.get_by_role("button", name="Hold its callbacks").click()
        expect(callbacks).to_contain_text("mode=hold")
        page.locator("#actions-live button[data-action=pay]").click()
        expect(page.locator("h1")).to_contain_text("2 deposited")
        pending = page.get_by_test_id("pending-callbacks")
        expect(pending.locator("tr[data-callback]")).to_have_count(1)
        first = pending.locator("tr[data-callback]").first.get_attribute("data-callback")

        pending.get_by_role("button", name="Duplicate").click()
        expect(pending.locator("tr[data-callback]")).to_have_count(2)
        pending.locator(f'tr[data-callback="{first}"]').get_by_role("button", name="↓").click()
        expect(pending.locator("tr[data-callback]").last).to_have_attribute("data-callback", str(first))
        queue = http.get("/_control/vpos/callbacks/pending").json()["orders"][0]["callbacks"]
        assert [str(callback["id"]) for callback in queue][-1] == first
        shot(page, tmp_path, "dashboard-callbacks")

        pending.locator("tr[data-callback]").first.get_by_role("button", name="Deliver").click()
        expect(pending.locator("tr[data-callback]")).to_have_count(1)
        pending.get_by_role("button", name="Drop").click()
        expect(callbacks).to_contain_text("None.")
        sent = page.get_by_test_id("sent-callbacks")
        expect(sent.locator("tr[data-callback]")).to_have_count(2)  # one delivered, one dropped
        expect(sent).to_contain_text("delivered")
        expect(sent).to_contain_text("dropped")

        sent.locator("tr[data-callback]", has_text="delivered").get_by_role("button", name="Replay").click()
        expect(sent).to_contain_text("replay of #")
        states = sorted(c["state"] for c in http.get(f"/_control/vpos/orders/{md_order}/callbacks").json()["callbacks"])
        assert states == ["delivered", "delivered", "dropped"]
        expect(page.locator("#journal-live")).to_contain_text("callback dropped")


def test_developer_decides_orders_without_a_card(simulator: str, page: Page, tmp_path: Path) -> None:
    with httpx.Client(base_url=simulator, timeout=10) as http:
        assert http.put("/_control/clock", json={"mode": "manual"}).status_code == 200
        callback = f"{simulator}/_control/health"
        declined = register(http, "GW9D2E7F1GH4", 500000, "Order DECLINE", callback)
        waiting = register(http, "GW4H6J8K2LM5", 700000, "Order PENDING", callback)

        # Decline with a chosen actionCode.
        page.goto(f"{simulator}/_control/dashboard/orders/{declined}")
        page.locator("#decline-form select[name=actionCode]").select_option("116")
        page.locator("#decline-form button[type=submit]").click()
        expect(page.locator("h1")).to_contain_text("6 declined")
        expect(page.locator("#actions-live")).to_contain_text("None: orderStatus 6 declined")
        assert http.get(f"/_control/vpos/orders/{declined}").json()["actionCode"] == 116

        # Hold in 3-D Secure, then leave it pending for 30 s, resolving to declined.
        page.goto(f"{simulator}/_control/dashboard/orders/{waiting}")
        page.get_by_test_id("outcome-hold3ds").click()
        expect(page.locator("h1")).to_contain_text("5 3-D Secure in progress")
        expect(page.get_by_test_id("customer-page")).to_have_attribute("href", re.compile(r"/payment/acs/"))
        page.locator("#pending-form input[name=resolveAfterSeconds]").fill("30")
        page.locator("#pending-form select[name=resolveTo]").select_option("declined")
        page.locator("#pending-form button[type=submit]").click()
        expect(page.locator("h1")).to_contain_text("7 pending")
        shot(page, tmp_path, "dashboard-pending")

        # The pending order resolves when the clock gets there.
        page.goto(f"{simulator}/_control/dashboard")
        row = page.locator(f'tr[data-md-order="{waiting}"]')
        expect(row).to_contain_text("7 pending")
        expect(row.get_by_role("link", name="Decide…")).to_be_visible()
        page.locator("#advance-form input[name=seconds]").fill("30")
        page.locator("#advance-form button[type=submit]").click()
        expect(row.get_by_test_id("order-status")).to_contain_text("6 declined")
        assert http.get(f"/_control/vpos/orders/{waiting}").json()["orderStatus"] == 6
