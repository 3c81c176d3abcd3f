"""NOT APPLICABLE, flaky scenarios, the configuration audit and the numbered verdict rules, through ``build_report``.

Conventions pinned here: a scenario skipped with a reason starting ``NOT APPLICABLE:`` does not apply to the target;
an item is NOT APPLICABLE only when every one of its scenarios is; NOT APPLICABLE never counts as PASS and never
blocks GO, and it is always listed with the verdict. A scenario that failed and passed on a retry is flaky: shown,
listed, not counted. The configuration audit is a rule (V-05) only when the target marks it ``counts: true``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reports.build import build_report
from reports.checklist import Checklist, ChecklistItem
from reports.errors import TargetError
from reports.model import ItemStatus, Report, RuleOutcome, Verdict
from reports.results import ScenarioResult, Status, StepResult
from reports.run_log import Attempt, LoggedTest, RunLog
from reports.verdict import RULES, item_outcome, not_applicable_reason

SMALL = Checklist(
    items=(
        ChecklistItem("RC-01", "Card payment succeeds", blocking=True),
        ChecklistItem("RC-16", "Ecwid API temporary failures", blocking=True),
        ChecklistItem("RC-17", "Ecwid API keeps failing", blocking=True),
        ChecklistItem("RC-21", "Same-day cancel", blocking=False),
    )
)
NOW = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
SIM = "NOT APPLICABLE: needs the simulator's control API"


def result(name: str, status: Status, *tags: str, node: str | None = None) -> ScenarioResult:
    return ScenarioResult(
        feature="Payments",
        name=name,
        tags=tags,
        status=status,
        duration_s=0.5,
        steps=(StepResult("Given", "a cart", status, 0.5, "boom" if status is Status.FAILED else None),),
        error="boom" if status is Status.FAILED else None,
        id=node or f"features/test_scenarios.py::test_{name.replace(' ', '_')}",
    )


def skipped(node: str, reason: str, *tags: str) -> LoggedTest:
    return LoggedTest(node, tags, (Attempt(Status.SKIPPED, 0.0, None, reason),))


def build(*results: ScenarioResult, log: RunLog | None = None, target: dict[str, object] | None = None) -> Report:
    return build_report(SMALL, results, target=target or {}, run_log=log, generated_at=NOW)


def item(report: Report, item_id: str) -> tuple[ItemStatus, str]:
    found = next(i for i in report.items if i.id == item_id)
    return found.status, found.reason


def passing_rest() -> list[ScenarioResult]:
    return [result("paid", Status.PASSED, "RC-01"), result("cancel", Status.PASSED, "RC-21")]


# ---------------------------------------------------------------- the convention


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (SIM, "needs the simulator's control API"),
        ("not applicable: lower case too", "lower case too"),
        ("NOT APPLICABLE:", "not applicable to this target"),
        ("needs the simulator", None),
        ("bank TEST environment not reachable", None),
        (None, None),
    ],
)
def test_only_a_reason_starting_not_applicable_marks_a_scenario_not_applicable(
    reason: str | None, expected: str | None
) -> None:
    assert not_applicable_reason(reason) == expected


def test_an_item_whose_every_scenario_is_not_applicable_is_not_applicable_never_pass() -> None:
    outcome = item_outcome([("a", Status.SKIPPED, SIM), ("b", Status.SKIPPED, SIM)])

    assert outcome.status is ItemStatus.NOT_APPLICABLE
    assert outcome.reason == "2 of 2 scenarios not applicable: needs the simulator's control API"
    assert outcome.cause == "needs the simulator's control API"


def test_passed_and_not_applicable_scenarios_pass_and_say_how_many_did_not_apply() -> None:
    outcome = item_outcome([("a", Status.PASSED), ("b", Status.SKIPPED, SIM)])

    assert outcome.status is ItemStatus.PASS
    assert outcome.reason == "1 of 1 applicable scenario passed; 1 not applicable: needs the simulator's control API"


def test_a_plain_skip_next_to_not_applicable_ones_is_not_run_with_its_reason() -> None:
    outcome = item_outcome([("a", Status.SKIPPED, SIM), ("b", Status.SKIPPED, "bank TEST unreachable")])

    assert outcome.status is ItemStatus.NOT_RUN
    assert outcome.reason == (
        "1 of 2 scenarios did not run (skipped: bank TEST unreachable); 1 not applicable:"
        " needs the simulator's control API"
    )
    assert outcome.cause == "skipped: bank TEST unreachable"


def test_a_skip_that_says_not_run_is_grouped_by_its_own_words() -> None:
    outcome = item_outcome([("a", Status.SKIPPED, "NOT RUN: VPOSLAB_BANK_PASSWORD is not set")])

    assert outcome.status is ItemStatus.NOT_RUN
    assert outcome.reason == "1 of 1 scenario did not run (VPOSLAB_BANK_PASSWORD is not set)"
    assert outcome.cause == "VPOSLAB_BANK_PASSWORD is not set"


def test_declared_scenarios_without_a_result_keep_an_item_from_being_not_applicable() -> None:
    assert item_outcome([("a", Status.SKIPPED, SIM)], declared=2).status is ItemStatus.NOT_RUN


def test_not_applicable_after_a_broken_run_needs_the_declared_count() -> None:
    assert item_outcome([("a", Status.SKIPPED, SIM)], run_problem="killed").status is ItemStatus.NOT_RUN
    assert item_outcome([("a", Status.SKIPPED, SIM)], declared=1, run_problem="killed").status is (
        ItemStatus.NOT_APPLICABLE
    )


# ---------------------------------------------------------------- through the builder, with the report log


def test_scenarios_skipped_before_their_first_step_come_from_the_report_log_with_their_reason() -> None:
    nodes = {
        "RC-16": "features/test_scenarios.py::test_ecwid_5xx",
        "RC-17": "features/test_scenarios.py::test_ecwid_down",
    }
    log = RunLog(tests={node: skipped(node, SIM, item_id) for item_id, node in nodes.items()})

    report = build(*passing_rest(), log=log)

    assert item(report, "RC-16") == (ItemStatus.NOT_APPLICABLE, f"1 of 1 scenario not applicable: {SIM[16:]}")
    assert report.items[1].scenarios[0].name == "ecwid 5xx"  # made from the test's name: the log has no other
    assert report.items[1].scenarios[0].skip_reason == SIM
    assert report.verdict is Verdict.GO  # NOT APPLICABLE does not block GO ...
    assert report.summary.not_applicable == 2
    assert report.summary.passed == 2  # ... and never counts as PASS
    assert report.summary.blocking_not_passed == 0
    assert report.listed == (f"NOT APPLICABLE, not counted: RC-16, RC-17: {SIM[16:]}",)  # listed, grouped by reason


def test_the_report_log_gives_a_scenario_of_the_cucumber_file_its_skip_reason() -> None:
    node = "features/test_scenarios.py::test_bank_down"
    cucumber = result("bank down", Status.SKIPPED, "RC-16", node=node)
    log = RunLog(tests={node: skipped(node, "bank TEST environment not reachable", "RC-16")})

    report = build(*passing_rest(), cucumber, log=log)

    assert item(report, "RC-16") == (
        ItemStatus.NOT_RUN,
        "1 of 1 scenario did not run (skipped: bank TEST environment not reachable)",
    )
    assert report.items[1].cause == "skipped: bank TEST environment not reachable"


def test_blocking_items_not_run_for_one_reason_are_one_line_of_the_failed_rule() -> None:
    report = build(result("paid", Status.PASSED, "RC-01"))

    [v03] = [rule for rule in report.rules if rule.id == "V-03"]
    assert v03.outcome is RuleOutcome.FAILED
    assert v03.details == ("2 blocking items NOT RUN: no scenario covers this item yet: RC-16, RC-17",)


# ---------------------------------------------------------------- flaky


def test_a_scenario_listed_twice_in_the_cucumber_file_passed_on_a_retry_and_is_flaky() -> None:
    node = "features/test_scenarios.py::test_paid"
    report = build(
        result("paid", Status.FAILED, "RC-01", node=node),
        result("paid", Status.PASSED, "RC-01", node=node),
        result("cancel", Status.PASSED, "RC-21"),
    )

    rc01 = report.items[0]
    assert rc01.status is ItemStatus.PASS
    [scenario] = rc01.scenarios
    assert scenario.flaky
    assert [a.status for a in scenario.earlier_attempts] == [Status.FAILED]
    assert report.summary.flaky == 1
    assert "flaky, passed only on a retry: RC-01 'paid' passed on attempt 2 of 2" in report.listed


def test_reruns_in_the_report_log_make_the_scenario_flaky() -> None:
    node = "features/test_scenarios.py::test_paid"
    log = RunLog(
        tests={
            node: LoggedTest(
                node,
                ("RC-01",),
                (Attempt(Status.FAILED, 1.0, "TimeoutError: page did not load"), Attempt(Status.PASSED, 1.2)),
            )
        }
    )

    report = build(result("paid", Status.PASSED, "RC-01", node=node), log=log)

    [scenario] = report.items[0].scenarios
    assert scenario.flaky
    assert scenario.earlier_attempts[0].error == "TimeoutError: page did not load"


def test_a_scenario_that_failed_on_every_attempt_is_a_failure_not_flaky() -> None:
    node = "features/test_scenarios.py::test_paid"
    log = RunLog(tests={node: LoggedTest(node, ("RC-01",), (Attempt(Status.FAILED), Attempt(Status.FAILED)))})

    report = build(result("paid", Status.FAILED, "RC-01", node=node), log=log)

    assert not report.items[0].scenarios[0].flaky
    assert report.items[0].status is ItemStatus.FAIL
    assert report.summary.flaky == 0


# ---------------------------------------------------------------- the configuration audit (V-05)

FAILING_AUDIT = {
    "ready": False,
    "findings": [
        {"check": "provider.mode", "title": "provider mode is REAL", "result": "FAIL", "detail": "mode is TEST"},
        {"check": "debug.off", "title": "debug is off", "result": "PASS", "detail": "unset"},
    ],
}


def everything_passes() -> list[ScenarioResult]:
    return [result(i.id, Status.PASSED, i.id) for i in SMALL]


def test_a_counted_audit_that_fails_is_a_failed_rule() -> None:
    report = build(*everything_passes(), target={"configuration_audit": {**FAILING_AUDIT, "counts": True}})

    assert report.verdict is Verdict.NO_GO
    assert [rule.id for rule in report.failed_rules] == ["V-05"]
    assert report.reasons == ("configuration audit provider.mode FAIL: provider mode is REAL: mode is TEST",)


def test_an_informational_audit_is_shown_not_counted_with_its_reason() -> None:
    audit = {**FAILING_AUDIT, "counts": False, "reason": "the lab's TEST configuration"}

    report = build(*everything_passes(), target={"configuration_audit": audit})

    assert report.verdict is Verdict.GO
    assert report.audit is not None and not report.audit.counts
    [v05] = [rule for rule in report.rules if rule.id == "V-05"]
    assert v05.outcome is RuleOutcome.NOT_COUNTED
    assert v05.details[0] == "not counted: the lab's TEST configuration"
    assert "configuration audit shown, not counted (1 check(s) FAIL): the lab's TEST configuration" in report.listed


def test_an_audit_without_counts_is_not_counted_and_says_why() -> None:
    report = build(*everything_passes(), target={"configuration_audit": FAILING_AUDIT})

    assert report.verdict is Verdict.GO
    assert report.audit is not None
    assert report.audit.reason == "the target does not mark this audit as counting (counts is not true)"


def test_a_counted_audit_that_passes_passes_its_rule() -> None:
    audit = {"ready": True, "counts": True, "findings": [FAILING_AUDIT["findings"][1]]}  # type: ignore[index]

    report = build(*everything_passes(), target={"configuration_audit": audit})

    assert report.verdict is Verdict.GO
    assert [r.outcome for r in report.rules if r.id == "V-05"] == [RuleOutcome.PASSED]


@pytest.mark.parametrize(
    ("audit", "message"),
    [
        ([], "expected an object"),
        ({"findings": "x"}, "findings: expected a list"),
        ({"findings": [{"check": "a", "title": "b", "result": "MAYBE", "detail": ""}]}, "expected PASS, WARN or FAIL"),
        ({"ready": True, "findings": FAILING_AUDIT["findings"]}, "says True but the findings say False"),
        ({"findings": [], "counts": "yes"}, "counts: expected true or false"),
    ],
)
def test_a_malformed_audit_is_a_clear_target_error(audit: object, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        build(target={"configuration_audit": audit})


# ---------------------------------------------------------------- the rules themselves


def test_every_rule_is_evaluated_with_its_id_and_text() -> None:
    report = build(*everything_passes())

    assert [(r.id, r.text) for r in report.rules] == list(RULES.items())
    assert [r.outcome for r in report.rules] == [RuleOutcome.PASSED] * 4 + [RuleOutcome.NOT_COUNTED]
    assert report.failed_rules == ()


def test_a_blocking_failure_breaks_v02_and_v03_and_its_line_appears_once_in_the_reasons() -> None:
    report = build(result("paid", Status.FAILED, "RC-01"), *everything_passes()[1:])

    assert [r.id for r in report.failed_rules] == ["V-02", "V-03"]
    assert report.reasons == ("RC-01 (blocking) FAIL: 1 of 1 scenario failed: 'paid'",)


def test_a_non_blocking_failure_breaks_only_v02() -> None:
    report = build(*everything_passes()[:3], result("cancel", Status.FAILED, "RC-21"))

    assert [r.id for r in report.failed_rules] == ["V-02"]
