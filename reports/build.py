"""Builder: checklist + scenario results + run log + evidence + target -> one typed, redacted ``Report``.

Role: the only place that combines the inputs. It applies the rules of ``reports.verdict``, attaches evidence
to each scenario example by its id (never by name: the rows of a Scenario Outline share one) and numbers it
(``E-001``... in the order the report shows it), takes skip reasons and earlier attempts from the pytest report log
(``reports.run_log``; a scenario skipped before its first step is known only there), lists scenarios tagged with
ids that are not in the checklist, takes the run's outcome and the target's configuration audit into account, adds
the caller's notes and the reproducibility block, and redacts every secret from the finished report.
``write_report`` hands the report to ``reports.write``.

This module never looks at how the results were produced (no gateway, simulator, lab or features imports).
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path, PurePath

from reports.audit import audit_of
from reports.checklist import Checklist, ChecklistItem, looks_like_item_id
from reports.errors import TargetError
from reports.evidence import Evidence
from reports.history import Comparison
from reports.model import ItemResult, ItemStatus, Report, ReportScenario, Summary, UnmappedScenario
from reports.redact import Redactor
from reports.reproducibility import Reproducibility, collect
from reports.results import ScenarioResult, Status
from reports.run import RunOutcome
from reports.run_log import Attempt, LoggedTest, RunLog, scenario_name_from_node_id
from reports.signing import SigningKey
from reports.verdict import ScenarioOutcome, decide, flaky_lines, item_outcome, missing_cause
from reports.write import write_all


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


def _logged_result(test: LoggedTest) -> ScenarioResult:
    """A scenario known only from the report log (skipped before its first step, or failed in setup)."""
    final = test.final
    return ScenarioResult(
        feature=test.feature or "",
        name=test.scenario or scenario_name_from_node_id(test.node_id),
        tags=test.tags,
        status=final.status,
        duration_s=final.duration_s,
        error=final.error if final.status is Status.FAILED else None,
        id=test.node_id,
    )


def _match_log(run_log: RunLog, result_ids: Iterable[str]) -> dict[str, LoggedTest]:
    """The logged test of each Cucumber id: the one whose node id it is, else the only one whose node id ends with
    ``::<id>`` (pytest-bdd's own ids are the bare test name; the feature suite makes them node ids)."""
    by_suffix: dict[str, list[LoggedTest]] = defaultdict(list)
    for test in run_log.tests.values():
        by_suffix[test.node_id.rsplit("::", 1)[-1]].append(test)
    matched: dict[str, LoggedTest] = {}
    for result_id in result_ids:
        if result_id in run_log.tests:
            matched[result_id] = run_log.tests[result_id]
        elif len(by_suffix.get(result_id, [])) == 1:
            matched[result_id] = by_suffix[result_id][0]
    return matched


def _attempts(
    results: Iterable[ScenarioResult], run_log: RunLog | None
) -> tuple[list[ScenarioResult], dict[str, tuple[Attempt, ...]], dict[str, str]]:
    """The last result of each example, its earlier attempts and its skip reason.

    A Cucumber file may list one example more than once (one element per attempt): the last one is the result, the
    ones before are earlier attempts. The report log's attempts win when it has the example; scenarios only the log
    knows are added after the Cucumber ones.
    """
    # One example is one (feature, name, id): pytest-bdd's bare ids repeat across modules, names across outline rows.
    last: dict[tuple[str, str, str], ScenarioResult] = {}
    earlier: dict[str, list[Attempt]] = defaultdict(list)
    ordered: list[ScenarioResult] = []
    for result in results:
        key = (result.feature, result.name, result.id)
        previous = last.get(key) if result.id else None
        if previous is not None:
            earlier[result.id].append(Attempt(previous.status, previous.duration_s, previous.error))
            ordered[ordered.index(previous)] = result
        else:
            ordered.append(result)
        if result.id:
            last[key] = result
    attempts = {key: tuple(value) for key, value in earlier.items()}
    skips: dict[str, str] = {}
    if run_log is None:
        return ordered, attempts, skips
    matched = _match_log(run_log, [key[2] for key in last])
    seen = {test.node_id for test in matched.values()}
    # A scenario that errored in setup never ran its steps: it is no result (the run's problem says why), not a FAIL.
    only_logged = {
        node_id: test
        for node_id, test in run_log.tests.items()
        if node_id not in seen and not test.final.errored_before_call
    }
    ordered.extend(_logged_result(test) for test in only_logged.values())  # skipped before their first step
    for result_id, test in {**matched, **only_logged}.items():
        if test.earlier:
            attempts[result_id] = test.earlier
        if test.final.skip_reason and test.final.status is Status.SKIPPED:
            skips[result_id] = test.final.skip_reason
    return ordered, attempts, skips


def _number_evidence(items: list[ItemResult]) -> list[ItemResult]:
    """Give every evidence record its reference ``E-001``... in the order the report shows it (a scenario tagged
    with two items keeps the references of its first appearance)."""
    refs: dict[tuple[str, int], str] = {}
    numbered: list[ItemResult] = []
    for item in items:
        scenarios = []
        for scenario in item.scenarios:
            evidence = []
            for index, record in enumerate(scenario.evidence):
                key = (scenario.id, index)
                if key not in refs:
                    refs[key] = f"E-{len(refs) + 1:03d}"
                evidence.append(dataclasses.replace(record, ref=refs[key]))
            scenarios.append(dataclasses.replace(scenario, evidence=tuple(evidence)))
        numbered.append(dataclasses.replace(item, scenarios=tuple(scenarios)))
    return numbered


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
    run_log: RunLog | None = None,
    reproducibility: Reproducibility | None = None,
) -> Report:
    """Build the readiness report.

    Guarantees: every checklist item appears once, in checklist order; an item is PASS only when it has
    scenarios and all of the applicable ones passed (NOT RUN and NOT APPLICABLE are never PASS); a scenario tagged
    with an unknown item id makes the verdict NO-GO; a run that did not complete (``run``) makes it NO-GO with the
    run's problem as the first reason; a witnessed step is TO WITNESS, never PASS and never a blocker; a counted
    configuration audit (``target["configuration_audit"]`` with ``counts: true``) that FAILs makes it NO-GO; no
    secret (nor its URL/JSON/HTML-encoded form) survives anywhere in the returned report. Evidence goes to the
    result whose ``id`` equals its ``scenario_id``, in input order, numbered ``E-001``...

    ``declared`` maps item ids to how many scenario examples the feature files tag with them (None: unknown), so
    a scenario that exists but produced no result counts as not run. ``notes`` maps item ids to a note shown with
    the item (ids not in the checklist are ignored). ``run_log`` is the pytest report log (skip reasons, earlier
    attempts of a rerun, scenarios skipped before their first step). ``reproducibility`` defaults to what this
    process can see (``reports.reproducibility.collect()``: versions, platform, user; no commit, seed or command).
    ``generated_at`` defaults to now and must be timezone-aware; it is stored in UTC.
    """
    items_in_order = tuple(checklist)
    known_ids = {item.id for item in items_in_order}
    if generated_at is None:
        generated_at = datetime.now(UTC)
    elif generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    generated_at = generated_at.astimezone(UTC)
    target_data = normalise_target(target)
    audit = audit_of(target_data)

    run = run or RunOutcome()
    notes = notes or {}

    evidence_by_scenario: dict[str, list[Evidence]] = defaultdict(list)
    for record in evidence:
        evidence_by_scenario[record.scenario_id].append(record)

    final_results, attempts, skips = _attempts(results, run_log)
    by_item: dict[str, list[ReportScenario]] = defaultdict(list)
    unmapped: list[UnmappedScenario] = []
    for result in final_results:
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
            skip_reason=skips.get(result.id) if result.status is Status.SKIPPED else None,
            earlier_attempts=attempts.get(result.id, ()),
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

    redactor = Redactor(secrets)
    run = redactor.deep(run)
    run_problem = None if run.completed else run.problem
    why_missing = missing_cause(target)
    item_results: list[ItemResult] = []
    for item in items_in_order:
        # Redact before the reasons are derived from names, and again over the whole report below.
        scenarios = redactor.deep(tuple(by_item.get(item.id, ())))
        declared_count = None if declared is None else declared.get(item.id, 0)
        outcome = item_outcome(
            [ScenarioOutcome(s.name, s.status, s.skip_reason) for s in scenarios],
            declared=declared_count,
            run_problem=run_problem,
            witness=item.witness,
            why_missing=why_missing,
        )
        item_results.append(
            ItemResult(
                id=item.id,
                title=item.title,
                blocking=item.blocking,
                status=outcome.status,
                reason=outcome.reason,
                scenarios=scenarios,
                note=notes.get(item.id),
                witness=item.witness,
                cause=outcome.cause,
                declared=declared_count,
            )
        )
    item_results = _number_evidence(item_results)
    unmapped = [redactor.deep(entry) for entry in unmapped]
    decision = decide(item_results, unmapped, run_problem=run_problem, audit=audit, flaky=flaky_lines(item_results))
    summary = Summary(
        passed=sum(1 for i in item_results if i.status is ItemStatus.PASS),
        failed=sum(1 for i in item_results if i.status is ItemStatus.FAIL),
        not_run=sum(1 for i in item_results if i.status is ItemStatus.NOT_RUN),
        blocking_not_passed=sum(
            1 for i in item_results if i.blocking and i.status in (ItemStatus.FAIL, ItemStatus.NOT_RUN)
        ),
        to_witness=sum(1 for i in item_results if i.status is ItemStatus.TO_WITNESS),
        not_applicable=sum(1 for i in item_results if i.status is ItemStatus.NOT_APPLICABLE),
        flaky=len(flaky_lines(item_results)),
    )
    report = Report(
        verdict=decision.verdict,
        generated_at=generated_at,
        target=target_data,
        summary=summary,
        reasons=decision.reasons,
        items=tuple(item_results),
        unmapped=tuple(unmapped),
        run=run,
        rules=decision.rules,
        listed=decision.listed,
        audit=audit,
        reproducibility=reproducibility if reproducibility is not None else collect(),
    )
    return redactor.deep(report)


def write_report(
    report: Report,
    out_dir: Path,
    *,
    signing_key: SigningKey | None = None,
    comparison: Comparison | None = None,
    keep_history: bool = True,
) -> dict[str, Path]:
    """Write the run's report files into ``out_dir`` (created) and seal the folder.

    Writes ``readiness.json`` (schema ``reports.schema``), ``readiness.html`` (one self-contained file: screenshots
    inlined), ``readiness-junit.xml`` (the verdict is a testcase: NO-GO fails it), then ``manifest.json`` (SHA-256
    of every file in the folder) and, with ``signing_key``, ``signature.json`` (Ed25519 over the verdict and the
    manifest). ``comparison`` (``reports.history.compare``) is shown in the HTML and stored in the JSON. With
    ``keep_history`` a copy of ``readiness.json`` goes to ``history/<timestamp>.json`` (outside the manifest).
    Call it last: a file written into ``out_dir`` afterwards shows up as added in ``vposlab verify``.

    Returns the paths by key: ``json``, ``html``, ``junit``, ``manifest``, and ``signature``, ``history`` when
    written. Raises ``OutputError`` when a file cannot be written.
    """
    return write_all(report, out_dir, signing_key=signing_key, comparison=comparison, keep_history=keep_history)
