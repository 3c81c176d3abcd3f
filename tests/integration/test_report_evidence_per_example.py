"""End to end on a REAL pytest-bdd run: the rows of a Scenario Outline each get their own evidence.

A tiny suite uses the feature suite's evidence wiring (``features/support/evidence.py``: the ``evidence`` fixture
and the hook that writes the pytest node id into the Cucumber JSON). Each row records a note naming its own card;
the report must show each row with its own note only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reports.build import build_report
from reports.checklist import load_checklist
from reports.evidence import load_evidence
from reports.results import load_cucumber

REPO_ROOT = Path(__file__).resolve().parents[2]

INI = """\
[pytest]
addopts = -p no:cacheprovider --strict-markers
markers =
    RC-05: item
"""

CONFTEST = """\
from features.support.evidence import evidence, recorder
from features.support.evidence import pytest_runtest_makereport


def pytest_bdd_before_scenario(request, feature, scenario):
    recorder(request).begin(feature.name, scenario.name)


def pytest_bdd_after_scenario(request, feature, scenario):
    recorder(request).flush()
"""

FEATURE = """\
Feature: Declines
  @RC-05
  Scenario Outline: A declined card
    Given a card "<card>"
    Then the customer is told "<message>"

    Examples:
      | card             | message            |
      | 4000000000009995 | insufficient funds |
      | 4000000000000069 | expired            |
      | 4000000000000002 | declined           |
"""

STEPS = """\
from pytest_bdd import given, parsers, scenarios, then

scenarios("declines.feature")


@given(parsers.parse('a card "{card}"'), target_fixture="card")
def card(evidence, card):
    evidence.note("card", card)
    return card


@then(parsers.parse('the customer is told "{message}"'))
def told(evidence, card, message):
    evidence.note("message", f"{card}: {message}")
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("outline")
    for name, text in {
        "pytest.ini": INI,
        "conftest.py": CONFTEST,
        "declines.feature": FEATURE,
        "test_declines.py": STEPS,
    }.items():
        (work / name).write_text(text, encoding="utf-8")
    out = work / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["VPOSLAB_REPORT_DIR"] = str(out)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", "pytest.ini", "--rootdir", ".", f"--cucumberjson={out / 'c.json'}",
         "-q", "test_declines.py"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, textwrap.indent(run.stdout + run.stderr, "  ")
    return out


def test_the_cucumber_json_names_each_row_by_its_pytest_node_id(run_dir: Path) -> None:
    ids = [result.id for result in load_cucumber(run_dir / "c.json")]

    assert ids == [
        "test_declines.py::test_a_declined_card[4000000000009995-insufficient funds]",
        "test_declines.py::test_a_declined_card[4000000000000069-expired]",
        "test_declines.py::test_a_declined_card[4000000000000002-declined]",
    ]


def test_each_row_of_the_outline_shows_only_its_own_evidence(run_dir: Path) -> None:
    report = build_report(
        load_checklist(),
        load_cucumber(run_dir / "c.json"),
        target={},
        evidence=load_evidence(run_dir / "evidence.jsonl"),
    )

    rc05 = next(item for item in report.items if item.id == "RC-05")
    assert [[record.text for record in scenario.evidence] for scenario in rc05.scenarios] == [
        ["4000000000009995", "4000000000009995: insufficient funds"],
        ["4000000000000069", "4000000000000069: expired"],
        ["4000000000000002", "4000000000000002: declined"],
    ]


def test_every_evidence_line_names_its_example(run_dir: Path) -> None:
    lines = [json.loads(line) for line in (run_dir / "evidence.jsonl").read_text(encoding="utf-8").splitlines()]

    assert len(lines) == 6
    assert {line["feature"] for line in lines} == {"Declines"}
    assert all(line["scenario_id"].startswith("test_declines.py::test_a_declined_card[") for line in lines)
