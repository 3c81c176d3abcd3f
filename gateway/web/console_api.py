"""The operator console's JSON view, for tools (the readiness run checks a gateway started elsewhere through it):
routes on the ``ops`` blueprint of ``gateway.web.console_auth``, behind the same operator login, read only except
the TEST-only test clock.

- ``GET /ops/api/status``: the gateway's time (its clock, the test clock included), mode, version, timings, the test
  clock's state and this session's CSRF token (for ``X-CSRFToken`` on a POST);
- ``GET /ops/api/payments?q=REF``: payments whose Ecwid order id, referenceTransactionId, orderNumber or mdOrder is
  exactly REF;
- ``GET /ops/api/payments/<id>``: one payment with its attempts, refunds, exceptions and timeline;
- ``POST /ops/api/test-clock`` ``{"advance_s": seconds}``: move the test clock forward (404 unless
  ``VPOSLAB_TEST_CLOCK`` is on in TEST); answers when every process of the gateway tells the new time.

Logged out: 401 ``{"error": "login required"}``; unknown ids: 404 ``{"error": "not found"}``; every answer JSON
with the console's security headers. The reading lives in ``gateway.services.payment_records``; no answer carries a
secret (any configured secret that reached a text anyway is masked as ``***``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import jsonify, request
from flask_wtf.csrf import generate_csrf  # type: ignore[import-untyped]
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from gateway import test_clock
from gateway.services import payment_records
from gateway.services.timeline import aware
from gateway.web.console_auth import api_error, bp, current_operator
from gateway.web.wiring import context

log = logging.getLogger(__name__)

MASK = "***"


def _json_only(view: Callable[..., Response]) -> Callable[..., Response]:
    """Whatever goes wrong in a JSON view is answered in JSON, never with a page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except HTTPException as exc:
            return api_error(exc.name.lower(), exc.code or 500)
        except OperationalError as exc:
            log.error("console_api_database_unavailable path=%s error=%s", request.path, type(exc.orig).__name__)
            return api_error("database unavailable, retry later", 503)
        except Exception:
            log.exception("console_api_error path=%s", request.path)
            return api_error("internal error", 500)

    return wrapper


def _masked(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {key: _masked(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item, secrets) for item in value]
    return value


def _answer(data: dict[str, Any]) -> Response:
    """Last line of defence: texts written by the gateway (event details, Ecwid's errors) never name a secret, but
    one that got there anyway is masked rather than served."""
    secrets = sorted({s for s in context().settings.secret_values if len(s) >= 6}, key=len, reverse=True)
    return jsonify(_masked(data, secrets))


def _iso(value: datetime) -> str:
    return aware(value).astimezone(UTC).isoformat()


def _gateway_version() -> str:
    try:
        return version("vposlab")
    except PackageNotFoundError:
        return "unknown"


@bp.get("/api/status")
@_json_only
def api_status() -> Response:
    ctx = context()
    settings = ctx.settings
    if isinstance(ctx.clock, test_clock.DatabaseTestClock):
        now, offset_s = ctx.clock.now_and_offset()
    else:
        now, offset_s = ctx.clock.now(), 0.0
    timings = {
        "http_timeout_s": settings.http_timeout_s,
        "session_timeout_s": settings.session_timeout_s,
        "poll_after_s": settings.poll_after_s,
        "poll_max_interval_s": settings.poll_max_interval_s,
        "pending_wait_s": settings.pending_wait_s,
        "return_wait_s": settings.return_wait_s,
        "registering_stale_s": settings.registering_stale_s,
        "reverse_window_s": settings.reverse_window_s,
        "ecwid_backoff_base_s": settings.ecwid_backoff_base_s,
        "ecwid_backoff_max_s": settings.ecwid_backoff_max_s,
        "console_session_ttl_s": settings.console_session_ttl_s,
    }
    return _answer(
        {
            "now": _iso(now),
            "provider_mode": settings.provider_mode.value,
            "version": _gateway_version(),
            "timings": timings,
            "test_clock": {"enabled": settings.test_clock, "offset_s": offset_s},
            "csrf_token": generate_csrf(),
        }
    )


@bp.get("/api/payments")
@_json_only
def api_payments() -> Response:
    with context().db.session() as session:
        return _answer(payment_records.search(session, request.args.get("q", "")))


@bp.get("/api/payments/<int:session_id>")
@_json_only
def api_payment(session_id: int) -> Response:
    with context().db.session() as session:
        record = payment_records.payment_record(session, session_id)
    if record is None:
        return api_error("not found", 404)
    return _answer(record)


@bp.post("/api/test-clock")
@_json_only
def api_test_clock() -> Response:
    ctx = context()
    if not ctx.settings.test_clock:
        return api_error("the test clock is off (VPOSLAB_TEST_CLOCK, TEST mode only)", 404)
    if not isinstance(ctx.clock, test_clock.DatabaseTestClock):
        return api_error("this gateway was given its own clock, not the shared test clock", 404)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "advance_s" not in body:
        return api_error('the body must be a JSON object {"advance_s": seconds}', 400)
    try:
        seconds = test_clock.check_advance(body["advance_s"])
    except test_clock.BadAdvance as exc:
        return api_error(str(exc), 400)
    moved = test_clock.advance(ctx, seconds, actor=current_operator().username)
    return _answer({"now": _iso(moved.now), "offset_s": moved.offset_s})
