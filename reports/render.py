"""Renderers: a ``Report`` -> ``readiness.json``, ``readiness.html``, ``readiness-junit.xml``.

Role: data in, template out (house rule 12). The report is already redacted; this module only shapes it:
- JSON: a stable top-level shape, built explicitly here (not by dumping dataclasses), so a model change
  cannot silently change the contract;
- HTML: a view context of plain values -> ``templates/readiness.html`` through Jinja2 with ``StrictUndefined``
  (a missing value is an error, not an empty cell) and autoescape on (scenario names are never markup);
- JUnit XML: built with ``xml.etree`` (escaping for free); one ``testcase`` per checklist item.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from reports.errors import OutputError
from reports.evidence import Evidence, EvidenceKind, is_web_url
from reports.model import ItemResult, ItemStatus, Report, ReportScenario, Verdict
from reports.results import StepResult
from reports.run import RunOutcome

JSON_NAME = "readiness.json"
HTML_NAME = "readiness.html"
JUNIT_NAME = "readiness-junit.xml"

# Characters XML 1.0 cannot carry at all (escaping does not help): dropped from the JUnit file.
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# ---------------------------------------------------------------- JSON


def _step_json(step: StepResult) -> dict[str, Any]:
    return {
        "keyword": step.keyword,
        "name": step.name,
        "status": step.status.value,
        "duration_s": step.duration_s,
        "error": step.error,
    }


def _evidence_json(record: Evidence) -> dict[str, Any]:
    return {"kind": record.kind.value, "label": record.label, "path": record.path, "text": record.text}


def _scenario_json(scenario: ReportScenario) -> dict[str, Any]:
    return {
        "id": scenario.id,
        "feature": scenario.feature,
        "name": scenario.name,
        "status": scenario.status.value,
        "duration_s": scenario.duration_s,
        "error": scenario.error,
        "steps": [_step_json(step) for step in scenario.steps],
        "evidence": [_evidence_json(record) for record in scenario.evidence],
    }


def _item_json(item: ItemResult) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "blocking": item.blocking,
        "status": item.status.value,
        "reason": item.reason,
        "note": item.note,
        "witness": item.witness,
        "scenarios": [_scenario_json(s) for s in item.scenarios],
    }


def _run_json(run: RunOutcome) -> dict[str, Any]:
    return {
        "completed": run.completed,
        "problem": run.problem,
        "exit_code": run.exit_code,
        "output_tail": run.output_tail,
    }


def report_to_json(report: Report) -> dict[str, Any]:
    """The stable JSON document (see the module docstring of ``reports`` for the shape)."""
    return {
        "verdict": report.verdict.value,
        "generated_at": report.generated_at_iso,
        "target": dict(report.target),
        "run": _run_json(report.run),
        "summary": {
            "PASS": report.summary.passed,
            "FAIL": report.summary.failed,
            "NOT RUN": report.summary.not_run,
            "TO WITNESS": report.summary.to_witness,
            "blocking_not_passed": report.summary.blocking_not_passed,
        },
        "reasons": list(report.reasons),
        "items": [_item_json(item) for item in report.items],
        "unmapped": [
            {
                "feature": entry.feature,
                "name": entry.name,
                "status": entry.status.value,
                "unknown_ids": list(entry.unknown_ids),
            }
            for entry in report.unmapped
        ],
    }


def render_json(report: Report) -> str:
    return json.dumps(report_to_json(report), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- HTML


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _format_value(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


def _format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def _href(path: str) -> str:
    if is_web_url(path):
        return path
    return quote(path.replace("\\", "/"), safe="/")


_EXAMPLE_RE = re.compile(r"\[(.+)\]$")


def example_of(scenario_id: str) -> str | None:
    """The example row of a Scenario Outline from its id's parametrization (``test_x[4242-en]`` -> ``4242-en``).

    pytest writes non-ASCII parameters escaped (``\\u0561``); they are shown as the text they stand for.
    """
    match = _EXAMPLE_RE.search(scenario_id)
    if not match:
        return None
    example = match.group(1)
    try:
        return example.encode("ascii").decode("unicode_escape")
    except (UnicodeEncodeError, UnicodeDecodeError):  # not pytest's escaping: shown as it is
        return example


def _evidence_view(record: Evidence) -> dict[str, Any]:
    return {
        "kind": record.kind.value,
        "label": record.label,
        "href": _href(record.path) if record.path is not None else None,
        "path": record.path,
        "text": record.text,
        "is_image": record.kind is EvidenceKind.SCREENSHOT,
    }


def error_summary(error: str | None) -> str | None:
    """The lines that say what went wrong (pytest's ``E   `` lines), else the last non-empty line."""
    if not error:
        return None
    lines = error.splitlines()
    marked = [line[1:].strip() for line in lines if line.startswith("E ")]
    if marked:
        return "\n".join(marked)
    meaningful = [line.strip() for line in lines if line.strip()]
    return meaningful[-1] if meaningful else error.strip()


def _scenario_view(scenario: ReportScenario) -> dict[str, Any]:
    return {
        "id": scenario.id,
        "example": example_of(scenario.id),
        "feature": scenario.feature,
        "name": scenario.name,
        "tags": [f"@{tag}" for tag in scenario.tags],
        "status": scenario.status.value,
        "duration": _format_duration(scenario.duration_s),
        "error": scenario.error,
        "error_summary": error_summary(scenario.error),
        "steps": [
            {
                "keyword": step.keyword,
                "name": step.name,
                "status": step.status.value,
                "duration": _format_duration(step.duration_s),
                "error": step.error,
            }
            for step in scenario.steps
        ],
        "evidence": [_evidence_view(record) for record in scenario.evidence],
    }


_STATUS_CLASS = {
    ItemStatus.PASS: "pass",
    ItemStatus.FAIL: "fail",
    ItemStatus.NOT_RUN: "notrun",
    ItemStatus.TO_WITNESS: "witness",
}


def _item_view(item: ItemResult) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "blocking": item.blocking,
        "status": item.status.value,
        "status_class": _STATUS_CLASS[item.status],
        "reason": item.reason,
        "note": item.note,
        "witness": item.witness,
        "scenarios": [_scenario_view(s) for s in item.scenarios],
    }


