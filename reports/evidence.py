"""Evidence lines written by the feature suite: screenshots, journal excerpts, notes and links per scenario.

Role: parse a JSON-lines file, one object a line::

    {"scenario_id": "features/test_scenarios.py::test_declined[4000000000009995-en-insufficient funds]",
     "feature": "Card payments", "scenario": "Declined card", "kind": "screenshot"|"journal"|"note"|"link",
     "label": "bank page", "path": "shots/paid.png" | null, "text": "..." | null}

and hand typed ``Evidence`` to the builder, which attaches it to the one scenario *example* whose id (the Cucumber
element ``id``; the feature suite makes it the pytest node id, parametrization included) equals ``scenario_id``.
The rows of a Scenario Outline share their feature and scenario name, so names alone never select evidence.
``feature`` and ``scenario`` are kept for people reading the file. Records keep their order in the file: a
scenario's screenshots are shown in the order they were taken. ``path`` is relative to the report's output
directory (``link`` may also be an http(s) URL).

Guarantees: blank lines are ignored; unknown keys are ignored (forward compatible). An ``EvidenceError`` is
raised for a line that is not an object, misses ``scenario_id``/``feature``/``scenario``/``kind``, has an unknown
kind, a
screenshot or link without ``path``, a journal or note with neither ``text`` nor ``path``, or a path that is
absolute or uses another URL scheme (``javascript:``, ``file:``, ``data:`` ...): the report never links
somewhere unsafe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PureWindowsPath

from reports.errors import EvidenceError

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class EvidenceKind(StrEnum):
    SCREENSHOT = "screenshot"
    JOURNAL = "journal"
    NOTE = "note"
    LINK = "link"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of evidence for one scenario example (``scenario_id``; ``feature``/``scenario`` for people)."""

    scenario_id: str
    feature: str
    scenario: str
    kind: EvidenceKind
    label: str
    path: str | None = None
    text: str | None = None


def is_web_url(path: str) -> bool:
    return path.lower().startswith(("http://", "https://"))


def _optional_str(obj: Mapping[str, object], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EvidenceError(f"{where}: '{key}' must be a string or null")
    return value


def _check_path(path: str, kind: EvidenceKind, where: str) -> None:
    if not path.strip():
        raise EvidenceError(f"{where}: 'path' is empty")
    if kind is EvidenceKind.LINK and is_web_url(path):
        return
    if (
        path.startswith(("/", "\\"))
        or PureWindowsPath(path).is_absolute()
        or PureWindowsPath(path).drive
        or _SCHEME_RE.match(path)
    ):
        raise EvidenceError(
            f"{where}: 'path' must be relative to the report directory"
            + (" (or an http(s) URL for a link)" if kind is EvidenceKind.LINK else "")
        )


def parse_evidence_line(line: str, *, where: str = "evidence") -> Evidence:
    """Parse one JSON line; raises ``EvidenceError`` naming ``where``."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EvidenceError(f"{where}: not valid JSON ({exc.msg}, column {exc.colno})") from exc
    if not isinstance(obj, dict):
        raise EvidenceError(f"{where}: expected a JSON object")
    required: dict[str, str] = {}
    for key in ("scenario_id", "feature", "scenario", "kind"):
        value = obj.get(key)
        if not isinstance(value, str) or not value:
            raise EvidenceError(f"{where}: '{key}' must be a non-empty string")
        required[key] = value
    try:
        kind = EvidenceKind(required["kind"])
    except ValueError:
        kinds = ", ".join(k.value for k in EvidenceKind)
        raise EvidenceError(f"{where}: unknown kind {required['kind']!r} (expected one of {kinds})") from None
    label = _optional_str(obj, "label", where) or kind.value
    path = _optional_str(obj, "path", where)
    text = _optional_str(obj, "text", where)
    if kind in (EvidenceKind.SCREENSHOT, EvidenceKind.LINK) and path is None:
        raise EvidenceError(f"{where}: a {kind.value} needs a 'path'")
    if kind in (EvidenceKind.JOURNAL, EvidenceKind.NOTE) and path is None and text is None:
        raise EvidenceError(f"{where}: a {kind.value} needs 'text' or 'path'")
    if path is not None:
        _check_path(path, kind, where)
    return Evidence(
        scenario_id=required["scenario_id"],
        feature=required["feature"],
        scenario=required["scenario"],
        kind=kind,
        label=label,
        path=path,
        text=text,
    )


def parse_evidence(lines: Iterable[str], *, source: str = "evidence") -> tuple[Evidence, ...]:
    """Parse JSON lines; blank lines are skipped."""
    return tuple(
        parse_evidence_line(line, where=f"{source}:{lineno}")
        for lineno, line in enumerate(lines, start=1)
        if line.strip()
    )


def load_evidence(path: Path) -> tuple[Evidence, ...]:
    """Load an evidence file; a missing file means "no evidence" (the suite may have recorded none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceError(f"{path}: cannot read the evidence file ({exc})") from exc
    return parse_evidence(text.splitlines(), source=str(path))
