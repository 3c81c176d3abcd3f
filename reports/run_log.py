"""The pytest report log: what the Cucumber JSON cannot say (skip reasons, reruns, scenarios skipped before their
first step), as typed data.

Role: read the JSON-lines file written by ``pytest --report-log=PATH`` (the pytest-reportlog plugin; one serialized
``TestReport`` a line, ``{"$report_type": "TestReport", "nodeid", "when": "setup"|"call"|"teardown",
"outcome": "passed"|"failed"|"skipped"|"rerun", "longrepr", "keywords": {...}, "duration", "user_properties"}``)
and turn it into one ``LoggedTest`` per node id with the attempts it took, oldest first.

Why a second input (measured with pytest-bdd 9 and pytest-rerunfailures 16, see
``tests/integration/test_report_run_log.py``):

- pytest-bdd's Cucumber JSON never carries a skip reason: a ``pytest.skip()`` in a step or fixture is written as a
  "passed" step of duration 0, and a scenario skipped before its first step (a skip marker) is not written at all;
  the report log has every skip with its reason (``longrepr`` ``[path, line, "Skipped: <reason>"]``) and the
  test's markers (``keywords``: the Gherkin tags, so ``RC-02``);
- under pytest-rerunfailures every failed attempt is logged with outcome ``rerun`` before the next one, so a
  scenario that passed only on a retry is visible (``flaky``). pytest-bdd's Cucumber writer raises on that
  outcome (``ValueError: Unknown test outcome rerun``, an INTERNALERROR): the feature suite's conftest has to keep
  the ``rerun`` reports out of it (drop them from ``pytest_bdd.reporting.test_report_context_registry`` in a
  ``tryfirst`` ``pytest_runtest_logreport``), so the Cucumber JSON holds the last attempt only.

Convention for NOT APPLICABLE: a scenario skipped with a reason starting ``NOT APPLICABLE:`` (e.g.
``pytest.skip("NOT APPLICABLE: needs the simulator's control API")``) does not apply to the target; see
``reports.verdict``. Optional ``user_properties`` ``("feature", name)`` and ``("scenario", name)`` give a scenario
that never reached the Cucumber JSON its Gherkin names (otherwise its name is made from the test's name).

Guarantees: lines other than ``TestReport`` (session start/finish, collection reports) are ignored except
``SessionFinish``'s ``exitstatus``; a missing file is an empty log; a line that is not JSON is a ``ResultsError``
naming it, except a cut-off last line (a run killed while writing), which is ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reports.checklist import looks_like_item_id
from reports.errors import ResultsError
from reports.results import Status

SKIPPED_PREFIX = "Skipped: "
_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True, slots=True)
class Attempt:
    """One run of a test: its outcome, how long its phases took, the failure or the skip reason."""

    status: Status
    duration_s: float = 0.0
    error: str | None = None
    skip_reason: str | None = None
    errored_before_call: bool = False  # failed in setup (a fixture: the lab, the browser): its steps never ran


@dataclass(frozen=True, slots=True)
class LoggedTest:
    """One test (one scenario example) as the report log saw it; ``attempts`` oldest first, the last is the result."""

    node_id: str
    tags: tuple[str, ...]
    attempts: tuple[Attempt, ...]
    feature: str | None = None
    scenario: str | None = None

    @property
    def final(self) -> Attempt:
        return self.attempts[-1]

    @property
    def earlier(self) -> tuple[Attempt, ...]:
        return self.attempts[:-1]


@dataclass(frozen=True, slots=True)
class RunLog:
    """Every test of the run by node id, in the order they first appeared; ``exit_status`` from ``SessionFinish``."""

    tests: Mapping[str, LoggedTest] = field(default_factory=dict)
    exit_status: int | None = None


def skip_reason_of(longrepr: object) -> str | None:
    """The reason of a skip from a serialized ``longrepr`` (``[path, line, "Skipped: reason"]``)."""
    text: object = longrepr
    if isinstance(longrepr, list | tuple) and len(longrepr) == 3:
        text = longrepr[2]
    if not isinstance(text, str):
        return None
    return text.removeprefix(SKIPPED_PREFIX).strip() or None


def error_of(longrepr: object) -> str | None:
    """What a failed phase says: the crash message of a serialized ``longrepr``, or its text."""
    if isinstance(longrepr, dict):
        crash = longrepr.get("reprcrash")
        if isinstance(crash, dict) and isinstance(crash.get("message"), str):
            return _ANSI_RE.sub("", crash["message"])
        return None
    if isinstance(longrepr, str):
        return _ANSI_RE.sub("", longrepr)
    if isinstance(longrepr, list | tuple) and longrepr and isinstance(longrepr[-1], str):
        return _ANSI_RE.sub("", longrepr[-1])
    return None


def _tags(keywords: object) -> list[str]:
    """The item-like tags among a report's keywords (the other keywords mix markers with node names)."""
    if not isinstance(keywords, dict):
        return []
    return [str(key) for key in keywords if looks_like_item_id(str(key))]


