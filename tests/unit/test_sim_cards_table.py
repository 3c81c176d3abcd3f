"""The test card table: complete, one source (README generated from it), and what each 3-D Secure flow decides."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulator.vpos.cards import (
    TEST_CARDS,
    Flow,
    SimCard,
    action_description,
    card_for,
    decide,
    eci_for,
    luhn_valid,
    markdown_table,
    payment_system,
)
from simulator.vpos.states import OrderStatus

NOW = datetime(2025, 6, 15, tzinfo=UTC)
README = Path(__file__).resolve().parents[2] / "simulator" / "README.md"


def by(flow: Flow, status: OrderStatus) -> list[SimCard]:
    return [card for card in TEST_CARDS if card.flow is flow and card.order_status is status]


def test_every_card_is_luhn_valid_unique_and_of_its_scheme() -> None:
    assert all(luhn_valid(card.pan) for card in TEST_CARDS)
    assert len({card.pan for card in TEST_CARDS}) == len(TEST_CARDS)
    assert all(card.scheme == payment_system(card.pan) for card in TEST_CARDS)


def test_success_without_3ds_for_every_scheme() -> None:
    schemes = {card.scheme for card in by(Flow.NONE, OrderStatus.DEPOSITED)}
    assert schemes == {"VISA", "MASTERCARD", "ARCA", "MIR"}


@pytest.mark.parametrize("action_code", [100, 101, 111, 116, 120, 121, 208, 907, 999, 151019])
def test_a_decline_card_for_every_documented_action_code(action_code: int) -> None:
    assert [c for c in by(Flow.NONE, OrderStatus.DECLINED) if c.action_code == action_code]


def test_existing_card_numbers_keep_their_behaviour() -> None:
    kept = {
        "4242424242424242": (2, 0),
        "5555555555554444": (2, 0),
        "9051000000000009": (2, 0),
        "4000000000009995": (6, 116),
        "4000000000000069": (6, 101),
        "4000000000000002": (6, 100),
        "4000000000000036": (6, 120),
        "4000000000000119": (6, 907),
    }
    for pan, outcome in kept.items():
        card = card_for(pan)
        assert card is not None and (card.order_status, card.action_code, card.flow) == (*outcome, Flow.NONE), pan


@pytest.mark.parametrize(
    ("pan", "flow", "status", "action_code"),
    [
        ("4000001111111118", Flow.NONE, 2, 0),
        ("5555555555555599", Flow.CHALLENGE, 2, 0),
        ("4111111111111111", Flow.FRICTIONLESS, 2, 0),
        ("5168494895055780", Flow.FRICTIONLESS, 6, -2006),
    ],
)
def test_bpc_public_sandbox_cards(pan: str, flow: Flow, status: int, action_code: int) -> None:
    card = card_for(pan)
    assert card is not None and (card.flow, card.order_status, card.action_code) == (flow, status, action_code)
    assert card.source == "BPC sandbox"


def test_3ds_rows_cover_every_flow() -> None:
    assert by(Flow.CHALLENGE, OrderStatus.DEPOSITED)
    assert {c.action_code for c in by(Flow.CHALLENGE, OrderStatus.DECLINED)} == {-2006, 999}
    assert by(Flow.FRICTIONLESS, OrderStatus.DEPOSITED) and by(Flow.FRICTIONLESS, OrderStatus.DECLINED)
    assert by(Flow.ATTEMPTED, OrderStatus.DEPOSITED)
    assert by(Flow.NOT_ENROLLED, OrderStatus.DEPOSITED)
    assert [c.action_code for c in by(Flow.UNAVAILABLE, OrderStatus.DECLINED)] == [-2011]
    assert by(Flow.PENDING, OrderStatus.DEPOSITED) and by(Flow.PENDING, OrderStatus.DECLINED)


def test_eci_per_scheme_and_level() -> None:
    assert [eci_for("VISA", level) for level in ("authenticated", "attempted", "none")] == [5, 6, 7]
    assert [eci_for("MASTERCARD", level) for level in ("authenticated", "attempted", "none")] == [2, 1, 0]
    assert eci_for("ARCA", "authenticated") == eci_for("MIR", "authenticated") == 5


@pytest.mark.parametrize(
    ("pan", "first", "final", "action_code", "eci", "protocol"),
    [
        ("4242424242424242", 2, 2, 0, 7, None),
        ("5555555555554444", 2, 2, 0, 0, None),
        ("4000000000009995", 6, 6, 116, 7, None),
        ("4000000000003253", 2, 2, 0, 5, "2.2.0"),
        ("5200000000003225", 2, 2, 0, 2, "2.2.0"),
        ("4000000000003261", 6, 6, -2006, None, "2.2.0"),
        ("4000000000003220", 5, 2, 0, 5, "2.2.0"),
        ("5555555555555599", 5, 2, 0, 2, "2.2.0"),
        ("4000000000003238", 5, 6, -2006, None, "2.2.0"),
        ("4000000000003246", 5, 6, 999, None, "2.2.0"),
        ("4000000000003279", 2, 2, 0, 6, "2.2.0"),
        ("4000000000003287", 2, 2, 0, 7, None),
        ("4000000000003295", 6, 6, -2011, None, None),
        ("4000000000007015", 7, 2, 0, 7, None),
        ("4000000000007023", 7, 6, 100, 7, None),
        ("4000000000151011", 6, 6, 151019, 7, None),
    ],
)
def test_decide_per_flow(
    pan: str, first: int, final: int, action_code: int, eci: int | None, protocol: str | None
) -> None:
    decision = decide(pan, 12, 2030, NOW)
    assert (decision.first_status, decision.order_status, decision.action_code) == (first, final, action_code)
    assert (decision.eci, decision.three_ds_protocol_version) == (eci, protocol)


def test_an_expired_3ds_card_declines_at_once_without_3ds() -> None:
    decision = decide("4000000000003220", 1, 2020, NOW)
    assert (decision.first_status, decision.order_status, decision.action_code) == (6, 6, 101)
    assert decision.three_ds_protocol_version is None


def test_unknown_and_invalid_numbers_decline_without_3ds() -> None:
    assert (decide("4012888888881881", 12, 2030, NOW).first_status, decide("42", 12, 2030, NOW).action_code) == (
        6,
        111,
    )


def test_card_json_for_dashboards() -> None:
    card = card_for("4000000000003220")
    assert card is not None
    assert card.to_json() == {
        "pan": "4000000000003220",
        "scheme": "VISA",
        "label": "3DS challenge: success",
        "flow": "challenge",
        "firstOrderStatus": 5,
        "orderStatus": 2,
        "actionCode": 0,
        "eci": 5,
        "threeDS": True,
        "source": "simulator",
    }


def test_the_readme_table_is_generated_from_the_card_table() -> None:
    table = markdown_table()
    assert len(table.splitlines()) == len(TEST_CARDS) + 2
    assert "| `4000000000003220` | VISA | 3DS challenge: success | challenge | 5, then 2 | 0 | 05 |" in table
    assert table in README.read_text(encoding="utf-8"), "simulator/README.md: paste cards.markdown_table()"


DOCUMENTED_ACTION_CODES = (0, -100, 100, 101, 104, 111, 116, 120, 121, 123, 208, 209, 907, 910, 999, 1001)
DOCUMENTED_3DS_AND_TIMEOUT_CODES = (-2005, -2006, -2007, -2011, -2016, -1, 151018, 151019)


@pytest.mark.parametrize("action_code", DOCUMENTED_ACTION_CODES + DOCUMENTED_3DS_AND_TIMEOUT_CODES)
def test_every_documented_action_code_is_described_in_three_languages(action_code: int) -> None:
    texts = {lang: action_description(action_code, lang) for lang in ("hy", "ru", "en")}
    assert all(texts.values()) and len(set(texts.values())) == 3, texts


def test_every_card_outcome_is_described() -> None:
    assert all(action_description(card.action_code, "hy") for card in TEST_CARDS)
