"""The one place where errors become HTTP. Customer pages are generic and localised; the bank's callback endpoint
gets short ``text/plain`` bodies. Nothing here echoes input or secrets.

Besides the gateway's own errors, every werkzeug ``HTTPException`` (404 unknown path, 405 wrong method with its
``Allow`` header, 400, 413 request too large...) and every unexpected exception (500) gets our page or plain text
with the right status: no framework page ever reaches a customer or the bank. ``register_error_handlers`` also
installs the request guards (``gateway.web.guards``) whose refusals these handlers render.
"""

from __future__ import annotations

import logging

from flask import Flask, make_response, render_template, request
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Response

from gateway.domain.errors import (
    BadChecksum,
    GatewayError,
    InvalidPaymentRequest,
    ProviderError,
    UnknownPayment,
)
from gateway.services.customer_return import with_error_message
from gateway.services.messages import language_of, message
from gateway.services.start_payment import RegistrationFailed

log = logging.getLogger(__name__)

# Short bodies for the bank: fixed texts by status, never the exception's description.
PLAIN_TEXTS = {400: "bad request", 404: "not found", 405: "method not allowed", 413: "request too large"}


def _is_callback() -> bool:
    return request.path.startswith("/vpos/callback")


def _page(key: str, status: int, *, lang: str | None = None, back_url: str | None = None) -> tuple[str, int]:
    lang = language_of(lang or request.args.get("lang"))
    return render_template("error.html", text=message(key, lang), lang=lang, back_url=back_url), status


def plain(text: str, status: int) -> Response:
    """A short ``text/plain`` answer for the bank."""
    response = make_response(text, status)
    response.mimetype = "text/plain"
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        # Flask routes unexpected exceptions here too, as InternalServerError (already logged with a traceback).
        status = exc.code or 500
        log.log(logging.ERROR if status >= 500 else logging.INFO, "http_error status=%s", status)
        if _is_callback():
            response = plain(PLAIN_TEXTS.get(status, "error"), status)
        else:
            response = make_response(_page("generic_error", status))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        return response

    @app.errorhandler(InvalidPaymentRequest)
    def invalid_request(exc: InvalidPaymentRequest) -> tuple[str, int]:
        log.warning("payment_request_rejected reason=%s", exc.reason)
        return _page("generic_error", 400)

    @app.errorhandler(RegistrationFailed)
    def registration_failed(exc: RegistrationFailed) -> tuple[str, int]:
        back = with_error_message(exc.return_url, message("bank_unavailable", exc.lang))
        return _page("bank_unavailable", 503, lang=exc.lang, back_url=back)

    @app.errorhandler(BadChecksum)
    def bad_checksum(exc: BadChecksum) -> Response:
        return plain("bad checksum", 400)

    @app.errorhandler(UnknownPayment)
    def unknown_payment(exc: UnknownPayment) -> Response | tuple[str, int]:
        if _is_callback():
            return plain("unknown order", 200)  # so the bank stops retrying; logged as a warning by the service
        return _page("unknown_payment", 404)

    @app.errorhandler(ProviderError)
    def provider_error(exc: ProviderError) -> Response | tuple[str, int]:
        log.warning("provider_error code=%s error=%s path=%s", exc.code, exc, request.path)
        if _is_callback():
            return plain("provider unavailable, retry later", 503)
        return _page("bank_unavailable", 503)

    @app.errorhandler(OperationalError)
    def database_busy(exc: OperationalError) -> Response | tuple[str, int]:
        log.error("database_unavailable path=%s error=%s", request.path, type(exc.orig).__name__)
        if _is_callback():
            return plain("busy, retry later", 503)
        return _page("bank_unavailable", 503)

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc: SQLAlchemyError) -> Response | tuple[str, int]:
        log.error("database_error path=%s error=%s", request.path, type(exc).__name__)
        return plain("error, retry later", 503) if _is_callback() else _page("generic_error", 500)

    @app.errorhandler(GatewayError)
    def gateway_error(exc: GatewayError) -> Response | tuple[str, int]:
        log.error("gateway_error code=%s path=%s", exc.code, request.path)
        return plain("error", 500) if _is_callback() else _page("generic_error", 500)
