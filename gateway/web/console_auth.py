"""The operator console's frame: the ``ops`` blueprint under ``/ops/``, login (password, then TOTP when the account
has it), logout, the language switch, and what every console request goes through.

Guarantees, for every ``/ops`` URL:
- it exists only when ``settings.console_secret_key`` is set (``install_console`` is not called otherwise: 404);
- every POST carries a valid CSRF token (Flask-WTF's ``CSRFProtect``, checked only in this blueprint, so the
  public endpoints for Ecwid and the bank never need one); a missing or wrong token is refused with 400 before any
  view runs;
- every page but the login pages and the stylesheet requires a logged-in, active operator whose password has not
  changed since the login and whose login is younger than ``console_session_ttl_s`` (by the gateway's clock);
- the JSON view under ``/ops/api/`` (``gateway.web.console_api``) answers JSON only: 401 ``{"error": "login
  required"}`` instead of the redirect to the login page, its POSTs carry the token in an ``X-CSRFToken`` header
  (400 JSON otherwise), and an unknown ``/ops/api/`` path or method is a JSON 404 / 405;
- the session is Flask's signed cookie (``console_secret_key``), HttpOnly, SameSite=Strict, Secure when the public
  URL is https, path ``/ops``; it holds ids and the language, never a secret;
- answers are never cached and never framed (``Cache-Control: no-store``, ``X-Frame-Options: DENY``, a CSP of
  ``default-src 'self'``), and no page renders an Ecwid token, a password, a hash or a TOTP secret.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect, validate_csrf  # type: ignore[import-untyped]
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Response

from gateway.services import operators
from gateway.services.context import GatewayContext
from gateway.services.operators import OperatorView
from gateway.web.console_texts import LANGUAGE_NAMES, LANGUAGES, language_or_default, text
from gateway.web.wiring import context

log = logging.getLogger(__name__)

bp = Blueprint("ops", __name__, url_prefix="/ops")
csrf = CSRFProtect()
PUBLIC_ENDPOINTS = frozenset({"ops.login", "ops.login_totp", "ops.stylesheet"})
API_PREFIX = "/ops/api/"
PENDING_TOTP_S = 300  # the password step is good for this long
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}


def install_console(app: Flask) -> None:
    """Turn the console on for this app (``create_app`` calls it only when ``console_secret_key`` is set)."""
    ctx = app.extensions["vposlab_gateway"]
    assert isinstance(ctx, GatewayContext)
    settings = ctx.settings
    assert settings.console_secret_key is not None
    app.config.update(
        SECRET_KEY=settings.console_secret_key.get_secret_value(),
        SESSION_COOKIE_NAME="vposlab_ops",
        SESSION_COOKIE_PATH="/ops",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https"),
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.console_session_ttl_s),
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked only in this blueprint (before_request below)
        WTF_CSRF_TIME_LIMIT=settings.console_session_ttl_s,
        WTF_CSRF_SSL_STRICT=settings.public_url.startswith("https"),
    )
    csrf.init_app(app)
    # Importing the view modules attaches their routes to ``bp``.
    from gateway.web import console_api, console_money, console_views  # noqa: F401

    app.register_blueprint(bp)


def is_api_request() -> bool:
    """A request for the console's JSON view (``/ops/api/...``)."""
    return request.path.startswith(API_PREFIX)


def api_error(message: str, status: int) -> Response:
    """``{"error": message}`` with ``status``: how the JSON view says no."""
    response = jsonify(error=message)
    response.status_code = status
    return response


def language() -> str:
    return language_or_default(session.get("lang"))


def t(key: str, **values: object) -> str:
    return text(key, language(), **values)


def current_operator() -> OperatorView:
    operator = g.get("operator")
    assert isinstance(operator, OperatorView)
    return operator


def _now() -> datetime:
    return context().clock.now()


@bp.before_request
def _guard() -> Response | None:
    if is_api_request():
        return _api_guard()
    csrf.protect()  # every POST to /ops: before anything else, and before the login check
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    operator = _logged_in_operator()
    if operator is None:
        return redirect(url_for("ops.login"))
    g.operator = operator
    return None


def _api_guard() -> Response | None:
    """The JSON view: logged in first (401, not a redirect: a tool signs in again), then the CSRF token of the session
    in a header for anything but a read. Flask-WTF's HTTPS referrer check is for browsers' forms; a tool sends no
    Referer, and an ``application/json`` body cannot come from another site's form anyway."""
    operator = _logged_in_operator()
    if operator is None:
        return api_error("login required", 401)
    g.operator = operator
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        token = request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token")
        try:
            validate_csrf(token)
        except Exception as exc:  # wtforms' ValidationError: missing, expired or not this session's
            log.warning("console_csrf_refused reason=%s", exc)
            return api_error("CSRF token missing or invalid (send the session's token as X-CSRFToken)", 400)
    return None


