"""The readiness rules: one status per checklist item, then GO or NO-GO.

Role: pure functions over scenario statuses; no I/O, no formatting beyond the reason strings.

Item rule (its scenarios are those tagged with its id):
- no scenario                      -> NOT RUN, "no scenario covers this item yet"
- any scenario failed              -> FAIL
- all passed                       -> PASS
- some passed, the others skipped  -> NOT RUN, "k of n scenarios did not run"
- all skipped                      -> NOT RUN, "n of n scenarios did not run"

Verdict rule: GO only if every blocking item is PASS, no item (blocking or not) is FAIL and no scenario
carries an item id that is not in the checklist. Otherwise NO-GO with one reason line per problem: failures
first, then blocking items that did not pass, then unknown ids.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reports.model import ItemResult, ItemStatus, UnmappedScenario, Verdict
from reports.results import Status

NO_SCENARIO = "no scenario covers this item yet"

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


def item_outcome(scenarios: Sequence[tuple[str, Status]]) -> tuple[ItemStatus, str]:
    """Status and reason of one item from its scenarios' ``(name, status)``."""
    total = len(scenarios)
    if total == 0:
        return ItemStatus.NOT_RUN, NO_SCENARIO
    failed = [name for name, status in scenarios if status is Status.FAILED]
    if failed:
        return ItemStatus.FAIL, f"{len(failed)} of {total} {_plural(total)} failed: {_names(failed)}"
    not_run = sum(1 for _, status in scenarios if status is not Status.PASSED)
    if not_run:
        return ItemStatus.NOT_RUN, f"{not_run} of {total} {_plural(total)} did not run"
    return ItemStatus.PASS, f"{total} of {total} {_plural(total)} passed"


def decide(items: Sequence[ItemResult], unmapped: Sequence[UnmappedScenario]) -> tuple[Verdict, tuple[str, ...]]:
    """GO or NO-GO and the reasons (empty for GO)."""
    reasons: list[str] = []
    for item in items:
        if item.status is ItemStatus.FAIL:
            kind = "blocking" if item.blocking else "non-blocking"
            reasons.append(f"{item.id} ({kind}) FAIL: {item.reason}")
    for item in items:
        if item.blocking and item.status is ItemStatus.NOT_RUN:
            reasons.append(f"{item.id} (blocking) NOT RUN: {item.reason}")
    for scenario in unmapped:
        ids = ", ".join(scenario.unknown_ids)
        reasons.append(
            f"unknown item id {ids} on scenario '{scenario.name}' (feature '{scenario.feature}'): not in the checklist"
        )
    return (Verdict.NO_GO if reasons else Verdict.GO), tuple(reasons)
