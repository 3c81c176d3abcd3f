"""``vposlab check`` when the feature run cannot start or breaks off, and with a ``-k`` filter.

Each test runs the real command on a small feature folder of its own (``--features``, hidden), so the child pytest
really fails the way a new user's would: a missing package imported by a conftest, a test module that cannot be
imported, a filter that selects nothing. No lab is started: these suites need none.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lab.cli import (
    LAB_NOTES,
    _evidence,
    _results,
    declared_coverage,
    main,
    run_features,
    run_outcome,
)
from reports import RunOutcome, verify

MISSING = "no_such_package_for_vposlab_tests"

FEATURE = """\
Feature: Payments
  @RC-01
  Scenario: Paid
    Given a step that passes

  @RC-05
  Scenario Outline: Declined
    Given a step that passes with "<card>"

    Examples:
      | card |
      | 9995 |
      | 0069 |
"""

STEPS = """\
from pathlib import Path

from pytest_bdd import given, parsers, scenarios

scenarios(str(Path(__file__).parent / "payments.feature"))


@given("a step that passes")
def passes():
    pass


@given(parsers.parse('a step that passes with "{card}"'))
def passes_with(card):
    pass
"""


def suite(tmp_path: Path, *, conftest: str = "", steps: str = STEPS) -> Path:
    features = tmp_path / "features"
    features.mkdir()
    (features / "payments.feature").write_text(FEATURE, encoding="utf-8")
    (features / "test_payments.py").write_text(steps, encoding="utf-8")
    if conftest:
        (features / "conftest.py").write_text(conftest, encoding="utf-8")
    return features


@pytest.fixture(autouse=True)
def own_signing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each run signs with a key generated in the test's folder, never the installation's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("VPOSLAB_SIGNING_KEY", raising=False)


def check(tmp_path: Path, features: Path, *args: str) -> tuple[Result, Path]:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["check", "--out", str(out), "--features", str(features), *args])
    return result, out


def report_of(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "readiness.json").read_text(encoding="utf-8"))
    return data


def item(data: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next(entry for entry in data["items"] if entry["id"] == item_id)


# ---------------------------------------------------------------- the run cannot start or breaks off


def test_a_missing_package_in_the_conftest_gives_a_no_go_report_that_says_so(tmp_path: Path) -> None:
    features = suite(tmp_path, conftest=f"import {MISSING}\n")

    result, out = check(tmp_path, features)

    assert result.exit_code == 2, result.output
    assert "THE FEATURE RUN DID NOT COMPLETE" in result.stderr
    data = report_of(out)
    problem = data["run"]["problem"]
    assert data["run"]["completed"] is False
    assert data["run"]["exit_code"] == 4
    assert problem.startswith("pytest exited with code 4 (usage error")
    assert f"ModuleNotFoundError: No module named '{MISSING}'" in problem
    assert "conftest.py: ModuleNotFoundError" in problem
    assert data["verdict"] == "NO-GO"
    assert data["reasons"][0] == f"the feature run did not complete: {problem}"
    assert f"No module named '{MISSING}'" in data["run"]["output_tail"]
    # Items with scenarios did not run because of the run; items without scenarios are uncovered, truly.
    assert item(data, "RC-01")["reason"] == f"the feature run did not complete: {problem}"
    assert item(data, "RC-05")["reason"] == f"the feature run did not complete: {problem}"
    assert item(data, "RC-02")["reason"] == "no scenario covers this item yet"
    html = (out / "readiness.html").read_text(encoding="utf-8")
    assert '<section class="runproblem" id="run-problem">' in html
    assert "The feature run did not complete" in html


def test_a_test_module_that_cannot_be_imported_gives_a_no_go_report_that_says_so(tmp_path: Path) -> None:
    features = suite(tmp_path, steps=f"import {MISSING}\n" + STEPS)

    result, out = check(tmp_path, features)

    assert result.exit_code == 2, result.output
    data = report_of(out)
    assert data["run"]["exit_code"] == 2
    assert data["run"]["problem"].startswith("pytest exited with code 2 (interrupted")
    assert f"No module named '{MISSING}'" in data["run"]["problem"]
    assert item(data, "RC-01")["status"] == "NOT RUN"
    assert item(data, "RC-01")["reason"].startswith("the feature run did not complete: ")
    assert all("no scenario covers" not in item(data, i)["reason"] for i in ("RC-01", "RC-05"))


def test_scenarios_that_error_before_their_first_step_make_a_run_that_did_not_complete(tmp_path: Path) -> None:
    conftest = textwrap.dedent(
        """\
        import pytest


        @pytest.fixture(autouse=True)
        def lab():
            raise RuntimeError("the lab did not start")
        """
    )
    features = suite(tmp_path, conftest=conftest)

    result, out = check(tmp_path, features)

    assert result.exit_code == 2, result.output
    data = report_of(out)
    assert data["run"]["completed"] is False
    assert data["run"]["problem"] == (
        "3 scenarios errored outside their steps (fixture setup or teardown), first:"
        ' failed on setup with "RuntimeError: the lab did not start"'
    )
    assert item(data, "RC-01")["reason"] == f"the feature run did not complete: {data['run']['problem']}"


def test_a_feature_run_that_cannot_start_is_reported_as_such(tmp_path: Path) -> None:
    code, output, error = run_features(["/nonexistent/python", "-m", "pytest"], env={}, cwd=tmp_path)

    assert (code, output) == (None, "")
    assert error is not None
    assert error.startswith("FileNotFoundError: ")
    outcome = run_outcome(code, output, error, tmp_path / "cucumber.json", tmp_path / "junit.xml")
    assert outcome.completed is False
    assert outcome.problem == f"the feature run could not start: {error}"


def test_a_cucumber_file_cut_short_is_a_run_that_broke_off(tmp_path: Path) -> None:
    cucumber = tmp_path / "cucumber.json"
    cucumber.write_text('[{"name": "Payments", "elements": [', encoding="utf-8")

    results, outcome = _results(cucumber, RunOutcome(completed=True, exit_code=0))

    assert results == ()
    assert outcome.completed is False
    assert outcome.problem is not None
    assert outcome.problem.startswith(f"the Cucumber JSON cannot be read: {cucumber}: not valid JSON")


def test_broken_evidence_lines_leave_the_report_without_evidence_and_it_says_so(tmp_path: Path) -> None:
    path = tmp_path / "evidence.jsonl"
    path.write_text('{"kind": "note"}\n', encoding="utf-8")
    target: dict[str, Any] = {}

    assert _evidence(path, target) == ()
    assert target["evidence"].startswith("not shown: ")


# ---------------------------------------------------------------- -k


def test_a_filter_that_selects_nothing_is_an_error_and_writes_no_report(tmp_path: Path) -> None:
    features = suite(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "readiness.json").write_text("{}", encoding="utf-8")  # an earlier run's

    result, out = check(tmp_path, features, "-k", "no_such_scenario")

    assert result.exit_code == 2
    assert "-k 'no_such_scenario' selects no scenario: nothing ran and no report was written" in result.output
    assert not (out / "readiness.json").exists()
    assert not (out / "readiness.html").exists()


def test_a_filter_that_is_not_an_expression_is_an_error(tmp_path: Path) -> None:
    result, out = check(tmp_path, suite(tmp_path), "-k", "paid and (")

    assert result.exit_code == 2
    assert "-k 'paid and (' is not a valid pytest -k expression" in result.output
    assert not (out / "readiness.json").exists()


def test_a_partial_run_reports_the_scenarios_it_left_out_as_not_run(tmp_path: Path) -> None:
    result, out = check(tmp_path, suite(tmp_path), "--no-fail", "-k", "9995 or paid")

    assert result.exit_code == 0, result.output
    data = report_of(out)
    assert data["run"]["completed"] is True
    assert data["target"]["scenario_filter"] == "9995 or paid"
    assert (item(data, "RC-01")["status"], item(data, "RC-01")["reason"]) == ("PASS", "1 of 1 scenario passed")
    left_out = ("NOT RUN", "1 of 2 scenarios did not run (not selected by -k '9995 or paid')")
    assert (item(data, "RC-05")["status"], item(data, "RC-05")["reason"]) == left_out


# ---------------------------------------------------------------- lab limits, the witnessed canary


def test_the_report_says_which_items_are_checked_only_as_far_as_the_lab_allows(tmp_path: Path) -> None:
    result, out = check(tmp_path, suite(tmp_path), "--no-fail")

    assert result.exit_code == 0, result.output
    data = report_of(out)
    for item_id in ("RC-34", "RC-35"):
        assert item(data, item_id)["note"] == LAB_NOTES[item_id]
        assert item(data, item_id)["note"].startswith("checked as far as the lab allows: ")
    assert item(data, "RC-01")["note"] is None
    canary = item(data, "RC-37")
    assert (canary["status"], canary["witness"]) == ("TO WITNESS", True)
    assert all("RC-37" not in reason for reason in data["reasons"])


# ---------------------------------------------------------------- declared coverage


def test_declared_coverage_counts_every_example_under_every_inherited_tag(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "a.feature").write_text(
        textwrap.dedent(
            """\
            @RC-01
            Feature: A
              Scenario: one
                Given x

              Rule: refunds
                @RC-19
                Scenario Outline: two
                  Given <n>

                  Examples:
                    | n |
                    | 1 |
                    | 2 |

                  @RC-20
                  Examples:
                    | n |
                    | 3 |
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "b.feature").write_text("Feature: B\n  @RC-01 @desktop\n  Scenario: s\n    Given x\n", "utf-8")

    assert declared_coverage(tmp_path) == {"RC-01": 5, "RC-19": 3, "RC-20": 1, "desktop": 1}


