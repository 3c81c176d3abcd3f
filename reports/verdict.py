"""The readiness rules: one finding per checklist item, then GO or NO-GO with the exact rules that failed.

Role: pure functions over scenario statuses; no I/O, no formatting beyond the reason strings.

Item rule (its scenarios are the results tagged with its id; ``declared`` is how many scenario examples the feature
files tag with it, None when unknown; ``total`` is the larger of the two counts). A scenario skipped with a reason
starting ``NOT APPLICABLE:`` does not apply to the target; one skipped with ``NOT RUN: <why>`` could not be checked
from here and is grouped by ``<why>`` (the conventions of ``features/support/applicability.py``; see also
``reports.run_log``):
- a witnessed step (RC-37)          -> TO WITNESS after GO (FAIL only if a rehearsal scenario failed); never PASS
- no result, none declared          -> NOT RUN, "no scenario covers this item yet"
- no result, the run did not
  complete and some or unknown
  scenarios declared                -> NOT RUN, "the feature run did not complete: <problem>"
- any scenario failed               -> FAIL
- every one of ``total`` not
  applicable                        -> NOT APPLICABLE with the reasons (never PASS, does not block GO, listed)
- all applicable ones passed (at
  least one), the rest not
  applicable                        -> PASS (when the run did not complete, only if ``declared`` proves that every
                                       scenario of the item ran); the reason counts the not applicable ones apart
- otherwise                         -> NOT RUN, "k of n scenarios did not run" (plus the skip reasons, the run's
                                       problem)

Verdict rules; GO only when none fails (``RULES``):
  V-01 the feature run completed
  V-02 no item FAIL (blocking or not)
  V-03 every blocking item PASS (NOT RUN is never PASS; NOT APPLICABLE and TO WITNESS do not block, they are listed)
  V-04 every item id a scenario is tagged with is in the checklist
  V-05 the configuration audit passes (only when the target marks it as counting; otherwise shown, not counted)
``reasons`` are the failed rules' lines, each once, in rule order: the run's problem first, then failures, then the
blocking items NOT RUN (one line per cause: those NOT RUN only because the run broke off, those no scenario covers
yet, those skipped for the same reason...; an item alone with its cause gets its own reason), then unknown ids, then
the audit's failed checks. ``listed`` is what is shown but never counted: NOT APPLICABLE items grouped by reason, steps
to witness, scenarios that passed only on a retry (flaky), an audit that does not count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from reports.audit import ConfigurationAudit
from reports.checklist import looks_like_item_id
from reports.model import ItemResult, ItemStatus, RuleOutcome, RuleResult, UnmappedScenario, Verdict
from reports.results import Status

NO_SCENARIO = "no scenario covers this item yet"
RUN_INCOMPLETE = "the feature run did not complete"
TO_WITNESS = "to witness and sign after GO: a person carries it out on REAL after the switch"
NOT_APPLICABLE_PREFIX = "NOT APPLICABLE:"
NOT_RUN_PREFIX = "NOT RUN:"  # a skip that says so itself: "NOT RUN: <why it could not be checked from here>"
FAILED_CAUSE = "scenarios failed"
NO_RESULT_CAUSE = "declared scenarios produced no result"
SKIPPED_NO_REASON = "skipped without a reason"

RULES: dict[str, str] = {
    "V-01": "the feature run completed",
    "V-02": "no item FAIL (blocking or not)",
    "V-03": "every blocking item PASS (NOT RUN is never PASS; NOT APPLICABLE and TO WITNESS do not block)",
    "V-04": "every item id a scenario is tagged with is in the checklist",
    "V-05": "the configuration audit passes (when the target marks it as counting)",
}

__all__ = [
    "NOT_APPLICABLE_PREFIX",
    "NO_SCENARIO",
    "RULES",
    "RUN_INCOMPLETE",
    "TO_WITNESS",
    "Decision",
    "ItemOutcome",
    "ScenarioOutcome",
    "decide",
    "flaky_lines",
    "item_outcome",
    "looks_like_item_id",
    "not_applicable_reason",
]


class ScenarioOutcome(NamedTuple):
    """What the item rule needs of one scenario example (a plain ``(name, status)`` tuple works too)."""

    name: str
    status: Status
    skip_reason: str | None = None


class ItemOutcome(NamedTuple):
    """An item's finding: its status, the reason, and the cause shared by items that did not run alike."""

    status: ItemStatus
    reason: str
    cause: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    rules: tuple[RuleResult, ...]
    reasons: tuple[str, ...]
    listed: tuple[str, ...]


