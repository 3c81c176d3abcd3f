"""The customer return and the bank callback as services, against a real database: both are hints, verified and
then confirmed with the bank's status of record; Ecwid is updated before the customer is sent back."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.domain.errors import BadChecksum, UnknownPayment
from gateway.domain.states import AttemptStatus
from gateway.services.callbacks import handle_callback
from gateway.services.customer_return import handle_return
from gateway.services.messages import MESSAGES
from tests.gateway_fakes import RETURN_URL, Gateway, sign_callback, unavailable


def started(gw: Gateway, **overrides: Any) -> str:
    outcome = gw.start(**overrides)
    assert outcome.attempt_order_number is not None
    return outcome.attempt_order_number


# --- customer return ----------------------------------------------------------------------------------------------


def test_return_after_payment_updates_ecwid_first_then_sends_the_customer_to_return_url(gw: Gateway) -> None:
    number = started(gw)
    md_order = gw.provider.set_status(number, 2)

    outcome = handle_return(gw.ctx, md_order, number)

    assert outcome.redirect_url == RETURN_URL  # exactly as received
    assert outcome.ecwid_status == "PAID"
    assert gw.ecwid.statuses() == ["PAID"]
    assert [m.state for m in gw.outbox()] == ["sent"]


def test_return_after_a_decline_adds_a_localised_error_and_does_not_resend_incomplete(gw: Gateway) -> None:
    number = started(gw, lang="hy")
    md_order = gw.provider.set_status(number, 6, action_code="116")

    first = handle_return(gw.ctx, md_order, number)
    second = handle_return(gw.ctx, md_order, number)  # the customer reloads the page

    assert first.redirect_url == second.redirect_url
    assert first.redirect_url is not None
    assert first.redirect_url.startswith(RETURN_URL + "&errorMsg=")
    assert parse_qs(urlsplit(first.redirect_url).query)["errorMsg"] == [MESSAGES["hy"]["insufficient_funds"]]
    assert first.ecwid_status == "INCOMPLETE"
    assert gw.attempt(number).status == AttemptStatus.DECLINED
    assert gw.outbox() == []
    assert gw.ecwid.puts == []


def test_return_after_a_timeout_says_the_session_timed_out(gw: Gateway) -> None:
    number = started(gw, lang="ru")
    md_order = gw.provider.set_status(number, 6, action_code="-2007")
    outcome = handle_return(gw.ctx, md_order, number)
    assert gw.attempt(number).status == AttemptStatus.EXPIRED
    assert outcome.redirect_url is not None
    assert parse_qs(urlsplit(outcome.redirect_url).query)["errorMsg"] == [MESSAGES["ru"]["timeout"]]


def test_return_without_payment_says_not_completed(gw: Gateway) -> None:
    number = started(gw)
    outcome = handle_return(gw.ctx, gw.provider.md_order(number), number)
    assert gw.attempt(number).status == AttemptStatus.REGISTERED
    assert outcome.redirect_url is not None
    assert parse_qs(urlsplit(outcome.redirect_url).query)["errorMsg"] == [MESSAGES["en"]["not_completed"]]


@pytest.mark.parametrize("order_status", [5, 7], ids=["3ds-in-progress", "pending"])
def test_a_customer_back_while_the_bank_decides_waits_then_goes_to_the_store_awaiting_payment(
    gw: Gateway, order_status: int
) -> None:
    number = started(gw)
    md_order = gw.provider.set_status(number, order_status)

    first = handle_return(gw.ctx, md_order, number)
    assert (first.redirect_url, first.ecwid_status) == (None, "INCOMPLETE")  # the processing page
    gw.clock.advance(gw.settings.pending_wait_s - 1)
    assert handle_return(gw.ctx, md_order, number).redirect_url is None  # the page refreshed: still waiting
    assert gw.ecwid.puts == []  # no early signal to Ecwid

    gw.clock.advance(2)
    released = handle_return(gw.ctx, md_order, number)
    assert (released.redirect_url, released.ecwid_status) == (RETURN_URL, "AWAITING_PAYMENT")
    assert gw.ecwid.statuses() == ["AWAITING_PAYMENT"]  # delivered before the redirect
    assert handle_return(gw.ctx, md_order, number).redirect_url == RETURN_URL  # a reload: same answer, no new PUT
    assert gw.ecwid.statuses() == ["AWAITING_PAYMENT"]

    gw.provider.set_status(number, 2)  # the bank decides later; the customer is gone
    handle_callback(gw.ctx, gw.signed_callback(number, "deposited"))
    assert gw.ecwid.statuses() == ["AWAITING_PAYMENT", "PAID"]


def test_a_customer_back_while_pending_sees_the_decision_if_it_comes_while_they_wait(gw: Gateway) -> None:
    number = started(gw)
    md_order = gw.provider.set_status(number, 7)
    assert handle_return(gw.ctx, md_order, number).redirect_url is None
    gw.provider.set_status(number, 6, action_code="116")
    declined = handle_return(gw.ctx, md_order, number)
    assert declined.redirect_url is not None and "errorMsg=" in declined.redirect_url
    assert gw.ecwid.puts == []  # INCOMPLETE all along


def test_return_when_the_bank_does_not_answer_shows_the_processing_page(gw: Gateway) -> None:
    number = started(gw)
    gw.provider.status_error = unavailable()
    outcome = handle_return(gw.ctx, gw.provider.md_order(number), number)
    assert outcome.redirect_url is None
    assert gw.attempt(number).status == AttemptStatus.REGISTERED


@pytest.mark.parametrize(
    ("order_id", "hint"),
    [("00000000-0000-0000-0000-000000000000", None), (None, None), ("", "VXXXX")],
    ids=["unknown-order-id", "no-order-id", "empty-order-id"],
)
def test_return_for_an_unknown_order_raises_unknown_payment(
    gw: Gateway, order_id: str | None, hint: str | None
) -> None:
    started(gw)
    with pytest.raises(UnknownPayment):
        handle_return(gw.ctx, order_id, hint)
    assert gw.provider.status_calls == []


def test_return_whose_attempt_hint_does_not_match_the_order_is_unknown(gw: Gateway) -> None:
    number = started(gw)
    with pytest.raises(UnknownPayment):
        handle_return(gw.ctx, gw.provider.md_order(number), "VOTHERATTEMPT")


# --- bank callback ------------------------------------------------------------------------------------------------


def test_callback_with_a_bad_checksum_raises_and_changes_nothing(gw: Gateway) -> None:
    number = started(gw)
    gw.provider.set_status(number, 2)
    before = gw.row_counts()
    params = gw.signed_callback(number)
    params["amount"] = "1"  # not covered by the signature

    with pytest.raises(BadChecksum):
        handle_callback(gw.ctx, params)
    unsigned = {k: v for k, v in gw.signed_callback(number).items() if k != "checksum"}
    with pytest.raises(BadChecksum):
        handle_callback(gw.ctx, unsigned)

    assert gw.row_counts() == before
    assert gw.attempt(number).status == AttemptStatus.REGISTERED
    assert gw.provider.status_calls == []  # not even asked


def test_signed_callback_confirms_with_the_bank_and_updates_ecwid(gw: Gateway) -> None:
    number = started(gw)
    gw.provider.set_status(number, 2)

    confirmation = handle_callback(gw.ctx, gw.signed_callback(number))

    assert (confirmation.changed, confirmation.attempt_status) == (True, AttemptStatus.PAID)
    assert gw.provider.status_calls == [gw.provider.md_order(number)]
    assert gw.ecwid.statuses() == ["PAID"]


def test_replayed_callback_changes_state_once(gw: Gateway) -> None:
    number = started(gw)
    gw.provider.set_status(number, 2)
    params = gw.signed_callback(number)
    results = [handle_callback(gw.ctx, params) for _ in range(4)]
    assert [r.changed for r in results] == [True, False, False, False]
    assert gw.ecwid.statuses() == ["PAID"]
    assert len(gw.outbox()) == 1


def test_signed_callback_is_only_a_hint_when_the_bank_says_not_paid(gw: Gateway) -> None:
    number = started(gw)  # the bank still reports orderStatus 0
    confirmation = handle_callback(gw.ctx, gw.signed_callback(number, "deposited", "1"))
    assert not confirmation.changed
    assert gw.attempt(number).status == AttemptStatus.REGISTERED
    assert gw.ecwid.puts == []


def test_callback_for_an_unknown_order_raises_unknown_payment(gw: Gateway) -> None:
    number = started(gw)
    for params in (
        {"mdOrder": "11111111-2222-3333-4444-555555555555", "orderNumber": "VUNKNOWN", "operation": "deposited"},
        # a known orderNumber with someone else's mdOrder
        {"mdOrder": "11111111-2222-3333-4444-555555555555", "orderNumber": number, "operation": "deposited"},
        {"operation": "deposited", "status": "1"},
    ):
        with pytest.raises(UnknownPayment):
            handle_callback(gw.ctx, sign_callback({**params, "status": "1"}))
    assert gw.provider.status_calls == []
    assert gw.attempt(number).status == AttemptStatus.REGISTERED


def test_a_signed_payment_callback_for_an_unknown_order_is_an_operator_exception(gw: Gateway) -> None:
    unknown = {"mdOrder": "11111111-2222-3333-4444-555555555555", "orderNumber": "VUNKNOWN", "operation": "deposited"}
    other = {**unknown, "mdOrder": "66666666-2222-3333-4444-555555555555", "orderNumber": "VOTHER"}
    for params in (unknown, unknown, other):  # the same order twice: one exception; another order: its own
        with pytest.raises(UnknownPayment):
            handle_callback(gw.ctx, sign_callback({**params, "status": "1"}))
    exceptions = gw.exceptions()
    assert [e.code for e in exceptions] == ["payment_for_unknown_order"] * 2
    assert "VUNKNOWN" in exceptions[0].detail and "VOTHER" in exceptions[1].detail


def test_an_unsigned_or_failed_callback_for_an_unknown_order_opens_nothing(gw: Gateway) -> None:
    unknown = {"mdOrder": "11111111-2222-3333-4444-555555555555", "orderNumber": "VUNKNOWN", "operation": "deposited"}
    with pytest.raises(UnknownPayment):
        handle_callback(gw.ctx, sign_callback({**unknown, "status": "0"}))
    with pytest.raises(BadChecksum):
        handle_callback(gw.ctx, {**unknown, "status": "1", "checksum": "00" * 32})
    assert gw.exceptions() == []


def test_callback_found_by_order_number_alone_is_confirmed(gw: Gateway) -> None:
    number = started(gw)
    gw.provider.set_status(number, 2)
    confirmation = handle_callback(
        gw.ctx, sign_callback({"orderNumber": number, "operation": "deposited", "status": "1"})
    )
    assert confirmation.attempt_status is AttemptStatus.PAID


# --- replays cost nothing (issue 5.9) -----------------------------------------------------------------------------


def test_replays_of_a_callback_already_accounted_for_make_no_bank_call(gw: Gateway) -> None:
    number = started(gw)
    gw.provider.set_status(number, 2)
    callback = gw.signed_callback(number, "deposited")
    handle_callback(gw.ctx, callback)
    calls = len(gw.provider.status_calls)

    results = [handle_callback(gw.ctx, callback) for _ in range(200)]

    assert len(gw.provider.status_calls) == calls  # 200 replays, 0 status queries
    assert {(r.attempt_status, r.changed) for r in results} == {(AttemptStatus.PAID, False)}
    assert len(gw.ecwid.puts) == 1


@pytest.mark.parametrize(
    ("operation", "asks"),
    [("refunded", True), ("reversed", True), ("declinedByTimeout", False), ("approved", False), ("mystery", True)],
)
def test_a_callback_that_could_change_a_paid_attempt_still_asks_the_bank(
    gw: Gateway, operation: str, asks: bool
) -> None:
    number = started(gw)
    gw.provider.set_status(number, 2)
    handle_callback(gw.ctx, gw.signed_callback(number, "deposited"))
    calls = len(gw.provider.status_calls)
    handle_callback(gw.ctx, gw.signed_callback(number, operation))
    assert len(gw.provider.status_calls) == calls + asks


def test_a_deposited_callback_for_a_declined_attempt_still_asks_the_bank(gw: Gateway) -> None:
    # Money on an attempt we closed must be found, so this is never skipped as "already known".
    number = started(gw)
    gw.provider.set_status(number, 6, action_code="116")
    handle_callback(gw.ctx, gw.signed_callback(number, "declinedByTimeout", status="0"))
    gw.provider.set_status(number, 2)
    handle_callback(gw.ctx, gw.signed_callback(number, "deposited"))
    assert [e.code for e in gw.exceptions()] == ["payment_on_closed_attempt"]


# --- refunds reported by the bank are full or partial by amount (issue 5.11) --------------------------------------


def test_a_partial_refund_in_the_bank_portal_makes_ecwid_partially_refunded_then_refunded(gw: Gateway) -> None:
    number = started(gw)
    gw.provider.set_status(number, 2)
    handle_callback(gw.ctx, gw.signed_callback(number, "deposited"))
    amount = gw.attempt(number).amount_minor

    gw.provider.set_status(number, 4, deposited_minor=amount, refunded_minor=amount // 3)
    partial = handle_callback(gw.ctx, gw.signed_callback(number, "refunded"))
    assert (partial.attempt_status, partial.ecwid_status) == (AttemptStatus.PARTIALLY_REFUNDED, "PARTIALLY_REFUNDED")
    assert gw.attempt(number).refunded_minor == amount // 3

    gw.provider.set_status(number, 4, deposited_minor=amount, refunded_minor=amount // 2)
    second = handle_callback(gw.ctx, gw.signed_callback(number, "refunded"))
    assert (second.attempt_status, second.changed) == (AttemptStatus.PARTIALLY_REFUNDED, True)
    assert gw.attempt(number).refunded_minor == amount // 2

    gw.provider.set_status(number, 4, deposited_minor=amount, refunded_minor=amount)
    full = handle_callback(gw.ctx, gw.signed_callback(number, "refunded"))
    assert (full.attempt_status, full.ecwid_status) == (AttemptStatus.REFUNDED, "REFUNDED")
    assert gw.ecwid.statuses() == ["PAID", "PARTIALLY_REFUNDED", "REFUNDED"]


def test_orderstatus_4_without_amounts_is_an_operator_exception_not_a_guess(gw: Gateway) -> None:
    number = started(gw)
    gw.provider.set_status(number, 2)
    handle_callback(gw.ctx, gw.signed_callback(number, "deposited"))
    gw.provider.set_status(number, 4)  # a response version without paymentAmountInfo or refunds[]
    result = handle_callback(gw.ctx, gw.signed_callback(number, "refunded"))
    assert (result.attempt_status, result.ecwid_status) == (AttemptStatus.PAID, "PAID")
    assert [e.code for e in gw.exceptions()] == ["refund_amount_unknown"]
