"""``vposlab``: run the lab by hand (``vposlab lab``) or the readiness run (``vposlab check``).

``check`` runs the feature suite in a child pytest (which starts its own lab on free ports), then builds the
readiness report from the run's Cucumber JSON and evidence. Lab secrets are generated here and handed to the child
through the environment, so the report can be scrubbed of them; they are never written to disk.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import click

from lab.lab import Lab, LabSecrets

SECRETS_ENV = "VPOSLAB_LAB_SECRETS"
OUT_ENV = "VPOSLAB_REPORT_DIR"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@click.group()
def main() -> None:
    """vposlab: take Ecwid card payments (ArCa / RBS vPOS) from TEST to REAL safely."""


@main.command("lab")
@click.option("--workdir", type=click.Path(path_type=Path), default=None, help="where the gateway's SQLite lives")
def run_lab(workdir: Path | None) -> None:
    """Start gateway + simulator on free ports and print the URLs; Ctrl-C stops."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    workdir = workdir or Path(tempfile.mkdtemp(prefix="vposlab-lab-"))
    with Lab(workdir) as lab:
        click.echo("vposlab lab is running (Ctrl-C to stop)")
        click.echo(f"  storefront      {lab.storefront_url}")
        click.echo(f"  gateway         {lab.gateway_url}  (paymentUrl {lab.payment_url})")
        click.echo(f"  bank (RBS)      {lab.bank_url}")
        click.echo(f"  Ecwid API       {lab.ecwid_api_url}")
        click.echo(f"  request journal {lab.simulator_url}/_control/journal")
        click.echo(f"  database        {workdir / 'gateway.sqlite3'}")
        click.echo("  test cards      4242424242424242 success, 4000000000009995 insufficient funds,")
        click.echo(
            "                  4000000000000069 expired card, 4000000000000002 declined (see simulator/README.md)"
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            click.echo("stopping")


@main.command()
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), default=PROJECT_ROOT / "reports" / "out", show_default=True
)
@click.option("--fail-on-no-go", is_flag=True, help="exit 1 when the verdict is NO-GO")
@click.option("-k", "keyword", default=None, help="only scenarios matching this pytest -k expression")
def check(out_dir: Path, fail_on_no_go: bool, keyword: str | None) -> None:
    """Readiness run against the local lab: features, then reports/out/readiness.{html,json} and JUnit XML."""
    from reports import build_report, load_checklist, load_cucumber, load_evidence, write_report

    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("cucumber.json", "evidence.jsonl", "target.json", "pytest-junit.xml"):
        (out_dir / stale).unlink(missing_ok=True)
    secrets = LabSecrets()
    env = {**os.environ, SECRETS_ENV: json.dumps(asdict(secrets)), OUT_ENV: str(out_dir)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(PROJECT_ROOT / "features"),
        "-p",
        "no:cacheprovider",
        f"--cucumberjson={out_dir / 'cucumber.json'}",
        f"--junitxml={out_dir / 'pytest-junit.xml'}",
        "-o",
        "junit_family=xunit2",
        "-q",
    ]
    if keyword:
        command += ["-k", keyword]
    click.echo("running the feature suite: " + " ".join(command[2:]))
    started = time.time()
    pytest_rc = subprocess.call(command, cwd=PROJECT_ROOT, env=env)  # noqa: S603 - our own interpreter
    target_file = out_dir / "target.json"
    target = json.loads(target_file.read_text()) if target_file.exists() else {"name": "local lab (simulator)"}
    target.update(started_at=_iso(started), finished_at=_iso(time.time()), pytest_exit_code=pytest_rc)
    if keyword:
        target["scenario_filter"] = keyword  # a partial run must say so in the report
    report = build_report(
        load_checklist(),
        load_cucumber(out_dir / "cucumber.json"),
        target=target,
        evidence=load_evidence(out_dir / "evidence.jsonl"),
        secrets=secrets.values(),
    )
    files = write_report(report, out_dir)
    click.echo(f"verdict: {report.verdict}")
    for reason in report.reasons[:8]:
        click.echo(f"  - {reason}")
    if len(report.reasons) > 8:
        click.echo(f"  ... and {len(report.reasons) - 8} more (see the report)")
    for path in files.values():
        click.echo(f"wrote {path}")
    if pytest_rc not in (0, 5):
        raise SystemExit(pytest_rc)  # a scenario failed or the suite broke: the run itself is red
    if fail_on_no_go and report.verdict != "GO":
        raise SystemExit(1)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
