"""The simulator over real sockets: a browser-like client pays on the hosted page and the bank's callback reaches
a tiny merchant WSGI server, whose checksum is verified independently."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app, get_state
from simulator.testing import ServerThread

pytestmark = pytest.mark.e2e

KEY = "e2e-callback-key"
CREDS = {"userName": "shop_amd", "password": "pw-amd"}


class Merchant:
    """Records callbacks (GET query or POST form) and verifies their checksum like a gateway would."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.methods: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        params = dict(parse_qsl(environ["QUERY_STRING"]))
        params.update(parse_qsl(body))
        with self.lock:
            self.calls.append(params)
            self.methods.append(environ["REQUEST_METHOD"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"OK"]

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.calls) >= count:
                    return
            time.sleep(0.02)
        raise AssertionError(f"expected {count} callbacks, got {len(self.calls)}")


def checksum_ok(params: dict[str, str], key: str) -> bool:
    text = "".join(f"{name};{params[name]};" for name in sorted(params) if name not in ("checksum", "sign_alias"))
    expected = hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.upper(), params.get("checksum", "").upper())


@pytest.fixture
def merchant() -> Iterator[tuple[Merchant, str]]:
    receiver = Merchant()
    with ServerThread(receiver) as server:
        yield receiver, server.url


@pytest.fixture
def simulator(merchant: tuple[Merchant, str]) -> Iterator[tuple[Any, str]]:
    config = SimulatorConfig(
        public_url="http://placeholder",
        payment_url="http://placeholder/pay",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", "secret_token_1003"),),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
        callback_url=f"{merchant[1]}/bank/callback",
        callback_key=KEY,
    )
    app = create_app(config)
    with ServerThread(app) as server:
        get_state(app).reconfigure(public_url=server.url, payment_url=f"{server.url}/pay")
        yield app, server.url


def register(http: httpx.Client, base: str, number: str) -> dict[str, Any]:
    response = http.post(
        f"{base}/payment/rest/register.do",
        data={
            **CREDS,
            "orderNumber": number,
            "amount": "1500000",
            "currency": "051",
            "returnUrl": "http://shop.test/r",
        },
    )
    body: dict[str, Any] = response.json()
    assert body["errorCode"] == 0
    return body


def test_paying_on_the_hosted_page_delivers_a_signed_callback(
    simulator: tuple[Any, str], merchant: tuple[Merchant, str]
) -> None:
    _, base = simulator
    receiver, _ = merchant
    with httpx.Client(timeout=10) as http:
        registered = register(http, base, "E2E-1")
        assert registered["formUrl"].startswith(f"{base}/payment/merchants/sim/payment_en.html?mdOrder=")
        page = http.get(registered["formUrl"])
        assert page.status_code == 200 and 'id="pay"' in page.text
        response = http.post(
            registered["formUrl"], data={"pan": "4242424242424242", "expiry": "12/39", "cvc": "123", "cardholder": "A"}
        )
        assert response.status_code == 302
        assert urlsplit(response.headers["location"]).netloc == "shop.test"
        assert len(receiver.calls) == 1  # immediate mode: delivered before the redirect
        callback = receiver.calls[0]
        assert checksum_ok(callback, KEY)
        assert (callback["mdOrder"], callback["operation"], callback["status"], callback["amount"]) == (
            registered["orderId"],
            "deposited",
            "1",
            "1500000",
        )
        status = http.post(
            f"{base}/payment/rest/getOrderStatusExtended.do", data={**CREDS, "orderId": registered["orderId"]}
        ).json()
        assert (status["errorCode"], status["orderStatus"]) == ("0", 2)
        journal = http.get(f"{base}/_control/journal?service=vpos").json()["entries"]
        assert any(e["operation"] == "callback" and e["status"] == 200 for e in journal)


def test_post_callbacks_after_return_over_sockets(simulator: tuple[Any, str], merchant: tuple[Merchant, str]) -> None:
    app, base = simulator
    receiver, _ = merchant
    get_state(app).reconfigure(callback_method="POST")
    with httpx.Client(timeout=10) as http:
        http.put(f"{base}/_control/vpos/callbacks", json={"mode": "after_return", "afterReturnDelaySeconds": 0.2})
        registered = register(http, base, "E2E-2")
        result = http.post(
            f"{base}/_control/vpos/orders/{registered['orderId']}/pay",
            json={"pan": "4000000000009995", "expiry": "12/39"},
        ).json()
        assert result["callback"]["outcome"] == "scheduled"
        receiver.wait_for(1)
        assert receiver.methods == ["POST"]
        assert checksum_ok(receiver.calls[0], KEY)
        assert (receiver.calls[0]["operation"], receiver.calls[0]["status"]) == ("deposited", "0")


def test_storefront_payment_form_posts_to_the_configured_payment_url(simulator: tuple[Any, str]) -> None:
    _, base = simulator
    with httpx.Client(timeout=10) as http:
        html = http.post(f"{base}/store/1003/checkout", data={"product": "gata", "quantity": "1"}).text
        assert f'action="{base}/pay"' in html
