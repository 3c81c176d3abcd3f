"""Progress of a readiness run, item by item: one line per scenario example as it ends (running counts), and one
line per checklist item once its last scenario has ended.

Active when ``VPOSLAB_PROGRESS=1`` (``vposlab check`` sets it); then pytest's own progress letters are silenced,
so the output reads as a list a person can follow. Without it, pytest prints as usual (the repository's test run).

    [ 12/151] PASS  RC-05  A declined card gets a clear message ... (insufficient funds)   pass 11 · fail 0 · skip 1
    item RC-05: 5 of 5 passed
"""

from __future__ import annotations

import os
import re
from collections import Counter
from typing import Any

import pytest

PROGRESS_ENV = "VPOSLAB_PROGRESS"
ITEM_ID = re.compile(r"^RC-\d{2}$")
STATE_KEY = pytest.StashKey["Progress"]()


class Progress:
    def __init__(self, items: list[pytest.Item]) -> None:
        self.total = len(items)
        self.done = 0
        self.counts: Counter[str] = Counter()
        self.left: Counter[str] = Counter()
        self.results: dict[str, Counter[str]] = {}
        for item in items:
            for rc in item_ids(item.keywords):
                self.left[rc] += 1
                self.results.setdefault(rc, Counter())

    def finished(self, ids: list[str], outcome: str, name: str) -> list[str]:
        self.done += 1
        self.counts[outcome] += 1
        shown = " ".join(ids) or "-"
        lines = [
            f"[{self.done:>{len(str(self.total))}}/{self.total}] {outcome.upper():<5} {shown:<6} {name}"
            f"   pass {self.counts['pass']} · fail {self.counts['fail']} · skip {self.counts['skip']}"
        ]
        for rc in ids:
            self.results[rc][outcome] += 1
            self.left[rc] -= 1
            if self.left[rc] == 0:
                lines.append(f"item {rc}: {_item_summary(self.results[rc])}")
        return lines


def enabled() -> bool:
    return os.environ.get(PROGRESS_ENV) == "1"


def item_ids(keywords: Any) -> list[str]:
    return sorted(str(name) for name in keywords if ITEM_ID.match(str(name)))


def _item_summary(results: Counter[str]) -> str:
    total = sum(results.values())
    parts = [f"{results['pass']} of {total} passed"]
    if results["fail"]:
        parts.append(f"{results['fail']} failed")
    if results["skip"]:
        parts.append(f"{results['skip']} skipped")
    return ", ".join(parts)


def _name(report: Any) -> str:
    """The scenario's Gherkin name (a user property) and its example, readable (pytest escapes non-ASCII ids)."""
    nodeid = str(getattr(report, "nodeid", ""))
    properties = dict(getattr(report, "user_properties", None) or [])
    name = str(properties.get("scenario") or nodeid.rsplit("::", 1)[-1].split("[", 1)[0].removeprefix("test_"))
    example = re.search(r"\[(.*)\]$", nodeid)
    if example is None:
        return name
    try:
        shown = example.group(1).encode("latin-1").decode("unicode_escape")
    except (UnicodeError, ValueError):
        shown = example.group(1)
    return f"{name} [{shown}]"


# ---------------------------------------------------------------- pytest hooks (imported by features/conftest.py)


def pytest_collection_finish(session: pytest.Session) -> None:
    if enabled():
        session.config.stash[STATE_KEY] = Progress(list(session.items))


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """Silence pytest's letters (category and word unchanged, so its summary still counts right)."""
    if not enabled() or hasattr(report, "wasxfail"):
        return None
    outcome = str(report.outcome)
    if outcome == "rerun":
        return "rerun", "", "RERUN"
    if report.when in ("setup", "teardown"):
        if report.failed:
            return "error", "", "ERROR"
        if report.skipped:
            return "skipped", "", "SKIPPED"
        return "", "", ""
    return outcome, "", outcome.upper()


def progress_line(report: pytest.TestReport) -> None:
    """Print the scenario's line (and its items' lines) once it ended (called by the conftest's logreport hook)."""
    if not enabled() or str(report.outcome) == "rerun":
        return
    ends = report.when == "call" or (report.when == "setup" and not report.passed)
    if not ends:
        return
    progress: Progress | None = _state()
    if progress is None:
        return
    outcome = {"passed": "pass", "failed": "fail", "skipped": "skip"}[str(report.outcome)]
    lines = progress.finished(item_ids(report.keywords), outcome, _name(report))
    reporter = _reporter()
    for line in lines:
        if reporter is not None:
            reporter.write_line(line)


_CONFIG: list[pytest.Config] = []


def pytest_configure(config: pytest.Config) -> None:
    _CONFIG[:] = [config]


def _state() -> Progress | None:
    if not _CONFIG:
        return None
    progress: Progress | None = _CONFIG[0].stash.get(STATE_KEY, None)
    return progress


def _reporter() -> Any:
    if not _CONFIG:
        return None
    return _CONFIG[0].pluginmanager.get_plugin("terminalreporter")
