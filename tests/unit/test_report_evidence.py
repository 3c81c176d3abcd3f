"""Evidence lines: parsed strictly, attached by feature + scenario name, never linking somewhere unsafe."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reports.build import build_report
from reports.checklist import Checklist, ChecklistItem
from reports.errors import EvidenceError
from reports.evidence import Evidence, EvidenceKind, load_evidence, parse_evidence, parse_evidence_line
from reports.results import ScenarioResult, Status


def line(**fields: object) -> str:
    base: dict[str, object] = {
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
    assert records[0] == Evidence("Card payments", "Paid card", EvidenceKind.SCREENSHOT, "bank page", "shots/bank.png")


def test_evidence_is_attached_to_the_scenario_with_the_same_feature_and_name() -> None:
    checklist = Checklist(items=(ChecklistItem("RC-01", "Paid", blocking=True),))
    results = [
        ScenarioResult("Card payments", "Paid card", ("RC-01",), Status.PASSED, 0.1),
        ScenarioResult("Other feature", "Paid card", ("RC-01",), Status.PASSED, 0.1),
    ]
    evidence = parse_evidence([line(), line(feature="Nobody", scenario="Nothing")])

    report = build_report(checklist, results, target={}, evidence=evidence, generated_at=datetime.now(UTC))

    [item] = report.items
    assert [len(s.evidence) for s in item.scenarios] == [1, 0]
    assert item.scenarios[0].evidence[0].path == "shots/bank.png"


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"kind": "video"}, "unknown kind 'video'"),
        ({"scenario": ""}, "'scenario' must be a non-empty string"),
        ({"path": None}, "a screenshot needs a 'path'"),
        ({"kind": "journal", "path": None, "text": None}, "needs 'text' or 'path'"),
        ({"path": "/etc/passwd"}, "relative to the report directory"),
        ({"path": "C:\\shots\\a.png"}, "relative to the report directory"),
        ({"kind": "link", "path": "javascript:alert(1)"}, "or an http"),
        ({"path": "https://example.org/a.png"}, "relative to the report directory"),
        ({"text": 42}, "'text' must be a string or null"),
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
