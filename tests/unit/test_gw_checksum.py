"""RBS callback checksum (protocols.md 2.8): the worked string, an independently computed HMAC, and rejection of
anything that does not match exactly."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import pytest

from gateway.provider.checksum import checksum_string, compute_checksum, verify_checksum

KEY = "callback-shared-key-01"
PARAMS = {
    "mdOrder": "3ff6962a-7dcc-4283-ab50-a6d7dd3386fe",
    "orderNumber": "10747",
    "operation": "deposited",
    "status": "1",
    "amount": "123456",
}
WORKED_STRING = (
    "amount;123456;mdOrder;3ff6962a-7dcc-4283-ab50-a6d7dd3386fe;operation;deposited;orderNumber;10747;status;1;"
)


def independent_checksum(params: dict[str, str], key: str) -> str:
    """Written from the protocol text, not from the gateway's code."""
    message = "".join(f"{name};{params[name]};" for name in sorted(params) if name not in ("checksum", "sign_alias"))
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest().upper()


def signed(params: dict[str, str], key: str = KEY) -> dict[str, str]:
    return {**params, "checksum": independent_checksum(params, key)}


def test_checksum_string_matches_the_worked_example() -> None:
    assert checksum_string(PARAMS) == WORKED_STRING


def test_checksum_string_ignores_checksum_and_sign_alias() -> None:
    assert checksum_string({**PARAMS, "checksum": "ABC", "sign_alias": "SHA-256"}) == WORKED_STRING


def test_computed_checksum_equals_an_independent_hmac_in_upper_case_hex() -> None:
    expected = hmac.new(KEY.encode(), WORKED_STRING.encode(), hashlib.sha256).hexdigest().upper()
    assert compute_checksum(PARAMS, KEY) == expected
    assert len(expected) == 64


@pytest.mark.parametrize("case", [str.upper, str.lower], ids=["upper", "lower"])
def test_valid_checksum_is_accepted_in_either_case(case: Callable[[str], str]) -> None:
    params = signed(PARAMS)
    params["checksum"] = case(params["checksum"])
    assert verify_checksum(params, KEY)


def test_sign_alias_does_not_take_part_in_the_checksum() -> None:
    assert verify_checksum({**signed(PARAMS), "sign_alias": "SHA-256"}, KEY)


def test_missing_checksum_is_rejected() -> None:
    assert not verify_checksum(PARAMS, KEY)


def test_empty_checksum_is_rejected() -> None:
    assert not verify_checksum({**PARAMS, "checksum": ""}, KEY)


@pytest.mark.parametrize(
    ("name", "value"),
    [("amount", "123457"), ("status", "0"), ("operation", "approved"), ("mdOrder", "another"), ("orderNumber", "1")],
)
def test_one_changed_parameter_is_rejected(name: str, value: str) -> None:
    params = signed(PARAMS)
    params[name] = value
    assert not verify_checksum(params, KEY)


def test_an_added_parameter_is_rejected() -> None:
    assert not verify_checksum({**signed(PARAMS), "callbackCreationDate": "Mon Jun 30 12:00:00 AMT 2025"}, KEY)


def test_wrong_key_is_rejected() -> None:
    assert not verify_checksum(signed(PARAMS, "another-key"), KEY)


def test_non_ascii_checksum_is_rejected_without_error() -> None:
    assert not verify_checksum({**PARAMS, "checksum": "Ճ" * 64}, KEY)
