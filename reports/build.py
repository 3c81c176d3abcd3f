"""Builder: checklist + scenario results + evidence + target -> one typed, redacted ``Report``.

Role: the only place that combines the inputs. It applies the rules of ``reports.verdict``, attaches evidence
to each scenario example by its id (never by name: the rows of a Scenario Outline share one), lists scenarios
tagged with ids that are not in the checklist, takes the run's outcome into account (a run that did not complete
is NO-GO and its items say why they did not run), adds the caller's notes to items, and redacts every secret
from the finished report. ``write_report`` hands the report to ``reports.render``.

This module never looks at how the results were produced (no gateway, simulator, lab or features imports).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path, PurePath

from reports.checklist import Checklist, ChecklistItem
from reports.errors import TargetError
from reports.evidence import Evidence
from reports.model import ItemResult, ItemStatus, Report, ReportScenario, Summary, UnmappedScenario
from reports.redact import Redactor
from reports.render import write_all
from reports.results import ScenarioResult
from reports.run import RunOutcome
from reports.verdict import decide, item_outcome, looks_like_item_id


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(type(value).__name__)


def normalise_target(target: Mapping[str, object]) -> dict[str, object]:
    """``target`` as plain JSON data (datetimes become ISO strings); ``TargetError`` if it cannot be."""
    if not isinstance(target, Mapping):
        raise TargetError(f"target must be a JSON object, got {type(target).__name__}")
    try:
        normalised = json.loads(json.dumps(dict(target), default=_json_default, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise TargetError(f"target is not JSON-compatible ({exc})") from exc
    if not isinstance(normalised, dict):
        raise TargetError("target must be a JSON object")
    return normalised


def build_report(
    checklist: Checklist | Iterable[ChecklistItem],
    results: Iterable[ScenarioResult],
    *,
    target: Mapping[str, object],
    evidence: Iterable[Evidence] = (),
    secrets: Iterable[str] = (),
    generated_at: datetime | None = None,
    run: RunOutcome | None = None,
    declared: Mapping[str, int] | None = None,
    notes: Mapping[str, str] | None = None,
) -> Report:
    """Build the readiness report.

    Guarantees: every checklist item appears once, in checklist order; an item is PASS only when it has
    scenarios and all of them passed; a scenario tagged with an unknown item id makes the verdict NO-GO; a run
    that did not complete (``run``) makes it NO-GO with the run's problem as the first reason; a witnessed step is
    TO WITNESS, never PASS and never a blocker; no secret (nor its URL/JSON/HTML-encoded form) survives anywhere
    in the returned report. Evidence goes to the result whose ``id`` equals its ``scenario_id``, in input order.

    ``declared`` maps item ids to how many scenario examples the feature files tag with them (None: unknown), so
    a scenario that exists but produced no result counts as not run. ``notes`` maps item ids to a note shown with
    the item (ids not in the checklist are ignored). ``generated_at`` defaults to now and must be timezone-aware;
    it is stored in UTC.
    """
    items_in_order = tuple(checklist)
    known_ids = {item.id for item in items_in_order}
    if generated_at is None:
        generated_at = datetime.now(UTC)
    elif generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    generated_at = generated_at.astimezone(UTC)

    run = run or RunOutcome()
    run_problem = None if run.completed else run.problem
    notes = notes or {}

    evidence_by_scenario: dict[str, list[Evidence]] = defaultdict(list)
    for record in evidence:
        evidence_by_scenario[record.scenario_id].append(record)

    by_item: dict[str, list[ReportScenario]] = defaultdict(list)
    unmapped: list[UnmappedScenario] = []
    for result in results:
        scenario = ReportScenario(
            feature=result.feature,
            name=result.name,
            tags=result.tags,
            status=result.status,
            duration_s=result.duration_s,
            error=result.error,
            steps=result.steps,
            evidence=tuple(evidence_by_scenario.get(result.id, ())) if result.id else (),
            id=result.id,
        )
        unknown: list[str] = []
        for tag in result.tags:
            if tag in known_ids:
                by_item[tag].append(scenario)
            elif looks_like_item_id(tag) and tag not in unknown:
                unknown.append(tag)
        if unknown:
            unmapped.append(
                UnmappedScenario(
                    feature=result.feature, name=result.name, status=result.status, unknown_ids=tuple(unknown)
                )
            )

    item_results: list[ItemResult] = []
    for item in items_in_order:
        scenarios = tuple(by_item.get(item.id, ()))
        status, reason = item_outcome(
            [(s.name, s.status) for s in scenarios],
            declared=None if declared is None else declared.get(item.id, 0),
            run_problem=run_problem,
            witness=item.witness,
        )
        item_results.append(
            ItemResult(
                id=item.id,
                title=item.title,
                blocking=item.blocking,
                status=status,
                reason=reason,
                scenarios=scenarios,
                note=notes.get(item.id),
                witness=item.witness,
            )
        )

    redactor = Redactor(secrets)
    # Redact before the reasons are derived from names, and again over the whole report below.
    item_results = [redactor.deep(item) for item in item_results]
    unmapped = [redactor.deep(entry) for entry in unmapped]
    run = redactor.deep(run)
    run_problem = None if run.completed else run.problem
    verdict, reasons = decide(item_results, unmapped, run_problem=run_problem)
    summary = Summary(
        passed=sum(1 for i in item_results if i.status is ItemStatus.PASS),
        failed=sum(1 for i in item_results if i.status is ItemStatus.FAIL),
        not_run=sum(1 for i in item_results if i.status is ItemStatus.NOT_RUN),
        blocking_not_passed=sum(
            1 for i in item_results if i.blocking and i.status not in (ItemStatus.PASS, ItemStatus.TO_WITNESS)
        ),
        to_witness=sum(1 for i in item_results if i.status is ItemStatus.TO_WITNESS),
    )
    report = Report(
        verdict=verdict,
        generated_at=generated_at,
        target=normalise_target(target),
        summary=summary,
        reasons=reasons,
        items=tuple(item_results),
        unmapped=tuple(unmapped),
        run=run,
    )
    return redactor.deep(report)


def write_report(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write ``readiness.json``, ``readiness.html`` and ``readiness-junit.xml`` into ``out_dir`` (created).

    Returns ``{"json": ..., "html": ..., "junit": ...}``.
    Raises ``OutputError`` when a file cannot be written.
    """
    return write_all(report, out_dir)
