"""Request guards that run before any view, on every path: the request size limit from ``Settings``.

``install_request_guards`` is called once per app by ``gateway.web.errors.register_error_handlers`` (the web
layer's one entry point that ``create_app`` calls), after the gateway context is in ``app.extensions``. What a
guard refuses is raised as a werkzeug ``HTTPException`` and rendered by the one handler in ``gateway.web.errors``.
"""

from __future__ import annotations

from flask import Flask

from gateway.services.context import GatewayContext


def install_request_guards(app: Flask) -> None:
    """Apply the settings' request limits. Guarantees: a body larger than ``max_request_bytes`` is refused with 413
    before any view reads it, whether it is a form (``MAX_FORM_MEMORY_SIZE``) or not (``MAX_CONTENT_LENGTH``)."""
    context = app.extensions["vposlab_gateway"]
    assert isinstance(context, GatewayContext)
    limit = context.settings.max_request_bytes
    app.config.update(MAX_CONTENT_LENGTH=limit, MAX_FORM_MEMORY_SIZE=limit)
