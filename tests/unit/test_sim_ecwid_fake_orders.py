"""Realistic Ecwid orders made up with faker (``POST /_control/ecwid/orders/fake``): several stores and currencies,
cents, long and odd ids that round-trip through the orders API, the storefront and the dashboard; and the new
``/_control/ecwid/*`` operations checked against the OpenAPI document."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import flask
import pytest
from Crypto.Cipher import AES
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app
from simulator.control.openapi_api import openapi_document
from tests.unit.test_sim_openapi import CheckedClient

SECRET = "abcdefghijklmnopQRSTUVWXYZ"
TOKEN = "secret_token_1003"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app() -> flask.Flask:
    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/ecwid/payment",
        stores=(
            EcwidStore(1003, SECRET, TOKEN),
            EcwidStore(2004, "zyxwvutsrqponmlk-other", "secret_token_2004"),
        ),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
    )
    return create_app(config)


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return app.test_client()


def fake(client: FlaskClient, **body: Any) -> dict[str, Any]:
    response = client.post("/_control/ecwid/orders/fake", json={"storeId": 1003, **body})
    assert response.status_code == 201, response.get_json()
    made: dict[str, Any] = response.get_json()
    return made


def decrypt_gcm(enc_data: str, secret: str) -> dict[str, Any]:
    raw = base64.urlsafe_b64decode(enc_data + "=" * (-len(enc_data) % 4))
    cipher = AES.new(secret[:16].encode(), AES.MODE_GCM, nonce=raw[:16])
    result: dict[str, Any] = json.loads(cipher.decrypt_and_verify(raw[16:-16], raw[-16:]))
    return result


@pytest.mark.parametrize("currency", ["AMD", "USD", "EUR", "RUB"])
def test_fake_orders_in_every_currency_have_cents_that_add_up(client: FlaskClient, currency: str) -> None:
    order = fake(client, currency=currency, seed=7)["order"]
    assert order["currency"] == currency
    items_sum = sum(Decimal(str(item["price"])) * item["quantity"] for item in order["items"])
    assert Decimal(str(order["total"])) == items_sum
    assert Decimal(str(order["total"])) == Decimal(str(order["total"])).quantize(Decimal("0.01"))
    assert "@" in order["email"]
    assert order["billingPerson"]["name"] != "Test Buyer"


def test_a_given_total_with_cents_is_kept_exactly(client: FlaskClient) -> None:
    made = fake(client, total=2014.97, currency="USD")
    assert made["order"]["total"] == 2014.97
    payload = decrypt_gcm(made["paymentRequest"]["enc_data"], SECRET)
    assert payload["cart"]["order"]["total"] == 2014.97
    assert payload["cart"]["currency"] == "USD"


def test_the_same_seed_makes_the_same_buyer(client: FlaskClient) -> None:
    first, second = fake(client, seed=42)["order"], fake(client, seed=42)["order"]
    assert first["billingPerson"]["name"] == second["billingPerson"]["name"]
    assert first["id"] != second["id"]  # ids stay unique


def test_long_ids_are_over_40_characters_with_dashes(client: FlaskClient) -> None:
    order = fake(client, idStyle="long")["order"]
    assert len(order["id"]) >= 40
    assert len(order["referenceTransactionId"]) >= 40
    assert "-" in order["id"]


@pytest.mark.parametrize(
    ("order_id", "reference"),
    [
        ("ORD-2026/11#A_b.c", "ref:2026/11#7+x_y.z"),
        ("X" * 60 + "-tail-" + "9" * 20, "transaction-" + "a-b" * 20),
        (None, None),  # the odd style's own
    ],
)
def test_odd_ids_round_trip_through_the_orders_api(
    client: FlaskClient, order_id: str | None, reference: str | None
) -> None:
    body: dict[str, Any] = {"idStyle": "odd", "currency": "EUR", "total": 10.5}
    if order_id:
        body.update(id=order_id, referenceTransactionId=reference)
    made = fake(client, **body)
    order = made["order"]
    if order_id:
        assert (order["id"], order["referenceTransactionId"]) == (order_id, reference)
    # the gateway quotes the path segment with safe="" (gateway/ecwid/orders_client.py)
    for ref in (order["id"], order["referenceTransactionId"], str(order["internalId"])):
        got = client.get(f"/api/v3/1003/orders/{quote(ref, safe='')}", headers=AUTH)
        assert got.status_code == 200, ref
        assert got.get_json()["id"] == order["id"]
    put_url = f"/api/v3/1003/orders/{quote(order['referenceTransactionId'], safe='')}"
    assert client.put(put_url, json={"paymentStatus": "PAID"}, headers=AUTH).get_json() == {"updateCount": 1}
    history = client.get(f"/_control/ecwid/orders/1003/{quote(order['id'], safe='')}/history").get_json()
    assert history["paymentStatus"] == "PAID"
    assert history["history"][0]["ref"] == order["referenceTransactionId"]
    dashboard = client.get(f"/_control/dashboard/ecwid/1003/{quote(order['id'], safe='')}")
    assert dashboard.status_code == 200


def test_the_payment_request_and_checkout_url_of_an_odd_order(client: FlaskClient) -> None:
    made = fake(client, idStyle="odd", lang="ru", currency="RUB")
    order = made["order"]
    payload = decrypt_gcm(made["paymentRequest"]["enc_data"], SECRET)
    assert payload["cart"]["order"]["id"] == order["id"]
    assert payload["cart"]["order"]["referenceTransactionId"] == order["referenceTransactionId"]
    assert payload["lang"] == "ru"
    assert payload["token"] == TOKEN
    assert made["paymentRequest"]["paymentUrl"] == "http://gw.test/ecwid/payment"
    checkout = urlsplit(made["checkoutUrl"])
    assert checkout.netloc == "sim.test"
    page = client.get(checkout.path)
    assert page.status_code == 200
    assert 'id="payment-form"' in page.get_data(as_text=True)
    # the customer's return for that order (returnUrl is percent-encoded) shows the checkout again
    returned = urlsplit(payload["returnUrl"])
    assert client.get(f"{returned.path}?{returned.query}").status_code == 200


def test_another_store_gets_its_own_orders(client: FlaskClient) -> None:
    made = fake(client, storeId=2004, currency="USD")
    assert made["order"]["storeId"] == 2004
    assert client.get("/_control/ecwid/orders?storeId=2004").get_json()["orders"][0]["id"] == made["order"]["id"]


def test_a_duplicate_id_is_409(client: FlaskClient) -> None:
    fake(client, id="ORD-1/2#3")
    assert client.post("/_control/ecwid/orders/fake", json={"storeId": 1003, "id": "ORD-1/2#3"}).status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"storeId": 1003, "currency": "GBP"},
        {"storeId": 1003, "lang": "de"},
        {"storeId": 1003, "idStyle": "weird"},
        {"storeId": 1003, "id": "has space"},
        {"storeId": 1003, "id": "a//b"},
        {"storeId": 1003, "id": "a/../b"},
        {"storeId": 1003, "id": "ü-unicode"},
        {"storeId": 1003, "total": 0},
        {"storeId": 1003, "colour": "red"},
        {"currency": "AMD"},
    ],
)
def test_bad_fake_order_requests_are_400(client: FlaskClient, body: dict[str, Any]) -> None:
    assert client.post("/_control/ecwid/orders/fake", json=body).status_code == 400


def test_the_existing_order_endpoints_still_work(client: FlaskClient) -> None:
    created = client.post("/_control/ecwid/orders", json={"storeId": 1003, "total": 15000.0, "id": "E-1"})
    assert created.status_code == 201
    assert created.get_json()["referenceTransactionId"].startswith("transaction_")
    assert client.post("/_control/ecwid/payment-request", json={"storeId": 1003, "orderId": "E-1"}).status_code == 200
    assert client.get("/_control/ecwid/orders/1003/E-1").get_json()["history"] == []


# -- the new operations against the OpenAPI document --------------------------------------------------------------


def test_the_ecwid_control_operations_match_the_document(client: FlaskClient) -> None:
    api = CheckedClient(client, openapi_document())
    fault = api.post("/_control/ecwid/faults", 201, json={"fault": "rate_limited", "times": 1, "token": TOKEN})
    api.post("/_control/ecwid/faults", 201, json={"fault": "hang", "seconds": 0.01, "times": 1})
    api.post("/_control/ecwid/faults", 400, json={"fault": "teapot"}, request_valid=False)
    api.post("/_control/ecwid/faults", 404, json={"fault": "http_500", "storeId": 9})
    assert len(api.get("/_control/ecwid/faults")["faults"]) == 2
    api.delete(f"/_control/ecwid/faults/{fault['id']}")
    api.delete("/_control/ecwid/faults/999", 404)
    api.delete("/_control/ecwid/faults")
    api.put("/_control/ecwid/faults/settings", json={"maxSleepSeconds": 3})
    api.put("/_control/ecwid/faults/settings", 400, json={"maxSleepSeconds": 0}, request_valid=False)
    api.get("/_control/ecwid/rate-limit")
    api.put("/_control/ecwid/rate-limit", json={"requestsPerMinute": 5})
    api.put("/_control/ecwid/rate-limit", 400, json={"requestsPerMinute": 0}, request_valid=False)
    api.put("/_control/ecwid/webhooks", json={"url": "http://127.0.0.1:9/hook", "storeId": 1003})
    api.put("/_control/ecwid/webhooks", 400, json={"url": "ftp://x"}, request_valid=False)
    api.put("/_control/ecwid/webhooks", 404, json={"url": "http://x", "storeId": 9})
    api.delete("/_control/ecwid/webhooks")
    assert api.get("/_control/ecwid/webhooks")["enabled"] is False
    made = api.post("/_control/ecwid/orders/fake", 201, json={"storeId": 1003, "idStyle": "odd", "total": 2014.97})
    api.post("/_control/ecwid/orders/fake", 400, json={"storeId": 1003, "currency": "GBP"}, request_valid=False)
    api.post("/_control/ecwid/orders/fake", 404, json={"storeId": 9})
    api.post("/_control/ecwid/orders/fake", 409, json={"storeId": 1003, "id": made["order"]["id"]})
    ref = quote(made["order"]["id"], safe="")
    client.post("/_control/ecwid/faults", json={"fault": "http_503", "times": 1})
    client.put(f"/api/v3/1003/orders/{ref}", json={"paymentStatus": "PAID"}, headers=AUTH)
    client.put(f"/api/v3/1003/orders/{ref}", json={"paymentStatus": "PAID"}, headers=AUTH)
    assert len(api.get(f"/_control/ecwid/orders/1003/{made['order']['internalId']}/history")["history"]) == 2
    api.get("/_control/ecwid/orders/1003/nope/history", 404)


@pytest.mark.parametrize(("sku", "currency", "total"), [("carpet", "EUR", 681.0), ("sujukh", "RUB", 1781.98)])
def test_the_storefront_sells_in_eur_and_rub_too(client: FlaskClient, sku: str, currency: str, total: float) -> None:
    page = client.post("/store/2004/checkout", data={"product": sku, "quantity": "2", "lang": "en"})
    assert page.status_code == 200
    [order] = client.get("/_control/ecwid/orders?storeId=2004").get_json()["orders"]
    assert (order["currency"], order["total"]) == (currency, total)
