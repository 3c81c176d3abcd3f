"""Scenario results: the Cucumber JSON written by ``pytest --cucumberjson=PATH`` (pytest-bdd) as typed data.

Role: turn the file into ``ScenarioResult`` values with one of three statuses: ``passed``, ``failed``,
``skipped``. This module knows the format, not how the run was made.

What pytest-bdd 9 actually writes (measured, see ``tests/integration/test_report_cucumber.py``), and how it
is read here, always erring towards "did not run" rather than "passed":

- a list of features ``{"name", "uri", "tags": [{"name": "RC-01"}], "elements": [scenario, ...]}``; feature
  tags are *not* repeated on the scenarios, so a scenario's tags are the union of both (``@`` stripped);
- each scenario ``{"id", "name", "tags", "steps": [{"keyword", "name", "result": {"status", "duration"
  (nanoseconds), "error_message"?}}]}``; ``id`` is unique per scenario *example* (pytest-bdd writes the test's
  name, parametrization included; the feature suite's conftest makes it the full pytest node id), while the rows of
  a Scenario Outline share ``name``. A missing ``id`` is read as ``""``: such a scenario gets no evidence;
- a failing step carries ``error_message`` (pytest's long representation); pytest-bdd marks every *later*
  step "failed" with an empty message although it never ran: those are read as ``skipped``;
- a step that calls ``pytest.skip()`` is written as "passed" with duration 0 and the remaining steps are left
  out: a "passed" step without a positive duration did not finish, so it and its scenario are ``skipped``;
- a scenario skipped before its first step (skip marker, skip in a fixture) is not written at all;
- other Cucumber producers' statuses: ``pending``/``undefined`` count as skipped, ``ambiguous`` as failed;
  a scenario without steps counts as skipped.

A missing or empty file means "no results"; anything else that is not this shape is a ``ResultsError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from reports.errors import ResultsError

# Colour codes pytest adds to error texts under --color=yes: noise in a report, and invalid in XML.
_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Status(StrEnum):
    """Outcome of a scenario or a step."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


_STATUS_MAP = {
    "passed": Status.PASSED,
    "failed": Status.FAILED,
    "ambiguous": Status.FAILED,
    "skipped": Status.SKIPPED,
    "pending": Status.SKIPPED,
    "undefined": Status.SKIPPED,
}


@dataclass(frozen=True, slots=True)
class StepResult:
    """One Gherkin step as it ran (or did not)."""

    keyword: str
    name: str
    status: Status
    duration_s: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """One scenario example run; ``tags`` are without ``@`` and include the feature's tags.

    ``id`` identifies the example (unique per Scenario Outline row), ``name`` is shared by an outline's rows.
    """

    feature: str
    name: str
    tags: tuple[str, ...]
    status: Status
    duration_s: float
    steps: tuple[StepResult, ...] = ()
    error: str | None = None
    id: str = ""


def _expect_str(value: object, where: str, *, default: str | None = None) -> str:
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise ResultsError(f"{where}: expected a string, got {type(value).__name__}")
    return value


def _expect_list(value: object, where: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ResultsError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _expect_object(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise ResultsError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _tags(value: object, where: str) -> list[str]:
    tags: list[str] = []
    for index, raw in enumerate(_expect_list(value, where)):
        name = raw.get("name") if isinstance(raw, dict) else raw
        tag = _expect_str(name, f"{where}[{index}].name").strip().removeprefix("@")
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _duration_s(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ResultsError(f"{where}: expected a non-negative number of nanoseconds")
    return float(value) / 1e9


def _parse_steps(value: object, where: str) -> tuple[StepResult, ...]:
    steps: list[StepResult] = []
    failed_before = False
    for index, raw in enumerate(_expect_list(value, where)):
        at = f"{where}[{index}]"
        step = _expect_object(raw, at)
        result = _expect_object(step.get("result", {}), f"{at}.result")
        raw_status = _expect_str(result.get("status"), f"{at}.result.status").lower()
        if raw_status not in _STATUS_MAP:
            raise ResultsError(f"{at}.result.status: unknown status {raw_status!r}")
        status = _STATUS_MAP[raw_status]
        duration = _duration_s(result.get("duration"), f"{at}.result.duration")
        error = result.get("error_message")
        error_text = _expect_str(error, f"{at}.result.error_message") if error is not None else ""
        error_text = _ANSI_RE.sub("", error_text)
        if status is Status.FAILED and failed_before and not error_text:
            # pytest-bdd marks the steps after a failure as failed too, but they never ran.
            status = Status.SKIPPED
        elif status is Status.PASSED and not duration:
            # pytest.skip() inside a step: the step never finished, pytest-bdd still writes "passed".
            status = Status.SKIPPED
        if status is Status.FAILED:
            failed_before = True
        steps.append(
            StepResult(
                keyword=_expect_str(step.get("keyword"), f"{at}.keyword", default="").strip(),
                name=_expect_str(step.get("name"), f"{at}.name", default=""),
                status=status,
                duration_s=round(duration or 0.0, 6),
                error=error_text or None,
            )
        )
    return tuple(steps)


def _scenario_status(steps: Sequence[StepResult]) -> Status:
    if not steps:
        return Status.SKIPPED
    if any(step.status is Status.FAILED for step in steps):
        return Status.FAILED
    if any(step.status is Status.SKIPPED for step in steps):
        return Status.SKIPPED
    return Status.PASSED


def _scenario_error(steps: Sequence[StepResult]) -> str | None:
    for step in steps:
        if step.status is Status.FAILED:
            return step.error or f"step failed: {step.keyword} {step.name}".strip()
    return None


def parse_cucumber(data: object, *, source: str = "cucumber JSON") -> tuple[ScenarioResult, ...]:
    """Read already-decoded Cucumber JSON; raises ``ResultsError`` naming the bad location."""
    results: list[ScenarioResult] = []
    for f_index, raw_feature in enumerate(_expect_list(data, source)):
        f_at = f"{source}: feature[{f_index}]"
        feature = _expect_object(raw_feature, f_at)
        uri = _expect_str(feature.get("uri"), f"{f_at}.uri", default="")
        feature_name = _expect_str(feature.get("name"), f"{f_at}.name", default=uri)
        feature_tags = _tags(feature.get("tags"), f"{f_at}.tags")
        for e_index, raw_element in enumerate(_expect_list(feature.get("elements"), f"{f_at}.elements")):
            e_at = f"{f_at}.elements[{e_index}]"
            element = _expect_object(raw_element, e_at)
            if element.get("type") == "background":
                continue
            steps = _parse_steps(element.get("steps"), f"{e_at}.steps")
            own_tags = _tags(element.get("tags"), f"{e_at}.tags")
            status = _scenario_status(steps)
            results.append(
                ScenarioResult(
                    feature=feature_name,
                    name=_expect_str(element.get("name"), f"{e_at}.name"),
                    tags=tuple(feature_tags + [tag for tag in own_tags if tag not in feature_tags]),
                    status=status,
                    duration_s=round(sum(step.duration_s for step in steps), 6),
                    steps=steps,
                    error=_scenario_error(steps) if status is Status.FAILED else None,
                    id=_expect_str(element.get("id"), f"{e_at}.id", default=""),
                )
            )
    return tuple(results)


def load_cucumber(path: Path) -> tuple[ScenarioResult, ...]:
    """Load a Cucumber JSON file: missing or empty means "no results"; malformed is a ``ResultsError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read the Cucumber JSON ({exc})") from exc
    if not text.strip():
        return ()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    return parse_cucumber(data, source=str(path))
