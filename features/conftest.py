"""The feature suite's fixtures: one lab (gateway + simulator on free ports) and one Chromium per session, a fresh
browser context per scenario, evidence (screenshots of every page the customer saw, the journal of the scenario's
own orders) written per scenario example for the readiness report (see ``features/support/evidence.py``).

Environment: ``VPOSLAB_REPORT_DIR`` (where evidence and target.json go; set by ``vposlab check``),
``VPOSLAB_LAB_SECRETS`` (the lab's secrets, so the report can be scrubbed of them), ``VPOSLAB_LOG_LEVEL`` (the
gateway's log level, INFO by default) and ``VPOSLAB_LAB_DIR`` (where the lab keeps its database and log; a fresh
temporary folder by default).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faker import Faker
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from pytest_bdd import reporting
from pytest_bdd.scenario import scenario_wrapper_template_registry

from features.steps.bank_flow_steps import *  # noqa: F403 - 3-D Secure, pending and abandoned payments
from features.steps.chaos_steps import *  # noqa: F403 - callback chaos and bank faults (RC-07..RC-11, RC-26)
from features.steps.common_steps import *  # noqa: F403 - registers the shared step definitions
from features.steps.endpoint_steps import *  # noqa: F403 - REAL endpoints: callback URL and parity probe (RC-34, RC-35)
from features.steps.integrity_steps import *  # noqa: F403 - ids, amounts, Ecwid failures, stale attempts (RC-15..RC-36)
from features.steps.mobile_steps import *  # noqa: F403 - phones and in-app browsers (RC-22, RC-23)
from features.steps.money_steps import *  # noqa: F403 - refunds, reversals, two-phase, operator console (RC-17..RC-31)
from features.steps.production_steps import *  # noqa: F403 - secrets (RC-25) and the REAL configuration audit (RC-30)
from features.support.applicability import not_applicable
from features.support.browser import DEVICES, Contexts, launch
from features.support.control import SimulatorControl
from features.support.evidence import ScenarioEvidence, recorder, report_dir
from features.support.evidence import evidence as evidence  # the fixture, re-exported
from features.support.evidence import pytest_runtest_makereport as pytest_runtest_makereport  # the Cucumber ids
from features.support.lifecycle_evidence import record_lifecycles
from features.support.progress import progress_line
from features.support.progress import pytest_collection_finish as pytest_collection_finish  # item-by-item progress
from features.support.progress import pytest_configure as pytest_configure
from features.support.progress import pytest_report_teststatus as pytest_report_teststatus
from features.support.remote_target import RemoteTarget
from features.support.state import ScenarioState
from features.support.state import scenario_state as scenario_state  # the fixture, re-exported (evidence only)
from lab import Lab, LabSecrets
from lab.targets import Target, TargetKind, target_from_env


def _target() -> Target:
    return target_from_env(os.environ)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab | RemoteTarget]:
    """What the scenarios run against: the lab started here (default), or a target started elsewhere
    (``VPOSLAB_TARGET``, set by ``vposlab check --target`` / ``--gateway-url``), seen through the same names."""
    target = _target()
    out = report_dir()
    if target.kind is not TargetKind.LAB:
        remote = RemoteTarget(target)
        _write_target(out, remote.target())
        yield remote
        return
    raw = os.environ.get("VPOSLAB_LAB_SECRETS")
    secrets = LabSecrets.from_json(raw) if raw else None
    chosen = os.environ.get("VPOSLAB_LAB_DIR")
    workdir = Path(chosen) if chosen else tmp_path_factory.mktemp("lab")
    level = os.environ.get("VPOSLAB_LOG_LEVEL", "INFO")
    with Lab(workdir, secrets=secrets, log_level=level) as running:
        _write_target(out, running.target())
        yield running


def _write_target(out: Path | None, described: dict[str, Any]) -> None:
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "target.json").write_text(json.dumps(described, indent=2))


def pytest_sessionstart(session: pytest.Session) -> None:
    """The run's seed (``vposlab check --seed``, in the report): the same random choices when a run is repeated."""
    seed = os.environ.get("VPOSLAB_SEED")
    if seed:
        random.seed(int(seed))
        Faker.seed(int(seed))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.outcome == "rerun":  # an attempt pytest-rerunfailures retries: pytest-bdd's Cucumber writer knows no
        reporting.test_report_context_registry.pop(report, None)  # such outcome; the report log keeps the attempt
    progress_line(report)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each scenario's Gherkin names, for the report of one skipped before its first step (not in the Cucumber
    JSON): the report log carries them as user properties."""
    for item in items:
        template = scenario_wrapper_template_registry.get(getattr(item, "function", None))
        if template is not None:
            item.user_properties += [("feature", template.feature.name), ("scenario", template.name)]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A scenario that steers the simulator does not apply to a target without one (the bank's TEST environment)."""
    if item.get_closest_marker("simulator") is not None and _target().kind is TargetKind.BANK_TEST:
        not_applicable("the scenario steers the simulator's bank and Ecwid; the bank's TEST environment cannot be")


@pytest.fixture(scope="session")
def control(lab: Lab) -> SimulatorControl:
    return SimulatorControl(lab.simulator_url)


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    launched = launch(playwright_session)
    yield launched
    launched.close()


@pytest.fixture
def browser_factory(browser: Browser, playwright_session: Playwright, evidence: ScenarioEvidence) -> Iterator[Any]:
    """Opens a page on a fresh context for a device name ("desktop", "iPhone", "Android"); every page it opens is
    watched, so each page it shows gets a screenshot in the scenario's evidence."""
    contexts = Contexts(browser, playwright_session, evidence.watch)

    def open_page(device: str = "desktop") -> Page:
        return contexts.page(DEVICES[device] or "desktop")

    yield open_page
    contexts.close()


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    own = recorder(request)
    if own is not None:
        own.begin(feature.name, scenario.name)


def pytest_bdd_after_step(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any) -> None:
    own = recorder(request)
    if own is not None:
        own.after_step(f"{step.keyword} {step.name}")


def pytest_bdd_step_error(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any) -> None:
    own = recorder(request)
    if own is not None:
        own.step_failed(f"{step.keyword} {step.name}")


def pytest_bdd_after_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    own = recorder(request)
    if own is None or not own.enabled:
        return
    # Steps request fixtures dynamically, so they are in fixturenames, not in node.funcargs. The state objects the
    # steps made registered themselves in ``scenario_state``: it holds the journal mark and the scenario's order ids.
    active = set(request.fixturenames)
    state = request.getfixturevalue("scenario_state") if "scenario_state" in active else None
    control_client = request.getfixturevalue("control") if "control" in active else None
    mark = state.mark if isinstance(state, ScenarioState) else None
    if isinstance(state, ScenarioState) and isinstance(control_client, SimulatorControl) and mark is not None:
        try:
            own.track(*state.order_ids())
            own.journal(control_client.journal(since=mark))
        except Exception as exc:  # the journal is evidence: its loss must not fail the scenario
            own.note("simulator request journal", f"not read: {type(exc).__name__}: {exc}")
    if isinstance(state, ScenarioState):
        target = request.getfixturevalue("lab") if "lab" in active else None
        simulator = control_client.http.base_url if isinstance(control_client, SimulatorControl) else None
        record_lifecycles(own, target, str(simulator) if simulator else None, state.order_ids())
    own.flush()
