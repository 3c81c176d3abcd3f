"""Junk in any parameter of any public endpoint gets a clean 4xx, never a 5xx, on SQLite and PostgreSQL.

Customer pages answer with the generic error page, the bank's callback with a short plain-text body. Control
characters (NUL above all: PostgreSQL refuses it in text) and oversized values are refused before any view runs;
ids that cannot be the bank's are simply unknown, without a database lookup.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

from gateway import create_app
from gateway.services.messages import MESSAGES
from tests.gateway_fakes import Gateway, ecwid_form, sign_callback

UUID = "9d1c3f1e-0000-4000-8000-000000000000"
FORM = "application/x-www-form-urlencoded"

# Percent-encoded as they would arrive on the wire.
JUNK = {
    "nul": "%00",
    "encoded-surrogate": "%ED%A0%80",
    "invalid-utf8": "%FF",
    "overlong-utf8": "%C0%AF",
    "10kB": "A" * 10_240,
    "crlf": "%0D%0A",
    "tab": "%09",
    "del": "%7F",
    "c1-nel": "%C2%85",
    "line-separator": "%E2%80%A8",
    "unicode": quote("Պատվեր-ü-💳"),
    "sql": quote("' OR 1=1--"),
    "percent-and-plus": "%25%2B+",
}
CONTROL_JUNK = ("nul", "crlf", "tab", "del", "c1-nel")


def callback_params() -> dict[str, str]:
    return {"mdOrder": UUID, "orderNumber": "VNOPE", "operation": "deposited", "status": "1", "checksum": "0" * 64}


ENDPOINTS: dict[str, tuple[str, str, Any]] = {
    "return": ("GET", "/vpos/return", lambda: {"orderId": UUID, "attempt": "VNOPE", "lang": "en"}),
    "callback-get": ("GET", "/vpos/callback", callback_params),
    "callback-post": ("POST", "/vpos/callback", callback_params),
    "ecwid-payment": ("POST", "/ecwid/payment", ecwid_form),
    "health": ("GET", "/health", lambda: {"probe": "1"}),
    "readyz": ("GET", "/readyz", lambda: {"probe": "1"}),
    "healthz": ("GET", "/healthz", lambda: {"probe": "1"}),
}


@pytest.fixture
def app(gw: Gateway) -> Flask:
    return create_app(context=gw.ctx)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as test_client:
        yield test_client


def encode(params: list[tuple[str, str]]) -> str:
    """``name=value`` pairs whose parts are already percent-encoded."""
    return "&".join(f"{name}={value}" for name, value in params)


def send(client: FlaskClient, method: str, path: str, params: list[tuple[str, str]]) -> TestResponse:
    if method == "GET":
        return client.get(f"{path}?{encode(params)}")
    return client.post(path, data=encode(params), content_type=FORM)


def variants(base: dict[str, str], junk: str) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """The junk as each parameter's value, as an extra parameter, and as a parameter name."""
    quoted = [(quote(name), quote(value, safe="")) for name, value in base.items()]
    for index, (name, _) in enumerate(quoted):
        yield f"value of {name}", [*quoted[:index], (name, junk), *quoted[index + 1 :]]
    yield "extra parameter", [*quoted, ("extra", junk)]
    yield "parameter name", [*quoted, (junk, "1")]


def assert_clean_error(response: TestResponse, path: str) -> None:
    body = response.get_data(as_text=True)
    if path == "/vpos/callback":
        assert response.mimetype == "text/plain", body
        assert len(body) < 64, body
    else:
        assert MESSAGES["en"]["generic_error"] in body, body
        assert 'data-testid="gateway-error"' in body


@pytest.mark.parametrize("endpoint", list(ENDPOINTS), ids=list(ENDPOINTS))
def test_junk_in_any_parameter_never_gives_a_server_error(gw: Gateway, client: FlaskClient, endpoint: str) -> None:
    method, path, make_base = ENDPOINTS[endpoint]
    failures = []
    for junk_name, junk in JUNK.items():
        for where, params in variants(make_base(), junk):
            response = send(client, method, path, params)
            if response.status_code >= 500 or (junk_name in CONTROL_JUNK and response.status_code != 400):
                failures.append((junk_name, where, response.status_code))
            elif junk_name in CONTROL_JUNK:
                assert_clean_error(response, path)
            if method == "POST":  # the same junk in the query string of a POST
                response = client.post(f"{path}?{encode(params)}", data=make_base())
                if response.status_code >= 500:
                    failures.append((junk_name, "query of a POST: " + where, response.status_code))
    assert failures == []


