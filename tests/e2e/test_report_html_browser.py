"""``readiness.html`` opened ALONE in Debian's chromium: copied to an empty folder and loaded over ``file://``, it
makes no request but for itself, every screenshot decodes, and printed (print media, ``page.pdf``) it shows the
evidence of every item expanded, although the ``<details>`` on screen are closed.

The report is written from a real report folder (page-like screenshots, a journal, a payment timeline, an Ecwid
history, a NOT APPLICABLE item, a counted configuration audit) with a key in a temporary config folder. Screenshots
and the PDF go to ``tmp_path``, and also to ``$VPOSLAB_E2E_SCREENSHOTS`` when it is set (to look at them).
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Playwright, Request, Route

from features.support.browser import new_context, shot
from reports.build import build_report, write_report
from reports.checklist import load_checklist
from reports.evidence import Evidence, EvidenceEntry, EvidenceKind
from reports.results import ScenarioResult, Status, StepResult
from reports.run_log import Attempt, LoggedTest, RunLog
from reports.signing import load_signing_key

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PAID = "features/test_scenarios.py::test_paid[4242424242424242-en]"
DECLINED = "features/test_scenarios.py::test_declined"


def page_like(path: Path, height: int, colour: tuple[int, int, int]) -> None:
    """A screenshot-like PNG: a header bar, a card and lines of 'text'."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (1280, height), (246, 248, 250))
    image.paste(colour, (0, 0, 1280, 64))
    image.paste((255, 255, 255), (320, 120, 960, height - 80))
    for y in range(160, height - 120, 28):
        image.paste((60, 60, 60), (360, y, 360 + (y * 37) % 500, y + 12))
    image.save(path)


def record(node: str, name: str, kind: EvidenceKind, label: str, **fields: object) -> Evidence:
    return Evidence(node, "Card payments", name, kind, label, **fields)  # type: ignore[arg-type]


@pytest.fixture
def report_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("VPOSLAB_SIGNING_KEY", raising=False)
    folder = tmp_path / "run"
    for n, (height, colour) in enumerate([(720, (122, 32, 48)), (1400, (9, 105, 218)), (720, (26, 127, 55))], 1):
        page_like(folder / "evidence" / "paid" / f"0{n}.png", height, colour)
    page_like(folder / "evidence" / "declined" / "01.png", 720, (207, 34, 46))
    evidence = [
        record(PAID, "Paid", EvidenceKind.SCREENSHOT, "store: order ready to pay", path="evidence/paid/01.png"),
        record(PAID, "Paid", EvidenceKind.SCREENSHOT, "bank card page", path="evidence/paid/02.png"),
        record(PAID, "Paid", EvidenceKind.SCREENSHOT, "thank-you page", path="evidence/paid/03.png"),
        record(PAID, "Paid", EvidenceKind.JOURNAL, "journal", text="  3 in  vpos  register.do -> 200  orderNumber=X1"),
        record(
            PAID,
            "Paid",
            EvidenceKind.TIMELINE,
            "payment 1003/X1 attempt 1",
            entries=(
                EvidenceEntry("2025-01-31T11:59:58Z", "registered", source="gateway"),
                EvidenceEntry("2025-01-31T11:59:59.400Z", "paid", "registered", "callback", None, "orderStatus 2"),
            ),
        ),
        record(
            PAID,
            "Paid",
            EvidenceKind.ECWID_HISTORY,
            "Ecwid order 1003/X1",
            entries=(EvidenceEntry("2025-01-31T12:00:00Z", "PAID", "AWAITING_PAYMENT", "gateway", True, "HTTP 200"),),
        ),
        record(DECLINED, "Declined", EvidenceKind.SCREENSHOT, "checkout: declined", path="evidence/declined/01.png"),
    ]
    results = [
        ScenarioResult("Card payments", "Paid", ("RC-01",), Status.PASSED, 3.0,
                       (StepResult("Given", "a cart", Status.PASSED, 1.0),
                        StepResult("When", "the customer pays", Status.PASSED, 2.0)), id=PAID),
        ScenarioResult("Card payments", "Declined", ("RC-05",), Status.FAILED, 1.0,
                       (StepResult("Then", "a clear message", Status.FAILED, 1.0, "E   AssertionError: no message"),),
                       error="E   AssertionError: no message", id=DECLINED),
    ]  # fmt: skip
    log = RunLog(
        tests={
            "f.py::test_ecwid": LoggedTest(
                "f.py::test_ecwid",
                ("RC-16",),
                (Attempt(Status.SKIPPED, 0, None, "NOT APPLICABLE: needs the simulator"),),
            )
        }
    )
    audit = {"ready": True, "counts": True, "findings": [{"check": "debug.off", "title": "debug is off",
                                                          "result": "PASS", "detail": "unset"}]}  # fmt: skip
    report = build_report(
        load_checklist(),
        results,
        target={"name": "local lab", "gateway_version": "0.1.0", "configuration_audit": audit},
        evidence=evidence,
        run_log=log,
        generated_at=datetime(2025, 1, 31, 12, 0, tzinfo=UTC),
    )
    write_report(report, folder, signing_key=load_signing_key())
    return folder


