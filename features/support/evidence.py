"""Evidence for the readiness report, kept per scenario *example* (one row of a Scenario Outline is one example).

What a scenario records, in the order it happened:
- a screenshot of every page the customer saw: after each step that loaded a page (automatic, through a ``load``
  counter on every page the scenario opened), at the points a step names itself with ``evidence.page(page,
  label)`` (pages that come and go inside one step), and when a step fails;
- one journal excerpt: the simulator's request journal filtered to the scenario's *own* orders (its Ecwid order ids,
  the bank's mdOrders and orderNumbers), so background traffic of other orders (the gateway's poller, late
  callbacks of earlier scenarios) never appears;
- notes a step adds with ``evidence.note(label, text)``.

Every record carries ``scenario_id``, the pytest node id of the example (parametrization included), and the
Cucumber JSON carries the same id (``pytest_runtest_makereport`` below), so the report attaches each record to its
own example only. Screenshots go to ``<report dir>/evidence/<scenario folder>/<NN>-<label>.png``; the folder name
ends with a hash of the node id, so two examples never share a file.

Nothing is recorded when ``VPOSLAB_REPORT_DIR`` is not set (a plain ``pytest features`` run).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Generator, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_bdd import reporting

REPORT_DIR_ENV = "VPOSLAB_REPORT_DIR"
EVIDENCE_FILE = "evidence.jsonl"
SHOTS_DIR = "evidence"
JOURNAL_LABEL = "simulator request journal (this scenario's orders only)"
MAX_JOURNAL_LINES = 200

# Where the journal names an order: these parameters, "orders/<id>" in a path, "mdOrder=<id>"-like in a summary.
_ID_PARAMS = frozenset({"orderId", "mdOrder", "orderNumber", "referenceTransactionId", "externalTransactionId"})
_PATH_ID_RE = re.compile(r"/orders/([^/?#\s]+)")
_SUMMARY_ID_RE = re.compile(r"\b(?:mdOrder|orderNumber|order|externalTransactionId)[= ]([A-Za-z0-9_-]+)")
# State keys that hold no order of the scenario's own (bank_before: every bank order that existed before it).
_NOT_THE_SCENARIOS = frozenset({"page", "mark", "bank_before"})
_MIN_ID_LENGTH = 4  # shorter values ("1", "AMD") are never an order's identity
_SLUG_RE = re.compile(r"[^a-zA-Z0-9]+")


def report_dir() -> Path | None:
    value = os.environ.get(REPORT_DIR_ENV)
    return Path(value) if value else None


def slug(text: str, limit: int) -> str:
    return _SLUG_RE.sub("-", text).strip("-")[:limit].strip("-").lower() or "page"


def scenario_folder(node_id: str, test_name: str) -> str:
    """A folder name for one example's screenshots: readable, and unique per node id (a hash, not a prefix)."""
    digest = hashlib.sha256(node_id.encode("utf-8")).hexdigest()[:12]
    return f"{slug(test_name, 60)}-{digest}"


# ---------------------------------------------------------------- the journal, this scenario's orders only


def _is_id(value: object) -> bool:
    return isinstance(value, str) and len(value) >= _MIN_ID_LENGTH


def entry_ids(entry: Mapping[str, Any]) -> set[str]:
    """The order ids (Ecwid order ids and reference ids, mdOrders, orderNumbers) one journal entry names."""
    found: set[str] = set()
    params = entry.get("params")
    if isinstance(params, Mapping):
        found |= {str(value) for key, value in params.items() if key in _ID_PARAMS and _is_id(str(value))}
    found |= {m for m in _PATH_ID_RE.findall(str(entry.get("path") or "")) if _is_id(m)}
    found |= {m for m in _SUMMARY_ID_RE.findall(str(entry.get("summary") or "")) if _is_id(m)}
    return found


def own_entries(entries: Iterable[Mapping[str, Any]], seeds: Iterable[str]) -> list[Mapping[str, Any]]:
    """The entries about the scenario's own orders, oldest first.

    Starts from ``seeds`` (ids the scenario knows are its own) and follows the journal: an entry that names one of
    them makes the other ids it names the scenario's too (a register.do names both the orderNumber and the
    mdOrder). Entries that name no order at all (a storefront page view) cannot be told apart from other
    scenarios' traffic and are left out.
    """
    ordered = list(entries)
    known = {seed for seed in seeds if _is_id(seed)}
    ids = [entry_ids(entry) for entry in ordered]
    changed = True
    while changed:
        changed = False
        for found in ids:
            if found & known and not found <= known:
                known |= found
                changed = True
    return [entry for entry, found in zip(ordered, ids, strict=True) if found & known]


