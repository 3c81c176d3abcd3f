"""A request id for every request: the proxy's ``X-Request-ID`` when it is a sane token, else a new one; bound to
every log line of the request and echoed in the answer's ``X-Request-ID``."""

from __future__ import annotations

import re
import uuid

import structlog
from flask import Flask, Response, g, request

SANE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def install_request_ids(app: Flask) -> None:
    def bind() -> None:
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if SANE_ID.fullmatch(offered) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    def echo(response: Response) -> Response:
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        return response

    def unbind(_exc: BaseException | None) -> None:
        structlog.contextvars.clear_contextvars()

    app.before_request(bind)
    app.after_request(echo)
    app.teardown_request(unbind)