def test_declared_coverage_of_the_project_features_follows_their_tags() -> None:
    counts = declared_coverage(Path(__file__).resolve().parents[2] / "features")

    assert counts is not None
    assert counts["RC-05"] >= 5  # the decline outline's rows
    assert "RC-02" not in counts or counts["RC-02"] >= 1


@pytest.mark.parametrize("text", ["Feature: broken\n  Scenario: x\n    Given a\n  | not | a | table |\n@@@"])
def test_declared_coverage_is_unknown_when_a_feature_file_cannot_be_parsed(tmp_path: Path, text: str) -> None:
    (tmp_path / "bad.feature").write_text(text, encoding="utf-8")

    assert declared_coverage(tmp_path) is None


def test_declared_coverage_of_a_folder_without_features_is_empty(tmp_path: Path) -> None:
    assert declared_coverage(tmp_path) == {}


# ---------------------------------------------------------------- planted secrets and the log level


CHILD_ENV_CONFTEST = """\
import json
import os
from pathlib import Path

def pytest_sessionstart(session):
    seen = {"secrets": json.loads(os.environ["VPOSLAB_LAB_SECRETS"]), "level": os.environ["VPOSLAB_LOG_LEVEL"]}
    Path(os.environ["VPOSLAB_REPORT_DIR"], "child-env.json").write_text(json.dumps(seen))
"""