def format_entry(entry: Mapping[str, Any]) -> str:
    operation = entry.get("operation") or f"{entry.get('method', '')} {entry.get('path', '')}"
    summary = entry.get("summary") or ""
    return (
        f"{entry.get('seq', ''):>5} {entry.get('direction', ''):<3} {entry.get('service', ''):<6} {operation}"
        f" -> {entry.get('status')}  {summary}"
    ).rstrip()


def _ids_in_url(url: str) -> set[str]:
    query = parse_qs(urlsplit(url).query)
    return {value for key in ("mdOrder", "orderId", "orderNumber") for value in query.get(key, []) if _is_id(value)}


def harvest_ids(values: Mapping[str, Any]) -> set[str]:
    """Order ids a scenario's state values hold (``state.EvidenceSource.evidence_values``): its Ecwid order, bank
    order, and the ids in URLs it saw or called."""
    found: set[str] = set()

    def visit(value: object, depth: int = 0) -> None:
        if depth > 3:
            return
        if isinstance(value, str):
            if "?" in value:
                found.update(_ids_in_url(value))
        elif isinstance(value, Mapping):
            found.update(str(value[key]) for key in _ID_PARAMS | {"id"} if key in value and _is_id(str(value[key])))
            for inner in value.values():
                visit(inner, depth + 1)
        elif isinstance(value, list | tuple):
            for inner in value:
                visit(inner, depth + 1)
        else:  # an HTTP response: where it sent the customer, and what was asked
            headers = getattr(value, "headers", None)
            if headers is not None and hasattr(headers, "get"):
                visit(str(headers.get("location") or ""), depth + 1)
            request = getattr(value, "request", None)
            if request is not None:
                visit(str(getattr(request, "url", "")), depth + 1)

    for key, value in values.items():
        if key == "order_id" and _is_id(value):
            found.add(str(value))
        elif key not in _NOT_THE_SCENARIOS:
            visit(value)
    return found


# ---------------------------------------------------------------- one scenario example's recorder


