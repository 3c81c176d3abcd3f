"""The readiness run's progress lines: running counts per scenario, and an item's line once its last scenario ended."""

from __future__ import annotations

from types import SimpleNamespace

from features.support.progress import Progress, item_ids


def fake_items(*tags: tuple[str, ...]) -> list[object]:
    return [SimpleNamespace(keywords={name: 1 for name in (*names, "simulator")}) for names in tags]


def test_an_item_line_follows_its_last_scenario_with_its_counts() -> None:
    progress = Progress(fake_items(("RC-05",), ("RC-05", "RC-14"), ("RC-14",)))  # type: ignore[arg-type]
    first = progress.finished(["RC-05"], "pass", "declined")
    assert first == ["[1/3] PASS  RC-05  declined   pass 1 · fail 0 · skip 0"]
    second = progress.finished(["RC-05", "RC-14"], "fail", "both")
    assert second[1:] == ["item RC-05: 1 of 2 passed, 1 failed"]
    third = progress.finished(["RC-14"], "skip", "later")
    assert third[0].endswith("pass 1 · fail 1 · skip 1")
    assert third[1:] == ["item RC-14: 0 of 2 passed, 1 failed, 1 skipped"]


def test_only_checklist_ids_count_as_items() -> None:
    assert item_ids({"RC-05": 1, "RC-5": 1, "simulator": 1, "RC-123": 1, "RC-37": 1}) == ["RC-05", "RC-37"]


def test_a_scenario_is_named_by_its_gherkin_name_and_readable_example() -> None:
    from features.support.progress import _name

    report = SimpleNamespace(
        nodeid="features/test_scenarios.py::test_the_bank_fails[a malformed answer-ru-\\u0411\\u0430\\u043d\\u043a]",
        user_properties=[("feature", "Bank faults"), ("scenario", "The bank fails: a clear message")],
    )
    assert _name(report) == "The bank fails: a clear message [a malformed answer-ru-Банк]"
    bare = SimpleNamespace(nodeid="features/test_scenarios.py::test_paid", user_properties=[])
    assert _name(bare) == "paid"
