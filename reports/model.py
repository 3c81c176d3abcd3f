"""The typed readiness report: what the builder produces and the renderers consume.

Role: plain frozen dataclasses, no behaviour beyond small derived views. Everything in a ``Report`` is already
redacted (see ``reports.redact``) and ordered: items in checklist order, every checklist item present, evidence
numbered ``E-001``... in the order the report shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from reports.audit import ConfigurationAudit
from reports.evidence import Evidence
from reports.reproducibility import Reproducibility
from reports.results import Status, StepResult
from reports.run import RunOutcome
from reports.run_log import Attempt


class ItemStatus(StrEnum):
    """Result of one checklist item. NOT RUN is never PASS.

    TO WITNESS is the status of a step a person witnesses and signs after GO (e.g. the REAL canary): it has not
    happened yet, so it is never PASS, and it never blocks GO.

    NOT APPLICABLE is the status of an item whose every scenario was skipped because it does not apply to the
    target (a skip reason starting "NOT APPLICABLE:"): never PASS, it does not block GO, and it is always listed.
    """

    PASS = "PASS"  # noqa: S105 - a status, not a password
    FAIL = "FAIL"
    NOT_RUN = "NOT RUN"
    NOT_APPLICABLE = "NOT APPLICABLE"
    TO_WITNESS = "TO WITNESS"


class Verdict(StrEnum):
    GO = "GO"
    NO_GO = "NO-GO"


class RuleOutcome(StrEnum):
    """How one verdict rule came out: it held, it failed (NO-GO), or it was shown but not counted."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_COUNTED = "not counted"


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One verdict rule (``V-01``...) with its text, its outcome and the lines that say why."""

    id: str
    text: str
    outcome: RuleOutcome
    details: tuple[str, ...] = ()


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
    skip_reason: str | None = None
    earlier_attempts: tuple[Attempt, ...] = ()

    @property
    def flaky(self) -> bool:
        """Passed only on a retry: an earlier attempt of this example failed."""
        return self.status is Status.PASSED and any(a.status is Status.FAILED for a in self.earlier_attempts)


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One checklist item with its status, the reason for it and the scenarios tagged with its id.

    ``status`` and ``reason`` are the item's finding. ``cause`` is the reason in a form shared by items that did not
    run for the same reason (the summary groups by it). ``note`` qualifies the result for people (e.g. "checked as
    far as the lab allows: ..."); ``witness`` marks a step a person witnesses and signs after GO; ``declared`` is
    how many scenario examples the features tag with the item (None: unknown).
    """

    id: str
    title: str
    blocking: bool
    status: ItemStatus
    reason: str
    scenarios: tuple[ReportScenario, ...] = ()
    note: str | None = None
    witness: bool = False
    cause: str = ""
    declared: int | None = None

    @property
    def evidence_refs(self) -> tuple[str, ...]:
        """The references of the evidence of this item's scenarios, in order, each once."""
        refs: list[str] = []
        for scenario in self.scenarios:
            refs.extend(e.ref for e in scenario.evidence if e.ref and e.ref not in refs)
        return tuple(refs)


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
    not_applicable: int = 0
    flaky: int = 0


@dataclass(frozen=True, slots=True)
class Report:
    """The whole readiness report. ``target`` is JSON-compatible data describing what was tested; ``run`` says
    whether the feature run completed.

    ``rules`` are every verdict rule with its outcome; ``reasons`` the lines of the failed ones (each once);
    ``listed`` what is shown but not counted (NOT APPLICABLE items, steps to witness, flaky scenarios, an audit that
    does not count).
    """

    verdict: Verdict
    generated_at: datetime
    target: Mapping[str, object]
    summary: Summary
    reasons: tuple[str, ...]
    items: tuple[ItemResult, ...]
    unmapped: tuple[UnmappedScenario, ...] = ()
    run: RunOutcome = field(default_factory=RunOutcome)
    rules: tuple[RuleResult, ...] = ()
    listed: tuple[str, ...] = ()
    audit: ConfigurationAudit | None = None
    reproducibility: Reproducibility = field(default_factory=Reproducibility)

    @property
    def failed_rules(self) -> tuple[RuleResult, ...]:
        return tuple(rule for rule in self.rules if rule.outcome is RuleOutcome.FAILED)

    @property
    def generated_at_iso(self) -> str:
        """``generated_at`` as ISO-8601 UTC with a ``Z`` suffix, e.g. ``2025-01-31T12:00:00Z``."""
        return self.generated_at.isoformat(timespec="seconds").replace("+00:00", "Z")
