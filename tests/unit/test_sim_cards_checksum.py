"""The test card table and the callback checksum, as pure functions."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from simulator.vpos.cards import TEST_CARDS, decide, luhn_valid, payment_system
from simulator.vpos.checksum import checksum_string, sign, verify

NOW = datetime(2025, 6, 15, tzinfo=UTC)
WORKED_PARAMS = {
    "mdOrder": "3ff6962a-7dcc-4283-ab50-a6d7dd3386fe",
    "orderNumber": "10747",
    "operation": "deposited",
    "status": "1",
    "amount": "123456",
}
WORKED_STRING = (
    "amount;123456;mdOrder;3ff6962a-7dcc-4283-ab50-a6d7dd3386fe;operation;deposited;orderNumber;10747;status;1;"
)


def test_checksum_string_matches_the_worked_example_of_protocols_md() -> None:
    assert checksum_string(WORKED_PARAMS) == WORKED_STRING


def test_checksum_ignores_checksum_and_sign_alias() -> None:
    params = {**WORKED_PARAMS, "checksum": "ABC", "sign_alias": "alias"}
    assert checksum_string(params) == WORKED_STRING


def test_checksum_is_upper_case_hmac_sha256_of_the_worked_string() -> None:
    expected = hmac.new(b"shared-key", WORKED_STRING.encode(), hashlib.sha256).hexdigest().upper()
    assert sign(WORKED_PARAMS, "shared-key") == expected
    assert expected == expected.upper() and len(expected) == 64


def test_verify_is_case_insensitive_and_rejects_tampering() -> None:
    signed = {**WORKED_PARAMS, "checksum": sign(WORKED_PARAMS, "k").lower()}
    assert verify(signed, "k")
    assert not verify({**signed, "amount": "1"}, "k")
    assert not verify(signed, "other-key")
    assert not verify(WORKED_PARAMS, "k")


def test_every_table_card_passes_luhn() -> None:
    assert all(luhn_valid(card.pan) for card in TEST_CARDS)
    assert len({card.pan for card in TEST_CARDS}) == len(TEST_CARDS)


@pytest.mark.parametrize(
    ("pan", "month", "year", "expected"),
    [
        ("4242424242424242", 12, 2030, (2, 0)),
        ("4000000000009995", 12, 2030, (6, 116)),
        ("4000000000000069", 12, 2030, (6, 101)),
        ("4000000000000002", 12, 2030, (6, 100)),
        ("4242424242424241", 12, 2030, (6, 111)),
        ("42424242", 12, 2030, (6, 111)),
        ("4012888888881881", 12, 2030, (6, 100)),
        ("4242424242424242", 5, 2025, (6, 101)),
        ("4242424242424242", 6, 2025, (2, 0)),
    ],
)
def test_decide(pan: str, month: int, year: int, expected: tuple[int, int]) -> None:
    decision = decide(pan, month, year, NOW)
    assert (decision.order_status, decision.action_code) == expected


def test_three_ds_flag_marks_the_cards_authenticated_with_3ds2() -> None:
    flagged = {card.flow.value for card in TEST_CARDS if card.three_ds}
    assert flagged == {"frictionless", "challenge", "attempted"}


@pytest.mark.parametrize(
    ("pan", "system"),
    [("4242424242424242", "VISA"), ("5555555555554444", "MASTERCARD"), ("9051000000000009", "ARCA")],
)
def test_payment_system(pan: str, system: str) -> None:
    assert payment_system(pan) == system
