"""``readiness.html`` stands alone: screenshots inlined (re-encoded small), nothing fetched, evidence numbered and
anchored, the new evidence kinds as tables, the audit, identity, reproducibility and sign-off blocks, print styles.

The browser's view of the same file (no request leaves it, images decode, print expands the evidence) is
``tests/e2e/test_report_html_browser.py``.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from PIL import Image

from reports.build import build_report, write_report
from reports.checklist import Checklist, ChecklistItem
from reports.evidence import Evidence, EvidenceEntry, EvidenceKind
from reports.html_view import PRINT_SCRIPT, render_html
from reports.inline_images import MAX_WIDTH, inline_screenshot
from reports.model import Report
from reports.reproducibility import collect
from reports.results import ScenarioResult, Status, StepResult
from reports.signing import load_signing_key

NOW = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
CHECKLIST = Checklist(
    items=(
        ChecklistItem("RC-01", "Card payment succeeds", blocking=True),
        ChecklistItem("RC-07", "Callback arrives before the customer returns", blocking=True),
        ChecklistItem("RC-17", "Ecwid API keeps failing", blocking=True),
        ChecklistItem("RC-30", "REAL configuration audit", blocking=True),
    )
)
PAID = "features/test_scenarios.py::test_paid[4242-en]"
AUDIT = {
    "ready": False,
    "counts": False,
    "reason": "the lab's TEST configuration: TEST URLs are expected",
    "findings": [
        {"check": "provider.mode", "title": "provider mode is REAL", "result": "FAIL", "detail": "mode is TEST"},
        {"check": "debug.off", "title": "debug is off", "result": "PASS", "detail": "unset"},
    ],
}


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("VPOSLAB_SIGNING_KEY", raising=False)


def screenshot(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> None:
    """A page-like PNG: a photo-ish (noisy) background with text-ish stripes, which PNG compresses badly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    noise = Image.effect_noise(size, 12).convert("RGB")
    image = Image.blend(Image.new("RGB", size, colour), noise, 0.15)
    for y in range(40, size[1] - 40, 24):
        image.paste((30, 30, 30), (40, y, size[0] // 2, y + 10))
    image.save(path)


def evidence(kind: EvidenceKind, label: str, **fields: object) -> Evidence:
    return Evidence(PAID, "Card payments", "Paid", kind, label, **fields)  # type: ignore[arg-type]


def sample(folder: Path) -> Report:
    screenshot(folder / "evidence" / "paid" / "01-store.png", (1280, 720), (250, 250, 250))
    screenshot(folder / "evidence" / "paid" / "02-bank.png", (1280, 2000), (235, 240, 250))
    records = [
        evidence(EvidenceKind.SCREENSHOT, "store", path="evidence/paid/01-store.png"),
        evidence(EvidenceKind.SCREENSHOT, "bank <page>", path="evidence/paid/02-bank.png"),
        evidence(EvidenceKind.SCREENSHOT, "thank-you", path="evidence/paid/03-missing.png"),
        evidence(EvidenceKind.JOURNAL, "journal", text="  3 in  vpos   register.do -> 200"),
        evidence(
            EvidenceKind.TIMELINE,
            "payment 1003/O7SCXO attempt 1",
            entries=(
                EvidenceEntry("2025-01-31T11:59:58.000Z", "registered", source="gateway"),
                EvidenceEntry("2025-01-31T11:59:59.250Z", "paid", "registered", "callback", None, "orderStatus 2"),
            ),
        ),
        evidence(
            EvidenceKind.ECWID_HISTORY,
            "Ecwid order 1003/O7SCXO",
            entries=(
                EvidenceEntry("2025-01-31T11:59:59.500Z", "PAID", "AWAITING_PAYMENT", "gateway", False, "HTTP 503"),
                EvidenceEntry("2025-01-31T12:00:01.500Z", "PAID", "AWAITING_PAYMENT", "gateway", True, "HTTP 200"),
            ),
        ),
        evidence(EvidenceKind.LINK, "trace", path="https://bank.example/trace/1"),
    ]
    paid = ScenarioResult(
        "Card payments",
        "Paid",
        ("RC-01", "RC-07", "desktop"),  # one scenario, two items: its evidence is shown once
        Status.PASSED,
        3.25,
        (
            StepResult("Given", "a cart", Status.PASSED, 1.25),
            StepResult("When", "the customer pays", Status.PASSED, 2.0),
        ),
        id=PAID,
    )
    return build_report(
        CHECKLIST,
        [paid],
        target={
            "name": "local lab (simulator)",
            "gateway_version": "0.1.0",
            "gateway_commit": "fbd7184",
            "provider_mode": "TEST",
            "gateway_url": "http://127.0.0.1:40325",
            "storefront_url": "http://127.0.0.1:46029/store/1003/",
            "configuration_audit": AUDIT,
        },
        evidence=records,
        generated_at=NOW,
        reproducibility=collect(commit="fbd7184", seed=7, command=["vposlab", "check", "-k", "RC-01 or RC-07"]),
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """One signed report folder for the module (its key in a temporary config folder, kept for the module)."""
    folder = tmp_path_factory.mktemp("alone") / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(folder.parent / "config"))
        patch.delenv("VPOSLAB_SIGNING_KEY", raising=False)
        paths = write_report(sample(folder), folder, signing_key=load_signing_key())
        yield folder, paths["html"].read_text(encoding="utf-8")


# ---------------------------------------------------------------- alone: nothing outside the file


def test_every_image_is_an_inline_webp_data_uri_and_nothing_points_outside_the_file(written: tuple[Path, str]) -> None:
    _, html = written

    sources = re.findall(r'<img src="([^"]*)"', html)
    assert len(sources) == 2
    assert all(src.startswith("data:image/webp;base64,") for src in sources)
    assert not re.search(r'(?:src|href)="(?!#|data:|https://bank\.example/)', html)  # only anchors, data, the link
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert html.count("<script") == 1


def test_a_content_security_policy_allows_only_data_images_and_the_own_style_and_script(
    written: tuple[Path, str],
) -> None:
    _, html = written

    [escaped] = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)
    policy = unescape(escaped)
    assert policy.startswith("default-src 'none'; img-src data:; style-src 'sha256-")
    assert "script-src 'sha256-" in policy
    assert "unsafe-inline" not in policy
    assert f"<script>{PRINT_SCRIPT}</script>" in html


def test_a_missing_screenshot_says_so_in_its_place(written: tuple[Path, str]) -> None:
    _, html = written

    assert (
        '<div class="missing">screenshot not shown: the screenshot file is missing (evidence/paid/03-missing.png)</div>'
        in html
    )


def test_screenshots_are_re_encoded_smaller_than_the_pngs(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    screenshot(folder / "tall.png", (1280, 2000), (235, 240, 250))

    image = inline_screenshot(folder, "tall.png")

    assert image.data_uri is not None
    decoded = Image.open(io.BytesIO(base64.b64decode(image.data_uri.split(",", 1)[1])))
    assert decoded.format == "WEBP"
    assert (image.width, image.height) == (decoded.width, decoded.height) == (MAX_WIDTH, 1250)
    assert image.inlined_bytes < image.original_bytes


def test_an_image_is_never_inlined_larger_than_its_file(tmp_path: Path) -> None:
    flat = Image.new("RGB", (1280, 1000), (255, 255, 255))
    for y in range(40, 960, 24):
        for x in range(40, 1080, 9):
            if (x * 7 + y * 3) % 5:
                flat.paste((30, 30, 30), (x, y, x + 6, y + 10))  # a regular pattern: tiny as PNG, costly as WebP
    flat.save(tmp_path / "flat.png")

    image = inline_screenshot(tmp_path, "flat.png")

    assert image.data_uri is not None and image.data_uri.startswith("data:image/png;base64,")
    assert len(base64.b64decode(image.data_uri.split(",", 1)[1])) == image.original_bytes


@pytest.mark.parametrize(
    ("setup", "problem"),
    [
        ("missing", "the screenshot file is missing"),
        ("not an image", "not a readable image (UnidentifiedImageError)"),
        ("outside", "outside the report folder: not read"),
    ],
)
def test_a_screenshot_that_cannot_be_inlined_says_why(tmp_path: Path, setup: str, problem: str) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "broken.png").write_bytes(b"not a png")
    screenshot(tmp_path / "elsewhere.png", (10, 10), (0, 0, 0))
    (folder / "link.png").symlink_to(tmp_path / "elsewhere.png")
    relative = {"missing": "gone.png", "not an image": "broken.png", "outside": "link.png"}[setup]

    assert inline_screenshot(folder, relative).problem == problem


# ---------------------------------------------------------------- evidence: numbered, anchored, shown once


def test_every_evidence_record_has_an_anchored_reference_and_items_link_to_them(written: tuple[Path, str]) -> None:
    folder, html = written
    data = json.loads((folder / "readiness.json").read_text(encoding="utf-8"))

    rc01 = data["items"][0]
    assert rc01["evidence_refs"] == [f"E-{n:03d}" for n in range(1, 8)]
    for ref in rc01["evidence_refs"]:
        assert html.count(f'id="{ref}"') == 1
        assert f'href="#{ref}"' in html
    shot = rc01["scenarios"][0]["evidence"][0]
    assert shot["sha256"] is not None and len(shot["sha256"]) == 64
    assert rc01["scenarios"][0]["evidence"][2]["sha256"] is None  # the missing file has no hash


def test_a_scenario_of_two_items_shows_its_evidence_once_and_the_second_item_links_to_it(
    written: tuple[Path, str],
) -> None:
    _, html = written

    assert html.count("data:image/webp;base64,") == 2
    second = html[html.index('<details id="RC-07"') :]
    assert ': shown under <a href="#RC-01">RC-01</a>.' in second[: second.index("</details>\n</details>")]


def test_the_timeline_and_the_ecwid_history_are_tables_with_elapsed_times_and_refused_updates(
    written: tuple[Path, str],
) -> None:
    _, html = written

    assert '<h3>payment state timeline: payment 1003/O7SCXO attempt 1 <span class="ref">E-005</span></h3>' in html
    assert '<h3>Ecwid status history: Ecwid order 1003/O7SCXO <span class="ref">E-006</span></h3>' in html
    assert '<td class="num">+1.250 s</td>' in html
    assert '<tr class="refused"><td class="at">2025-01-31T11:59:59.500Z</td>' in html
    assert "<b>PAID</b> (refused)" in html


def test_steps_are_listed_with_their_timings_and_labels_are_escaped(written: tuple[Path, str]) -> None:
    _, html = written

    assert '<b>When</b> the customer pays <span class="muted">2.0 s</span>' in html
    assert "bank &lt;page&gt;" in html and "bank <page>" not in html
    assert '<span class="example">4242-en</span>' in html


# ---------------------------------------------------------------- what was tested, the audit, sign-off


def test_identity_urls_and_the_audit_as_its_own_section_marked_not_counted(written: tuple[Path, str]) -> None:
    _, html = written

    identity = html[html.index('<h2 id="identity">') : html.index('<h2 id="configuration-audit">')]
    assert "<tr><th>gateway version</th><td>0.1.0</td></tr>" in identity
    assert "<tr><th>gateway commit</th><td>fbd7184</td></tr>" in identity
    assert '<tr><th>gateway_url</th><td class="mono">http://127.0.0.1:40325</td></tr>' in identity
    assert "provider.mode" not in identity  # the audit is not dumped into the target table
    audit = html[html.index('<h2 id="configuration-audit">') : html.index('<h2 id="rules">')]
    assert "NOT READY" in audit
    assert "<b>not counted in the verdict</b>: the lab&#39;s TEST configuration: TEST URLs are expected" in audit
    assert '<td class="mono">provider.mode</td><td><span class="badge fail">FAIL</span></td>' in audit


def test_the_sign_off_block_says_who_ran_what_when_with_blank_lines_to_sign(written: tuple[Path, str]) -> None:
    folder, html = written
    key = load_signing_key({"XDG_CONFIG_HOME": str(folder.parent / "config")})

    block = html[html.index('<h2 id="sign-off">') :]
    assert "<tr><th>against</th><td>local lab (simulator), gateway 0.1.0, commit fbd7184, bank TEST</td></tr>" in block
    assert "<tr><th>when</th><td>2025-01-31T12:00:00Z</td></tr>" in block
    assert f'<tr><th>report key</th><td class="mono">{key.fingerprint}</td></tr>' in block
    for blank in ("name", "signature", "date", "decision: GO / NO-GO"):
        assert f"<div>{blank}</div>" in block


def test_the_reproducibility_block_has_commit_seed_command_and_versions(written: tuple[Path, str]) -> None:
    _, html = written

    block = html[html.index('<h2 id="reproducibility">') : html.index('<h2 id="integrity">')]
    assert '<td class="mono">fbd7184</td>' in block
    assert '<td class="mono">7</td>' in block
    assert '<td class="mono">vposlab check -k &#39;RC-01 or RC-07&#39;</td>' in block
    assert re.search(r"pytest-bdd \d+\.\d+", block)


def test_summary_lists_failures_first_then_not_run_by_reason(written: tuple[Path, str]) -> None:
    _, html = written

    summary = html[html.index('<h2 id="summary">') : html.index('<h2 id="identity">')]
    assert (
        '<li><b>no scenario covers this item yet</b>: <a href="#RC-17">RC-17</a>, <a href="#RC-30">RC-30</a></li>'
        in (summary)
    )


# ---------------------------------------------------------------- printing


def test_print_styles_expand_every_details_and_keep_rows_and_screenshots_whole() -> None:
    css = (Path(__file__).resolve().parents[2] / "reports" / "templates" / "readiness.css").read_text(encoding="utf-8")
    print_css = css[css.index("@media print") :]

    assert "details::details-content { content-visibility: visible; display: block; }" in print_css
    assert re.search(r"tr, figure[^{]*\{ break-inside: avoid; \}", print_css)
    assert "pre { max-height: none; overflow: visible; }" in print_css
    assert "beforeprint" in PRINT_SCRIPT and "d.open=true" in PRINT_SCRIPT


def test_without_the_folder_screenshots_are_linked_for_a_preview(tmp_path: Path) -> None:
    html = render_html(sample(tmp_path / "out"))

    assert '<img src="evidence/paid/01-store.png"' in html
    assert "img-src data: 'self' file:" in unescape(html)
