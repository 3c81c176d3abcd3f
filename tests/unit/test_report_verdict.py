"""Item rules and the GO / NO-GO verdict, through ``build_report`` on typed results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from reports.build import build_report
from reports.checklist import Checklist, ChecklistItem, load_checklist
from reports.model import ItemStatus, Report, Verdict
from reports.results import ScenarioResult, Status, StepResult
from reports.run import RunOutcome
from reports.verdict import NO_SCENARIO, ItemOutcome, item_outcome

SMALL = Checklist(
    items=(
        ChecklistItem("RC-01", "Card payment succeeds", blocking=True),
        ChecklistItem("RC-02", "3-D Secure passed", blocking=True),
        ChecklistItem("RC-21", "Same-day cancel", blocking=False),
    )
)
NOW = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


def result(name: str, status: Status, *tags: str, feature: str = "Payments") -> ScenarioResult:
    return ScenarioResult(
        feature=feature,
        name=name,
        tags=tags,
        status=status,
        duration_s=0.25,
        steps=(StepResult("Given", "a cart", status, 0.25, "boom" if status is Status.FAILED else None),),
        error="boom" if status is Status.FAILED else None,
    )


def build(*results: ScenarioResult, checklist: Checklist = SMALL) -> Report:
    return build_report(checklist, results, target={"name": "simulator"}, generated_at=NOW)


def finding(*args: Any, **kwargs: Any) -> tuple[ItemStatus, str]:
    """An item's status and reason (``item_outcome`` also gives the cause the summary groups by)."""
    outcome: ItemOutcome = item_outcome(*args, **kwargs)
    return outcome.status, outcome.reason


def status_of(report: Report, item_id: str) -> ItemStatus:
    return next(item.status for item in report.items if item.id == item_id)


# ---------------------------------------------------------------- item rules


def test_item_without_scenarios_is_not_run_with_the_reason() -> None:
    assert finding([]) == (ItemStatus.NOT_RUN, NO_SCENARIO)
    assert NO_SCENARIO == "no scenario covers this item yet"


def test_item_with_any_failed_scenario_fails() -> None:
    status, reason = finding([("a", Status.PASSED), ("b", Status.FAILED), ("c", Status.SKIPPED)])

    assert status is ItemStatus.FAIL
    assert reason == "1 of 3 scenarios failed: 'b'"


def test_item_with_all_scenarios_passed_passes() -> None:
    assert finding([("a", Status.PASSED), ("b", Status.PASSED)]) == (
        ItemStatus.PASS,
        "2 of 2 scenarios passed",
    )


def test_item_with_some_passed_and_some_skipped_is_not_run_never_pass() -> None:
    status, reason = finding([("a", Status.PASSED), ("b", Status.SKIPPED), ("c", Status.SKIPPED)])

    assert status is ItemStatus.NOT_RUN
    assert reason == "2 of 3 scenarios did not run"


def test_item_with_all_scenarios_skipped_is_not_run() -> None:
    status, reason = finding([("a", Status.SKIPPED)])

    assert status is ItemStatus.NOT_RUN
    assert reason == "1 of 1 scenario did not run"


def test_a_scenario_counts_for_every_item_it_is_tagged_with() -> None:
    report = build(result("both", Status.PASSED, "RC-01", "RC-02", "desktop"))

    assert status_of(report, "RC-01") is ItemStatus.PASS
    assert status_of(report, "RC-02") is ItemStatus.PASS
    assert status_of(report, "RC-21") is ItemStatus.NOT_RUN


# ---------------------------------------------------------------- verdict


def test_go_when_every_blocking_item_passes_even_if_a_non_blocking_one_did_not_run() -> None:
    report = build(result("a", Status.PASSED, "RC-01"), result("b", Status.PASSED, "RC-02"))

    assert report.verdict is Verdict.GO
    assert report.reasons == ()
    assert report.summary.passed == 2
    assert report.summary.not_run == 1
    assert report.summary.blocking_not_passed == 0


