"""The readiness rules: one status per checklist item, then GO or NO-GO.

Role: pure functions over scenario statuses; no I/O, no formatting beyond the reason strings.

Item rule (its scenarios are the results tagged with its id; ``declared`` is how many scenario examples the feature
files tag with it, None when unknown; ``total`` is the larger of the two counts):
- a witnessed step (RC-37)          -> TO WITNESS after GO (FAIL only if a rehearsal scenario failed); never PASS
- no result, none declared          -> NOT RUN, "no scenario covers this item yet"
- no result, the run did not
  complete and some or unknown
  scenarios declared                -> NOT RUN, "the feature run did not complete: <problem>"
- any scenario failed               -> FAIL
- all ``total`` passed              -> PASS (when the run did not complete, only if ``declared`` proves that
                                       every scenario of the item ran)
- otherwise                         -> NOT RUN, "k of n scenarios did not run" (plus the run's problem)

Verdict rule: GO only if the feature run completed, every blocking item is PASS, no item (blocking or not) is FAIL
and no scenario carries an item id that is not in the checklist. Otherwise NO-GO with one reason line per problem:
the run's problem first, then the blocking items NOT RUN only because of it (one line), then failures, then the
other blocking items that did not pass, then unknown ids. TO WITNESS never blocks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reports.model import ItemResult, ItemStatus, UnmappedScenario, Verdict
from reports.results import Status

NO_SCENARIO = "no scenario covers this item yet"
RUN_INCOMPLETE = "the feature run did not complete"
TO_WITNESS = "to witness and sign after GO: a person carries it out on REAL after the switch"

# Anything that looks like an item id, near misses included (rc-01, RC_1): a typo is reported, not dropped.
_ITEM_LIKE_RE = re.compile(r"^rc[-_ ]?\d+$", re.IGNORECASE)


def looks_like_item_id(tag: str) -> bool:
    return bool(_ITEM_LIKE_RE.match(tag.removeprefix("@")))


def _plural(n: int) -> str:
    return "scenario" if n == 1 else "scenarios"


def _names(names: Sequence[str], limit: int = 3) -> str:
    shown = [f"'{name}'" for name in names[:limit]]
    if len(names) > limit:
        shown.append(f"and {len(names) - limit} more")
    return ", ".join(shown)


def run_incomplete_reason(problem: str) -> str:
    return f"{RUN_INCOMPLETE}: {problem}"


def item_outcome(
    scenarios: Sequence[tuple[str, Status]],
    *,
    declared: int | None = None,
    run_problem: str | None = None,
    witness: bool = False,
) -> tuple[ItemStatus, str]:
    """Status and reason of one item from its scenarios' ``(name, status)`` (see the module docstring).

    ``run_problem`` is set when the feature run did not complete; ``witness`` for a step witnessed after GO.
    """
    ran = len(scenarios)
    total = max(ran, declared or 0)
    incomplete = run_incomplete_reason(run_problem) if run_problem else None
    failed = [name for name, status in scenarios if status is Status.FAILED]
    passed = sum(1 for _, status in scenarios if status is Status.PASSED)
    if witness and not failed:
        if ran:
            return ItemStatus.TO_WITNESS, f"{TO_WITNESS} (rehearsed in this run: {passed} of {ran} passed)"
        return ItemStatus.TO_WITNESS, TO_WITNESS
    if total == 0:
        if incomplete and declared is None:
            return ItemStatus.NOT_RUN, incomplete
        return ItemStatus.NOT_RUN, NO_SCENARIO
    if failed:
        return ItemStatus.FAIL, f"{len(failed)} of {total} {_plural(total)} failed: {_names(failed)}"
    if ran == 0 and incomplete:
        return ItemStatus.NOT_RUN, incomplete
    if passed == total and (incomplete is None or declared is not None):
        return ItemStatus.PASS, f"{total} of {total} {_plural(total)} passed"
    if passed == total:  # the run broke off and nothing says how many scenarios the item has
        return ItemStatus.NOT_RUN, f"{passed} {_plural(passed)} passed, others may not have run: {incomplete}"
    reason = f"{total - passed} of {total} {_plural(total)} did not run"
    return ItemStatus.NOT_RUN, f"{reason} ({incomplete})" if incomplete else reason


def decide(
    items: Sequence[ItemResult], unmapped: Sequence[UnmappedScenario], *, run_problem: str | None = None
) -> tuple[Verdict, tuple[str, ...]]:
    """GO or NO-GO and the reasons (empty for GO). ``run_problem``: why the feature run did not complete."""
    reasons: list[str] = []
    broken_off: list[str] = []  # items NOT RUN only because the run broke off: one line, not one per item
    not_run: list[str] = []
    for item in items:
        if item.blocking and item.status is ItemStatus.NOT_RUN:
            if run_problem and item.reason == run_incomplete_reason(run_problem):
                broken_off.append(item.id)
            else:
                not_run.append(f"{item.id} (blocking) NOT RUN: {item.reason}")
    if run_problem:
        reasons.append(run_incomplete_reason(run_problem))
    if broken_off:
        n = len(broken_off)
        reasons.append(
            f"{n} blocking {'item' if n == 1 else 'items'} NOT RUN because the feature run did not complete: "
            + ", ".join(broken_off)
        )
    for item in items:
        if item.status is ItemStatus.FAIL:
            kind = "blocking" if item.blocking else "non-blocking"
            reasons.append(f"{item.id} ({kind}) FAIL: {item.reason}")
    reasons.extend(not_run)
    for scenario in unmapped:
        ids = ", ".join(scenario.unknown_ids)
        reasons.append(
            f"unknown item id {ids} on scenario '{scenario.name}' (feature '{scenario.feature}'): not in the checklist"
        )
    return (Verdict.NO_GO if reasons else Verdict.GO), tuple(reasons)
