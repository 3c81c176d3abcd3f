"""``vposlab check --gateway-url URL --simulator-url URL`` against our gateway started apart from the run, as a host
runs it, and the same selection against the lab: the same verdict per item.

``lab.separate.SeparateLab`` starts ``vposlab-simulator serve`` (stores 1003 and 1004, the four currency merchants,
signed callbacks to the gateway) and the gateway on a fresh PostgreSQL schema (``vposlab-gateway migrate``, an
operator account, ``serve --workers 2`` under gunicorn, a ``worker`` process), configured as the lab configures its
own, with secrets generated for this test. Then ``vposlab check`` runs a representative selection of items against
them (a subprocess, as a person would), with the secrets in the ``VPOSLAB_TARGET_*`` variables only:

- the run completes, and every item PASSes except the ones that need the gateway's own host (RC-25's scan of the
  gateway's log and database), which are NOT RUN with that reason, never PASS and never FAIL;
- the report names the gateway and the simulator started elsewhere, and the gateway really took the payments
  (its PostgreSQL schema holds them);
- no secret, in any encoded form, is in any file the run wrote or in its output, nor in the processes' logs.

Then the processes are stopped and the same selection runs against the lab (``vposlab check --item ...``): every
item both can judge has the same status; the items that need the gateway's own host PASS in the lab.

Set ``VPOSLAB_SEPARATE_CHECK_ITEMS`` (``RC-05 RC-22 ...``) to run another selection (slower; RC-05 and RC-22 pass
against the separate processes too, ~50 s more per run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from features.support.browser import CHROMIUM
from features.support.secret_scan import SecretScan
from lab.cli import declared_coverage
from lab.separate import SeparateLab
from tests.e2e.gateway_processes import postgres_url as postgres_url

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent.parent
CHECK = [sys.executable, "-c", "from lab.cli import main; main()", "check"]
# Card payment in the browser, the bank's callback first, forged callbacks, a repeated and a concurrent payment
# request (over two gunicorn processes), broken payment requests, and the secrets scans.
ITEMS = tuple(os.environ.get("VPOSLAB_SEPARATE_CHECK_ITEMS", "RC-01 RC-07 RC-12 RC-14 RC-24 RC-25").split())
# What only the gateway's own host has: against a gateway started elsewhere the scenario ends with this reason.
NEEDS_THE_GATEWAYS_HOST = {
    "RC-25": "NOT RUN: the gateway's log file is on its own host: scan it there (docs: RC-25)",
}
CHECK_TIMEOUT_S = 600
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


def check_environment(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without vposlab settings (chromium's path excepted), plus ``extra``."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("VPOSLAB_") or k == "VPOSLAB_CHROMIUM"}
    return {**kept, **extra}


def run_check(out: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    selection = [arg for item in ITEMS for arg in ("--item", item)]
    return subprocess.run(
        [*CHECK, *args, "--no-fail", "--out", str(out), *selection],  # a selection of items: NO-GO by design
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CHECK_TIMEOUT_S,
    )


def report_of(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "readiness.json").read_text(encoding="utf-8"))
    return data


def items_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["id"]: entry for entry in data["items"]}


def junit_skips(out: Path) -> dict[str, str]:
    """The skip message of every skipped scenario in the feature run's own JUnit XML, by test name."""
    skips = {}
    for case in ET.parse(out / "pytest-junit.xml").iter("testcase"):  # noqa: S314 - the run's own file
        for skipped in case.findall("skipped"):
            skips[str(case.get("name"))] = str(skipped.get("message"))
    return skips


def statuses(data: dict[str, Any]) -> dict[str, str]:
    return {item_id: entry["status"] for item_id, entry in items_of(data).items() if item_id in ITEMS}


def assert_remote_items(data: dict[str, Any], out: Path, declared: dict[str, int]) -> None:
    items = items_of(data)
    skips = junit_skips(out)
    for item_id in ITEMS:
        item = items[item_id]
        scenarios = item["scenarios"]
        assert [s["name"] for s in scenarios if s["status"] == "failed"] == [], (item_id, item["reason"])
        reason = NEEDS_THE_GATEWAYS_HOST.get(item_id)
        if reason is None:
            assert item["status"] == "PASS", (item_id, item["status"], item["reason"])
            count = declared[item_id]
            assert item["reason"] == f"{count} of {count} scenario{'s' if count > 1 else ''} passed", item["reason"]
            continue
        assert item["status"] == "NOT RUN", (item_id, item["status"], item["reason"])
        skipped = [s for s in scenarios if s["status"] == "skipped"]
        assert skipped, f"{item_id}: no scenario ended for want of the gateway's host"
        for scenario in skipped:
            # The feature run said why (its JUnit XML); the report keeps that reason when it has the run's skip
            # reasons (lab/cli.py gives build_report no pytest report log today: then it has none).
            assert skips[scenario["id"].rsplit("::", 1)[-1]] == reason, scenario["name"]
            assert scenario["skip_reason"] in (None, reason), scenario["skip_reason"]
        said = f"{len(skipped)} of {declared[item_id]} scenario{'s' if declared[item_id] > 1 else ''} did not run"
        why = reason.removeprefix("NOT RUN: ")
        assert item["reason"] in (said, f"{said} ({why})"), item["reason"]
        assert item["cause"] in ("skipped without a reason", why), item["cause"]
    ran = {item_id for item_id, entry in items.items() if entry["scenarios"]}
    assert ran == set(ITEMS), f"scenarios outside the selection ran: {sorted(ran - set(ITEMS))}"


