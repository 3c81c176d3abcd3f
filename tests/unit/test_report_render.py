"""Rendering: the JSON contract, HTML escaping, well-formed JUnit XML, and no secret in any output."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import quote

import jinja2
import pytest

from reports.build import build_report
from reports.checklist import load_checklist
from reports.evidence import Evidence, EvidenceKind
from reports.model import Report
from reports.render import _environment, error_summary, render_html, render_json, render_junit
from reports.results import ScenarioResult, Status, StepResult

NOW = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
SECRET = "s3cr3t-T0ken/+="


def scenario(
    name: str, status: Status, *tags: str, error: str | None = None, step_name: str = "a cart"
) -> ScenarioResult:
    return ScenarioResult(
        feature="Card payments",
        name=name,
        tags=tags,
        status=status,
        duration_s=1.5,
        steps=(StepResult("Given", step_name, status, 1.5, error),),
        error=error,
    )


def sample_report(*, secrets: tuple[str, ...] = ()) -> Report:
    results = [
        scenario("Paid card", Status.PASSED, "RC-01", "desktop"),
        scenario("Declined <script>alert(1)</script>", Status.FAILED, "RC-05", error="E   boom & <b>"),
        scenario("Needs simulator", Status.SKIPPED, "RC-02", "simulator"),
        scenario("Typo", Status.PASSED, "RC-99"),
    ]
    evidence = [
        Evidence("Card payments", "Paid card", EvidenceKind.SCREENSHOT, "bank page", "shots/paid card.png"),
        Evidence("Card payments", "Paid card", EvidenceKind.JOURNAL, "journal", None, "POST /register.do 200"),
    ]
    return build_report(
        load_checklist(),
        results,
        target={"name": "simulator", "browsers": ["desktop", "mobile"], "started_at": NOW},
        evidence=evidence,
        secrets=secrets,
        generated_at=NOW,
    )


# ---------------------------------------------------------------- JSON


def test_json_has_exactly_the_stable_top_level_shape() -> None:
    data = json.loads(render_json(sample_report()))

    assert list(data) == ["verdict", "generated_at", "target", "summary", "reasons", "items", "unmapped"]
    assert data["verdict"] == "NO-GO"
    assert data["generated_at"] == "2025-01-31T12:00:00Z"
    assert data["target"] == {"name": "simulator", "browsers": ["desktop", "mobile"], "started_at": NOW.isoformat()}
    # RC-01 passed, RC-05 failed (both blocking); every other item of the document is NOT RUN.
    checklist = load_checklist()
    blocking = sum(1 for item in checklist if item.blocking)
    assert data["summary"] == {
        "PASS": 1,
        "FAIL": 1,
        "NOT RUN": len(checklist) - 2,
        "blocking_not_passed": blocking - 1,
    }


def test_json_lists_every_checklist_item_in_order_with_the_item_keys() -> None:
    data = json.loads(render_json(sample_report()))

    assert [item["id"] for item in data["items"]] == list(load_checklist().ids)
    for item in data["items"]:
        assert list(item) == ["id", "title", "blocking", "status", "reason", "scenarios"]
        assert item["status"] in {"PASS", "FAIL", "NOT RUN"}
        assert isinstance(item["blocking"], bool)


def test_json_scenarios_steps_and_evidence_have_the_documented_keys() -> None:
    data = json.loads(render_json(sample_report()))
    rc01 = data["items"][0]

    [paid] = rc01["scenarios"]
    assert list(paid) == ["feature", "name", "status", "duration_s", "error", "steps", "evidence"]
    assert list(paid["steps"][0]) == ["keyword", "name", "status", "duration_s", "error"]
    assert paid["evidence"][0] == {
        "kind": "screenshot",
        "label": "bank page",
        "path": "shots/paid card.png",
        "text": None,
    }
    assert data["unmapped"] == [
        {"feature": "Card payments", "name": "Typo", "status": "passed", "unknown_ids": ["RC-99"]}
    ]


# ---------------------------------------------------------------- HTML


def test_html_environment_is_strict_and_autoescaping() -> None:
    env = _environment()

    assert env.undefined is jinja2.StrictUndefined
    assert env.autoescape is True


def test_html_escapes_a_scenario_name_with_markup() -> None:
    html = render_html(sample_report())

    assert "<script>alert(1)</script>" not in html
    assert "Declined &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "E   boom &amp; &lt;b&gt;" in html


def test_html_shows_verdict_reasons_target_and_every_item() -> None:
    html = render_html(sample_report())

    assert 'class="banner nogo"' in html
    assert "RC-05 (blocking) FAIL: 1 of 1 scenario failed" in html
    assert "desktop, mobile" in html
    for item_id in load_checklist().ids:
        assert f'id="{item_id}"' in html
    assert "<link" not in html
    assert "<script" not in html


def test_html_shows_screenshots_as_linked_thumbnails_and_journals_in_pre() -> None:
    html = render_html(sample_report())
    href = quote("shots/paid card.png")

    assert f'<a href="{href}"><img src="{href}" alt="bank page"' in html
    assert "<pre>POST /register.do 200</pre>" in html


def test_error_summary_picks_pytest_e_lines() -> None:
    assert error_summary("def f():\n>   assert x\nE   AssertionError: boom\nE   assert 1 == 2\n\nf.py:3") == (
        "AssertionError: boom\nassert 1 == 2"
    )
    assert error_summary("Timeout\n") == "Timeout"
    assert error_summary(None) is None


# ---------------------------------------------------------------- JUnit


def test_junit_is_well_formed_with_one_testcase_per_item() -> None:
    suite = ET.fromstring(render_junit(sample_report()))  # noqa: S314 - our own output

    assert suite.tag == "testsuite"
    assert suite.get("name") == "readiness"
    cases = suite.findall("testcase")
    assert len(cases) == len(load_checklist())
    assert {case.get("classname") for case in cases} == {"readiness"}
    assert cases[0].get("name", "").startswith("RC-01 Card payment succeeds")
    assert len(suite.findall("testcase/failure")) == 1 == int(suite.get("failures", "-1"))
    assert len(suite.findall("testcase/skipped")) == len(cases) - 2 == int(suite.get("skipped", "-1"))
    failure = suite.find("testcase/failure")
    assert failure is not None
    assert failure.get("message") == "1 of 1 scenario failed: 'Declined <script>alert(1)</script>'"


def test_junit_drops_characters_xml_cannot_carry() -> None:
    report = build_report(
        load_checklist(),
        [scenario("bell", Status.FAILED, "RC-01", error="bad\x07byte")],
        target={},
        generated_at=NOW,
    )

    suite = ET.fromstring(render_junit(report))  # noqa: S314 - our own output

    assert "badbyte" in (suite.findtext("testcase/failure") or "")


# ---------------------------------------------------------------- redaction


@pytest.mark.parametrize("form", [SECRET, quote(SECRET, safe=""), json.dumps(SECRET)[1:-1]])
def test_a_secret_never_appears_in_any_output(form: str) -> None:
    results = [
        scenario(
            f"Pays with {form}",
            Status.FAILED,
            "RC-01",
            error=f"E   HTTPError: https://gw/?token={form} refused",
            step_name=f"the bank password is {form}",
        )
    ]
    evidence = [
        Evidence("Card payments", f"Pays with {form}", EvidenceKind.JOURNAL, f"log {form}", None, f"secret={form}"),
    ]
    report = build_report(
        load_checklist(),
        results,
        target={"gateway_url": f"https://user:{form}@gw.example", form: "key"},
        evidence=evidence,
        secrets=[SECRET],
        generated_at=NOW,
    )

    outputs = {"json": render_json(report), "html": render_html(report), "junit": render_junit(report)}

    for name, text in outputs.items():
        assert SECRET not in text, name
        assert quote(SECRET, safe="") not in text, name
        assert form not in text, name
        assert "***" in text, name
    assert report.items[0].scenarios[0].evidence, "evidence still attached after redaction"


def test_empty_secrets_are_ignored() -> None:
    report = build_report(load_checklist(), [], target={"name": "sim"}, secrets=["", ""], generated_at=NOW)

    assert report.target == {"name": "sim"}
