"""``readiness.html``: one self-contained file a bank, a QA lead and an auditor can open alone, offline, and print.

Role: data in, template out (house rule 12): a view context of plain values -> ``templates/readiness.html`` through
Jinja2 with ``StrictUndefined`` (a missing value is an error, not an empty cell) and autoescape on (scenario names
are never markup).

Self-contained: screenshots are inlined as WebP ``data:`` URIs (``reports.inline_images``) when the report folder is
given; the CSS (``templates/readiness.css``) and the one small script (open every ``<details>`` before printing)
are inline; a Content-Security-Policy allows nothing but ``data:`` images and exactly that style and script (by
their SHA-256), so the file cannot fetch anything even if an evidence label tried to. Printing: the print style
expands every ``<details>`` (``::details-content``; the script does the same for browsers without it), keeps table
rows and screenshots whole on a page and prints the verdict colours.

Evidence shared by two items (one scenario tagged with both) is shown once, under the first item; the second
links to it by its references.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from reports.audit import ConfigurationAudit
from reports.evidence import Evidence, EvidenceEntry, EvidenceKind, is_web_url, parse_time
from reports.history import Comparison
from reports.inline_images import InlineImage, inline_all
from reports.json_doc import audit_json, comparison_json
from reports.model import ItemResult, ItemStatus, Report, ReportScenario, RuleOutcome, Verdict
from reports.text import error_summary, example_of, format_duration, format_value

HTML_NAME = "readiness.html"
CSS_NAME = "readiness.css"
# Opens every <details> for printing (browsers without ::details-content), and restores them afterwards.
PRINT_SCRIPT = (
    "(function(){var opened=[];"
    "addEventListener('beforeprint',function(){document.querySelectorAll('details:not([open])')"
    ".forEach(function(d){d.open=true;opened.push(d);});});"
    "addEventListener('afterprint',function(){opened.forEach(function(d){d.open=false;});opened=[];});})();"
)
# Self-contained: images only from data: URIs. A preview without the folder links the files next to it.
IMG_SRC_ALONE = "data:"
IMG_SRC_PREVIEW = "data: 'self' file:"
IDENTITY_KEYS = {
    "name": "target",
    "gateway_version": "gateway version",
    "gateway_commit": "gateway commit",
    "provider_mode": "provider mode",
    "database": "gateway database",
}
_STATUS_CLASS = {
    ItemStatus.PASS: "pass",
    ItemStatus.FAIL: "fail",
    ItemStatus.NOT_RUN: "notrun",
    ItemStatus.NOT_APPLICABLE: "na",
    ItemStatus.TO_WITNESS: "witness",
}
_KIND_TITLE = {
    EvidenceKind.TIMELINE: "payment state timeline",
    EvidenceKind.ECWID_HISTORY: "Ecwid status history",
}


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _href(path: str) -> str:
    if is_web_url(path):
        return path
    return quote(path.replace("\\", "/"), safe="/")


def _elapsed(entry: EvidenceEntry, start: datetime | None) -> str:
    at = parse_time(entry.at)
    if at is None or start is None:
        return ""
    seconds = (at - start).total_seconds()
    return f"+{seconds:.3f} s"


def _entries_view(record: Evidence) -> list[dict[str, Any]]:
    start = parse_time(record.entries[0].at) if record.entries else None
    return [
        {
            "at": entry.at,
            "elapsed": _elapsed(entry, start),
            "previous": entry.previous,
            "state": entry.state,
            "source": entry.source,
            "accepted": entry.accepted,
            "note": entry.note,
        }
        for entry in record.entries
    ]


class _Images:
    """Inlines every screenshot the report shows (all at once, on every core) and keeps the size figures."""

    def __init__(self, folder: Path | None, report: Report) -> None:
        self.folder = folder
        self.original_bytes = 0
        self.inlined_bytes = 0
        self.count = 0
        paths = (
            record.path
            for item in report.items
            for scenario in item.scenarios
            for record in scenario.evidence
            if record.kind is EvidenceKind.SCREENSHOT and record.path
        )
        self.inlined: dict[str, InlineImage] = inline_all(folder, paths) if folder is not None else {}

    def view(self, record: Evidence) -> dict[str, Any]:
        assert record.path is not None
        if self.folder is None:  # no folder: a preview next to the files, linked (not self-contained)
            return {"src": _href(record.path), "problem": None, "width": None, "height": None}
        image = self.inlined[record.path]
        if image.data_uri is not None:
            self.count += 1
            self.original_bytes += image.original_bytes
            self.inlined_bytes += image.inlined_bytes
        return {"src": image.data_uri, "problem": image.problem, "width": image.width, "height": image.height}


def _evidence_view(record: Evidence, images: _Images, hashes: dict[str, str]) -> dict[str, Any]:
    view: dict[str, Any] = {
        "ref": record.ref,
        "kind": record.kind.value,
        "kind_title": _KIND_TITLE.get(record.kind, record.kind.value),
        "label": record.label,
        "path": record.path,
        "text": record.text,
        "sha256": hashes.get(record.path) if record.path else None,
        "href": record.path if record.path and is_web_url(record.path) else None,
        "is_image": record.kind is EvidenceKind.SCREENSHOT,
        "is_table": record.kind in _KIND_TITLE,
        "entries": _entries_view(record),
        "attempt": record.attempt,
        "image": None,
    }
    if view["is_image"]:
        view["image"] = images.view(record)
    return view


def _scenario_view(
    scenario: ReportScenario,
    item_id: str,
    first_seen: dict[str, str],
    images: _Images,
    hashes: dict[str, str],
) -> dict[str, Any]:
    key = scenario.id or f"{scenario.feature}\x00{scenario.name}"
    shown_under = first_seen.setdefault(key, item_id)
    first = shown_under == item_id
    final_attempt = len(scenario.earlier_attempts) + 1
    evidence = [_evidence_view(r, images, hashes) for r in scenario.evidence] if first else []
    current = [e for e in evidence if e["attempt"] is None or e["attempt"] >= final_attempt]
    earlier = [e for e in evidence if e["attempt"] is not None and e["attempt"] < final_attempt]
    return {
        "id": scenario.id,
        "first": first,
        "shown_under": shown_under,
        "refs": [r.ref for r in scenario.evidence],
        "example": example_of(scenario.id),
        "feature": scenario.feature,
        "name": scenario.name,
        "tags": [f"@{tag}" for tag in scenario.tags],
        "status": scenario.status.value,
        "duration": format_duration(scenario.duration_s),
        "error": scenario.error,
        "error_summary": error_summary(scenario.error),
        "skip_reason": scenario.skip_reason,
        "flaky": scenario.flaky,
        "attempts": [
            {
                "n": n,
                "status": a.status.value,
                "duration": format_duration(a.duration_s),
                "error": a.error,
                "skip_reason": a.skip_reason,
                "evidence": [e for e in earlier if e["attempt"] == n],
            }
            for n, a in enumerate(scenario.earlier_attempts, start=1)
        ],
        "final_attempt": final_attempt,
        "steps": [
            {
                "keyword": step.keyword,
                "name": step.name,
                "status": step.status.value,
                "duration": format_duration(step.duration_s),
                "error": step.error,
            }
            for step in scenario.steps
        ],
        "shots": [e for e in current if e["is_image"]],
        "tables": [e for e in current if e["is_table"]],
        "texts": [e for e in current if not e["is_image"] and not e["is_table"]],
    }


def _item_view(item: ItemResult, first_seen: dict[str, str], images: _Images, hashes: dict[str, str]) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "blocking": item.blocking,
        "status": item.status.value,
        "status_class": _STATUS_CLASS[item.status],
        "reason": item.reason,
        "cause": item.cause,
        "note": item.note,
        "witness": item.witness,
        "refs": list(item.evidence_refs),
        "flaky": sum(1 for s in item.scenarios if s.flaky),
        "scenarios": [_scenario_view(s, item.id, first_seen, images, hashes) for s in item.scenarios],
    }


def _groups(items: Iterable[ItemResult], status: ItemStatus) -> list[dict[str, Any]]:
    groups: dict[str, list[str]] = {}
    for item in items:
        if item.status is status:
            groups.setdefault(item.cause or item.reason, []).append(item.id)
    return [{"cause": cause, "ids": ids} for cause, ids in groups.items()]


def _audit_view(audit: ConfigurationAudit | None) -> dict[str, Any] | None:
    """``readiness.json``'s audit, with the FAIL and WARN counts and each finding's badge class."""
    data = audit_json(audit)
    if audit is None or data is None:
        return None
    data["failed"] = len(audit.failed)
    data["warned"] = len(audit.warned)
    classes = {"PASS": "pass", "WARN": "notrun", "FAIL": "fail"}
    for finding in data["findings"]:
        finding["class"] = classes[finding["result"]]
    return data


def _identity(report: Report) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """(identity rows, URL rows, other rows) of the target; the audit has its own section."""
    identity, urls, other = [], [], []
    for key, value in report.target.items():
        if key == "configuration_audit":
            continue
        text = format_value(value)
        if key in IDENTITY_KEYS:
            identity.append((IDENTITY_KEYS[key], text))
        elif key.endswith("_url") or key.endswith("_urls"):
            urls.append((key, text))
        else:
            other.append((key, text))
    order = list(IDENTITY_KEYS.values())
    identity.sort(key=lambda row: order.index(row[0]))
    return identity, urls, other


def _comparison_view(comparison: Comparison | None) -> dict[str, Any] | None:
    """``readiness.json``'s comparison, with "absent" for an item one of the two runs did not have."""
    data = comparison_json(comparison)
    if data is None:
        return None
    for change in data["changes"]:
        change["before"] = change["before"] or "absent"
        change["after"] = change["after"] or "absent"
    return data


