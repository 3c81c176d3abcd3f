"""Alembic environment: runs on the connection ``gateway.store.migrate`` hands over (or on ``sqlalchemy.url``).

On PostgreSQL a session advisory lock makes concurrent ``migrate`` runs take turns: the second one reads the
version table after the first has committed and finds nothing left to do. SQLite runs in batch mode, since it
cannot alter columns in place.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from gateway.store.models import Base

MIGRATION_LOCK_ID = 0x76706F736C6162  # "vposlab"


def _run(connection: Connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds tables (copy, drop, rename): foreign keys must not fire meanwhile. The pragma only
        # works outside a transaction; the gateway's connections turn it back on.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    if postgres:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if postgres:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported: run `vposlab-gateway migrate`")
run_migrations_online()
