"""The simulator's control API, state handling and journal, through Flask's test client."""

from __future__ import annotations

from typing import Any

import flask
import pytest
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app, get_state

CREDS = {"userName": "shop_amd", "password": "pw-amd"}


@pytest.fixture
def app() -> flask.Flask:
    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/pay",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", "secret_token_1003"),),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
        callback_key="do-not-show-this-key",
    )
    return create_app(config)


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return app.test_client()


def register(client: FlaskClient, number: str = "N-1") -> str:
    params = {**CREDS, "orderNumber": number, "amount": "250000", "returnUrl": "http://gw.test/return"}
    return str(client.post("/payment/rest/register.do", data=params).get_json()["orderId"])


def test_health(client: FlaskClient) -> None:
    assert client.get("/_control/health").get_json() == {"status": "ok"}


def test_create_app_builds_independent_state(app: flask.Flask) -> None:
    other = create_app(get_state(app).config)
    assert get_state(other) is not get_state(app)
    assert app.extensions["simulator"] is get_state(app)


def test_reconfigure_changes_urls_used_afterwards(app: flask.Flask, client: FlaskClient) -> None:
    get_state(app).reconfigure(public_url="http://127.0.0.1:5555", payment_url="http://127.0.0.1:6666/pay")
    body = client.post(
        "/payment/rest/register.do",
        data={**CREDS, "orderNumber": "R", "amount": "1", "returnUrl": "http://gw.test/r"},
    ).get_json()
    assert body["formUrl"].startswith("http://127.0.0.1:5555/payment/merchants/sim/payment_en.html?mdOrder=")
    order = client.post("/_control/ecwid/orders", json={"storeId": 1003, "total": 10.0}).get_json()
    request = client.post("/_control/ecwid/payment-request", json={"storeId": 1003, "orderId": order["id"]})
    assert request.get_json()["paymentUrl"] == "http://127.0.0.1:6666/pay"
    assert request.get_json()["returnUrl"].startswith("http://127.0.0.1:5555/store/1003/return/")


def test_reconfigure_rejects_invalid_values(app: flask.Flask) -> None:
    with pytest.raises(ValueError):
        get_state(app).reconfigure(public_url="http://x/")
    with pytest.raises(TypeError):
        get_state(app).reconfigure(no_such_field=1)


def test_config_over_http_hides_secrets(client: FlaskClient) -> None:
    body = client.get("/_control/config").get_json()
    assert body["callbackSigned"] is True
    text = client.get("/_control/config").get_data(as_text=True)
    for secret in ("do-not-show-this-key", "abcdefghijklmnop", "secret_token_1003", "pw-amd"):
        assert secret not in text
    changed = client.put("/_control/config", json={"paymentUrl": "http://gw2.test/pay", "callbackMethod": "POST"})
    assert changed.get_json()["paymentUrl"] == "http://gw2.test/pay"
    assert changed.get_json()["callbackMethod"] == "POST"


@pytest.mark.parametrize(
    "body", [{}, {"callbackKey": "x"}, {"callbackMethod": "PATCH"}, {"publicUrl": 5}, {"publicUrl": "http://x/"}]
)
def test_config_bad_input_is_400(client: FlaskClient, body: dict[str, Any]) -> None:
    response = client.put("/_control/config", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_input"


def test_create_order_defaults(client: FlaskClient) -> None:
    response = client.post("/_control/ecwid/orders", json={"storeId": 1003, "total": 15000.0})
    assert response.status_code == 201
    order = response.get_json()
    assert (order["currency"], order["lang"], order["paymentStatus"]) == ("AMD", "en", "INCOMPLETE")
    assert order["items"] == [{"name": "Test item", "price": 15000.0, "quantity": 1, "sku": "test-item"}]
    assert order["history"] == []
    assert order["referenceTransactionId"] == f"transaction_{order['internalId']}"


def test_create_order_with_items_and_custom_id(client: FlaskClient) -> None:
    body = {
        "storeId": 1003,
        "total": 120.5,
        "currency": "USD",
        "lang": "ru",
        "email": "x@y.z",
        "items": [{"name": "Duduk", "price": 120.5, "quantity": 1}],
        "id": "very-long-odd-order-id-1234567890",
    }
    order = client.post("/_control/ecwid/orders", json=body).get_json()
    assert order["id"] == "very-long-odd-order-id-1234567890"
    fetched = client.get(f"/_control/ecwid/orders/1003/{order['id']}").get_json()
    assert (fetched["currency"], fetched["lang"], fetched["total"]) == ("USD", "ru", 120.5)
    duplicate = client.post("/_control/ecwid/orders", json=body)
    assert duplicate.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"total": 10.0},
        {"storeId": "1003", "total": 10.0},
        {"storeId": 1003},
        {"storeId": 1003, "total": 0},
        {"storeId": 1003, "total": -1},
        {"storeId": 1003, "total": True},
        {"storeId": 1003, "total": "10"},
        {"storeId": 1003, "total": 10.0, "currency": "amd"},
        {"storeId": 1003, "total": 10.0, "lang": "english"},
        {"storeId": 1003, "total": 10.0, "items": []},
        {"storeId": 1003, "total": 10.0, "items": [{"name": "x", "price": 1, "quantity": 0}]},
        {"storeId": 1003, "total": 10.0, "id": "has space"},
        {"storeId": 1003, "total": 10.0, "id": "a/b"},
    ],
)
def test_create_order_bad_input_is_400(client: FlaskClient, body: dict[str, Any]) -> None:
    response = client.post("/_control/ecwid/orders", json=body)
    assert response.status_code == 400
    assert response.get_json()["message"]


