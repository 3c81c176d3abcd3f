"""reports: the TEST-to-REAL readiness report, from a feature run's machine-readable results.

Role: data in, template out. Inputs are the readiness checklist (``readiness-checklist.md``, a verbatim copy
of ``docs/readiness-checklist.md``), the Cucumber JSON written by ``pytest --cucumberjson`` (pytest-bdd), optional
evidence JSON lines (keyed by each scenario example's id), a target description, the secrets to redact, and
optionally the run's outcome (did it complete?), how many scenarios the features declare per item and notes per
item. Output is ``readiness.html``, ``readiness.json`` and ``readiness-junit.xml`` with one status per checklist
item and a GO / NO-GO verdict.

This package knows nothing about how the results were produced: it never imports ``gateway``, ``simulator``,
``lab`` or ``features`` (an import-linter contract in ``pyproject.toml``).

Modules: ``errors`` (error tree, stable codes), ``checklist`` (table parser), ``results`` (Cucumber JSON),
``evidence`` (evidence lines), ``run`` (did the feature run complete), ``verdict`` (the rules), ``redact``
(secrets), ``model`` (the typed report),
``build`` (inputs -> report, report -> files), ``render`` (JSON, HTML, JUnit),
``cli`` (``python -m reports``).

``readiness.json`` top-level shape (stable)::

    {"verdict": "GO"|"NO-GO", "generated_at": "2025-01-31T12:00:00Z", "target": {...},
     "run": {"completed": bool, "problem": str|null, "exit_code": int|null, "output_tail": str},
     "summary": {"PASS": n, "FAIL": n, "NOT RUN": n, "TO WITNESS": n, "blocking_not_passed": n},
     "reasons": ["RC-02 (blocking) NOT RUN: no scenario covers this item yet", ...],
     "items": [{"id", "title", "blocking", "status": "PASS"|"FAIL"|"NOT RUN"|"TO WITNESS", "reason",
                "note": str|null, "witness": bool,
                "scenarios": [{"id", "feature", "name", "status", "duration_s", "error",
                               "steps": [{"keyword", "name", "status", "duration_s", "error"}],
                               "evidence": [{"kind", "label", "path", "text"}]}]}],
     "unmapped": [{"feature", "name", "status", "unknown_ids": [...]}]}

A scenario's ``id`` identifies one example (one row of a Scenario Outline); its evidence is that example's only,
screenshots in the order the pages were seen.
"""

from __future__ import annotations

from reports.build import build_report, write_report
from reports.checklist import Checklist, ChecklistItem, load_checklist, parse_checklist
from reports.errors import (
    ChecklistError,
    EvidenceError,
    OutputError,
    ReportError,
    ResultsError,
    TargetError,
)
from reports.evidence import Evidence, EvidenceKind, load_evidence, parse_evidence
from reports.model import ItemResult, ItemStatus, Report, ReportScenario, Summary, UnmappedScenario, Verdict
from reports.results import ScenarioResult, Status, StepResult, load_cucumber, parse_cucumber
from reports.run import RunOutcome, assess_pytest_run, cucumber_problem, junit_errors

__all__ = [
    "Checklist",
    "ChecklistError",
    "ChecklistItem",
    "Evidence",
    "EvidenceError",
    "EvidenceKind",
    "ItemResult",
    "ItemStatus",
    "OutputError",
    "Report",
    "ReportError",
    "ReportScenario",
    "ResultsError",
    "RunOutcome",
    "ScenarioResult",
    "Status",
    "StepResult",
    "Summary",
    "TargetError",
    "UnmappedScenario",
    "Verdict",
    "assess_pytest_run",
    "build_report",
    "cucumber_problem",
    "junit_errors",
    "load_checklist",
    "load_cucumber",
    "load_evidence",
    "parse_checklist",
    "parse_cucumber",
    "parse_evidence",
    "write_report",
]
