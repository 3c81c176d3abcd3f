"""Ecwid payment request decryption and validation (protocols.md 1.1, 1.2), against an independent Ecwid-side
encryptor built on pycryptodome: any failure is one uniform ``InvalidPaymentRequest``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr

from gateway.domain.errors import InvalidPaymentRequest
from gateway.ecwid.crypto import b64url_decode, decrypt_cbc, decrypt_gcm, key_from_secret
from gateway.ecwid.payment_request import PaymentRequest, parse_payment_request
from tests.gateway_fakes import (
    CLIENT_SECRET,
    ECWID_TOKEN,
    MISSING,
    REFERENCE,
    RETURN_URL,
    STORE_ID,
    b64url,
    cbc_raw,
    ecwid_form,
    ecwid_payload,
    encrypt_cbc,
    encrypt_gcm,
    gcm_raw,
    to_plaintext,
)

SECRETS = {STORE_ID: SecretStr(CLIENT_SECRET)}
SUPPORTED = frozenset({"AMD", "USD"})
OTHER_SECRET = "another-apps-secret-abcdefghijkl"


def parse(form: dict[str, str], secrets: dict[int, SecretStr] | None = None) -> PaymentRequest:
    return parse_payment_request(form, SECRETS if secrets is None else secrets, SUPPORTED)


def assert_rejected(form: dict[str, str]) -> InvalidPaymentRequest:
    with pytest.raises(InvalidPaymentRequest) as info:
        parse(form)
    exc = info.value
    assert exc.code == "invalid_payment_request"
    # The message is for logs: it never carries the token or the key.
    assert ECWID_TOKEN not in str(exc)
    assert CLIENT_SECRET[:16] not in str(exc)
    return exc


def plaintext_with_raw_remainder(raw: Callable[[bytes], bytes], remainder: int) -> bytes:
    """The example payload, padded with JSON whitespace until ``len(raw) % 3 == remainder``: remainder 0 gives a
    base64 text without '=' whose length is already a multiple of 4; 1 and 2 need '==' and '='."""
    base = to_plaintext(ecwid_payload())
    for extra in range(64):
        candidate = base + b" " * extra
        if len(raw(candidate)) % 3 == remainder:
            return candidate
    raise AssertionError("no suitable length")


# --- accepted requests ------------------------------------------------------------------------------------------


def test_gcm_enc_data_is_accepted_and_fields_are_mapped() -> None:
    request = parse({"enc_data": encrypt_gcm(ecwid_payload())})
    assert request.store_id == STORE_ID
    assert request.ecwid_order_id == "XJ12H"
    assert request.ecwid_internal_id == 65306446
    assert request.reference_transaction_id == REFERENCE
    assert (request.amount.minor, request.amount.currency) == (1500000, "AMD")
    assert request.return_url == RETURN_URL  # exactly as received
    assert request.token.get_secret_value() == ECWID_TOKEN
    assert ECWID_TOKEN not in repr(request)
    assert request.lang == "en"
    assert request.email == "buyer@example.com"


def test_cbc_data_is_accepted_when_enc_data_is_absent() -> None:
    request = parse({"data": encrypt_cbc(ecwid_payload())})
    assert request.reference_transaction_id == REFERENCE
    assert request.amount.minor == 1500000


def test_enc_data_is_preferred_over_data() -> None:
    form = {
        "enc_data": encrypt_gcm(ecwid_payload(reference="from_enc_data")),
        "data": encrypt_cbc(ecwid_payload(reference="from_data")),
    }
    assert parse(form).reference_transaction_id == "from_enc_data"


@pytest.mark.parametrize(
    "broken_enc_data",
    [
        pytest.param(lambda: "", id="empty"),
        pytest.param(lambda: "%%%not-base64%%%", id="not-base64"),
        pytest.param(lambda: encrypt_gcm(ecwid_payload(), OTHER_SECRET), id="wrong-key"),
        pytest.param(lambda: b64url(gcm_raw(to_plaintext(ecwid_payload()), CLIENT_SECRET)[:-1]), id="truncated"),
    ],
)
def test_broken_enc_data_falls_back_to_valid_data(broken_enc_data: Callable[[], str]) -> None:
    form = {"enc_data": broken_enc_data(), "data": encrypt_cbc(ecwid_payload(reference="from_data"))}
    assert parse(form).reference_transaction_id == "from_data"


def test_both_fields_as_ecwid_sends_them_today_are_accepted() -> None:
    assert parse(ecwid_form()).reference_transaction_id == REFERENCE


@pytest.mark.parametrize("padded", [True, False], ids=["with-padding", "without-padding"])
@pytest.mark.parametrize("remainder", [0, 1, 2], ids=["no-pad-needed", "two-pad-chars", "one-pad-char"])
@pytest.mark.parametrize("mode", ["gcm", "cbc"])
def test_urlsafe_base64_with_and_without_padding_is_accepted(mode: str, remainder: int, padded: bool) -> None:
    def raw(plaintext: bytes) -> bytes:
        return gcm_raw(plaintext, CLIENT_SECRET) if mode == "gcm" else cbc_raw(plaintext, CLIENT_SECRET)

    plaintext = plaintext_with_raw_remainder(raw, remainder)
    token = b64url(raw(plaintext), padded=padded)
    if remainder == 0:
        assert "=" not in token and len(token) % 4 == 0  # must not be over-padded (Ecwid's C# snippet bug)
    elif padded:
        assert token.endswith("=")
    else:
        assert len(token) % 4 != 0
    field = "enc_data" if mode == "gcm" else "data"
    assert parse({field: token}).reference_transaction_id == REFERENCE


def test_base64_decoder_keeps_a_length_that_is_already_a_multiple_of_four() -> None:
    raw = bytes(range(48))  # 48 bytes -> 64 characters, no padding at all
    text = b64url(raw)
    assert len(text) % 4 == 0 and "=" not in text
    assert b64url_decode(text) == raw
    assert b64url_decode(b64url(raw[:-1])) == raw[:-1]  # 47 bytes: one '=' stripped and restored


def test_low_level_decryptors_round_trip_the_independent_encryptor() -> None:
    key = key_from_secret(CLIENT_SECRET)
    plaintext = to_plaintext(ecwid_payload())
    assert decrypt_gcm(b64url(gcm_raw(plaintext, CLIENT_SECRET)), key) == plaintext
    assert decrypt_cbc(b64url(cbc_raw(plaintext, CLIENT_SECRET), padded=True), key) == plaintext


def test_float_total_in_usd_becomes_exact_minor_units() -> None:
    request = parse({"enc_data": encrypt_gcm(ecwid_payload(currency="USD", total=2014.97))})
    assert (request.amount.minor, request.amount.currency, request.amount.numeric_currency) == (201497, "USD", "840")


def test_integer_total_is_accepted() -> None:
    assert parse({"enc_data": encrypt_gcm(ecwid_payload(total=15000))}).amount.minor == 1500000


def test_lower_case_currency_is_normalised() -> None:
    assert parse({"enc_data": encrypt_gcm(ecwid_payload(currency="amd"))}).amount.currency == "AMD"


def test_the_store_is_the_one_whose_secret_opened_the_request() -> None:
    secrets = {777: SecretStr(OTHER_SECRET), STORE_ID: SecretStr(CLIENT_SECRET)}
    assert parse({"enc_data": encrypt_gcm(ecwid_payload())}, secrets).store_id == STORE_ID


# --- rejected requests: one uniform error ---------------------------------------------------------------------


def _flip_tag_byte() -> dict[str, str]:
    raw = bytearray(gcm_raw(to_plaintext(ecwid_payload()), CLIENT_SECRET))
    raw[-1] ^= 0x01
    return {"enc_data": b64url(bytes(raw))}


def _flip_ciphertext_byte() -> dict[str, str]:
    raw = bytearray(gcm_raw(to_plaintext(ecwid_payload()), CLIENT_SECRET))
    raw[20] ^= 0x80
    return {"enc_data": b64url(bytes(raw))}


def _gcm(payload: dict[str, Any] | bytes) -> dict[str, str]:
    return {"enc_data": encrypt_gcm(payload)}


def _cbc(payload: dict[str, Any] | bytes) -> dict[str, str]:
    return {"data": encrypt_cbc(payload)}


REJECTED: dict[str, Callable[[], dict[str, str]]] = {
    "empty-form": lambda: {},
    "empty-fields": lambda: {"enc_data": "", "data": ""},
    "other-fields-only": lambda: {"payload": encrypt_gcm(ecwid_payload())},
    "gcm-wrong-key": lambda: {"enc_data": encrypt_gcm(ecwid_payload(), OTHER_SECRET)},
    "cbc-wrong-key": lambda: {"data": encrypt_cbc(ecwid_payload(), OTHER_SECRET)},
    "both-wrong-key": lambda: ecwid_form(ecwid_payload(), OTHER_SECRET),
    "gcm-truncated": lambda: {"enc_data": b64url(gcm_raw(to_plaintext(ecwid_payload()), CLIENT_SECRET)[:-7])},
    "gcm-only-iv": lambda: {"enc_data": b64url(gcm_raw(b"{}", CLIENT_SECRET)[:16])},
    "cbc-truncated-partial-block": lambda: {"data": b64url(cbc_raw(to_plaintext(ecwid_payload()), CLIENT_SECRET)[:-3])},
    "cbc-truncated-whole-block": lambda: {"data": b64url(cbc_raw(to_plaintext(ecwid_payload()), CLIENT_SECRET)[:-16])},
    "cbc-only-iv": lambda: {"data": b64url(cbc_raw(b"{}", CLIENT_SECRET)[:16])},
    "gcm-flipped-tag": _flip_tag_byte,
    "gcm-flipped-ciphertext": _flip_ciphertext_byte,
    "not-base64": lambda: {"enc_data": "!!!not base64***", "data": "@@@@"},
    "base64-of-garbage": lambda: {"enc_data": b64url(b"x" * 80), "data": b64url(b"y" * 80)},
    "unknown-store": lambda: _gcm(ecwid_payload(store_id=9999)),
    "store-id-not-a-number": lambda: _gcm(ecwid_payload(store_id="abc")),
    "unsupported-currency": lambda: _gcm(ecwid_payload(currency="GBP")),
    "currency-without-credentials": lambda: _gcm(ecwid_payload(currency="EUR")),
    "total-zero": lambda: _gcm(ecwid_payload(total=0)),
    "total-negative": lambda: _gcm(ecwid_payload(total=-15000.0)),
    "total-nan": lambda: _gcm(ecwid_payload(total=float("nan"))),
    "total-infinity": lambda: _gcm(ecwid_payload(total=float("inf"))),
    "total-too-many-decimals": lambda: _gcm(ecwid_payload(total=15000.001)),
    "total-boolean": lambda: _gcm(ecwid_payload(total=True)),
    "total-string": lambda: _gcm(ecwid_payload(total="15000")),
    "total-missing": lambda: _gcm(ecwid_payload(total=MISSING)),
    "reference-missing": lambda: _gcm(ecwid_payload(reference=MISSING)),
    "reference-empty": lambda: _gcm(ecwid_payload(reference="")),
    "order-id-missing": lambda: _gcm(ecwid_payload(order_id=MISSING)),
    "return-url-missing": lambda: _gcm(ecwid_payload(return_url=MISSING)),
    "return-url-javascript": lambda: _gcm(ecwid_payload(return_url="javascript:alert(1)")),
    "return-url-ftp": lambda: _gcm(ecwid_payload(return_url="ftp://mystore.example/checkout")),
    "return-url-relative": lambda: _gcm(ecwid_payload(return_url="/checkout?x=1")),
    "return-url-no-host": lambda: _gcm(ecwid_payload(return_url="https://")),
    "token-missing": lambda: _gcm(ecwid_payload(token=MISSING)),
    "token-empty": lambda: _gcm(ecwid_payload(token="")),
    "non-json-plaintext": lambda: _gcm(b"storeId=1003&total=15000"),
    "json-array-plaintext": lambda: _gcm(b"[1, 2, 3]"),
    "broken-json-plaintext": lambda: _gcm(b'{"storeId": 1003, "cart": '),
    "non-utf8-plaintext": lambda: _gcm(b"{\xff\xfe}"),
    "cbc-non-json-plaintext": lambda: _cbc(b"not json at all, but padded fine"),
    "cbc-broken-json-plaintext": lambda: _cbc(b'{"storeId": 1003'),
    "cbc-unknown-store": lambda: _cbc(ecwid_payload(store_id=1)),
}


@pytest.mark.parametrize("make_form", list(REJECTED.values()), ids=list(REJECTED))
def test_every_bad_request_gives_the_same_uniform_error(make_form: Callable[[], dict[str, str]]) -> None:
    assert_rejected(make_form())


def test_payload_is_not_echoed_in_the_error() -> None:
    payload = ecwid_payload(currency="GBP", return_url="https://evil.example/steal")
    exc = assert_rejected(_gcm(payload))
    assert "evil.example" not in str(exc)
    assert json.dumps(payload) not in str(exc)


def test_a_request_that_is_too_large_is_rejected() -> None:
    assert_rejected({"enc_data": "A" * 1_000_001})