def test_non_json_control_body_is_400(client: FlaskClient) -> None:
    assert client.post("/_control/ecwid/orders", data="x").status_code == 400
    assert client.post("/_control/ecwid/orders", json=[1]).status_code == 400


def test_unknown_store_or_order_is_404(client: FlaskClient) -> None:
    assert client.post("/_control/ecwid/orders", json={"storeId": 42, "total": 1.0}).status_code == 404
    assert client.get("/_control/ecwid/orders/1003/NOPE").status_code == 404
    assert client.post("/_control/ecwid/payment-request", json={"storeId": 1003, "orderId": "NOPE"}).status_code == 404
    assert client.post("/_control/ecwid/payment-request", json={"storeId": 42, "orderId": "X"}).status_code == 404
    assert client.get("/_control/vpos/orders/nope").status_code == 404
    assert (
        client.post("/_control/vpos/orders/nope/pay", json={"pan": "4242424242424242", "expiry": "12/39"}).status_code
        == 404
    )
    assert client.get("/_control/no-such-thing").get_json()["error"] == "not_found"


def test_payment_request_bad_input_is_400(client: FlaskClient) -> None:
    assert client.post("/_control/ecwid/payment-request", json={"storeId": 1003}).status_code == 400
    assert client.post("/_control/ecwid/payment-request", json={"orderId": "X"}).status_code == 400


def test_list_ecwid_orders(client: FlaskClient) -> None:
    client.post("/_control/ecwid/orders", json={"storeId": 1003, "total": 1.0})
    assert len(client.get("/_control/ecwid/orders?storeId=1003").get_json()["orders"]) == 1
    assert client.get("/_control/ecwid/orders?storeId=x").status_code == 400


def test_bank_orders_listing_and_filter(client: FlaskClient) -> None:
    first, _ = register(client, "N-1"), register(client, "N-2")
    assert len(client.get("/_control/vpos/orders").get_json()["orders"]) == 2
    filtered = client.get("/_control/vpos/orders?orderNumber=N-1").get_json()["orders"]
    assert [order["mdOrder"] for order in filtered] == [first]
    order = client.get(f"/_control/vpos/orders/{first}").get_json()
    assert (order["orderStatus"], order["amount"], order["currency"]) == (0, 250000, "051")
    assert "password" not in order


def test_pay_through_control_api(client: FlaskClient) -> None:
    md_order = register(client)
    response = client.post(f"/_control/vpos/orders/{md_order}/pay", json={"pan": "4000000000000069", "expiry": "12/39"})
    body = response.get_json()
    assert response.status_code == 200
    assert (body["orderStatus"], body["actionCode"], body["alreadyProcessed"]) == (6, 101, False)
    assert body["redirectUrl"] == f"http://gw.test/return?orderId={md_order}&lang=en"
    again = client.post(f"/_control/vpos/orders/{md_order}/pay", json={"pan": "4242424242424242", "expiry": "12/39"})
    assert again.status_code == 409
    assert again.get_json()["alreadyProcessed"] is True
    assert again.get_json()["orderStatus"] == 6


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"pan": "4242424242424242"},
        {"expiry": "12/39"},
        {"pan": "4242", "expiry": "1239"},
        {"pan": "x", "expiry": "12/39"},
    ],
)
def test_pay_bad_input_is_400(client: FlaskClient, body: dict[str, Any]) -> None:
    md_order = register(client)
    assert client.post(f"/_control/vpos/orders/{md_order}/pay", json=body).status_code == 400
    assert client.get(f"/_control/vpos/orders/{md_order}").get_json()["orderStatus"] == 0


