"""The gateway's own commands: ``serve`` (HTTP), ``worker`` (outbox relay + poller), ``init-db``."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import click

from gateway import build_context, create_app
from gateway.domain.errors import ConfigurationError
from gateway.services.outbox import relay
from gateway.services.poller import poll_open_attempts
from gateway.settings import Settings


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


@main.command("init-db")
def init_db() -> None:
    """Create the tables (idempotent)."""
    build_context(_settings()).db.create_schema()
    click.echo("schema ready")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8100, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve HTTP with werkzeug's threaded server (put a TLS-terminating proxy in front in production)."""
    from werkzeug.serving import make_server

    app = create_app(_settings())
    click.echo(f"gateway listening on http://{host}:{port}")
    make_server(host, port, app, threaded=True).serve_forever()


@main.command()
@click.option("--interval", default=5.0, show_default=True, type=float)
@click.option(
    "--poll-after", default=60, show_default=True, type=int, help="seconds an attempt stays open before polling"
)
@click.option("--once", is_flag=True, help="one pass, then exit")
def worker(interval: float, poll_after: int, once: bool) -> None:
    """Relay the Ecwid outbox and poll open attempts."""
    ctx = build_context(_settings())
    while True:
        result = relay(ctx)
        changed = poll_open_attempts(ctx, min_age=timedelta(seconds=poll_after))
        logging.getLogger("gateway.worker").info(
            "worker_pass sent=%s retried=%s failed=%s polled_changes=%s",
            result.sent,
            result.retried,
            result.failed,
            changed,
        )
        if once:
            return
        time.sleep(interval)
