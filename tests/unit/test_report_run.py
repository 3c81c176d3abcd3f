"""Did the feature run complete? pytest's exit codes, a missing Cucumber file and the telling line of the output."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports.run import (
    RunOutcome,
    assess_pytest_run,
    cucumber_problem,
    error_detail,
    exit_code_meaning,
    junit_errors,
)

CONFTEST_IMPORT_ERROR = """\
ImportError while loading conftest '/home/qa/vposlab/features/conftest.py'.
features/conftest.py:18: in <module>
    from playwright.sync_api import Browser, Page, Playwright, sync_playwright
E   ModuleNotFoundError: No module named 'playwright'
"""

COLLECTION_ERROR = """\
==================================== ERRORS ====================================
_________________________ ERROR collecting features/test_scenarios.py _________________________
features/test_scenarios.py:5: in <module>
    scenarios(".")
E   pytest_bdd.exceptions.FeatureError: Step definition outside of a Scenario or a Background.
=========================== short test summary info ============================
ERROR features/test_scenarios.py
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
"""

INTERNAL_ERROR = """\
INTERNALERROR> Traceback (most recent call last):
INTERNALERROR>   File "/x/_pytest/main.py", line 283, in wrap_session
INTERNALERROR> RuntimeError: the plugin exploded
"""


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        (0, "all scenarios passed"),
        (1, "some scenarios failed"),
        (2, "interrupted, e.g. by an error while collecting the features"),
        (3, "pytest internal error"),
        (4, "usage error, e.g. an import error in a conftest.py (a missing package) or a bad option"),
        (5, "no scenario was collected"),
        (-9, "killed by signal 9"),
        (77, "unexpected exit code"),
    ],
)
def test_every_pytest_exit_code_has_a_meaning(code: int, meaning: str) -> None:
    assert exit_code_meaning(code) == meaning


@pytest.mark.parametrize(
    ("output", "detail"),
    [
        (
            CONFTEST_IMPORT_ERROR,
            "import error in /home/qa/vposlab/features/conftest.py: ModuleNotFoundError: No module named 'playwright'",
        ),
        (
            COLLECTION_ERROR,
            "pytest_bdd.exceptions.FeatureError: Step definition outside of a Scenario or a Background.",
        ),
        (INTERNAL_ERROR, "RuntimeError: the plugin exploded"),
        (
            "ERROR: usage: pytest [options]\nERROR: file or directory not found: nowhere\n",
            "ERROR: file or directory not found: nowhere",
        ),
        (
            "Traceback (most recent call last):\n  File 'x'\nOSError: [Errno 28] No space left on device\n",
            "OSError: [Errno 28] No space left on device",
        ),
        ("collected 0 items\n", None),
        ("", None),
    ],
)
def test_the_telling_line_of_the_output_is_picked(output: str, detail: str | None) -> None:
    assert error_detail(output) == detail


def test_a_very_long_detail_is_shortened() -> None:
    detail = error_detail("E   ValueError: " + "x" * 1000)

    assert detail is not None
    assert len(detail) == 300
    assert detail.endswith("...")


def test_cucumber_problem_names_a_missing_or_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "cucumber.json"
    assert cucumber_problem(path) == f"no Cucumber JSON was written ({path} does not exist)"

    path.write_text("  \n", encoding="utf-8")
    assert cucumber_problem(path) == f"the Cucumber JSON is empty ({path})"

    path.write_text("[]", encoding="utf-8")
    assert cucumber_problem(path) is None


def test_cucumber_problem_names_an_unreadable_file(tmp_path: Path) -> None:
    problem = cucumber_problem(tmp_path)  # a directory cannot be read as a file

    assert problem is not None
    assert problem.startswith(f"the Cucumber JSON cannot be read ({tmp_path}:")


@pytest.mark.parametrize("code", [0, 1, None])
def test_exit_0_or_1_with_a_cucumber_file_is_a_complete_run(code: int | None) -> None:
    outcome = assess_pytest_run(code, output="1 passed\n")

    assert outcome == RunOutcome(completed=True, exit_code=code, output_tail="1 passed")


@pytest.mark.parametrize(
    ("code", "output", "problem"),
    [
        (
            4,
            CONFTEST_IMPORT_ERROR,
            "pytest exited with code 4 (usage error, e.g. an import error in a conftest.py (a missing package) or a"
            " bad option): import error in /home/qa/vposlab/features/conftest.py: ModuleNotFoundError: No module named"
            " 'playwright'",
        ),
        (
            2,
            COLLECTION_ERROR,
            "pytest exited with code 2 (interrupted, e.g. by an error while collecting the features):"
            " pytest_bdd.exceptions.FeatureError: Step definition outside of a Scenario or a Background.",
        ),
        (3, INTERNAL_ERROR, "pytest exited with code 3 (pytest internal error): RuntimeError: the plugin exploded"),
        (5, "no tests ran\n", "pytest exited with code 5 (no scenario was collected)"),
        (-11, "", "pytest exited with code -11 (killed by signal 11)"),
    ],
)
def test_other_exit_codes_are_a_run_that_did_not_complete(code: int, output: str, problem: str) -> None:
    outcome = assess_pytest_run(code, output=output)

    assert outcome.completed is False
    assert outcome.problem == problem
    assert outcome.exit_code == code


def test_a_missing_cucumber_file_is_a_run_that_did_not_complete_even_with_exit_0() -> None:
    outcome = assess_pytest_run(0, cucumber_problem="no Cucumber JSON was written (x does not exist)")

    assert (outcome.completed, outcome.problem) == (False, "no Cucumber JSON was written (x does not exist)")


def test_both_problems_are_kept() -> None:
    outcome = assess_pytest_run(4, cucumber_problem="no Cucumber JSON was written", output=CONFTEST_IMPORT_ERROR)

    assert outcome.problem is not None
    assert outcome.problem.startswith("pytest exited with code 4")
    assert outcome.problem.endswith("; no Cucumber JSON was written")


def test_only_the_last_lines_of_the_output_are_kept() -> None:
    outcome = assess_pytest_run(1, output="\n".join(f"line {n}" for n in range(100)), tail_lines=3)

    assert outcome.output_tail == "line 97\nline 98\nline 99"


# ---------------------------------------------------------------- scenarios that errored outside their steps

JUNIT_WITH_ERRORS = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="2">
<testcase classname="features.test_scenarios" name="test_a"><error message="failed on setup with &quot;RuntimeError:
the lab did not start&quot;">E   RuntimeError: the lab did not start</error></testcase>
<testcase classname="features.test_scenarios" name="test_b"><error message="failed on setup with &quot;RuntimeError:
the lab did not start&quot;">E   RuntimeError</error></testcase>
<testcase classname="features.test_scenarios" name="test_c"><failure message="AssertionError">E</failure></testcase>
</testsuite></testsuites>
"""


def test_scenarios_that_errored_in_fixture_setup_are_a_run_problem(tmp_path: Path) -> None:
    junit = tmp_path / "pytest-junit.xml"
    junit.write_text(JUNIT_WITH_ERRORS, encoding="utf-8")

    problem = junit_errors(junit)

    assert problem == (
        "2 scenarios errored outside their steps (fixture setup or teardown), first:"
        ' failed on setup with "RuntimeError: the lab did not start"'
    )
    outcome = assess_pytest_run(1, errors_problem=problem)
    assert (outcome.completed, outcome.problem) == (False, problem)


def test_failures_alone_are_not_errors(tmp_path: Path) -> None:
    junit = tmp_path / "pytest-junit.xml"
    junit.write_text(
        '<testsuites><testsuite><testcase name="a"><failure message="x"/></testcase></testsuite></testsuites>'
    )

    assert junit_errors(junit) is None


@pytest.mark.parametrize("content", [None, "", "<not xml", "<testsuites/>"])
def test_a_missing_or_unreadable_junit_file_reports_no_errors(tmp_path: Path, content: str | None) -> None:
    junit = tmp_path / "pytest-junit.xml"
    if content is not None:
        junit.write_text(content, encoding="utf-8")

    assert junit_errors(junit) is None
