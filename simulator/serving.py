"""Serving the simulator with werkzeug's threaded server, without secrets in the access log.

Bank clients may put ``userName``/``password`` in the query string (protocols.md 2.2) and old Ecwid clients
``?token=``; werkzeug's default access log prints the whole request line, so this handler logs the path only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class RedactingRequestHandler(WSGIRequestHandler):
    """Logs ``METHOD /path HTTP/1.1 status size``: never the query string."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = urlsplit(getattr(self, "path", "")).path
        message = f"{getattr(self, 'command', '-')} {path} {getattr(self, 'request_version', '')}".strip()
        self.log("info", '"%s" %s %s', message, str(code), str(size))


def make_simulator_server(host: str, port: int, app: Any) -> BaseWSGIServer:
    """A threaded werkzeug server for ``app`` (port 0 = a free port) that never logs query strings."""
    return make_server(host, port, app, threaded=True, request_handler=RedactingRequestHandler)
