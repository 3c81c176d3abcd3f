"""What the configuration audit reads from the database, when it answers: the schema revision and the operator
accounts. Never raises: a database that does not answer is "not checked", said in the audit."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from gateway.services.config_audit import OperatorFacts
from gateway.store.database import Database
from gateway.store.models import Operator


def database_facts(environ: Mapping[str, str]) -> tuple[bool | None, OperatorFacts | None]:
    url = environ.get("VPOSLAB_DATABASE_URL", "sqlite:///var/gateway.sqlite3")
    try:
        parsed = make_url(url)
    except Exception:
        return None, None
    if parsed.drivername.startswith("sqlite") and (not parsed.database or not Path(parsed.database).exists()):
        return None, None  # an audit never creates a database file
    try:
        db = Database(url)
    except Exception:
        return None, None
    try:
        try:
            db.check_schema()
        except Exception as exc:
            return (False if "migrate" in str(exc) else None), None
        with db.session() as session:
            active = session.scalar(select(func.count()).select_from(Operator).where(Operator.active.is_(True))) or 0
            without = (
                session.scalar(
                    select(func.count())
                    .select_from(Operator)
                    .where(Operator.active.is_(True), Operator.totp_secret_encrypted.is_(None))
                )
                or 0
            )
        return True, OperatorFacts(active=active, active_without_totp=without)
    except Exception:
        return None, None
    finally:
        db.dispose()
