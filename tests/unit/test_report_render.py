"""Rendering: the JSON contract, HTML escaping, well-formed JUnit XML, and no secret in any output."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import quote

import jinja2
import pytest
from markupsafe import escape as html_escape

from reports.build import build_report
from reports.checklist import Checklist, ChecklistItem, load_checklist
from reports.evidence import Evidence, EvidenceKind
from reports.html_view import PRINT_SCRIPT
from reports.model import Report
from reports.render import _environment, error_summary, example_of, render_html, render_json, render_junit
from reports.results import ScenarioResult, Status, StepResult
from reports.run import RunOutcome
from reports.run_log import Attempt, LoggedTest, RunLog

NOW = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
SECRET = "s3cr3t-T0ken/+="


def scenario(
    name: str, status: Status, *tags: str, error: str | None = None, step_name: str = "a cart", example: str = ""
) -> ScenarioResult:
    return ScenarioResult(
        feature="Card payments",
        name=name,
        tags=tags,
        status=status,
        duration_s=1.5,
        steps=(StepResult("Given", step_name, status, 1.5, error),),
        error=error,
        id=scenario_id(name, example),
    )


def scenario_id(name: str, example: str = "") -> str:
    return f"features/test_scenarios.py::test_{name.lower().replace(' ', '_')}" + (f"[{example}]" if example else "")


def sample_report(*, secrets: tuple[str, ...] = ()) -> Report:
    results = [
        scenario("Paid card", Status.PASSED, "RC-01", "desktop"),
        scenario("Declined <script>alert(1)</script>", Status.FAILED, "RC-05", error="E   boom & <b>"),
        scenario("Needs simulator", Status.SKIPPED, "RC-02", "simulator"),
        scenario("Typo", Status.PASSED, "RC-99"),
    ]
    paid = scenario_id("Paid card")
    evidence = [
        Evidence(paid, "Card payments", "Paid card", EvidenceKind.SCREENSHOT, "bank page", "shots/paid card.png"),
        Evidence(paid, "Card payments", "Paid card", EvidenceKind.JOURNAL, "journal", None, "POST /register.do 200"),
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

    assert list(data) == [
        "schema_version",
        "verdict",
        "generated_at",
        "target",
        "configuration_audit",
        "run",
        "summary",
        "rules",
        "failed_rules",
        "reasons",
        "listed",
        "groups",
        "items",
        "unmapped",
        "reproducibility",
        "signing",
        "comparison",
    ]
    assert data["schema_version"] == "2.0"
    assert data["verdict"] == "NO-GO"
    assert data["failed_rules"] == ["V-02", "V-03", "V-04"]
    assert data["generated_at"] == "2025-01-31T12:00:00Z"
    assert data["target"] == {"name": "simulator", "browsers": ["desktop", "mobile"], "started_at": NOW.isoformat()}
    assert data["run"] == {"completed": True, "problem": None, "exit_code": None, "output_tail": ""}
    # RC-01 passed, RC-05 failed (both blocking); RC-37 is to witness; every other item of the document is NOT RUN.
    checklist = load_checklist()
    blocking = sum(1 for item in checklist if item.blocking)
    witness = sum(1 for item in checklist if item.witness)
    assert witness == 1
    assert data["summary"] == {
        "PASS": 1,
        "FAIL": 1,
        "NOT RUN": len(checklist) - 2 - witness,
        "NOT APPLICABLE": 0,
        "TO WITNESS": witness,
        "blocking_not_passed": blocking - 1,
        "flaky": 0,
    }


def test_json_lists_every_checklist_item_in_order_with_the_item_keys() -> None:
    data = json.loads(render_json(sample_report()))

    assert [item["id"] for item in data["items"]] == list(load_checklist().ids)
    for item in data["items"]:
        assert list(item) == [
            "id",
            "title",
            "blocking",
            "status",
            "reason",
            "cause",
            "note",
            "witness",
            "declared_scenarios",
            "evidence_refs",
            "scenarios",
        ]
        assert item["status"] in {"PASS", "FAIL", "NOT RUN", "NOT APPLICABLE", "TO WITNESS"}
        assert isinstance(item["blocking"], bool)


def test_json_scenarios_steps_and_evidence_have_the_documented_keys() -> None:
    data = json.loads(render_json(sample_report()))
    rc01 = data["items"][0]

    [paid] = rc01["scenarios"]
    assert list(paid) == [
        "id",
        "feature",
        "name",
        "status",
        "duration_s",
        "error",
        "skip_reason",
        "flaky",
        "attempts",
        "steps",
        "evidence",
    ]
    assert paid["id"] == "features/test_scenarios.py::test_paid_card"
    assert list(paid["steps"][0]) == ["keyword", "name", "status", "duration_s", "error"]
    assert paid["evidence"][0] == {
        "ref": "E-001",
        "kind": "screenshot",
        "label": "bank page",
        "path": "shots/paid card.png",
        "text": None,
        "sha256": None,  # rendered without the report folder: nothing to hash
        "attempt": None,
        "entries": [],
    }
    assert rc01["evidence_refs"] == ["E-001", "E-002"]
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
    assert html.count("<script") == 1  # the one inline script: open every <details> before printing
    assert f"<script>{PRINT_SCRIPT}</script>" in html


def test_html_shows_screenshots_as_linked_thumbnails_and_journals_in_pre() -> None:
    html = render_html(sample_report())
    href = quote("shots/paid card.png")

    assert f'<a href="#E-001"><img src="{href}" alt="bank page">' in html  # no folder given: linked, not inlined
    assert '<b>1.</b> bank page <span class="ref">E-001</span></figcaption>' in html
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
    verdict, *cases = suite.findall("testcase")
    assert verdict.get("name") == "verdict"
    assert len(cases) == len(load_checklist())
    assert {case.get("classname") for case in cases} == {"readiness"}
    assert cases[0].get("name", "").startswith("RC-01 Card payment succeeds")
    assert len(suite.findall("testcase/failure")) == 2 == int(suite.get("failures", "-1"))  # RC-05 and the verdict
    assert len(suite.findall("testcase/skipped")) == len(cases) - 2 == int(suite.get("skipped", "-1"))
    failure = next(c for c in cases if c.find("failure") is not None).find("failure")
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

    item = next(c for c in suite.findall("testcase") if (c.get("name") or "").startswith("RC-01 "))
    assert "badbyte" in (item.findtext("failure") or "")


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
    name = f"Pays with {form}"
    evidence = [
        Evidence(scenario_id(name), "Card payments", name, EvidenceKind.JOURNAL, f"log {form}", None, f"secret={form}"),
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


# ---------------------------------------------------------------- per-example evidence, pages in order

OUTLINE = "Declined card"


def outline_report() -> Report:
    rows = ["4000000000009995-en-insufficient funds", "4000000000000069-ru-expired"]
    results = [scenario(OUTLINE, Status.PASSED, "RC-05", example=row) for row in rows]
    first, second = (scenario_id(OUTLINE, row) for row in rows)
    evidence = [
        Evidence(first, "Card payments", OUTLINE, EvidenceKind.SCREENSHOT, "storefront", "evidence/a/01-store.png"),
        Evidence(first, "Card payments", OUTLINE, EvidenceKind.SCREENSHOT, "bank payment page", "evidence/a/02.png"),
        Evidence(first, "Card payments", OUTLINE, EvidenceKind.SCREENSHOT, "checkout: declined", "evidence/a/03.png"),
        Evidence(second, "Card payments", OUTLINE, EvidenceKind.SCREENSHOT, "storefront", "evidence/b/01-store.png"),
    ]
    return build_report(load_checklist(), results, target={}, evidence=evidence, generated_at=NOW)


def test_example_of_reads_the_outline_row_from_the_id() -> None:
    assert example_of("f.py::test_x[4242-en-paid]") == "4242-en-paid"
    assert example_of("f.py::test_x") is None
    assert example_of("") is None


def test_example_of_undoes_pytests_escaping_of_non_ascii_parameters() -> None:
    # pytest writes "hy-\u0561\u0576" into node ids for "hy-ան"; people must read the real text.
    assert example_of("f.py::test_x[4000-hy-\\u0561\\u0576\\u0562\\u0561\\u057e]") == "4000-hy-անբավ"
    assert example_of("f.py::test_x[4000-ru-\\u0438\\u0441\\u0442\\u0451\\u043a]") == "4000-ru-истёк"
    assert example_of("f.py::test_x[C:\\\\path]") == "C:\\path"  # an escaped backslash
    assert example_of("f.py::test_x[already ան]") == "already ան"  # not escaped: left as it is
    assert example_of("f.py::test_x[bad \\x]") == "bad \\x"  # not a valid escape: left as it is


def test_html_shows_each_outline_row_with_its_example_and_only_its_own_pages_in_order() -> None:
    html = render_html(outline_report())

    first = html.index("4000000000009995-en-insufficient funds</span>")
    second = html.index("4000000000000069-ru-expired</span>")
    row_1, row_2 = html[first:second], html[second:]
    assert row_1.index("<b>1.</b> storefront") < row_1.index("<b>2.</b> bank payment page")
    assert row_1.index("<b>2.</b> bank payment page") < row_1.index("<b>3.</b> checkout: declined")
    assert "evidence/b/01-store.png" not in row_1
    assert "<b>1.</b> storefront" in row_2
    assert "evidence/a/" not in row_2


def test_json_keeps_every_screenshot_of_a_row_in_order() -> None:
    data = json.loads(render_json(outline_report()))
    rc05 = next(item for item in data["items"] if item["id"] == "RC-05")

    assert [[e["label"] for e in s["evidence"]] for s in rc05["scenarios"]] == [
        ["storefront", "bank payment page", "checkout: declined"],
        ["storefront"],
    ]


# ---------------------------------------------------------------- a run that did not complete

PROBLEM = "pytest exited with code 4 (usage error): ModuleNotFoundError: No module named 'playwright'"


def broken_run_report() -> Report:
    run = RunOutcome(completed=False, problem=PROBLEM, exit_code=4, output_tail="E   ModuleNotFoundError: <x>")
    return build_report(load_checklist(), [], target={}, run=run, generated_at=NOW)


def test_html_says_prominently_that_the_run_did_not_complete() -> None:
    html = render_html(broken_run_report())

    box = html.index('<section class="runproblem" id="run-problem">')
    assert box < html.index('class="banner nogo"')  # above the verdict
    assert "The feature run did not complete" in html
    assert f'<p class="problem">{html_escape(PROBLEM)}</p>' in html
    assert "E   ModuleNotFoundError: &lt;x&gt;" in html
    assert "no scenario covers this item" not in html


def test_html_of_a_complete_run_has_no_run_problem_box() -> None:
    assert 'class="runproblem"' not in render_html(sample_report())


def test_json_and_junit_carry_the_run_problem() -> None:
    report = broken_run_report()

    data = json.loads(render_json(report))
    assert data["run"] == {
        "completed": False,
        "problem": PROBLEM,
        "exit_code": 4,
        "output_tail": "E   ModuleNotFoundError: <x>",
    }
    assert data["reasons"][0] == f"the feature run did not complete: {PROBLEM}"
    suite = ET.fromstring(render_junit(report))  # noqa: S314 - our own output
    assert suite.get("errors") == "1"
    error = suite.find("testcase[@name='feature run']/error")
    assert error is not None
    assert error.get("message") == f"did not complete: {PROBLEM}"
    assert len(suite.findall("testcase")) == len(load_checklist()) + 2 == int(suite.get("tests", "0"))


# ---------------------------------------------------------------- witnessed step, notes


def test_html_presents_the_canary_as_a_step_to_witness_and_sign_after_go() -> None:
    html = render_html(sample_report())

    assert '<span class="badge witness">TO WITNESS</span>' in html
    section = html[html.index("After GO: steps to witness and sign") :]
    assert "RC-37 REAL canary, witnessed after the switch" in section
    assert "witnessed by (name)" in section
    assert "signature" in section
    assert "RC-37" not in "".join(sample_report().reasons)


def test_junit_lists_the_witnessed_step_as_skipped_not_passed() -> None:
    suite = ET.fromstring(render_junit(sample_report()))  # noqa: S314 - our own output

    case = next(c for c in suite.findall("testcase") if (c.get("name") or "").startswith("RC-37 "))
    skipped = case.find("skipped")
    assert skipped is not None
    assert (skipped.get("message") or "").startswith("to witness and sign after GO")


def test_item_notes_appear_in_the_html_and_json() -> None:
    note = "checked as far as the lab allows: the gateway's own callback endpoint"
    report = build_report(load_checklist(), [], target={}, notes={"RC-34": note}, generated_at=NOW)

    assert '<div class="note">checked as far as the lab allows: the gateway&#39;s own callback endpoint</div>' in (
        render_html(report)
    )
    rc34 = next(item for item in json.loads(render_json(report))["items"] if item["id"] == "RC-34")
    assert rc34["note"] == note


# ---------------------------------------------------------------- JUnit: the verdict is a testcase a CI can fail on

SMALL_JUNIT = Checklist(
    items=(
        ChecklistItem("RC-01", "Card payment succeeds", blocking=True),
        ChecklistItem("RC-16", "Ecwid API temporary failures", blocking=True),
    )
)


def junit_cases(report: Report) -> dict[str, ET.Element]:
    suite = ET.fromstring(render_junit(report))  # noqa: S314 - our own output
    return {case.get("name", "").split(" ")[0]: case for case in suite.findall("testcase")}


def test_junit_go_is_a_passing_verdict_testcase() -> None:
    report = build_report(
        SMALL_JUNIT,
        [scenario("Paid", Status.PASSED, "RC-01"), scenario("Ecwid 503", Status.PASSED, "RC-16")],
        target={},
        generated_at=NOW,
    )

    suite = ET.fromstring(render_junit(report))  # noqa: S314 - our own output
    verdict = junit_cases(report)["verdict"]
    assert list(verdict) == []
    assert suite.get("failures") == "0"
    assert suite.find("properties/property[@name='verdict']").get("value") == "GO"  # type: ignore[union-attr]


def test_junit_no_go_fails_the_verdict_testcase_with_the_failed_rules() -> None:
    report = build_report(SMALL_JUNIT, [scenario("Paid", Status.FAILED, "RC-01", error="E   boom")], target={},
                          generated_at=NOW)  # fmt: skip

    failure = junit_cases(report)["verdict"].find("failure")

    assert failure is not None
    assert failure.get("type") == "NO-GO"
    assert failure.get("message") == (
        "NO-GO: V-02 no item FAIL (blocking or not); V-03 every blocking item PASS (NOT RUN is never PASS;"
        " NOT APPLICABLE and TO WITNESS do not block)"
    )
    assert "  - RC-01 (blocking) FAIL: 1 of 1 scenario failed: 'Paid'" in (failure.text or "")
    assert "  - RC-16 (blocking) NOT RUN: no scenario covers this item yet" in (failure.text or "")


def test_junit_not_applicable_is_skipped_with_its_reason_and_a_flaky_scenario_is_a_property() -> None:
    node = scenario_id("Paid")
    log = RunLog(
        tests={
            node: LoggedTest(node, ("RC-01",), (Attempt(Status.FAILED, 1.0, "Timeout"), Attempt(Status.PASSED, 1.0))),
            "f.py::test_ecwid": LoggedTest(
                "f.py::test_ecwid",
                ("RC-16",),
                (Attempt(Status.SKIPPED, 0, None, "NOT APPLICABLE: needs the simulator"),),
            ),
        }
    )
    report = build_report(SMALL_JUNIT, [scenario("Paid", Status.PASSED, "RC-01")], target={}, run_log=log,
                          generated_at=NOW)  # fmt: skip

    cases = junit_cases(report)
    skipped = cases["RC-16"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "NOT APPLICABLE: 1 of 1 scenario not applicable: needs the simulator"
    assert cases["RC-01"].find("properties/property[@name='flaky']").get("value") == "1"  # type: ignore[union-attr]
    assert "flaky: 'Paid' passed on attempt 2; earlier: Timeout" in (cases["RC-01"].findtext("system-out") or "")
    assert cases["verdict"].find("failure") is None
    assert "NOT APPLICABLE, not counted: RC-16" in (cases["verdict"].findtext("system-out") or "")