class ScenarioEvidence:
    """Collects one scenario example's evidence and appends it to ``evidence.jsonl`` when the scenario ends.

    ``out_dir`` None disables recording (screenshots are not even taken). Never raises because of evidence: a
    screenshot that cannot be taken becomes a note, so evidence never turns a passed scenario into an error.
    """

    def __init__(self, out_dir: Path | None, node_id: str, test_name: str) -> None:
        self.out_dir = out_dir
        self.node_id = node_id
        self.folder = scenario_folder(node_id, test_name)
        self.feature = ""
        self.scenario = ""
        self.current_step = ""
        self.records: list[dict[str, Any]] = []
        self._ids: set[str] = set()
        self._pages: list[Any] = []
        self._loads: dict[int, int] = {}
        self._captured: dict[int, int] = {}
        self._shots = 0

    @property
    def enabled(self) -> bool:
        return self.out_dir is not None

    def begin(self, feature: str, scenario: str) -> None:
        self.feature, self.scenario = feature, scenario

    # -- pages --------------------------------------------------------------------------------------------------

    def watch(self, page: Any) -> None:
        """Count the page's loads, so every page it shows gets a screenshot after the step that loaded it."""
        key = id(page)
        self._pages.append(page)
        self._loads[key] = 0
        self._captured[key] = 0

        def loaded(*_: object) -> None:  # runs inside Playwright's dispatcher: count only, call nothing
            self._loads[key] += 1

        page.on("load", loaded)

    def page(self, page: Any, label: str) -> None:
        """Screenshot ``page`` now, labelled ``label`` (a page the customer saw inside a step)."""
        if not self.enabled:
            return
        self._shoot(page, label)

    def after_step(self, step: str) -> None:
        """Screenshot every watched page that loaded something since its last screenshot."""
        if not self.enabled:
            return
        for page in self._open_pages():
            self._settle(page)
            if self._loads[id(page)] > self._captured[id(page)]:
                self._shoot(page, f"{self._title(page)} (after: {step})")

    def step_failed(self, step: str) -> None:
        """Screenshot every open page as it was when ``step`` failed."""
        if not self.enabled:
            return
        for page in self._open_pages():
            self._shoot(page, f"{self._title(page)} (when the step failed: {step})")

    def _open_pages(self) -> list[Any]:
        return [page for page in self._pages if not _closed(page)]

    def _settle(self, page: Any) -> None:
        # A round trip to the browser delivers pending events, so the load counter is current.
        with contextlib.suppress(Exception):  # a page mid-navigation or gone: the counter is as good as it gets
            page.title()

    def _title(self, page: Any) -> str:
        try:
            title = str(page.title()).split(" - ")[0].strip()
        except Exception:
            title = ""
        if title:
            return title
        try:
            return urlsplit(str(page.url)).path or "page"
        except Exception:
            return "page"

    def _shoot(self, page: Any, label: str) -> None:
        assert self.out_dir is not None
        self._shots += 1
        name = f"{self._shots:02d}-{slug(label, 50)}.png"
        relative = f"{SHOTS_DIR}/{self.folder}/{name}"
        target = self.out_dir / SHOTS_DIR / self.folder / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target), full_page=True)
        except Exception as exc:  # a closed page must not turn a passed scenario into an error
            self.note(f"screenshot: {label}", f"not taken: {type(exc).__name__}: {exc}")
            return
        self._keep_source(page, target.with_suffix(".html"))
        key = id(page)
        if key in self._loads:
            self._captured[key] = self._loads[key]
        self.records.append({"kind": "screenshot", "label": label, "path": relative, "text": None})

    def _keep_source(self, page: Any, target: Path) -> None:
        """The page's HTML (with its address) beside its screenshot: searchable evidence of what the customer got,
        and what the secrets scan (RC-25) reads."""
        try:
            html = str(page.content())
            url = str(page.url)
        except Exception:  # a page gone mid-navigation: the screenshot is the evidence
            return
        with contextlib.suppress(OSError):
            target.write_text(f"<!-- {url.replace('--', '%2D%2D')} -->\n{html}", encoding="utf-8")

    # -- orders, journal, notes ---------------------------------------------------------------------------------

    def track(self, *ids: str) -> None:
        """Declare order ids (Ecwid order id, mdOrder, orderNumber) as this scenario's own."""
        self._ids.update(value for value in ids if _is_id(value))

    def journal(
        self,
        entries: Iterable[Mapping[str, Any]],
        values: Mapping[str, Any] | None = None,
    ) -> None:
        """Add the journal excerpt of this scenario's own orders: those declared with ``track``, and those named in
        ``values`` (read with ``harvest_ids``)."""
        if not self.enabled:
            return
        everything = list(entries)
        seeds = self._ids | (harvest_ids(values) if values is not None else set())
        own = own_entries(everything, seeds)
        lines = [format_entry(entry) for entry in own]
        if len(lines) > MAX_JOURNAL_LINES:
            lines = [f"({len(lines) - MAX_JOURNAL_LINES} earlier entries not shown)", *lines[-MAX_JOURNAL_LINES:]]
        left_out = len(everything) - len(own)
        if left_out:
            lines.append(f"({left_out} entries of other orders or of no order left out)")
        text = (
            "\n".join(lines)
            if own
            else "no journal entry names this scenario's orders"
            + (f" ({left_out} entries of other orders or of no order left out)" if left_out else "")
        )
        self.records.append({"kind": "journal", "label": JOURNAL_LABEL, "path": None, "text": text})

    def structured(self, kind: str, label: str, entries: list[dict[str, Any]]) -> None:
        """A ``timeline`` or ``ecwid_history`` record (``reports.evidence``): entries oldest first."""
        if self.enabled and entries:
            self.records.append({"kind": kind, "label": label, "path": None, "text": None, "entries": entries})

    def note(self, label: str, text: str) -> None:
        self.records.append({"kind": "note", "label": label, "path": None, "text": text})

    # -- output -------------------------------------------------------------------------------------------------

    def lines(self) -> list[str]:
        """The evidence JSON lines of this example (see ``reports.evidence``)."""
        head = {"scenario_id": self.node_id, "feature": self.feature, "scenario": self.scenario}
        return [json.dumps({**head, **record}, ensure_ascii=False) for record in self.records]

    def flush(self) -> None:
        """Append this example's records to ``evidence.jsonl`` (once) and forget them."""
        if not self.enabled or not self.records:
            return
        assert self.out_dir is not None
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with (self.out_dir / EVIDENCE_FILE).open("a", encoding="utf-8") as handle:
            handle.writelines(line + "\n" for line in self.lines())
        self.records = []


def _closed(page: Any) -> bool:
    is_closed: Callable[[], bool] | None = getattr(page, "is_closed", None)
    try:
        return bool(is_closed()) if is_closed is not None else False
    except Exception:
        return True


# ---------------------------------------------------------------- pytest wiring (imported by features/conftest.py)


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> ScenarioEvidence:
    """This scenario example's evidence recorder (keyed by its pytest node id)."""
    return ScenarioEvidence(report_dir(), request.node.nodeid, request.node.name)


def recorder(request: pytest.FixtureRequest) -> ScenarioEvidence | None:
    value = request.getfixturevalue("evidence")
    return value if isinstance(value, ScenarioEvidence) else None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Make the Cucumber JSON's scenario ``id`` the pytest node id (pytest-bdd writes the bare test name, which
    only its module makes unique), so the report can attach evidence to exactly this example."""
    report = yield
    context = reporting.test_report_context_registry.get(report)
    if context is not None:
        context.name = item.nodeid
    return report
