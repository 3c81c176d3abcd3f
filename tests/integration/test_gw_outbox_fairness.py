"""One failing store never holds the others up: a relay pass serves stores round-robin, and once a store fails
transiently (5xx, hang) its other messages wait for the next pass; a hang costs one HTTP timeout per store per pass."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from gateway.services.outbox import relay
from tests.gateway_fakes import (
    Gateway,
    StoreFaultsEcwid,
    gateway_with_ecwid,
    make_settings,
    puts_for_store,
    queue_ecwid_updates,
)

A, B, C = 1003, 2004, 3005


@pytest.fixture
def stores_gw(database_url: str) -> Iterator[Gateway]:
    gateway = gateway_with_ecwid(make_settings(database_url), StoreFaultsEcwid())
    try:
        yield gateway
    finally:
        gateway.close()


def faults(gw: Gateway) -> StoreFaultsEcwid:
    assert isinstance(gw.ecwid, StoreFaultsEcwid)
    return gw.ecwid


def test_a_store_that_answers_503_does_not_hold_up_another_store(stores_gw: Gateway) -> None:
    gw = stores_gw
    queue_ecwid_updates(gw, A, 200)  # older than B's message: a plain "oldest first" would never reach B
    [b_session] = queue_ecwid_updates(gw, B, 1)
    faults(gw).store_status[A] = 503

    result = relay(gw.ctx)

    assert (result.sent, result.retried) == (1, 1)
    assert len(puts_for_store(gw.ecwid, A)) == 1  # one try for the failing store, then it waits for the next pass
    assert [m.state for m in gw.outbox() if m.session_id == b_session] == ["sent"]
    a_messages = [m for m in gw.outbox() if m.session_id != b_session]
    assert sorted(m.tries for m in a_messages) == [0] * 199 + [1]  # the rest of A was not tried, nothing counted


def test_a_hanging_store_costs_one_timeout_per_pass_and_the_other_store_is_served(stores_gw: Gateway) -> None:
    gw = stores_gw
    queue_ecwid_updates(gw, A, 200)
    [b_session] = queue_ecwid_updates(gw, B, 1)
    faults(gw).store_hang_s[A] = 0.5  # Ecwid does not answer for A: the client times out

    started = time.monotonic()
    result = relay(gw.ctx)
    elapsed = time.monotonic() - started

    assert (result.sent, result.retried) == (1, 1)
    assert len(puts_for_store(gw.ecwid, A)) == 1
    assert elapsed < 0.5 * 2  # one timeout, not one per queued message of A
    assert [m.state for m in gw.outbox() if m.session_id == b_session] == ["sent"]
    assert "timed out" in (next(m for m in gw.outbox() if m.tries == 1).last_error or "")


def test_a_pass_takes_stores_round_robin(stores_gw: Gateway) -> None:
    gw = stores_gw
    for store in (A, B, C):
        queue_ecwid_updates(gw, store, 50)

    assert relay(gw.ctx, limit=30).sent == 30

    assert [len(puts_for_store(gw.ecwid, s)) for s in (A, B, C)] == [10, 10, 10]


def test_a_large_healthy_backlog_does_not_starve_a_newer_store(stores_gw: Gateway) -> None:
    gw = stores_gw
    queue_ecwid_updates(gw, A, 300)
    [b_session] = queue_ecwid_updates(gw, B, 1)

    assert relay(gw.ctx, limit=100).sent == 100

    assert [m.state for m in gw.outbox() if m.session_id == b_session] == ["sent"]
    assert len(puts_for_store(gw.ecwid, A)) == 99


def test_the_failing_store_is_tried_again_next_pass_and_recovers(stores_gw: Gateway) -> None:
    gw = stores_gw
    queue_ecwid_updates(gw, A, 3)
    faults(gw).store_status[A] = 500
    assert relay(gw.ctx).retried == 1
    second = relay(gw.ctx)  # the first message is in backoff; the next one of A is tried, once
    assert (second.sent, second.retried) == (0, 1)
    assert len(puts_for_store(gw.ecwid, A)) == 2
    del faults(gw).store_status[A]
    gw.clock.advance(gw.settings.ecwid_backoff_max_s)
    assert relay(gw.ctx).sent == 3
