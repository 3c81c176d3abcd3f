"""End to end on a REAL pytest-bdd run: a tiny feature is run in a subprocess with ``--cucumberjson`` and its
output is fed to the collector, the builder and the CLI. This pins down the format pytest-bdd actually writes
(and its quirks: a step interrupted by ``pytest.skip()`` is written as "passed", a scenario skipped before its
first step is not written at all), so a pytest-bdd upgrade that changes it fails here first.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports.build import build_report, write_report
from reports.checklist import load_checklist
from reports.model import ItemStatus, Report, Verdict
from reports.results import ScenarioResult, Status, load_cucumber
from tests.integration.report_helpers import child_env, pytest_ini, run_tiny_suite

SECRET = "tok-9f8e7d6c5b"

INI = pytest_ini(
    "RC-01", "RC-02", "RC-03", "RC-05", mobile="mobile browser emulation", simulator="needs the simulator's control API"
)

CONFTEST = """\
import pytest


def pytest_collection_modifyitems(items):
    # As the real suite does against a provider TEST environment: simulator-only scenarios do not apply.
    for item in items:
        if item.get_closest_marker("simulator"):
            item.add_marker(pytest.mark.skip(reason="needs the simulator's control API"))
"""

FEATURE = """\
@mobile
Feature: Card payments
  As a merchant I want card payments to work before I switch to REAL.

  @RC-01
  Scenario: Paid card
    Given a cart
    When the customer pays
    Then the order is paid

  @RC-05
  Scenario: Declined <script>alert(1)</script>
    Given a cart
    When the bank declines the card
    Then the order is paid

  @RC-02
  Scenario: Skipped inside a step
    Given a cart
    When the bank is not reachable
    Then the order is paid

  @RC-03 @simulator
  Scenario: Needs the simulator
    Given a cart
    Then the order is paid
"""

STEPS = f"""\
import pytest
from pytest_bdd import given, scenarios, then, when

scenarios("payments.feature")


@given("a cart")
def cart():
    pass


@when("the customer pays")
def pays():
    pass


@when("the bank declines the card")
def declines():
    raise AssertionError("bank said no to token {SECRET}")


@when("the bank is not reachable")
def unreachable():
    pytest.skip("bank TEST environment not reachable")


@then("the order is paid")
def paid():
    pass
"""


@pytest.fixture(scope="module")
def cucumber_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the tiny suite once with pytest-bdd and return its Cucumber JSON."""
    work = tmp_path_factory.mktemp("bdd")
    run = run_tiny_suite(work, ini=INI, conftest=CONFTEST, feature=FEATURE, steps=STEPS)
    assert run.returncode == 1, textwrap.indent(run.stdout + run.stderr, "  ")  # 1 = some tests failed
    assert "1 failed, 1 passed, 2 skipped" in run.stdout, run.stdout
    return work / "cucumber.json"


@pytest.fixture(scope="module")
def results(cucumber_json: Path) -> dict[str, ScenarioResult]:
    return {result.name: result for result in load_cucumber(cucumber_json)}


@pytest.fixture(scope="module")
def report(results: dict[str, ScenarioResult]) -> Report:
    return build_report(load_checklist(), results.values(), target={"name": "pytest-bdd sample"}, secrets=[SECRET])


def test_collector_reads_passed_failed_and_skipped_scenarios(results: dict[str, ScenarioResult]) -> None:
    assert {name: r.status for name, r in results.items()} == {
        "Paid card": Status.PASSED,
        "Declined <script>alert(1)</script>": Status.FAILED,
        "Skipped inside a step": Status.SKIPPED,
    }


def test_a_scenario_skipped_before_its_first_step_is_absent_from_pytest_bdd_output(
    results: dict[str, ScenarioResult],
) -> None:
    assert "Needs the simulator" not in results


def test_feature_tags_and_scenario_tags_are_both_kept(results: dict[str, ScenarioResult]) -> None:
    assert results["Paid card"].tags == ("mobile", "RC-01")
    assert results["Paid card"].feature == "Card payments"


def test_steps_carry_status_duration_and_the_failure(results: dict[str, ScenarioResult]) -> None:
    paid = results["Paid card"]
    assert [(s.keyword, s.name) for s in paid.steps] == [
        ("Given", "a cart"),
        ("When", "the customer pays"),
        ("Then", "the order is paid"),
    ]
    assert all(s.duration_s > 0 for s in paid.steps)

    declined = results["Declined <script>alert(1)</script>"]
    assert [s.status for s in declined.steps] == [Status.PASSED, Status.FAILED, Status.SKIPPED]
    assert declined.error is not None
    assert "AssertionError: bank said no" in declined.error

    skipped = results["Skipped inside a step"]
    assert [s.status for s in skipped.steps] == [Status.PASSED, Status.SKIPPED]


def test_items_get_the_statuses_the_rules_promise(report: Report) -> None:
    by_id = {item.id: item for item in report.items}

    assert by_id["RC-01"].status is ItemStatus.PASS
    assert by_id["RC-05"].status is ItemStatus.FAIL
    assert (by_id["RC-02"].status, by_id["RC-02"].reason) == (ItemStatus.NOT_RUN, "1 of 1 scenario did not run")
    assert (by_id["RC-03"].status, by_id["RC-03"].reason) == (ItemStatus.NOT_RUN, "no scenario covers this item yet")
    assert report.verdict is Verdict.NO_GO
    assert report.reasons[0].startswith("RC-05 (blocking) FAIL")


def test_written_files_are_complete_escaped_and_free_of_the_secret(report: Report, tmp_path: Path) -> None:
    paths = write_report(report, tmp_path / "out")

    assert {key: path.name for key, path in paths.items() if key != "history"} == {
        "json": "readiness.json",
        "html": "readiness.html",
        "junit": "readiness-junit.xml",
        "manifest": "manifest.json",
    }
    texts = {key: path.read_text(encoding="utf-8") for key, path in paths.items()}
    for key, text in texts.items():
        assert SECRET not in text, key
    assert "<script>alert(1)</script>" not in texts["html"]
    item_count = len(load_checklist())  # follows the checklist document, whatever its length
    assert len(json.loads(texts["json"])["items"]) == item_count
    suite = ET.fromstring(texts["junit"])  # noqa: S314 - our own output
    assert len(suite.findall("testcase")) == item_count + 1  # and the verdict
    assert len(suite.findall("testcase/failure")) == 2  # RC-05, and the NO-GO verdict


def test_cli_turns_the_real_output_into_a_report(cucumber_json: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "reports", "--cucumber", str(cucumber_json), "--secret-env", "REPORT_TEST_SECRET",
         "--out", str(tmp_path), "--fail-on-no-go"],
        # the report command signs with a key it generates in XDG_CONFIG_HOME
        env=child_env(XDG_CONFIG_HOME=str(tmp_path / "config"), REPORT_TEST_SECRET=SECRET),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip

    assert run.returncode == 1, run.stderr
    assert run.stdout.startswith("verdict: NO-GO\n")
    assert f"html: {tmp_path / 'readiness.html'}" in run.stdout
    assert SECRET not in run.stdout + run.stderr
    assert SECRET not in (tmp_path / "readiness.json").read_text(encoding="utf-8")
