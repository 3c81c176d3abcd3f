"""``vposlab``: run the lab by hand (``vposlab lab``) or the readiness run (``vposlab check``).

``check`` runs the feature suite in a child pytest (which starts its own lab on free ports), then builds the
readiness report from the run's Cucumber JSON and evidence. Lab secrets are generated here and handed to the child
through the environment, so the report can be scrubbed of them; they are never written to disk.

A run that cannot start or breaks off (a missing package, an import error in a conftest, pytest exit code 2, 3 or 4,
no Cucumber JSON) still gets a report: it says so first, its verdict is NO-GO, and the items whose scenarios did
not run say why. A ``-k`` filter that selects no scenario (or is not a valid expression) is a usage error: nothing
is reported. The scenarios the feature files declare per item are counted here (Gherkin tags), so an item whose
scenarios exist but did not run is never reported as uncovered.

Exit codes of ``check``: 0 every scenario that ran passed; 1 a scenario failed, or NO-GO with ``--fail-on-no-go``;
2 the feature run did not complete (the report says why) or bad usage.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import secrets as secrets_module
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from lab.lab import Lab, LabSecrets
from lab.probe_cli import probe
from lab.targets import LAB as LAB_TARGET
from lab.targets import (
    TARGET_ENV,
    Target,
    TargetError,
    TargetKind,
    load_target_file,
    target_from_urls,
    target_secret_values,
)
from reports import (
    Comparison,
    EvidenceError,
    HistoryError,
    Report,
    ReportError,
    ResultsError,
    RunLog,
    RunOutcome,
    SigningError,
    SigningKey,
    assess_pytest_run,
    build_report,
    collect,
    compare,
    cucumber_problem,
    junit_errors,
    latest_history,
    load_checklist,
    load_cucumber,
    load_evidence,
    load_run_log,
    load_signing_key,
    write_report,
)
from reports.evidence import Evidence
from reports.history import load_previous
from reports.redact import Redactor
from reports.results import ScenarioResult
from reports.verify_cli import verify

SECRETS_ENV = "VPOSLAB_LAB_SECRETS"
OUT_ENV = "VPOSLAB_REPORT_DIR"
LOG_LEVEL_ENV = "VPOSLAB_LOG_LEVEL"
PROGRESS_ENV = "VPOSLAB_PROGRESS"  # one line per scenario and per item (features/support/progress.py)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXIT_FAILED = 1
EXIT_BROKEN = 2
OUTPUT_LINES_KEPT = 200
SEED_ENV = "VPOSLAB_SEED"
# Files of an earlier check in the output folder: removed first, so nothing there can pass for this run's (history/
# is kept: the last run is what the next one compares with).
STALE_FILES = (
    "report-log.jsonl",
    "manifest.json",
    "signature.json",
    "cucumber.json",
    "evidence.jsonl",
    "target.json",
    "pytest-junit.xml",
    "readiness.json",
    "readiness.html",
    "readiness-junit.xml",
)
# What the local lab can and cannot show for the items that need the merchant's real endpoints.
LAB_NOTES = {
    "RC-34": (
        "checked as far as the lab allows: against the local lab only the gateway's own callback endpoint is"
        " reached (plain HTTP on 127.0.0.1, called by the simulated bank); HTTPS with a valid certificate chain on"
        " the merchant's public URL and the REAL bank's callbacks need the real endpoints"
    ),
    "RC-35": (
        "checked as far as the lab allows: against the local lab the parity probe reaches the simulated bank with"
        " the lab's credentials; the REAL bank with the REAL credentials per currency needs the real endpoints"
    ),
}


@click.group()
@click.version_option(package_name="vposlab", message="%(prog)s %(version)s")
def main() -> None:
    """vposlab: take Ecwid card payments (ArCa / RBS vPOS) from TEST to REAL safely."""


main.add_command(probe)  # vposlab probe callback | bank: the REAL endpoints (RC-34, RC-35)
main.add_command(verify)  # vposlab verify REPORT: hashes, signature and verdict rules of a report, after the run


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
        click.echo(f"  dashboard       {lab.simulator_url}/_control/dashboard")
        click.echo(f"  held store      {lab.held_storefront_url}  (two-phase: the operator captures)")
        user, password = lab.console_credentials
        password_file = workdir / "console-password.txt"
        password_file.write_text(password + "\n", encoding="utf-8")
        password_file.chmod(0o600)
        click.echo(f"  console         {lab.console_url}  (operator {user}, password in {password_file})")
        click.echo(f"  database        {workdir / 'gateway.sqlite3'}")
        click.echo("  test cards      4242424242424242 success, 4000000000009995 insufficient funds,")
        click.echo("                  4000000000003220 3-D Secure challenge (code 123456), 4000000000007015 pending")
        click.echo(f"                  all {lab.simulator_url}/_control/vpos/cards (and on the card page, and in")
        click.echo("                  simulator/README.md)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            click.echo("stopping")


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=lambda: str(default_out_dir()),
    show_default="reports/out of the checkout; installed: of the current folder",
)
@click.option("--no-fail", is_flag=True, help="exit 0 on NO-GO too (the report is written either way)")
@click.option("--fail-on-no-go", is_flag=True, hidden=True, help="the default now; kept for old scripts")
@click.option(
    "--reruns",
    type=click.IntRange(0, 3),
    default=1,
    show_default=True,
    help="retry a failed scenario this many times; one that passes only on a retry is reported as flaky",
)
@click.option("--seed", type=int, default=None, help="the run's random seed (default: a new one, in the report)")
@click.option(
    "--compare",
    "compare_with",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="an earlier readiness.json to compare with (default: the last run kept in OUT/history/)",
)
@click.option("--held-store-id", type=int, default=None, help="with --gateway-url: the store whose payments are held")
@click.option("-k", "keyword", default=None, help="only scenarios matching this pytest -k expression")
@click.option(
    "--item",
    "items",
    multiple=True,
    metavar="RC-NN",
    help="only the scenarios of this checklist item (repeatable; combines with -k)",
)
@click.option(
    "--target",
    "target_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="a TOML target file: a gateway and simulator started elsewhere, or a deployed gateway with the bank's TEST",
)
@click.option("--gateway-url", default=None, help="a gateway started elsewhere (with --simulator-url)")
@click.option("--simulator-url", default=None, help="our simulator started elsewhere (vposlab-simulator serve)")
@click.option(
    "--gateway",
    "gateway_kind",
    type=click.Choice(["vposlab", "other"]),
    default="vposlab",
    show_default=True,
    help="with --gateway-url: is it vposlab (its console is driven) or another gateway",
)
@click.option(
    "--gateway-env-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="with --gateway-url, run on our gateway's host: its VPOSLAB_* settings file (RC-25 scans the database it"
    " names, RC-30 audits it)",
)
@click.option(
    "--gateway-log",
    "gateway_logs",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="with --gateway-url, run on our gateway's host: one of its log files (repeatable; RC-25 scans them)",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING"], case_sensitive=False),
    default="INFO",
    show_default=True,
    help="the lab gateway's log level (its JSON log stays in the lab's folder)",
)
@click.option(
    "--features",
    "features_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=PROJECT_ROOT / "features",
    hidden=True,  # the project's feature suite; another folder only to test the command itself
)
def check(
    out_dir: Path,
    no_fail: bool,
    fail_on_no_go: bool,
    reruns: int,
    seed: int | None,
    compare_with: Path | None,
    held_store_id: int | None,
    keyword: str | None,
    items: tuple[str, ...],
    target_file: Path | None,
    gateway_url: str | None,
    simulator_url: str | None,
    gateway_kind: str,
    gateway_env_file: Path | None,
    gateway_logs: tuple[Path, ...],
    log_level: str,
    features_dir: Path,
) -> None:
    """Readiness run: features, then reports/out/readiness.{html,json} and JUnit XML.

    Against the local lab by default (gateway and simulator started here on free ports, with a virtual clock), or a
    target started elsewhere: ``--gateway-url URL --simulator-url URL``, or ``--target FILE`` (see lab/targets.py
    and the README). The lab's secrets are fresh for every run, unless ``VPOSLAB_LAB_SECRETS`` plants some (a JSON
    object naming LabSecrets fields: canary values for the secrets scan).
    """
    _require_the_check_extra()
    chosen = _chosen_target(
        target_file,
        gateway_url,
        simulator_url,
        gateway_kind,
        held_store_id,
        GatewayHostFiles(gateway_env_file, gateway_logs),
    )
    seed = seed if seed is not None else secrets_module.randbelow(2**31)
    previous = _previous_report(compare_with)
    signing_key = _signing_key()
    selection = _item_selection(items)
    secrets = _lab_secrets(os.environ.get(SECRETS_ENV))  # a bad plant is refused before anything is removed
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in STALE_FILES:
        (out_dir / stale).unlink(missing_ok=True)
    shutil.rmtree(out_dir / "evidence", ignore_errors=True)
    env = {
        **os.environ,
        SECRETS_ENV: json.dumps(asdict(secrets)),
        OUT_ENV: str(out_dir),
        LOG_LEVEL_ENV: log_level.upper(),
        TARGET_ENV: chosen.to_env(),
        PROGRESS_ENV: "1",
        SEED_ENV: str(seed),
    }
    suite_config = features_dir / "pytest.ini"  # the suite's own pytest configuration, in the repo and installed
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(features_dir),
        *(["-c", str(suite_config), f"--rootdir={features_dir.parent}"] if suite_config.is_file() else []),
        "-p",
        "no:cacheprovider",
        f"--cucumberjson={out_dir / 'cucumber.json'}",
        f"--junitxml={out_dir / 'pytest-junit.xml'}",
        f"--report-log={out_dir / 'report-log.jsonl'}",
        "-o",
        "junit_family=xunit2",
        "-q",
    ]
    if keyword:
        command += ["-k", keyword]
    if selection:
        command += ["-m", selection]
    if reruns:
        command += ["--reruns", str(reruns)]
    click.echo("running the feature suite: " + " ".join(command[2:]))
    started = time.time()
    pytest_rc, output, start_error = run_features(command, env=env, cwd=PROJECT_ROOT)
    if keyword or selection:
        _refuse_a_filter_that_selects_nothing(keyword, items, pytest_rc, output)
    run = run_outcome(pytest_rc, output, start_error, out_dir / "cucumber.json", out_dir / "pytest-junit.xml")
    results, run = _results(out_dir / "cucumber.json", run)
    run_log, run = _run_log(out_dir / "report-log.jsonl", run)
    target = _target(out_dir / "target.json", chosen)
    target.update(started_at=_iso(started), finished_at=_iso(time.time()), pytest_exit_code=pytest_rc)
    if keyword:
        target["scenario_filter"] = keyword  # a partial run must say so in the report
    if items:
        target["items_selected"] = list(items)
    evidence = _evidence(out_dir / "evidence.jsonl", target)
    redacted = [*secrets.values(), *target_secret_values(chosen, os.environ)]
    try:
        report = build_report(
            load_checklist(),
            results,
            target=target,
            evidence=evidence,
            secrets=redacted,
            run=run,
            declared=declared_coverage(features_dir),
            notes=LAB_NOTES if chosen.kind is TargetKind.LAB else {},
            run_log=run_log,
            reproducibility=collect(
                commit=_commit(), seed=seed, command=_rerun_command(click.get_current_context(), seed)
            ),
        )
        comparison = _comparison(previous or latest_history(out_dir), report, explicit=previous is not None)
        files = write_report(report, out_dir, signing_key=signing_key, comparison=comparison)
    except ReportError as exc:
        click.echo(f"error [{exc.code}]: {Redactor(redacted).text(exc.message)}", err=True)
        raise SystemExit(EXIT_BROKEN) from exc
    click.echo(f"verdict: {report.verdict}")
    if not report.run.completed:
        click.echo("THE FEATURE RUN DID NOT COMPLETE: the report says why; no item can pass on it", err=True)
    for reason in report.reasons[:8]:
        click.echo(f"  - {reason}")
    if len(report.reasons) > 8:
        click.echo(f"  ... and {len(report.reasons) - 8} more (see the report)")
    if comparison is not None:
        for line in comparison.lines():
            click.echo(line)
    click.echo(f"signed with key {signing_key.fingerprint} ({signing_key.source})")
    for path in files.values():
        click.echo(f"wrote {path}")
    if not report.run.completed:
        raise SystemExit(EXIT_BROKEN)
    if no_fail:
        return
    if pytest_rc != 0 or report.verdict != "GO":
        raise SystemExit(EXIT_FAILED)  # a scenario failed, or the verdict is NO-GO: CI goes red


def default_out_dir() -> Path:
    """``reports/out`` of the checkout when run from one; else ``reports/out`` under the current folder (an
    installed package's own folder is no place for a report)."""
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "reports" / "out"
    return Path.cwd() / "reports" / "out"


def _require_the_check_extra() -> None:
    missing = [name for name in ("pytest_bdd", "playwright") if importlib.util.find_spec(name) is None]
    if missing:
        raise click.UsageError(
            f"the readiness run needs {', '.join(missing)}: install vposlab with its check extra"
            " (pip install 'vposlab[check]')"
        )


def _signing_key() -> SigningKey:
    try:
        return load_signing_key()
    except SigningError as exc:
        raise click.UsageError(f"the report cannot be signed: {exc.message}") from exc


def _previous_report(path: Path | None) -> Path | None:
    if path is None:
        return None
    try:
        load_previous(path)
    except HistoryError as exc:
        raise click.UsageError(f"--compare: {exc.message}") from exc
    return path


def _comparison(previous: Path | None, report: Report, *, explicit: bool) -> Comparison | None:
    if previous is None:
        return None
    try:
        return compare(previous, report)
    except HistoryError as exc:  # an earlier run kept in history/ that cannot be read: said, not fatal
        if explicit:
            raise
        click.echo(f"warning: not compared with the last run: {exc.message}", err=True)
        return None


def _run_log(path: Path, run: RunOutcome) -> tuple[RunLog | None, RunOutcome]:
    """The pytest report log (skip reasons, reruns); one that cannot be read is a run that broke off."""
    try:
        return load_run_log(path), run
    except ResultsError as exc:
        problem = f"the pytest report log cannot be read: {exc.message}"
        if run.problem:
            problem = f"{run.problem}; {problem}"
        return None, RunOutcome(completed=False, problem=problem, exit_code=run.exit_code, output_tail=run.output_tail)


def _commit() -> str | None:
    """The checkout's commit (with "+changes" when files differ from it), or None outside a git checkout."""
    if not (PROJECT_ROOT / ".git").exists():
        return None
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+changes" if dirty else head


def _rerun_command(context: click.Context, seed: int) -> list[str]:
    """``vposlab check`` with the options this run was given (and its seed), to paste into a shell."""
    words = ["vposlab", "check"]
    for param in context.command.params:
        value = context.params.get(param.name or "")
        if param.name in ("features_dir", "seed") or value in (None, False, (), param.default):
            continue
        flag = param.opts[-1] if len(param.opts) == 1 else max(param.opts, key=len)
        if value is True:
            words.append(flag)
        elif isinstance(value, tuple):
            for one in value:
                words += [flag, str(one)]
        else:
            words += [flag, str(value)]
    return [*words, "--seed", str(seed)]


def _lab_secrets(planted: str | None) -> LabSecrets:
    if not planted:
        return LabSecrets()
    try:
        return LabSecrets.from_json(planted)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise click.UsageError(f"{SECRETS_ENV} is not usable: {exc}") from exc


def run_features(command: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> tuple[int | None, str, str | None]:
    """Run the feature suite, echoing its output as it comes; returns (exit code, last lines, start error).

    The exit code is None, with the reason as start error, when the process could not be started at all.
    Ctrl-C reaches the child too; its (interrupted) exit code is returned, so the report can still be written.
    """
    try:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            list(command),
            cwd=cwd,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except OSError as exc:
        return None, "", f"{type(exc).__name__}: {exc}"
    kept: deque[str] = deque(maxlen=OUTPUT_LINES_KEPT)
    assert process.stdout is not None
    try:
        for line in process.stdout:
            click.echo(line, nl=False)
            kept.append(line)
    except KeyboardInterrupt:
        kept.append("(interrupted)\n")
    finally:
        process.stdout.close()
    return process.wait(), "".join(kept), None


def run_outcome(pytest_rc: int | None, output: str, start_error: str | None, cucumber: Path, junit: Path) -> RunOutcome:
    """Did the feature run complete? (``reports.run`` reads pytest's exit code, its output, the Cucumber file and
    the scenarios pytest's JUnit XML says errored outside their steps, e.g. because the lab did not start.)"""
    if start_error is not None:
        return RunOutcome(completed=False, problem=f"the feature run could not start: {start_error}")
    return assess_pytest_run(
        pytest_rc, cucumber_problem=cucumber_problem(cucumber), errors_problem=junit_errors(junit), output=output
    )


@dataclass(frozen=True)
class GatewayHostFiles:
    """``--gateway-env-file`` and ``--gateway-log``: our gateway's own files, for a run on its host."""

    env_file: Path | None = None
    logs: tuple[Path, ...] = ()

    def __bool__(self) -> bool:
        return self.env_file is not None or bool(self.logs)


def _chosen_target(
    target_file: Path | None,
    gateway_url: str | None,
    simulator_url: str | None,
    gateway_kind: str,
    held_store_id: int | None = None,
    host: GatewayHostFiles = GatewayHostFiles(),
) -> Target:
    try:
        if target_file is not None:
            if gateway_url or simulator_url:
                raise click.UsageError("--target and --gateway-url/--simulator-url exclude each other")
            if host:
                raise click.UsageError(
                    "with --target, name the gateway's files in the target file (gateway_env_file, gateway_logs)"
                )
            return load_target_file(target_file)
        if gateway_url or simulator_url:
            if not (gateway_url and simulator_url):
                raise click.UsageError("--gateway-url and --simulator-url go together (or use --target FILE)")
            return target_from_urls(
                gateway_url,
                simulator_url,
                gateway=gateway_kind,
                held_store_id=held_store_id,
                gateway_env_file=str(host.env_file.resolve()) if host.env_file else None,
                gateway_logs=[str(path.resolve()) for path in host.logs],
            )
        if host:
            raise click.UsageError("--gateway-env-file and --gateway-log name the files of a gateway at --gateway-url")
    except TargetError as exc:
        raise click.UsageError(str(exc)) from exc
    return LAB_TARGET


def _item_selection(items: Sequence[str]) -> str | None:
    """A pytest -m expression selecting the scenarios tagged with ``items`` (their Gherkin tags are markers)."""
    known = {entry.id for entry in load_checklist()}
    chosen = []
    for value in items:
        item_id = value.strip().upper()
        if item_id not in known:
            raise click.UsageError(f"--item {value!r} is not a checklist item (RC-01..RC-{len(known):02d})")
        chosen.append(item_id)
    return " or ".join(dict.fromkeys(chosen)) or None


def _refuse_a_filter_that_selects_nothing(
    keyword: str | None, items: Sequence[str], pytest_rc: int | None, output: str
) -> None:
    if pytest_rc == 5:  # pytest.ExitCode.NO_TESTS_COLLECTED: every scenario was deselected
        chosen = " and ".join(
            part
            for part in (f"-k {keyword!r}" if keyword else "", f"--item {' '.join(items)}" if items else "")
            if part
        )
        raise click.UsageError(
            f"{chosen} selects no scenario: nothing ran and no report was written."
            " Check the expression against the scenario names (pytest --collect-only -q features)."
        )
    if keyword and pytest_rc == 4 and "Wrong expression passed to '-k'" in output:
        raise click.UsageError(f"-k {keyword!r} is not a valid pytest -k expression: no report was written.")


def _results(cucumber: Path, run: RunOutcome) -> tuple[tuple[ScenarioResult, ...], RunOutcome]:
    """The scenario results; a Cucumber file that cannot be read (cut short by a crash) is a run that broke off."""
    try:
        return load_cucumber(cucumber), run
    except ResultsError as exc:
        problem = f"the Cucumber JSON cannot be read: {exc.message}"
        if run.problem:
            problem = f"{run.problem}; {problem}"
        return (), RunOutcome(completed=False, problem=problem, exit_code=run.exit_code, output_tail=run.output_tail)


def _target(path: Path, chosen: Target) -> dict[str, Any]:
    """What the run says it tested (written by the features' lab fixture); the target as chosen when it wrote
    nothing (the run broke off before the fixture ran)."""
    fallback = chosen.describe()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return fallback
    return data if isinstance(data, dict) else fallback


def _evidence(path: Path, target: dict[str, Any]) -> tuple[Evidence, ...]:
    """The evidence lines; broken ones leave the report without evidence, and the report's target says so."""
    try:
        return load_evidence(path)
    except EvidenceError as exc:
        click.echo(f"warning: evidence not shown: {exc.message}", err=True)
        target["evidence"] = f"not shown: {exc.message}"
        return ()


def declared_coverage(features_dir: Path) -> dict[str, int] | None:
    """How many scenario examples the feature files tag with each tag (``{"RC-05": 5, ...}``).

    Read with the Gherkin parser pytest-bdd itself uses; feature, rule, scenario and examples tags all count, and
    each examples row is one example. None when the files cannot be read or parsed: the report then does not
    know which items are covered, and never claims that one is not.
    """
    try:
        from gherkin.parser import Parser
    except ImportError:  # pragma: no cover - pytest-bdd brings it; without it there is no feature run either
        return None
    counts: Counter[str] = Counter()
    try:
        for path in sorted(features_dir.rglob("*.feature")):
            document = Parser().parse(path.read_text(encoding="utf-8"))
            feature = document.get("feature")
            if feature:
                _count(feature.get("children", []), _tag_names(feature.get("tags", [])), counts)
    except Exception:  # OSError, UnicodeDecodeError, gherkin's parser errors: coverage unknown
        return None
    return dict(counts)


def _tag_names(tags: Iterable[Mapping[str, Any]]) -> set[str]:
    return {str(tag.get("name", "")).removeprefix("@") for tag in tags}


def _count(children: Iterable[Mapping[str, Any]], inherited: set[str], counts: Counter[str]) -> None:
    for child in children:
        if "rule" in child:
            rule = child["rule"]
            _count(rule.get("children", []), inherited | _tag_names(rule.get("tags", [])), counts)
        elif "scenario" in child:
            scenario = child["scenario"]
            tags = inherited | _tag_names(scenario.get("tags", []))
            examples = scenario.get("examples", [])
            if not any(block.get("tableBody") for block in examples):
                counts.update(tags)
                continue
            for block in examples:
                rows = len(block.get("tableBody", []))
                for tag in tags | _tag_names(block.get("tags", [])):
                    counts[tag] += rows


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
