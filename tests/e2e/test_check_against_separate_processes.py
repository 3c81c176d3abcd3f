"""``vposlab check --gateway-url URL --simulator-url URL`` against our gateway started apart from the run, as a host
runs it, gives the lab's verdict: the whole suite, item by item.

``lab.separate.SeparateLab`` starts ``vposlab-simulator serve`` (stores 1003 and 1004, the four currency merchants,
signed callbacks to the gateway) and the gateway on a fresh PostgreSQL schema (``vposlab-gateway migrate``, an
operator account, ``serve --workers 2`` under gunicorn, a ``worker`` process, the TEST-only test clock), configured
as the lab configures its own, with secrets generated for this test. Then ``vposlab check`` runs the whole suite
against them (a subprocess, as a person would on the gateway's host), with the secrets in the ``VPOSLAB_TARGET_*``
variables only and the gateway's own files named (``--gateway-env-file``, ``--gateway-log``):

- the gateway's records, time and timings are read and moved through its console's JSON view (never its database);
  its log files and database are scanned for secrets and its configuration audited from the files named, on its host;
- the run ends GO, and every item has the status and the number of scenarios of the lab's own whole run
  (``tests/e2e/whole_lab_run.py``, shared with the canary-secrets proof);
- the report names the gateway and the simulator started elsewhere and the audit of the gateway's own configuration
  (shown, not counted: TEST by design, the test clock named); the gateway really took the payments (its PostgreSQL
  schema holds them);
- no secret, in any encoded form, is in any file the run wrote or in its output, nor in the processes' logs.

Set ``VPOSLAB_SEPARATE_CHECK_ITEMS`` (``RC-05 RC-22 ...``) to run a selection instead (faster while working on it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from features.support.browser import CHROMIUM
from features.support.secret_scan import SecretScan
from lab.separate import SeparateLab
from tests.e2e.gateway_processes import postgres_url as postgres_url
from tests.e2e.whole_lab_run import WholeLabRun

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent.parent
CHECK = [sys.executable, "-c", "from lab.cli import main; main()", "check"]
ITEMS = tuple(os.environ.get("VPOSLAB_SEPARATE_CHECK_ITEMS", "").split())
CHECK_TIMEOUT_S = 30 * 60
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


def check_environment(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without vposlab settings (chromium's path excepted), plus ``extra``."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("VPOSLAB_") or k == "VPOSLAB_CHROMIUM"}
    return {**kept, **extra}


def run_check(out: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    selection = [arg for item in ITEMS for arg in ("--item", item)]
    return subprocess.run(
        [*CHECK, *args, "--out", str(out), *selection, *(["--no-fail"] if ITEMS else [])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CHECK_TIMEOUT_S,
    )


def report_of(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "readiness.json").read_text(encoding="utf-8"))
    return data


def findings(data: dict[str, Any]) -> dict[str, tuple[str, int]]:
    """Each item's status and number of scenarios (of the selection, when there is one)."""
    return {
        entry["id"]: (entry["status"], len(entry["scenarios"]))
        for entry in data["items"]
        if not ITEMS or entry["id"] in ITEMS
    }


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
    postgres_url: str, tmp_path: Path, whole_lab_run: WholeLabRun
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (bash scripts/setup.sh installs it)")
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
        settings_file = separate.settings_file()
        mark = time.monotonic()
    timings["stop them"] = time.monotonic() - mark

    assert remote.returncode == 0, remote_output[-6000:]  # GO (or, for a selection, --no-fail)
    data = report_of(tmp_path / "remote")
    assert data["run"]["completed"] is True, data["run"]
    target = data["target"]
    assert (target["kind"], target["gateway"]) == ("simulator", "vposlab")
    assert (target["gateway_url"], target["simulator_url"]) == (gateway_url, simulator_url)
    assert target["payment_url"] == f"{gateway_url}/ecwid/payment"
    assert target["callback_url"] == f"{gateway_url}/vpos/callback"
    assert target["gateway_env_file"] == str(settings_file)
    audit = target["configuration_audit"]
    assert (audit["ready"], audit["counts"]) == (False, False), audit
    test_only = next(f for f in audit["findings"] if f["check"] == "AU-08")
    assert test_only["result"] == "FAIL" and "VPOSLAB_TEST_CLOCK" in test_only["detail"], test_only
    assert attempts > 0 and paid > 0, "the gateway started apart took no payment: the run went elsewhere"

    assert whole_lab_run.returncode == 0, whole_lab_run.output[-4000:]
    lab_data = whole_lab_run.report()
    assert findings(data) == findings(lab_data)
    if not ITEMS:
        assert data["verdict"] == lab_data["verdict"] == "GO"
        passed = {item_id for item_id, (status, _) in findings(data).items() if status == "PASS"}
        assert passed == {f"RC-{n:02d}" for n in range(1, 37)}

    scan = SecretScan(secrets)
    scan_for_secrets(scan, tmp_path / "remote", remote_output)
    assert not scan.leaks, "secrets in the run's files:\n" + "\n".join(sorted({str(leak) for leak in scan.leaks}))
    # The processes' logs hold no secret either (RC-25 scanned the gateway's during the run; here all of them).
    logs = sorted((tmp_path / "processes").glob("*.log"))
    assert {path.stem for path in logs} >= {"simulator", "migrate", "operator", "gateway", "worker"}
    assert sum(scan.log_lines(path) for path in logs) > 50
    assert not scan.leaks, "secrets in the processes' logs:\n" + "\n".join(sorted({str(leak) for leak in scan.leaks}))
    print("timings (s):", {name: round(seconds, 1) for name, seconds in timings.items()})
