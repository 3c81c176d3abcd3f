"""Access to the per-app context from request handlers."""

from __future__ import annotations

from flask import current_app

from gateway.services.context import GatewayContext


def context() -> GatewayContext:
    ctx = current_app.extensions["vposlab_gateway"]
    assert isinstance(ctx, GatewayContext)
    return ctx