def test_planted_secrets_and_the_log_level_reach_the_feature_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VPOSLAB_LAB_SECRETS", json.dumps({"ecwid_token": "secret_CANARY_token_1"}))
    result, out = check(tmp_path, suite(tmp_path, conftest=CHILD_ENV_CONFTEST), "--no-fail", "--log-level", "debug")

    assert result.exit_code == 0, result.output
    seen = json.loads((out / "child-env.json").read_text(encoding="utf-8"))
    assert seen["level"] == "DEBUG"
    assert seen["secrets"]["ecwid_token"] == "secret_CANARY_token_1"
    assert seen["secrets"]["client_secret"]  # the ones not planted are generated
    assert "secret_CANARY_token_1" not in (out / "readiness.json").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("planted", "said"),
    [
        ('{"no_such_secret": "abcdefgh12"}', "unknown lab secret(s): no_such_secret"),
        ('{"ecwid_token": "short"}', "at least 8 characters"),
        ("[1, 2]", "must be a JSON object"),
        ("{not json", "is not usable"),
    ],
)
def test_unusable_planted_secrets_are_a_usage_error_before_anything_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, planted: str, said: str
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "readiness.json").write_text("{}", encoding="utf-8")  # an earlier run's, kept
    monkeypatch.setenv("VPOSLAB_LAB_SECRETS", planted)

    result, out = check(tmp_path, suite(tmp_path))

    assert result.exit_code == 2
    assert said in result.output
    assert (out / "readiness.json").read_text(encoding="utf-8") == "{}"


# ---------------------------------------------------------------- choosing scenarios by item, choosing the target


