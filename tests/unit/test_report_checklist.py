"""The checklist parser: ids, titles and blocking flags straight from the markdown table.

The project's checklist is ``docs/readiness-checklist.md``; ``reports/readiness-checklist.md`` is the copy the
package ships and must be identical to it. Tests over the real document follow it (its rows, its blocking column)
instead of hard-coding how many items it has.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from reports.checklist import load_checklist, packaged_checklist_text, parse_checklist
from reports.errors import ChecklistError

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_CHECKLIST = REPO_ROOT / "docs" / "readiness-checklist.md"
PACKAGED_CHECKLIST = REPO_ROOT / "reports" / "readiness-checklist.md"

# An independent, deliberately naive reading of the document's rows: "| RC-nn | title | yes/no |".
_ROW_RE = re.compile(r"^\| (RC-\d+) \| .+ \| (yes|no) \|$", re.MULTILINE)

TABLE = """# Title

| id | item | blocking |
|---|---|---|
| RC-01 | First item | yes |
| RC-02 | Second item with a \\| pipe | no |

After the table.
"""


def document_rows() -> list[tuple[str, str]]:
    """``(id, blocking)`` for every item row of ``docs/readiness-checklist.md``, in document order."""
    return _ROW_RE.findall(DOCS_CHECKLIST.read_text(encoding="utf-8"))


def test_packaged_copy_is_identical_to_the_docs_checklist() -> None:
    assert PACKAGED_CHECKLIST.read_text(encoding="utf-8") == DOCS_CHECKLIST.read_text(encoding="utf-8")
    assert packaged_checklist_text() == DOCS_CHECKLIST.read_text(encoding="utf-8")


def test_packaged_checklist_yields_every_document_row_in_order() -> None:
    checklist = load_checklist()
    rows = document_rows()

    assert checklist.ids == tuple(item_id for item_id, _ in rows)
    assert checklist.ids == tuple(f"RC-{n:02d}" for n in range(1, len(rows) + 1))  # numbered without gaps
    assert {"RC-01", "RC-30", "RC-31", "RC-37"} <= set(checklist.ids)
    assert all(item.title for item in checklist)


def test_blocking_flags_follow_the_documents_blocking_column() -> None:
    checklist = load_checklist()
    non_blocking = {item.id for item in checklist if not item.blocking}

    assert non_blocking == {item_id for item_id, blocking in document_rows() if blocking == "no"}
    assert {"RC-21", "RC-28", "RC-29", "RC-36", "RC-37"} <= non_blocking
    assert not {"RC-31", "RC-32", "RC-33", "RC-34", "RC-35"} & non_blocking


def test_titles_are_the_item_text_without_markdown_cells() -> None:
    checklist = load_checklist()
    item = checklist.get("RC-07")
    canary = checklist.get("RC-37")

    assert item is not None
    assert item.title == "Callback arrives before the customer returns"
    assert canary is not None
    assert canary.title.startswith("REAL canary, witnessed after the switch:")
    assert canary.title.endswith("the report lists it as the step a person signs")


def test_every_checklist_item_is_a_registered_pytest_marker() -> None:
    markers = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"][
        "ini_options"
    ]["markers"]
    registered = {marker.split(":", 1)[0].strip() for marker in markers}

    assert set(load_checklist().ids) <= registered


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
