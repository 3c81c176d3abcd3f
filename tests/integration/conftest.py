"""Integration fixtures: a real database (SQLite file and PostgreSQL, one fresh schema per test) and a gateway
wired to it with fakes for the bank, Ecwid and the clock.

PostgreSQL comes from ``VPOSLAB_TEST_POSTGRES_URL`` (default: trust auth on 127.0.0.1:5432, database ``test``).
When it is not reachable the postgres tests FAIL, unless ``VPOSLAB_SKIP_POSTGRES=1``: CI starts PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from gateway import create_app
from tests.gateway_fakes import Gateway, make_settings

POSTGRES_URL = os.environ.get("VPOSLAB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_schema_url(schema: str) -> str:
    url = make_url(POSTGRES_URL)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/gw.sqlite3"
        return
    if os.environ.get("VPOSLAB_SKIP_POSTGRES") == "1":
        pytest.skip("VPOSLAB_SKIP_POSTGRES=1")
    admin = create_engine(make_url(POSTGRES_URL))
    schema = "gw_test_" + uuid.uuid4().hex[:16]
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        where = make_url(POSTGRES_URL).render_as_string(hide_password=True)
        pytest.fail(
            f"PostgreSQL not reachable at {where} ({type(exc.orig).__name__}); start it or set VPOSLAB_SKIP_POSTGRES=1",
            pytrace=False,
        )
    try:
        yield _postgres_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def gw(database_url: str) -> Iterator[Gateway]:
    gateway = Gateway.build(make_settings(database_url))
    try:
        yield gateway
    finally:
        gateway.close()


@pytest.fixture
def cgw(database_url: str) -> Iterator[Gateway]:
    """A gateway with the operator console on (``test_gw_console_support.console_gateway``)."""
    from tests.integration.test_gw_console_support import console_gateway

    gateway = console_gateway(database_url)
    yield gateway
    gateway.close()


@pytest.fixture
def app(cgw: Gateway) -> Flask:
    """The Flask app of ``cgw``."""
    return create_app(context=cgw.ctx)
