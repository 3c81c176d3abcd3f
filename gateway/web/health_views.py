"""Liveness and readiness, for load balancers and orchestrators.

- ``/healthz``: the process answers (no database: a slow database must not get healthy processes killed);
- ``/readyz``: this process can serve payments: the database answers and its schema is the code's revision; 503
  with the failing check otherwise (the reason is a class name and a fixed text, never a connection string);
- ``/health``: the older name of ``/readyz``.
"""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from gateway.web.wiring import context

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200


@bp.get("/readyz")
@bp.get("/health")
def readyz() -> tuple[dict[str, object], int]:
    ctx = context()
    checks: dict[str, str] = {}
    try:
        with ctx.db.session() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unavailable ({type(exc).__name__})"
    if checks["database"] == "ok":
        try:
            ctx.db.check_schema()
            checks["schema"] = "ok"
        except Exception as exc:
            checks["schema"] = f"not at this version's revision ({type(exc).__name__}): run vposlab-gateway migrate"
    ready = all(value == "ok" for value in checks.values())
    body: dict[str, object] = {
        "status": "ok" if ready else "unavailable",
        "provider_mode": ctx.settings.provider_mode.value,
        "checks": checks,
    }
    return body, 200 if ready else 503