def test_no_go_when_a_blocking_item_did_not_run_with_one_reason_line() -> None:
    report = build(result("a", Status.PASSED, "RC-01"))

    assert report.verdict is Verdict.NO_GO
    assert report.reasons == ("RC-02 (blocking) NOT RUN: no scenario covers this item yet",)


def test_no_go_when_a_non_blocking_item_fails() -> None:
    report = build(
        result("a", Status.PASSED, "RC-01"), result("b", Status.PASSED, "RC-02"), result("c", Status.FAILED, "RC-21")
    )

    assert report.verdict is Verdict.NO_GO
    assert report.reasons == ("RC-21 (non-blocking) FAIL: 1 of 1 scenario failed: 'c'",)
    assert report.summary.blocking_not_passed == 0


def test_failures_are_listed_before_items_that_did_not_run() -> None:
    report = build(result("b", Status.FAILED, "RC-02"))

    assert report.reasons == (
        "RC-02 (blocking) FAIL: 1 of 1 scenario failed: 'b'",
        "RC-01 (blocking) NOT RUN: no scenario covers this item yet",
    )
    assert report.summary.blocking_not_passed == 2


def test_no_results_at_all_is_no_go_with_every_item_not_run_but_the_witnessed_step() -> None:
    checklist = load_checklist()
    report = build_report(checklist, [], target={}, generated_at=NOW)

    assert report.verdict is Verdict.NO_GO
    assert [item.status for item in report.items] == [
        ItemStatus.TO_WITNESS if item.witness else ItemStatus.NOT_RUN for item in checklist
    ]
    blocking = [item.id for item in checklist if item.blocking]
    # One line for every blocking item NOT RUN for the same reason, naming them all.
    assert report.reasons == (f"{len(blocking)} blocking items NOT RUN: {NO_SCENARIO}: {', '.join(blocking)}",)


@pytest.mark.parametrize("typo", ["RC-31", "RC-1", "rc-01", "RC_02"])
def test_scenario_tagged_with_an_unknown_item_id_is_unmapped_and_no_go(typo: str) -> None:
    report = build(
        result("a", Status.PASSED, "RC-01"),
        result("b", Status.PASSED, "RC-02"),
        result("typo", Status.PASSED, typo, "desktop"),
    )

    assert report.verdict is Verdict.NO_GO
    assert [(u.name, u.unknown_ids) for u in report.unmapped] == [("typo", (typo,))]
    assert report.reasons == (f"unknown item id {typo} on scenario 'typo' (feature 'Payments'): not in the checklist",)


def test_scenario_without_item_tags_is_neither_counted_nor_unmapped() -> None:
    report = build(result("a", Status.PASSED, "RC-01"), result("b", Status.PASSED, "RC-02"), result("c", Status.FAILED))

    assert report.verdict is Verdict.GO
    assert report.unmapped == ()


def test_items_keep_checklist_order_and_titles() -> None:
    report = build(result("b", Status.PASSED, "RC-21"))

    assert [(i.id, i.title, i.blocking) for i in report.items] == [
        ("RC-01", "Card payment succeeds", True),
        ("RC-02", "3-D Secure passed", True),
        ("RC-21", "Same-day cancel", False),
    ]


def test_generated_at_must_be_timezone_aware_and_is_stored_in_utc() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_report(SMALL, [], target={}, generated_at=datetime(2025, 1, 1))

    report = build_report(SMALL, [], target={}, generated_at=NOW)
    assert report.generated_at_iso == "2025-01-31T12:00:00Z"


# ---------------------------------------------------------------- scenarios that exist but did not run


def test_an_item_whose_declared_scenarios_produced_no_result_did_not_run_it_is_not_uncovered() -> None:
    # e.g. a scenario skipped before its first step: pytest-bdd writes nothing for it.
    assert finding([], declared=2) == (ItemStatus.NOT_RUN, "2 of 2 scenarios did not run")
    assert finding([("a", Status.PASSED)], declared=3) == (ItemStatus.NOT_RUN, "2 of 3 scenarios did not run")
    assert finding([], declared=0) == (ItemStatus.NOT_RUN, NO_SCENARIO)


