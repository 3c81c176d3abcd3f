"""How the outbox relay paces Ecwid: jittered exponential backoff from the settings, ``Retry-After`` first, a
per-token rate limit on the injected clock (a 429 pauses the whole token), and refusals that are not retried."""

from __future__ import annotations

import random
import time
from datetime import timedelta

import pytest

from gateway.domain.errors import EcwidApiError
from gateway.services.ecwid_rate_limit import limiter_for, token_key
from gateway.services.outbox import (
    RETRY_AFTER_MAX_S,
    backoff_ceiling_s,
    backoff_s,
    relay,
    retry_delay_s,
    wait_until_delivered,
)
from tests.gateway_fakes import ECWID_TOKEN, Gateway, make_settings, puts_with_token, queue_ecwid_updates

OTHER_TOKEN = "secret_zyxwvutsrqponmlkjihgfedcba0987654321"


def build(database_url: str, **overrides: object) -> Gateway:
    return Gateway.build(make_settings(database_url, **overrides))


# --- backoff with jitter, Retry-After first ------------------------------------------------------------------------


def test_backoff_is_jittered_between_half_and_the_full_capped_step(database_url: str) -> None:
    settings = make_settings(database_url, ecwid_backoff_base_s=3.0, ecwid_backoff_max_s=100.0)
    rng = random.Random(5)
    for tries, ceiling in [(1, 3.0), (2, 6.0), (3, 12.0), (5, 48.0), (6, 96.0), (7, 100.0), (400, 100.0)]:
        assert backoff_ceiling_s(tries, settings) == ceiling
        draws = [backoff_s(tries, settings, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in draws)
        assert len(set(draws)) > 150  # really jittered: messages that failed together come back apart
    # the same seed gives the same waits: tests stay deterministic without patching
    assert [backoff_s(3, settings, random.Random(9)) for _ in range(3)] == [
        backoff_s(3, settings, random.Random(9))
    ] * 3


def test_retry_after_wins_over_the_backoff_and_is_clamped(database_url: str) -> None:
    settings = make_settings(database_url)
    rng = random.Random(1)
    assert retry_delay_s(EcwidApiError("429", status=429, retry_after=120.0), 1, settings, rng) == 120.0
    assert retry_delay_s(EcwidApiError("429", status=429, retry_after=0.0), 5, settings, rng) == 0.0
    assert retry_delay_s(EcwidApiError("429", status=429, retry_after=-3.0), 5, settings, rng) == 0.0
    assert retry_delay_s(EcwidApiError("503", status=503, retry_after=1e9), 1, settings, rng) == RETRY_AFTER_MAX_S
    assert 1.0 <= retry_delay_s(EcwidApiError("503", status=503), 1, settings, rng) <= 2.0


def test_a_server_error_waits_the_seeded_jittered_backoff(database_url: str) -> None:
    gw = build(database_url, ecwid_backoff_base_s=40.0, ecwid_backoff_max_s=1000.0)
    try:
        queue_ecwid_updates(gw, 1003, 1)
        gw.ecwid.fail_next(503)
        before = gw.clock.now()
        assert relay(gw.ctx, rng=random.Random(42)).retried == 1
        expected = backoff_s(1, gw.settings, random.Random(42))
        assert 20.0 <= expected <= 40.0
        [message] = gw.outbox()
        assert message.next_try_at.replace(tzinfo=before.tzinfo) - before == timedelta(seconds=expected)
        gw.clock.advance(expected - 0.01)
        assert relay(gw.ctx).sent == 0
        gw.clock.advance(0.01)
        assert relay(gw.ctx).sent == 1
    finally:
        gw.close()


@pytest.mark.parametrize(
    ("status", "headers", "wait_s"),
    [(429, {"Retry-After": "120"}, 120.0), (503, {"Retry-After": "30"}, 30.0), (429, {"Retry-After": "86400"}, 3600.0)],
)
def test_a_retry_after_is_honoured_instead_of_the_short_backoff(
    gw: Gateway, status: int, headers: dict[str, str], wait_s: float
) -> None:
    queue_ecwid_updates(gw, 1003, 1)
    gw.ecwid.fail_next(status, headers=headers)
    assert relay(gw.ctx).retried == 1
    gw.clock.advance(wait_s - 1)  # far past the 1..2 s backoff of a first try
    assert relay(gw.ctx).sent == 0
    assert len(gw.ecwid.puts) == 1
    gw.clock.advance(1)
    assert relay(gw.ctx).sent == 1


# --- refusals are final ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [402, 403, 409])
def test_a_refusal_is_not_retried_and_opens_an_operator_exception(gw: Gateway, status: int) -> None:
    [session_id] = queue_ecwid_updates(gw, 1003, 1)
    gw.ecwid.fail_next(status)
    result = relay(gw.ctx)
    assert (result.sent, result.retried, result.failed) == (0, 0, 1)
    assert [(m.state, m.tries) for m in gw.outbox()] == [("failed", 1)]
    assert [(e.code, e.session_id, e.resolved_at) for e in gw.exceptions()] == [
        ("ecwid_update_failed", session_id, None)
    ]
    assert str(status) in gw.exceptions()[0].detail
    gw.clock.advance(3600)
    assert relay(gw.ctx) == relay(gw.ctx).__class__()  # nothing left to do
    assert len(gw.ecwid.puts) == 1


# --- the per-token rate limit ----------------------------------------------------------------------------------


def test_a_backlog_for_one_token_stays_under_its_limit_per_virtual_minute(database_url: str) -> None:
    gw = build(database_url, ecwid_rate_limit_per_minute=50)
    try:
        queue_ecwid_updates(gw, 1003, 130)
        sent_per_minute = []
        for _ in range(4):
            sent = 0
            for _ in range(5):  # many passes within the same minute: the budget, not the passes, decides
                result = relay(gw.ctx, limit=100)
                sent += result.sent
                gw.clock.advance(1)
            sent_per_minute.append(sent)
            gw.clock.advance(55)
        assert sent_per_minute == [50, 50, 30, 0]
        assert len(gw.ecwid.puts) == 130
        assert all(m.tries == 1 for m in gw.outbox())  # waiting for budget never counted as a try
    finally:
        gw.close()


def test_messages_without_budget_wait_without_a_try_and_other_tokens_go_on(database_url: str) -> None:
    gw = build(database_url, ecwid_rate_limit_per_minute=10)
    try:
        queue_ecwid_updates(gw, 1003, 15)
        queue_ecwid_updates(gw, 2004, 5, token=OTHER_TOKEN)
        result = relay(gw.ctx, limit=100)
        assert (result.sent, result.limited) == (15, 5)  # 10 for the first token, 5 for the other; 5 wait
        assert len(puts_with_token(gw.ecwid, ECWID_TOKEN)) == 10
        waiting = [m for m in gw.outbox() if m.state == "pending"]
        assert len(waiting) == 5 and all(m.tries == 0 for m in waiting)
        assert limiter_for(gw.ctx).in_window(token_key(ECWID_TOKEN), gw.clock.now()) == 10
    finally:
        gw.close()


def test_one_token_serving_two_stores_has_one_budget(database_url: str) -> None:
    gw = build(database_url, ecwid_rate_limit_per_minute=8)
    try:
        queue_ecwid_updates(gw, 1003, 6)
        queue_ecwid_updates(gw, 2004, 6)  # the same token
        assert relay(gw.ctx).sent == 8
        gw.clock.advance(60)
        assert relay(gw.ctx).sent == 4
    finally:
        gw.close()


def test_a_429_pauses_the_whole_token_for_retry_after(database_url: str) -> None:
    gw = build(database_url)
    try:
        queue_ecwid_updates(gw, 1003, 3)
        queue_ecwid_updates(gw, 2004, 3)  # the same token in another store
        queue_ecwid_updates(gw, 3005, 2, token=OTHER_TOKEN)
        gw.ecwid.fail_next(429, headers={"Retry-After": "30"})

        first = relay(gw.ctx)
        assert (first.sent, first.retried) == (2, 1)  # only the other token's messages went out
        assert len(puts_with_token(gw.ecwid, ECWID_TOKEN)) == 1
        gw.clock.advance(29)
        paused = relay(gw.ctx)
        assert (paused.sent, paused.limited) == (0, 5)  # both stores of the token wait
        assert len(puts_with_token(gw.ecwid, ECWID_TOKEN)) == 1
        gw.clock.advance(1)
        assert relay(gw.ctx).sent == 6
        assert sorted(m.tries for m in gw.outbox()) == [1, 1, 1, 1, 1, 1, 1, 2]  # the pause cost no one a try
    finally:
        gw.close()


def test_the_customer_return_wait_stays_bounded_when_the_token_has_no_budget(database_url: str) -> None:
    gw = build(database_url, ecwid_rate_limit_per_minute=1)
    try:
        first, second = queue_ecwid_updates(gw, 1003, 2)
        assert wait_until_delivered(gw.ctx, first, 1.0) is True
        started = time.monotonic()
        assert wait_until_delivered(gw.ctx, second, 0.3) is False  # no budget: the processing page, not a hang
        assert time.monotonic() - started < 2.0
        assert [(m.state, m.tries) for m in gw.outbox()] == [("sent", 1), ("pending", 0)]
        gw.clock.advance(60)
        assert wait_until_delivered(gw.ctx, second, 1.0) is True
    finally:
        gw.close()
