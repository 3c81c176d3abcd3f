"""Shared fakes for the simulator's callback tests: a merchant endpoint (WSGI) that records every callback and
answers scripted statuses, an independent checksum, and helpers that build a simulator whose callbacks reach
that endpoint in-process (``httpx.WSGITransport``)."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import flask
import httpx
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app

CREDS = {"userName": "shop_amd", "password": "pw-amd"}
KEY = "callback-shared-key"
PAID_CARD = "4242424242424242"


class Receiver:
    """A tiny WSGI merchant endpoint that records every callback and answers the scripted statuses.

    ``barrier``: every request waits there (up to 2 s) before answering; a broken barrier answers 599, so a test
    proves that N callbacks were in flight at the same time.
    """

    def __init__(self, statuses: Iterable[int] = (), *, barrier: threading.Barrier | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self._statuses = list(statuses)
        self._barrier = barrier
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        status = 200
        if self._barrier is not None:
            try:
                self._barrier.wait(timeout=2)
            except threading.BrokenBarrierError:
                status = 599
        with self._lock:
            self.calls.append(
                {
                    "method": environ["REQUEST_METHOD"],
                    "path": environ["PATH_INFO"],
                    "query": dict(parse_qsl(environ["QUERY_STRING"])),
                    "form": dict(parse_qsl(body)),
                }
            )
            if self._statuses:
                status = self._statuses.pop(0)
        start_response(f"{status} STATUS", [("Content-Type", "text/plain")])
        return [b"ok"]

    def params(self, index: int = -1) -> dict[str, str]:
        """The bank's parameters of one call (query or form), without the configured URL's own ``source``."""
        call = self.calls[index]
        merged = {**call["query"], **call["form"]}
        merged.pop("source", None)
        return merged

    def operations(self) -> list[str]:
        return [self.params(i)["operation"] for i in range(len(self.calls))]


def expected_checksum(params: dict[str, str], key: str) -> str:
    text = "".join(f"{name};{params[name]};" for name in sorted(params) if name not in ("checksum", "sign_alias"))
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


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


def manual(client: FlaskClient) -> FlaskClient:
    """Put the simulator's clock in manual mode: scheduled work runs only on ``advance``."""
    assert client.put("/_control/clock", json={"mode": "manual"}).status_code == 200
    return client


def advance(client: FlaskClient, seconds: float) -> None:
    assert client.post("/_control/clock/advance", json={"seconds": seconds}).status_code == 200


def register(client: FlaskClient, number: str = "N-1", **extra: str) -> str:
    params = {**CREDS, "orderNumber": number, "amount": "500000", "returnUrl": "http://gw.test/return", **extra}
    body = client.post("/payment/rest/register.do", data=params).get_json()
    assert body["errorCode"] == 0
    return str(body["orderId"])


def pay(client: FlaskClient, md_order: str, pan: str = PAID_CARD) -> Any:
    """Pay on the hosted card page (the browser's way); returns the 302 response."""
    return client.post(
        f"/payment/merchants/sim/payment_en.html?mdOrder={md_order}",
        data={"pan": pan, "expiry": "12/39", "cvc": "123"},
    )


def pay_control(client: FlaskClient, md_order: str, pan: str = PAID_CARD) -> dict[str, Any]:
    """Pay through the control API; returns its JSON (with the ``callback`` outcome)."""
    body: dict[str, Any] = client.post(
        f"/_control/vpos/orders/{md_order}/pay", json={"pan": pan, "expiry": "12/39"}
    ).get_json()
    return body


def callback_journal(client: FlaskClient) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = client.get("/_control/journal?service=vpos").get_json()["entries"]
    return [e for e in entries if e["operation"] == "callback"]
