"""The typed readiness report: what the builder produces and the renderers consume.

Role: plain frozen dataclasses, no behaviour beyond small derived views. Everything in a ``Report`` is already
redacted (see ``reports.redact``) and ordered: items in checklist order, every checklist item present.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from reports.evidence import Evidence
from reports.results import Status, StepResult
from reports.run import RunOutcome


class ItemStatus(StrEnum):
    """Result of one checklist item. NOT RUN is never PASS.

    TO WITNESS is the status of a step a person witnesses and signs after GO (e.g. the REAL canary): it has not
    happened yet, so it is never PASS, and it never blocks GO.
    """

    PASS = "PASS"  # noqa: S105 - a status, not a password
    FAIL = "FAIL"
    NOT_RUN = "NOT RUN"
    TO_WITNESS = "TO WITNESS"


class Verdict(StrEnum):
    GO = "GO"
    NO_GO = "NO-GO"


@dataclass(frozen=True, slots=True)
class ReportScenario:
    """A scenario example as shown under an item: its result plus the evidence recorded for it (by ``id``)."""

    feature: str
    name: str
    tags: tuple[str, ...]
    status: Status
    duration_s: float
    error: str | None
    steps: tuple[StepResult, ...]
    evidence: tuple[Evidence, ...] = ()
    id: str = ""


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One checklist item with its status, the reason for it and the scenarios tagged with its id.

    ``note`` qualifies the result for people (e.g. "checked as far as the lab allows: ..."); ``witness`` marks a
    step a person witnesses and signs after GO.
    """

    id: str
    title: str
    blocking: bool
    status: ItemStatus
    reason: str
    scenarios: tuple[ReportScenario, ...] = ()
    note: str | None = None
    witness: bool = False


@dataclass(frozen=True, slots=True)
class UnmappedScenario:
    """A scenario tagged with an item id that is not in the checklist (a typo must not hide)."""

    feature: str
    name: str
    status: Status
    unknown_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    passed: int
    failed: int
    not_run: int
    blocking_not_passed: int
    to_witness: int = 0


@dataclass(frozen=True, slots=True)
class Report:
    """The whole readiness report. ``target`` is JSON-compatible data describing what was tested; ``run`` says
    whether the feature run completed."""

    verdict: Verdict
    generated_at: datetime
    target: Mapping[str, object]
    summary: Summary
    reasons: tuple[str, ...]
    items: tuple[ItemResult, ...]
    unmapped: tuple[UnmappedScenario, ...] = ()
    run: RunOutcome = field(default_factory=RunOutcome)

    @property
    def generated_at_iso(self) -> str:
        """``generated_at`` as ISO-8601 UTC with a ``Z`` suffix, e.g. ``2025-01-31T12:00:00Z``."""
        return self.generated_at.isoformat(timespec="seconds").replace("+00:00", "Z")