def test_callback_settings(client: FlaskClient) -> None:
    assert client.get("/_control/vpos/callbacks").get_json()["mode"] == "immediate"
    for mode in ("none", "after_return", "immediate"):
        assert client.put("/_control/vpos/callbacks", json={"mode": mode}).get_json()["mode"] == mode
    tuned = client.put("/_control/vpos/callbacks", json={"retryDelaySeconds": 0.1}).get_json()
    assert tuned["retryDelaySeconds"] == 0.1


@pytest.mark.parametrize(
    "body", [{}, {"mode": "sometimes"}, {"mode": 1}, {"retryDelaySeconds": -1}, {"afterReturnDelaySeconds": 600}]
)
def test_callback_settings_bad_input_is_400(client: FlaskClient, body: dict[str, Any]) -> None:
    assert client.put("/_control/vpos/callbacks", json=body).status_code == 400


def test_clock_advance_moves_virtual_time(client: FlaskClient) -> None:
    before = client.get("/_control/clock").get_json()["nowMs"]
    after = client.post("/_control/clock/advance", json={"seconds": 3600}).get_json()
    assert after["offsetSeconds"] == 3600
    assert after["nowMs"] - before >= 3_600_000


@pytest.mark.parametrize("body", [{}, {"seconds": -5}, {"seconds": "10"}, {"seconds": None}])
def test_clock_advance_bad_input_is_400(client: FlaskClient, body: dict[str, Any]) -> None:
    assert client.post("/_control/clock/advance", json=body).status_code == 400


def test_reset_clears_orders_journal_and_clock_but_keeps_config(app: flask.Flask, client: FlaskClient) -> None:
    register(client)
    client.post("/_control/ecwid/orders", json={"storeId": 1003, "total": 1.0})
    client.post("/_control/clock/advance", json={"seconds": 100})
    get_state(app).reconfigure(payment_url="http://kept.test/pay")
    assert client.post("/_control/reset").status_code == 200
    assert client.get("/_control/vpos/orders").get_json() == {"orders": []}
    assert client.get("/_control/ecwid/orders").get_json() == {"orders": []}
    entries = client.get("/_control/journal").get_json()["entries"]
    assert [entry["operation"] for entry in entries] == ["reset"]
    assert client.get("/_control/clock").get_json()["offsetSeconds"] == 0
    assert get_state(app).config.payment_url == "http://kept.test/pay"
    assert register(client) != ""  # the same orderNumber is free again


def test_journal_entries_shape_filters_and_redaction(client: FlaskClient) -> None:
    md_order = register(client)
    client.post(
        f"/payment/merchants/sim/payment_en.html?mdOrder={md_order}",
        data={"pan": "4242424242424242", "expiry": "12/39", "cvc": "987"},
    )
    client.get("/store/1003/")
    everything = client.get("/_control/journal").get_json()["entries"]
    seqs = [entry["seq"] for entry in everything]
    assert seqs == sorted(seqs)
    register_entry = everything[0]
    assert set(register_entry) == {
        "seq",
        "at",
        "direction",
        "service",
        "method",
        "path",
        "operation",
        "status",
        "params",
        "summary",
        "orders",
        "run",
    }
    assert (register_entry["service"], register_entry["operation"], register_entry["direction"]) == (
        "vpos",
        "register.do",
        "in",
    )
    assert register_entry["params"]["password"] == "***"
    assert register_entry["params"]["amount"] == "250000"
    assert "errorCode 0" in register_entry["summary"]
    pay_entry = next(entry for entry in everything if entry["operation"] == "pay")
    assert pay_entry["params"]["pan"] == "424242**4242"
    assert pay_entry["params"]["cvc"] == "***"
    assert pay_entry["status"] == 302
    stores = client.get("/_control/journal?service=store").get_json()["entries"]
    assert [entry["path"] for entry in stores] == ["/store/1003/"]
    later = client.get(f"/_control/journal?since={register_entry['seq']}").get_json()["entries"]
    assert register_entry["seq"] not in [entry["seq"] for entry in later]
    text = client.get("/_control/journal").get_data(as_text=True)
    assert "pw-amd" not in text and "4242424242424242" not in text


@pytest.mark.parametrize("query", ["service=bank", "since=-1", "since=abc"])
def test_journal_bad_filters_are_400(client: FlaskClient, query: str) -> None:
    assert client.get(f"/_control/journal?{query}").status_code == 400


def test_home_page_lists_links_without_secrets(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "/store/1003/" in html
    assert "secret_token_1003" not in html and "do-not-show-this-key" not in html


def test_config_repr_hides_secrets(app: flask.Flask) -> None:
    text = repr(get_state(app).config)
    for secret in ("do-not-show-this-key", "abcdefghijklmnop", "secret_token_1003", "pw-amd"):
        assert secret not in text
