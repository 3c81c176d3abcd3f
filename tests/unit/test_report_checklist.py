"""The checklist parser: ids, titles and blocking flags straight from the markdown table."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports.checklist import load_checklist, packaged_checklist_text, parse_checklist
from reports.errors import ChecklistError

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_CHECKLIST = REPO_ROOT.parent / "shared" / "docs" / "readiness-checklist.md"

TABLE = """# Title

| id | item | blocking |
|---|---|---|
| RC-01 | First item | yes |
| RC-02 | Second item with a \\| pipe | no |

After the table.
"""


def test_packaged_checklist_yields_rc01_to_rc30_in_order() -> None:
    checklist = load_checklist()

    assert checklist.ids == tuple(f"RC-{n:02d}" for n in range(1, 31))
    assert all(item.title for item in checklist)


def test_only_rc21_rc28_rc29_are_non_blocking() -> None:
    checklist = load_checklist()

    assert {item.id for item in checklist if not item.blocking} == {"RC-21", "RC-28", "RC-29"}


def test_titles_are_the_item_text_without_markdown_cells() -> None:
    item = load_checklist().get("RC-07")

    assert item is not None
    assert item.title == "Callback arrives before the customer returns"


@pytest.mark.skipif(not SHARED_CHECKLIST.exists(), reason="shared docs not checked out next to the repo")
def test_packaged_copy_is_identical_to_the_shared_document() -> None:
    assert packaged_checklist_text() == SHARED_CHECKLIST.read_text(encoding="utf-8")


def test_parser_reads_rows_until_the_table_ends_and_unescapes_pipes() -> None:
    checklist = parse_checklist(TABLE)

    assert checklist.ids == ("RC-01", "RC-02")
    assert checklist.items[1].title == "Second item with a | pipe"
    assert checklist.items[1].blocking is False
    assert "RC-01" in checklist
    assert "RC-03" not in checklist


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("no table here", "no table"),
        (TABLE.replace("| no |", "| maybe |"), "blocking must be 'yes' or 'no'"),
        (TABLE.replace("RC-02", "RC-01"), "appears twice"),
        (TABLE.replace("RC-02", "X-2"), "does not look like RC-<number>"),
        (TABLE.replace("| RC-02 | Second item with a \\| pipe | no |", "| RC-02 | no |"), "expected 3 cells"),
    ],
)
def test_malformed_checklist_is_a_checklist_error(text: str, fragment: str) -> None:
    with pytest.raises(ChecklistError, match=fragment) as caught:
        parse_checklist(text)

    assert caught.value.code == "checklist_invalid"


def test_unreadable_checklist_file_is_a_checklist_error(tmp_path: Path) -> None:
    with pytest.raises(ChecklistError):
        load_checklist(tmp_path / "missing.md")
