"""The one place where errors become HTTP. Customer pages are generic and localised; bank-facing endpoints get
plain short bodies. Nothing here echoes input or secrets."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from sqlalchemy.exc import OperationalError, SQLAlchemyError

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


def _is_callback() -> bool:
    return request.path.startswith("/vpos/callback")


def _page(key: str, status: int, *, lang: str | None = None, back_url: str | None = None) -> tuple[str, int]:
    lang = language_of(lang or request.args.get("lang"))
    return render_template("error.html", text=message(key, lang), lang=lang, back_url=back_url), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(InvalidPaymentRequest)
    def invalid_request(exc: InvalidPaymentRequest) -> tuple[str, int]:
        log.warning("payment_request_rejected reason=%s", exc.reason)
        return _page("generic_error", 400)

    @app.errorhandler(RegistrationFailed)
    def registration_failed(exc: RegistrationFailed) -> tuple[str, int]:
        back = with_error_message(exc.return_url, message("bank_unavailable", exc.lang))
        return _page("bank_unavailable", 503, lang=exc.lang, back_url=back)

    @app.errorhandler(BadChecksum)
    def bad_checksum(exc: BadChecksum) -> tuple[str, int]:
        return "bad checksum", 400

    @app.errorhandler(UnknownPayment)
    def unknown_payment(exc: UnknownPayment) -> tuple[str, int]:
        if _is_callback():
            return "unknown order", 200  # so the bank stops retrying; logged as a warning by the service
        return _page("unknown_payment", 404)

    @app.errorhandler(ProviderError)
    def provider_error(exc: ProviderError) -> tuple[str, int]:
        log.warning("provider_error code=%s error=%s path=%s", exc.code, exc, request.path)
        if _is_callback():
            return "provider unavailable, retry later", 503
        return _page("bank_unavailable", 503)

    @app.errorhandler(OperationalError)
    def database_busy(exc: OperationalError) -> tuple[str, int]:
        log.error("database_unavailable path=%s error=%s", request.path, type(exc.orig).__name__)
        if _is_callback():
            return "busy, retry later", 503
        return _page("bank_unavailable", 503)

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc: SQLAlchemyError) -> tuple[str, int]:
        log.error("database_error path=%s error=%s", request.path, type(exc).__name__)
        return ("error, retry later", 503) if _is_callback() else _page("generic_error", 500)

    @app.errorhandler(GatewayError)
    def gateway_error(exc: GatewayError) -> tuple[str, int]:
        log.error("gateway_error code=%s path=%s", exc.code, request.path)
        return ("error", 500) if _is_callback() else _page("generic_error", 500)