def html_context(report: Report) -> dict[str, Any]:
    """The template's whole world: plain strings, numbers, lists and dicts."""
    return {
        "verdict": report.verdict.value,
        "verdict_class": "go" if report.verdict is Verdict.GO else "nogo",
        "generated_at": report.generated_at_iso,
        "reasons": list(report.reasons),
        "run": {
            "completed": report.run.completed,
            "problem": report.run.problem,
            "exit_code": report.run.exit_code,
            "output_tail": report.run.output_tail,
        },
        "target": [(str(key), _format_value(value)) for key, value in report.target.items()],
        "summary": {
            "total": len(report.items),
            "pass": report.summary.passed,
            "fail": report.summary.failed,
            "not_run": report.summary.not_run,
            "to_witness": report.summary.to_witness,
            "blocking_not_passed": report.summary.blocking_not_passed,
        },
        "items": [_item_view(item) for item in report.items],
        "witness_steps": [_item_view(item) for item in report.items if item.status is ItemStatus.TO_WITNESS],
        "unmapped": [
            {
                "feature": entry.feature,
                "name": entry.name,
                "status": entry.status.value,
                "unknown_ids": ", ".join(entry.unknown_ids),
            }
            for entry in report.unmapped
        ],
    }


def render_html(report: Report) -> str:
    return _environment().get_template(HTML_NAME).render(html_context(report))


# ---------------------------------------------------------------- JUnit XML


def _xml_text(text: str) -> str:
    return _XML_INVALID_RE.sub("", text)


def _failure_details(item: ItemResult) -> str:
    parts = []
    for scenario in item.scenarios:
        if scenario.error:
            parts.append(f"{scenario.feature} / {scenario.name}:\n{scenario.error}")
    return "\n\n".join(parts)


def render_junit(report: Report) -> str:
    """One ``<testsuite name="readiness">``; FAIL -> ``<failure>``, NOT RUN and TO WITNESS -> ``<skipped>``.

    A run that did not complete adds one ``<testcase name="feature run">`` with an ``<error>``.
    """
    suite = ET.Element(
        "testsuite",
        {
            "name": "readiness",
            "tests": str(len(report.items) + (0 if report.run.completed else 1)),
            "failures": str(report.summary.failed),
            "errors": "0" if report.run.completed else "1",
            "skipped": str(report.summary.not_run + report.summary.to_witness),
            "time": f"{sum(s.duration_s for i in report.items for s in i.scenarios):.3f}",
            "timestamp": report.generated_at_iso,
        },
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "verdict", "value": report.verdict.value})
    for key, value in report.target.items():
        ET.SubElement(
            properties,
            "property",
            {"name": f"target.{_xml_text(str(key))}", "value": _xml_text(_format_value(value))},
        )
    if not report.run.completed:
        case = ET.SubElement(suite, "testcase", {"classname": "readiness", "name": "feature run", "time": "0.000"})
        error = ET.SubElement(case, "error", {"message": _xml_text(f"did not complete: {report.run.problem}")})
        error.text = _xml_text(report.run.output_tail)
    for item in report.items:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": "readiness",
                "name": _xml_text(f"{item.id} {item.title}"),
                "time": f"{sum(s.duration_s for s in item.scenarios):.3f}",
            },
        )
        if item.status is ItemStatus.FAIL:
            failure = ET.SubElement(case, "failure", {"message": _xml_text(item.reason)})
            failure.text = _xml_text(_failure_details(item))
        elif item.status in (ItemStatus.NOT_RUN, ItemStatus.TO_WITNESS):
            ET.SubElement(case, "skipped", {"message": _xml_text(item.reason)})
    if report.reasons:
        ET.SubElement(suite, "system-out").text = _xml_text(
            f"verdict: {report.verdict.value}\n" + "\n".join(report.reasons)
        )
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


# ---------------------------------------------------------------- files


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the report ({exc.strerror or exc})") from exc


def write_all(report: Report, out_dir: Path) -> dict[str, Path]:
    """Render all three files into ``out_dir`` (created with parents); returns their paths by format."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the report directory ({exc.strerror or exc})") from exc
    rendered: Mapping[str, tuple[str, str]] = {
        "json": (JSON_NAME, render_json(report)),
        "html": (HTML_NAME, render_html(report)),
        "junit": (JUNIT_NAME, render_junit(report)),
    }
    paths: dict[str, Path] = {}
    for key, (name, text) in rendered.items():
        path = out_dir / name
        _write_atomically(path, text)
        paths[key] = path
    return paths
