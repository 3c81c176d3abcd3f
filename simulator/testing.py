"""Helpers to run the simulator (or any WSGI app) on a real socket in a background thread.

Used by the simulator's e2e tests and available to the lab: ``with ServerThread(app) as server: server.url``.
Binds 127.0.0.1 on a free port; ``close`` shuts the server down and releases the socket. Query strings are
never written to the access log (``simulator.serving``).
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from simulator.serving import make_simulator_server


class ServerThread:
    """A threaded werkzeug server for ``app`` on ``host``:``port`` (0 = a free port), running in a daemon thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = make_simulator_server(host, port, app)
        self.host = host
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"wsgi-{self.port}", daemon=True)
        self._started = False

    @property
    def url(self) -> str:
        """``http://host:port`` without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        if not self._started:
            self._thread.start()
            self._started = True
        return self

    def close(self) -> None:
        if self._started:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._started = False
        self._server.server_close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
