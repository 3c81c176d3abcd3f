"""``python -m reports``: exit codes, printed verdict and paths, clear errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reports.checklist import load_checklist
from reports.cli import main

SECRET = "hunter2-secret"


@pytest.fixture(autouse=True)
def signing_key_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command signs with the installation's key: here one generated in a temporary config folder."""
    home = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("VPOSLAB_SIGNING_KEY", raising=False)
    return home


def scenario(name: str, status: str, tag: str) -> dict[str, Any]:
    result: dict[str, Any] = {"status": status, "duration": 1_000_000}
    if status == "failed":
        result["error_message"] = f"E   AssertionError: refused {SECRET}"
    return {
        "keyword": "Scenario",
        "id": "test_x",
        "name": name,
        "line": 3,
        "description": "",
        "tags": [{"name": tag, "line": 2}],
        "type": "scenario",
        "steps": [{"keyword": "Given", "name": "a cart", "line": 4, "match": {"location": ""}, "result": result}],
    }


def cucumber(tmp_path: Path, *scenarios: dict[str, Any]) -> Path:
    path = tmp_path / "cucumber.json"
    feature = {"keyword": "Feature", "uri": "f.feature", "name": "Payments", "tags": [], "elements": list(scenarios)}
    path.write_text(json.dumps([feature]), encoding="utf-8")
    return path


def all_passing(tmp_path: Path) -> Path:
    return cucumber(tmp_path, *(scenario(f"s{item.id}", "passed", item.id) for item in load_checklist()))


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_go_prints_the_verdict_the_paths_and_the_signing_key_and_exits_0(
    tmp_path: Path, signing_key_home: Path
) -> None:
    out = tmp_path / "out"

    result = invoke("--cucumber", str(all_passing(tmp_path)), "--out", str(out), "--fail-on-no-go")

    assert result.exit_code == 0, result.output
    key_file = signing_key_home / "vposlab" / "signing-key.pem"
    fingerprint = json.loads((out / "signature.json").read_text(encoding="utf-8"))["fingerprint"]
    assert result.stdout.splitlines() == [
        "verdict: GO",
        f"html: {out / 'readiness.html'}",
        f"json: {out / 'readiness.json'}",
        f"junit: {out / 'readiness-junit.xml'}",
        f"manifest: {out / 'manifest.json'}",
        f"signature: {out / 'signature.json'}",
        f"signed by {fingerprint} ({key_file})",
    ]
    assert json.loads((out / "readiness.json").read_text(encoding="utf-8"))["verdict"] == "GO"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_no_sign_leaves_the_report_unsigned(tmp_path: Path, signing_key_home: Path) -> None:
    out = tmp_path / "out"

    result = invoke("--cucumber", str(all_passing(tmp_path)), "--out", str(out), "--no-sign")

    assert result.exit_code == 0, result.output
    assert (out / "manifest.json").is_file()
    assert not (out / "signature.json").exists()
    assert not (signing_key_home / "vposlab").exists()


def test_a_second_run_prints_what_changed_since_the_first(tmp_path: Path) -> None:
    out = tmp_path / "out"
    invoke("--cucumber", str(all_passing(tmp_path)), "--out", str(out))
    failing = tmp_path / "second"
    failing.mkdir()

    result = invoke("--cucumber", str(cucumber(failing, scenario("Declined", "failed", "RC-05"))), "--out", str(out))

    assert result.exit_code == 0, result.output
    assert "verdict GO -> NO-GO" in result.stdout
    assert "  newly failing: RC-05 PASS -> FAIL (1 of 1 scenario failed: 'Declined')" in result.stdout
    assert "  newly NOT RUN: RC-01 PASS -> NOT RUN (no scenario covers this item yet)" in result.stdout
    assert len(list((out / "history").glob("*.json"))) == 2


def test_an_unreadable_previous_run_is_said_and_the_report_is_still_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "history").mkdir(parents=True)
    broken = out / "history" / "20250101T000000Z.json"
    broken.write_text("{cut", encoding="utf-8")

    result = invoke("--cucumber", str(all_passing(tmp_path)), "--out", str(out))

    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "warning: not compared with the previous run: [history_invalid]"
        f" {broken}: the previous report is not valid JSON (line 1, column 2: Expecting property name enclosed in"
        " double quotes)\n"
    )
    assert json.loads((out / "readiness.json").read_text(encoding="utf-8"))["comparison"] is None


def test_no_go_exits_0_by_default(tmp_path: Path) -> None:
    path = cucumber(tmp_path, scenario("Declined", "failed", "RC-05"))

    result = invoke("--cucumber", str(path), "--out", str(tmp_path / "out"))

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "verdict: NO-GO\n  V-02 no item FAIL (blocking or not): failed\n    - RC-05 (blocking) FAIL"
    )


def test_no_go_exits_1_with_fail_on_no_go(tmp_path: Path) -> None:
    path = cucumber(tmp_path, scenario("Declined", "failed", "RC-05"))

    result = invoke("--cucumber", str(path), "--out", str(tmp_path / "out"), "--fail-on-no-go")

    assert result.exit_code == 1


