"""Evidence lines written by the feature suite: screenshots, journal excerpts, notes, links, payment state timelines
and Ecwid status histories per scenario.

Role: parse a JSON-lines file, one object a line::

    {"scenario_id": "features/test_scenarios.py::test_declined[4000000000009995-en-insufficient funds]",
     "feature": "Card payments", "scenario": "Declined card",
     "kind": "screenshot"|"journal"|"note"|"link"|"timeline"|"ecwid_history",
     "label": "bank page", "path": "shots/paid.png" | null, "text": "..." | null,
     "attempt": 1 | null,                        # optional: which run of the scenario (reruns), 1 = first
     "entries": [ENTRY, ...]}                    # timeline and ecwid_history only

and hand typed ``Evidence`` to the builder, which attaches it to the one scenario *example* whose id (the Cucumber
element ``id``; the feature suite makes it the pytest node id, parametrization included) equals ``scenario_id``.
The rows of a Scenario Outline share their feature and scenario name, so names alone never select evidence.
``feature`` and ``scenario`` are kept for people reading the file. Records keep their order in the file: a
scenario's screenshots are shown in the order they were taken. ``path`` is relative to the report's output
directory (``link`` may also be an http(s) URL).

The two structured kinds carry ``entries``, oldest first, each ``ENTRY`` an object::

    {"at": "2025-01-31T12:00:01.250Z",   # required, ISO 8601 with a time zone (Z or +hh:mm)
     "state": "paid",                    # required: the state reached (timeline) / Ecwid paymentStatus (history)
     "from": "authenticating" | null,    # optional: the state before
     "source": "callback" | null,        # optional: what caused it (return, callback, poller, operator, gateway...)
     "accepted": true | null,            # optional: false for an update Ecwid refused (ecwid_history)
     "note": "orderStatus 2, eci 05" | null}   # optional: ids and codes for people, never a secret

- ``timeline``: one payment's states at the gateway (attempt states registered -> authenticating -> paid ...),
  label e.g. ``"payment 1003/O7SCXO attempt 1 (orderNumber 7f3k2)"``;
- ``ecwid_history``: every status update the Ecwid order received (the simulator's
  ``GET /_control/ecwid/orders/{storeId}/{ref}/history`` ``puts``: ``newPaymentStatus`` -> ``state``,
  ``oldPaymentStatus`` -> ``from``, ``accepted``, ``httpStatus``/``errorCode`` into ``note``), label e.g.
  ``"Ecwid order 1003/O7SCXO status history"``.

Guarantees: blank lines are ignored; unknown keys are ignored (forward compatible). An ``EvidenceError`` is
raised for a line that is not an object, misses ``scenario_id``/``feature``/``scenario``/``kind``, has an unknown
kind, a screenshot or link without ``path``, a journal or note with neither ``text`` nor ``path``, a timeline or
Ecwid history without ``entries`` (or an entry without ``at``/``state``, or an ``at`` that is not an ISO 8601
time with a zone), an ``attempt`` that is not a positive integer, or a path that is absolute, climbs out of the
report directory (``..``) or uses another URL scheme (``javascript:``, ``file:``, ``data:`` ...): the report never
links somewhere unsafe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath, PureWindowsPath

from reports.errors import EvidenceError

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class EvidenceKind(StrEnum):
    SCREENSHOT = "screenshot"
    JOURNAL = "journal"
    NOTE = "note"
    LINK = "link"
    TIMELINE = "timeline"
    ECWID_HISTORY = "ecwid_history"


STRUCTURED_KINDS = frozenset({EvidenceKind.TIMELINE, EvidenceKind.ECWID_HISTORY})


@dataclass(frozen=True, slots=True)
class EvidenceEntry:
    """One line of a timeline or an Ecwid status history: when (``at``, ISO 8601 with a zone), which ``state`` was
    reached, from which one, what caused it, whether it was accepted, and a note for people."""

    at: str
    state: str
    previous: str | None = None
    source: str | None = None
    accepted: bool | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of evidence for one scenario example (``scenario_id``; ``feature``/``scenario`` for people).

    ``ref`` is the report's evidence reference (``E-001``...), given by the builder; ``attempt`` the run of the
    scenario it was recorded in (None: not said); ``entries`` the lines of a timeline or Ecwid history.
    """

    scenario_id: str
    feature: str
    scenario: str
    kind: EvidenceKind
    label: str
    path: str | None = None
    text: str | None = None
    entries: tuple[EvidenceEntry, ...] = ()
    attempt: int | None = None
    ref: str = ""


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
        or ".." in PurePosixPath(path.replace("\\", "/")).parts
    ):
        raise EvidenceError(
            f"{where}: 'path' must be relative to the report directory"
            + (" (or an http(s) URL for a link)" if kind is EvidenceKind.LINK else "")
        )


def parse_time(value: str) -> datetime | None:
    """``value`` as an aware datetime (ISO 8601, ``Z`` allowed), or None when it is not one."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _entry(raw: object, where: str) -> EvidenceEntry:
    if not isinstance(raw, dict):
        raise EvidenceError(f"{where}: expected an object")
    values: dict[str, str] = {}
    for key in ("at", "state"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise EvidenceError(f"{where}: '{key}' must be a non-empty string")
        values[key] = value
    if parse_time(values["at"]) is None:
        raise EvidenceError(f"{where}: 'at' must be an ISO 8601 time with a time zone, got {values['at']!r}")
    accepted = raw.get("accepted")
    if accepted is not None and not isinstance(accepted, bool):
        raise EvidenceError(f"{where}: 'accepted' must be true, false or null")
    return EvidenceEntry(
        at=values["at"],
        state=values["state"],
        previous=_optional_str(raw, "from", where),
        source=_optional_str(raw, "source", where),
        accepted=accepted,
        note=_optional_str(raw, "note", where),
    )


def _entries(obj: Mapping[str, object], kind: EvidenceKind, where: str) -> tuple[EvidenceEntry, ...]:
    raw = obj.get("entries")
    if kind not in STRUCTURED_KINDS:
        return ()
    if not isinstance(raw, list) or not raw:
        raise EvidenceError(f"{where}: a {kind.value} needs a non-empty 'entries' list")
    return tuple(_entry(entry, f"{where}: entries[{index}]") for index, entry in enumerate(raw))


def _attempt(obj: Mapping[str, object], where: str) -> int | None:
    value = obj.get("attempt")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise EvidenceError(f"{where}: 'attempt' must be a positive integer or null")
    return value


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
        entries=_entries(obj, kind, where),
        attempt=_attempt(obj, where),
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
