"""The pytest report log on a REAL pytest-bdd run: skip reasons, NOT APPLICABLE, scenarios skipped before their first
step, reruns (flaky).

What was measured (pytest 9, pytest-bdd 9, pytest-rerunfailures 16.7, pytest-reportlog 1.0), and why the report
reads a second file besides the Cucumber JSON:
- the Cucumber JSON has no skip reason at all, and no element for a scenario skipped by a marker;
- under ``--reruns`` pytest-bdd's Cucumber writer raises ``ValueError: Unknown test outcome rerun`` (an
  INTERNALERROR) unless the suite keeps ``rerun`` reports away from it, as ``RERUN_SAFE_CONFTEST`` below does;
- the report log (``--report-log``) has every phase of every attempt: outcome, skip reason, markers (the tags).

The tiny suite's conftest writes the report log the way pytest-reportlog does (``pytest_report_to_serializable``),
so these tests need no plugin; the last test runs the real plugins when they are installed.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from reports.build import build_report
from reports.checklist import load_checklist
from reports.errors import ResultsError
from reports.model import ItemStatus, Report, Verdict
from reports.results import Status, load_cucumber
from reports.run_log import RunLog, load_run_log, parse_run_log
from tests.integration.report_helpers import REPORT_LOG_CONFTEST, pytest_ini, run_tiny_suite

SIM = "NOT APPLICABLE: needs the simulator's control API"

INI = pytest_ini("RC-01", "RC-02", "RC-05", "RC-16", "RC-17", simulator="needs the simulator's control API")

# The feature suite's conventions in small: simulator-only scenarios are NOT APPLICABLE against a provider's TEST
# environment; every item carries its Gherkin names; and a report log written like pytest-reportlog's.
CONFTEST = f"""\
import pytest
from pytest_bdd.scenario import scenario_wrapper_template_registry

{REPORT_LOG_CONFTEST}

def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("simulator"):
            item.add_marker(pytest.mark.skip(reason={SIM!r}))
        template = scenario_wrapper_template_registry.get(getattr(item, "function", None))
        if template is not None:
            item.user_properties += [("feature", template.feature.name), ("scenario", template.name)]
"""

FEATURE = """\
Feature: Card payments
  @RC-01
  Scenario: Paid card
    Given a cart
    Then the order is paid

  @RC-05
  Scenario: Declined card
    Given a cart
    When the bank declines the card

  @RC-16 @simulator
  Scenario: Ecwid answers 503 twice
    Given a cart
    Then the order is paid

  @RC-17
  Scenario: Ecwid keeps failing
    Given a cart
    When Ecwid faults are injected

  @RC-02
  Scenario: 3-D Secure challenge
    Given the bank's TEST environment
"""

STEPS = f"""\
import pytest
from pytest_bdd import given, scenarios, then, when

scenarios("payments.feature")


@given("a cart")
def cart():
    pass


@then("the order is paid")
def paid():
    pass


@when("the bank declines the card")
def declines():
    raise AssertionError("declined")


@when("Ecwid faults are injected")
def faults():
    pytest.skip({SIM!r})


@pytest.fixture
def bank_test():
    pytest.skip("bank TEST environment not reachable")


@given("the bank's TEST environment")
def bank(bank_test):
    pass
