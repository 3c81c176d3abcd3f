"""``verify`` and ``vposlab verify``: every kind of edit made to a report folder after its run is named.

Each test writes a real, signed report folder (screenshots, evidence lines, Cucumber JSON, the report files,
manifest, signature), edits one thing the way someone might (a screenshot, the verdict, an item's finding, a file
added or removed, the manifest, the signature, everything re-sealed with another key) and checks that verify says
exactly what. The signing key lives in a temporary ``XDG_CONFIG_HOME``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from reports.build import build_report, write_report
from reports.checklist import load_checklist
from reports.errors import NotAReportError, SigningError
from reports.evidence import load_evidence
from reports.integrity import write_manifest
from reports.results import load_cucumber
from reports.signing import SigningKey, load_signing_key, sign
from reports.verify import verify
from reports.verify_cli import verify as verify_command

NOW = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
PAID = "features/test_scenarios.py::test_paid"
DECLINED = "features/test_scenarios.py::test_declined"


def cucumber_element(node: str, name: str, tag: str, status: str) -> dict[str, Any]:
    result: dict[str, Any] = {"status": status, "duration": 1_500_000_000}
    if status == "failed":
        result["error_message"] = "E   AssertionError: declined"
    return {
        "keyword": "Scenario",
        "id": node,
        "name": name,
        "line": 3,
        "description": "",
        "tags": [{"name": tag, "line": 2}],
        "type": "scenario",
        "steps": [{"keyword": "Given", "name": "a cart", "line": 4, "match": {"location": ""}, "result": result}],
    }


def evidence_line(node: str, name: str, **record: Any) -> str:
    return json.dumps({"scenario_id": node, "feature": "Card payments", "scenario": name, **record})


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("VPOSLAB_SIGNING_KEY", raising=False)
    return home


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A signed report folder as a run leaves it."""
    out = tmp_path / "out"
    shots = out / "evidence" / "paid"
    shots.mkdir(parents=True)
    Image.new("RGB", (1280, 720), (250, 250, 250)).save(shots / "01-store.png")
    Image.new("RGB", (1280, 900), (30, 120, 200)).save(shots / "02-bank.png")
    (out / "cucumber.json").write_text(
        json.dumps(
            [
                {
                    "keyword": "Feature",
                    "uri": "features/card_payment.feature",
                    "name": "Card payments",
                    "tags": [],
                    "elements": [
                        cucumber_element(PAID, "Paid", "RC-01", "passed"),
                        cucumber_element(DECLINED, "Declined", "RC-05", "failed"),
                    ],
                }
            ]
        ),
        encoding="utf-8",
    )
    (out / "evidence.jsonl").write_text(
        "\n".join(
            [
                evidence_line(PAID, "Paid", kind="screenshot", label="store", path="evidence/paid/01-store.png"),
                evidence_line(PAID, "Paid", kind="screenshot", label="bank page", path="evidence/paid/02-bank.png"),
                evidence_line(PAID, "Paid", kind="journal", label="journal", text="register.do -> 200"),
                evidence_line(
                    PAID,
                    "Paid",
                    kind="timeline",
                    label="payment 1003/A1",
                    entries=[
                        {"at": "2025-01-31T11:59:58Z", "state": "registered"},
                        {"at": "2025-01-31T11:59:59Z", "state": "paid", "from": "registered"},
                    ],
                ),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    report = build_report(
        load_checklist(),
        load_cucumber(out / "cucumber.json"),
        target={"name": "local lab", "gateway_url": "http://127.0.0.1:5000"},
        evidence=load_evidence(out / "evidence.jsonl"),
        generated_at=NOW,
    )
    write_report(report, out, signing_key=load_signing_key())
    return out


def kinds(folder: Path, **kwargs: Any) -> list[tuple[str, str]]:
    return [(p.kind, p.subject) for p in verify(folder, **kwargs).problems]


def edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def reseal(folder: Path, key: SigningKey) -> None:
    """What someone who edited the report would do to hide it: recompute the manifest and sign again."""
    _, manifest = write_manifest(folder)
    document = json.loads((folder / "readiness.json").read_text(encoding="utf-8"))
    signed = {
        "report": "readiness.json",
        "schema_version": document["schema_version"],
        "verdict": document["verdict"],
        "generated_at": document["generated_at"],
        "failed_rules": document["failed_rules"],
        "manifest": "manifest.json",
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
    }
    (folder / "signature.json").write_text(json.dumps(sign(key, signed)), encoding="utf-8")


def public_pem(config_home: Path) -> bytes:
    return load_signing_key().public_pem.encode("ascii")


# ---------------------------------------------------------------- intact


def test_a_report_as_written_is_intact_and_names_its_signer(folder: Path, config_home: Path) -> None:
    result = verify(folder, trusted_public_key=public_pem(config_home))

    assert result.problems == []
    assert result.intact
    assert result.signer == load_signing_key().fingerprint
    assert result.verdict == "NO-GO"
    assert result.lines()[0].startswith(f"INTACT: {folder} (verdict NO-GO, signed by SHA256:")


def test_the_readiness_json_path_works_as_well_as_the_folder(folder: Path) -> None:
    assert verify(folder / "readiness.json").intact


def test_without_a_trusted_key_the_signature_is_checked_and_a_note_says_by_whom(folder: Path) -> None:
    result = verify(folder)

    assert result.intact
    assert result.notes == [
        f"note: signature valid, made by {result.signer}; not compared with a trusted key"
        " (give the signer's public key to check who signed)"
    ]


def test_later_runs_kept_in_history_are_not_edits(folder: Path) -> None:
    (folder / "history" / "20990101T000000Z.json").write_text("{}", encoding="utf-8")

    assert verify(folder).intact


# ---------------------------------------------------------------- each kind of file


@pytest.mark.parametrize(
    "name",
    [
        "evidence/paid/02-bank.png",
        "evidence.jsonl",
        "cucumber.json",
        "readiness.html",
        "readiness-junit.xml",
    ],
)
def test_an_edited_file_of_the_run_is_named(folder: Path, name: str) -> None:
    with (folder / name).open("ab") as handle:
        handle.write(b"\n<!-- edited -->")

    assert ("file_changed", name) in kinds(folder)


def test_an_edited_screenshot_is_named_by_the_manifest_and_by_its_evidence_reference(folder: Path) -> None:
    Image.new("RGB", (1280, 900), (200, 30, 30)).save(folder / "evidence" / "paid" / "02-bank.png")

    found = kinds(folder)

    assert ("file_changed", "evidence/paid/02-bank.png") in found
    assert ("evidence_hash", "E-002 evidence/paid/02-bank.png") in found


def test_an_added_file_is_named(folder: Path) -> None:
    (folder / "evidence" / "paid" / "03-extra.png").write_bytes(b"not from the run")

    assert kinds(folder) == [("file_added", "evidence/paid/03-extra.png")]


def test_a_removed_file_is_named(folder: Path) -> None:
    (folder / "evidence" / "paid" / "01-store.png").unlink()

    found = kinds(folder)

    assert ("file_removed", "evidence/paid/01-store.png") in found
    assert ("evidence_hash", "E-001 evidence/paid/01-store.png") in found


# ---------------------------------------------------------------- readiness.json fields


def test_a_verdict_edited_to_go_is_named_three_ways(folder: Path) -> None:
    edit_json(folder / "readiness.json", lambda d: d.update(verdict="GO"))

    result = verify(folder)
    found = [(p.kind, p.subject) for p in result.problems]

    assert ("file_changed", "readiness.json") in found
    assert ("signed_mismatch", "readiness.json: verdict") in found
    messages = [p.message for p in result.problems if p.kind == "finding"]
    assert messages[0].startswith("the verdict GO does not follow from the items: the rules give NO-GO")


def test_an_item_edited_from_fail_to_pass_does_not_follow_from_its_scenarios(folder: Path) -> None:
    def fail_to_pass(data: dict[str, Any]) -> None:
        rc05 = next(item for item in data["items"] if item["id"] == "RC-05")
        rc05["status"] = "PASS"

    edit_json(folder / "readiness.json", fail_to_pass)

    messages = [p.message for p in verify(folder).problems if p.kind == "finding"]
    assert messages == ["item RC-05 says PASS but its scenarios make it FAIL (1 of 1 scenario failed: 'Declined')"]


def test_a_summary_that_does_not_count_the_items_is_named(folder: Path) -> None:
    edit_json(folder / "readiness.json", lambda d: d["summary"].update(FAIL=0, PASS=2))

    messages = [p.message for p in verify(folder).problems if p.kind == "finding"]
    assert messages == ["summary PASS says 2 but the items count 1", "summary FAIL says 0 but the items count 1"]


def test_a_scenario_edited_from_failed_to_passed_is_caught_by_the_manifest_and_the_signature(folder: Path) -> None:
    def scenario_passed(data: dict[str, Any]) -> None:
        rc05 = next(item for item in data["items"] if item["id"] == "RC-05")
        rc05["scenarios"][0]["status"] = "passed"

    edit_json(folder / "readiness.json", scenario_passed)

    found = kinds(folder)
    assert ("file_changed", "readiness.json") in found
    assert ("finding", "readiness.json") in found  # the item's FAIL no longer follows from a passed scenario


def test_a_field_the_schema_does_not_know_is_named(folder: Path) -> None:
    edit_json(folder / "readiness.json", lambda d: d.update(approved_by="nobody"))

    messages = [p.message for p in verify(folder).problems if p.kind == "schema"]
    assert messages == [
        "does not follow schema '2.0': $: Additional properties are not allowed ('approved_by' was unexpected)"
    ]


def test_an_unreadable_readiness_json_is_named(folder: Path) -> None:
    (folder / "readiness.json").write_text("{cut", encoding="utf-8")

    found = kinds(folder)

    assert ("report_unreadable", "readiness.json") in found
    assert ("file_changed", "readiness.json") in found


# ---------------------------------------------------------------- the seal itself


def test_a_manifest_edited_to_hide_an_edit_is_named(folder: Path) -> None:
    edit_json(folder / "readiness.json", lambda d: d.update(verdict="GO"))
    write_manifest(folder)  # hashes match again, but the manifest is not the signed one

    found = kinds(folder)

    assert ("manifest_edited", "manifest.json") in found
    assert ("file_changed", "readiness.json") not in found


def test_a_missing_manifest_is_named(folder: Path) -> None:
    (folder / "manifest.json").unlink()

    assert ("manifest_missing", "manifest.json") in kinds(folder)


def test_a_manifest_that_is_not_one_is_named(folder: Path) -> None:
    (folder / "manifest.json").write_text('{"files": 3}', encoding="utf-8")

    assert ("manifest_invalid", "manifest.json") in kinds(folder)


def test_a_missing_signature_says_the_report_is_not_signed(folder: Path) -> None:
    (folder / "signature.json").unlink()

    result = verify(folder)

    assert [(p.kind, p.message) for p in result.problems] == [
        ("signature_missing", "missing: the report is not signed")
    ]


def test_an_edited_signature_is_named(folder: Path) -> None:
    def flip(data: dict[str, Any]) -> None:
        data["signed"]["verdict"] = "GO"

    edit_json(folder / "signature.json", flip)

    result = verify(folder)
    assert [(p.kind, p.message) for p in result.problems] == [
        (
            "signature_invalid",
            "the signature does not match what it signs (the signed verdict or manifest digest was edited)",
        )
    ]


def test_a_signature_whose_fingerprint_was_swapped_is_named(folder: Path) -> None:
    edit_json(folder / "signature.json", lambda d: d.update(fingerprint="SHA256:" + "A" * 43))

    assert [p.message for p in verify(folder).problems] == ["the fingerprint in signature.json is not the public key's"]


def test_an_edited_report_re_sealed_with_another_key_is_signed_by_an_untrusted_key(
    folder: Path, config_home: Path
) -> None:
    trusted = public_pem(config_home)
    edit_json(folder / "readiness.json", lambda d: d.update(verdict="GO", failed_rules=[]))
    intruder = SigningKey(Ed25519PrivateKey.generate(), "intruder")
    reseal(folder, intruder)

    result = verify(folder, trusted_public_key=trusted)

    found = [(p.kind, p.subject) for p in result.problems]
    assert ("untrusted_key", "signature.json") in found
    untrusted = next(p for p in result.problems if p.kind == "untrusted_key")
    assert untrusted.message == (
        f"signed by an untrusted key {intruder.fingerprint} (trusted: {load_signing_key().fingerprint})"
    )
    assert ("signed_mismatch", "readiness.json: signing.fingerprint") in found
    assert any(p.kind == "finding" and p.message.startswith("the verdict GO does not follow") for p in result.problems)
    assert not any(p.kind.startswith("file_") for p in result.problems)  # the manifest was recomputed


# ---------------------------------------------------------------- usage errors


def test_a_folder_that_is_no_report_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    with pytest.raises(NotAReportError, match="not a report folder"):
        verify(tmp_path / "empty")


def test_a_trusted_key_that_is_not_a_key_is_a_signing_error(folder: Path, tmp_path: Path) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("hello", encoding="utf-8")

    with pytest.raises(SigningError, match="not a PEM public key"):
        verify(folder, trusted_public_key=bad)


# ---------------------------------------------------------------- the command


def test_the_command_exits_0_for_an_intact_report(folder: Path, config_home: Path, tmp_path: Path) -> None:
    key = tmp_path / "signer.pub.pem"
    key.write_bytes(public_pem(config_home))

    result = CliRunner().invoke(verify_command, [str(folder), "--public-key", str(key)])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"INTACT: {folder} (verdict NO-GO, signed by SHA256:")


def test_the_command_exits_1_and_names_each_edit(folder: Path) -> None:
    (folder / "evidence.jsonl").write_text("", encoding="utf-8")
    (folder / "notes.txt").write_text("added", encoding="utf-8")

    result = CliRunner().invoke(verify_command, [str(folder)])

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"EDITED OR INVALID: {folder}: 2 problem(s)"
    assert "  - [file_changed] evidence.jsonl: changed after the run (its SHA-256 is not the one in the manifest)" in (
        lines
    )
    assert "  - [file_added] notes.txt: added after the run (not in the manifest)" in lines


def test_the_command_exits_1_for_a_report_signed_by_another_key(folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(SigningKey(Ed25519PrivateKey.generate(), "other").public_pem.encode("ascii"))

    result = CliRunner().invoke(verify_command, [str(folder), "--public-key", str(other)])

    assert result.exit_code == 1
    assert "[untrusted_key] signature.json: signed by an untrusted key" in result.stdout


@pytest.mark.parametrize("case", ["missing", "not a report", "bad key"])
def test_the_command_exits_2_on_a_usage_error(folder: Path, tmp_path: Path, case: str) -> None:
    bad_key = tmp_path / "bad.pem"
    bad_key.write_text("nope", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    args = {
        "missing": [str(tmp_path / "nowhere")],
        "not a report": [str(tmp_path / "empty")],
        "bad key": [str(folder), "--public-key", str(bad_key)],
    }[case]

    result = CliRunner().invoke(verify_command, args)

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
