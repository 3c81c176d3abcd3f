"""The feature suite's world: one lab (gateway + simulator on free ports) and one Chromium per session, a fresh
browser context per scenario, evidence (screenshots, journal excerpts) written for the readiness report.

Environment: ``VPOSLAB_REPORT_DIR`` (where evidence and target.json go; set by ``vposlab check``),
``VPOSLAB_LAB_SECRETS`` (the lab's secrets, so the report can be scrubbed of them).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from features.steps.common_steps import *  # noqa: F403 - registers the shared step definitions
from features.support.control import SimulatorControl
from lab import Lab, LabSecrets

CHROMIUM = os.environ.get("VPOSLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
DEVICES = {"desktop": None, "iPhone": "iPhone 13", "Android": "Pixel 7"}


def _report_dir() -> Path | None:
    value = os.environ.get("VPOSLAB_REPORT_DIR")
    return Path(value) if value else None


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    raw = os.environ.get("VPOSLAB_LAB_SECRETS")
    secrets = LabSecrets(**json.loads(raw)) if raw else None
    with Lab(tmp_path_factory.mktemp("lab"), secrets=secrets) as running:
        out = _report_dir()
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "target.json").write_text(json.dumps(running.target(), indent=2))
        yield running


@pytest.fixture(scope="session")
def control(lab: Lab) -> SimulatorControl:
    return SimulatorControl(lab.simulator_url)


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    launched = playwright_session.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def browser_factory(browser: Browser, playwright_session: Playwright) -> Iterator[Any]:
    """Opens a page on a fresh context for a device name ("desktop", "iPhone", "Android")."""
    contexts = []

    def open_page(device: str = "desktop") -> Page:
        options: dict[str, Any] = {}
        descriptor = DEVICES[device]
        if descriptor is not None:
            options = dict(playwright_session.devices[descriptor])
            options.pop("default_browser_type", None)  # webkit for iPhones: we emulate on chromium
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def evidence() -> list[dict[str, Any]]:
    """Evidence items a scenario collects; written next to the report after the scenario."""
    return []


def pytest_bdd_after_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    out = _report_dir()
    if out is None:
        return
    # Steps request fixtures dynamically, so they are in fixturenames, not in node.funcargs.
    active = set(request.fixturenames)
    items: list[dict[str, Any]] = list(request.getfixturevalue("evidence")) if "evidence" in active else []
    world = request.getfixturevalue("world") if "world" in active else None
    if isinstance(world, dict) and world.get("page") is not None:
        slug = re.sub(r"[^a-zA-Z0-9]+", "-", request.node.name).strip("-")[:120]
        shot = out / "evidence" / f"{slug}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        try:
            world["page"].screenshot(path=str(shot), full_page=True)
            items.append({"kind": "screenshot", "label": "last page", "path": f"evidence/{shot.name}", "text": None})
        except Exception as exc:  # a closed page must not turn a passed scenario into an error
            items.append({"kind": "note", "label": "screenshot", "path": None, "text": f"not taken: {exc}"})
    control_client = request.getfixturevalue("control") if "control" in active else None
    if isinstance(world, dict) and control_client is not None and "mark" in world:
        lines = [
            f"{e['seq']:>5} {e['direction']:<3} {e['service']:<6} {e['operation'] or e['method'] + ' ' + e['path']}"
            f" -> {e['status']}  {e.get('summary', '')}"
            for e in control_client.journal(since=world["mark"])
        ]
        items.append(
            {"kind": "journal", "label": "simulator request journal", "path": None, "text": "\n".join(lines[-60:])}
        )
    with (out / "evidence.jsonl").open("a", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps({"feature": feature.name, "scenario": scenario.name, **item}) + "\n")