def test_declared_counts_reach_the_items_through_the_builder() -> None:
    report = build_report(
        SMALL,
        [result("a", Status.PASSED, "RC-01")],
        target={},
        declared={"RC-01": 1, "RC-02": 1},
        generated_at=NOW,
    )

    reasons = {item.id: (item.status, item.reason) for item in report.items}
    assert reasons == {
        "RC-01": (ItemStatus.PASS, "1 of 1 scenario passed"),
        "RC-02": (ItemStatus.NOT_RUN, "1 of 1 scenario did not run"),
        "RC-21": (ItemStatus.NOT_RUN, NO_SCENARIO),
    }


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ({"items_selected": ["RC-01"]}, "1 of 1 scenario did not run (not selected by --item RC-01)"),
        ({"scenario_filter": "declined"}, "1 of 1 scenario did not run (not selected by -k 'declined')"),
        (
            {"items_selected": ["RC-01", "RC-21"], "scenario_filter": "x"},
            "1 of 1 scenario did not run (not selected by --item RC-01, RC-21 and -k 'x')",
        ),
    ],
)
def test_a_partial_run_says_the_scenarios_it_left_out_were_not_selected(target: dict[str, Any], said: str) -> None:
    report = build_report(
        SMALL, [result("a", Status.PASSED, "RC-01")], target=target, declared={"RC-01": 1, "RC-02": 1}, generated_at=NOW
    )
    reasons = {item.id: (item.status, item.reason) for item in report.items}
    assert reasons["RC-02"] == (ItemStatus.NOT_RUN, said)
    assert reasons["RC-01"] == (ItemStatus.PASS, "1 of 1 scenario passed")


# ---------------------------------------------------------------- a feature run that did not complete

PROBLEM = "pytest exited with code 4 (usage error): ModuleNotFoundError: No module named 'playwright'"
BROKEN = RunOutcome(completed=False, problem=PROBLEM, exit_code=4)
INCOMPLETE = f"the feature run did not complete: {PROBLEM}"


def test_a_run_that_did_not_complete_is_no_go_with_its_problem_first() -> None:
    report = build_report(SMALL, [], target={}, run=BROKEN, generated_at=NOW)

    assert report.verdict is Verdict.NO_GO
    assert report.reasons == (
        INCOMPLETE,
        "2 blocking items NOT RUN because the feature run did not complete: RC-01, RC-02",
    )
    assert [(item.status, item.reason) for item in report.items] == [(ItemStatus.NOT_RUN, INCOMPLETE)] * 3
    assert report.run == BROKEN


def test_after_a_broken_run_no_item_is_said_to_have_no_scenario_when_coverage_is_unknown() -> None:
    report = build_report(SMALL, [], target={}, run=BROKEN, generated_at=NOW)

    assert all(NO_SCENARIO not in item.reason for item in report.items)
    assert all(NO_SCENARIO not in reason for reason in report.reasons)


def test_after_a_broken_run_items_with_declared_scenarios_say_the_run_broke_and_uncovered_ones_say_so() -> None:
    report = build_report(SMALL, [], target={}, run=BROKEN, declared={"RC-01": 2}, generated_at=NOW)

    assert [(item.id, item.reason) for item in report.items] == [
        ("RC-01", INCOMPLETE),
        ("RC-02", NO_SCENARIO),
        ("RC-21", NO_SCENARIO),
    ]
    assert report.reasons == (
        INCOMPLETE,
        "1 blocking item NOT RUN because the feature run did not complete: RC-01",
        f"RC-02 (blocking) NOT RUN: {NO_SCENARIO}",
    )


def test_after_a_broken_run_passed_scenarios_are_not_enough_unless_every_declared_one_ran() -> None:
    assert finding([("a", Status.PASSED)], run_problem=PROBLEM) == (
        ItemStatus.NOT_RUN,
        f"1 scenario passed, others may not have run: {INCOMPLETE}",
    )
    assert finding([("a", Status.PASSED)], declared=1, run_problem=PROBLEM) == (
        ItemStatus.PASS,
        "1 of 1 scenario passed",
    )
    assert finding([("a", Status.PASSED)], declared=3, run_problem=PROBLEM) == (
        ItemStatus.NOT_RUN,
        f"2 of 3 scenarios did not run ({INCOMPLETE})",
    )
    assert finding([("a", Status.FAILED)], run_problem=PROBLEM)[0] is ItemStatus.FAIL


