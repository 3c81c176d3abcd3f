"""Item rules and the GO / NO-GO verdict, through ``build_report`` on typed results."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reports.build import build_report
from reports.checklist import Checklist, ChecklistItem, load_checklist
from reports.model import ItemStatus, Report, Verdict
from reports.results import ScenarioResult, Status, StepResult
from reports.verdict import NO_SCENARIO, item_outcome

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


def status_of(report: Report, item_id: str) -> ItemStatus:
    return next(item.status for item in report.items if item.id == item_id)


# ---------------------------------------------------------------- item rules


def test_item_without_scenarios_is_not_run_with_the_reason() -> None:
    assert item_outcome([]) == (ItemStatus.NOT_RUN, NO_SCENARIO)
    assert NO_SCENARIO == "no scenario covers this item yet"


def test_item_with_any_failed_scenario_fails() -> None:
    status, reason = item_outcome([("a", Status.PASSED), ("b", Status.FAILED), ("c", Status.SKIPPED)])

    assert status is ItemStatus.FAIL
    assert reason == "1 of 3 scenarios failed: 'b'"


def test_item_with_all_scenarios_passed_passes() -> None:
    assert item_outcome([("a", Status.PASSED), ("b", Status.PASSED)]) == (
        ItemStatus.PASS,
        "2 of 2 scenarios passed",
    )


def test_item_with_some_passed_and_some_skipped_is_not_run_never_pass() -> None:
    status, reason = item_outcome([("a", Status.PASSED), ("b", Status.SKIPPED), ("c", Status.SKIPPED)])

    assert status is ItemStatus.NOT_RUN
    assert reason == "2 of 3 scenarios did not run"


def test_item_with_all_scenarios_skipped_is_not_run() -> None:
    status, reason = item_outcome([("a", Status.SKIPPED)])

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


def test_no_results_at_all_is_no_go_with_every_item_not_run() -> None:
    checklist = load_checklist()
    report = build_report(checklist, [], target={}, generated_at=NOW)

    assert report.verdict is Verdict.NO_GO
    assert [item.status for item in report.items] == [ItemStatus.NOT_RUN] * len(checklist)
    assert len(report.reasons) == sum(1 for item in checklist if item.blocking)  # every blocking item


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