@bp.before_app_request
def _api_routing_errors() -> Response | None:
    """An unknown ``/ops/api/`` path or method never reaches the blueprint: answer it in JSON here, after the same
    login check (before-request functions run before Flask raises the routing error)."""
    failure = request.routing_exception
    if not is_api_request() or not isinstance(failure, NotFound | MethodNotAllowed):
        return None
    if _logged_in_operator() is None:
        response = api_error("login required", 401)
    elif isinstance(failure, MethodNotAllowed):
        response = api_error("method not allowed", 405)
        response.headers["Allow"] = ", ".join(sorted(failure.valid_methods or ()))
    else:
        response = api_error("not found", 404)
    return _headers(response)


def _logged_in_operator() -> OperatorView | None:
    operator_id, started, fingerprint = session.get("operator_id"), session.get("login_at"), session.get("pw")
    if not isinstance(operator_id, int) or not isinstance(started, (int, float)):
        return None
    ttl = context().settings.console_session_ttl_s
    if _now().timestamp() - started > ttl:
        _end_session()
        flash(t("session_expired"))
        return None
    found = operators.get_operator(context(), operator_id)
    if found is None or not found[0].active or found[1] != fingerprint:
        _end_session()
        return None
    return found[0]


def _end_session() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.errorhandler(CSRFError)
def _csrf_refused(exc: CSRFError) -> Response | tuple[str, int]:
    log.warning("console_csrf_refused reason=%s", exc.description)
    if is_api_request():
        return api_error("CSRF token missing or invalid (send the session's token as X-CSRFToken)", 400)
    return render_template("ops/refused.html", message=t("csrf_refused")), 400


@bp.after_request
def _headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    if g.get("csp"):  # a page that says exactly what it needs (the self-contained reconciliation report)
        response.headers["Content-Security-Policy"] = g.csp
    return response


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    if not request.path.startswith("/ops"):
        return {}
    return {
        "t": t,
        "lang": language(),
        "languages": LANGUAGES,
        "language_names": LANGUAGE_NAMES,
        "operator": g.get("operator"),
    }


@bp.get("/console.css")
def stylesheet() -> Response:
    response = make_response(render_template("ops/console.css"))
    response.mimetype = "text/css"
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if request.args.get("lang") in LANGUAGES:
        session["lang"] = request.args["lang"]
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip().lower()
        password = request.form.get("password", "")
        result = operators.login_password(context(), username, password)
        if result.outcome == "ok" and result.operator is not None:
            return _start_session(result.operator)
        if result.outcome == "need_totp" and result.operator is not None:
            session.clear()
            session["lang"] = language()
            session["pending_id"] = result.operator.id
            session["pending_at"] = _now().timestamp()
            return redirect(url_for("ops.login_totp"))
        error = _refusal(result)
    return render_template("ops/login.html", error=error)


@bp.route("/login/totp", methods=["GET", "POST"])
def login_totp() -> Response | str:
    pending, at = session.get("pending_id"), session.get("pending_at")
    if not isinstance(pending, int) or not isinstance(at, (int, float)) or _now().timestamp() - at > PENDING_TOTP_S:
        return redirect(url_for("ops.login"))
    error = None
    if request.method == "POST":
        result = operators.login_totp(context(), pending, request.form.get("code", ""))
        if result.outcome == "ok" and result.operator is not None:
            return _start_session(result.operator)
        if result.reason in ("locked", "inactive"):
            _end_session()
            flash(_refusal(result))
            return redirect(url_for("ops.login"))
        error = _refusal(result)
    return render_template("ops/totp.html", error=error)


def _refusal(result: operators.LoginResult) -> str:
    if result.reason == "locked" and result.locked_until is not None:
        return t("login_locked", until=result.locked_until.astimezone(UTC).strftime("%Y-%m-%d %H:%M"))
    if result.reason in ("inactive", "totp_not_enrolled", "bad_totp"):
        return t("login_" + result.reason)
    return t("login_bad_credentials")


def _start_session(operator: OperatorView) -> Response:
    found = operators.get_operator(context(), operator.id)
    assert found is not None
    session.clear()  # a fresh session at login: nothing from before it survives (no fixation)
    session.permanent = True
    session["operator_id"] = operator.id
    session["pw"] = found[1]
    session["login_at"] = _now().timestamp()
    session["lang"] = operator.language if operator.language in LANGUAGES else "en"
    log.info("console_login operator=%s", operator.username)
    return redirect(url_for("ops.home"))


@bp.post("/logout")
def logout() -> Response:
    operators.record_logout(context(), current_operator().username)
    _end_session()
    flash(t("logged_out"))
    return redirect(url_for("ops.login"))


@bp.post("/language")
def switch_language() -> Response:
    chosen = request.form.get("lang", "")
    if chosen not in LANGUAGES:
        raise NotFound()
    session["lang"] = chosen
    target = request.form.get("next", "")
    # Only our own console paths: never an open redirect.
    if not target.startswith("/ops/") or target.startswith("//") or "\\" in target:
        target = url_for("ops.home")
    return redirect(target)


@bp.get("/")
def home() -> Response:
    return redirect(url_for("ops.exceptions"))
