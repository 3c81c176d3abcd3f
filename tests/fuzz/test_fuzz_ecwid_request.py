"""Fuzzing the Ecwid payment request (protocols.md 1.1, 1.2), bounded, in the suite: decryption and parsing never
raise anything but ``InvalidPaymentRequest``; a genuine request round-trips exactly; tampering with ``enc_data``
(AES-GCM) never yields another request; and through the real Flask app every refusal, whatever failed (wrong key,
bad padding, bad base64, truncated tag, bad JSON...), is one and the same answer: no oracle.

The generators and oracles are ``bench.fuzz_targets``'s, shared with the long mode (``python -m bench.fuzz``);
hypothesis drives them here (``HypothesisSource``), so a failure shrinks to a small example.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.fuzz_targets import (
    TOKEN_KINDS,
    TOO_LARGE,
    EcwidApp,
    EcwidFixture,
    Expect,
    FormCase,
    HypothesisSource,
    RandomSource,
    b64url,
    cbc_raw,
    check_decrypt,
    check_parse,
    form_case,
    gcm_raw,
    token_case,
    valid_payload,
)
from gateway import create_app
from gateway.domain.errors import InvalidPaymentRequest
from gateway.ecwid.crypto import decrypt_cbc, decrypt_gcm
from gateway.ecwid.payment_request import parse_payment_request
from tests import gateway_fakes
from tests.gateway_fakes import CLIENT_SECRET, STORE_ID, Gateway, make_settings

FX = EcwidFixture(CLIENT_SECRET, STORE_ID, frozenset({"AMD", "USD"}))  # make_settings: AMD and USD credentials
FAST = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
APP = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    folder: Path = tmp_path_factory.mktemp("fuzz_ecwid")
    # No abuse limit: hundreds of requests from one address are the point here.
    gateway = Gateway.build(make_settings(f"sqlite:///{folder}/gw.sqlite3", payment_rate_limit=""))
    try:
        yield gateway
    finally:
        gateway.close()


@pytest.fixture(scope="module")
def app(gw: Gateway) -> Iterator[EcwidApp]:
    with create_app(context=gw.ctx).test_client() as client:
        yield EcwidApp(client)


@pytest.fixture(scope="module")
def refusal(app: EcwidApp) -> str:
    """The one answer class every refused request must get: here, for a token that is not even base64."""
    answer = app.post(FormCase("reference", (("enc_data", "not-a-token"),), Expect.REFUSED))
    assert answer is not None and answer.startswith("400 text/html")
    return answer


def test_the_fast_encryptor_agrees_with_pycryptodome() -> None:
    """The generators encrypt GCM with ``cryptography`` (fast); the suite's fakes use pycryptodome: same bytes."""
    plaintext, iv = json.dumps(gateway_fakes.ecwid_payload()).encode(), bytes(range(16))
    assert gcm_raw(plaintext, CLIENT_SECRET, iv) == gateway_fakes.gcm_raw(plaintext, CLIENT_SECRET, iv)
    assert cbc_raw(plaintext, CLIENT_SECRET, iv) == gateway_fakes.cbc_raw(plaintext, CLIENT_SECRET, iv)


@FAST
@given(st.data(), st.sampled_from(["gcm", "cbc"]))
def test_decryption_raises_only_the_documented_error_and_opens_only_what_was_encrypted(
    data: st.DataObject, mode: str
) -> None:
    check_decrypt(token_case(HypothesisSource(data), FX, mode), FX.key)


@FAST
@given(st.binary(max_size=600), st.text(max_size=600))
def test_arbitrary_bytes_and_text_never_crash_decryption(raw: bytes, text: str) -> None:
    for token in (b64url(raw), text, b64url(raw, padded=True) + text):
        for decrypt in (decrypt_gcm, decrypt_cbc):
            with contextlib.suppress(InvalidPaymentRequest):
                decrypt(token, FX.key)


@FAST
@given(st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=4))
def test_arbitrary_forms_never_crash_parsing(form: dict[str, str]) -> None:
    with contextlib.suppress(InvalidPaymentRequest):
        parse_payment_request(form, FX.secrets, FX.currencies)


@FAST
@given(st.data())
def test_any_form_is_refused_or_parsed_to_exactly_the_genuine_request(data: st.DataObject) -> None:
    check_parse(form_case(HypothesisSource(data), FX, oversize=True), FX)


