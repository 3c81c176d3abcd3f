"""The per-token Ecwid rate limiter on a virtual clock: a sliding 60 s window, pauses after a 429, keys that are
hashes of the token (never the token)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.services.ecwid_rate_limit import TokenRateLimiter, token_key

T0 = datetime(2025, 6, 30, 12, 0, 0, tzinfo=UTC)
TOKEN = "secret_abcdefghijklmnopqrstuv1234567890"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_grants_the_limit_then_waits_until_the_oldest_call_leaves_the_window() -> None:
    limiter = TokenRateLimiter(3)
    assert [limiter.try_acquire("k", at(s)) for s in (0, 10, 20)] == [0.0, 0.0, 0.0]
    assert limiter.try_acquire("k", at(30)) == pytest.approx(30.0)  # the call at 0 s leaves at 60 s
    assert limiter.wait_s("k", at(59.5)) == pytest.approx(0.5)
    assert limiter.in_window("k", at(59.5)) == 3  # refusals are not counted
    assert limiter.try_acquire("k", at(60)) == 0.0
    assert limiter.try_acquire("k", at(60)) == pytest.approx(10.0)


def test_a_greedy_sender_never_exceeds_the_limit_in_any_sixty_seconds() -> None:
    limiter = TokenRateLimiter(600)
    granted: list[int] = []  # in 10 ms steps, so the window arithmetic below is exact
    for step in range(30_000):  # five virtual minutes, asking every 10 ms
        if limiter.try_acquire("k", at(step / 100)) == 0.0:
            granted.append(step)
    assert len(granted) == 5 * 600
    for i, start in enumerate(granted):
        within = [g for g in granted[i : i + 601] if g < start + 6000]
        assert len(within) <= 600


def test_tokens_have_separate_budgets() -> None:
    limiter = TokenRateLimiter(1)
    assert limiter.try_acquire("a", at(0)) == 0.0
    assert limiter.try_acquire("a", at(1)) > 0
    assert limiter.try_acquire("b", at(1)) == 0.0


def test_a_pause_blocks_the_token_until_it_ends_and_is_never_shortened() -> None:
    limiter = TokenRateLimiter(600)
    limiter.pause("k", at(30))
    limiter.pause("k", at(10))  # a shorter Retry-After seen later does not lift the first pause
    assert limiter.wait_s("k", at(0)) == pytest.approx(30.0)
    assert limiter.try_acquire("k", at(29)) == pytest.approx(1.0)
    assert limiter.in_window("k", at(29)) == 0
    assert limiter.try_acquire("k", at(30)) == 0.0
    assert limiter.wait_s("other", at(0)) == 0.0


def test_the_key_is_a_stable_hash_never_the_token() -> None:
    key = token_key(TOKEN)
    assert key == token_key(TOKEN)
    assert key != token_key(TOKEN + "x")
    assert TOKEN not in key and "secret_" not in key
    assert len(key) == 32


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenRateLimiter(0)
