"""The gateway's own commands: ``migrate`` (the schema, one explicit step), ``serve`` (HTTP), ``worker`` (outbox
relay + poller). ``serve`` and ``worker`` refuse to start on a database that is not migrated; they never create
or alter tables."""

from __future__ import annotations

import logging

import click

from gateway import build_context, create_app
from gateway.domain.errors import ConfigurationError
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
@click.option("--log-level", default="INFO", show_default=True)
def main(log_level: str) -> None:
    """vposlab gateway (settings from VPOSLAB_* environment variables; see README)."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")


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
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8100, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve HTTP with werkzeug's threaded server (put a TLS-terminating proxy in front in production)."""
    from werkzeug.serving import make_server

    app = create_app(context=_context(_settings()))
    click.echo(f"gateway listening on http://{host}:{port}")
    make_server(host, port, app, threaded=True).serve_forever()


@main.command()
@click.option("--interval", default=5.0, show_default=True, type=float)
@click.option("--once", is_flag=True, help="one pass, then exit")
def worker(interval: float, once: bool) -> None:
    """Relay the Ecwid outbox and poll open attempts (VPOSLAB_POLL_AFTER_S, VPOSLAB_POLL_MAX_INTERVAL_S)."""
    ctx = _context(_settings())
    if once:
        run_pass(ctx)
        return
    run_forever(ctx, interval_s=interval)


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
