"""The simulator's Flask app factory: one app for the whole outside world (bank, Ecwid, storefront, control).

Nothing happens at import time. ``create_app`` builds a fresh ``SimulatorState`` (in
``app.extensions["simulator"]``), registers the blueprints, journals every request in one ``after_request``
hook and maps the error tree of ``simulator.errors`` to HTTP in one place.
"""

from __future__ import annotations

from typing import Any

import httpx
from flask import Flask, Response, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from simulator.config import SimulatorConfig
from simulator.control.api import bp as control_bp
from simulator.control.bank_api import bp as control_bank_bp
from simulator.control.callbacks_api import bp as control_callbacks_bp
from simulator.control.dashboard import bp as dashboard_bp
from simulator.control.ecwid_api import bp as control_ecwid_bp
from simulator.control.faults_api import bp as vpos_faults_bp
from simulator.control.openapi_api import bp as control_openapi_bp
from simulator.ecwid.api import bp as ecwid_api_bp
from simulator.ecwid.storefront import bp as storefront_bp
from simulator.errors import ControlError, EcwidApiError, RbsError
from simulator.state import EXTENSION_KEY, SimulatorState, current_state
from simulator.vpos.api import bp as vpos_api_bp
from simulator.vpos.hosted_page import bp as vpos_page_bp
from simulator.vpos.threeds import bp as vpos_acs_bp
from simulator.web import request_params

_SERVICES = (("/payment/", "vpos"), ("/api/v3/", "ecwid"), ("/store/", "store"), ("/_control/", "control"))


def create_app(config: SimulatorConfig, *, http_transport: httpx.BaseTransport | None = None) -> Flask:
    """Build the simulator app for ``config``.

    ``http_transport`` replaces the network for outbound callbacks (tests: ``httpx.WSGITransport``).
    The state is ``app.extensions["simulator"]`` (a ``SimulatorState``); change the configuration later with
    ``app.extensions["simulator"].reconfigure(payment_url=..., public_url=...)``.
    """
    app = Flask(__name__)
    app.extensions[EXTENSION_KEY] = SimulatorState(config, http_transport=http_transport)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    for blueprint in (vpos_api_bp, vpos_page_bp, ecwid_api_bp, storefront_bp, control_bp, vpos_faults_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(control_callbacks_bp)  # /_control/vpos/callbacks... (simulator/README.md, Callbacks)
    app.register_blueprint(control_ecwid_bp)  # /_control/ecwid/faults, rate-limit, webhooks, history, fake orders
    app.register_blueprint(control_bank_bp)  # /_control/vpos/orders/{mdOrder}/outcome, /cards, /bank (README)
    app.register_blueprint(vpos_acs_bp)  # the issuer's 3-D Secure ACS page under /payment/acs/ (simulator/README.md)
    app.register_blueprint(dashboard_bp)  # HTML pages under /_control/dashboard (simulator/README.md)
    app.register_blueprint(control_openapi_bp)  # GET /_control/openapi.json: the control API's OpenAPI document
    app.add_url_rule("/", "home", _home)
    app.after_request(_journal_request)
    _register_error_handlers(app)
    return app


def get_state(app: Flask) -> SimulatorState:
    """The ``SimulatorState`` of an app built by ``create_app``."""
    state = app.extensions[EXTENSION_KEY]
    assert isinstance(state, SimulatorState)
    return state


def _home() -> str:
    return render_template("home.html", config=current_state().config)


def _service_for(path: str) -> str | None:
    return next((service for prefix, service in _SERVICES if path.startswith(prefix)), None)


def _journal_request(response: Response) -> Response:
    """Record the request in the journal (control reads are not recorded: they would drown the rest)."""
    service = _service_for(request.path)
    if service is None or (service == "control" and request.method == "GET"):
        return response
    params: dict[str, Any] = dict(request_params())
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        params.update(body)
    summary = g.get("journal_summary") or _summary_from(response)
    answer = response.get_json(silent=True) if response.is_json else None
    current_state().journal.record(
        direction="in",
        service=service,
        method=request.method,
        path=request.path,
        operation=g.get("journal_operation") or f"{request.method} {request.path}",
        status=response.status_code,
        params=params,
        summary=summary,
        related={**(answer if isinstance(answer, dict) else {}), **(g.get("journal_keys") or {})},
    )
    return response


def _summary_from(response: Response) -> str:
    if not response.is_json:
        return ""
    data = response.get_json(silent=True)
    if not isinstance(data, dict):
        return ""
    parts = [f"{name}={data[name]}" for name in ("errorCode", "ErrorCode", "error") if name in data]
    message = data.get("errorMessage") or data.get("ErrorMessage") or data.get("message")
    if message:
        parts.append(str(message))
    return " ".join(parts)


def _register_error_handlers(app: Flask) -> None:
    """The one place simulator errors become HTTP answers."""

    @app.errorhandler(ControlError)
    def control_error(exc: ControlError) -> tuple[Response, int]:
        return jsonify({"error": exc.code, "message": exc.message}), exc.http_status

    @app.errorhandler(RbsError)
    def rbs_error(exc: RbsError) -> tuple[Response, int]:
        return jsonify({"errorCode": str(exc.error_code), "errorMessage": exc.message}), 200

    @app.errorhandler(EcwidApiError)
    def ecwid_error(exc: EcwidApiError) -> tuple[Response, int]:
        return jsonify({"errorMessage": exc.message, "errorCode": exc.code}), exc.http_status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | HTTPException | tuple[Response, int]:
        status = exc.code or 500
        if status < 400:  # routing redirects (e.g. a missing trailing slash) stay what they are
            return exc
        if request.path.startswith("/_control/"):
            return jsonify(
                {"error": (exc.name or "error").lower().replace(" ", "_"), "message": exc.description}
            ), status
        if request.path.startswith("/api/v3/"):
            code = "ORDER_NOT_FOUND" if status == 404 else (exc.name or "ERROR").upper().replace(" ", "_")
            return jsonify({"errorMessage": exc.description, "errorCode": code}), status
        return exc
