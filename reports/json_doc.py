"""``readiness.json``: the report as a stable, versioned JSON document (schema ``schema/readiness.schema.json``).

Role: build the document explicitly here (not by dumping dataclasses), so a model change cannot silently change the
contract; ``SCHEMA_VERSION`` names the shape and the schema file of the same version describes it key by key. A
change that removes or renames a key, or changes a meaning, is a new major version; an added key a new minor one.

Top level (version 2.0)::

    {"schema_version": "2.0", "verdict": "GO"|"NO-GO", "generated_at": "...Z", "target": {...},
     "configuration_audit": null | {"ready", "counts", "reason", "findings": [{"check","title","result","detail"}]},
     "run": {"completed", "problem", "exit_code", "output_tail"},
     "summary": {"PASS", "FAIL", "NOT RUN", "NOT APPLICABLE", "TO WITNESS", "blocking_not_passed", "flaky"},
     "rules": [{"id": "V-01", "text", "outcome": "passed"|"failed"|"not counted", "details": [...]}],
     "failed_rules": ["V-02", ...], "reasons": [...], "listed": [...],
     "groups": {"NOT RUN": [{"cause", "items": [ids]}], "NOT APPLICABLE": [...]},
     "items": [{"id", "title", "blocking", "status", "reason", "cause", "note", "witness", "declared_scenarios",
                "evidence_refs": ["E-001", ...],
                "scenarios": [{"id", "feature", "name", "status", "duration_s", "error", "skip_reason", "flaky",
                               "attempts": [{"status", "duration_s", "error", "skip_reason"}],   # earlier ones
                               "steps": [{"keyword", "name", "status", "duration_s", "error"}],
                               "evidence": [{"ref", "kind", "label", "path", "text", "sha256", "attempt",
                                             "entries": [{"at", "state", "from", "source", "accepted", "note"}]}]}]}],
     "unmapped": [{"feature", "name", "status", "unknown_ids": [...]}],
     "reproducibility": {"commit", "seed", "command", "ran_by", "python", "platform", "packages": {name: version}},
     "signing": null | {"algorithm": "Ed25519", "fingerprint": "SHA256:..."},
     "comparison": null | {"previous", "previous_generated_at", "previous_verdict", "verdict", "verdict_changed",
                           "changes": [{"id", "title", "before", "after", "change", "reason"}]}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reports.audit import ConfigurationAudit
from reports.evidence import Evidence
from reports.history import Comparison
from reports.integrity import sha256_file
from reports.model import ItemResult, ItemStatus, Report, ReportScenario
from reports.results import StepResult
from reports.run import RunOutcome
from reports.run_log import Attempt

SCHEMA_VERSION = "2.0"
JSON_NAME = "readiness.json"


def _step(step: StepResult) -> dict[str, Any]:
    return {
        "keyword": step.keyword,
        "name": step.name,
        "status": step.status.value,
        "duration_s": step.duration_s,
        "error": step.error,
    }


def _evidence(record: Evidence, hashes: Mapping[str, str]) -> dict[str, Any]:
    return {
        "ref": record.ref,
        "kind": record.kind.value,
        "label": record.label,
        "path": record.path,
        "text": record.text,
        "sha256": hashes.get(record.path) if record.path else None,
        "attempt": record.attempt,
        "entries": [
            {
                "at": e.at,
                "state": e.state,
                "from": e.previous,
                "source": e.source,
                "accepted": e.accepted,
                "note": e.note,
            }
            for e in record.entries
        ],
    }


def _attempt(attempt: Attempt) -> dict[str, Any]:
    return {
        "status": attempt.status.value,
        "duration_s": attempt.duration_s,
        "error": attempt.error,
        "skip_reason": attempt.skip_reason,
    }


def _scenario(scenario: ReportScenario, hashes: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": scenario.id,
        "feature": scenario.feature,
        "name": scenario.name,
        "status": scenario.status.value,
        "duration_s": scenario.duration_s,
        "error": scenario.error,
        "skip_reason": scenario.skip_reason,
        "flaky": scenario.flaky,
        "attempts": [_attempt(a) for a in scenario.earlier_attempts],
        "steps": [_step(step) for step in scenario.steps],
        "evidence": [_evidence(record, hashes) for record in scenario.evidence],
    }


def _item(item: ItemResult, hashes: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "blocking": item.blocking,
        "status": item.status.value,
        "reason": item.reason,
        "cause": item.cause,
        "note": item.note,
        "witness": item.witness,
        "declared_scenarios": item.declared,
        "evidence_refs": list(item.evidence_refs),
        "scenarios": [_scenario(s, hashes) for s in item.scenarios],
    }


def _run(run: RunOutcome) -> dict[str, Any]:
    return {
        "completed": run.completed,
        "problem": run.problem,
        "exit_code": run.exit_code,
        "output_tail": run.output_tail,
    }


def audit_json(audit: ConfigurationAudit | None) -> dict[str, Any] | None:
    if audit is None:
        return None
    return {
        "ready": audit.ready,
        "counts": audit.counts,
        "reason": audit.reason,
        "findings": [
            {"check": f.check, "title": f.title, "result": f.result, "detail": f.detail} for f in audit.findings
        ],
    }


def comparison_json(comparison: Comparison | None) -> dict[str, Any] | None:
    if comparison is None:
        return None
    return {
        "previous": comparison.previous,
        "previous_generated_at": comparison.previous_generated_at,
        "previous_verdict": comparison.previous_verdict,
        "verdict": comparison.verdict,
        "verdict_changed": comparison.verdict_changed,
        "changes": [
            {"id": c.id, "title": c.title, "before": c.before, "after": c.after, "change": c.change, "reason": c.reason}
            for c in comparison.changes
        ],
    }


def groups(report: Report) -> dict[str, list[dict[str, Any]]]:
    """NOT RUN and NOT APPLICABLE items grouped by cause, causes in checklist order of first appearance."""
    out: dict[str, list[dict[str, Any]]] = {}
    for status in (ItemStatus.NOT_RUN, ItemStatus.NOT_APPLICABLE):
        by_cause: dict[str, list[str]] = {}
        for item in report.items:
            if item.status is status:
                by_cause.setdefault(item.cause or item.reason, []).append(item.id)
        out[status.value] = [{"cause": cause, "items": ids} for cause, ids in by_cause.items()]
    return out


def report_document(
    report: Report,
    *,
    hashes: Mapping[str, str] | None = None,
    fingerprint: str | None = None,
    comparison: Comparison | None = None,
) -> dict[str, Any]:
    """The ``readiness.json`` document. ``hashes`` maps evidence paths to their SHA-256 (written next to each
    evidence reference); ``fingerprint`` is the signing key's, when the report is signed."""
    hashes = hashes or {}
    summary = report.summary
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": report.verdict.value,
        "generated_at": report.generated_at_iso,
        "target": dict(report.target),
        "configuration_audit": audit_json(report.audit),
        "run": _run(report.run),
        "summary": {
            "PASS": summary.passed,
            "FAIL": summary.failed,
            "NOT RUN": summary.not_run,
            "NOT APPLICABLE": summary.not_applicable,
            "TO WITNESS": summary.to_witness,
            "blocking_not_passed": summary.blocking_not_passed,
            "flaky": summary.flaky,
        },
        "rules": [
            {"id": rule.id, "text": rule.text, "outcome": rule.outcome.value, "details": list(rule.details)}
            for rule in report.rules
        ],
        "failed_rules": [rule.id for rule in report.failed_rules],
        "reasons": list(report.reasons),
        "listed": list(report.listed),
        "groups": groups(report),
        "items": [_item(item, hashes) for item in report.items],
        "unmapped": [
            {
                "feature": entry.feature,
                "name": entry.name,
                "status": entry.status.value,
                "unknown_ids": list(entry.unknown_ids),
            }
            for entry in report.unmapped
        ],
        "reproducibility": {
            "commit": report.reproducibility.commit,
            "seed": report.reproducibility.seed,
            "command": report.reproducibility.command,
            "ran_by": report.reproducibility.ran_by,
            "python": report.reproducibility.python,
            "platform": report.reproducibility.platform,
            "packages": dict(report.reproducibility.packages),
        },
        "signing": None if fingerprint is None else {"algorithm": "Ed25519", "fingerprint": fingerprint},
        "comparison": comparison_json(comparison),
    }


def dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def evidence_hashes(report: Report, folder: Path) -> dict[str, str]:
    """SHA-256 of every evidence file the report names that exists inside ``folder``."""
    root = folder.resolve()
    found: dict[str, str] = {}
    for item in report.items:
        for scenario in item.scenarios:
            for record in scenario.evidence:
                if record.path and record.path not in found:
                    path = (root / record.path).resolve()
                    if path.is_relative_to(root) and path.is_file():
                        found[record.path] = sha256_file(path).sha256
    return found
