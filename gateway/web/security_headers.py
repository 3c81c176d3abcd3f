"""Security headers on every answer, and the proxy in front trusted exactly as configured.

Customer pages are the gateway's own error and processing pages: no script, one inline style block, no frames,
nothing cached (they name an order). ``Referrer-Policy: no-referrer`` keeps the bank's and the gateway's URLs (with
order ids) out of the store's logs. A blueprint that sets its own header (the operator console's CSP) keeps it.
HSTS only when the public URL is HTTPS.
"""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway.settings import Settings

BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def install_security_headers(app: Flask, settings: Settings) -> None:
    headers = dict(BASE_HEADERS)
    if settings.public_url.lower().startswith("https://"):
        headers["Strict-Transport-Security"] = HSTS

    def add_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    app.after_request(add_headers)
    if settings.proxy_hops:
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
