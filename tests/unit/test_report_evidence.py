"""Evidence lines: parsed strictly, attached to the one scenario example whose id they carry (never to every row of
a Scenario Outline), never linking somewhere unsafe."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reports.build import build_report
from reports.checklist import Checklist, ChecklistItem
from reports.errors import EvidenceError
from reports.evidence import (
    Evidence,
    EvidenceEntry,
    EvidenceKind,
    load_evidence,
    parse_evidence,
    parse_evidence_line,
)
from reports.results import ScenarioResult, Status

PAID_ID = "features/test_scenarios.py::test_paid_card"
OUTLINE = "A declined card gets a clear message"
ROW_1 = "features/test_scenarios.py::test_a_declined_card[4000000000009995-en-insufficient funds]"
ROW_2 = "features/test_scenarios.py::test_a_declined_card[4000000000000069-en-the card has expired]"


def line(**fields: object) -> str:
    base: dict[str, object] = {
        "scenario_id": PAID_ID,
        "feature": "Card payments",
        "scenario": "Paid card",
        "kind": "screenshot",
        "label": "bank page",
        "path": "shots/bank.png",
        "text": None,
    }
    base.update(fields)
    return json.dumps(base)


def test_each_kind_is_parsed_into_typed_evidence() -> None:
    records = parse_evidence(
        [
            line(),
            "",
            line(kind="journal", path=None, text="POST /register.do 200"),
            line(kind="note", path=None, text="order 42"),
            line(kind="link", path="https://bank.example/trace/1"),
        ]
    )

    assert [r.kind for r in records] == [
        EvidenceKind.SCREENSHOT,
        EvidenceKind.JOURNAL,
        EvidenceKind.NOTE,
        EvidenceKind.LINK,
    ]
    assert records[0] == Evidence(
        PAID_ID, "Card payments", "Paid card", EvidenceKind.SCREENSHOT, "bank page", "shots/bank.png"
    )


def test_evidence_is_attached_to_the_scenario_with_the_same_id() -> None:
    checklist = Checklist(items=(ChecklistItem("RC-01", "Paid", blocking=True),))
    results = [
        ScenarioResult("Card payments", "Paid card", ("RC-01",), Status.PASSED, 0.1, id=PAID_ID),
        ScenarioResult("Other feature", "Paid card", ("RC-01",), Status.PASSED, 0.1, id="other::test_paid_card"),
    ]
    evidence = parse_evidence([line(), line(scenario_id="nobody::test_nothing", feature="Nobody", scenario="Nothing")])

    report = build_report(checklist, results, target={}, evidence=evidence, generated_at=datetime.now(UTC))

    [item] = report.items
    assert [len(s.evidence) for s in item.scenarios] == [1, 0]
    assert item.scenarios[0].evidence[0].path == "shots/bank.png"


def test_each_row_of_a_scenario_outline_shows_only_its_own_evidence() -> None:
    # The rows share the feature and the scenario name; only the example id tells them apart.
    checklist = Checklist(items=(ChecklistItem("RC-05", "Declines", blocking=True),))
    results = [
        ScenarioResult("Card payments", OUTLINE, ("RC-05",), Status.PASSED, 0.1, id=ROW_1),
        ScenarioResult("Card payments", OUTLINE, ("RC-05",), Status.PASSED, 0.1, id=ROW_2),
    ]
    evidence = parse_evidence(
        [
            line(scenario_id=ROW_1, scenario=OUTLINE, label="checkout", path="evidence/row1/01-checkout.png"),
            line(scenario_id=ROW_2, scenario=OUTLINE, label="checkout", path="evidence/row2/01-checkout.png"),
            line(
                scenario_id=ROW_1,
                scenario=OUTLINE,
                kind="journal",
                label="journal",
                path=None,
                text="register.do V1 -> errorCode 0",
            ),
            line(
                scenario_id=ROW_2,
                scenario=OUTLINE,
                kind="journal",
                label="journal",
                path=None,
                text="register.do V2 -> errorCode 0",
            ),
            line(scenario_id=ROW_1, scenario=OUTLINE, label="thank-you", path="evidence/row1/02-thank-you.png"),
        ]
    )

    report = build_report(checklist, results, target={}, evidence=evidence, generated_at=datetime.now(UTC))

    row_1, row_2 = report.items[0].scenarios
    assert [(e.label, e.path or e.text) for e in row_1.evidence] == [
        ("checkout", "evidence/row1/01-checkout.png"),
        ("journal", "register.do V1 -> errorCode 0"),
        ("thank-you", "evidence/row1/02-thank-you.png"),
    ]
    assert [(e.label, e.path or e.text) for e in row_2.evidence] == [
        ("checkout", "evidence/row2/01-checkout.png"),
        ("journal", "register.do V2 -> errorCode 0"),
    ]
    assert (row_1.id, row_2.id) == (ROW_1, ROW_2)


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"kind": "video"}, "unknown kind 'video'"),
        ({"scenario": ""}, "'scenario' must be a non-empty string"),
        ({"scenario_id": None}, "'scenario_id' must be a non-empty string"),
        ({"scenario_id": ""}, "'scenario_id' must be a non-empty string"),
        ({"path": None}, "a screenshot needs a 'path'"),
        ({"kind": "journal", "path": None, "text": None}, "needs 'text' or 'path'"),
        ({"path": "/etc/passwd"}, "relative to the report directory"),
        ({"path": "C:\\shots\\a.png"}, "relative to the report directory"),
        ({"kind": "link", "path": "javascript:alert(1)"}, "or an http"),
        ({"path": "https://example.org/a.png"}, "relative to the report directory"),
        ({"text": 42}, "'text' must be a string or null"),
        ({"path": "../../etc/passwd"}, "relative to the report directory"),
        ({"path": "evidence/../../secret.png"}, "relative to the report directory"),
        ({"attempt": 0}, "'attempt' must be a positive integer"),
        ({"attempt": "2"}, "'attempt' must be a positive integer"),
        ({"kind": "timeline", "path": None}, "a timeline needs a non-empty 'entries' list"),
        ({"kind": "ecwid_history", "path": None, "entries": []}, "an? ecwid_history needs a non-empty 'entries'"),
        ({"kind": "timeline", "path": None, "entries": [{"state": "paid"}]}, r"entries\[0\]: 'at' must be"),
        ({"kind": "timeline", "path": None, "entries": [{"at": "2025-01-31T12:00:00Z"}]}, "'state' must be"),
        (
            {"kind": "timeline", "path": None, "entries": [{"at": "yesterday", "state": "paid"}]},
            "'at' must be an ISO 8601 time with a time zone",
        ),
        (
            {"kind": "timeline", "path": None, "entries": [{"at": "2025-01-31T12:00:00", "state": "paid"}]},
            "with a time zone",
        ),
        (
            {
                "kind": "ecwid_history",
                "path": None,
                "entries": [{"at": "2025-01-31T12:00:00Z", "state": "PAID", "accepted": "yes"}],
            },
            "'accepted' must be true, false or null",
        ),
    ],
)
def test_malformed_or_unsafe_evidence_is_an_evidence_error(fields: dict[str, object], fragment: str) -> None:
    with pytest.raises(EvidenceError, match=fragment) as caught:
        parse_evidence_line(line(**fields))

    assert caught.value.code == "evidence_invalid"


def test_an_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "evidence.jsonl"
    path.write_text(line() + "\n{not json\n", encoding="utf-8")

    with pytest.raises(EvidenceError, match=r"evidence\.jsonl:2: not valid JSON"):
        load_evidence(path)


def test_missing_evidence_file_means_no_evidence(tmp_path: Path) -> None:
    assert load_evidence(tmp_path / "none.jsonl") == ()


# ---------------------------------------------------------------- payment timelines and Ecwid status histories

TIMELINE = {
    "kind": "timeline",
    "label": "payment 1003/O7SCXO attempt 1 (orderNumber VMC2EWE19FVJ)",
    "path": None,
    "entries": [
        {"at": "2025-01-31T12:00:00.100Z", "state": "registered", "source": "gateway", "note": "register.do"},
        {"at": "2025-01-31T12:00:02.350Z", "state": "paid", "from": "registered", "source": "callback",
         "note": "orderStatus 2"},
    ],
}  # fmt: skip
ECWID_HISTORY = {
    "kind": "ecwid_history",
    "label": "Ecwid order 1003/O7SCXO status history",
    "path": None,
    "entries": [
        {"at": "2025-01-31T12:00:01+00:00", "state": "PAID", "from": "AWAITING_PAYMENT", "accepted": False,
         "note": "HTTP 503"},
        {"at": "2025-01-31T12:00:03+00:00", "state": "PAID", "from": "AWAITING_PAYMENT", "accepted": True,
         "source": "gateway", "note": "HTTP 200"},
    ],
}  # fmt: skip


def test_a_payment_timeline_is_parsed_with_its_entries_in_order() -> None:
    [record] = parse_evidence([line(**TIMELINE, attempt=2)])

    assert record.kind is EvidenceKind.TIMELINE
    assert record.attempt == 2
    assert record.entries == (
        EvidenceEntry("2025-01-31T12:00:00.100Z", "registered", source="gateway", note="register.do"),
        EvidenceEntry("2025-01-31T12:00:02.350Z", "paid", "registered", "callback", None, "orderStatus 2"),
    )


def test_an_ecwid_history_keeps_refused_updates() -> None:
    [record] = parse_evidence([line(**ECWID_HISTORY)])

    assert record.kind is EvidenceKind.ECWID_HISTORY
    assert [(e.state, e.previous, e.accepted) for e in record.entries] == [
        ("PAID", "AWAITING_PAYMENT", False),
        ("PAID", "AWAITING_PAYMENT", True),
    ]


def test_entries_on_other_kinds_are_ignored() -> None:
    [record] = parse_evidence([line(entries=TIMELINE["entries"])])

    assert record.kind is EvidenceKind.SCREENSHOT
    assert record.entries == ()
