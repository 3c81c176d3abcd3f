"""The production HTTP server: gunicorn running the gateway app, configured from options and the environment.

Each gunicorn worker process builds its own gateway context after the fork (``preload_app`` off), so no database
connection or HTTP client is shared between processes. gunicorn stops on SIGTERM gracefully: it stops accepting,
lets requests in flight finish within ``graceful_timeout``, then exits. Put a TLS-terminating proxy in front; trust
its ``X-Forwarded-*`` headers only as configured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from gateway.settings import Settings


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8100
    workers: int = 2  # processes
    threads: int = 8  # per process: requests wait on the bank and Ecwid, not on the CPU
    timeout_s: int = 60  # a request longer than this is killed (the bank's own timeouts are shorter)
    graceful_timeout_s: int = 30  # SIGTERM: time for requests in flight to finish

    def gunicorn_config(self) -> dict[str, Any]:
        return {
            "bind": f"{self.host}:{self.port}",
            "workers": self.workers,
            "threads": self.threads,
            "worker_class": "gthread",
            "timeout": self.timeout_s,
            "graceful_timeout": self.graceful_timeout_s,
            "keepalive": 5,
            "preload_app": False,
            "accesslog": "-",
            "errorlog": "-",
            # The access log records the path only: a query string can carry ids, never the whole request line.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms',
            "child_exit": _forget_worker_metrics,
            # gunicorn 23+ opens a control socket at one path per user by default: every gateway on a host would
            # share it, and a killed master leaves it behind. The gateway is run by its service manager instead.
            "control_socket_disable": True,
        }


class GatewayServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn with its configuration from ``ServerOptions`` (no config file, no command-line parsing)."""

    def __init__(self, settings: Settings, options: ServerOptions) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.gunicorn_config().items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from gateway import build_context, create_app

        return create_app(context=build_context(self._settings))


def _forget_worker_metrics(_server: object, worker: Any) -> None:
    """Under ``PROMETHEUS_MULTIPROC_DIR``, a worker process that ended stops counting in /metrics' live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def serve(settings: Settings, options: ServerOptions) -> None:
    """Run until SIGTERM / SIGINT (graceful)."""
    GatewayServer(settings, options).run()
