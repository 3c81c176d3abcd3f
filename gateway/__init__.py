"""vposlab gateway: Ecwid payment app for ArCa / BPC RBS vPOS. Production code; see ``create_app``."""

from __future__ import annotations

import httpx
from flask import Flask

from gateway.clock import Clock, SystemClock
from gateway.ecwid.orders_client import EcwidOrdersClient
from gateway.metrics import instrument_http_client
from gateway.provider.rbs import RbsProvider
from gateway.services.context import GatewayContext
from gateway.services.tokens import TokenBox
from gateway.settings import Settings
from gateway.store.database import Database

__all__ = ["Settings", "build_context", "create_app"]


def build_context(
    settings: Settings, *, clock: Clock | None = None, http: httpx.Client | None = None
) -> GatewayContext:
    """Wire the collaborators once: the database, the bank adapter, the Ecwid client (shared httpx client with
    explicit timeouts), the token box and the clock. The database schema must already be migrated
    (``vposlab-gateway migrate``): this only checks it, so many processes can start at once.

    The clock: ``clock`` when given (tests, the in-process lab); else, with ``settings.test_clock`` (TEST only), the
    test clock kept in this database (``gateway.test_clock``), shared by every process started on it; else the
    system clock."""
    client = http or httpx.Client(timeout=httpx.Timeout(settings.http_timeout_s, connect=5.0), follow_redirects=False)
    instrument_http_client(client, settings)
    db = Database(settings.database_url)
    try:
        db.check_schema()
    except Exception:
        db.dispose()
        raise
    if clock is None and settings.test_clock:
        from gateway.test_clock import DatabaseTestClock

        clock = DatabaseTestClock(db.engine)
    return GatewayContext(
        settings=settings,
        db=db,
        provider=RbsProvider(client, settings.provider_url, settings.provider_credentials),
        ecwid=EcwidOrdersClient(client, settings.ecwid_api_url),
        clock=clock or SystemClock(),
        tokens=TokenBox(settings.token_key.get_secret_value()),
    )


def create_app(settings: Settings | None = None, *, context: GatewayContext | None = None) -> Flask:
    """The Flask app. Nothing happens at import time; ``settings`` default to ``Settings.from_env()``."""
    from gateway.web import ecwid_views, health_views, metrics_views, provider_views
    from gateway.web.errors import register_error_handlers
    from gateway.web.guards import install_request_guards
    from gateway.web.rate_limits import install_rate_limits
    from gateway.web.request_ids import install_request_ids
    from gateway.web.security_headers import install_security_headers

    if context is None:
        context = build_context(settings or Settings.from_env())
    app = Flask(__name__, template_folder="web/templates")
    app.config.update(DEBUG=False, PROPAGATE_EXCEPTIONS=False)
    app.extensions["vposlab_gateway"] = context
    install_request_ids(app)  # X-Request-ID in, out, and on every log line of the request
    install_request_guards(app)  # request size limit from the settings, parameter hygiene
    install_security_headers(app, context.settings)  # on every answer; the proxy trusted only as configured
    app.register_blueprint(ecwid_views.bp)
    app.register_blueprint(provider_views.bp)
    app.register_blueprint(health_views.bp)
    app.register_blueprint(metrics_views.bp)
    install_rate_limits(app, context.settings)  # the paymentUrl only; never callbacks or returns
    if context.settings.console_secret_key is not None:  # the operator console; without the key every /ops is 404
        from gateway.web.console_auth import install_console

        install_console(app)
    register_error_handlers(app)
    return app
