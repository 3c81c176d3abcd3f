"""Reading pytest-bdd's Cucumber JSON: statuses err towards "did not run", never towards "passed"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reports.errors import ResultsError
from reports.results import Status, load_cucumber, parse_cucumber


def step(name: str, status: str = "passed", duration: int = 1_500_000, error: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"status": status, "duration": duration}
    if error is not None:
        result["error_message"] = error
    return {"keyword": "Given", "name": name, "line": 3, "match": {"location": ""}, "result": result}


def feature(*elements: dict[str, Any], name: str = "Card payments", tags: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "keyword": "Feature",
        "uri": "features/card.feature",
        "name": name,
        "id": "features/card.feature",
        "line": 1,
        "description": "",
        "language": "en",
        "tags": [{"name": tag, "line": 1} for tag in tags],
        "elements": list(elements),
    }


def scenario(name: str, *steps: dict[str, Any], tags: tuple[str, ...] = ("RC-01",)) -> dict[str, Any]:
    return {
        "keyword": "Scenario",
        "id": "test_x",
        "name": name,
        "line": 5,
        "description": "",
        "tags": [{"name": tag, "line": 4} for tag in tags],
        "type": "scenario",
        "steps": list(steps),
    }


def test_all_steps_passed_is_a_passed_scenario_with_seconds() -> None:
    [result] = parse_cucumber([feature(scenario("Paid", step("a"), step("b", duration=500_000_000)))])

    assert result.status is Status.PASSED
    assert result.feature == "Card payments"
    assert result.tags == ("RC-01",)
    assert result.duration_s == pytest.approx(0.5015)
    assert result.error is None
    assert [s.status for s in result.steps] == [Status.PASSED, Status.PASSED]


def test_failed_step_fails_the_scenario_and_carries_the_error() -> None:
    [result] = parse_cucumber(
        [feature(scenario("Declined", step("a"), step("b", "failed", error="E   AssertionError: boom")))]
    )

    assert result.status is Status.FAILED
    assert result.error == "E   AssertionError: boom"
    assert result.steps[1].error == "E   AssertionError: boom"


def test_steps_after_a_failure_are_reported_as_not_run() -> None:
    # pytest-bdd marks every later step "failed" with an empty message although it never ran.
    [result] = parse_cucumber(
        [feature(scenario("Declined", step("a", "failed", error="boom"), step("b", "failed", error="")))]
    )

    assert [s.status for s in result.steps] == [Status.FAILED, Status.SKIPPED]
    assert result.status is Status.FAILED


def test_step_interrupted_by_pytest_skip_makes_the_scenario_skipped_not_passed() -> None:
    # pytest-bdd writes the step that called pytest.skip() as "passed" with duration 0.
    [result] = parse_cucumber([feature(scenario("Needs simulator", step("a"), step("b", duration=0)))])

    assert result.status is Status.SKIPPED
    assert [s.status for s in result.steps] == [Status.PASSED, Status.SKIPPED]


def test_a_scenario_without_steps_did_not_run() -> None:
    [result] = parse_cucumber([feature(scenario("Empty"))])

    assert result.status is Status.SKIPPED


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("skipped", Status.SKIPPED),
        ("pending", Status.SKIPPED),
        ("undefined", Status.SKIPPED),
        ("ambiguous", Status.FAILED),
    ],
)
def test_other_cucumber_statuses_map_to_skipped_or_failed(raw: str, expected: Status) -> None:
    [result] = parse_cucumber([feature(scenario("S", step("a", raw, error="x")))])

    assert result.status is expected


def test_feature_tags_apply_to_every_scenario_and_at_signs_are_stripped() -> None:
    [result] = parse_cucumber([feature(scenario("S", step("a"), tags=("@mobile",)), tags=("RC-22", "mobile"))])

    assert result.tags == ("RC-22", "mobile")


def test_colour_codes_are_removed_from_errors() -> None:
    [result] = parse_cucumber([feature(scenario("S", step("a", "failed", error="\x1b[31mE   boom\x1b[0m")))])

    assert result.error == "E   boom"


def test_missing_file_means_no_results(tmp_path: Path) -> None:
    assert load_cucumber(tmp_path / "nothing.json") == ()


@pytest.mark.parametrize("content", ["", "  \n", "[]"])
def test_empty_file_means_no_results(tmp_path: Path, content: str) -> None:
    path = tmp_path / "cucumber.json"
    path.write_text(content, encoding="utf-8")

    assert load_cucumber(path) == ()


def test_malformed_json_is_a_results_error_with_a_stable_code(tmp_path: Path) -> None:
    path = tmp_path / "cucumber.json"
    path.write_text('[{"name": ', encoding="utf-8")

    with pytest.raises(ResultsError, match="not valid JSON") as caught:
        load_cucumber(path)

    assert caught.value.code == "results_invalid"
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"features": []}, "expected a list"),
        (["not an object"], r"feature\[0\]: expected an object"),
        ([feature(scenario("S", step("a", "exploded")))], "unknown status 'exploded'"),
        ([feature(scenario("S", step("a", duration=-1)))], "non-negative"),
        ([feature({"steps": []})], r"elements\[0\]\.name: expected a string"),
    ],
)
def test_wrong_shape_is_a_results_error_naming_the_location(data: object, fragment: str) -> None:
    with pytest.raises(ResultsError, match=fragment):
        parse_cucumber(json.loads(json.dumps(data)))
