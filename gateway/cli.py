"""The gateway's own commands: ``migrate`` (the schema, one explicit step), ``serve`` (HTTP), ``worker`` (outbox
relay + poller). ``serve`` and ``worker`` refuse to start on a database that is not migrated; they never create
or alter tables."""

from __future__ import annotations

import logging

import click

from gateway import build_context, create_app
from gateway.domain.errors import ConfigurationError
from gateway.logs import configure_logging
from gateway.services.context import GatewayContext
from gateway.settings import Settings
from gateway.store.database import Database
from gateway.store.migrate import current_revision
from gateway.worker import run_forever, run_pass


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.version_option(package_name="vposlab", message="%(prog)s %(version)s")
@click.option("--log-level", default="INFO", show_default=True, envvar="VPOSLAB_LOG_LEVEL")
@click.option(
    "--log-format", type=click.Choice(["json", "text"]), default="json", show_default=True, envvar="VPOSLAB_LOG_FORMAT"
)
def main(log_level: str, log_format: str) -> None:
    """vposlab gateway (settings from VPOSLAB_* environment variables; see README)."""
    configure_logging(log_level, log_format, _secrets_for_scrubbing())


def _secrets_for_scrubbing() -> list[str]:
    """The configured secrets, so a log line that carried one by mistake shows ``***``; none when the settings do
    not load (then nothing runs that could log them)."""
    try:
        return Settings.from_env().secret_values
    except ConfigurationError:
        return []


@main.command()
def migrate() -> None:
    """Bring the database schema to this version (Alembic; idempotent; run it once before serve and worker)."""
    db = Database(_settings().database_url)
    try:
        db.migrate()
        click.echo(f"schema at revision {current_revision(db.engine)}")
    finally:
        db.dispose()


@main.command("init-db", hidden=True)
@click.pass_context
def init_db(click_ctx: click.Context) -> None:
    """Old name of ``migrate``."""
    click_ctx.invoke(migrate)


def _context(settings: Settings) -> GatewayContext:
    try:
        return build_context(settings)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="VPOSLAB_SERVE_HOST")
@click.option("--port", default=8100, show_default=True, type=int, envvar="VPOSLAB_SERVE_PORT")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1), envvar="VPOSLAB_SERVE_WORKERS")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1), envvar="VPOSLAB_SERVE_THREADS")
@click.option("--timeout", default=60, show_default=True, type=click.IntRange(1), envvar="VPOSLAB_SERVE_TIMEOUT_S")
@click.option(
    "--graceful-timeout", default=30, show_default=True, type=click.IntRange(1), envvar="VPOSLAB_SERVE_GRACEFUL_S"
)
@click.option("--dev", is_flag=True, help="werkzeug's threaded development server instead of gunicorn")
def serve(host: str, port: int, workers: int, threads: int, timeout: int, graceful_timeout: int, dev: bool) -> None:
    """Serve HTTP with gunicorn (gthread workers; SIGTERM stops gracefully). Put a TLS-terminating proxy in front."""
    settings = _settings()
    _context(settings).db.dispose()  # refuse to start (with the reason) before forking when the schema is not ready
    if dev:
        from werkzeug.serving import make_server

        click.echo(f"gateway (development server) listening on http://{host}:{port}")
        make_server(host, port, create_app(context=_context(settings)), threaded=True).serve_forever()
        return
    from gateway.server import ServerOptions
    from gateway.server import serve as serve_with_gunicorn

    options = ServerOptions(host, port, workers, threads, timeout, graceful_timeout)
    click.echo(f"gateway listening on http://{host}:{port} (gunicorn, {workers} workers x {threads} threads)")
    serve_with_gunicorn(settings, options)


@main.command()
@click.option("--interval", default=5.0, show_default=True, type=float)
@click.option("--once", is_flag=True, help="one pass, then exit")
def worker(interval: float, once: bool) -> None:
    """Poll open attempts, follow refunds and relay the Ecwid outbox (VPOSLAB_POLL_AFTER_S, ...). SIGTERM or
    SIGINT stops it after the pass in progress."""
    import signal
    import threading

    log = logging.getLogger("gateway.worker")
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("worker_stopping signal=%s", signal.Signals(signum).name)
        stop.set()

    if not once:  # before anything slow: a SIGTERM during start-up stops it cleanly too
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    ctx = _context(_settings())
    try:
        if once:
            run_pass(ctx)
            return
        log.info("worker_started interval=%ss", interval)
        run_forever(ctx, interval_s=interval, stop=stop)
        log.info("worker_stopped")
    finally:
        ctx.db.dispose()


@main.command("rotate-token-key")
def rotate_token_key() -> None:
    """Re-encrypt every stored secret under the newest key of VPOSLAB_TOKEN_KEY (comma separated, newest first);
    afterwards the older keys can be removed. Safe to run while serving, and again."""
    from gateway.services.key_rotation import rotate_stored_secrets

    ctx = _context(_settings())
    try:
        result = rotate_stored_secrets(ctx)
    finally:
        ctx.db.dispose()
    click.echo(f"re-encrypted {result.rotated} stored secret(s) under the newest of {ctx.tokens.key_count} key(s)")
    if result.unreadable:
        click.echo(f"{result.unreadable} stored secret(s) open with no configured key: left as they are", err=True)
        raise SystemExit(1)


@main.command()
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1), envvar="VPOSLAB_SERVE_WORKERS")
@click.option("--json", "as_json", is_flag=True, help="the findings as JSON (for the readiness report)")
def audit(workers: int, as_json: bool) -> None:
    """Check this configuration (VPOSLAB_*) for REAL money: prints exactly what is missing or unsafe, never a
    secret. Exit 0 only when ready."""
    import json
    import os

    from gateway.services.config_audit import audit_environment, format_lines
    from gateway.services.config_audit_db import database_facts

    schema_ok, operators = database_facts(os.environ)
    report = audit_environment(os.environ, serve_workers=workers, schema_ok=schema_ok, operators=operators)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for line in format_lines(report):
            click.echo(line)
    raise SystemExit(0 if report.ready else 1)


