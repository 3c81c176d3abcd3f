"""Structured logs: one JSON object per line (structlog over the standard library's logging), with the request id
of the HTTP request and the ``payment`` trace id that follows one payment from the paymentUrl request through the
bank's callbacks and the customer's return to the worker's Ecwid update.

Modules keep logging with ``logging.getLogger(__name__)`` (ids and codes, never payloads); the formatter adds the
time, level, logger and the bound context. As a last line of defence, every configured secret that still reaches a
log line is replaced by ``***`` (house rule 13: they never should).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

REDACTED = "***"


def _scrubber(secrets: Iterable[str]) -> Any:
    values = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def scrub(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if not values:
            return event
        for key, value in list(event.items()):
            if isinstance(value, str):
                for secret in values:
                    if secret in value:
                        value = value.replace(secret, REDACTED)
                event[key] = value
        return event

    return scrub


def configure_logging(
    level: str = "INFO", fmt: str = "json", secrets: Iterable[str] = (), stream: TextIO | None = None
) -> None:
    """Route every log record (ours and the libraries') through one formatter on ``stream`` (stderr)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _scrubber(secrets),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _scrubber(secrets), renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())


def current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value else None


@contextmanager
def payment_context(trace_id: str | None) -> Iterator[None]:
    """Log lines inside carry ``payment=<trace_id>``: the id of the request that started this payment."""
    if not trace_id:
        yield
        return
    with structlog.contextvars.bound_contextvars(payment=trace_id):
        yield


def bind_payment(trace_id: str | None) -> None:
    """For the rest of this request (cleared when it ends): log lines carry ``payment=<trace_id>``."""
    if trace_id:
        structlog.contextvars.bind_contextvars(payment=trace_id)