"""


def run_suite(
    work: Path, *options: str, conftest: str = CONFTEST, steps: str = STEPS
) -> subprocess.CompletedProcess[str]:
    return run_tiny_suite(work, *options, ini=INI, conftest=conftest, feature=FEATURE, steps=steps)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("runlog")
    run = run_suite(work)
    assert run.returncode == 1, textwrap.indent(run.stdout + run.stderr, "  ")
    assert "1 failed, 1 passed, 3 skipped" in run.stdout, run.stdout
    return work


@pytest.fixture(scope="module")
def log(work: Path) -> RunLog:
    return load_run_log(work / "report-log.jsonl")


@pytest.fixture(scope="module")
def report(work: Path, log: RunLog) -> Report:
    return build_report(load_checklist(), load_cucumber(work / "cucumber.json"), target={}, run_log=log)


def by_item(report: Report, item_id: str) -> tuple[ItemStatus, str]:
    item = next(i for i in report.items if i.id == item_id)
    return item.status, item.reason


def test_the_cucumber_json_has_no_skip_reason_and_no_scenario_skipped_by_a_marker(work: Path) -> None:
    results = {r.name: r for r in load_cucumber(work / "cucumber.json")}

    assert "Ecwid answers 503 twice" not in results  # skipped by the marker: not written at all
    assert results["Ecwid keeps failing"].status is Status.SKIPPED
    assert "NOT APPLICABLE" not in (work / "cucumber.json").read_text(encoding="utf-8")


def test_the_report_log_has_every_test_with_its_tags_names_and_skip_reason(log: RunLog) -> None:
    tests = {t.scenario: t for t in log.tests.values()}

    assert set(tests) == {"Paid card", "Declined card", "Ecwid answers 503 twice", "Ecwid keeps failing",
                          "3-D Secure challenge"}  # fmt: skip
    marker = tests["Ecwid answers 503 twice"]
    assert (marker.tags, marker.feature, marker.final.status) == (("RC-16",), "Card payments", Status.SKIPPED)
    assert marker.final.skip_reason == SIM
    assert tests["Ecwid keeps failing"].final.skip_reason == SIM
    assert tests["3-D Secure challenge"].final.skip_reason == "bank TEST environment not reachable"
    assert tests["Declined card"].final.status is Status.FAILED
    assert (
        tests["Declined card"].final.error is not None
        and "AssertionError: declined" in tests["Declined card"].final.error
    )
    assert all(len(t.attempts) == 1 for t in tests.values())
    assert log.exit_status is None  # the conftest logs test reports only; pytest-reportlog adds SessionFinish


def test_not_applicable_items_come_from_skip_reasons_never_pass_and_do_not_block(report: Report) -> None:
    assert by_item(report, "RC-16") == (ItemStatus.NOT_APPLICABLE, f"1 of 1 scenario not applicable: {SIM[16:]}")
    assert by_item(report, "RC-17") == (ItemStatus.NOT_APPLICABLE, f"1 of 1 scenario not applicable: {SIM[16:]}")
    assert by_item(report, "RC-02") == (
        ItemStatus.NOT_RUN,
        "1 of 1 scenario did not run (skipped: bank TEST environment not reachable)",
    )
    assert by_item(report, "RC-01")[0] is ItemStatus.PASS
    assert by_item(report, "RC-05")[0] is ItemStatus.FAIL
    rc16 = next(i for i in report.items if i.id == "RC-16")
    assert [(s.feature, s.name) for s in rc16.scenarios] == [("Card payments", "Ecwid answers 503 twice")]
    assert report.listed[0] == f"NOT APPLICABLE, not counted: RC-16, RC-17: {SIM[16:]}"
    assert report.verdict is Verdict.NO_GO
    assert all("RC-16" not in line and "RC-17" not in line for line in report.reasons)
    assert "RC-02 (blocking) NOT RUN: 1 of 1 scenario did not run (skipped: bank TEST environment not reachable)" in (
        report.reasons
    )


# ---------------------------------------------------------------- reruns: lines pytest-reportlog 1.0 wrote under
# pytest-rerunfailures 16.7 for a scenario whose first attempt failed (longrepr trimmed to its crash)

RERUN_LINES = [
    {"$report_type": "SessionStart", "pytest_version": "9.2.0"},
    {"$report_type": "TestReport", "nodeid": "test_p.py::test_flaky", "when": "setup", "outcome": "passed",
     "longrepr": None, "keywords": {"test_flaky": 1, "RC-04": 1, "pytestmark": 1, "test_p.py": 1, "": 1},
     "duration": 0.0005, "user_properties": []},
    {"$report_type": "TestReport", "nodeid": "test_p.py::test_flaky", "when": "call", "outcome": "rerun",
     "longrepr": {"reprcrash": {"path": "test_p.py", "lineno": 15,
                                "message": "AssertionError: first attempt fails\nassert 0 >= 1"}},
     "keywords": {"test_flaky": 1, "RC-04": 1}, "duration": 0.0124, "user_properties": []},
    {"$report_type": "TestReport", "nodeid": "test_p.py::test_flaky", "when": "teardown", "outcome": "passed",
     "longrepr": None, "keywords": {"test_flaky": 1, "RC-04": 1}, "duration": 0.0004, "user_properties": []},
    {"$report_type": "TestReport", "nodeid": "test_p.py::test_flaky", "when": "setup", "outcome": "passed",
     "longrepr": None, "keywords": {"test_flaky": 1, "RC-04": 1}, "duration": 0.0005, "user_properties": []},
    {"$report_type": "TestReport", "nodeid": "test_p.py::test_flaky", "when": "call", "outcome": "passed",
     "longrepr": None, "keywords": {"test_flaky": 1, "RC-04": 1}, "duration": 0.0125, "user_properties": []},
    {"$report_type": "TestReport", "nodeid": "test_p.py::test_flaky", "when": "teardown", "outcome": "passed",
     "longrepr": None, "keywords": {"test_flaky": 1, "RC-04": 1}, "duration": 0.0003, "user_properties": []},
    {"$report_type": "SessionFinish", "exitstatus": 0},
]  # fmt: skip


def test_a_rerun_in_the_report_log_is_an_earlier_failed_attempt() -> None:
    log = parse_run_log([json.dumps(line) for line in RERUN_LINES])

    [test] = log.tests.values()
    assert [a.status for a in test.attempts] == [Status.FAILED, Status.PASSED]
    assert test.earlier[0].error == "AssertionError: first attempt fails\nassert 0 >= 1"
    assert test.tags == ("RC-04",)
    assert log.exit_status == 0


def test_a_run_killed_while_writing_the_log_keeps_what_came_before() -> None:
    lines = [json.dumps(line) for line in RERUN_LINES[:4]] + ['{"$report_type": "TestRep']

    [test] = parse_run_log(lines).tests.values()

    assert [a.status for a in test.attempts] == [Status.FAILED]


def test_a_broken_line_in_the_middle_is_an_error_naming_it() -> None:
    lines = [json.dumps(RERUN_LINES[0]), "{oops", json.dumps(RERUN_LINES[1])]

    with pytest.raises(ResultsError, match=r"log:2: not valid JSON"):
        parse_run_log(lines, source="log")


# ---------------------------------------------------------------- the real plugins, when installed

RERUN_SAFE_CONFTEST = CONFTEST.replace(
    "def pytest_runtest_logreport(report):", "def _unused(report):"
) + textwrap.dedent(
    """

    from pytest_bdd import reporting


    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(report):
        # pytest-bdd's Cucumber writer cannot write a "rerun" outcome: keep the earlier attempt out of it (the
        # report log keeps it).
        if report.outcome == "rerun":
            reporting.test_report_context_registry.pop(report, None)
    """
)


def test_the_real_plugins_give_a_flaky_scenario_and_a_cucumber_file_without_internal_error(tmp_path: Path) -> None:
    pytest.importorskip("pytest_rerunfailures")
    pytest.importorskip("pytest_reportlog")
    (tmp_path / "flaky.txt").write_text("0", encoding="utf-8")
    steps_flaky = STEPS.replace(
        '    raise AssertionError("declined")',
        '    from pathlib import Path\n    n = int(Path("flaky.txt").read_text())\n'
        '    Path("flaky.txt").write_text(str(n + 1))\n    assert n >= 1, "first attempt fails"',
    )

    run = run_suite(tmp_path, "--reruns", "1", f"--report-log={tmp_path / 'plugin-log.jsonl'}",
                    conftest=RERUN_SAFE_CONFTEST, steps=steps_flaky)  # fmt: skip

    assert "INTERNALERROR" not in run.stdout + run.stderr
    report = build_report(
        load_checklist(),
        load_cucumber(tmp_path / "cucumber.json"),
        target={},
        run_log=load_run_log(tmp_path / "plugin-log.jsonl"),
    )
    rc05 = next(i for i in report.items if i.id == "RC-05")
    assert rc05.status is ItemStatus.PASS
    assert rc05.scenarios[0].flaky
