"""History of the readiness runs in one output folder, and what changed since the previous one.

Role: ``keep_history`` copies each run's ``readiness.json`` to ``<out>/history/<timestamp>.json`` (UTC, e.g.
``20250131T120000Z.json``; a second run in the same second gets ``-2``...), so a folder remembers its runs even
though each run replaces ``readiness.json``. ``latest_history`` is the newest kept file (call it *before* writing
the new run). ``compare(previous, current)`` lists the items whose finding changed (newly failing, fixed, newly
NOT RUN, newly NOT APPLICABLE...) and the verdict change; ``Comparison.lines()`` is what a caller prints.

An unreadable previous file (missing, not JSON, not a readiness report) is a ``HistoryError`` naming the file and
the problem, never a silent "no changes".
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reports.errors import HistoryError, OutputError
from reports.integrity import HISTORY_DIR
from reports.model import Report


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One item whose finding changed: ``change`` names it ("newly failing", "fixed", ...)."""

    id: str
    title: str
    before: str | None
    after: str | None
    change: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Comparison:
    """This run against the previous one (``previous`` names its file)."""

    previous: str
    previous_generated_at: str
    previous_verdict: str
    verdict: str
    changes: tuple[ItemChange, ...] = ()

    @property
    def verdict_changed(self) -> bool:
        return self.previous_verdict != self.verdict

    def lines(self) -> list[str]:
        """One line for the verdict, one per changed item (for a terminal)."""
        head = (
            f"verdict {self.previous_verdict} -> {self.verdict}"
            if self.verdict_changed
            else f"verdict unchanged ({self.verdict})"
        )
        lines = [f"compared with the run of {self.previous_generated_at} ({self.previous}): {head}"]
        if not self.changes:
            lines.append("  no item changed its finding")
        for change in self.changes:
            before = change.before or "absent"
            after = change.after or "absent"
            lines.append(
                f"  {change.change}: {change.id} {before} -> {after}" + (f" ({change.reason})" if change.reason else "")
            )
        return lines


def _change_name(before: str | None, after: str | None) -> str:
    if before is None:
        return "new item"
    if after is None:
        return "item removed"
    if after == "FAIL":
        return "newly failing"
    if before == "FAIL" and after == "PASS":
        return "fixed"
    if after == "PASS":
        return "newly passing"
    if after == "NOT RUN":
        return "newly NOT RUN"
    if after == "NOT APPLICABLE":
        return "newly NOT APPLICABLE"
    if after == "TO WITNESS":
        return "newly TO WITNESS"
    return f"now {after}"


def load_previous(path: Path) -> dict[str, Any]:
    """A previous ``readiness.json``; ``HistoryError`` when it cannot be read or is not a readiness report."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise HistoryError(f"{path}: the previous report does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryError(f"{path}: cannot read the previous report ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise HistoryError(
            f"{path}: the previous report is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list) or "verdict" not in data:
        raise HistoryError(f"{path}: not a readiness report (no 'verdict' and 'items')")
    for index, item in enumerate(data["items"]):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("status"), str):
            raise HistoryError(f"{path}: items[{index}] has no 'id' and 'status'")
    return data


def compare(previous: Path | Mapping[str, Any], current: Report) -> Comparison:
    """What changed from ``previous`` (a path to a ``readiness.json``, or its decoded data) to ``current``."""
    source = str(previous) if isinstance(previous, Path) else "previous report"
    data = load_previous(previous) if isinstance(previous, Path) else dict(previous)
    if not isinstance(data.get("items"), list):
        raise HistoryError(f"{source}: not a readiness report (no 'items')")
    before = {str(item["id"]): item for item in data["items"] if isinstance(item, dict) and "id" in item}
    changes: list[ItemChange] = []
    for item in current.items:
        old = before.get(item.id)
        old_status = str(old["status"]) if old is not None else None
        if old_status != item.status.value:
            change = _change_name(old_status, item.status.value)
            changes.append(ItemChange(item.id, item.title, old_status, item.status.value, change, item.reason))
    current_ids = {item.id for item in current.items}
    for item_id, old in before.items():
        if item_id not in current_ids:
            changes.append(ItemChange(item_id, str(old.get("title", "")), str(old["status"]), None, "item removed"))
    return Comparison(
        previous=source,
        previous_generated_at=str(data.get("generated_at", "unknown time")),
        previous_verdict=str(data.get("verdict")),
        verdict=current.verdict.value,
        changes=tuple(changes),
    )


def history_dir(out_dir: Path) -> Path:
    return out_dir / HISTORY_DIR


def latest_history(out_dir: Path) -> Path | None:
    """The newest kept report in ``<out>/history`` (by its timestamp name), or None."""
    folder = history_dir(out_dir)
    if not folder.is_dir():
        return None
    kept = sorted(folder.glob("*.json"), key=lambda p: (p.stem.split("-")[0], _suffix(p.stem)))
    return kept[-1] if kept else None


def _suffix(stem: str) -> int:
    _, _, number = stem.partition("-")
    return int(number) if number.isdigit() else 1


def keep_history(out_dir: Path, report_json: Path, generated_at: datetime) -> Path:
    """Copy ``report_json`` to ``<out>/history/<timestamp>.json``; returns the new file."""
    folder = history_dir(out_dir)
    stamp = generated_at.strftime("%Y%m%dT%H%M%SZ")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{stamp}.json"
        n = 1
        while target.exists():
            n += 1
            target = folder / f"{stamp}-{n}.json"
        shutil.copyfile(report_json, target)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot keep the report's history ({exc.strerror or exc})") from exc
    return target