def _against(report: Report) -> str:
    target = report.target
    parts = [str(target.get("name") or "an undescribed target")]
    for key, label in (("gateway_version", "gateway"), ("gateway_commit", "commit"), ("provider_mode", "bank")):
        if target.get(key):
            parts.append(f"{label} {format_value(target[key])}")
    return ", ".join(parts)


def html_context(
    report: Report,
    *,
    folder: Path | None = None,
    fingerprint: str | None = None,
    comparison: Comparison | None = None,
    hashes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The template's whole world: plain strings, numbers, lists and dicts."""
    hashes = hashes or {}
    images = _Images(folder, report)
    first_seen: dict[str, str] = {}
    items = [_item_view(item, first_seen, images, hashes) for item in report.items]
    identity, urls, other = _identity(report)
    css = environment().loader.get_source(environment(), CSS_NAME)[0]  # type: ignore[union-attr]
    if "</style" in css.lower():
        raise ValueError("the stylesheet must not close its own <style> element")
    repro = report.reproducibility
    return {
        "verdict": report.verdict.value,
        "verdict_class": "go" if report.verdict is Verdict.GO else "nogo",
        "generated_at": report.generated_at_iso,
        "reasons": list(report.reasons),
        "failed_rules": [{"id": r.id, "text": r.text, "details": list(r.details)} for r in report.failed_rules],
        "rules": [
            {
                "id": r.id,
                "text": r.text,
                "outcome": r.outcome.value,
                "details": list(r.details),
                "class": {RuleOutcome.PASSED: "pass", RuleOutcome.FAILED: "fail", RuleOutcome.NOT_COUNTED: "na"}[
                    r.outcome
                ],
            }
            for r in report.rules
        ],
        "listed": list(report.listed),
        "run": {
            "completed": report.run.completed,
            "problem": report.run.problem,
            "exit_code": report.run.exit_code,
            "output_tail": report.run.output_tail,
        },
        "identity": identity,
        "urls": urls,
        "target": other,
        "has_target": bool(identity or urls or other),
        "audit": _audit_view(report.audit),
        "summary": {
            "total": len(report.items),
            "pass": report.summary.passed,
            "fail": report.summary.failed,
            "not_run": report.summary.not_run,
            "not_applicable": report.summary.not_applicable,
            "to_witness": report.summary.to_witness,
            "blocking_not_passed": report.summary.blocking_not_passed,
            "flaky": report.summary.flaky,
        },
        "failures": [item for item in items if item["status_class"] == "fail"],
        "not_run_groups": _groups(report.items, ItemStatus.NOT_RUN),
        "na_groups": _groups(report.items, ItemStatus.NOT_APPLICABLE),
        "flaky": [
            {"item": item["id"], "name": s["name"], "example": s["example"], "attempts": s["final_attempt"]}
            for item in items
            for s in item["scenarios"]
            if s["flaky"] and s["first"]
        ],
        "comparison": _comparison_view(comparison),
        "items": items,
        "witness_steps": [item for item in items if item["status_class"] == "witness"],
        "unmapped": [
            {
                "feature": entry.feature,
                "name": entry.name,
                "status": entry.status.value,
                "unknown_ids": ", ".join(entry.unknown_ids),
            }
            for entry in report.unmapped
        ],
        "reproducibility": {
            "commit": repro.commit,
            "seed": repro.seed,
            "command": repro.command,
            "ran_by": repro.ran_by,
            "python": repro.python,
            "platform": repro.platform,
            "packages": sorted(repro.packages.items()),
        },
        "signoff": {
            "ran_by": repro.ran_by or "not recorded",
            "against": _against(report),
            "when": report.generated_at_iso,
        },
        "fingerprint": fingerprint,
        "self_contained": folder is not None,
        "css": Markup(css),  # noqa: S704 - our own packaged stylesheet, checked above
        "script": Markup(PRINT_SCRIPT),  # noqa: S704 - a constant of this module
        "csp": (
            f"default-src 'none'; img-src {IMG_SRC_ALONE if folder is not None else IMG_SRC_PREVIEW}; "
            f"style-src {_csp_hash(css)}; script-src {_csp_hash(PRINT_SCRIPT)}; base-uri 'none'; form-action 'none'"
        ),
        "images": {"count": images.count, "original_bytes": images.original_bytes, "inlined": images.inlined_bytes},
    }


def render_html(
    report: Report,
    *,
    folder: Path | None = None,
    fingerprint: str | None = None,
    comparison: Comparison | None = None,
    hashes: dict[str, str] | None = None,
) -> str:
    """The HTML document; with ``folder`` (the report folder) screenshots are inlined and the file stands alone."""
    context = html_context(report, folder=folder, fingerprint=fingerprint, comparison=comparison, hashes=hashes)
    return environment().get_template(HTML_NAME).render(context)