@FAST
@given(st.data(), st.sampled_from(["enc_data", "data", "both"]))
def test_valid_requests_round_trip(data: st.DataObject, fields: str) -> None:
    src = HypothesisSource(data)
    genuine = FX.encrypt(src, valid_payload(src, FX))
    pairs = []
    if fields in ("enc_data", "both"):
        pairs.append(("enc_data", b64url(genuine.gcm)))
    if fields in ("data", "both"):
        pairs.append(("data", b64url(genuine.cbc)))
    assert check_parse(FormCase(f"valid:{fields}", tuple(pairs), Expect.ACCEPTED, genuine.payload), FX)


@FAST
@given(st.data(), st.sampled_from(["junk_json", "junk_bytes"]))
def test_junk_under_the_right_key_is_refused_or_sane(data: st.DataObject, kind: str) -> None:
    src = HypothesisSource(data)
    token = token_case(src, FX, "gcm", kind)
    check_parse(FormCase(kind, (("enc_data", token.token),), Expect.ANY), FX)


@APP
@given(st.data())
def test_through_the_app_a_request_is_redirected_or_gets_the_one_refusal(
    app: EcwidApp, refusal: str, data: st.DataObject
) -> None:
    answer = app.post(form_case(HypothesisSource(data), FX))
    assert answer in (None, refusal, TOO_LARGE)


def named_failures() -> dict[str, dict[str, str]]:
    """One form per way decryption can fail, each on its own (no valid fallback field)."""
    genuine = FX.pool[0]
    gcm, cbc = genuine.gcm, genuine.cbc
    other = "another-apps-client-secret-0000000"
    flipped = bytearray(gcm)
    flipped[40] ^= 1
    probes: dict[str, str] = {}
    for value in range(256):  # the padding-oracle probe: one value with good padding (bad JSON), one with bad
        probed = bytearray(cbc)
        probed[-17] = value
        try:
            decrypt_cbc(b64url(bytes(probed)), FX.key)
            probes.setdefault("cbc good padding, garbled JSON", b64url(bytes(probed)))
        except InvalidPaymentRequest:
            probes.setdefault("cbc bad padding", b64url(bytes(probed)))
    assert len(probes) == 2
    deep = "[" * 5_000 + "]" * 5_000
    return {
        "gcm wrong key": {"enc_data": b64url(gcm_raw(genuine.plaintext, other, bytes(16)))},
        "cbc wrong key": {"data": b64url(cbc_raw(genuine.plaintext, other, bytes(16)))},
        **{name: {"data": token} for name, token in probes.items()},
        "bad base64": {"enc_data": "!!!!"},
        "base64 of 5 chars": {"enc_data": "AAAAA"},
        "gcm truncated tag": {"enc_data": b64url(gcm[:-1])},
        "gcm bit flipped": {"enc_data": b64url(bytes(flipped))},
        "gcm 12-byte nonce": {"enc_data": b64url(gcm_raw(genuine.plaintext, CLIENT_SECRET, bytes(12)))},
        "cbc truncated": {"data": b64url(cbc[:-16])},
        "fields swapped": {"enc_data": b64url(cbc), "data": b64url(gcm)},
        "gcm junk JSON": {"enc_data": b64url(gcm_raw(b'{"storeId": "1003"}', CLIENT_SECRET, bytes(16)))},
        "gcm not JSON": {"enc_data": b64url(gcm_raw(b"\xff\xfe junk", CLIENT_SECRET, bytes(16)))},
        "gcm deep JSON": {"enc_data": b64url(gcm_raw(deep.encode(), CLIENT_SECRET, bytes(16)))},
        "gcm another store": {
            "enc_data": b64url(
                gcm_raw(json.dumps({**genuine.payload, "storeId": 1}).encode(), CLIENT_SECRET, bytes(16))
            )
        },
        "empty": {"enc_data": "", "data": ""},
        "no fields": {},
    }


@pytest.mark.parametrize(("name", "form"), named_failures().items(), ids=list(named_failures()))
def test_every_named_decrypt_failure_gets_the_same_answer(
    app: EcwidApp, refusal: str, name: str, form: dict[str, str]
) -> None:
    assert app.post(FormCase(name, tuple(form.items()), Expect.REFUSED)) == refusal


def test_every_token_kind_is_generated() -> None:
    """The long mode reports per target, not per kind: make sure no kind is dead code."""
    src = RandomSource(random.Random(7))
    for kind in TOKEN_KINDS:
        for mode in ("gcm", "cbc"):
            assert token_case(src, FX, mode, kind).kind == kind
