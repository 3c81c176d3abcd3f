"""Starting a payment against a real database: one bank order per open attempt, however many times (and however
concurrently) the customer's browser POSTs; a new compact orderNumber after a failed attempt."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.domain.errors import InvalidPaymentRequest, ProviderError, ProviderUnavailable
from gateway.domain.states import AttemptStatus
from gateway.services.confirm import confirm_attempt
from gateway.services.start_payment import RegistrationFailed, StartOutcome, start_payment
from gateway.store.models import Attempt, PaymentSession
from tests.gateway_fakes import ECWID_TOKEN, PUBLIC_URL, RETURN_URL, Gateway, make_settings


def test_repeated_start_registers_once_and_returns_the_same_bank_page(gw: Gateway) -> None:
    first = gw.start()
    second = gw.start()
    third = gw.start(page_view="MOBILE")
    assert gw.provider.register_calls == 1
    assert first.redirect_url == second.redirect_url == third.redirect_url
    assert first.redirect_url.startswith(gw.provider.form_url_base)
    assert (first.reused, second.reused, third.reused) == (False, True, True)
    assert len(gw.attempts()) == 1


def test_registration_carries_minor_units_return_urls_and_callback(gw: Gateway) -> None:
    outcome = gw.start(page_view="MOBILE", lang="ru")
    registration = gw.provider.registrations[0]
    assert registration.order_number == outcome.attempt_order_number
    assert (registration.amount.minor, registration.amount.numeric_currency) == (1500000, "051")
    assert registration.return_url == f"{PUBLIC_URL}/vpos/return?attempt={registration.order_number}"
    assert registration.callback_url == f"{PUBLIC_URL}/vpos/callback"
    assert registration.page_view == "MOBILE"
    assert registration.language == "ru"
    assert registration.session_timeout_s == 1200
    assert "XJ12H" in registration.description


def test_new_attempt_after_a_decline_gets_a_new_compact_order_number_traceable_to_the_ecwid_order(gw: Gateway) -> None:
    first = gw.start()
    assert first.attempt_order_number is not None
    status = gw.provider.status_of(gw.provider.set_status(first.attempt_order_number, 6, action_code="116"))
    confirm_attempt(gw.ctx, gw.attempt(first.attempt_order_number).id, status, source="test")

    second = gw.start()

    assert gw.provider.register_calls == 2
    assert second.attempt_order_number is not None
    assert second.attempt_order_number != first.attempt_order_number
    assert second.redirect_url != first.redirect_url
    for number in (first.attempt_order_number, second.attempt_order_number):
        assert len(number) <= 32
        assert re.fullmatch(r"[0-9A-Z]+", number)
    with gw.ctx.db.session() as session:
        rows = session.execute(
            select(Attempt.order_number, Attempt.attempt_no, Attempt.status, PaymentSession.ecwid_order_id)
            .join(PaymentSession, Attempt.session_id == PaymentSession.id)
            .order_by(Attempt.attempt_no)
        ).all()
    assert [tuple(r) for r in rows] == [
        (first.attempt_order_number, 1, "declined", "XJ12H"),
        (second.attempt_order_number, 2, "registered", "XJ12H"),
    ]


def test_paid_order_is_never_sent_to_the_bank_again(gw: Gateway) -> None:
    first = gw.start()
    assert first.attempt_order_number is not None
    status = gw.provider.status_of(gw.provider.set_status(first.attempt_order_number, 2))
    confirm_attempt(gw.ctx, gw.attempt(first.attempt_order_number).id, status, source="test")
    again = gw.start()
    assert gw.provider.register_calls == 1
    assert again.redirect_url == RETURN_URL
    assert again.reused


def test_expired_open_attempt_is_checked_with_the_bank_before_a_new_one(gw: Gateway) -> None:
    first = gw.start()
    gw.clock.advance(gw.settings.session_timeout_s + 1)
    second = gw.start()
    assert gw.provider.status_calls == [gw.provider.md_order(first.attempt_order_number or "")]
    assert gw.attempt(first.attempt_order_number or "").status == AttemptStatus.EXPIRED
    assert second.attempt_order_number != first.attempt_order_number
    assert gw.provider.register_calls == 2


def test_a_stale_attempt_is_declined_at_the_bank_before_a_new_one(gw: Gateway) -> None:
    # RC-36: its page, still open in another tab, can no longer take money.
    first = gw.start()
    gw.clock.advance(gw.settings.session_timeout_s + 1)
    gw.start()
    assert gw.provider.declines == [first.attempt_order_number]
    assert gw.provider.status_of(gw.provider.md_order(first.attempt_order_number or "")).order_status == 6
    assert "bank_declined" in gw.events()


def test_a_stale_attempt_paid_just_before_the_decline_is_found_paid(gw: Gateway) -> None:
    first = gw.start()
    number = first.attempt_order_number or ""
    gw.clock.advance(gw.settings.session_timeout_s + 1)
    original = gw.provider.decline

    def paid_meanwhile(provider_order_id: str, order_number: str, currency: str) -> None:
        gw.provider.set_status(number, 2)  # the customer's other tab completed the payment a moment ago
        original(provider_order_id, order_number, currency)

    gw.provider.decline = paid_meanwhile  # type: ignore[method-assign]
    again = gw.start()
    assert gw.attempt(number).status == AttemptStatus.PAID
    assert gw.provider.register_calls == 1  # paid: no new bank order
    assert again.redirect_url == RETURN_URL
    assert "bank_decline_refused" in gw.events()


def test_expired_attempt_that_the_bank_reports_paid_is_not_registered_again(gw: Gateway) -> None:
    first = gw.start()
    gw.provider.set_status(first.attempt_order_number or "", 2)
    gw.clock.advance(gw.settings.session_timeout_s + 1)
    again = gw.start()
    assert gw.provider.register_calls == 1
    assert again.redirect_url == RETURN_URL
    assert gw.attempt(first.attempt_order_number or "").status == AttemptStatus.PAID


def test_a_different_amount_for_the_same_order_is_refused(gw: Gateway) -> None:
    gw.start()
    with pytest.raises(InvalidPaymentRequest):
        gw.start(total=15001.0)
    assert gw.provider.register_calls == 1


def test_latest_return_url_and_token_are_kept_and_the_token_is_encrypted_at_rest(gw: Gateway) -> None:
    gw.start()
    newer = RETURN_URL.replace("1751294405226", "1751294499999")
    gw.start(return_url=newer, token="secret_newer_token_000")
    stored = gw.payment_session()
    assert stored.return_url == newer
    assert ECWID_TOKEN not in stored.token_encrypted
    assert "secret_newer_token_000" not in stored.token_encrypted
    assert gw.ctx.tokens.open(stored.token_encrypted) == "secret_newer_token_000"


@pytest.mark.parametrize(
    "error",
    [ProviderError("register.do errorCode 5: wrong amount", error_code="5"), ProviderUnavailable("timed out")],
    ids=["refused", "unavailable"],
)
def test_registration_failure_closes_the_attempt_and_a_retry_succeeds(gw: Gateway, error: ProviderError) -> None:
    gw.provider.fail_next_register(error)
    with pytest.raises(RegistrationFailed) as info:
        gw.start()
    assert info.value.return_url == RETURN_URL
    failed = gw.attempts()
    assert [a.status for a in failed] == ["register_failed"]
    assert failed[0].provider_order_id is None

    retry = gw.start()

    attempts = gw.attempts()
    assert [a.status for a in attempts] == ["register_failed", "registered"]
    assert retry.attempt_order_number == attempts[1].order_number != attempts[0].order_number
    assert retry.redirect_url == attempts[1].form_url
    assert gw.provider.register_calls == 2
    assert "attempt:register_failed" in gw.events()


def test_concurrent_duplicate_starts_register_once_and_all_get_the_same_page(gw: Gateway) -> None:
    gw.provider.register_delay_s = 0.3  # the first registration is still at the bank while the others arrive
    requests = [gw.request() for _ in range(8)]
    barrier = threading.Barrier(len(requests))

    def start(index: int) -> StartOutcome:
        barrier.wait()
        return start_payment(gw.ctx, requests[index], page_view="DESKTOP")

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        outcomes = list(pool.map(start, range(len(requests))))

    assert gw.provider.register_calls == 1
    assert len({o.redirect_url for o in outcomes}) == 1
    assert outcomes[0].redirect_url.startswith(gw.provider.form_url_base)
    assert sum(not o.reused for o in outcomes) == 1
    assert len(gw.attempts()) == 1
    assert gw.row_counts()["payment_sessions"] == 1


def test_the_partial_unique_index_refuses_a_second_open_attempt(gw: Gateway) -> None:
    gw.start()
    existing = gw.attempts()[0]
    now = gw.clock.now()

    def attempt(no: int, number: str, status: AttemptStatus) -> Attempt:
        return Attempt(
            session_id=existing.session_id,
            attempt_no=no,
            order_number=number,
            status=status.value,
            amount_minor=existing.amount_minor,
            currency=existing.currency,
            language="en",
            page_view="DESKTOP",
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(minutes=20),
        )

    for status in (AttemptStatus.REGISTERING, AttemptStatus.REGISTERED, AttemptStatus.AUTHENTICATING):
        with gw.ctx.db.session() as session, pytest.raises(IntegrityError), session.begin():
            session.add(attempt(2, "VDIRECT2", status))
    # A closed attempt next to the open one is fine: the index covers open states only.
    with gw.ctx.db.session() as session, session.begin():
        session.add(attempt(2, "VDIRECT3", AttemptStatus.DECLINED))
    assert len(gw.attempts()) == 2


def test_the_same_order_number_cannot_be_used_twice(gw: Gateway) -> None:
    gw.start()
    existing = gw.attempts()[0]
    now = gw.clock.now()
    with gw.ctx.db.session() as session, pytest.raises(IntegrityError), session.begin():
        session.add(
            Attempt(
                session_id=existing.session_id,
                attempt_no=2,
                order_number=existing.order_number,
                status=AttemptStatus.DECLINED.value,
                amount_minor=1,
                currency="AMD",
                language="en",
                page_view="DESKTOP",
                created_at=now,
                updated_at=now,
                expires_at=now,
            )
        )


def test_no_dynamic_callback_url_when_switched_off(database_url: str) -> None:
    gateway = Gateway.build(make_settings(database_url, send_dynamic_callback_url=False))
    try:
        gateway.start()
        assert gateway.provider.registrations[0].callback_url is None
    finally:
        gateway.close()


# --- a register whose answer was lost is found by orderNumber, never left open (issue 6, RC-26) -------------------


def test_a_registration_whose_answer_was_lost_is_found_by_order_number_and_closed(gw: Gateway) -> None:
    gw.provider.lose_next_answer()
    with pytest.raises(RegistrationFailed) as info:
        gw.start()
    assert info.value.lang == "en"
    [lost] = gw.attempts()
    assert gw.provider.lookups_by_number == [lost.order_number]
    assert lost.status == "expired"  # adopted (its mdOrder is kept: traceable) and closed: nobody has its page
    assert lost.provider_order_id == gw.provider.md_order(lost.order_number)

    retry = gw.start()
    assert retry.attempt_order_number != lost.order_number
    assert [a.status for a in gw.attempts()] == ["expired", "registered"]


def test_an_unanswered_registration_the_bank_does_not_know_fails_cleanly(gw: Gateway) -> None:
    gw.provider.fail_next_register(ProviderUnavailable("register.do answered HTTP 503"))
    with pytest.raises(RegistrationFailed):
        gw.start()
    assert [a.status for a in gw.attempts()] == ["register_failed"]
    assert gw.start().attempt_order_number is not None


def test_an_unanswered_registration_whose_lookup_fails_too_leaves_nothing_open(gw: Gateway) -> None:
    gw.provider.lose_next_answer()
    gw.provider.status_error = ProviderUnavailable("getOrderStatusExtended.do timed out")
    with pytest.raises(RegistrationFailed):
        gw.start()
    assert [a.status for a in gw.attempts()] == ["register_failed"]
    gw.provider.status_error = None
    assert gw.start().attempt_order_number is not None
