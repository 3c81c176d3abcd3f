"""Ecwid payment request decryption and validation (protocols.md 1.1, 1.2), against an independent Ecwid-side
encryptor built on pycryptodome: any failure is one uniform ``InvalidPaymentRequest``."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from Crypto.Cipher import AES
from Crypto.Util.Padding import unpad
from pydantic import SecretStr

from gateway.domain.errors import ConfigurationError, InvalidPaymentRequest
from gateway.ecwid import payment_request
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


# --- several stores on one gateway ---------------------------------------------------------------------------------

SHARED_SECRET = "one-app-for-many-stores-secret-xyz"
SECOND_STORE = 2004


@pytest.mark.parametrize("field", ["enc_data", "data"])
@pytest.mark.parametrize("store_id", [STORE_ID, SECOND_STORE])
def test_every_store_sharing_one_client_secret_is_accepted(field: str, store_id: int) -> None:
    secrets = {STORE_ID: SecretStr(SHARED_SECRET), SECOND_STORE: SecretStr(SHARED_SECRET)}
    payload = ecwid_payload(store_id=store_id)
    token = encrypt_gcm(payload, SHARED_SECRET) if field == "enc_data" else encrypt_cbc(payload, SHARED_SECRET)
    assert parse({field: token}, secrets).store_id == store_id


def test_secrets_that_differ_after_the_sixteenth_character_are_one_key_for_both_stores() -> None:
    # Only the first 16 characters are the key: both stores are opened by it, storeId tells them apart.
    secrets = {STORE_ID: SecretStr(CLIENT_SECRET), SECOND_STORE: SecretStr(CLIENT_SECRET[:16] + "-something-else")}
    for store_id in (STORE_ID, SECOND_STORE):
        assert parse(ecwid_form(ecwid_payload(store_id=store_id)), secrets).store_id == store_id


def test_a_store_id_outside_the_group_of_the_key_that_opened_it_is_refused() -> None:
    secrets = {STORE_ID: SecretStr(CLIENT_SECRET), SECOND_STORE: SecretStr(OTHER_SECRET)}
    with pytest.raises(InvalidPaymentRequest):
        parse(ecwid_form(ecwid_payload(store_id=SECOND_STORE), CLIENT_SECRET), secrets)


def cbc_colliding_with(other_secret: str, payload: dict[str, Any], client_secret: str = CLIENT_SECRET) -> str:
    """A genuine CBC ``data`` for ``client_secret`` whose random IV happens to make it decrypt, under the key of
    ``other_secret``, with valid PKCS#7 padding and a leading '{' (about 1 IV in 65,000 does).

    The IV search is batched: the first block under both keys depends only on the IV, so thousands of IVs are
    screened for the '{' with two ECB calls; only the survivors are encrypted in full for the padding check.
    """
    rng = random.Random(20250516)
    key, other = client_secret[:16].encode(), other_secret[:16].encode()
    plaintext = to_plaintext(payload)
    first = plaintext[:16]
    batch = 4096
    for _ in range(256):
        ivs = rng.randbytes(16 * batch)
        xored = bytes(a ^ b for a, b in zip(ivs, first * batch, strict=True))
        c1 = AES.new(key, AES.MODE_ECB).encrypt(xored)
        under_other = AES.new(other, AES.MODE_ECB).decrypt(c1)
        for i in range(batch):
            iv = ivs[16 * i : 16 * i + 16]
            if under_other[16 * i] ^ iv[0] != ord("{"):
                continue
            raw = cbc_raw(plaintext, client_secret, iv=iv)
            try:
                unpad(AES.new(other, AES.MODE_CBC, iv=iv).decrypt(raw[16:]), 16)
            except ValueError:
                continue
            return b64url(raw)
    raise AssertionError("no colliding IV found")


@pytest.mark.parametrize("order", ["other-store-first", "other-store-last"])
def test_a_cbc_request_that_decrypts_plausibly_under_another_stores_key_goes_to_the_right_store(order: str) -> None:
    data = cbc_colliding_with(OTHER_SECRET, ecwid_payload())
    other_key = key_from_secret(OTHER_SECRET)
    assert decrypt_cbc(data, other_key)[:1] == b"{"  # the trap: padding and '{' are fine under the wrong key
    pairs = [(SECOND_STORE, SecretStr(OTHER_SECRET)), (STORE_ID, SecretStr(CLIENT_SECRET))]
    secrets = dict(pairs if order == "other-store-first" else reversed(pairs))

    request = parse({"data": data}, secrets)

    assert request.store_id == STORE_ID
    assert request.reference_transaction_id == REFERENCE


def test_a_cbc_request_for_the_other_store_is_not_captured_by_a_plausible_decryption() -> None:
    data = cbc_colliding_with(CLIENT_SECRET, ecwid_payload(store_id=SECOND_STORE), OTHER_SECRET)
    secrets = {STORE_ID: SecretStr(CLIENT_SECRET), SECOND_STORE: SecretStr(OTHER_SECRET)}
    assert parse({"data": data}, secrets).store_id == SECOND_STORE


def test_authentic_enc_data_decides_the_key_even_when_data_would_open_under_another() -> None:
    # enc_data authenticates under the store's own key: data is never consulted, so a plausible (or even valid)
    # CBC decryption elsewhere cannot pull the request to another store.
    secrets = {SECOND_STORE: SecretStr(OTHER_SECRET), STORE_ID: SecretStr(CLIENT_SECRET)}
    form = {
        "enc_data": encrypt_gcm(ecwid_payload(reference="from_enc_data")),
        "data": encrypt_cbc(ecwid_payload(store_id=SECOND_STORE, reference="from_data"), OTHER_SECRET),
    }
    request = parse(form, secrets)
    assert (request.store_id, request.reference_transaction_id) == (STORE_ID, "from_enc_data")


def test_authentic_enc_data_that_fails_validation_is_refused_without_falling_back_to_data() -> None:
    form = {
        "enc_data": encrypt_gcm(ecwid_payload(currency="GBP")),
        "data": encrypt_cbc(ecwid_payload(reference="from_data")),
    }
    with pytest.raises(InvalidPaymentRequest):
        parse(form)


def test_a_cbc_request_that_validates_under_two_keys_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Not reachable with AES in practice; a fake cipher under which every key opens the data proves the rule:
    # two full candidates are ambiguous, and ambiguity is refused rather than resolved by key order.
    secrets = {STORE_ID: SecretStr(CLIENT_SECRET), SECOND_STORE: SecretStr(OTHER_SECRET)}
    by_key = {
        key_from_secret(CLIENT_SECRET): to_plaintext(ecwid_payload(store_id=STORE_ID)),
        key_from_secret(OTHER_SECRET): to_plaintext(ecwid_payload(store_id=SECOND_STORE)),
    }

    def opens_under_every_key(token: str, key: bytes) -> bytes:
        return by_key[key]

    monkeypatch.setattr(payment_request, "decrypt_cbc", opens_under_every_key)
    with pytest.raises(InvalidPaymentRequest):
        parse({"data": "ignored-by-the-fake"}, secrets)
    # the same fake with one store configured gives exactly one candidate: accepted
    assert parse({"data": "ignored-by-the-fake"}, {STORE_ID: SecretStr(CLIENT_SECRET)}).store_id == STORE_ID


def test_a_secret_that_is_not_a_key_is_a_configuration_error_never_a_request_error() -> None:
    for bad in ("short-secret", "ключ-ключ-ключ-ключ"):
        with pytest.raises(ConfigurationError) as info:
            key_from_secret(bad)
        assert bad not in str(info.value)


# --- hostile but correctly encrypted fields: refused by the schema, never a 500 later ---------------------------

INT64_MAX = 2**63 - 1


def with_order(**fields: Any) -> dict[str, Any]:
    """The example payload with ``cart.order`` fields replaced."""
    payload = ecwid_payload()
    payload["cart"]["order"].update(fields)
    return payload


# C0 controls (NUL, tab, LF, CR, ESC, US), DEL, C1 controls (0x80, NEL, 0x9f), lone surrogates (high and low)
BAD_CHARACTERS = {
    "nul": "\x00",
    "tab": "\t",
    "lf": "\n",
    "cr": "\r",
    "esc": "\x1b",
    "unit-separator": "\x1f",
    "del": "\x7f",
    "c1-0x80": "\x80",
    "c1-nel": "\x85",
    "c1-0x9f": "\x9f",
    "lone-high-surrogate": "\ud800",
    "lone-low-surrogate": "\udfff",
}
STRING_FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "lang": lambda bad: ecwid_payload(lang="e" + bad),
    "return-url": lambda bad: ecwid_payload(return_url=RETURN_URL + bad),
    "order-id": lambda bad: ecwid_payload(order_id="XJ" + bad + "12H"),
    "reference": lambda bad: ecwid_payload(reference=REFERENCE + bad),
    "token": lambda bad: ecwid_payload(token=ECWID_TOKEN + bad),
    "currency": lambda bad: ecwid_payload(currency="AM" + bad),
    "email": lambda bad: with_order(email="buyer" + bad + "@example.com"),
}


@pytest.mark.parametrize("bad", list(BAD_CHARACTERS.values()), ids=list(BAD_CHARACTERS))
@pytest.mark.parametrize("make_payload", list(STRING_FIELDS.values()), ids=list(STRING_FIELDS))
@pytest.mark.parametrize("mode", ["gcm", "cbc"])
def test_a_control_character_or_lone_surrogate_in_any_stored_string_is_refused(
    mode: str, make_payload: Callable[[str], dict[str, Any]], bad: str
) -> None:
    payload = make_payload(bad)  # json.dumps writes them as escapes (\\u0000, \\ud800): valid JSON, valid UTF-8
    assert_rejected(_gcm(payload) if mode == "gcm" else _cbc(payload))


@pytest.mark.parametrize(
    "return_url",
    [
        RETURN_URL.replace("checkout", "check out"),
        RETURN_URL + " ",
        " " + RETURN_URL,
        RETURN_URL.replace("checkout", "check\u00a0out"),  # no-break space
        RETURN_URL.replace("checkout", "check\u2028out"),  # line separator
        RETURN_URL.replace("checkout", "check\u3000out"),  # ideographic space
        "https://mystore.example\\@evil.example/checkout",  # browsers read '\\' as '/': the host would differ
        "https:mystore.example/checkout",
        "https:///checkout",
        "https://:443/checkout",
        "https://user@:443/checkout",
        "https://[::1/checkout",
        "https://mystore.example:99999/checkout",
        "mailto:buyer@example.com",
        "data:text/html,hi",
        "HTTPS//mystore.example/checkout",
    ],
    ids=[
        "inner-space",
        "trailing-space",
        "leading-space",
        "no-break-space",
        "line-separator",
        "ideographic-space",
        "backslash",
        "no-slashes",
        "empty-host",
        "port-only",
        "userinfo-no-host",
        "broken-ipv6",
        "port-out-of-range",
        "mailto",
        "data",
        "no-colon",
    ],
)
def test_a_return_url_with_whitespace_or_without_an_http_host_is_refused(return_url: str) -> None:
    assert_rejected(_gcm(ecwid_payload(return_url=return_url)))


@pytest.mark.parametrize(
    "return_url",
    [
        RETURN_URL,
        "http://127.0.0.1:8200/store/return?key=a%20b",
        "HTTPS://MyStore.Example/checkout",
        "https://магазин.example/checkout?q=ü",  # Unicode is printable: redirects percent-encode it
        "https://[::1]:8443/checkout",
    ],
    ids=["example", "local-port", "upper-case", "unicode", "ipv6"],
)
def test_an_absolute_http_return_url_is_accepted_exactly_as_received(return_url: str) -> None:
    assert parse({"enc_data": encrypt_gcm(ecwid_payload(return_url=return_url))}).return_url == return_url


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(ecwid_payload(total=1e300), id="total-1e300"),
        pytest.param(ecwid_payload(total=10**30), id="total-huge-integer"),
        pytest.param(ecwid_payload(currency="USD", total=92233720368547758.08), id="total-just-over-int64"),
        pytest.param(with_order(internalId=2**63), id="internal-id-2**63"),
        pytest.param(with_order(internalId=-1), id="internal-id-negative"),
        pytest.param(with_order(internalId=10**40), id="internal-id-huge"),
        pytest.param(ecwid_payload(store_id=2**63), id="store-id-2**63"),
        pytest.param(ecwid_payload(store_id=-(2**63) - 1), id="store-id-below-int64"),
    ],
)
def test_numbers_outside_signed_64_bit_are_refused(payload: dict[str, Any]) -> None:
    assert_rejected(_gcm(payload))


@pytest.mark.parametrize("internal_id", [0, 2**31, 2**62, INT64_MAX], ids=["0", "2**31", "2**62", "int64-max"])
def test_internal_ids_up_to_signed_64_bit_are_accepted(internal_id: int) -> None:
    assert parse(_gcm(with_order(internalId=internal_id))).ecwid_internal_id == internal_id


def test_an_amount_over_32_bit_minor_units_is_accepted() -> None:
    request = parse(_gcm(ecwid_payload(total=21474836.48)))
    assert (request.amount.minor, request.amount.currency) == (2**31, "AMD")


def test_a_store_id_at_the_top_of_signed_64_bit_is_accepted_when_configured() -> None:
    secrets = {INT64_MAX: SecretStr(CLIENT_SECRET)}
    assert parse(_gcm(ecwid_payload(store_id=INT64_MAX)), secrets).store_id == INT64_MAX


def test_printable_unicode_in_stored_strings_is_accepted() -> None:
    payload = ecwid_payload(lang="hy", order_id="ՊԱՏ-12", reference="транзакция_1")
    request = parse(_gcm(payload))
    assert (request.ecwid_order_id, request.reference_transaction_id) == ("ՊԱՏ-12", "транзакция_1")


# --- optional per-store allow-list of returnUrl hosts ----------------------------------------------------------------

HOSTS = {STORE_ID: ["mystore.example", "*.company.site"]}


def parse_with_hosts(return_url: str, hosts: dict[int, list[str]] | None = None, *, mode: str = "gcm") -> str:
    payload = ecwid_payload(return_url=return_url)
    form = _gcm(payload) if mode == "gcm" else _cbc(payload)
    request = parse_payment_request(form, SECRETS, SUPPORTED, return_hosts=HOSTS if hosts is None else hosts)
    return request.return_url


@pytest.mark.parametrize(
    "return_url",
    [
        "https://evil.example/phish",
        "http://127.0.0.1:9/x",
        "https://mystore.example.evil.example/checkout",
    ],
    ids=["foreign-host", "ip", "lookalike"],
)
def test_without_a_list_any_host_is_followed_as_received(return_url: str) -> None:
    assert parse_with_hosts(return_url, {}) == return_url
    assert parse(_gcm(ecwid_payload(return_url=return_url))).return_url == return_url  # no list given at all


@pytest.mark.parametrize("mode", ["gcm", "cbc"])
@pytest.mark.parametrize(
    "return_url",
    [
        RETURN_URL,
        "https://MyStore.Example/checkout",
        "https://mystore.example:8443/checkout",
        "https://mystore.example./checkout",
        "http://user@mystore.example/checkout",
        "https://shop.company.site/checkout",
        "https://a.b.company.site/checkout",
        "https://SHOP.Company.Site/checkout",
    ],
    ids=["exact", "case", "port", "trailing-dot", "userinfo", "wildcard", "wildcard-deep", "wildcard-case"],
)
def test_a_listed_host_is_accepted(return_url: str, mode: str) -> None:
    assert parse_with_hosts(return_url, mode=mode) == return_url


@pytest.mark.parametrize("mode", ["gcm", "cbc"])
@pytest.mark.parametrize(
    "return_url",
    [
        "https://evil.example/checkout",
        "https://company.site/checkout",  # "*.suffix" matches subdomains only
        "https://evilcompany.site/checkout",
        "https://shop.company.site.evil.example/checkout",
        "https://mystore.example.evil.example/checkout",
        "https://sub.mystore.example/checkout",  # an exact entry does not cover subdomains
        "https://mystore.example@evil.example/checkout",
        "https://.company.site/checkout",
        "https://a..company.site/checkout",
        "https://mystore%2Eexample/checkout",
    ],
    ids=[
        "foreign",
        "wildcard-apex",
        "suffix-without-dot",
        "wildcard-lookalike",
        "exact-lookalike",
        "exact-subdomain",
        "userinfo-trick",
        "empty-label",
        "double-dot",
        "percent-encoded-dot",
    ],
)
def test_a_host_not_on_the_stores_list_is_refused(return_url: str, mode: str) -> None:
    with pytest.raises(InvalidPaymentRequest) as info:
        parse_with_hosts(return_url, mode=mode)
    assert "evil" not in str(info.value)


def test_the_list_of_another_store_does_not_apply() -> None:
    assert parse_with_hosts("https://evil.example/x", {2004: ["mystore.example"]}) == "https://evil.example/x"
