"""Abuse limits on the public paymentUrl, per client address (``VPOSLAB_PAYMENT_RATE_LIMIT``, Flask-Limiter).

Only the payment request is limited: a customer, or a script, submitting it again and again. Callbacks from the
bank and customers coming back from the bank page are never limited away (a lost callback or a return refused
would only delay a verified payment). The client address is the one ProxyFix established from the trusted proxy
hops. Counts are kept per process (memory); with several server processes, the effective limit is the configured
one per process.
"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from gateway.settings import Settings

PAYMENT_ENDPOINT = "ecwid.payment_url"


def install_rate_limits(app: Flask, settings: Settings) -> None:
    if not settings.payment_rate_limit:
        return
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri="memory://",
        default_limits=[],
        headers_enabled=True,  # Retry-After and X-RateLimit-* on the paymentUrl's answers
        strategy="moving-window",
    )
    view = app.view_functions[PAYMENT_ENDPOINT]
    app.view_functions[PAYMENT_ENDPOINT] = limiter.limit(settings.payment_rate_limit)(view)  # type: ignore[assignment]