def keep(path: Path) -> None:
    folder = os.environ.get("VPOSLAB_E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(folder) / path.name)


def open_alone(browser: Browser, playwright: Playwright, html: Path, alone: Path) -> tuple[Page, list[str]]:
    """The HTML file copied into an empty folder and opened there; every request the page makes is recorded, and
    any other than the file itself or a data: URI is refused."""
    alone.mkdir()
    copy = alone / "readiness.html"
    shutil.copy(html, copy)
    context = new_context(browser, playwright)
    requested: list[str] = []

    def only_the_file(route: Route) -> None:
        if route.request.url == copy.as_uri():
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_the_file)
    page = context.new_page()
    page.on("request", lambda request: requested.append(request.url))

    def failed(request: Request) -> None:
        requested.append(f"FAILED {request.url}")

    page.on("requestfailed", failed)
    page.goto(copy.as_uri())
    page.wait_for_load_state("load")
    return page, requested


def outside(requested: list[str], html_uri: str) -> list[str]:
    return [url for url in requested if url != html_uri and not url.startswith("data:")]


def test_the_report_opens_alone_offline_with_every_image_decoded_and_prints_its_evidence_expanded(
    browser: Browser, playwright: Playwright, report_folder: Path, tmp_path: Path
) -> None:
    alone = tmp_path / "alone"
    page, requested = open_alone(browser, playwright, report_folder / "readiness.html", alone)
    html_uri = (alone / "readiness.html").as_uri()
    assert list(alone.iterdir()) == [alone / "readiness.html"]

    # every screenshot is inline and decodes, even inside closed <details>
    sizes = page.evaluate(
        "() => Promise.all([...document.images].map(i => i.decode().then(() => [i.src.slice(0, 23), i.naturalWidth])))"
    )
    assert len(sizes) == 4
    assert all(src == "data:image/webp;base64," and width > 0 for src, width in sizes), sizes
    assert page.locator("#verdict .verdict").inner_text() == "NO-GO"
    shot(page, tmp_path, "readiness-screen")

    # on screen, a passed item's evidence is folded away
    paid_shot = page.locator("#E-001 img")
    timeline = page.locator("#E-005 table.timeline")
    assert page.locator("details#RC-01").get_attribute("open") is None
    assert not paid_shot.is_visible()
    assert not timeline.is_visible()

    # printed, every <details> shows its content: screenshots, journal, timeline, the NOT APPLICABLE item's finding
    page.emulate_media(media="print")
    assert paid_shot.is_visible()
    assert timeline.is_visible()
    assert page.locator("#E-004 pre").is_visible()
    assert page.locator("details#RC-16 p.finding").is_visible()
    assert page.evaluate("() => [...document.querySelectorAll('details')].every(d => d.checkVisibility())")
    hidden = page.evaluate(
        "() => [...document.querySelectorAll('details > :not(summary)')].filter(e => !e.checkVisibility()).length"
    )
    assert hidden == 0
    shot(page, tmp_path, "readiness-print")
    pdf = tmp_path / "readiness.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    keep(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= 10, pages  # the expanded evidence of every item; folded away it would be a handful

    # and through all of it, nothing but the file itself was requested
    assert outside(requested, html_uri) == []
    page.context.close()
