"""Schema lives in Alembic migrations (house rule 15; issue 5.3 and 5.5): the models and the migrations agree on
both databases, the columns that hold money and Ecwid ids are 64-bit, ``migrate`` is one explicit idempotent step,
and starting the gateway never creates tables, so many workers can start at once on an empty database."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import BigInteger, create_engine, inspect, text

from gateway import build_context
from gateway.domain.errors import ConfigurationError
from gateway.store import migrate
from gateway.store.database import Database
from gateway.store.models import Base
from tests.gateway_fakes import Gateway, make_settings, migrate_database


def test_models_and_migrations_agree(database_url: str) -> None:
    migrate_database(database_url)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_money_and_ecwid_ids_are_64_bit_columns(database_url: str) -> None:
    migrate_database(database_url)
    engine = create_engine(database_url)
    try:
        columns = {
            (table, c["name"]): c["type"]
            for table in ("payment_sessions", "payment_attempts")
            for c in inspect(engine).get_columns(table)
        }
    finally:
        engine.dispose()
    for key in [
        ("payment_sessions", "store_id"),
        ("payment_sessions", "ecwid_internal_id"),
        ("payment_sessions", "amount_minor"),
        ("payment_attempts", "amount_minor"),
        ("payment_attempts", "refunded_minor"),
    ]:
        assert isinstance(columns[key], BigInteger) or "BIGINT" in str(columns[key]).upper(), key


@pytest.mark.parametrize(
    ("total", "internal_id"), [(21_474_836.48, 65306446), (15000.0, 2**31), (99_999_999_999.99, 2**62)]
)
def test_amounts_and_ids_beyond_32_bits_are_stored(gw: Gateway, total: float, internal_id: int) -> None:
    payload = {
        "storeId": 1003,
        "lang": "en",
        "returnUrl": "https://mystore.example/checkout?key=abc",
        "cart": {
            "currency": "AMD",
            "order": {
                "id": "XJ12H",
                "internalId": internal_id,
                "referenceTransactionId": "transaction_1",
                "total": total,
            },
        },
        "token": "secret_token",
    }
    outcome = gw.ctx and gw.request(payload)
    from gateway.services.start_payment import start_payment

    started = start_payment(gw.ctx, outcome, page_view="DESKTOP")
    session = gw.payment_session()
    assert session.amount_minor == round(total * 100)
    assert session.ecwid_internal_id == internal_id
    assert gw.provider.registration(started.attempt_order_number or "").amount.minor == round(total * 100)


def test_migrate_is_idempotent_and_reports_the_head(database_url: str) -> None:
    db = Database(database_url)
    try:
        with pytest.raises(ConfigurationError, match="no gateway schema"):
            db.check_schema()
        db.migrate()
        db.migrate()
        db.check_schema()
        assert migrate.current_revision(db.engine) == migrate.head_revision()
    finally:
        db.dispose()


def test_the_gateway_refuses_an_unmigrated_database_and_creates_nothing(database_url: str) -> None:
    with pytest.raises(ConfigurationError, match="vposlab-gateway migrate"):
        build_context(make_settings(database_url))
    engine = create_engine(database_url)
    try:
        assert [t for t in inspect(engine).get_table_names() if t != "alembic_version"] == []
    finally:
        engine.dispose()


def test_the_gateway_refuses_a_database_at_an_older_revision(database_url: str) -> None:
    db = Database(database_url)
    try:
        migrate.upgrade(db.engine, "0001")
        with pytest.raises(ConfigurationError, match="revision 0001"):
            db.check_schema()
    finally:
        db.dispose()


def test_upgrading_a_first_slice_database_keeps_its_payments_and_schedules_their_polls(database_url: str) -> None:
    db = Database(database_url)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        migrate.upgrade(db.engine, "0001")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO payment_sessions (id, store_id, reference_transaction_id, ecwid_order_id,"
                    " amount_minor, currency, return_url, lang, token_encrypted, ecwid_status, created_at,"
                    " updated_at) VALUES (1, 1003, 'transaction_1', 'XJ12H', 1500000, 'AMD', 'https://s.example/',"
                    " 'en', 'sealed', 'INCOMPLETE', :now, :now)"
                ),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO payment_attempts (id, session_id, attempt_no, order_number, provider_order_id,"
                    " status, amount_minor, currency, language, page_view, created_at, updated_at, expires_at)"
                    " VALUES (1, 1, 1, 'VABC', 'md-1', 'registered', 1500000, 'AMD', 'en', 'DESKTOP', :now, :now,"
                    " :now)"
                ),
                {"now": now},
            )
        db.migrate()
        with db.engine.connect() as connection:
            row = connection.execute(
                text("SELECT amount_minor, next_poll_at, poll_count FROM payment_attempts WHERE id = 1")
            ).one()
        assert row[0] == 1500000 and row[1] is not None and row[2] == 0
    finally:
        db.dispose()


def test_the_test_clock_table_comes_with_its_one_row_and_goes_on_downgrade(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.migrate()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT id, offset_us FROM test_clock")).all() == [(1, 0)]
        config = migrate.alembic_config(db.engine)
        with db.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")
        assert "test_clock" not in inspect(db.engine).get_table_names()
        assert migrate.current_revision(db.engine) == "0006"
        db.migrate()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT id, offset_us FROM test_clock")).all() == [(1, 0)]
    finally:
        db.dispose()


def _start_gateway(database_url: str) -> str:
    from gateway import create_app

    try:
        create_app(make_settings(database_url))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok"


@pytest.mark.parametrize("migrated", [True, False], ids=["migrated", "empty"])
def test_many_processes_start_at_once_without_touching_the_schema(database_url: str, migrated: bool) -> None:
    # Under gunicorn every worker builds the app at the same moment: none may create tables (they raced and one
    # failed to boot, stopping the server). On a migrated database all start; on an empty one all refuse clearly.
    if migrated:
        migrate_database(database_url)
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(_start_gateway, [database_url] * 8)
    if migrated:
        assert results == ["ok"] * 8
    else:
        assert all(r.startswith("ConfigurationError") and "migrate" in r for r in results), results