def test_item_selects_the_scenarios_tagged_with_it(tmp_path: Path) -> None:
    result, out = check(tmp_path, suite(tmp_path), "--no-fail", "--item", "rc-01")

    assert result.exit_code == 0, result.output
    data = report_of(out)
    assert data["target"]["items_selected"] == ["rc-01"]
    assert item(data, "RC-01")["status"] == "PASS"
    assert item(data, "RC-05")["status"] == "NOT RUN"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--item", "RC-99"), "--item 'RC-99' is not a checklist item"),
        (("--item", "RC-02"), "--item RC-02 selects no scenario"),
        (("--item", "RC-01", "-k", "declined"), "-k 'declined' and --item RC-01 selects no scenario"),
        (("--gateway-url", "http://127.0.0.1:9"), "--gateway-url and --simulator-url go together"),
        (
            ("--gateway-url", "http://127.0.0.1:9", "--simulator-url", "http://127.0.0.1:8", "--gateway", "other"),
            "payment_url and callback_url must be given",
        ),
        (("--gateway-log", __file__), "name the files of a gateway at --gateway-url"),
        (("--gateway-env-file", "/nonexistent/gateway.env"), "does not exist"),
        (
            (
                "--gateway-url",
                "http://127.0.0.1:9",
                "--simulator-url",
                "http://127.0.0.1:8",
                "--gateway",
                "other",
                "--gateway-log",
                __file__,
            ),
            "gateway_env_file and gateway_logs are our gateway's",
        ),
    ],
)
def test_a_selection_or_target_that_cannot_run_is_a_usage_error(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    result, out = check(tmp_path, suite(tmp_path), *args)

    assert result.exit_code == 2
    assert said in result.output
    assert not (out / "readiness.json").exists()


def test_a_target_file_reaches_the_features_and_the_report(tmp_path: Path) -> None:
    target = tmp_path / "target.toml"
    target.write_text(
        'name = "staging"\nkind = "simulator"\ngateway = "vposlab"\n'
        'gateway_url = "http://127.0.0.1:8000"\nsimulator_url = "http://127.0.0.1:8101"\n',
        encoding="utf-8",
    )
    conftest = """\
import json
import os
from pathlib import Path

def pytest_sessionstart(session):
    Path(os.environ["VPOSLAB_REPORT_DIR"], "child-target.json").write_text(os.environ["VPOSLAB_TARGET"])
"""
    result, out = check(tmp_path, suite(tmp_path, conftest=conftest), "--no-fail", "--target", str(target))

    assert result.exit_code == 0, result.output
    seen = json.loads((out / "child-target.json").read_text(encoding="utf-8"))
    assert (seen["name"], seen["kind"], seen["gateway_url"]) == ("staging", "simulator", "http://127.0.0.1:8000")
    assert report_of(out)["target"]["name"] == "staging"  # the features wrote no target.json: the chosen one


def test_the_gateway_s_own_files_reach_the_features_as_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gw").mkdir()
    (tmp_path / "gw" / "gateway.env").write_text("VPOSLAB_PROVIDER_MODE=TEST\n", encoding="utf-8")
    (tmp_path / "gw" / "web.log").write_text("", encoding="utf-8")
    conftest = """\
import os
from pathlib import Path

def pytest_sessionstart(session):
    Path(os.environ["VPOSLAB_REPORT_DIR"], "child-target.json").write_text(os.environ["VPOSLAB_TARGET"])
"""
    monkeypatch.chdir(tmp_path / "gw")
    urls = ("--gateway-url", "http://127.0.0.1:9", "--simulator-url", "http://127.0.0.1:8")
    files = ("--gateway-env-file", "gateway.env", "--gateway-log", "web.log")
    features = suite(tmp_path, conftest=conftest)
    result, out = check(tmp_path, features, "--no-fail", *urls, *files)

    assert result.exit_code == 0, result.output
    seen = json.loads((out / "child-target.json").read_text(encoding="utf-8"))
    assert seen["gateway_env_file"] == str(tmp_path / "gw" / "gateway.env")
    assert seen["gateway_logs"] == [str(tmp_path / "gw" / "web.log")]

    target_file = tmp_path / "target.toml"
    target_file.write_text('name = "x"\nkind = "lab"\n', encoding="utf-8")
    refused, _ = check(tmp_path, features, "--target", str(target_file), "--gateway-log", "web.log")
    assert refused.exit_code == 2
    assert "name the gateway's files in the target file" in refused.output


# ---------------------------------------------------------------- exit codes, signing, history


def test_a_no_go_run_exits_1_unless_no_fail_and_its_folder_is_signed_and_verifiable(tmp_path: Path) -> None:
    result, out = check(tmp_path, suite(tmp_path))

    assert result.exit_code == 1, result.output  # every scenario passed, but most items have none: NO-GO
    assert "verdict: NO-GO" in result.output
    assert "signed with key" in result.output
    checked = verify(out)
    assert checked.intact, checked.problems
    data = report_of(out)
    assert data["reproducibility"]["seed"] and "--seed" in data["reproducibility"]["command"]

    features = tmp_path / "features"
    again = CliRunner().invoke(main, ["check", "--out", str(out), "--features", str(features), "--no-fail"])
    assert again.exit_code == 0, again.output
    assert "compared with the run of" in again.output


def test_the_default_output_folder_is_the_checkout_s_or_else_the_current_folder_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lab.cli as cli

    assert cli.default_out_dir() == cli.PROJECT_ROOT / "reports" / "out"
    monkeypatch.setattr(cli, "PROJECT_ROOT", tmp_path / "site-packages")
    monkeypatch.chdir(tmp_path)
    assert cli.default_out_dir() == tmp_path / "reports" / "out"
