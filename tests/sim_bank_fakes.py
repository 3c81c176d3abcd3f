"""Shared helpers for the simulated bank's tests: a simulator in manual clock mode whose callbacks reach a recording
merchant endpoint in-process (``httpx.WSGITransport``), and short calls for register, card page, status, clock."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import flask
import httpx
import pytest
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app

PUBLIC = "http://sim.test"
CREDS = {"userName": "shop_amd", "password": "pw-amd"}


class Merchant:
    """A merchant callback endpoint (WSGI) that records every callback's parameters and answers 200."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self._lock:
            self.calls.append(dict(parse_qsl(environ["QUERY_STRING"])))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    def seen(self) -> list[tuple[str, str]]:
        """``(operation, status)`` of every callback so far."""
        with self._lock:
            return [(call["operation"], call["status"]) for call in self.calls]


def build(merchant: Merchant) -> flask.Flask:
    config = SimulatorConfig(
        public_url=PUBLIC,
        payment_url="http://gw.test/pay",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", "secret_token_1003"),),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
        callback_url="http://merchant.test/callback",
    )
    return create_app(config, http_transport=httpx.WSGITransport(app=merchant))


# -- fixtures: a simulator in manual clock mode whose callbacks reach a recording merchant (import them by name) ---


@pytest.fixture
def merchant() -> Merchant:
    return Merchant()


@pytest.fixture
def app(merchant: Merchant) -> flask.Flask:
    return build(merchant)


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return manual(app.test_client())


def manual(client: FlaskClient) -> FlaskClient:
    assert client.put("/_control/clock", json={"mode": "manual"}).status_code == 200
    return client


def advance(client: FlaskClient, seconds: float) -> dict[str, Any]:
    response = client.post("/_control/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def register(client: FlaskClient, number: str = "N-1", **extra: str) -> dict[str, Any]:
    params = {
        **CREDS,
        "orderNumber": number,
        "amount": "1500000",
        "returnUrl": "http://gw.test/return",
        "failUrl": "http://gw.test/fail",
        **extra,
    }
    body: dict[str, Any] = client.post("/payment/rest/register.do", data=params).get_json()
    assert body["errorCode"] == 0, body
    return body


def page_path(form_url: str) -> str:
    parts = urlsplit(form_url)
    return f"{parts.path}?{parts.query}"


def submit(client: FlaskClient, registered: dict[str, Any], pan: str, expiry: str = "12/39") -> Any:
    """The card page's form, as a browser posts it."""
    return client.post(
        page_path(registered["formUrl"]), data={"pan": pan, "expiry": expiry, "cvc": "123", "cardholder": "Ani A"}
    )


def status(client: FlaskClient, md_order: str, **params: str) -> dict[str, Any]:
    body: dict[str, Any] = client.post(
        "/payment/rest/getOrderStatusExtended.do", data={**CREDS, "orderId": md_order, **params}
    ).get_json()
    return body


def control_order(client: FlaskClient, md_order: str) -> dict[str, Any]:
    """The control view of a bank order (like every read, it notices an expired session)."""
    body: dict[str, Any] = client.get(f"/_control/vpos/orders/{md_order}").get_json()
    return body


def bank_jobs(client: FlaskClient) -> list[dict[str, Any]]:
    """Pending scheduler jobs of the bank (session expiry, pending resolution)."""
    jobs: list[dict[str, Any]] = client.get("/_control/clock").get_json()["pendingJobs"]
    return [job for job in jobs if "bank" in job["tags"]]


def rbs(client: FlaskClient, method: str, **params: str) -> dict[str, Any]:
    """Call a bank method (``deposit.do``...) as the merchant ``shop_amd``; the JSON answer."""
    response = client.post(f"/payment/rest/{method}", data={**CREDS, **params})
    assert response.status_code == 200, response.status_code
    body: dict[str, Any] = response.get_json()
    return body


def register_pre_auth(client: FlaskClient, number: str = "P-1", **extra: str) -> dict[str, Any]:
    """``registerPreAuth.do`` (two-phase) for 1500000 minor units, like ``register``."""
    params = {**CREDS, "orderNumber": number, "amount": "1500000", "returnUrl": "http://gw.test/return", **extra}
    body: dict[str, Any] = client.post("/payment/rest/registerPreAuth.do", data=params).get_json()
    assert body["errorCode"] == 0, body
    return body
