"""Re-apply the readiness rules to a ``readiness.json``: does every finding and the verdict follow from the data?

Role: for ``vposlab verify``. From the document alone, recompute each item's finding from its scenarios
(``reports.verdict.item_outcome``: statuses, skip reasons, the declared count, the run's problem), then the verdict,
the failed rules, the reasons and the summary counts (``reports.verdict.decide``), and list every place where the
document says something else: an item edited from FAIL to PASS, a verdict edited to GO, a summary that does not
count the items. Pure: no files, no signature (``reports.verify`` does those).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports.audit import audit_of
from reports.errors import TargetError
from reports.model import ItemResult, ItemStatus, ReportScenario, UnmappedScenario
from reports.results import Status
from reports.run_log import Attempt
from reports.verdict import ScenarioOutcome, decide, flaky_lines, item_outcome, missing_cause


def _status(value: object) -> Status:
    return Status(str(value))


def _scenario(raw: Mapping[str, Any]) -> ReportScenario:
    return ReportScenario(
        feature=str(raw.get("feature", "")),
        name=str(raw.get("name", "")),
        tags=(),
        status=_status(raw.get("status")),
        duration_s=float(raw.get("duration_s") or 0.0),
        error=raw.get("error"),
        steps=(),
        id=str(raw.get("id", "")),
        skip_reason=raw.get("skip_reason"),
        earlier_attempts=tuple(
            Attempt(_status(a.get("status")), float(a.get("duration_s") or 0.0), a.get("error"), a.get("skip_reason"))
            for a in raw.get("attempts", [])
        ),
    )


def recheck(document: Mapping[str, Any]) -> list[str]:
    """Every way the document's findings, verdict, rules and summary do not follow from its own data.

    Expects a document that passed the schema check (``reports.schema_check``); returns human sentences naming the
    item, rule or count, empty when everything follows.
    """
    problems: list[str] = []
    run = document["run"]
    run_problem = None if run["completed"] else run["problem"]
    why_missing = missing_cause(document["target"])
    items: list[ItemResult] = []
    for raw in document["items"]:
        scenarios = tuple(_scenario(s) for s in raw["scenarios"])
        outcome = item_outcome(
            [ScenarioOutcome(s.name, s.status, s.skip_reason) for s in scenarios],
            declared=raw["declared_scenarios"],
            run_problem=run_problem,
            witness=raw["witness"],
            why_missing=why_missing,
        )
        if outcome.status.value != raw["status"]:
            problems.append(
                f"item {raw['id']} says {raw['status']} but its scenarios make it {outcome.status.value}"
                f" ({outcome.reason})"
            )
        elif outcome.reason != raw["reason"]:
            problems.append(f"item {raw['id']}: the reason was edited (it follows as: {outcome.reason})")
        items.append(
            ItemResult(
                id=raw["id"],
                title=raw["title"],
                blocking=raw["blocking"],
                status=outcome.status,
                reason=outcome.reason,
                scenarios=scenarios,
                witness=raw["witness"],
                cause=outcome.cause,
                declared=raw["declared_scenarios"],
            )
        )
    unmapped = [
        UnmappedScenario(u["feature"], u["name"], _status(u["status"]), tuple(u["unknown_ids"]))
        for u in document["unmapped"]
    ]
    try:
        audit = audit_of(document["target"])
    except TargetError as exc:
        problems.append(f"the configuration audit in the target cannot be read: {exc.message}")
        audit = None
    decision = decide(items, unmapped, run_problem=run_problem, audit=audit, flaky=flaky_lines(items))
    if decision.verdict.value != document["verdict"]:
        failed = ", ".join(r.id for r in decision.rules if r.outcome.value == "failed") or "none"
        problems.append(
            f"the verdict {document['verdict']} does not follow from the items: the rules give"
            f" {decision.verdict.value} (failed rules: {failed})"
        )
    expected_failed = [r.id for r in decision.rules if r.outcome.value == "failed"]
    if expected_failed != document["failed_rules"]:
        problems.append(f"failed_rules says {document['failed_rules']} but the rules give {expected_failed}")
    if list(decision.reasons) != document["reasons"]:
        problems.append("the reasons do not follow from the items and rules")
    stated_rules = {r["id"]: r["outcome"] for r in document["rules"]}
    for rule in decision.rules:
        if stated_rules.get(rule.id) != rule.outcome.value:
            problems.append(f"rule {rule.id} says {stated_rules.get(rule.id)} but follows as {rule.outcome.value}")
    counts = {status.value: sum(1 for i in items if i.status is status) for status in ItemStatus}
    summary = document["summary"]
    for key, value in counts.items():
        if summary.get(key) != value:
            problems.append(f"summary {key} says {summary.get(key)} but the items count {value}")
    blocking = sum(1 for i in items if i.blocking and i.status in (ItemStatus.FAIL, ItemStatus.NOT_RUN))
    if summary.get("blocking_not_passed") != blocking:
        problems.append(
            f"summary blocking_not_passed says {summary.get('blocking_not_passed')}, the items count {blocking}"
        )
    return problems
