"""What the fuzzing of the Ecwid request and the bank callback found, one regression test per defect, through the
parsing functions and through the real Flask app (SQLite, fakes for the bank and Ecwid).

1. A payment request whose decrypted JSON nests deeper than Python's recursion limit made ``json.loads`` raise
   ``RecursionError``, which ``parse_payment_request`` let through: a 500 instead of the one uniform refusal.
   Only whoever holds the client secret can encrypt such a payload, but a crash is never the answer.
2. A query string that is not UTF-8 (raw bytes, not percent-encoded: werkzeug's development server passes them,
   gunicorn refuses them itself) made werkzeug's ``request.args`` raise ``UnicodeDecodeError`` in the request
   guard: the callback answered 500, and on customer pages the error handler failed too (it reads ``lang`` from
   the query), so the server's bare 500 page was all the customer saw.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from gateway import create_app
from gateway.domain.errors import InvalidPaymentRequest
from gateway.ecwid.payment_request import parse_payment_request
from tests.gateway_fakes import (
    RETURN_URL,
    Gateway,
    ecwid_form,
    ecwid_payload,
    encrypt_cbc,
    encrypt_gcm,
    make_settings,
    sign_callback,
)

UUID = "9d1c3f1e-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    folder: Path = tmp_path_factory.mktemp("findings")
    gateway = Gateway.build(make_settings(f"sqlite:///{folder}/gw.sqlite3", payment_rate_limit=""))
    try:
        yield gateway
    finally:
        gateway.close()


@pytest.fixture(scope="module")
def client(gw: Gateway) -> Iterator[FlaskClient]:
    with create_app(context=gw.ctx).test_client() as test_client:
        yield test_client


def deeply_nested(depth: int) -> bytes:
    """A genuine payload whose merchantAppSettings hold ``depth`` nested arrays."""
    text = json.dumps(ecwid_payload())
    return (text[:-1] + ', "merchantAppSettings": {"x": ' + "[" * depth + "]" * depth + "}}").encode()


@pytest.mark.parametrize("depth", [5_000, 100_000])
@pytest.mark.parametrize("field", ["enc_data", "data"])
def test_json_nested_beyond_the_recursion_limit_is_refused_like_any_bad_payload(
    gw: Gateway, field: str, depth: int
) -> None:
    encrypt = encrypt_gcm if field == "enc_data" else encrypt_cbc
    form = {field: encrypt(deeply_nested(depth))}
    with pytest.raises(InvalidPaymentRequest):
        parse_payment_request(form, gw.settings.ecwid_client_secrets, frozenset(gw.settings.provider_credentials))


def test_json_nested_beyond_the_recursion_limit_gets_the_generic_400_page(client: FlaskClient) -> None:
    reference = client.post("/ecwid/payment", data={"enc_data": "not-a-token"})
    nested = client.post("/ecwid/payment", data={"enc_data": encrypt_gcm(deeply_nested(5_000))})
    assert (nested.status_code, nested.get_data()) == (400, reference.get_data())
    assert reference.status_code == 400


def test_a_payload_nested_but_within_the_limit_is_still_accepted(client: FlaskClient) -> None:
    response = client.post("/ecwid/payment", data={"enc_data": encrypt_gcm(deeply_nested(200))})
    assert response.status_code == 303


RAW_QUERIES = ["\xff", "lang=\xff", "mdOrder=\xc3\x28&checksum=AB", "a=%ff&b=\xe9t\xe9", "\x80=\x80"]
"""QUERY_STRING as a WSGI server hands it over: latin-1 text of the raw bytes, here not valid UTF-8."""


@pytest.mark.parametrize("query", RAW_QUERIES)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_callback_whose_query_is_not_utf8_is_refused_with_400(
    gw: Gateway, client: FlaskClient, query: str, method: str
) -> None:
    before = gw.row_counts()
    response = client.open("/vpos/callback", method=method, environ_overrides={"QUERY_STRING": query})
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert gw.row_counts() == before


@pytest.mark.parametrize("query", RAW_QUERIES)
@pytest.mark.parametrize(("method", "path"), [("GET", "/vpos/return"), ("POST", "/ecwid/payment"), ("GET", "/health")])
def test_a_customer_page_whose_query_is_not_utf8_gets_the_generic_400_page(
    client: FlaskClient, query: str, method: str, path: str
) -> None:
    reference = client.post("/ecwid/payment", data={"enc_data": "not-a-token"})
    response = client.open(path, method=method, environ_overrides={"QUERY_STRING": query}, data=ecwid_form())
    assert (response.status_code, response.get_data()) == (400, reference.get_data())


def test_percent_encoded_queries_and_signed_callbacks_are_unaffected(gw: Gateway, client: FlaskClient) -> None:
    assert client.get("/vpos/callback?mdOrder=%FF&checksum=00").status_code == 400  # bad checksum, as before
    signed = sign_callback({"mdOrder": UUID, "orderNumber": "VNOPE", "operation": "deposited", "status": "0"})
    response = client.get("/vpos/callback", query_string=signed)
    assert (response.status_code, response.get_data()) == (200, b"unknown order")
    assert client.post("/ecwid/payment?lang=hy", data=ecwid_form()).status_code == 303
    assert RETURN_URL  # the genuine form above carries the store's returnUrl