def _properties(raw: object) -> dict[str, str]:
    found: dict[str, str] = {}
    if isinstance(raw, list):
        for pair in raw:
            if isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[0], str):
                found[pair[0]] = str(pair[1])
    return found


@dataclass
class _Building:
    tags: list[str] = field(default_factory=list)
    phases: list[list[Mapping[str, object]]] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)


def _attempt(phases: list[Mapping[str, object]]) -> Attempt:
    duration = 0.0
    for phase in phases:
        value = phase.get("duration")
        if isinstance(value, int | float) and not isinstance(value, bool):
            duration += float(value)
    error: str | None = None
    skip_reason: str | None = None
    status = Status.PASSED
    saw_call = False
    for phase in phases:
        outcome = phase.get("outcome")
        saw_call = saw_call or phase.get("when") == "call"
        if outcome in ("failed", "rerun"):
            if status is not Status.FAILED:
                error = error_of(phase.get("longrepr")) or f"failed in {phase.get('when')}"
            status = Status.FAILED
        elif outcome == "skipped" and status is Status.PASSED:
            status = Status.SKIPPED
            reason = skip_reason_of(phase.get("longrepr"))
            if phase.get("wasxfail") is not None:
                reason = f"expected to fail (xfail): {phase.get('wasxfail') or reason or ''}".rstrip(": ")
            skip_reason = reason
    if status is Status.PASSED and not saw_call:
        status = Status.SKIPPED  # never reached its call phase: it did not run
    return Attempt(
        status=status,
        duration_s=round(duration, 6),
        error=error,
        skip_reason=skip_reason,
        errored_before_call=status is Status.FAILED and not saw_call,
    )


def parse_run_log(lines: Iterable[str], *, source: str = "report log") -> RunLog:
    """Read report-log lines (see the module docstring); raises ``ResultsError`` naming a bad line."""
    building: dict[str, _Building] = {}
    exit_status: int | None = None
    numbered = list(enumerate(lines, start=1))
    last = max((n for n, line in numbered if line.strip()), default=0)
    for lineno, line in numbered:
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            if lineno == last:
                break  # cut off while the run was killed: what came before still stands
            raise ResultsError(f"{source}:{lineno}: not valid JSON ({exc.msg}, column {exc.colno})") from exc
        if not isinstance(data, dict):
            raise ResultsError(f"{source}:{lineno}: expected a JSON object")
        kind = data.get("$report_type")
        if kind == "SessionFinish" and isinstance(data.get("exitstatus"), int):
            exit_status = data["exitstatus"]
        if kind != "TestReport":
            continue
        node_id, when = data.get("nodeid"), data.get("when")
        if not isinstance(node_id, str) or not node_id or when not in ("setup", "call", "teardown"):
            raise ResultsError(f"{source}:{lineno}: a TestReport needs 'nodeid' and 'when' (setup, call, teardown)")
        entry = building.setdefault(node_id, _Building())
        for tag in _tags(data.get("keywords")):
            if tag not in entry.tags:
                entry.tags.append(tag)
        entry.properties.update(_properties(data.get("user_properties")))
        if when == "setup" or not entry.phases:
            entry.phases.append([])
        entry.phases[-1].append(data)
    tests = {
        node_id: LoggedTest(
            node_id=node_id,
            tags=tuple(entry.tags),
            attempts=tuple(_attempt(phases) for phases in entry.phases),
            feature=entry.properties.get("feature"),
            scenario=entry.properties.get("scenario"),
        )
        for node_id, entry in building.items()
    }
    return RunLog(tests=tests, exit_status=exit_status)


def load_run_log(path: Path) -> RunLog:
    """Load a report log; a missing file is an empty log (the run may not have written one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RunLog()
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read the report log ({exc})") from exc
    return parse_run_log(text.splitlines(), source=str(path))


def scenario_name_from_node_id(node_id: str) -> str:
    """A readable scenario name from a node id when the log gives none (``...::test_paid_card[x]`` -> "paid card")."""
    name = node_id.rsplit("::", 1)[-1].split("[", 1)[0]
    return name.removeprefix("test_").replace("_", " ").strip() or node_id
