"""Renderers of a ``Report``, in one place for callers: ``readiness.json`` (``reports.json_doc``), ``readiness.html``
(``reports.html_view``) and ``readiness-junit.xml`` (``reports.junit_xml``); writing and sealing a folder is
``reports.write``.

Role: a thin facade, so callers and tests import the renderers from one module. Each renderer takes the already
redacted report; ``render_json`` and ``render_html`` without a folder give the document as the report alone says it
(no evidence hashes, screenshots linked rather than inlined).
"""

from __future__ import annotations

from reports.html_view import HTML_NAME, html_context, render_html
from reports.html_view import environment as _environment
from reports.json_doc import JSON_NAME, SCHEMA_VERSION, dumps, report_document
from reports.junit_xml import JUNIT_NAME, render_junit
from reports.model import Report
from reports.text import error_summary, example_of
from reports.write import write_all

__all__ = [
    "HTML_NAME",
    "JSON_NAME",
    "JUNIT_NAME",
    "SCHEMA_VERSION",
    "_environment",
    "error_summary",
    "example_of",
    "html_context",
    "render_html",
    "render_json",
    "render_junit",
    "report_to_json",
    "write_all",
]


def report_to_json(report: Report) -> dict[str, object]:
    """The ``readiness.json`` document of ``report`` alone (see ``reports.json_doc``)."""
    return report_document(report)


def render_json(report: Report) -> str:
    return dumps(report_document(report))
