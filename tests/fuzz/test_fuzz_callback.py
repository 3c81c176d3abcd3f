"""Fuzzing the bank's callback (protocols.md 2.8), bounded, in the suite: arbitrary query strings and forms
(repeated names, unicode, huge values, raw bytes that are not UTF-8, a missing checksum, the checksum of other
parameters or under another name, case variants) never get a 5xx; a forged checksum is always refused with 400
and changes nothing; a correctly signed callback for an order the gateway never registered answers 200 and, when
it reports money (status 1), opens one operator exception per bank order and operation.

The generators and oracles are ``bench.fuzz_targets``'s, shared with the long mode (``python -m bench.fuzz``).
Signatures are computed there from the protocol text, never with the gateway's checksum code.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.fuzz_targets import (
    CALLBACK_STYLES,
    CallbackApp,
    CallbackCase,
    HypothesisSource,
    RandomSource,
    bank_checksum,
    callback_case,
    check_callback_parsing,
)
from gateway import create_app
from tests.gateway_fakes import CALLBACK_KEY, Gateway, make_settings

FAST = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
APP = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
UUID = "0b6f3c1e-1111-4000-8000-00000000abcd"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    folder: Path = tmp_path_factory.mktemp("fuzz_callback")
    gateway = Gateway.build(make_settings(f"sqlite:///{folder}/gw.sqlite3"))
    try:
        yield gateway
    finally:
        gateway.close()


@pytest.fixture(scope="module")
def app(gw: Gateway) -> Iterator[CallbackApp]:
    """One per database: it remembers which unknown-order exceptions are already open."""
    with create_app(context=gw.ctx).test_client() as client:
        yield CallbackApp(client, gw.row_counts)


@FAST
@given(st.data())
def test_the_checksum_verdict_is_the_banks_signature_for_any_parameters(data: st.DataObject) -> None:
    check_callback_parsing(callback_case(HypothesisSource(data), CALLBACK_KEY), CALLBACK_KEY)


@APP
@given(st.data())
def test_any_callback_gets_no_5xx_forged_ones_400_and_no_change_signed_ones_200(
    app: CallbackApp, data: st.DataObject
) -> None:
    app.send(callback_case(HypothesisSource(data), CALLBACK_KEY))


@APP
@given(st.binary(max_size=300), st.binary(max_size=300), st.sampled_from(["GET", "POST"]))
def test_arbitrary_bytes_as_query_and_body_are_refused_with_400(
    app: CallbackApp, query: bytes, body: bytes, method: str
) -> None:
    app.send(CallbackCase("bytes", method, query, body, signed=False))


def signed(params: dict[str, str]) -> bytes:
    return urlencode({**params, "checksum": bank_checksum(params, CALLBACK_KEY)}).encode()


def test_a_signed_payment_on_an_unknown_order_is_answered_200_and_raised_to_the_operators_once(
    gw: Gateway, app: CallbackApp
) -> None:
    params = {"mdOrder": UUID, "orderNumber": "VUNKNOWN0001", "operation": "deposited", "status": "1"}
    before = gw.row_counts()["operator_exceptions"]
    for _ in range(3):  # the bank retries, or replays
        assert app.send(CallbackCase("signed", "GET", signed(params), b"", True, tuple(params.items()))) is None
    assert gw.row_counts()["operator_exceptions"] == before + 1
    failure = {**params, "status": "0"}  # no money moved: nothing for the operators
    assert app.send(CallbackCase("signed", "POST", b"", signed(failure), True, tuple(failure.items()))) is None
    assert gw.row_counts()["operator_exceptions"] == before + 1


def checksum_variants() -> dict[str, tuple[dict[str, str], bool]]:
    """Name -> (what is sent, whether it is genuinely signed)."""
    params = {"mdOrder": UUID, "status": "1"}
    genuine = bank_checksum(params, CALLBACK_KEY)
    return {
        "lower-case genuine checksum": ({**params, "checksum": genuine.lower()}, True),  # compared case-insensitively
        "no checksum": (params, False),
        "checksum under another name": ({**params, "Checksum": genuine}, False),
        "checksum of other parameters": ({**params, "status": "0", "checksum": genuine}, False),
        "parameter name in another case": ({"MDORDER": UUID, "status": "1", "checksum": genuine}, False),
        "checksum with the wrong key": ({**params, "checksum": bank_checksum(params, "not-the-key")}, False),
    }


@pytest.mark.parametrize("name", list(checksum_variants()))
def test_checksum_variants(app: CallbackApp, name: str) -> None:
    sent, genuine = checksum_variants()[name]
    view = tuple(sent.items()) if genuine else ()
    answer = app.send(CallbackCase(name, "GET", urlencode(sent).encode(), b"", genuine, view))
    assert (answer is None) == genuine


def test_every_style_is_generated() -> None:
    """Each style of ``callback_case`` is reachable (the long mode does not report per style)."""
    src, seen = RandomSource(random.Random(3)), set()
    for _ in range(3_000):
        seen.add(callback_case(src, CALLBACK_KEY).kind)
    assert seen == set(CALLBACK_STYLES)
