"""Real HTTP servers on 127.0.0.1 in background threads (werkzeug's threaded WSGI server)."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


def _not_ready(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


class ServerThread:
    """Binds at construction (so the URL is known before the app is built), serves after ``start(app)``."""

    def __init__(self, name: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.name = name
        self._server: BaseWSGIServer = make_server(host, port, _not_ready, threaded=True)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self, app: Any) -> None:
        self._server.app = app
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"{self.name}-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()
