"""Schema migrations (Alembic), run as one explicit step: ``vposlab-gateway migrate``.

Starting the web server or a worker never changes the schema (house rule 15): ``check_schema`` only reads the
version table and refuses to go on, with a clear message, when the database is not at the code's revision.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from gateway.domain.errors import ConfigurationError

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``. Safe to run again; concurrent runs take turns on PostgreSQL."""
    config = alembic_config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def check_schema(engine: Engine) -> None:
    """Raise ``ConfigurationError`` unless the database is exactly at the code's schema revision."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise ConfigurationError(f"database {where} has no gateway schema: run `vposlab-gateway migrate` first")
    raise ConfigurationError(
        f"database {where} is at schema revision {current}, this code needs {head}: run `vposlab-gateway migrate`"
    )
