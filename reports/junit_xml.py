"""``readiness-junit.xml``: the report as JUnit XML, so a CI pipeline fails on NO-GO.

Role: one ``<testsuite name="readiness">`` built with ``xml.etree`` (escaping for free):
- first a ``<testcase name="verdict">``: GO passes; NO-GO fails with a ``<failure>`` whose message names the failed
  rules (``NO-GO: V-02 no item FAIL ...; V-03 ...``) and whose text lists each rule's lines. A pipeline that only
  counts failures therefore never reads a NO-GO as green;
- one ``testcase`` per checklist item: FAIL -> ``<failure>``; NOT RUN, NOT APPLICABLE and TO WITNESS ->
  ``<skipped>`` with the finding as message (``NOT APPLICABLE: ...``); a scenario that passed only on a retry adds a
  ``flaky`` property and a line in ``<system-out>``;
- a run that did not complete adds ``<testcase name="feature run">`` with an ``<error>``.
Characters XML 1.0 cannot carry at all are dropped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from reports.model import ItemResult, ItemStatus, Report, Verdict
from reports.text import format_value

JUNIT_NAME = "readiness-junit.xml"
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    return _XML_INVALID_RE.sub("", text)


def _failure_details(item: ItemResult) -> str:
    parts = []
    for scenario in item.scenarios:
        if scenario.error:
            parts.append(f"{scenario.feature} / {scenario.name}:\n{scenario.error}")
    return "\n\n".join(parts)


def verdict_message(report: Report) -> str:
    """``GO`` or ``NO-GO: V-02 no item FAIL (blocking or not); ...``."""
    if report.verdict is Verdict.GO:
        return "GO"
    return "NO-GO: " + "; ".join(f"{rule.id} {rule.text}" for rule in report.failed_rules)


def _verdict_case(suite: ET.Element, report: Report) -> None:
    case = ET.SubElement(suite, "testcase", {"classname": "readiness", "name": "verdict", "time": "0.000"})
    if report.verdict is Verdict.NO_GO:
        failure = ET.SubElement(case, "failure", {"message": xml_text(verdict_message(report)), "type": "NO-GO"})
        failure.text = xml_text(
            "\n\n".join(
                f"{rule.id} {rule.text}:\n" + "\n".join(f"  - {line}" for line in rule.details)
                for rule in report.failed_rules
            )
        )
    if report.listed:
        ET.SubElement(case, "system-out").text = xml_text("listed, not counted:\n" + "\n".join(report.listed))


def render_junit(report: Report) -> str:
    """The JUnit XML document (see the module docstring)."""
    incomplete = 0 if report.run.completed else 1
    skipped = report.summary.not_run + report.summary.to_witness + report.summary.not_applicable
    suite = ET.Element(
        "testsuite",
        {
            "name": "readiness",
            "tests": str(len(report.items) + 1 + incomplete),
            "failures": str(report.summary.failed + (1 if report.verdict is Verdict.NO_GO else 0)),
            "errors": str(incomplete),
            "skipped": str(skipped),
            "time": f"{sum(s.duration_s for i in report.items for s in i.scenarios):.3f}",
            "timestamp": report.generated_at_iso,
        },
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "verdict", "value": report.verdict.value})
    ET.SubElement(
        properties, "property", {"name": "failed_rules", "value": ",".join(r.id for r in report.failed_rules)}
    )
    for key, value in report.target.items():
        if key == "configuration_audit":
            continue  # its own section in the HTML; here only whether it counted
        ET.SubElement(
            properties,
            "property",
            {"name": f"target.{xml_text(str(key))}", "value": xml_text(format_value(value))},
        )
    if report.audit is not None:
        state = "ready" if report.audit.ready else "not ready"
        counted = "counted" if report.audit.counts else "not counted"
        ET.SubElement(properties, "property", {"name": "configuration_audit", "value": f"{state}, {counted}"})
    _verdict_case(suite, report)
    if not report.run.completed:
        case = ET.SubElement(suite, "testcase", {"classname": "readiness", "name": "feature run", "time": "0.000"})
        error = ET.SubElement(case, "error", {"message": xml_text(f"did not complete: {report.run.problem}")})
        error.text = xml_text(report.run.output_tail)
    for item in report.items:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": "readiness",
                "name": xml_text(f"{item.id} {item.title}"),
                "time": f"{sum(s.duration_s for s in item.scenarios):.3f}",
            },
        )
        flaky = [s for s in item.scenarios if s.flaky]
        if flaky:
            props = ET.SubElement(case, "properties")
            ET.SubElement(props, "property", {"name": "flaky", "value": str(len(flaky))})
        if item.status is ItemStatus.FAIL:
            failure = ET.SubElement(case, "failure", {"message": xml_text(item.reason)})
            failure.text = xml_text(_failure_details(item))
        elif item.status is ItemStatus.NOT_APPLICABLE:
            ET.SubElement(case, "skipped", {"message": xml_text(f"NOT APPLICABLE: {item.reason}")})
        elif item.status in (ItemStatus.NOT_RUN, ItemStatus.TO_WITNESS):
            ET.SubElement(case, "skipped", {"message": xml_text(item.reason)})
        if flaky:
            ET.SubElement(case, "system-out").text = xml_text(
                "\n".join(
                    f"flaky: '{s.name}' passed on attempt {len(s.earlier_attempts) + 1}; earlier: "
                    + "; ".join(a.error or a.status.value for a in s.earlier_attempts)
                    for s in flaky
                )
            )
    if report.reasons:
        ET.SubElement(suite, "system-out").text = xml_text(
            f"verdict: {report.verdict.value}\n" + "\n".join(report.reasons)
        )
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
