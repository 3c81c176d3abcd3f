"""Errors of the ``reports`` package: one small tree, each class with a stable ``code``.

Role: every problem with the report's *inputs* (checklist, Cucumber JSON, evidence lines, target) or with
writing its *outputs* is raised as one of these, so callers (the CLI, the lab) catch ``ReportError`` once and
show ``code`` + message. Codes are stable: scripts may match on them; messages may change.

::

    ReportError                 report_error        base class, never raised directly
    +-- ChecklistError          checklist_invalid   checklist table missing, malformed or with duplicate ids
    +-- ResultsError            results_invalid     Cucumber JSON is not JSON or not the expected shape
    +-- EvidenceError           evidence_invalid    an evidence JSON line is malformed or has an unsafe path
    +-- TargetError             target_invalid      the target description (or its configuration audit) is malformed
    +-- OutputError             output_failed       the report files could not be written
    +-- SigningError            signing_failed      the signing key cannot be read, created or is not Ed25519
    +-- HistoryError            history_invalid     a previous report to compare with cannot be read
    +-- NotAReportError         not_a_report        the path given to verify is not a report folder or readiness.json

Messages never include secret values: they name the file and the location of the problem, not the data.
"""

from __future__ import annotations

from typing import ClassVar


class ReportError(Exception):
    """Base of every error raised by ``reports``; ``code`` is stable, the message is for humans."""

    code: ClassVar[str] = "report_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ChecklistError(ReportError):
    """The readiness checklist could not be read or parsed."""

    code: ClassVar[str] = "checklist_invalid"


class ResultsError(ReportError):
    """The scenario results (Cucumber JSON) are malformed."""

    code: ClassVar[str] = "results_invalid"


class EvidenceError(ReportError):
    """An evidence line is malformed or points somewhere it must not."""

    code: ClassVar[str] = "evidence_invalid"


class TargetError(ReportError):
    """The target description is not a JSON object."""

    code: ClassVar[str] = "target_invalid"


class OutputError(ReportError):
    """A report file could not be written."""

    code: ClassVar[str] = "output_failed"


class SigningError(ReportError):
    """The signing key (or a public key to trust) cannot be read or created."""

    code: ClassVar[str] = "signing_failed"


class HistoryError(ReportError):
    """A previous report to compare with cannot be read or is not a readiness report."""

    code: ClassVar[str] = "history_invalid"


class NotAReportError(ReportError):
    """The path given to ``verify`` is neither a report folder nor a ``readiness.json`` (a usage error)."""

    code: ClassVar[str] = "not_a_report"
