"""Liveness and readiness: the database answers."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from gateway.web.wiring import context

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> tuple[dict[str, str], int]:
    ctx = context()
    with ctx.db.session() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok", "provider_mode": ctx.settings.provider_mode.value}, 200
