"""The web layer's parameter hygiene (gateway.web.params): which parameter names and values every public endpoint
refuses outright, and which bank ids are well-formed enough to be looked up at all."""

from __future__ import annotations

import pytest

from gateway.provider.identifiers import callback_ids_well_formed, is_order_number, is_provider_order_id
from gateway.web.params import (
    MAX_NAME_LENGTH,
    MAX_VALUE_LENGTH,
    parameter_problem,
)

UUID = "9d1c3f1e-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("orderId", UUID),
        ("lang", "hy"),
        ("errorMsg", "Платёж отклонён: недостаточно средств & more?"),
        ("note", "ü" * MAX_VALUE_LENGTH),
        ("checksum", ""),
        ("a" * MAX_NAME_LENGTH, "x"),
        ("x", "%FF%ED%A0%80"),  # undecodable bytes reach us as their literal escapes (werkzeug's decoding)
        ("x", "\ufffd"),  # or as the replacement character
    ],
    ids=["uuid", "lang", "unicode-text", "longest-value", "empty", "longest-name", "literal-escapes", "fffd"],
)
def test_ordinary_parameters_pass(name: str, value: str) -> None:
    assert parameter_problem(name, value) is None


BAD = {
    "nul": "\x00",
    "tab": "\t",
    "lf": "\n",
    "cr-lf": "\r\n",
    "del": "\x7f",
    "c1-nel": "\x85",
    "lone-surrogate": "\ud800",
}


@pytest.mark.parametrize("bad", list(BAD.values()), ids=list(BAD))
@pytest.mark.parametrize("where", ["name", "value"])
def test_a_control_character_or_lone_surrogate_in_a_name_or_value_is_refused(where: str, bad: str) -> None:
    name, value = ("order" + bad + "Id", UUID) if where == "name" else ("orderId", UUID + bad)
    problem = parameter_problem(name, value)
    assert problem is not None
    assert bad not in problem and UUID not in problem  # the reason is for logs: it never carries the input


def test_too_long_names_and_values_are_refused() -> None:
    assert parameter_problem("a" * (MAX_NAME_LENGTH + 1), "x") is not None
    assert parameter_problem("x", "a" * (MAX_VALUE_LENGTH + 1)) is not None
    assert parameter_problem("", "x") is not None


def test_a_bulk_field_may_be_longer_but_never_holds_control_characters() -> None:
    assert parameter_problem("enc_data", "A" * 500_000, max_value_length=None) is None
    assert parameter_problem("enc_data", "A" * 500_000 + "\x00", max_value_length=None) is not None


@pytest.mark.parametrize("value", [UUID, "a" * 64, "!~", "8e7b0c1f"], ids=["uuid", "64-chars", "punctuation", "hex"])
def test_well_formed_provider_order_ids(value: str) -> None:
    assert is_provider_order_id(value)


@pytest.mark.parametrize(
    "value",
    [None, "", "a" * 65, "with space", "ü", UUID + "\x00", "\ufffd", "\t" + UUID],
    ids=["none", "empty", "65-chars", "space", "non-ascii", "nul", "fffd", "tab"],
)
def test_malformed_provider_order_ids(value: str | None) -> None:
    assert not is_provider_order_id(value)


def test_order_numbers_are_up_to_32_visible_ascii_characters() -> None:
    assert is_order_number("V0123456789A")
    assert is_order_number("x" * 32)
    for bad in (None, "", "x" * 33, "V 1", "Vü", "V\x00"):
        assert not is_order_number(bad)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"mdOrder": UUID, "orderNumber": "V123", "operation": "deposited"}, True),
        ({"orderNumber": "V123"}, True),
        ({"mdOrder": UUID}, True),
        ({"mdOrder": "", "orderNumber": ""}, True),  # absent ids are the service's "unknown order", not junk
        ({}, True),
        ({"mdOrder": "a" * 65, "orderNumber": "V123"}, False),
        ({"mdOrder": UUID, "orderNumber": "x" * 33}, False),
        ({"mdOrder": "ü", "orderNumber": "V123"}, False),
        ({"mdOrder": UUID, "orderNumber": "V 123"}, False),
    ],
    ids=["both", "number-only", "md-order-only", "empty", "none", "long-md", "long-number", "unicode", "space"],
)
def test_callback_ids_well_formed(params: dict[str, str], expected: bool) -> None:
    assert callback_ids_well_formed(params) is expected