@main.command()
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="YYYY-MM-DD (UTC)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="var/reconcile", show_default=True)
def reconcile(day: object, out_dir: str) -> None:
    """Compare gateway, bank and Ecwid for one day (default today, UTC); read-only. Writes
    reconcile-YYYY-MM-DD.csv and .html. Exit 0: all agree; 1: mismatches listed; 2: the run could not work."""
    from datetime import UTC, datetime
    from pathlib import Path

    from gateway.services.reconcile import reconcile_day
    from gateway.services.reconcile_report import summary_lines, write_reports

    try:
        ctx = build_context(Settings.from_env())
    except ConfigurationError as exc:  # settings missing, database not migrated
        click.echo(f"reconcile: cannot run: {exc}", err=True)
        raise SystemExit(2) from None
    try:
        when = day.date() if isinstance(day, datetime) else ctx.clock.now().astimezone(UTC).date()
        result = reconcile_day(ctx, when)
        paths = write_reports(result, Path(out_dir))
    except Exception as exc:  # the run itself failed (database gone, disk full): never a half "all agree"
        click.echo(f"reconcile: cannot run: {type(exc).__name__}", err=True)
        raise SystemExit(2) from None
    finally:
        ctx.db.dispose()
    for line in summary_lines(result):
        click.echo(line)
    counts = result.counts()
    click.echo(f"{when}: {counts['attempts']} attempts, {counts['agreeing']} agree, {counts['mismatching']} mismatch")
    for path in paths:
        click.echo(f"written {path}")
    raise SystemExit(0 if result.ok else 1)


# --- operator accounts for the console (/ops) -------------------------------------------------------------------

import sys  # noqa: E402  (kept with the operator commands)
from collections.abc import Callable  # noqa: E402


def _actor() -> str:
    import getpass

    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment (a container without /etc/passwd entry)
        return "cli:unknown"


def _read_password(from_stdin: bool) -> str:
    """The password from one line of standard input, or a hidden prompt asked twice; never an argument (it would
    stay in the shell history and the process list)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return password


def _operator_command(action: Callable[[GatewayContext], None]) -> None:
    """Run ``action(ctx)`` on a gateway context; an account problem becomes a clean error (exit 1)."""
    from gateway.services.operators import OperatorProblem

    ctx = _context(_settings())
    try:
        action(ctx)
    except OperatorProblem as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        ctx.db.dispose()


@main.group()
def operator() -> None:
    """Operator accounts for the console under /ops (on when VPOSLAB_CONSOLE_SECRET_KEY is set)."""


@operator.command("add")
@click.argument("username")
@click.option("--language", type=click.Choice(["hy", "ru", "en"]), default="en", show_default=True)
@click.option("--totp", is_flag=True, help="a TOTP second factor: the otpauth:// URI is printed once")
@click.option("--password-stdin", is_flag=True, help="read the password from one line of standard input")
def operator_add(username: str, language: str, totp: bool, password_stdin: bool) -> None:
    """Create an operator account (argon2id password hash; the password is never shown or stored)."""
    from gateway.services import operators

    password = _read_password(password_stdin)

    def run(ctx: GatewayContext) -> None:
        view, uri = operators.create_operator(ctx, username, password, language=language, totp=totp, actor=_actor())
        click.echo(f"operator {view.username} created (language {view.language})")
        if uri is not None:
            click.echo("add this to the authenticator app now; it is not shown again:")
            click.echo(uri)

    _operator_command(run)


@operator.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from one line of standard input")
def operator_set_password(username: str, password_stdin: bool) -> None:
    """Give an operator a new password (their open console sessions end)."""
    from gateway.services import operators

    password = _read_password(password_stdin)
    _operator_command(lambda ctx: operators.set_password(ctx, username, password, actor=_actor()))
    click.echo(f"password of {username} changed")


@operator.command("totp")
@click.argument("username")
def operator_totp(username: str) -> None:
    """Give an operator a new TOTP secret (replacing any old one); the otpauth:// URI is printed once."""
    from gateway.services import operators

    def run(ctx: GatewayContext) -> None:
        click.echo(operators.enroll_totp(ctx, username, actor=_actor()))

    _operator_command(run)


@operator.command("disable")
@click.argument("username")
def operator_disable(username: str) -> None:
    """Disable an account: it cannot log in, and its open sessions end at their next request."""
    from gateway.services import operators

    _operator_command(lambda ctx: operators.set_active(ctx, username, False, actor=_actor()))
    click.echo(f"operator {username} disabled")


@operator.command("enable")
@click.argument("username")
def operator_enable(username: str) -> None:
    """Enable a disabled account again."""
    from gateway.services import operators

    _operator_command(lambda ctx: operators.set_active(ctx, username, True, actor=_actor()))
    click.echo(f"operator {username} enabled")


@operator.command("list")
def operator_list() -> None:
    """The accounts: username, language, active, TOTP, last login (never a hash or a secret)."""
    from gateway.services import operators

    def run(ctx: GatewayContext) -> None:
        for view in operators.list_operators(ctx):
            last = view.last_login_at.strftime("%Y-%m-%d %H:%M") if view.last_login_at else "-"
            state = "active" if view.active else "disabled"
            totp = "totp" if view.totp else "no-totp"
            click.echo(f"{view.username}\t{view.language}\t{state}\t{totp}\tlast login {last}")

    _operator_command(run)
