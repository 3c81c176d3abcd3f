"""The simulated Ecwid: REST orders API, encrypted payment request, storefront and return pages."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import pytest
from Crypto.Cipher import AES
from Crypto.Util.Padding import unpad
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app

SECRET = "abcdefghijklmnopQRSTUVWXYZ"
TOKEN = "secret_token_1003"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client() -> FlaskClient:
    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/ecwid/payment",
        stores=(
            EcwidStore(1003, SECRET, TOKEN, app_settings=(("mode", "TEST"),)),
            EcwidStore(2004, "zyxwvutsrqponmlk-other", "secret_token_2004"),
        ),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
    )
    app: flask.Flask = create_app(config)
    return app.test_client()


def new_order(client: FlaskClient, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/_control/ecwid/orders", json={"storeId": 1003, "total": 15000.0, "email": "ani@example.am", **extra}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert isinstance(body, dict)
    return body


# -- independent decoder (pycryptodome), written from protocols.md 1.1 ---------------------------------------


def b64decode_unpadded(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decrypt_gcm(enc_data: str, secret: str) -> dict[str, Any]:
    raw = b64decode_unpadded(enc_data)
    iv, ciphertext, tag = raw[:16], raw[16:-16], raw[-16:]
    cipher = AES.new(secret[:16].encode(), AES.MODE_GCM, nonce=iv)
    result: dict[str, Any] = json.loads(cipher.decrypt_and_verify(ciphertext, tag))
    return result


def decrypt_cbc(data: str, secret: str) -> dict[str, Any]:
    raw = b64decode_unpadded(data)
    cipher = AES.new(secret[:16].encode(), AES.MODE_CBC, iv=raw[:16])
    result: dict[str, Any] = json.loads(unpad(cipher.decrypt(raw[16:]), 16))
    return result


def payment_request(client: FlaskClient, order_id: str, store_id: int = 1003) -> dict[str, str]:
    response = client.post("/_control/ecwid/payment-request", json={"storeId": store_id, "orderId": order_id})
    assert response.status_code == 200
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def test_payment_request_decrypts_with_an_independent_decoder(client: FlaskClient) -> None:
    order = new_order(client)
    request = payment_request(client, order["id"])
    assert "=" not in request["enc_data"] and "=" not in request["data"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", request["enc_data"])
    gcm = decrypt_gcm(request["enc_data"], SECRET)
    cbc = decrypt_cbc(request["data"], SECRET)
    assert gcm == cbc
    assert gcm["storeId"] == 1003
    assert gcm["token"] == TOKEN
    assert gcm["lang"] == "en"
    assert gcm["returnUrl"] == request["returnUrl"]
    assert gcm["merchantAppSettings"] == {"mode": "TEST"}
    assert gcm["cart"]["currency"] == "AMD"
    inner = gcm["cart"]["order"]
    assert inner["id"] == order["id"]
    assert inner["internalId"] == order["internalId"]
    assert inner["referenceTransactionId"] == f"transaction_{order['internalId']}"
    assert inner["total"] == 15000.0 and isinstance(inner["total"], float)
    assert inner["paymentStatus"] == "INCOMPLETE"
    assert inner["fulfillmentStatus"] == "AWAITING_PROCESSING"
    assert inner["email"] == "ani@example.am"
    for field in ("subtotal", "tax", "billingPerson", "items", "createDate", "ipAddress", "paymentModule"):
        assert field in inner
    assert request["paymentUrl"] == "http://gw.test/ecwid/payment"


def test_each_payment_request_is_fresh(client: FlaskClient) -> None:
    order = new_order(client)
    first, second = payment_request(client, order["id"]), payment_request(client, order["id"])
    assert first["enc_data"] != second["enc_data"]
    assert first["returnUrl"] != second["returnUrl"]
    assert (
        decrypt_gcm(first["enc_data"], SECRET)["cart"]["order"]["referenceTransactionId"]
        == decrypt_gcm(second["enc_data"], SECRET)["cart"]["order"]["referenceTransactionId"]
    )


def test_return_url_has_client_id_timestamp_and_key(client: FlaskClient) -> None:
    order = new_order(client)
    url = urlsplit(payment_request(client, order["id"])["returnUrl"])
    assert (url.scheme, url.netloc, url.path) == ("http", "sim.test", f"/store/1003/return/{order['id']}")
    query = parse_qs(url.query)
    assert query["clientId"] == ["vposlab-pay"]
    assert query["timestamp"][0].isdigit()
    assert len(query["key"][0]) >= 8


def test_the_wrong_key_does_not_decrypt(client: FlaskClient) -> None:
    request = payment_request(client, new_order(client)["id"])
    with pytest.raises(ValueError):
        decrypt_gcm(request["enc_data"], "0000000000000000")


# -- REST API -------------------------------------------------------------------------------------------------


def test_order_ids_look_like_ecwid_ids(client: FlaskClient) -> None:
    order = new_order(client)
    assert re.fullmatch(r"[A-Z0-9]{5,6}", order["id"])
    assert order["paymentStatus"] == "INCOMPLETE"
    assert order["fulfillmentStatus"] == "AWAITING_PROCESSING"


@pytest.mark.parametrize("ref_field", ["id", "internalId", "referenceTransactionId"])
def test_get_order_by_any_reference(client: FlaskClient, ref_field: str) -> None:
    order = new_order(client)
    response = client.get(f"/api/v3/1003/orders/{order[ref_field]}", headers=AUTH)
    assert response.status_code == 200
    assert response.get_json()["id"] == order["id"]
    assert "history" not in response.get_json()


def test_put_payment_status_by_reference_transaction_id(client: FlaskClient) -> None:
    order = new_order(client)
    body = {
        "paymentStatus": "PAID",
        "externalTransactionId": "md-123",
        "paymentMessage": "Approved",
        "privateAdminNotes": "card 424242**4242",
    }
    response = client.put(f"/api/v3/1003/orders/{order['referenceTransactionId']}", json=body, headers=AUTH)
    assert (response.status_code, response.get_json()) == (200, {"updateCount": 1})
    stored = client.get(f"/_control/ecwid/orders/1003/{order['id']}").get_json()
    assert stored["paymentStatus"] == "PAID"
    assert stored["externalTransactionId"] == "md-123"
    assert len(stored["history"]) == 1
    assert stored["history"][0]["fields"] == body


def test_put_fulfillment_status(client: FlaskClient) -> None:
    order = new_order(client)
    response = client.put(f"/api/v3/1003/orders/{order['id']}", json={"fulfillmentStatus": "SHIPPED"}, headers=AUTH)
    assert response.status_code == 200
    assert client.get(f"/api/v3/1003/orders/{order['id']}", headers=AUTH).get_json()["fulfillmentStatus"] == "SHIPPED"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Bearer secret_token_2004"}],
)
def test_wrong_or_missing_token_is_403(client: FlaskClient, headers: dict[str, str]) -> None:
    order = new_order(client)
    for response in (
        client.get(f"/api/v3/1003/orders/{order['id']}", headers=headers),
        client.put(f"/api/v3/1003/orders/{order['id']}", json={"paymentStatus": "PAID"}, headers=headers),
    ):
        assert response.status_code == 403
        assert response.get_json()["errorCode"] == "INVALID_API_TOKEN"
    assert client.get(f"/_control/ecwid/orders/1003/{order['id']}").get_json()["paymentStatus"] == "INCOMPLETE"


def test_token_in_query_is_403_even_when_correct(client: FlaskClient) -> None:
    order = new_order(client)
    response = client.get(f"/api/v3/1003/orders/{order['id']}?token={TOKEN}", headers=AUTH)
    assert response.status_code == 403
    assert response.get_json()["errorCode"] == "INVALID_API_TOKEN"


def test_unknown_store_is_403(client: FlaskClient) -> None:
    response = client.get("/api/v3/9999/orders/ABCDE", headers=AUTH)
    assert response.status_code == 403


def test_put_without_json_content_type_is_415(client: FlaskClient) -> None:
    order = new_order(client)
    response = client.put(
        f"/api/v3/1003/orders/{order['id']}", data="paymentStatus=PAID", headers=AUTH, content_type="text/plain"
    )
    assert response.status_code == 415
    assert response.get_json()["errorMessage"]


def test_unknown_order_is_404(client: FlaskClient) -> None:
    for response in (
        client.get("/api/v3/1003/orders/NOPE1", headers=AUTH),
        client.put("/api/v3/1003/orders/transaction_1", json={"paymentStatus": "PAID"}, headers=AUTH),
    ):
        assert response.status_code == 404
        assert response.get_json()["errorCode"] == "ORDER_NOT_FOUND"


@pytest.mark.parametrize(
    "body",
    [
        {"paymentStatus": "SUCCESS"},
        {"paymentStatus": "paid"},
        {"fulfillmentStatus": "LOST"},
        {"paymentStatus": 1},
        ["PAID"],
    ],
)
def test_bad_update_is_400_wrong_parameter(client: FlaskClient, body: Any) -> None:
    order = new_order(client)
    response = client.put(f"/api/v3/1003/orders/{order['id']}", json=body, headers=AUTH)
    assert response.status_code == 400
    assert response.get_json()["errorCode"] == "WRONG_PARAMETER"
    assert client.get(f"/_control/ecwid/orders/1003/{order['id']}").get_json()["history"] == []


def test_unparsable_json_is_400(client: FlaskClient) -> None:
    order = new_order(client)
    response = client.put(
        f"/api/v3/1003/orders/{order['id']}", data="{bad", headers=AUTH, content_type="application/json"
    )
    assert response.status_code == 400


def test_every_documented_payment_status_is_accepted(client: FlaskClient) -> None:
    order = new_order(client)
    statuses = ["AWAITING_PAYMENT", "PAID", "CANCELLED", "REFUNDED", "PARTIALLY_REFUNDED", "INCOMPLETE"]
    statuses += [f"CUSTOM_PAYMENT_STATUS_{n}" for n in (1, 2, 3)]
    for status in statuses:
        response = client.put(f"/api/v3/1003/orders/{order['id']}", json={"paymentStatus": status}, headers=AUTH)
        assert response.status_code == 200
    history = client.get(f"/_control/ecwid/orders/1003/{order['id']}").get_json()["history"]
    assert [entry["fields"]["paymentStatus"] for entry in history] == statuses


def test_rest_calls_are_journaled_without_the_token(client: FlaskClient) -> None:
    order = new_order(client)
    client.put(f"/api/v3/1003/orders/{order['id']}?token={TOKEN}", json={"paymentStatus": "PAID"}, headers=AUTH)
    client.put(f"/api/v3/1003/orders/{order['id']}", json={"paymentStatus": "PAID"}, headers=AUTH)
    entries = client.get("/_control/journal?service=ecwid").get_json()["entries"]
    assert [(e["operation"], e["status"]) for e in entries] == [("PUT order", 403), ("PUT order", 200)]
    assert entries[0]["params"]["token"] == "***"
    assert entries[1]["params"]["paymentStatus"] == "PAID"
    assert TOKEN not in client.get("/_control/journal").get_data(as_text=True)


# -- storefront and return pages ---------------------------------------------------------------------------


def test_storefront_lists_products(client: FlaskClient) -> None:
    html = client.get("/store/1003/").get_data(as_text=True)
    assert 'data-testid="product-apricot-jam"' in html
    assert "AMD" in html and "USD" in html
    assert 'id="buy-apricot-jam"' in html
    assert client.get("/store/9999/").status_code == 404


def test_checkout_creates_the_order_and_renders_the_payment_form(client: FlaskClient) -> None:
    response = client.post(
        "/store/1003/checkout",
        data={"product": "apricot-jam", "quantity": "2", "email": "a@b.am", "lang": "hy", "currency": "AMD"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<form id="payment-form" method="post" action="http://gw.test/ecwid/payment">' in html
    assert 'id="pay-button"' in html
    enc_data = re.search(r'name="enc_data" value="([^"]+)"', html)
    data = re.search(r'name="data" value="([^"]+)"', html)
    assert enc_data and data
    request = decrypt_gcm(enc_data.group(1), SECRET)
    assert decrypt_cbc(data.group(1), SECRET) == request
    assert request["lang"] == "hy"
    assert request["cart"]["order"]["total"] == 15000.0
    assert request["cart"]["order"]["items"][0]["quantity"] == 2
    assert TOKEN not in html and SECRET not in html


@pytest.mark.parametrize(
    "form",
    [
        {"product": "nothing"},
        {"product": "gata", "quantity": "0"},
        {"product": "gata", "quantity": "x"},
        {"product": "gata", "currency": "USD"},
    ],
)
def test_bad_checkout_is_400(client: FlaskClient, form: dict[str, str]) -> None:
    assert client.post("/store/1003/checkout", data=form).status_code == 400


def test_pay_page_for_an_existing_order_issues_a_fresh_request(client: FlaskClient) -> None:
    order = new_order(client)
    html = client.get(f"/store/1003/orders/{order['id']}/pay").get_data(as_text=True)
    enc_data = re.search(r'name="enc_data" value="([^"]+)"', html)
    assert enc_data
    assert decrypt_gcm(enc_data.group(1), SECRET)["cart"]["order"]["id"] == order["id"]
    assert client.get("/store/1003/orders/NOPE/pay").status_code == 404


def set_status(client: FlaskClient, order_id: str, status: str) -> None:
    response = client.put(f"/api/v3/1003/orders/{order_id}", json={"paymentStatus": status}, headers=AUTH)
    assert response.status_code == 200


def return_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize("status", ["PAID", "AWAITING_PAYMENT"])
def test_return_shows_thank_you_for_paid_and_awaiting_payment(client: FlaskClient, status: str) -> None:
    order = new_order(client)
    url = payment_request(client, order["id"])["returnUrl"]
    set_status(client, order["id"], status)
    html = client.get(return_path(url)).get_data(as_text=True)
    assert 'data-testid="thank-you"' in html
    assert f'data-testid="payment-status">{status}<' in html


def test_return_with_incomplete_goes_back_to_checkout_with_the_error_message(client: FlaskClient) -> None:
    order = new_order(client)
    url = payment_request(client, order["id"])["returnUrl"]
    set_status(client, order["id"], "INCOMPLETE")
    html = client.get(return_path(url) + "&errorMsg=Card%20declined%3A%20%3Cb%3Einsufficient%3C%2Fb%3E").get_data(
        as_text=True
    )
    assert 'data-testid="checkout-error"' in html
    assert "Card declined: &lt;b&gt;insufficient&lt;/b&gt;" in html
    assert 'id="pay-again"' in html
    assert f"/store/1003/orders/{order['id']}/pay" in html


def test_return_without_error_message_has_no_error_box(client: FlaskClient) -> None:
    order = new_order(client)
    html = client.get(return_path(payment_request(client, order["id"])["returnUrl"])).get_data(as_text=True)
    assert 'data-testid="checkout-error"' not in html
    assert 'id="pay-again"' in html


def test_return_with_cancelled_shows_the_payment_error_page(client: FlaskClient) -> None:
    order = new_order(client)
    url = payment_request(client, order["id"])["returnUrl"]
    set_status(client, order["id"], "CANCELLED")
    assert 'data-testid="payment-error"' in client.get(return_path(url)).get_data(as_text=True)


@pytest.mark.parametrize("key", ["", "rebuilt-key"])
def test_return_with_a_key_the_store_did_not_issue_is_403(client: FlaskClient, key: str) -> None:
    order = new_order(client)
    payment_request(client, order["id"])
    set_status(client, order["id"], "PAID")
    response = client.get(f"/store/1003/return/{order['id']}?clientId=vposlab-pay&timestamp=1&key={key}")
    assert response.status_code == 403
    assert 'data-testid="return-rejected"' in response.get_data(as_text=True)


def test_a_key_issued_for_another_order_is_refused(client: FlaskClient) -> None:
    first, second = new_order(client), new_order(client)
    url = payment_request(client, first["id"])["returnUrl"]
    stolen = return_path(url).replace(first["id"], second["id"])
    assert client.get(stolen).status_code == 403


def test_custom_long_order_id_works_end_to_end(client: FlaskClient) -> None:
    order = new_order(client, id="ORDER-2025.06_long-id-XYZ")
    url = payment_request(client, order["id"])["returnUrl"]
    set_status(client, order["id"], "PAID")
    assert 'data-testid="thank-you"' in client.get(return_path(url)).get_data(as_text=True)
