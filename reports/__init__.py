"""reports: the TEST-to-REAL readiness report, from a feature run's machine-readable results.

Role: data in, template out. Inputs are the readiness checklist (``readiness-checklist.md``, a verbatim copy
of ``docs/readiness-checklist.md``), the Cucumber JSON written by ``pytest --cucumberjson`` (pytest-bdd), the pytest
report log (``pytest --report-log``: skip reasons, reruns, scenarios skipped before their first step), evidence JSON
lines (keyed by each scenario example's id: screenshots, journal, notes, payment timelines, Ecwid histories), a
target description (with the gateway's configuration audit when there is one), the secrets to redact, the run's
outcome, how many scenarios the features declare per item, notes per item and the reproducibility facts (commit,
seed, command).

Output, in the run's folder: ``readiness.json`` (versioned: ``schema_version``, ``schema/readiness.schema.json``),
``readiness.html`` (one self-contained file: screenshots inlined, prints to PDF with the evidence expanded),
``readiness-junit.xml`` (the verdict is a testcase: NO-GO fails it), ``manifest.json`` (SHA-256 of every file of the
run), ``signature.json`` (Ed25519 over the verdict and the manifest) and ``history/<timestamp>.json``. One finding
per checklist item (PASS, FAIL, NOT RUN, NOT APPLICABLE, TO WITNESS, with the reason and numbered evidence
references E-001...) and a GO / NO-GO verdict with the exact rules that failed (``reports.verdict.RULES``).
``reports.verify`` (``vposlab verify``) says whether, and exactly how, a report folder was edited after its run.

This package knows nothing about how the results were produced: it never imports ``gateway``, ``simulator``,
``lab`` or ``features`` (an import-linter contract in ``pyproject.toml``).

Modules: ``errors`` (error tree, stable codes), ``checklist`` (table parser), ``results`` (Cucumber JSON),
``run_log`` (pytest report log), ``evidence`` (evidence lines), ``run`` (did the feature run complete), ``audit``
(the configuration audit), ``verdict`` (the rules), ``redact`` (secrets), ``reproducibility``, ``model`` (the typed
report), ``build`` (inputs -> report, report -> files), ``json_doc`` + ``schema_check`` (readiness.json and its
schema), ``html_view`` + ``inline_images`` (readiness.html), ``junit_xml``, ``integrity`` (manifest), ``signing``,
``write`` (writing and sealing a folder), ``history`` (runs kept, compared), ``recheck`` + ``verify`` +
``verify_cli`` (was it edited?), ``render`` (the renderers in one place), ``cli`` (``python -m reports``).

The shape of ``readiness.json`` is documented in ``reports.json_doc`` and pinned by the schema. A scenario's ``id``
identifies one example (one row of a Scenario Outline); its evidence is that example's only, screenshots in the
order the pages were seen.
"""

from __future__ import annotations

from reports.build import build_report, write_report
from reports.checklist import Checklist, ChecklistItem, load_checklist, parse_checklist
from reports.errors import (
    ChecklistError,
    EvidenceError,
    HistoryError,
    NotAReportError,
    OutputError,
    ReportError,
    ResultsError,
    SigningError,
    TargetError,
)
from reports.evidence import Evidence, EvidenceEntry, EvidenceKind, load_evidence, parse_evidence
from reports.history import Comparison, compare, keep_history, latest_history
from reports.model import ItemResult, ItemStatus, Report, ReportScenario, Summary, UnmappedScenario, Verdict
from reports.reproducibility import Reproducibility, collect
from reports.results import ScenarioResult, Status, StepResult, load_cucumber, parse_cucumber
from reports.run import RunOutcome, assess_pytest_run, cucumber_problem, junit_errors
from reports.run_log import RunLog, load_run_log
from reports.signing import SigningKey, load_signing_key
from reports.verify import VerifyResult, verify

__all__ = [
    "Checklist",
    "ChecklistError",
    "ChecklistItem",
    "Comparison",
    "Evidence",
    "EvidenceEntry",
    "EvidenceError",
    "EvidenceKind",
    "HistoryError",
    "ItemResult",
    "ItemStatus",
    "NotAReportError",
    "OutputError",
    "Report",
    "ReportError",
    "ReportScenario",
    "Reproducibility",
    "ResultsError",
    "RunLog",
    "RunOutcome",
    "ScenarioResult",
    "SigningError",
    "SigningKey",
    "Status",
    "StepResult",
    "Summary",
    "TargetError",
    "UnmappedScenario",
    "Verdict",
    "VerifyResult",
    "assess_pytest_run",
    "build_report",
    "collect",
    "compare",
    "cucumber_problem",
    "junit_errors",
    "keep_history",
    "latest_history",
    "load_checklist",
    "load_cucumber",
    "load_evidence",
    "load_run_log",
    "load_signing_key",
    "parse_checklist",
    "parse_cucumber",
    "parse_evidence",
    "verify",
    "write_report",
]