def test_missing_cucumber_file_writes_a_no_go_report_saying_the_run_did_not_complete(tmp_path: Path) -> None:
    absent = tmp_path / "absent.json"

    result = invoke("--cucumber", str(absent), "--out", str(tmp_path / "out"))

    assert result.exit_code == 0
    problem = f"no Cucumber JSON was written ({absent} does not exist)"
    assert result.stderr == f"warning: the feature run did not complete: {problem}\n"
    assert result.stdout.startswith(
        f"verdict: NO-GO\n  V-01 the feature run completed: failed\n    - the feature run did not complete: {problem}\n"
    )
    data = json.loads((tmp_path / "out" / "readiness.json").read_text(encoding="utf-8"))
    assert data["run"]["completed"] is False
    assert {item["status"] for item in data["items"] if not item["witness"]} == {"NOT RUN"}
    assert {item["reason"] for item in data["items"] if not item["witness"]} == {
        f"the feature run did not complete: {problem}"
    }


@pytest.mark.parametrize("code", ["2", "3", "4", "-9"])
def test_a_pytest_exit_code_of_a_broken_run_makes_the_report_say_so(tmp_path: Path, code: str) -> None:
    path = cucumber(tmp_path, *(scenario(f"s{item.id}", "passed", item.id) for item in load_checklist()))

    result = invoke(
        "--cucumber", str(path), "--pytest-exit-code", code, "--out", str(tmp_path / "o"), "--fail-on-no-go"
    )

    assert result.exit_code == 1
    assert result.stdout.startswith(
        "verdict: NO-GO\n  V-01 the feature run completed: failed\n"
        f"    - the feature run did not complete: pytest exited with code {code}"
    )
    data = json.loads((tmp_path / "o" / "readiness.json").read_text(encoding="utf-8"))
    assert (data["run"]["completed"], data["run"]["exit_code"]) == (False, int(code))


@pytest.mark.parametrize("code", ["0", "1"])
def test_a_pytest_exit_code_of_a_complete_run_changes_nothing(tmp_path: Path, code: str) -> None:
    result = invoke("--cucumber", str(all_passing(tmp_path)), "--pytest-exit-code", code, "--out", str(tmp_path / "o"))

    assert result.exit_code == 0
    assert result.stdout.startswith("verdict: GO\n")


def test_a_non_numeric_pytest_exit_code_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("--cucumber", str(all_passing(tmp_path)), "--pytest-exit-code", "four", "--out", "x")

    assert result.exit_code == 2
    assert "is not a valid integer" in result.stderr


def test_target_evidence_and_secrets_end_up_in_the_report_redacted(tmp_path: Path) -> None:
    target = tmp_path / "target.json"
    target.write_text(json.dumps({"name": "simulator", "gateway_url": f"http://gw/?k={SECRET}"}), encoding="utf-8")
    evidence = tmp_path / "evidence.jsonl"
    evidence.write_text(
        json.dumps(
            {
                "scenario_id": "test_x",
                "feature": "Payments",
                "scenario": "Declined",
                "kind": "note",
                "label": "n",
                "text": SECRET,
            }
        )
        + "\n",
        encoding="utf-8",
    )
    path = cucumber(tmp_path, scenario("Declined", "failed", "RC-05"))
    out = tmp_path / "out"

    result = invoke(
        "--cucumber", str(path), "--evidence", str(evidence), "--target-json", str(target),
        "--secret", SECRET, "--out", str(out),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    data = json.loads((out / "readiness.json").read_text(encoding="utf-8"))
    assert data["target"] == {"name": "simulator", "gateway_url": "http://gw/?k=***"}
    rc05 = next(item for item in data["items"] if item["id"] == "RC-05")
    assert rc05["scenarios"][0]["evidence"][0]["text"] == "***"
    for name in ("readiness.json", "readiness.html", "readiness-junit.xml"):
        assert SECRET not in (out / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("filename", "content", "option", "code"),
    [
        ("cucumber.json", "{broken", "--cucumber", "results_invalid"),
        ("cucumber.json", '{"not": "a list"}', "--cucumber", "results_invalid"),
        ("evidence.jsonl", '{"feature": "F"}\n', "--evidence", "evidence_invalid"),
        ("target.json", "[1, 2]", "--target-json", "target_invalid"),
        ("target.json", "{oops", "--target-json", "target_invalid"),
        ("checklist.md", "# no table", "--checklist", "checklist_invalid"),
    ],
)
def test_bad_input_is_a_clear_error_with_its_code_and_exit_2(
    tmp_path: Path, filename: str, content: str, option: str, code: str
) -> None:
    bad = tmp_path / filename
    bad.write_text(content, encoding="utf-8")
    args = ["--cucumber", str(bad if option == "--cucumber" else all_passing(tmp_path)), "--out", str(tmp_path / "o")]
    if option != "--cucumber":
        args += [option, str(bad)]

    result = invoke(*args)

    assert result.exit_code == 2
    assert result.stderr.startswith(f"error [{code}]: {bad}")
    assert "Traceback" not in result.output
    assert not (tmp_path / "o" / "readiness.json").exists()


def test_error_messages_are_redacted(tmp_path: Path) -> None:
    secret_dir = tmp_path / SECRET
    secret_dir.mkdir()
    bad = secret_dir / "cucumber.json"
    bad.write_text("{broken", encoding="utf-8")

    result = invoke("--cucumber", str(bad), "--secret", SECRET, "--out", str(tmp_path / "o"))

    assert result.exit_code == 2
    assert SECRET not in result.stderr
    assert "***" in result.stderr


def test_missing_required_options_exit_2() -> None:
    assert invoke().exit_code == 2


def test_unset_secret_env_var_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPORTS_NO_SUCH_VAR", raising=False)

    result = invoke("--cucumber", str(all_passing(tmp_path)), "--secret-env", "REPORTS_NO_SUCH_VAR", "--out", "x")

    assert result.exit_code == 2
    assert "REPORTS_NO_SUCH_VAR is not set" in result.stderr
