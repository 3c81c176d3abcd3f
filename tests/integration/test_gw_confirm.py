"""Confirming attempts against a real database: a state changes once however many hints arrive (also concurrently),
final states never go back, and anything doubtful becomes an operator exception instead of an Ecwid update."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from gateway.domain.states import AttemptStatus
from gateway.services.confirm import Confirmation, confirm_attempt
from gateway.services.outbox import relay
from gateway.services.poller import poll_open_attempts
from gateway.services.start_payment import StartOutcome
from tests.gateway_fakes import ECWID_TOKEN, Gateway


def started(gw: Gateway) -> tuple[str, int]:
    outcome: StartOutcome = gw.start()
    assert outcome.attempt_order_number is not None
    return outcome.attempt_order_number, gw.attempt(outcome.attempt_order_number).id


def bank_says(gw: Gateway, order_number: str, order_status: int, **kwargs: Any) -> Confirmation:
    md_order = gw.provider.set_status(order_number, order_status, **kwargs)
    return confirm_attempt(gw.ctx, gw.attempt(order_number).id, gw.provider.status_of(md_order), source="test")


def test_duplicate_confirmations_change_state_once(gw: Gateway) -> None:
    number, attempt_id = started(gw)
    status = gw.provider.status_of(gw.provider.set_status(number, 2))

    results = [confirm_attempt(gw.ctx, attempt_id, status, source="callback:deposited") for _ in range(6)]

    assert [r.changed for r in results] == [True, False, False, False, False, False]
    assert {(r.attempt_status, r.ecwid_status) for r in results} == {(AttemptStatus.PAID, "PAID")}
    assert [m.payload["paymentStatus"] for m in gw.outbox()] == ["PAID"]
    assert gw.events().count("attempt:paid") == 1
    assert relay(gw.ctx).sent == 1
    assert relay(gw.ctx).sent == 0
    assert gw.ecwid.statuses() == ["PAID"]


def test_paid_outbox_message_carries_the_bank_reference(gw: Gateway) -> None:
    number, _ = started(gw)
    bank_says(gw, number, 2)
    relay(gw.ctx)
    put = gw.ecwid.puts[0]
    assert put.body == {"paymentStatus": "PAID", "externalTransactionId": gw.provider.md_order(number)}
    assert put.url == "https://ecwid.test/api/v3/1003/orders/transaction_65306446"
    attempt = gw.attempt(number)
    assert (attempt.status, attempt.action_code, attempt.masked_pan) == ("paid", "0", "408397**0003")


def test_concurrent_duplicate_confirmations_change_state_once(gw: Gateway) -> None:
    number, attempt_id = started(gw)
    status = gw.provider.status_of(gw.provider.set_status(number, 2))
    workers = 8
    barrier = threading.Barrier(workers)

    def confirm(_: int) -> Confirmation:
        barrier.wait()
        return confirm_attempt(gw.ctx, attempt_id, status, source="callback:deposited")

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(confirm, range(workers)))

    assert sum(r.changed for r in results) == 1
    assert {r.attempt_status for r in results} == {AttemptStatus.PAID}
    assert len(gw.outbox()) == 1

    with ThreadPoolExecutor(max_workers=4) as pool:
        relayed = list(pool.map(lambda _: relay(gw.ctx), range(4)))
    assert sum(r.sent for r in relayed) == 1
    assert gw.ecwid.statuses() == ["PAID"]


def test_late_decline_after_paid_is_ignored(gw: Gateway) -> None:
    number, _ = started(gw)
    bank_says(gw, number, 2)
    relay(gw.ctx)

    late = bank_says(gw, number, 6, action_code="116")

    assert (late.changed, late.attempt_status, late.ecwid_status) == (False, AttemptStatus.PAID, "PAID")
    assert gw.attempt(number).status == "paid"
    assert gw.payment_session().ecwid_status == "PAID"
    assert len(gw.outbox()) == 1
    assert "transition_ignored" in gw.events()
    relay(gw.ctx)
    assert gw.ecwid.statuses() == ["PAID"]


def test_amount_mismatch_is_an_operator_exception_and_never_paid(gw: Gateway) -> None:
    number, _ = started(gw)

    result = bank_says(gw, number, 2, amount_minor=150000)  # 1 500 AMD paid for a 15 000 AMD order
    again = bank_says(gw, number, 2, amount_minor=150000)

    assert (result.changed, result.attempt_status) == (False, AttemptStatus.REGISTERED)
    assert not again.changed
    assert gw.attempt(number).status == "registered"
    assert [e.code for e in gw.exceptions()] == ["amount_mismatch"]  # deduplicated while open
    assert gw.outbox() == []
    relay(gw.ctx)
    assert gw.ecwid.puts == []


def test_currency_mismatch_is_an_operator_exception_and_never_paid(gw: Gateway) -> None:
    number, _ = started(gw)
    bank_says(gw, number, 2, currency_numeric="840")
    assert gw.attempt(number).status == "registered"
    assert [e.code for e in gw.exceptions()] == ["amount_mismatch"]
    assert all(m.payload["paymentStatus"] != "PAID" for m in gw.outbox())


def test_held_attempt_blocks_a_second_registration(gw: Gateway) -> None:
    first, _ = started(gw)
    bank_says(gw, first, 1)  # held (two-phase): money is reserved on the card

    again = gw.start()

    assert again.attempt_order_number == first and again.reused
    assert gw.provider.register_calls == 1
    assert [a.order_number for a in gw.attempts()] == [first]


def test_abandoned_attempt_paid_after_another_paid_is_an_operator_exception(gw: Gateway) -> None:
    first, _ = started(gw)
    gw.clock.advance(gw.settings.session_timeout_s + 1)  # the customer abandoned the bank page
    second, _ = started(gw)  # the bank still said "not paid" for the first: it was closed as expired
    assert second != first
    assert gw.attempt(first).status == "expired"
    bank_says(gw, second, 2)
    assert gw.exceptions() == []

    bank_says(gw, first, 2)  # ...and yet the abandoned one turns out paid: the customer paid twice

    assert [(a.order_number, a.status) for a in gw.attempts()] == [(first, "expired"), (second, "paid")]
    exceptions = gw.exceptions()
    assert [e.code for e in exceptions] == ["double_charge"]
    assert first in exceptions[0].detail
    assert gw.payment_session().ecwid_status == "PAID"


@pytest.mark.parametrize("order_status", [5, 7])
def test_three_d_secure_or_pending_at_the_bank_tells_ecwid_nothing_until_the_bank_decides(
    gw: Gateway, order_status: int
) -> None:
    number, _ = started(gw)
    result = bank_says(gw, number, order_status)
    waiting = AttemptStatus.AUTHENTICATING if order_status == 5 else AttemptStatus.PENDING
    assert (result.attempt_status, result.ecwid_status) == (waiting, "INCOMPLETE")  # no early signal
    assert gw.outbox() == []
    paid = bank_says(gw, number, 2)
    assert paid.ecwid_status == "PAID"
    relay(gw.ctx)
    assert gw.ecwid.statuses() == ["PAID"]


def test_decline_keeps_ecwid_incomplete_without_an_update(gw: Gateway) -> None:
    number, _ = started(gw)
    result = bank_says(gw, number, 6, action_code="116")
    assert (result.changed, result.attempt_status, result.ecwid_status) == (True, AttemptStatus.DECLINED, "INCOMPLETE")
    assert gw.outbox() == []  # Ecwid already shows INCOMPLETE: nothing to send


def test_poller_confirms_attempts_whose_return_and_callback_were_lost(gw: Gateway) -> None:
    number, _ = started(gw)
    gw.provider.set_status(number, 2)
    assert poll_open_attempts(gw.ctx).checked == 0  # too young yet
    gw.clock.advance(31)
    assert poll_open_attempts(gw.ctx).changed == 1
    assert poll_open_attempts(gw.ctx).checked == 0
    assert gw.attempt(number).status == "paid"
    relay(gw.ctx)
    assert gw.ecwid.statuses() == ["PAID"]
    assert gw.ecwid.puts[0].headers["Authorization"] == f"Bearer {ECWID_TOKEN}"


def test_payment_reported_on_an_attempt_already_closed_is_an_operator_exception(gw: Gateway) -> None:
    # Our clock closed the first attempt (the bank said "not paid" then) and the customer started a second one;
    # later the bank reports the first one paid after all. The money must not vanish into an ignored transition.
    first, _ = started(gw)
    gw.clock.advance(gw.settings.session_timeout_s + 1)
    second, _ = started(gw)
    assert gw.attempt(first).status == "expired"

    late = bank_says(gw, first, 2)
    bank_says(gw, first, 2)  # a duplicate hint does not open a second exception

    assert (late.changed, late.attempt_status) == (False, AttemptStatus.EXPIRED)
    assert gw.attempt(second).status == "registered"
    exceptions = gw.exceptions()
    assert [e.code for e in exceptions] == ["payment_on_closed_attempt"]
    assert first in exceptions[0].detail


def test_late_decline_after_paid_opens_no_exception(gw: Gateway) -> None:
    number, _ = started(gw)
    bank_says(gw, number, 2)
    bank_says(gw, number, 6, action_code="116")
    bank_says(gw, number, 1)  # a stale "held" after "deposited" is not a new payment either
    assert gw.exceptions() == []
