"""The TEST-to-REAL readiness checklist as typed data.

Role: parse the markdown table of ``readiness-checklist.md`` (a verbatim copy of ``docs/readiness-checklist.md``
ships inside this package) into ``ChecklistItem(id, title, blocking)`` in document order. The table is the single
source of the item ids, titles and blocking flags; nothing here hard-codes them.

Guarantees: ids are unique and look like ``RC-<digits>``; ``blocking`` is only ever ``yes`` or ``no`` in the
source (anything else is a ``ChecklistError``, never a silent default).

An item whose title says it is *witnessed* (RC-37, "REAL canary, witnessed after the switch: ...") is a step a person
witnesses and signs after GO, not something a test run can show: ``ChecklistItem.witness`` is True for it, read from
the title so that the document stays the only source.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reports.errors import ChecklistError

CHECKLIST_RESOURCE = "readiness-checklist.md"
ITEM_ID_RE = re.compile(r"^RC-\d+$")

_CELL_SPLIT_RE = re.compile(r"(?<!\\)\|")
_SEPARATOR_CELL_RE = re.compile(r"^:?-{3,}:?$")
_BLOCKING = {"yes": True, "no": False}
_WITNESS_RE = re.compile(r"\bwitnessed\b", re.IGNORECASE)
# Anything that looks like an item id, near misses included (rc-01, RC_1): a typo is reported, not dropped.
_ITEM_LIKE_RE = re.compile(r"^rc[-_ ]?\d+$", re.IGNORECASE)


def looks_like_item_id(tag: str) -> bool:
    """True for a tag that is, or nearly is, an item id (``RC-07``, ``rc-7``, ``RC_07``)."""
    return bool(_ITEM_LIKE_RE.match(tag.removeprefix("@")))


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One readiness item: ``id`` like ``RC-07``, its ``title``, whether it blocks GO and whether it is a step a
    person witnesses after GO."""

    id: str
    title: str
    blocking: bool
    witness: bool = False


@dataclass(frozen=True, slots=True)
class Checklist:
    """The items in document order; look-up by id with ``get``/``in``."""

    items: tuple[ChecklistItem, ...]

    def __iter__(self) -> Iterator[ChecklistItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item_id: object) -> bool:
        return any(item.id == item_id for item in self.items)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    def get(self, item_id: str) -> ChecklistItem | None:
        for item in self.items:
            if item.id == item_id:
                return item
        return None


def _cells(line: str) -> list[str]:
    body = line.strip()
    body = body.removeprefix("|")
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [cell.strip().replace("\\|", "|") for cell in _CELL_SPLIT_RE.split(body)]


def parse_checklist(text: str, *, source: str = "checklist") -> Checklist:
    """Parse the first markdown table whose header is ``id | item | blocking``.

    Raises ``ChecklistError`` when the table is missing, a row has the wrong number of cells, an id is
    malformed or repeated, or a blocking flag is not ``yes``/``no``.
    """
    lines = text.splitlines()
    header_at = None
    for index, line in enumerate(lines):
        if line.lstrip().startswith("|") and [c.lower() for c in _cells(line)] == ["id", "item", "blocking"]:
            header_at = index
            break
    if header_at is None:
        raise ChecklistError(f"{source}: no table with the header '| id | item | blocking |'")
    if header_at + 1 >= len(lines) or not all(_SEPARATOR_CELL_RE.match(cell) for cell in _cells(lines[header_at + 1])):
        raise ChecklistError(f"{source}:{header_at + 2}: expected the table's separator row")

    items: list[ChecklistItem] = []
    seen: set[str] = set()
    for lineno, line in enumerate(lines[header_at + 2 :], start=header_at + 3):
        if not line.lstrip().startswith("|"):
            break
        cells = _cells(line)
        if len(cells) != 3:
            raise ChecklistError(f"{source}:{lineno}: expected 3 cells (id, item, blocking), got {len(cells)}")
        item_id, title, blocking = cells
        if not ITEM_ID_RE.match(item_id):
            raise ChecklistError(f"{source}:{lineno}: item id {item_id!r} does not look like RC-<number>")
        if item_id in seen:
            raise ChecklistError(f"{source}:{lineno}: item id {item_id} appears twice")
        if blocking.lower() not in _BLOCKING:
            raise ChecklistError(f"{source}:{lineno}: blocking must be 'yes' or 'no', got {blocking!r}")
        if not title:
            raise ChecklistError(f"{source}:{lineno}: item {item_id} has no title")
        seen.add(item_id)
        items.append(
            ChecklistItem(
                id=item_id,
                title=title,
                blocking=_BLOCKING[blocking.lower()],
                witness=bool(_WITNESS_RE.search(title)),
            )
        )
    if not items:
        raise ChecklistError(f"{source}: the checklist table has no rows")
    return Checklist(items=tuple(items))


def packaged_checklist_text() -> str:
    """The text of the checklist copy shipped in this package."""
    return resources.files("reports").joinpath(CHECKLIST_RESOURCE).read_text(encoding="utf-8")


def load_checklist(path: Path | None = None) -> Checklist:
    """Load the checklist from ``path``, or the packaged copy when ``path`` is None."""
    if path is None:
        return parse_checklist(packaged_checklist_text(), source=CHECKLIST_RESOURCE)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ChecklistError(f"{path}: cannot read the checklist ({exc.strerror or exc})") from exc
    return parse_checklist(text, source=str(path))
