"""The CI example (.github/workflows/readiness.yml) is valid YAML, fails on NO-GO, keeps the report as an
artifact, and calls only vposlab commands and options that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from lab.cli import main

WORKFLOW = Path(__file__).resolve().parent.parent.parent / ".github" / "workflows" / "readiness.yml"


def steps() -> list[dict[str, Any]]:
    document = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    job = document["jobs"]["readiness"]
    result: list[dict[str, Any]] = job["steps"]
    return result


def vposlab_calls() -> list[list[str]]:
    calls = []
    for step in steps():
        for line in str(step.get("run", "")).splitlines():
            match = re.search(r"\.venv/bin/vposlab (.+)$", line)
            if match:
                calls.append(shlex.split(match.group(1).replace("$args", "")))
    return calls


def test_the_readiness_run_fails_on_no_go_and_the_report_is_verified_and_kept() -> None:
    calls = vposlab_calls()
    assert ["check"] in calls  # exits 1 on NO-GO by default
    assert any(call[0] == "verify" for call in calls)
    uploads = [step for step in steps() if str(step.get("uses", "")).startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["if"] == "always()"
    kept = uploads[0]["with"]["path"].split()
    assert kept == ["reports/out/", "!reports/out/history/"]  # the sealed folder whole, so verify passes on it


def test_every_vposlab_command_and_option_the_workflow_uses_exists() -> None:
    for call in vposlab_calls():
        command = main.commands.get(call[0])
        assert command is not None, f"vposlab {call[0]} does not exist"
        options = {name for param in command.params for name in getattr(param, "opts", [])}
        for word in call[1:]:
            if word.startswith("-"):
                assert word in options, f"vposlab {call[0]} has no option {word}"