def scan_for_secrets(scan: SecretScan, out: Path, output: str) -> None:
    scan.text("the check's output", output)
    files = [path for path in sorted(out.rglob("*")) if path.is_file()]
    assert len(files) > 10, [str(path) for path in files]
    for path in files:
        if path.suffix not in BINARY_SUFFIXES:
            scan.text(str(path.relative_to(out)), path.read_text(encoding="utf-8", errors="replace"))


def payments_taken(database_url: str) -> tuple[int, int]:
    """(payment attempts, attempts paid) in the separate gateway's database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            total = connection.execute(text("SELECT count(*) FROM payment_attempts")).scalar_one()
            paid = connection.execute(text("SELECT count(*) FROM payment_attempts WHERE status = 'paid'")).scalar_one()
    finally:
        engine.dispose()
    return int(total), int(paid)


def test_check_against_the_gateway_and_simulator_started_apart_gives_the_labs_verdict(
    postgres_url: str, tmp_path: Path
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (bash scripts/setup.sh installs it)")
    declared = declared_coverage(ROOT / "features")
    assert declared is not None
    timings: dict[str, float] = {}

    started = time.monotonic()
    with SeparateLab(tmp_path / "processes", postgres_url) as separate:
        timings["start the processes"] = time.monotonic() - started
        secrets = separate.secrets.named()
        mark = time.monotonic()
        remote = run_check(tmp_path / "remote", check_environment(separate.check_env()), *separate.check_args())
        timings["check against them"] = time.monotonic() - mark
        remote_output = remote.stdout + remote.stderr
        assert separate.exit_codes() == {"simulator": None, "gateway": None, "worker": None}, remote_output[-3000:]
        attempts, paid = payments_taken(postgres_url)
        gateway_url, simulator_url = separate.gateway_url, separate.simulator_url
        mark = time.monotonic()
    timings["stop them"] = time.monotonic() - mark

    assert remote.returncode == 0, remote_output[-6000:]
    data = report_of(tmp_path / "remote")
    assert data["run"]["completed"] is True, data["run"]
    target = data["target"]
    assert (target["kind"], target["gateway"]) == ("simulator", "vposlab")
    assert (target["gateway_url"], target["simulator_url"]) == (gateway_url, simulator_url)
    assert target["payment_url"] == f"{gateway_url}/ecwid/payment"
    assert target["callback_url"] == f"{gateway_url}/vpos/callback"
    assert target["items_selected"] == list(ITEMS)
    assert target["pytest_exit_code"] == 0
    assert_remote_items(data, tmp_path / "remote", declared)
    assert attempts > 0 and paid > 0, "the gateway started apart took no payment: the run went elsewhere"

    scan = SecretScan(secrets)
    scan_for_secrets(scan, tmp_path / "remote", remote_output)
    assert not scan.leaks, "secrets in the run's files:\n" + "\n".join(sorted({str(leak) for leak in scan.leaks}))
    # What RC-25 leaves to the gateway's host (NOT RUN above): its logs, and the simulator's, hold no secret either.
    logs = sorted((tmp_path / "processes").glob("*.log"))
    assert {path.stem for path in logs} >= {"simulator", "migrate", "operator", "gateway", "worker"}
    assert sum(scan.log_lines(path) for path in logs) > 50
    assert not scan.leaks, "secrets in the processes' logs:\n" + "\n".join(sorted({str(leak) for leak in scan.leaks}))

    mark = time.monotonic()
    lab = run_check(tmp_path / "lab", check_environment({}))
    timings["check against the lab"] = time.monotonic() - mark
    assert lab.returncode == 0, (lab.stdout + lab.stderr)[-6000:]
    lab_data = report_of(tmp_path / "lab")
    assert lab_data["run"]["completed"] is True, lab_data["run"]
    assert lab_data["target"]["name"] == "local lab (simulator)"

    remote_statuses, lab_statuses = statuses(data), statuses(lab_data)
    both_judge = [item_id for item_id in ITEMS if item_id not in NEEDS_THE_GATEWAYS_HOST]
    assert {i: remote_statuses[i] for i in both_judge} == {i: lab_statuses[i] for i in both_judge}
    for item_id in ITEMS:
        if item_id in NEEDS_THE_GATEWAYS_HOST:
            assert lab_statuses[item_id] == "PASS", items_of(lab_data)[item_id]["reason"]
    print("timings (s):", {name: round(seconds, 1) for name, seconds in timings.items()})
    print("remote:", remote_statuses, "lab:", lab_statuses)
