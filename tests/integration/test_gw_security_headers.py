"""Security headers on every kind of answer the gateway gives, HSTS only over HTTPS, and the proxy in front trusted
exactly as configured (ProxyFix hops)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from gateway import create_app
from gateway.web.security_headers import BASE_HEADERS, HSTS
from tests.gateway_fakes import Gateway, ecwid_form, make_settings

ANSWERS = {
    "payment redirect": ("POST", "/ecwid/payment", lambda: ecwid_form()),
    "refused payment request": ("POST", "/ecwid/payment", lambda: {"data": "junk"}),
    "unknown return": ("GET", "/vpos/return", lambda: {"orderId": "junk"}),
    "callback": ("GET", "/vpos/callback", lambda: {"mdOrder": "x"}),
    "not found": ("GET", "/nowhere", lambda: {}),
    "readiness": ("GET", "/readyz", lambda: {}),
}


def _built(database_url: str, **overrides: object) -> Iterator[tuple[Gateway, Flask]]:
    gateway = Gateway.build(make_settings(database_url, **overrides))
    try:
        yield gateway, create_app(context=gateway.ctx)
    finally:
        gateway.close()


@pytest.fixture
def client(database_url: str) -> Iterator[FlaskClient]:
    for _, app in _built(database_url):
        with app.test_client() as test_client:
            yield test_client


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_every_answer_carries_the_security_headers(client: FlaskClient, answer: str) -> None:
    method, path, params = ANSWERS[answer]
    response = client.open(
        path, method=method, **({"data": params()} if method == "POST" else {"query_string": params()})
    )
    for name, value in BASE_HEADERS.items():
        assert response.headers.get(name) == value, (answer, name)
    assert "Strict-Transport-Security" not in response.headers  # the test gateway's public URL is plain HTTP


def test_hsts_when_the_public_url_is_https(database_url: str) -> None:
    for _, app in _built(database_url, public_url="https://pay.shop.example"):
        response = app.test_client().get("/healthz")
        assert response.headers["Strict-Transport-Security"] == HSTS


@pytest.mark.parametrize(("hops", "seen"), [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_forwarded_addresses_are_trusted_only_for_the_configured_proxies(
    database_url: str, hops: int, seen: str
) -> None:
    for _, app in _built(database_url, proxy_hops=hops):
        app.add_url_rule("/_probe", "probe", lambda: {"remote": request.remote_addr, "scheme": request.scheme})
        answer = app.test_client().get(
            "/_probe", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
        )
        assert answer.get_json() == {"remote": seen, "scheme": "https" if hops else "http"}
