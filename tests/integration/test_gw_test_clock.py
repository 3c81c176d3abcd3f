"""The TEST-only test clock (``VPOSLAB_TEST_CLOCK``) over a real database: ``build_context`` picks it from the
settings, ``POST /ops/api/test-clock`` moves it (logged-in operator, CSRF header, checked input, recorded), and when
the answer comes every other process of the gateway (here: a second context on the same database, with its own
cache) tells the new time; advances at once add up; the clock never uses the caller's transaction and keeps going
on its last known offset when the database does not answer."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from flask import Flask
from pydantic import SecretStr
from sqlalchemy import event, select, text, update
from werkzeug.test import TestResponse

from gateway import build_context, create_app
from gateway.clock import SystemClock
from gateway.services import operators
from gateway.services.context import GatewayContext
from gateway.settings import Settings
from gateway.store.models import ClockOffset, OperatorAction
from gateway.test_clock import MAX_ADVANCE_S, DatabaseTestClock, advance, read_offset_us
from tests.gateway_fakes import FakeClock, make_settings, migrate_database
from tests.integration.test_gw_console_support import (
    CONSOLE_KEY,
    PASSWORD,
    Console,
    actions,
    add_operator,
    console_gateway,
)

HOUR = 3600.0


def clock_settings(database_url: str, **overrides: Any) -> Settings:
    return make_settings(database_url, console_secret_key=SecretStr(CONSOLE_KEY), test_clock=True, **overrides)


class Process:
    """One process of the gateway as ``vposlab-gateway serve`` or ``worker`` builds it: its own context (database
    pool, clock) from the settings alone."""

    def __init__(self, settings: Settings) -> None:
        self.http = httpx.Client()
        self.ctx: GatewayContext = build_context(settings, http=self.http)

    def close(self) -> None:
        self.http.close()
        self.ctx.db.dispose()

    @property
    def clock(self) -> DatabaseTestClock:
        assert isinstance(self.ctx.clock, DatabaseTestClock)
        return self.ctx.clock


@pytest.fixture
def processes(database_url: str) -> Iterator[list[Process]]:
    migrate_database(database_url)
    started = [Process(clock_settings(database_url)) for _ in range(2)]
    yield started
    for process in started:
        process.close()


@pytest.fixture
def web(processes: list[Process]) -> Flask:
    return create_app(context=processes[0].ctx)


@pytest.fixture
def console(processes: list[Process], web: Flask) -> Console:
    add_operator_to(processes[0].ctx, "anna")
    signed_in = Console(web.test_client())
    assert signed_in.login("anna").status_code == 302
    return signed_in


def add_operator_to(ctx: GatewayContext, username: str) -> None:
    operators.create_operator(ctx, username, PASSWORD, language="en", totp=False, actor="test")


def csrf_token(console: Console) -> str:
    token = console.get("/ops/api/status").get_json()["csrf_token"]
    assert isinstance(token, str)
    return token


def post_advance(console: Console, body: Any = None, *, raw: str | None = None, token: str | None = "") -> TestResponse:
    headers = {}
    if token is not None:
        headers["X-CSRFToken"] = token or csrf_token(console)
    if raw is not None:
        return console.client.post(
            "/ops/api/test-clock", data=raw, headers={**headers, "Content-Type": "application/json"}
        )
    return console.client.post("/ops/api/test-clock", json=body, headers=headers)


def stored_offset_s(process: Process) -> float:
    return read_offset_us(process.ctx.db.engine) / 1_000_000


# --- wiring ---------------------------------------------------------------------------------------------------------


def test_build_context_picks_the_test_clock_only_when_asked_and_not_given_a_clock(database_url: str) -> None:
    migrate_database(database_url)
    with httpx.Client() as http:
        on = build_context(clock_settings(database_url), http=http)
        off = build_context(make_settings(database_url), http=http)
        given = build_context(clock_settings(database_url), clock=FakeClock(), http=http)
        try:
            assert isinstance(on.clock, DatabaseTestClock)
            assert isinstance(off.clock, SystemClock)
            assert isinstance(given.clock, FakeClock)  # the in-process lab keeps its own clock
            system = datetime.now(UTC)
            assert abs(on.clock.now() - system) < timedelta(seconds=5)
            assert on.clock.now().tzinfo is not None
        finally:
            for ctx in (on, off, given):
                ctx.db.dispose()


# --- moving it over HTTP --------------------------------------------------------------------------------------------


def test_an_advance_is_seen_by_another_process_when_the_answer_comes(
    processes: list[Process], console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    web, worker = processes
    before = worker.clock.now()  # the worker has read (and cached) the offset: 0
    assert abs(before - datetime.now(UTC)) < timedelta(seconds=5)
    token = csrf_token(console)
    caplog.set_level(logging.INFO, logger="gateway.test_clock")
    started = time.monotonic()
    response = post_advance(console, {"advance_s": HOUR}, token=token)
    took = time.monotonic() - started
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["offset_s"] == HOUR
    now = datetime.fromisoformat(body["now"])
    assert now.tzinfo is not None and abs(now - (datetime.now(UTC) + timedelta(hours=1))) < timedelta(seconds=5)
    # At once, no waiting here: the other process tells the new time, and so does this one.
    assert worker.clock.now() - datetime.now(UTC) > timedelta(seconds=HOUR - 5)
    assert web.clock.now() - datetime.now(UTC) > timedelta(seconds=HOUR - 5)
    assert took >= worker.clock.cache_s  # the answer waited out the other processes' cache
    status = console.get("/ops/api/status").get_json()
    assert status["test_clock"] == {"enabled": True, "offset_s": HOUR}
    assert datetime.fromisoformat(status["now"]) - datetime.now(UTC) > timedelta(seconds=HOUR - 5)
    assert "test_clock_advanced operator=anna seconds=3600 offset_s=3600" in caplog.text
    (recorded,) = [a for a in all_actions(web) if a.action == "test_clock_advance"]
    assert (recorded.actor, recorded.outcome) == ("anna", "ok")
    assert "+3600 s" in recorded.detail


def all_actions(process: Process) -> list[OperatorAction]:
    with process.ctx.db.session() as session:
        return list(session.scalars(select(OperatorAction).order_by(OperatorAction.id)))


def test_advances_add_up_and_zero_only_reads(processes: list[Process], console: Console) -> None:
    assert post_advance(console, {"advance_s": 90}).get_json()["offset_s"] == 90
    assert post_advance(console, {"advance_s": 0.5}).get_json()["offset_s"] == 90.5
    assert post_advance(console, {"advance_s": 0}).get_json()["offset_s"] == 90.5
    assert stored_offset_s(processes[1]) == 90.5


def test_a_logged_in_session_survives_moving_the_clock_less_than_its_lifetime(
    processes: list[Process], console: Console
) -> None:
    ttl = processes[0].ctx.settings.console_session_ttl_s
    assert post_advance(console, {"advance_s": ttl - 60}).status_code == 200
    assert console.get("/ops/api/status").status_code == 200
    assert post_advance(console, {"advance_s": 120}).status_code == 200  # past the login's lifetime: it ends
    assert console.get("/ops/api/status").get_json() == {"error": "login required"}


def test_without_the_csrf_header_nothing_moves(processes: list[Process], console: Console) -> None:
    for token in (None, "not-a-token"):
        response = post_advance(console, {"advance_s": HOUR}, token=token)
        assert response.status_code == 400
        assert "CSRF" in response.get_json()["error"]
    other = Console(console.client.application.test_client())
    add_operator_to(processes[0].ctx, "boris")
    assert other.login("boris").status_code == 302
    assert post_advance(console, {"advance_s": HOUR}, token=csrf_token(other)).status_code == 400  # not this session's
    assert stored_offset_s(processes[0]) == 0


@pytest.mark.parametrize(
    ("body", "raw", "says"),
    [
        (None, "", "JSON object"),
        (None, "not json", "JSON object"),
        ([HOUR], None, "JSON object"),
        ({}, None, "JSON object"),
        ({"seconds": 60}, None, "JSON object"),
        ({"advance_s": "60"}, None, "number"),
        ({"advance_s": True}, None, "number"),
        ({"advance_s": None}, None, "number"),
        ({"advance_s": -1}, None, "negative"),
        ({"advance_s": -0.001}, None, "negative"),
        ({"advance_s": -(10**400)}, None, "negative"),
        (None, '{"advance_s": NaN}', "finite"),
        (None, '{"advance_s": Infinity}', "finite"),
        (None, '{"advance_s": -Infinity}', "finite"),
        (None, '{"advance_s": 1e400}', "finite"),
        ({"advance_s": MAX_ADVANCE_S + 1}, None, "at most"),
        ({"advance_s": 10**30}, None, "at most"),
    ],
)
def test_bad_amounts_are_refused_with_a_clear_message(
    processes: list[Process], console: Console, body: Any, raw: str | None, says: str
) -> None:
    response = post_advance(console, body, raw=raw)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert says in response.get_json()["error"]
    assert stored_offset_s(processes[0]) == 0


def test_the_most_a_call_may_move_is_accepted(processes: list[Process], console: Console) -> None:
    assert post_advance(console, {"advance_s": MAX_ADVANCE_S}).get_json()["offset_s"] == MAX_ADVANCE_S


def test_with_the_test_clock_off_the_endpoint_is_404(database_url: str) -> None:
    gateway = console_gateway(database_url)  # test_clock off (the default)
    try:
        add_operator(gateway, "anna")
        console = Console(create_app(context=gateway.ctx).test_client())
        assert console.login("anna").status_code == 302
        assert console.get("/ops/api/status").get_json()["test_clock"] == {"enabled": False, "offset_s": 0.0}
        response = post_advance(console, {"advance_s": HOUR})
        assert response.status_code == 404 and "test clock is off" in response.get_json()["error"]
        assert actions(gateway, "test_clock_advance") == []
    finally:
        gateway.close()


def test_on_but_given_its_own_clock_the_endpoint_is_404(database_url: str) -> None:
    gateway = console_gateway(database_url, test_clock=True)  # a FakeClock passed in, as the in-process lab does
    try:
        add_operator(gateway, "anna")
        console = Console(create_app(context=gateway.ctx).test_client())
        assert console.login("anna").status_code == 302
        assert post_advance(console, {"advance_s": HOUR}).status_code == 404
    finally:
        gateway.close()


# --- the clock itself -----------------------------------------------------------------------------------------------


def test_advances_at_once_from_many_processes_add_up(processes: list[Process]) -> None:
    def move(process: Process, who: str) -> None:
        advance(process.ctx, 10, actor=who, wait=False)

    threads = [threading.Thread(target=move, args=(processes[i % 2], f"op{i}")) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stored_offset_s(processes[0]) == 80
    time.sleep(processes[1].clock.cache_s + 0.05)
    assert processes[1].clock.offset_s() == 80


def test_reads_are_cached_for_the_cache_lifetime(processes: list[Process]) -> None:
    engine = processes[0].ctx.db.engine
    ticks = [100.0]
    clock = DatabaseTestClock(engine, cache_s=0.5, monotonic=lambda: ticks[0])
    reads: list[str] = []

    def count(*args: Any) -> None:
        if "test_clock" in str(args[2]):
            reads.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert clock.offset_s() == 0
        advance(processes[1].ctx, 60, actor="test", wait=False)
        ticks[0] += 0.4
        assert clock.offset_s() == 0  # within the cache lifetime: the cached value, no read
        assert len(reads) == 1
        ticks[0] += 0.1
        assert clock.offset_s() == 60
        assert len(reads) == 2
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_clock_never_uses_the_callers_transaction(processes: list[Process]) -> None:
    # The caller holds a write transaction on the clock's own row: the clock reads on its own connection, at once,
    # and sees only what is committed.
    ctx = processes[0].ctx
    clock = DatabaseTestClock(ctx.db.engine, cache_s=0)
    with ctx.db.session() as session, session.begin():
        session.execute(update(ClockOffset).values(offset_us=ClockOffset.offset_us + 999_000_000))
        started = time.monotonic()
        assert clock.offset_s() == 0
        assert time.monotonic() - started < 2
    assert clock.offset_s() == 999


def test_a_database_that_does_not_answer_leaves_the_last_known_offset(
    processes: list[Process], caplog: pytest.LogCaptureFixture
) -> None:
    ctx = processes[0].ctx
    advance(ctx, 120, actor="test", wait=False)
    clock = DatabaseTestClock(ctx.db.engine, cache_s=0)
    assert clock.offset_s() == 120
    with ctx.db.engine.begin() as connection:
        connection.execute(text("DROP TABLE test_clock"))
    with caplog.at_level(logging.WARNING, logger="gateway.test_clock"):
        before = datetime.now(UTC)
        now = clock.now()
    assert now - before >= timedelta(seconds=119)
    assert "test_clock_read_failed" in caplog.text


def test_a_clock_never_goes_back(processes: list[Process]) -> None:
    ctx = processes[0].ctx
    clock = DatabaseTestClock(ctx.db.engine, cache_s=0)
    clock.remember(50_000_000)  # this process wrote 50 s; a read that began before that commit says 0
    assert clock.offset_s() == 50


def test_a_lost_row_is_written_again_by_the_next_advance(processes: list[Process]) -> None:
    ctx = processes[0].ctx
    with ctx.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM test_clock"))
    assert read_offset_us(ctx.db.engine) == 0
    assert advance(ctx, 30, actor="test", wait=False).offset_s == 30
    assert advance(ctx, 30, actor="test", wait=False).offset_s == 60
