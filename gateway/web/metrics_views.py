"""``GET /metrics``: Prometheus exposition (``gateway.metrics``). Expose it to the scraper only (the proxy in front
should not route it from the internet): it holds counts, never ids or secrets."""

from __future__ import annotations

from flask import Blueprint, Response

from gateway.metrics import CONTENT_TYPE, render
from gateway.web.wiring import context

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    return Response(render(context()), mimetype=None, content_type=CONTENT_TYPE)
