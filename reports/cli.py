"""Command line: ``python -m reports --cucumber PATH [--report-log PATH] [--evidence PATH] [--target-json PATH]
[--secret S]... [--secret-env VAR]... [--checklist PATH] [--pytest-exit-code N] [--commit SHA] [--seed S]
[--rerun-command CMD] [--no-sign] --out DIR [--fail-on-no-go]``.

Role: read the inputs, build the report, compare it with the folder's previous run (``history/``), write and seal
the folder (signed with the configured key, see ``reports.signing``, unless ``--no-sign``), print the verdict, its
reasons, what changed since the previous run and the paths.

Exit codes: 0 report written (whatever the verdict); 1 NO-GO when ``--fail-on-no-go`` is given; 2 bad input
or output (a ``ReportError``: its stable code and message on stderr, secrets redacted) or bad usage.
A missing or empty Cucumber file is not an error of the report: it means the feature run did not complete, and
the report says so (verdict NO-GO, every item NOT RUN with that reason). So does ``--pytest-exit-code`` with a
code other than 0 or 1 (see ``reports.run``).
Prefer ``--secret-env VAR`` over ``--secret S``: command lines are visible to other users of the machine.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from reports.build import build_report, write_report
from reports.checklist import load_checklist
from reports.errors import HistoryError, ReportError, TargetError
from reports.evidence import load_evidence
from reports.history import Comparison, compare, latest_history
from reports.model import Report, Verdict
from reports.redact import Redactor
from reports.reproducibility import collect
from reports.results import load_cucumber
from reports.run import assess_pytest_run, cucumber_problem
from reports.run_log import load_run_log
from reports.signing import load_signing_key

EXIT_NO_GO = 1
EXIT_BAD_INPUT = 2


def _load_target(path: Path | None) -> dict[str, object]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"{path}: cannot read the target JSON ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise TargetError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    if not isinstance(data, dict):
        raise TargetError(f"{path}: the target must be a JSON object, got {type(data).__name__}")
    return data


def _secrets(values: tuple[str, ...], env_names: tuple[str, ...]) -> list[str]:
    secrets = [value for value in values if value]
    for name in env_names:
        value = os.environ.get(name)
        if value is None:
            raise click.BadParameter(f"environment variable {name} is not set", param_hint="--secret-env")
        if value:
            secrets.append(value)
    return secrets


def _comparison(out_dir: Path, report: Report, redactor: Redactor) -> Comparison | None:
    """This run against the folder's previous one; an unreadable previous report is said, and not compared."""
    previous = latest_history(out_dir)
    if previous is None:
        return None
    try:
        return compare(previous, report)
    except HistoryError as exc:
        click.echo(f"warning: not compared with the previous run: [{exc.code}] {redactor.text(exc.message)}", err=True)
        return None


_FILE = click.Path(dir_okay=False, path_type=Path)


@click.command(name="reports", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--cucumber", "cucumber", type=_FILE, required=True, help="Cucumber JSON from pytest-bdd.")
@click.option("--report-log", "report_log", type=_FILE, default=None, help="pytest --report-log JSON lines.")
@click.option("--evidence", "evidence", type=_FILE, default=None, help="Evidence JSON-lines file.")
@click.option("--target-json", "target_json", type=_FILE, default=None, help="JSON object: what was tested.")
@click.option("--secret", "secret_values", multiple=True, help="A secret to redact (repeatable).")
@click.option("--secret-env", "secret_envs", multiple=True, help="Name of an env var holding a secret.")
@click.option("--checklist", "checklist_path", type=_FILE, default=None, help="Checklist markdown (default: packaged).")
@click.option(
    "--pytest-exit-code",
    "pytest_exit_code",
    type=int,
    default=None,
    help="Exit code of the pytest run that wrote the Cucumber JSON (not 0 or 1: the run did not complete).",
)
@click.option("--commit", "commit", default=None, help="Commit of the code that was tested.")
@click.option("--seed", "seed", default=None, help="Seed of the run's randomness.")
@click.option("--rerun-command", "rerun_command", default=None, help="The exact command that runs the check again.")
@click.option("--no-sign", "no_sign", is_flag=True, help="Do not sign the report (verify will say it is unsigned).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--fail-on-no-go", is_flag=True, help="Exit 1 when the verdict is NO-GO.")
def main(
    cucumber: Path,
    report_log: Path | None,
    evidence: Path | None,
    target_json: Path | None,
    secret_values: tuple[str, ...],
    secret_envs: tuple[str, ...],
    checklist_path: Path | None,
    pytest_exit_code: int | None,
    commit: str | None,
    seed: str | None,
    rerun_command: str | None,
    no_sign: bool,
    out_dir: Path,
    fail_on_no_go: bool,
) -> None:
    """Build the TEST-to-REAL readiness report (HTML, JSON, JUnit XML, manifest, signature) from a feature run."""
    secrets = _secrets(secret_values, secret_envs)
    redactor = Redactor(secrets)
    try:
        checklist = load_checklist(checklist_path)
        run = assess_pytest_run(pytest_exit_code, cucumber_problem=cucumber_problem(cucumber))
        if not run.completed:
            click.echo(f"warning: the feature run did not complete: {redactor.text(run.problem or '')}", err=True)
        results = load_cucumber(cucumber)
        records = load_evidence(evidence) if evidence is not None else ()
        report = build_report(
            checklist,
            results,
            target=_load_target(target_json),
            evidence=records,
            secrets=secrets,
            run=run,
            run_log=load_run_log(report_log) if report_log is not None else None,
            reproducibility=collect(commit=commit, seed=seed, command=rerun_command),
        )
        comparison = _comparison(out_dir, report, redactor)
        key = None if no_sign else load_signing_key()
        paths = write_report(report, out_dir, signing_key=key, comparison=comparison)
    except ReportError as exc:
        click.echo(f"error [{exc.code}]: {redactor.text(exc.message)}", err=True)
        sys.exit(EXIT_BAD_INPUT)

    click.echo(f"verdict: {report.verdict.value}")
    for rule in report.failed_rules:
        click.echo(f"  {rule.id} {rule.text}: failed")
        for line in rule.details:
            click.echo(f"    - {line}")
    if comparison is not None:
        for line in comparison.lines():
            click.echo(line)
    for name in ("html", "json", "junit", "manifest", "signature"):
        if name in paths:
            click.echo(f"{name}: {paths[name]}")
    if key is not None:
        click.echo(f"signed by {key.fingerprint} ({key.source})")
    if fail_on_no_go and report.verdict is Verdict.NO_GO:
        sys.exit(EXIT_NO_GO)
