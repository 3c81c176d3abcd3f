"""The simulator's dashboard (``GET /_control/dashboard``): a server-rendered page a developer reads without
JavaScript (bank orders next to their Ecwid orders, the clock, faults, callbacks, each order's journal), whose
buttons only call the existing JSON control API by POST/PUT/DELETE. Data is escaped; reading never changes the
world."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import httpx
import pytest
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app, get_state
from simulator.control.dashboard import link_orders, status_name, when

CREDS = {"userName": "shop_amd", "password": "pw-amd-secret"}
TOKEN = "secret_token_1003"
XSS = "<script>alert(1)</script>"


@pytest.fixture
def app() -> flask.Flask:
    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/pay",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", TOKEN),),
        merchants=(VposMerchant("shop_amd", "pw-amd-secret", "051"),),
        callback_key="do-not-show-this-key",
    )
    return create_app(config)


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return app.test_client()


def ecwid_order(client: FlaskClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/_control/ecwid/orders", json={"storeId": 1003, "total": 2500.0, **fields})
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def register(client: FlaskClient, number: str, **params: str) -> str:
    data = {**CREDS, "orderNumber": number, "amount": "250000", "returnUrl": "http://gw.test/return", **params}
    body = client.post("/payment/rest/register.do", data=data).get_json()
    assert body["errorCode"] == 0, body
    return str(body["orderId"])


def page(client: FlaskClient, path: str = "/_control/dashboard") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def row(text: str, md_order: str) -> str:
    """The orders table row of one bank order."""
    match = re.search(rf'<tr[^>]*data-md-order="{md_order}".*?</tr>', text, re.S)
    assert match, f"no row for {md_order}"
    return match.group(0)


def pay(client: FlaskClient, md_order: str, pan: str = "4242424242424242") -> None:
    response = client.post(f"/_control/vpos/orders/{md_order}/pay", json={"pan": pan, "expiry": "12/39"})
    assert response.status_code == 200, response.get_json()


# -- the page -------------------------------------------------------------------------------------------------


def test_empty_dashboard_renders_every_section(client: FlaskClient) -> None:
    text = page(client)
    for section in ("clock", "orders", "faults", "callbacks"):
        assert f'id="{section}"' in text
    assert "No bank orders yet" in text
    assert "No faults" in text


def test_bank_order_is_listed_with_status_name_amount_and_times(client: FlaskClient) -> None:
    md_order = register(client, "N-1")
    text = row(page(client), md_order)
    assert "N-1" in text
    assert "2\N{NO-BREAK SPACE}500.00 AMD" in text
    assert "0 registered" in text
    assert "-100" in text
    assert "No payment attempts" in text
    assert f'href="/_control/dashboard/orders/{md_order}"' in text


def test_paid_and_declined_orders_show_their_outcome(client: FlaskClient) -> None:
    paid, declined = register(client, "P-1"), register(client, "D-1")
    pay(client, paid)
    pay(client, declined, "4000000000009995")
    text = page(client)
    assert "2 deposited" in row(text, paid)
    assert "6 declined" in row(text, declined)
    assert "116" in row(text, declined)
    assert "Insufficient funds" in row(text, declined)
    assert 'data-action="pay"' not in row(text, paid)  # only open orders can be paid
    assert status_name(5) == "3-D Secure in progress"


def test_bank_order_is_linked_to_its_ecwid_order_by_description(client: FlaskClient) -> None:
    order = ecwid_order(client)
    md_order = register(client, "GW12345678AB", description=f"Order {order['id']}")
    text = row(page(client), md_order)
    assert order["id"] in text
    assert "INCOMPLETE" in text
    assert f"/_control/dashboard/ecwid/1003/{order['id']}" in text


def test_bank_order_is_linked_through_the_journal(client: FlaskClient) -> None:
    order = ecwid_order(client, id="SHOP-77")
    md_order = register(client, "SHOP-77")  # the same identifier seen in the journal links them
    assert "SHOP-77" in row(page(client), md_order)
    links = link_orders(get_state_of(client).bank.all(), get_state_of(client).ecwid.all(), get_state_of(client).journal)
    assert links[md_order].ecwid is not None
    assert links[md_order].ecwid.id == order["id"]
    assert links[md_order].via == "journal"


def test_unrelated_orders_are_not_linked(client: FlaskClient) -> None:
    ecwid_order(client, id="ALONE")
    md_order = register(client, "OTHER-1", description="Order ELSEWHERE")
    text = page(client)
    assert "ALONE" not in row(text, md_order)
    assert "Ecwid orders without a bank order" in text
    assert "ALONE" in text


def test_ecwid_history_of_puts_is_shown(client: FlaskClient) -> None:
    order = ecwid_order(client)
    md_order = register(client, "H-1", description=f"Order {order['id']}")
    response = client.put(
        f"/api/v3/1003/orders/{order['referenceTransactionId']}",
        json={"paymentStatus": "PAID", "externalTransactionId": md_order},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 200
    assert "PAID" in row(page(client), md_order)
    detail = page(client, f"/_control/dashboard/orders/{md_order}")
    history = re.search(r'id="ecwid-history".*?</table>', detail, re.S)
    assert history
    assert "paymentStatus" in history.group(0)
    assert "PAID" in history.group(0)


def test_order_detail_shows_its_own_journal_newest_last_with_secrets_masked(client: FlaskClient) -> None:
    md_order = register(client, "J-1")
    other = register(client, "J-2")
    client.post("/payment/rest/getOrderStatusExtended.do", data={**CREDS, "orderId": md_order})
    pay(client, md_order)
    detail = page(client, f"/_control/dashboard/orders/{md_order}")
    journal = re.search(r'id="journal".*?</table>', detail, re.S)
    assert journal
    seqs = [int(s) for s in re.findall(r'data-seq="(\d+)"', journal.group(0))]
    assert len(seqs) >= 3
    assert seqs == sorted(seqs)
    assert "register.do" in journal.group(0)
    assert "getOrderStatusExtended.do" in journal.group(0)
    assert other not in journal.group(0)
    assert "J-2" not in journal.group(0)
    assert "pw-amd-secret" not in detail
    assert "424242**4242" in detail
    assert "4242424242424242" not in journal.group(0)
    assert f"/_control/journal?order={md_order}" in detail


def test_ecwid_detail_lists_its_bank_orders(client: FlaskClient) -> None:
    order = ecwid_order(client)
    first = register(client, "A-1", description=f"Order {order['id']}")
    second = register(client, "A-2", description=f"Order {order['id']}")
    detail = page(client, f"/_control/dashboard/ecwid/1003/{order['id']}")
    assert first in detail
    assert second in detail
    assert order["email"] in detail


def test_unknown_orders_answer_an_html_404(client: FlaskClient) -> None:
    for path in ("/_control/dashboard/orders/nope", "/_control/dashboard/ecwid/1003/NOPE"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "Back to the dashboard" in response.get_data(as_text=True)


# -- escaping -------------------------------------------------------------------------------------------------


def test_data_is_escaped_everywhere(client: FlaskClient) -> None:
    order = ecwid_order(
        client,
        email=f"{XSS}@example.com",
        items=[{"name": f"Jam {XSS}", "price": 2500, "quantity": 1, "sku": XSS}],
    )
    md_order = register(client, "X-1", description=f"Order {order['id']} {XSS}")
    client.post("/_control/vpos/faults", json={"method": "getOrderStatus.do", "fault": "http_500", "orderNumber": XSS})
    client.put(
        f"/api/v3/1003/orders/{order['id']}",
        json={"paymentMessage": XSS},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    pages = [
        page(client),
        page(client, f"/_control/dashboard/orders/{md_order}"),
        page(client, f"/_control/dashboard/ecwid/1003/{order['id']}"),
    ]
    for text in pages:
        assert XSS not in text
        assert "<script>alert" not in text
    assert html.escape(XSS) in pages[1] or "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1]
    assert "&lt;script&gt;" in pages[2]


# -- outcomes without a card ----------------------------------------------------------------------------------


def outcome(client: FlaskClient, md_order: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/_control/vpos/orders/{md_order}/outcome", json=body)
    assert response.status_code == 200, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def test_an_open_order_offers_every_outcome_and_its_card_page(client: FlaskClient) -> None:
    md_order = register(client, "O-1")
    text = section(page(client, f"/_control/dashboard/orders/{md_order}"), "actions")
    url = f"/_control/vpos/orders/{md_order}/outcome"
    assert text.count(f'data-url="{url}"') == 5  # pay, hold3ds, expire buttons; decline and pending forms
    for name in ("pay", "hold3ds", "expire"):
        assert f"""data-json='{{"outcome": "{name}"}}'""" in text
    for name in ("decline", "pending"):
        assert f'name="outcome" value="{name}"' in text
    assert 'value="116"' in text
    assert f'href="http://sim.test/payment/merchants/sim/payment_en.html?mdOrder={md_order}"' in text


def test_an_order_in_3ds_can_be_decided_from_its_page(client: FlaskClient) -> None:
    md_order = register(client, "O-2")
    outcome(client, md_order, outcome="hold3ds")
    assert "5 3-D Secure in progress" in row(page(client), md_order)
    assert f'href="/_control/dashboard/orders/{md_order}#actions"' in row(page(client), md_order)
    text = section(page(client, f"/_control/dashboard/orders/{md_order}"), "actions")
    assert 'data-testid="outcome-pay"' in text
    assert 'data-testid="outcome-hold3ds"' not in text
    assert 'id="pending-form"' in text
    assert "3-D Secure (ACS) page" in text
    assert 'data-action="pay"' not in text  # no card payment any more


def test_a_decided_order_offers_no_outcome(client: FlaskClient) -> None:
    md_order = register(client, "O-3")
    outcome(client, md_order, outcome="decline", actionCode=116)
    text = section(page(client, f"/_control/dashboard/orders/{md_order}"), "actions")
    assert 'data-testid="outcomes"' not in text
    assert "None: orderStatus 6 declined" in text
    assert "customer-page" not in text


# -- clock, faults, callbacks ---------------------------------------------------------------------------------


def test_clock_shows_mode_offset_and_pending_jobs(app: flask.Flask, client: FlaskClient) -> None:
    client.put("/_control/clock", json={"mode": "manual"})
    client.post("/_control/clock/advance", json={"seconds": 90})
    get_state(app).scheduler.after(30, "test job", lambda: None, md_order="m-1")
    clock = re.search(r'id="clock".*?</section>', page(client), re.S)
    assert clock
    assert "manual" in clock.group(0)
    assert "+90 s" in clock.group(0) or "90" in clock.group(0)
    assert "test job" in clock.group(0)
    assert 'data-url="/_control/clock/advance"' in clock.group(0)


def test_a_long_queue_of_jobs_is_cut_short(app: flask.Flask, client: FlaskClient) -> None:
    client.put("/_control/clock", json={"mode": "manual"})
    for number in range(12):
        get_state(app).scheduler.after(60 + number, f"job {number}", lambda: None)
    clock = re.search(r'id="clock".*?</section>', page(client), re.S)
    assert clock
    assert "job 9" in clock.group(0)
    assert "job 10" not in clock.group(0)
    assert "and 2 more" in clock.group(0)


def test_times_read_relative_to_the_virtual_clock() -> None:
    now = datetime(2025, 6, 30, 14, 20, 5, tzinfo=UTC)
    assert when(now + timedelta(seconds=1180), now) == {
        "text": "14:39:45",
        "iso": "2025-06-30T14:39:45+00:00",
        "relative": "in 19m 40s",
    }
    assert when(now - timedelta(seconds=185), now)["relative"] == "3m 05s ago"
    assert when(now - timedelta(days=1), now)["text"] == "2025-06-29 14:20:05"
    assert when(now, now)["relative"] == "now"


def test_faults_are_listed_with_a_delete_button_and_the_form(client: FlaskClient) -> None:
    added = client.post(
        "/_control/vpos/faults", json={"method": "getOrderStatusExtended.do", "fault": "http_503", "times": 2}
    ).get_json()
    faults = re.search(r'id="faults".*?</section>', page(client), re.S)
    assert faults
    text = faults.group(0)
    assert "getOrderStatusExtended.do" in text
    assert "http_503" in text
    assert f'data-url="/_control/vpos/faults/{added["id"]}"' in text
    assert 'data-method="DELETE"' in text
    assert 'id="fault-form"' in text
    for kind in ("http_500", "hang", "malformed_json", "drop"):
        assert f'value="{kind}"' in text


def test_callback_settings_are_shown(client: FlaskClient) -> None:
    callbacks = re.search(r'id="callbacks".*?</section>', page(client), re.S)
    assert callbacks
    assert "immediate" in callbacks.group(0)
    assert 'data-testid="callback-mode-hold"' in callbacks.group(0)
    assert "No callback" not in callbacks.group(0)


def callback_client(answer: int = 200) -> FlaskClient:
    """A simulator whose callbacks reach an in-process merchant that answers ``answer``."""
    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/pay",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", TOKEN),),
        merchants=(VposMerchant("shop_amd", "pw-amd-secret", "051"),),
        callback_url="http://merchant.test/callback",
        callback_key="do-not-show-this-key",
    )
    merchant = httpx.MockTransport(lambda request: httpx.Response(answer))
    client = create_app(config, http_transport=merchant).test_client()
    client.put("/_control/clock", json={"mode": "manual"})
    return client


def section(text: str, name: str) -> str:
    match = re.search(rf'<section id="{name}".*?</section>', text, re.S)
    assert match, f"no section {name}"
    return match.group(0)


def test_pending_callbacks_can_be_delivered_duplicated_moved_and_dropped() -> None:
    client = callback_client()
    client.put("/_control/vpos/callbacks", json={"mode": "hold"})
    md_order = register(client, "CB-1")
    pay(client, md_order)
    held = client.get("/_control/vpos/callbacks/pending").get_json()["orders"][0]["callbacks"][0]
    copy = client.post(f"/_control/vpos/callbacks/{held['id']}/duplicate").get_json()["callbacks"][0]
    text = section(page(client), "callbacks")
    for action in ("deliver", "duplicate", "drop"):
        assert f'data-url="/_control/vpos/callbacks/{held["id"]}/{action}"' in text
    assert f'data-url="/_control/vpos/callbacks/{held["id"]}/move"' in text  # down
    assert f'data-url="/_control/vpos/callbacks/{copy["id"]}/move"' in text  # up
    assert f'data-url="/_control/vpos/orders/{md_order}/callbacks/release"' in text
    assert "deposited" in text
    assert "checksum=***" in text
    assert "held" in text
    assert held["params"]["checksum"] not in text
    assert "copy of #" in text


def test_sent_callbacks_can_be_replayed_and_per_order_rules_are_shown() -> None:
    client = callback_client()
    md_order = register(client, "CB-2")
    pay(client, md_order)
    sent = client.get("/_control/vpos/callbacks/sent").get_json()["callbacks"]
    assert [callback["state"] for callback in sent] == ["delivered"]
    for text in (page(client), page(client, f"/_control/dashboard/orders/{md_order}")):
        callbacks = section(text, "callbacks")
        assert f'data-url="/_control/vpos/callbacks/{sent[0]["id"]}/replay"' in callbacks
        assert "delivered" in callbacks
        assert "HTTP 200" in callbacks
        assert sent[0]["params"]["checksum"] not in text
    detail = section(page(client, f"/_control/dashboard/orders/{md_order}"), "callbacks")
    assert f'data-url="/_control/vpos/orders/{md_order}/callbacks"' in detail
    assert "the defaults" in detail
    client.put(f"/_control/vpos/orders/{md_order}/callbacks", json={"mode": "hold"})
    detail = section(page(client, f"/_control/dashboard/orders/{md_order}"), "callbacks")
    assert "mode=hold" in detail
    assert 'data-method="DELETE"' in detail


# -- actions are never GETs; reading changes nothing ----------------------------------------------------------


def test_dashboard_answers_get_only(app: flask.Flask, client: FlaskClient) -> None:
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("dashboard.")]
    assert rules
    for rule in rules:
        assert (rule.methods or set()) <= {"GET", "HEAD", "OPTIONS"}
    assert client.post("/_control/dashboard").status_code == 405


def test_every_button_calls_the_control_api_without_get(client: FlaskClient) -> None:
    md_order = register(client, "B-1")
    client.post("/_control/vpos/faults", json={"method": "register.do", "fault": "drop"})
    for text in (page(client), page(client, f"/_control/dashboard/orders/{md_order}")):
        methods = re.findall(r'data-method="([A-Z]+)"', text)
        urls = re.findall(r'data-url="([^"]+)"', text)
        assert methods
        assert urls
        assert "GET" not in methods
        assert all(url.startswith("/_control/") for url in urls)
        assert 'data-action="pay"' in text
    assert client.get(f"/_control/vpos/orders/{md_order}/pay").status_code == 405


def test_reading_the_dashboard_changes_nothing(app: flask.Flask, client: FlaskClient) -> None:
    client.put("/_control/clock", json={"mode": "manual"})
    md_order = register(client, "E-1")
    state = get_state(app)
    state.clock.advance(1300)  # the clock alone, past the 1200 s session: the expiry job has not run yet
    order = state.bank.get(md_order)
    assert order is not None
    before = (json.dumps(order.to_json()), len(client.get("/_control/journal").get_json()["entries"]))
    text = page(client)
    page(client, f"/_control/dashboard/orders/{md_order}")
    assert "session over" in row(text, md_order)
    assert 'data-action="pay"' in row(text, md_order)  # paying now declines with -2007: worth trying
    after = (json.dumps(order.to_json()), len(client.get("/_control/journal").get_json()["entries"]))
    assert after == before


def test_home_page_links_the_dashboard(client: FlaskClient) -> None:
    assert 'href="/_control/dashboard"' in client.get("/").get_data(as_text=True)


def get_state_of(client: FlaskClient) -> Any:
    return get_state(client.application)
