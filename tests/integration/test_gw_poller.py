"""The poller (issue 5.2, 5.12, 5.13): a due time per attempt that moves on every check, recovery of attempts
stuck in ``registering``, expiry after the bank session, and failures that stay with their own attempt."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from gateway.domain.errors import ProviderUnavailable
from gateway.services.poller import ERRORS_BEFORE_EXCEPTION, poll_open_attempts
from gateway.services.start_payment import RegistrationFailed, start_payment
from gateway.store.models import Attempt
from gateway.worker import run_pass
from tests.gateway_fakes import Gateway, make_settings


def open_attempts(gw: Gateway, count: int, prefix: str = "") -> list[str]:
    numbers = []
    for i in range(count):
        outcome = gw.start(reference=f"transaction_{prefix}{i}", order_id=f"ORD{prefix}{i}")
        assert outcome.attempt_order_number is not None
        numbers.append(outcome.attempt_order_number)
    return numbers


def test_a_backlog_of_open_attempts_does_not_starve_a_newer_paid_one(gw: Gateway) -> None:
    old = open_attempts(gw, 120)  # abandoned bank pages, never paid
    gw.clock.advance(600)
    newest = open_attempts(gw, 1, prefix="new")[0]
    gw.provider.set_status(newest, 2)  # paid, but its callback and return were lost
    gw.clock.advance(gw.settings.poll_after_s + 1)

    passes = 0
    while gw.attempt(newest).status != "paid":
        passes += 1
        assert passes <= 4, "the paid attempt was never polled"
        poll_open_attempts(gw.ctx, limit=50)
        gw.clock.advance(1)
    assert passes <= 3  # ceil(121 / 50): every open attempt is checked within a bounded number of passes
    assert set(gw.provider.status_calls) >= {gw.provider.md_order(n) for n in old[:100]}


def test_each_attempt_is_checked_again_only_after_its_backoff(gw: Gateway) -> None:
    number = open_attempts(gw, 1)[0]
    md_order = gw.provider.md_order(number)
    checks: list[float] = []
    elapsed = 0.0
    while elapsed < 1000:
        if poll_open_attempts(gw.ctx).checked:
            checks.append(elapsed)
        gw.clock.advance(5)
        elapsed += 5
    gaps = [b - a for a, b in itertools.pairwise(checks)]
    assert checks[0] == pytest.approx(gw.settings.poll_after_s, abs=5)
    assert gaps == sorted(gaps)  # backoff grows...
    assert max(gaps) <= gw.settings.poll_max_interval_s + 5  # ...up to the cap
    assert gw.provider.status_calls.count(md_order) == len(checks)


def test_two_pollers_never_check_one_attempt_twice_in_a_pass(gw: Gateway) -> None:
    open_attempts(gw, 10)
    gw.clock.advance(gw.settings.poll_after_s + 1)
    first = poll_open_attempts(gw.ctx)
    second = poll_open_attempts(gw.ctx)  # same moment: nothing is due any more
    assert (first.checked, second.checked) == (10, 0)
    assert len(gw.provider.status_calls) == 10


def test_an_unpaid_attempt_expires_after_the_bank_session_and_is_no_longer_polled(gw: Gateway) -> None:
    number = open_attempts(gw, 1)[0]
    gw.clock.advance(gw.settings.session_timeout_s + 120)
    poll_open_attempts(gw.ctx)
    assert gw.attempt(number).status == "expired"
    calls = len(gw.provider.status_calls)
    gw.clock.advance(3600)
    poll_open_attempts(gw.ctx)
    assert len(gw.provider.status_calls) == calls


# --- a registration that died half-way (issue 5.12) ---------------------------------------------------------------


def crash_during_registration(gw: Gateway, *, bank_registered: bool) -> str:
    """The process dies after inserting the attempt as ``registering``: before the bank answered, or after."""

    class Crash(BaseException):
        pass

    real_register = gw.provider.register

    def dying_register(registration):  # type: ignore[no-untyped-def]
        if bank_registered:
            real_register(registration)
        raise Crash

    gw.provider.register = dying_register  # type: ignore[method-assign]
    with pytest.raises(Crash):
        gw.start()
    gw.provider.register = real_register  # type: ignore[method-assign]
    [attempt] = gw.attempts()
    assert attempt.status == "registering"
    return attempt.order_number


@pytest.mark.parametrize("bank_registered", [False, True], ids=["bank-never-saw-it", "bank-registered-it"])
def test_a_customer_retry_recovers_a_stale_registering_attempt(gw: Gateway, bank_registered: bool) -> None:
    stuck = crash_during_registration(gw, bank_registered=bank_registered)
    gw.clock.advance(gw.settings.registering_stale_s + 1)

    retry = gw.start()

    assert gw.provider.lookups_by_number == [stuck]  # asked by orderNumber, not guessed
    statuses = {a.order_number: a.status for a in gw.attempts()}
    assert statuses[stuck] == ("expired" if bank_registered else "register_failed")
    assert retry.attempt_order_number != stuck
    assert statuses[retry.attempt_order_number or ""] == "registered"
    if bank_registered:
        assert gw.attempt(stuck).provider_order_id == gw.provider.md_order(stuck)  # adopted: traceable


def test_a_fresh_registering_attempt_is_not_recovered_while_its_request_may_still_be_waiting(gw: Gateway) -> None:
    crash_during_registration(gw, bank_registered=False)
    gw.clock.advance(gw.settings.registering_stale_s - 5)
    poll_open_attempts(gw.ctx)
    assert gw.provider.lookups_by_number == []
    assert gw.attempts()[0].status == "registering"


def test_the_poller_recovers_a_stale_registering_attempt_without_the_customer(gw: Gateway) -> None:
    stuck = crash_during_registration(gw, bank_registered=True)
    gw.provider.set_status(stuck, 2)  # and, somehow, it was paid: it must end PAID, not vanish
    gw.clock.advance(gw.settings.registering_stale_s + 1)

    poll_open_attempts(gw.ctx)

    assert gw.attempt(stuck).status == "paid"
    assert gw.payment_session().ecwid_status == "PAID"


def test_recovery_keeps_the_attempt_when_the_bank_cannot_answer(gw: Gateway) -> None:
    stuck = crash_during_registration(gw, bank_registered=False)
    gw.clock.advance(gw.settings.registering_stale_s + 1)
    gw.provider.status_error = ProviderUnavailable("timed out")
    with pytest.raises(RegistrationFailed):
        gw.start()
    assert gw.attempt(stuck).status == "registering"  # nothing guessed
    gw.provider.status_error = None
    assert gw.start().attempt_order_number != stuck


def test_a_registration_settled_elsewhere_while_the_bank_answered_does_not_hand_out_its_page(gw: Gateway) -> None:
    # A slow register.do outlives the stale limit; a retry recovers the attempt meanwhile. The slow request must
    # not then send its customer to a page of an attempt that is already closed.
    gw.provider.register_delay_s = 0.0
    real_register = gw.provider.register

    def slow_register(registration):  # type: ignore[no-untyped-def]
        gw.clock.advance(gw.settings.registering_stale_s + 1)
        poll_open_attempts(gw.ctx)  # the poller settles it: the bank does not know it yet
        return real_register(registration)

    gw.provider.register = slow_register  # type: ignore[method-assign]
    with pytest.raises(RegistrationFailed):
        start_payment(gw.ctx, gw.request(), page_view="DESKTOP")
    assert [a.status for a in gw.attempts()] == ["register_failed"]


# --- failures stay with their own attempt (issue 5.13) ------------------------------------------------------------


@pytest.fixture
def two_currency_gw(database_url: str) -> Iterator[Gateway]:
    gateway = Gateway.build(make_settings(database_url))
    try:
        yield gateway
    finally:
        gateway.close()


def test_one_attempt_whose_currency_lost_its_credentials_does_not_stop_the_worker(two_currency_gw: Gateway) -> None:
    gw = two_currency_gw
    usd = gw.start(currency="USD", reference="transaction_usd", order_id="USD1").attempt_order_number
    amd = gw.start(reference="transaction_amd", order_id="AMD1").attempt_order_number
    assert usd and amd
    gw.provider.set_status(amd, 2)
    # The operator removes USD from the bank credentials; the real adapter would now raise ConfigurationError.
    from gateway.domain.errors import ConfigurationError

    real_get_status = gw.provider.get_status

    def get_status(provider_order_id: str, currency: str, language: str = "en"):  # type: ignore[no-untyped-def]
        if currency == "USD":
            raise ConfigurationError("no provider credentials for USD")
        return real_get_status(provider_order_id, currency, language)

    gw.provider.get_status = get_status  # type: ignore[method-assign]
    gw.clock.advance(gw.settings.poll_after_s + 1)

    result = run_pass(gw.ctx)

    assert result.poll is not None and (result.poll.failed, result.poll.changed) == (1, 1)
    assert gw.attempt(amd).status == "paid"
    assert gw.ecwid.statuses() == ["PAID"]  # Ecwid updates go on for everyone else
    assert gw.exceptions() == []  # not yet: one failure may be passing
    for _ in range(ERRORS_BEFORE_EXCEPTION):
        gw.clock.advance(gw.settings.poll_max_interval_s + 1)
        run_pass(gw.ctx)
    assert [e.code for e in gw.exceptions()] == ["poll_failing"]
    assert gw.attempt(usd).status == "registered"
    with gw.ctx.db.session() as session:
        assert session.get(Attempt, gw.attempt(usd).id).poll_errors >= ERRORS_BEFORE_EXCEPTION  # type: ignore[union-attr]
