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
    # one click: the button posts a fresh encrypted payment request straight to the payment app
    assert '<form id="pay-again-form" method="post" action="http://gw.test/ecwid/payment">' in html
    assert 'name="enc_data"' in html and 'name="data"' in html


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


# -- languages, cart, phone layout --------------------------------------------------------------------------

LANG_WORDS = {"hy": "Ապրանքներ", "ru": "Товары", "en": "Products"}


def cart_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("vposlab_cart_1003", path="/store/1003/")
    return cookie.value if cookie else ""


@pytest.mark.parametrize("lang", ["hy", "ru", "en"])
def test_storefront_speaks_the_chosen_language_and_remembers_it(client: FlaskClient, lang: str) -> None:
    html = client.get(f"/store/1003/?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert LANG_WORDS[lang] in html
    assert f'<option value="{lang}" selected>' in html  # the one-click buy defaults to the store language
    again = client.get("/store/1003/").get_data(as_text=True)  # the switch is remembered (cookie)
    assert f'<html lang="{lang}">' in again


def test_storefront_offers_a_language_switcher_and_a_phone_viewport(client: FlaskClient) -> None:
    html = client.get("/store/1003/").get_data(as_text=True)
    for lang in ("hy", "ru", "en"):
        assert f'id="store-lang-{lang}"' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    for sku in ("apricot-jam", "gata", "lavash", "brandy", "duduk"):
        for prefix in ("buy", "quantity", "email", "lang", "add"):
            assert f'id="{prefix}-{sku}"' in html


def test_storefront_without_a_choice_follows_the_browser_language(client: FlaskClient) -> None:
    html = client.get("/store/1003/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ru">' in html
    html = client.get("/store/1003/?lang=xx", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_cart_collects_several_products_and_quantities(client: FlaskClient) -> None:
    added = client.post("/store/1003/cart/add", data={"product": "apricot-jam", "quantity": "2"})
    assert added.status_code == 303
    assert added.headers["Location"].endswith("/store/1003/#product-apricot-jam")
    client.post("/store/1003/cart/add", data={"product": "lavash", "quantity": "1"})
    client.post("/store/1003/cart/add", data={"product": "apricot-jam", "quantity": "1"})
    assert cart_cookie(client) == "apricot-jam:3.lavash:1"
    html = client.get("/store/1003/cart?lang=en").get_data(as_text=True)
    assert 'data-testid="cart-line-apricot-jam"' in html and 'data-testid="cart-line-lavash"' in html
    assert 'id="cart-quantity-apricot-jam"' in html and 'value="3"' in html
    assert 'data-testid="cart-total">23,700.00 AMD<' in html
    assert 'data-testid="cart-count">4<' in client.get("/store/1003/").get_data(as_text=True)  # items, not lines


def test_cart_update_changes_and_removes_lines(client: FlaskClient) -> None:
    client.post("/store/1003/cart/add", data={"product": "gata", "quantity": "1"})
    client.post("/store/1003/cart/add", data={"product": "lavash", "quantity": "4"})
    updated = client.post("/store/1003/cart", data={"qty-gata": "5", "qty-lavash": "4"})
    assert updated.status_code == 303
    assert cart_cookie(client) == "gata:5.lavash:4"
    client.post("/store/1003/cart", data={"qty-gata": "0", "qty-lavash": "4"})
    assert cart_cookie(client) == "lavash:4"
    client.post("/store/1003/cart", data={"remove": "lavash"})
    assert cart_cookie(client) == ""
    assert 'data-testid="cart-empty"' in client.get("/store/1003/cart").get_data(as_text=True)


@pytest.mark.parametrize(
    "form", [{"product": "nothing"}, {"product": "gata", "quantity": "0"}, {"product": "gata", "quantity": "100"}]
)
def test_bad_add_to_cart_is_400_and_leaves_the_cart_alone(client: FlaskClient, form: dict[str, str]) -> None:
    assert client.post("/store/1003/cart/add", data=form).status_code == 400
    assert cart_cookie(client) == ""


def test_cart_keeps_one_currency(client: FlaskClient) -> None:
    client.post("/store/1003/cart/add", data={"product": "gata", "quantity": "1"})
    refused = client.post("/store/1003/cart/add", data={"product": "duduk", "quantity": "1"})
    assert refused.status_code == 409
    assert "USD" in refused.get_data(as_text=True)
    assert cart_cookie(client) == "gata:1"


def test_checkout_of_the_cart_creates_one_order_with_every_line_and_empties_the_cart(client: FlaskClient) -> None:
    client.post("/store/1003/cart/add", data={"product": "gata", "quantity": "1"})
    client.post("/store/1003/cart/add", data={"product": "brandy", "quantity": "1"})
    response = client.post(
        "/store/1003/checkout",
        data={"qty-gata": "2", "qty-brandy": "1", "email": "ani@example.am", "lang": "ru"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="ru">' in html and "Оплатить картой" in html
    enc_data = re.search(r'name="enc_data" value="([^"]+)"', html)
    assert enc_data
    order = decrypt_gcm(enc_data.group(1), SECRET)["cart"]["order"]
    assert [(item["sku"], item["quantity"]) for item in order["items"]] == [("gata", 2), ("brandy", 1)]
    assert order["total"] == 31000.0 and order["lang"] == "ru" and order["email"] == "ani@example.am"
    assert cart_cookie(client) == ""


@pytest.mark.parametrize(
    "form",
    [
        {"qty-gata": "0"},
        {"qty-gata": "x"},
        {"qty-gata": "1", "qty-duduk": "1"},
        {"qty-nothing": "1"},
    ],
)
def test_bad_cart_checkout_is_400(client: FlaskClient, form: dict[str, str]) -> None:
    assert client.post("/store/1003/checkout", data=form).status_code == 400


@pytest.mark.parametrize(
    ("lang", "pay", "thanks", "failed", "again"),
    [
        ("hy", "Վճարել քարտով", "Շնորհակալություն", "Վճարումը չի կատարվել", "Վճարել կրկին"),
        ("ru", "Оплатить картой", "Спасибо за заказ", "Оплата не прошла", "Оплатить снова"),
        ("en", "Pay by card", "Thank you for your order", "The payment did not go through", "Pay again"),
    ],
)
def test_order_pages_speak_the_order_language(
    client: FlaskClient, lang: str, pay: str, thanks: str, failed: str, again: str
) -> None:
    order = new_order(client, lang=lang)
    pay_page = client.get(f"/store/1003/orders/{order['id']}/pay").get_data(as_text=True)
    assert f'<html lang="{lang}">' in pay_page and pay in pay_page
    url = payment_request(client, order["id"])["returnUrl"]
    checkout = client.get(return_path(url) + "&errorMsg=declined").get_data(as_text=True)
    assert f'<html lang="{lang}">' in checkout and failed in checkout and again in checkout
    set_status(client, order["id"], "PAID")
    thank_you = client.get(return_path(url)).get_data(as_text=True)
    assert f'<html lang="{lang}">' in thank_you and thanks in thank_you


def test_checkout_again_puts_the_bank_message_and_the_retry_button_before_the_summary(client: FlaskClient) -> None:
    order = new_order(client, lang="ru")
    url = payment_request(client, order["id"])["returnUrl"]
    html = client.get(return_path(url) + "&errorMsg=Недостаточно%20средств").get_data(as_text=True)
    assert 'data-testid="checkout-error">Недостаточно средств<' in html
    assert html.index('data-testid="checkout-error"') < html.index('id="pay-again"') < html.index("order-summary")


def test_summary_shows_product_names_in_the_order_language(client: FlaskClient) -> None:
    client.post("/store/1003/checkout", data={"product": "lavash", "quantity": "1", "lang": "hy"})
    response = client.post("/store/1003/checkout", data={"product": "lavash", "quantity": "1", "lang": "hy"})
    assert "Լավաշ" in response.get_data(as_text=True)


def test_error_pages_speak_the_store_language(client: FlaskClient) -> None:
    response = client.get("/store/9999/?lang=ru")
    assert response.status_code == 404
    assert "Магазин не найден" in response.get_data(as_text=True)
    client.get("/store/1003/?lang=hy")
    response = client.post("/store/1003/checkout", data={"product": "gata", "quantity": "0"})
    assert response.status_code == 400
    assert "Սխալ քանակ" in response.get_data(as_text=True)