def test_a_broken_run_is_no_go_even_when_everything_that_ran_passed() -> None:
    report = build_report(
        SMALL,
        [result("a", Status.PASSED, "RC-01", "RC-02", "RC-21")],
        target={},
        run=BROKEN,
        declared={"RC-01": 1, "RC-02": 1, "RC-21": 1},
        generated_at=NOW,
    )

    assert [item.status for item in report.items] == [ItemStatus.PASS] * 3
    assert report.verdict is Verdict.NO_GO
    assert report.reasons == (INCOMPLETE,)


def test_a_run_outcome_that_did_not_complete_must_say_why() -> None:
    with pytest.raises(ValueError, match="needs a problem"):
        RunOutcome(completed=False)


def test_the_run_problem_is_redacted() -> None:
    run = RunOutcome(completed=False, problem="token hunter2 refused", output_tail="E   hunter2")
    report = build_report(SMALL, [], target={}, run=run, secrets=["hunter2"], generated_at=NOW)

    assert report.run.problem == "token *** refused"
    assert report.run.output_tail == "E   ***"
    assert report.reasons[0] == "the feature run did not complete: token *** refused"


# ---------------------------------------------------------------- steps witnessed after GO, notes

WITH_CANARY = Checklist(
    items=(
        ChecklistItem("RC-01", "Card payment succeeds", blocking=True),
        ChecklistItem("RC-37", "REAL canary, witnessed after the switch", blocking=False, witness=True),
    )
)


def test_the_witnessed_step_is_to_witness_never_pass_and_never_blocks_go() -> None:
    report = build(result("a", Status.PASSED, "RC-01"), checklist=WITH_CANARY)

    canary = report.items[1]
    assert canary.status is ItemStatus.TO_WITNESS
    assert canary.witness is True
    assert canary.reason.startswith("to witness and sign after GO")
    assert report.verdict is Verdict.GO
    assert report.reasons == ()
    assert (report.summary.to_witness, report.summary.not_run, report.summary.passed) == (1, 0, 1)


def test_a_passed_rehearsal_of_the_witnessed_step_is_still_to_witness() -> None:
    report = build(result("a", Status.PASSED, "RC-01"), result("canary", Status.PASSED, "RC-37"), checklist=WITH_CANARY)

    assert report.items[1].status is ItemStatus.TO_WITNESS
    assert report.items[1].reason.endswith("(rehearsed in this run: 1 of 1 passed)")


def test_a_failed_rehearsal_of_the_witnessed_step_is_a_failure_not_hidden() -> None:
    report = build(result("a", Status.PASSED, "RC-01"), result("canary", Status.FAILED, "RC-37"), checklist=WITH_CANARY)

    assert report.items[1].status is ItemStatus.FAIL
    assert report.verdict is Verdict.NO_GO


def test_a_witnessed_step_marked_blocking_still_does_not_block() -> None:
    checklist = Checklist(items=(ChecklistItem("RC-37", "REAL canary, witnessed", blocking=True, witness=True),))

    report = build(checklist=checklist)

    assert report.verdict is Verdict.GO
    assert report.summary.blocking_not_passed == 0


def test_the_real_checklist_marks_rc_37_and_only_it_as_witnessed() -> None:
    assert [item.id for item in load_checklist() if item.witness] == ["RC-37"]


def test_notes_are_attached_to_their_items_and_unknown_ids_are_ignored() -> None:
    report = build_report(
        SMALL,
        [],
        target={},
        notes={"RC-02": "checked as far as the lab allows: the simulated bank", "RC-99": "nobody"},
        generated_at=NOW,
    )

    assert [item.note for item in report.items] == [None, "checked as far as the lab allows: the simulated bank", None]