@pytest.mark.parametrize("path", ["/vpos/return", "/vpos/callback"])
def test_a_nul_order_id_gets_a_clean_400(client: FlaskClient, path: str) -> None:
    for query in ("orderId=%00", "mdOrder=%00", "orderId=abc%00def&attempt=V1"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, query
        assert_clean_error(response, path)


@pytest.mark.parametrize("where", ["query", "body"])
def test_a_callback_with_a_control_character_is_refused_before_its_checksum_is_looked_at(
    gw: Gateway, client: FlaskClient, where: str
) -> None:
    params = sign_callback({"mdOrder": UUID, "orderNumber": "VNOPE", "operation": "deposited\n", "status": "1"})
    with statements(gw) as executed:
        if where == "query":
            response = client.get("/vpos/callback", query_string=params)
        else:
            response = client.post("/vpos/callback", data=params)
    assert response.status_code == 400
    assert_clean_error(response, "/vpos/callback")
    assert executed == []


def test_a_parameter_flood_is_refused(client: FlaskClient) -> None:
    response = client.get("/vpos/return?" + "&".join(f"p{i}=1" for i in range(1000)))
    assert response.status_code == 400
    assert_clean_error(response, "/vpos/return")


# --- ids that cannot be the bank's are unknown, without a lookup ----------------------------------------------------


@contextmanager
def statements(gw: Gateway) -> Iterator[list[str]]:
    """The SQL statements the gateway runs inside the block."""
    executed: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        executed.append(statement)

    event.listen(gw.ctx.db.engine, "before_cursor_execute", record)
    try:
        yield executed
    finally:
        event.remove(gw.ctx.db.engine, "before_cursor_execute", record)


MALFORMED_RETURNS = {
    "order-id-65-chars": {"orderId": "a" * 65},
    "order-id-space": {"orderId": "9d1c3f1e 0000"},
    "order-id-unicode": {"orderId": "Պատվեր"},
    "order-id-missing": {"attempt": "VNOPE"},
    "order-id-empty": {"orderId": ""},
    "attempt-33-chars": {"orderId": UUID, "attempt": "V" * 33},
    "attempt-unicode": {"orderId": UUID, "attempt": "Vü"},
    "attempt-empty": {"orderId": UUID, "attempt": ""},
}


@pytest.mark.parametrize("query", list(MALFORMED_RETURNS.values()), ids=list(MALFORMED_RETURNS))
def test_a_return_with_a_malformed_id_is_unknown_without_a_database_lookup(
    gw: Gateway, client: FlaskClient, query: dict[str, str]
) -> None:
    with statements(gw) as executed:
        response = client.get("/vpos/return", query_string=query)
    assert response.status_code == 404
    assert MESSAGES["en"]["unknown_payment"] in response.get_data(as_text=True)
    assert executed == []
    assert gw.provider.status_calls == []


MALFORMED_CALLBACKS = {
    "md-order-65-chars": {"mdOrder": "a" * 65, "orderNumber": "VNOPE"},
    "md-order-unicode": {"mdOrder": "Պատվեր", "orderNumber": "VNOPE"},
    "order-number-33-chars": {"mdOrder": UUID, "orderNumber": "V" * 33},
    "order-number-space": {"orderNumber": "V NOPE"},
}


@pytest.mark.parametrize("ids", list(MALFORMED_CALLBACKS.values()), ids=list(MALFORMED_CALLBACKS))
def test_a_signed_callback_with_a_malformed_id_is_an_unknown_order_without_a_database_lookup(
    gw: Gateway, client: FlaskClient, ids: dict[str, str]
) -> None:
    params = sign_callback({**ids, "operation": "deposited", "status": "1"})
    with statements(gw) as executed:
        response = client.post("/vpos/callback", data=params)
    assert (response.status_code, response.get_data(as_text=True)) == (200, "unknown order")
    assert executed == []
    assert gw.provider.status_calls == []


@pytest.mark.parametrize("ids", list(MALFORMED_CALLBACKS.values()), ids=list(MALFORMED_CALLBACKS))
def test_an_unsigned_callback_with_a_malformed_id_is_still_refused_for_its_checksum_first(
    gw: Gateway, client: FlaskClient, ids: dict[str, str]
) -> None:
    params = {**sign_callback({**ids, "operation": "deposited", "status": "1"}), "checksum": "0" * 64}
    response = client.get("/vpos/callback", query_string=params)
    assert (response.status_code, response.get_data(as_text=True)) == (400, "bad checksum")
    assert set(gw.row_counts().values()) == {0}
