"""``readiness.json`` against its versioned JSON Schema (``reports/schema/readiness.schema.json``, package data).

Real output is validated: the report of a real pytest-bdd run (results, report log, evidence, audit), written,
signed and compared with a previous run, so every optional block of the document is present at least once.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from reports.build import build_report, write_report
from reports.checklist import load_checklist
from reports.evidence import Evidence, EvidenceEntry, EvidenceKind
from reports.history import compare
from reports.json_doc import SCHEMA_VERSION
from reports.results import load_cucumber
from reports.run_log import load_run_log
from reports.schema_check import load_schema, problems
from reports.signing import load_signing_key
from tests.integration.report_helpers import REPORT_LOG_CONFTEST, pytest_ini, run_tiny_suite

INI = pytest_ini("RC-01", "RC-05", "RC-16")

FEATURE = """\
Feature: Card payments
  @RC-01
  Scenario: Paid card
    Given a cart

  @RC-05
  Scenario: Declined card
    Given a declined card

  @RC-16
  Scenario: Ecwid answers 503 twice
    Given Ecwid faults
"""

STEPS = """\
import pytest
from pytest_bdd import given, scenarios

scenarios("payments.feature")


@given("a cart")
def cart():
    pass


@given("a declined card")
def declined():
    raise AssertionError("declined")


@given("Ecwid faults")
def faults():
    pytest.skip("NOT APPLICABLE: needs the simulator's control API")
"""


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("schema")
    run = run_tiny_suite(work, ini=INI, conftest=REPORT_LOG_CONFTEST, feature=FEATURE, steps=STEPS)
    assert run.returncode == 1, run.stdout + run.stderr
    return work


@pytest.fixture(scope="module")
def document(run_folder: Path) -> dict[str, Any]:
    evidence = [
        Evidence(
            "test_paid_card",
            "Card payments",
            "Paid card",
            EvidenceKind.TIMELINE,
            "payment 1",
            entries=(EvidenceEntry("2025-01-31T12:00:00Z", "paid", "registered", "callback", None, "orderStatus 2"),),
            attempt=1,
        ),
        Evidence("test_paid_card", "Card payments", "Paid card", EvidenceKind.JOURNAL, "journal", text="register.do"),
    ]
    target = {
        "name": "pytest-bdd sample",
        "configuration_audit": {
            "ready": True,
            "counts": True,
            "findings": [{"check": "debug.off", "title": "debug is off", "result": "PASS", "detail": "unset"}],
        },
    }

    def build() -> Any:
        return build_report(
            load_checklist(),
            load_cucumber(run_folder / "cucumber.json"),
            target=target,
            evidence=evidence,
            run_log=load_run_log(run_folder / "report-log.jsonl"),
        )

    out = run_folder / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(run_folder / "config"))
        patch.delenv("VPOSLAB_SIGNING_KEY", raising=False)
        first = write_report(build(), out, signing_key=load_signing_key())
        current = build()
        paths = write_report(current, out, signing_key=load_signing_key(), comparison=compare(first["json"], current))
    data: dict[str, Any] = json.loads(paths["json"].read_text(encoding="utf-8"))
    return data


def test_the_schema_is_package_data_and_a_valid_draft_2020_12_schema() -> None:
    text = resources.files("reports").joinpath("schema/readiness.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)

    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"] == {"const": SCHEMA_VERSION}
    assert load_schema() == schema


def test_real_output_follows_the_schema(document: dict[str, Any]) -> None:
    Draft202012Validator(load_schema()).validate(document)
    assert problems(document) == []


def test_real_output_carries_every_optional_block(document: dict[str, Any]) -> None:
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["signing"]["fingerprint"].startswith("SHA256:")
    assert document["comparison"] is not None
    assert document["configuration_audit"]["counts"] is True
    by_id = {item["id"]: item for item in document["items"]}
    assert by_id["RC-16"]["status"] == "NOT APPLICABLE"
    assert by_id["RC-05"]["status"] == "FAIL"
    assert by_id["RC-01"]["scenarios"][0]["evidence"][0]["entries"][0]["from"] == "registered"
    assert document["groups"]["NOT APPLICABLE"] == [{"cause": "needs the simulator's control API", "items": ["RC-16"]}]
    assert document["failed_rules"] == ["V-02", "V-03"]


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: d.pop("verdict"), "$: 'verdict' is a required property"),
        (lambda d: d["items"][0].update(status="OK"), "$.items[0].status: 'OK' is not one of"),
        (lambda d: d.update(schema_version="1.0"), "$.schema_version: '2.0' was expected"),
        (lambda d: d["summary"].update(FAIL=-1), "$.summary.FAIL: -1 is less than the minimum of 0"),
        (lambda d: d["items"][0].update(evidence_refs=["E-1"]), "$.items[0].evidence_refs[0]: 'E-1' does not match"),
    ],
)
def test_a_document_that_breaks_the_contract_is_named_by_path(document: dict[str, Any], edit: Any, path: str) -> None:
    broken = json.loads(json.dumps(document))
    edit(broken)

    found = problems(broken)

    assert any(problem.startswith(path) for problem in found), found
