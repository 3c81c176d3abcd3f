"""The simulator over real sockets: a browser-like client pays on the hosted page and the bank's callback reaches
a tiny merchant WSGI server, whose checksum is verified independently."""

from __future__ import annotations

import hashlib
import hmac
import threading
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
    """Records callbacks (GET query or POST form) and verifies their checksum like a gateway would; answers the
    statuses in ``statuses`` first, then 200."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.methods: list[str] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        params = dict(parse_qsl(environ["QUERY_STRING"]))
        params.update(parse_qsl(body))
        with self.lock:
            self.calls.append(params)
            self.methods.append(environ["REQUEST_METHOD"])
            status = self.statuses.pop(0) if self.statuses else 200
        start_response(f"{status} STATUS", [("Content-Type", "text/plain")])
        return [b"OK"]


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
        http.put(f"{base}/_control/clock", json={"mode": "manual"}).raise_for_status()
        http.put(f"{base}/_control/vpos/callbacks", json={"mode": "after_return", "delaySeconds": 2})
        registered = register(http, base, "E2E-2")
        result = http.post(
            f"{base}/_control/vpos/orders/{registered['orderId']}/pay",
            json={"pan": "4000000000009995", "expiry": "12/39"},
        ).json()
        assert result["callback"]["outcome"] == "scheduled"
        assert receiver.calls == []
        http.post(f"{base}/_control/clock/advance", json={"seconds": 2}).raise_for_status()
        assert receiver.methods == ["POST"]  # advance returns after the due work ran
        assert checksum_ok(receiver.calls[0], KEY)
        assert (receiver.calls[0]["operation"], receiver.calls[0]["status"]) == ("deposited", "0")


def test_held_callbacks_released_in_reverse_order_then_replayed_over_sockets(
    simulator: tuple[Any, str], merchant: tuple[Merchant, str]
) -> None:
    _, base = simulator
    receiver, _ = merchant
    with httpx.Client(base_url=base, timeout=10) as http:
        md_order = register(http, base, "E2E-3")["orderId"]
        http.put(f"/_control/vpos/orders/{md_order}/callbacks", json={"mode": "hold"}).raise_for_status()
        paid = http.post(f"/_control/vpos/orders/{md_order}/pay", json={"pan": "4242424242424242", "expiry": "12/39"})
        deposited = paid.json()["callback"]["callbackIds"][0]
        injected = http.post(
            f"/_control/vpos/orders/{md_order}/callbacks", json={"operation": "declinedByTimeout", "status": 0}
        ).json()
        declined = injected["callbacks"][0]["id"]
        pending = http.get("/_control/vpos/callbacks/pending", params={"mdOrder": md_order}).json()["orders"]
        assert [c["id"] for c in pending[0]["callbacks"]] == [deposited, declined]
        assert receiver.calls == []
        released = http.post(
            f"/_control/vpos/orders/{md_order}/callbacks/release", json={"ids": [declined, deposited]}
        ).json()
        assert [c["state"] for c in released["callbacks"]] == ["delivered", "delivered"]
        assert [call["operation"] for call in receiver.calls] == ["declinedByTimeout", "deposited"]
        assert all(checksum_ok(call, KEY) for call in receiver.calls)
        replay = http.post(f"/_control/vpos/callbacks/{deposited}/replay").json()
        assert replay["replayOf"] == deposited
        assert receiver.calls[2] == receiver.calls[1]  # the very same parameters, checksum included
        journal = http.get("/_control/journal", params={"service": "vpos"}).json()["entries"]
        attempts = [e for e in journal if e["operation"] == "callback" and e["params"].get("mdOrder") == md_order]
        assert [e["status"] for e in attempts] == [200, 200, 200]


def test_a_refused_callback_is_retried_when_the_clock_is_advanced_over_http(
    simulator: tuple[Any, str], merchant: tuple[Merchant, str]
) -> None:
    _, base = simulator
    receiver, _ = merchant
    receiver.statuses = [503, 500]
    with httpx.Client(base_url=base, timeout=10) as http:
        http.put("/_control/clock", json={"mode": "manual"}).raise_for_status()
        md_order = register(http, base, "E2E-4")["orderId"]
        paid = http.post(f"/_control/vpos/orders/{md_order}/pay", json={"pan": "4242424242424242", "expiry": "12/39"})
        assert paid.json()["callback"]["outcome"] == "scheduled"
        [pending] = http.get("/_control/vpos/callbacks/pending").json()["orders"]
        assert [c["nextAttempt"] for c in pending["callbacks"]] == [2]
        http.post("/_control/clock/advance", json={"seconds": 60}).raise_for_status()
        [sent] = http.get("/_control/vpos/callbacks/sent", params={"mdOrder": md_order}).json()["callbacks"]
        assert [a["httpStatus"] for a in sent["attempts"]] == [503, 500, 200]
        assert sent["state"] == "delivered"
        assert len(receiver.calls) == 3 and all(checksum_ok(call, KEY) for call in receiver.calls)


def test_storefront_payment_form_posts_to_the_configured_payment_url(simulator: tuple[Any, str]) -> None:
    _, base = simulator
    with httpx.Client(timeout=10) as http:
        html = http.post(f"{base}/store/1003/checkout", data={"product": "gata", "quantity": "1"}).text
        assert f'action="{base}/pay"' in html
