"""What the fuzzing of the Ecwid request and the bank callback found, one regression test per defect, through the
parsing functions and through the real Flask app (SQLite, fakes for the bank and Ecwid).

1. A payment request whose decrypted JSON nests deeper than Python's recursion limit made ``json.loads`` raise
   ``RecursionError``, which ``parse_payment_request`` let through: a 500 instead of the one uniform refusal.
   Only whoever holds the client secret can encrypt such a payload, but a crash is never the answer.
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
    Gateway,
    ecwid_payload,
    encrypt_cbc,
    encrypt_gcm,
    make_settings,
)


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