def not_applicable_reason(skip_reason: str | None) -> str | None:
    """Why a scenario does not apply, when its skip reason starts with ``NOT APPLICABLE:``; else None."""
    if not skip_reason or not skip_reason.upper().startswith(NOT_APPLICABLE_PREFIX):
        return None
    return skip_reason[len(NOT_APPLICABLE_PREFIX) :].strip() or "not applicable to this target"


def _plural(n: int) -> str:
    return "scenario" if n == 1 else "scenarios"


def _names(names: Sequence[str], limit: int = 3) -> str:
    shown = [f"'{name}'" for name in names[:limit]]
    if len(names) > limit:
        shown.append(f"and {len(names) - limit} more")
    return ", ".join(shown)


def _unique(values: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def run_incomplete_reason(problem: str) -> str:
    return f"{RUN_INCOMPLETE}: {problem}"


def skip_cause(skip_reason: str | None) -> str:
    """Why a skipped scenario did not run, as the summary groups it: ``NOT RUN: <why>`` gives ``<why>``, any other
    reason ``skipped: <reason>``."""
    if not skip_reason:
        return SKIPPED_NO_REASON
    if skip_reason.upper().startswith(NOT_RUN_PREFIX):
        return skip_reason[len(NOT_RUN_PREFIX) :].strip() or SKIPPED_NO_REASON
    return f"skipped: {skip_reason}"


def missing_cause(target: Mapping[str, Any]) -> str:
    """Why a declared scenario has no result: a partial run names its selection (``--item``, ``-k``), since those
    scenarios were not selected; otherwise they produced no result."""
    selected = target.get("items_selected")
    chosen = []
    if isinstance(selected, list) and selected:
        chosen.append("--item " + ", ".join(str(item) for item in selected))
    if target.get("scenario_filter"):
        chosen.append(f"-k {target['scenario_filter']!r}")
    return f"not selected by {' and '.join(chosen)}" if chosen else NO_RESULT_CAUSE


def _not_run_causes(outcomes: Sequence[ScenarioOutcome], missing: int, why_missing: str) -> list[str]:
    causes = [
        skip_cause(o.skip_reason)
        for o in outcomes
        if o.status is Status.SKIPPED and not_applicable_reason(o.skip_reason) is None
    ]
    if missing:
        causes.append(why_missing)
    return _unique(causes)


def item_outcome(
    scenarios: Sequence[ScenarioOutcome | tuple[str, Status]],
    *,
    declared: int | None = None,
    run_problem: str | None = None,
    witness: bool = False,
    why_missing: str = NO_RESULT_CAUSE,
) -> ItemOutcome:
    """Finding of one item from its scenarios (see the module docstring).

    ``run_problem`` is set when the feature run did not complete; ``witness`` for a step witnessed after GO;
    ``why_missing`` says why declared scenarios have no result (``missing_cause``).
    """
    outcomes = [ScenarioOutcome(*s) for s in scenarios]
    ran = len(outcomes)
    total = max(ran, declared or 0)
    incomplete = run_incomplete_reason(run_problem) if run_problem else None
    failed = [o.name for o in outcomes if o.status is Status.FAILED]
    passed = sum(1 for o in outcomes if o.status is Status.PASSED)
    na_reasons = [r for o in outcomes if o.status is Status.SKIPPED and (r := not_applicable_reason(o.skip_reason))]
    not_applicable = len(na_reasons)
    na_text = "; ".join(_unique(na_reasons))
    counted = incomplete is None or declared is not None  # the counts prove every scenario of the item was seen
    if witness and not failed:
        if ran:
            return ItemOutcome(
                ItemStatus.TO_WITNESS, f"{TO_WITNESS} (rehearsed in this run: {passed} of {ran} passed)", TO_WITNESS
            )
        return ItemOutcome(ItemStatus.TO_WITNESS, TO_WITNESS, TO_WITNESS)
    if total == 0:
        if incomplete and declared is None:
            return ItemOutcome(ItemStatus.NOT_RUN, incomplete, incomplete)
        return ItemOutcome(ItemStatus.NOT_RUN, NO_SCENARIO, NO_SCENARIO)
    if failed:
        return ItemOutcome(
            ItemStatus.FAIL, f"{len(failed)} of {total} {_plural(total)} failed: {_names(failed)}", FAILED_CAUSE
        )
    if ran == 0 and incomplete:
        return ItemOutcome(ItemStatus.NOT_RUN, incomplete, incomplete)
    if not_applicable == total and counted:
        return ItemOutcome(
            ItemStatus.NOT_APPLICABLE, f"{total} of {total} {_plural(total)} not applicable: {na_text}", na_text
        )
    applicable = total - not_applicable
    if passed and passed == applicable and counted:
        if not_applicable:
            reason = (
                f"{passed} of {passed} applicable {_plural(passed)} passed; {not_applicable} not applicable: {na_text}"
            )
            return ItemOutcome(ItemStatus.PASS, reason, "")
        return ItemOutcome(ItemStatus.PASS, f"{total} of {total} {_plural(total)} passed", "")
    if passed and passed == applicable:  # the run broke off and nothing says how many scenarios the item has
        reason = f"{passed} {_plural(passed)} passed, others may not have run: {incomplete}"
        return ItemOutcome(ItemStatus.NOT_RUN, reason, str(incomplete))
    missing = total - ran
    causes = _not_run_causes(outcomes, missing, why_missing)
    skipped_reasons = [c for c in causes if c not in (NO_RESULT_CAUSE, SKIPPED_NO_REASON)]
    reason = f"{applicable - passed} of {total} {_plural(total)} did not run"
    if skipped_reasons:
        reason += f" ({'; '.join(skipped_reasons)})"
    if not_applicable:
        reason += f"; {not_applicable} not applicable: {na_text}"
    if incomplete:
        return ItemOutcome(ItemStatus.NOT_RUN, f"{reason} ({incomplete})", incomplete)
    return ItemOutcome(ItemStatus.NOT_RUN, reason, "; ".join(causes) or SKIPPED_NO_REASON)


def flaky_lines(items: Sequence[ItemResult]) -> list[str]:
    """One line per scenario example that passed only on a retry (each once, under its first item)."""
    lines: list[str] = []
    seen: set[str] = set()
    for item in items:
        for scenario in item.scenarios:
            key = scenario.id or f"{scenario.feature}/{scenario.name}"
            if scenario.flaky and key not in seen:
                seen.add(key)
                n = len(scenario.earlier_attempts) + 1
                lines.append(f"{item.id} '{scenario.name}' passed on attempt {n} of {n}")
    return lines


def _groups(items: Sequence[ItemResult], status: ItemStatus) -> list[tuple[str, list[str]]]:
    """``(cause, [item ids])`` for the items with ``status``, causes in order of first appearance."""
    groups: dict[str, list[str]] = {}
    for item in items:
        if item.status is status:
            groups.setdefault(item.cause or item.reason, []).append(item.id)
    return list(groups.items())


def listed_not_counted(
    items: Sequence[ItemResult], audit: ConfigurationAudit | None, flaky: Sequence[str]
) -> tuple[str, ...]:
    """What the report shows with the verdict but never counts."""
    lines = [
        f"NOT APPLICABLE, not counted: {', '.join(ids)}: {cause}"
        for cause, ids in _groups(items, ItemStatus.NOT_APPLICABLE)
    ]
    witness = [item.id for item in items if item.status is ItemStatus.TO_WITNESS]
    if witness:
        lines.append(f"TO WITNESS after GO, not counted: {', '.join(witness)}")
    lines.extend(f"flaky, passed only on a retry: {entry}" for entry in flaky)
    if audit is not None and not audit.counts:
        state = "ready" if audit.ready else f"{len(audit.failed)} check(s) FAIL"
        lines.append(f"configuration audit shown, not counted ({state}): {audit.reason}")
    return tuple(lines)


def decide(
    items: Sequence[ItemResult],
    unmapped: Sequence[UnmappedScenario],
    *,
    run_problem: str | None = None,
    audit: ConfigurationAudit | None = None,
    flaky: Sequence[str] = (),
) -> Decision:
    """GO or NO-GO, every rule with its outcome, the failed rules' lines and what is listed but not counted.

    ``run_problem``: why the feature run did not complete; ``audit``: the target's configuration audit; ``flaky``:
    one line per scenario that passed only on a retry.
    """
    v01 = [run_incomplete_reason(run_problem)] if run_problem else []
    v02 = [
        f"{item.id} ({'blocking' if item.blocking else 'non-blocking'}) FAIL: {item.reason}"
        for item in items
        if item.status is ItemStatus.FAIL
    ]
    broken_off: list[str] = []  # items NOT RUN only because the run broke off: one line, not one per item
    v03: list[str] = []
    not_run: dict[str, list[ItemResult]] = {}  # blocking items NOT RUN, by cause: one line per cause
    for item in items:
        if not item.blocking:
            continue
        if item.status is ItemStatus.FAIL:
            v03.append(f"{item.id} (blocking) FAIL: {item.reason}")
        elif item.status is ItemStatus.NOT_RUN:
            if run_problem and item.reason == run_incomplete_reason(run_problem):
                broken_off.append(item.id)
            else:
                not_run.setdefault(item.cause or item.reason, []).append(item)
    if broken_off:
        n = len(broken_off)
        v03.insert(
            0,
            f"{n} blocking {'item' if n == 1 else 'items'} NOT RUN because the feature run did not complete: "
            + ", ".join(broken_off),
        )
    for cause, group in not_run.items():
        if len(group) == 1:
            v03.append(f"{group[0].id} (blocking) NOT RUN: {group[0].reason}")
        else:
            v03.append(f"{len(group)} blocking items NOT RUN: {cause}: {', '.join(i.id for i in group)}")
    v04 = [
        f"unknown item id {', '.join(s.unknown_ids)} on scenario '{s.name}' (feature '{s.feature}'):"
        " not in the checklist"
        for s in unmapped
    ]
    rules = [
        _rule("V-01", v01),
        _rule("V-02", v02),
        _rule("V-03", v03),
        _rule("V-04", v04),
        _audit_rule(audit),
    ]
    reasons = tuple(_unique([line for rule in rules if rule.outcome is RuleOutcome.FAILED for line in rule.details]))
    verdict = Verdict.NO_GO if any(rule.outcome is RuleOutcome.FAILED for rule in rules) else Verdict.GO
    return Decision(verdict, tuple(rules), reasons, listed_not_counted(items, audit, flaky))


def _rule(rule_id: str, details: list[str]) -> RuleResult:
    outcome = RuleOutcome.FAILED if details else RuleOutcome.PASSED
    return RuleResult(rule_id, RULES[rule_id], outcome, tuple(details))


def _audit_rule(audit: ConfigurationAudit | None) -> RuleResult:
    if audit is None:
        return RuleResult(
            "V-05", RULES["V-05"], RuleOutcome.NOT_COUNTED, ("the target carries no configuration audit",)
        )
    failed = tuple(f"configuration audit {f.check} FAIL: {f.title}: {f.detail}" for f in audit.failed)
    if not audit.counts:
        return RuleResult("V-05", RULES["V-05"], RuleOutcome.NOT_COUNTED, (f"not counted: {audit.reason}", *failed))
    return RuleResult("V-05", RULES["V-05"], RuleOutcome.FAILED if failed else RuleOutcome.PASSED, failed)
