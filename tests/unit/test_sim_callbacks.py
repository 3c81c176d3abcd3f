"""Bank callbacks delivered in-process to a receiving WSGI app through httpx.WSGITransport."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import flask
import httpx
import pytest
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app, get_state

CREDS = {"userName": "shop_amd", "password": "pw-amd"}
KEY = "callback-shared-key"


class Receiver:
    """A tiny WSGI merchant endpoint that records every callback and answers the scripted statuses."""

    def __init__(self, statuses: Iterable[int] = ()) -> None:
        self.calls: list[dict[str, Any]] = []
        self._statuses = list(statuses)
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        with self._lock:
            self.calls.append(
                {
                    "method": environ["REQUEST_METHOD"],
                    "path": environ["PATH_INFO"],
                    "query": dict(parse_qsl(environ["QUERY_STRING"])),
                    "form": dict(parse_qsl(body)),
                }
            )
            status = self._statuses.pop(0) if self._statuses else 200
        start_response(f"{status} STATUS", [("Content-Type", "text/plain")])
        return [b"ok"]

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.calls) >= count:
                    return
            time.sleep(0.02)
        raise AssertionError(f"expected {count} callbacks, got {len(self.calls)}")


def build(receiver: Receiver, *, key: str | None = KEY, method: str = "GET") -> flask.Flask:
    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/pay",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", "secret_token_1003"),),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
        callback_url="http://merchant.test/bank/callback?source=arca",
        callback_key=key,
        callback_method=method,
    )
    return create_app(config, http_transport=httpx.WSGITransport(app=receiver))


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def client(receiver: Receiver) -> FlaskClient:
    return build(receiver).test_client()


def register(client: FlaskClient, **extra: str) -> str:
    params = {**CREDS, "orderNumber": "N-1", "amount": "500000", "returnUrl": "http://gw.test/return", **extra}
    body = client.post("/payment/rest/register.do", data=params).get_json()
    assert body["errorCode"] == 0
    return str(body["orderId"])


def pay(client: FlaskClient, md_order: str, pan: str = "4242424242424242") -> Any:
    return client.post(
        f"/payment/merchants/sim/payment_en.html?mdOrder={md_order}",
        data={"pan": pan, "expiry": "12/39", "cvc": "123"},
    )


def expected_checksum(params: dict[str, str], key: str) -> str:
    text = "".join(f"{name};{params[name]};" for name in sorted(params) if name not in ("checksum", "sign_alias"))
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


def test_immediate_callback_arrives_before_the_redirect_and_is_signed(client: FlaskClient, receiver: Receiver) -> None:
    md_order = register(client)
    response = pay(client, md_order)
    assert response.status_code == 302
    assert len(receiver.calls) == 1  # already delivered when the browser is redirected
    call = receiver.calls[0]
    assert (call["method"], call["path"]) == ("GET", "/bank/callback")
    params = dict(call["query"])
    assert params.pop("source") == "arca"  # the configured URL's own query survives
    assert {k: params[k] for k in ("mdOrder", "orderNumber", "operation", "status", "amount")} == {
        "mdOrder": md_order,
        "orderNumber": "N-1",
        "operation": "deposited",
        "status": "1",
        "amount": "500000",
    }
    assert re.fullmatch(
        r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} AMT \d{4}", params["callbackCreationDate"]
    )
    assert params["checksum"] == expected_checksum(params, KEY)


def test_declined_payment_sends_status_0(client: FlaskClient, receiver: Receiver) -> None:
    pay(client, register(client), pan="4000000000009995")
    params = receiver.calls[0]["query"]
    assert (params["operation"], params["status"]) == ("deposited", "0")


def test_dynamic_callback_url_overrides_the_configured_one(client: FlaskClient, receiver: Receiver) -> None:
    pay(client, register(client, dynamicCallbackUrl="http://merchant.test/per-order"))
    assert receiver.calls[0]["path"] == "/per-order"


def test_post_callbacks_send_a_form(receiver: Receiver) -> None:
    client = build(receiver, method="POST").test_client()
    pay(client, register(client))
    call = receiver.calls[0]
    assert call["method"] == "POST"
    assert call["form"]["checksum"] == expected_checksum(call["form"], KEY)
    assert call["query"] == {"source": "arca"}


def test_without_a_key_callbacks_are_unsigned(receiver: Receiver) -> None:
    client = build(receiver, key=None).test_client()
    pay(client, register(client))
    assert "checksum" not in receiver.calls[0]["query"]


def test_mode_none_sends_nothing(client: FlaskClient, receiver: Receiver) -> None:
    assert client.put("/_control/vpos/callbacks", json={"mode": "none"}).status_code == 200
    pay(client, register(client))
    time.sleep(0.1)
    assert receiver.calls == []


def test_mode_after_return_sends_after_the_redirect(client: FlaskClient, receiver: Receiver) -> None:
    client.put("/_control/vpos/callbacks", json={"mode": "after_return", "afterReturnDelaySeconds": 0.3})
    pay(client, register(client))
    assert receiver.calls == []
    receiver.wait_for(1)
    assert receiver.calls[0]["query"]["operation"] == "deposited"


def test_non_200_answers_are_retried_up_to_three_times(client: FlaskClient) -> None:
    failing = Receiver(statuses=[500, 503, 200])
    client = build(failing).test_client()
    result = client.post(
        f"/_control/vpos/orders/{register(client)}/pay", json={"pan": "4242424242424242", "expiry": "12/39"}
    ).get_json()
    assert result["callback"] == {"outcome": "delivered", "attempts": 3, "lastStatus": 200}
    assert len(failing.calls) == 3
    statuses = [
        e["status"]
        for e in client.get("/_control/journal?service=vpos").get_json()["entries"]
        if e["operation"] == "callback"
    ]
    assert statuses == [500, 503, 200]


def test_a_callback_that_always_fails_stops_after_four_attempts(client: FlaskClient) -> None:
    failing = Receiver(statuses=[500] * 10)
    client = build(failing).test_client()
    result = client.post(
        f"/_control/vpos/orders/{register(client)}/pay", json={"pan": "4242424242424242", "expiry": "12/39"}
    ).get_json()
    assert result["callback"]["outcome"] == "failed"
    assert len(failing.calls) == 4


def test_callbacks_are_journaled_without_the_checksum(client: FlaskClient, receiver: Receiver) -> None:
    pay(client, register(client))
    entries = client.get("/_control/journal?service=vpos").get_json()["entries"]
    callback = next(e for e in entries if e["operation"] == "callback")
    assert callback["direction"] == "out"
    assert callback["status"] == 200
    assert callback["params"]["checksum"] == "***"
    assert callback["path"] == "http://merchant.test/bank/callback?source=arca"
    journal_text = client.get("/_control/journal").get_data(as_text=True)
    assert receiver.calls[0]["query"]["checksum"] not in journal_text
    assert KEY not in journal_text


def test_expiry_noticed_by_polling_sends_declined_by_timeout(client: FlaskClient, receiver: Receiver) -> None:
    md_order = register(client)
    client.post("/_control/clock/advance", json={"seconds": 1300})
    client.post("/payment/rest/getOrderStatusExtended.do", data={**CREDS, "orderId": md_order})
    receiver.wait_for(1)
    assert (receiver.calls[0]["query"]["operation"], receiver.calls[0]["query"]["status"]) == ("declinedByTimeout", "0")


def test_no_callback_url_means_no_callback(receiver: Receiver) -> None:
    app = build(receiver)
    get_state(app).reconfigure(callback_url=None)
    client = app.test_client()
    result = client.post(
        f"/_control/vpos/orders/{register(client)}/pay", json={"pan": "4242424242424242", "expiry": "12/39"}
    ).get_json()
    assert result["callback"]["outcome"] == "no_url"
    assert receiver.calls == []


def test_reset_drops_pending_background_callbacks(client: FlaskClient, receiver: Receiver) -> None:
    client.put("/_control/vpos/callbacks", json={"mode": "after_return", "afterReturnDelaySeconds": 0.3})
    pay(client, register(client))
    client.post("/_control/reset")
    time.sleep(0.6)
    assert receiver.calls == []
    assert client.get("/_control/vpos/callbacks").get_json()["mode"] == "immediate"


def test_unreachable_callback_url_does_not_break_the_payment(receiver: Receiver) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/pay",
        stores=(),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
        callback_url="http://merchant.test/cb",
    )
    app = create_app(config, http_transport=httpx.MockTransport(broken))
    client = app.test_client()
    get_state(app).callbacks.configure(retry_delay=0.0)
    md_order = register(client)
    assert urlsplit(pay(client, md_order).headers["Location"]).path == "/return"
    entries = [e for e in get_state(app).journal.entries() if e.operation == "callback"]
    assert len(entries) == 4
    assert all(e.status is None and "ConnectError" in e.summary for e in entries)
