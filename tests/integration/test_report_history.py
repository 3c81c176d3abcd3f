"""History of runs in one report folder and what changed since the previous one.

``write_report`` keeps each run's ``readiness.json`` under ``history/<timestamp>.json``; ``compare`` names each item
whose finding changed (newly failing, fixed, newly NOT RUN, newly NOT APPLICABLE...) and the verdict change; an
unreadable previous report is a clear ``HistoryError``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reports.build import build_report, write_report
from reports.checklist import Checklist, ChecklistItem
from reports.errors import HistoryError
from reports.history import compare, keep_history, latest_history
from reports.model import Report
from reports.results import ScenarioResult, Status, StepResult
from reports.run_log import Attempt, LoggedTest, RunLog

SMALL = Checklist(
    items=(
        ChecklistItem("RC-01", "Card payment succeeds", blocking=True),
        ChecklistItem("RC-02", "3-D Secure passed", blocking=True),
        ChecklistItem("RC-05", "Card declined", blocking=True),
        ChecklistItem("RC-16", "Ecwid API temporary failures", blocking=True),
    )
)
T0 = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


def result(item_id: str, status: Status) -> ScenarioResult:
    return ScenarioResult(
        "Payments",
        f"scenario of {item_id}",
        (item_id,),
        status,
        1.0,
        (StepResult("Given", "a cart", status, 1.0, "boom" if status is Status.FAILED else None),),
        "boom" if status is Status.FAILED else None,
        id=f"features/test_scenarios.py::test_{item_id}",
    )


def report(statuses: dict[str, Status], *, at: datetime = T0, not_applicable: tuple[str, ...] = ()) -> Report:
    log = RunLog(
        tests={
            f"f.py::test_{item_id}": LoggedTest(
                f"f.py::test_{item_id}",
                (item_id,),
                (Attempt(Status.SKIPPED, 0.0, None, "NOT APPLICABLE: needs the simulator"),),
            )
            for item_id in not_applicable
        }
    )
    results = [result(item_id, status) for item_id, status in statuses.items()]
    return build_report(SMALL, results, target={}, run_log=log, generated_at=at)


BEFORE = {"RC-01": Status.PASSED, "RC-02": Status.FAILED, "RC-05": Status.PASSED, "RC-16": Status.PASSED}


def test_each_run_is_kept_under_history_by_its_time_and_the_latest_is_found(tmp_path: Path) -> None:
    first = write_report(report(BEFORE), tmp_path, keep_history=True)["history"]
    second = write_report(report(BEFORE, at=T0 + timedelta(hours=1)), tmp_path)["history"]
    same_second = write_report(report(BEFORE, at=T0 + timedelta(hours=1)), tmp_path)["history"]

    assert [first.name, second.name, same_second.name] == [
        "20250131T120000Z.json",
        "20250131T130000Z.json",
        "20250131T130000Z-2.json",
    ]
    assert latest_history(tmp_path) == same_second
    assert json.loads(first.read_text(encoding="utf-8"))["generated_at"] == "2025-01-31T12:00:00Z"


def test_there_is_no_previous_run_in_a_new_folder(tmp_path: Path) -> None:
    assert latest_history(tmp_path) is None


def test_without_keep_history_nothing_is_kept(tmp_path: Path) -> None:
    paths = write_report(report(BEFORE), tmp_path, keep_history=False)

    assert "history" not in paths
    assert latest_history(tmp_path) is None


def test_compare_names_every_change_of_finding_and_the_verdict(tmp_path: Path) -> None:
    previous = write_report(report(BEFORE), tmp_path / "a")["json"]
    now = {"RC-01": Status.FAILED, "RC-02": Status.PASSED}  # RC-05 no longer ran; RC-16 does not apply

    comparison = compare(previous, report(now, not_applicable=("RC-16",)))

    assert comparison.previous_verdict == "NO-GO"
    assert comparison.verdict == "NO-GO"
    assert not comparison.verdict_changed
    assert [(c.id, c.change, c.before, c.after) for c in comparison.changes] == [
        ("RC-01", "newly failing", "PASS", "FAIL"),
        ("RC-02", "fixed", "FAIL", "PASS"),
        ("RC-05", "newly NOT RUN", "PASS", "NOT RUN"),
        ("RC-16", "newly NOT APPLICABLE", "PASS", "NOT APPLICABLE"),
    ]
    assert comparison.lines()[0] == (
        f"compared with the run of 2025-01-31T12:00:00Z ({previous}): verdict unchanged (NO-GO)"
    )
    assert "  newly failing: RC-01 PASS -> FAIL (1 of 1 scenario failed: 'scenario of RC-01')" in comparison.lines()


def test_compare_says_when_the_verdict_changed_and_when_nothing_did(tmp_path: Path) -> None:
    previous = write_report(report(BEFORE), tmp_path / "a")["json"]
    all_pass = dict.fromkeys(BEFORE, Status.PASSED)

    go = compare(previous, report(all_pass))
    same = compare(json.loads(previous.read_text(encoding="utf-8")), report(BEFORE))

    assert (go.previous_verdict, go.verdict, go.verdict_changed) == ("NO-GO", "GO", True)
    assert go.lines()[0].endswith("verdict NO-GO -> GO")
    assert same.changes == ()
    assert same.lines()[1] == "  no item changed its finding"


def test_an_item_new_to_the_checklist_and_one_removed_from_it_are_named(tmp_path: Path) -> None:
    previous = json.loads(write_report(report(BEFORE), tmp_path / "a")["json"].read_text(encoding="utf-8"))
    previous["items"] = [i for i in previous["items"] if i["id"] != "RC-16"]
    previous["items"].append({"id": "RC-99", "title": "gone", "status": "PASS"})

    changes = {(c.id, c.change) for c in compare(previous, report(BEFORE)).changes}

    assert changes == {("RC-16", "new item"), ("RC-99", "item removed")}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "the previous report does not exist"),
        ("{not json", r"the previous report is not valid JSON \(line 1, column 2"),
        ('{"verdict": "GO"}', r"not a readiness report \(no 'verdict' and 'items'\)"),
        ('{"verdict": "GO", "items": [{"id": "RC-01"}]}', r"items\[0\] has no 'id' and 'status'"),
        ("\udcff", "cannot read the previous report"),
    ],
)
def test_an_unreadable_previous_report_is_a_clear_error(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "previous.json"
    if content == "\udcff":
        path.write_bytes(b"\xff\xfe\x00")
    elif content is not None:
        path.write_text(content, encoding="utf-8")

    with pytest.raises(HistoryError, match=message) as caught:
        compare(path, report(BEFORE))

    assert caught.value.code == "history_invalid"
    assert str(path) in caught.value.message


def test_the_comparison_is_in_the_html_and_the_json(tmp_path: Path) -> None:
    previous = write_report(report(BEFORE), tmp_path)["json"]
    current = report({**BEFORE, "RC-01": Status.FAILED}, at=T0 + timedelta(days=1))

    paths = write_report(current, tmp_path, comparison=compare(previous, current))

    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["comparison"]["changes"][0]["change"] == "newly failing"
    html = paths["html"].read_text(encoding="utf-8")
    assert "Compared with the previous run" in html
    assert '<td>newly failing</td><td class="id"><a href="#RC-01">RC-01</a></td>' in html


def test_keep_history_copies_the_file_as_it_is(tmp_path: Path) -> None:
    source = tmp_path / "readiness.json"
    source.write_text('{"verdict": "GO", "items": []}', encoding="utf-8")

    kept = keep_history(tmp_path, source, T0)

    assert kept.read_bytes() == source.read_bytes()
