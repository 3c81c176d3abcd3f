"""Money after the payment against the simulator's bank (real RBS adapter over WSGI, real database): refunds,
reverse, two-phase capture, refunds retried after a lost answer, a refund the bank takes and then fails, and two
refunds racing for the last amount (RC-19, RC-20, RC-21, RC-29, RC-31). Every refusal is tested, and each test
asserts on the bank's own amounts, not only on what the gateway believes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import flask
import httpx
import pytest
from sqlalchemy import select

from gateway.domain.errors import OperationRefused
from gateway.domain.states import AttemptStatus, RefundStatus
from gateway.provider.rbs import RbsProvider
from gateway.services.confirm import confirm_attempt
from gateway.services.refunds import refund_payment, resume_refunds
from gateway.services.reversal import capture_payment, reverse_payment
from gateway.store.models import OperatorAction, Refund
from gateway.worker import run_pass
from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app
from tests.gateway_fakes import STORE_ID, Gateway, make_settings
from tests.sim_bank_fakes import Merchant

SIM = "http://sim.test"
CARD = {"pan": "4242424242424242", "expiry": "12/39", "cvc": "123"}
S = AttemptStatus


@dataclass
class Lab:
    gw: Gateway
    sim: flask.Flask

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = getattr(self.sim.test_client(), method)(path, **kwargs)
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        return response.get_json()

    def paid_attempt(self) -> int:
        """One customer payment, paid at the bank and confirmed by the gateway; returns the attempt id."""
        started = self.gw.start()
        attempt = self.gw.attempt(started.attempt_order_number or "")
        assert attempt.provider_order_id
        self.control("post", f"/_control/vpos/orders/{attempt.provider_order_id}/pay", json=CARD)
        status = self.gw.ctx.provider.get_status(attempt.provider_order_id, attempt.currency)
        confirm_attempt(self.gw.ctx, attempt.id, status, source="test")
        return attempt.id

    def bank(self, attempt_id: int) -> dict[str, Any]:
        md = self.attempt(attempt_id).provider_order_id
        order: dict[str, Any] = self.control("get", f"/_control/vpos/orders/{md}")
        return order

    def attempt(self, attempt_id: int) -> Any:
        with self.gw.ctx.db.session() as session:
            return session.get(type(self.gw.attempts()[0]), attempt_id)

    def refunds(self) -> list[Refund]:
        with self.gw.ctx.db.session() as session:
            return list(session.scalars(select(Refund).order_by(Refund.id)))

    def actions(self) -> list[tuple[str, str, str]]:
        with self.gw.ctx.db.session() as session:
            rows = session.execute(
                select(OperatorAction.actor, OperatorAction.action, OperatorAction.outcome).order_by(OperatorAction.id)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]

    def ecwid_statuses(self) -> list[str]:
        return [str(message.payload["paymentStatus"]) for message in self.gw.outbox()]


def _lab(database_url: str, **overrides: Any) -> Iterator[Lab]:
    sim = create_app(
        SimulatorConfig(
            public_url=SIM,
            payment_url="http://gateway.test/ecwid/payment",
            stores=(EcwidStore(1003, "abcdefghijklmnop-secret", "secret_token_1003"),),
            merchants=(
                VposMerchant("lab_amd_api", "bank-password-amd", "051"),
                VposMerchant("lab_usd_api", "bank-password-usd", "840"),
            ),
            callback_url="http://merchant.test/callback",
        ),
        http_transport=httpx.WSGITransport(app=Merchant()),
    )
    gw = Gateway.build(make_settings(database_url, provider_base_url=f"{SIM}/payment/rest/", **overrides))
    bank_http = httpx.Client(transport=httpx.WSGITransport(app=sim))
    gw.ctx.provider = RbsProvider(bank_http, f"{SIM}/payment/rest/", gw.settings.provider_credentials)
    try:
        yield Lab(gw, sim)
    finally:
        bank_http.close()
        gw.close()


@pytest.fixture
def lab(database_url: str) -> Iterator[Lab]:
    yield from _lab(database_url)


@pytest.fixture
def held_lab(database_url: str) -> Iterator[Lab]:
    yield from _lab(database_url, two_phase_stores=[STORE_ID])


# --- refunds ------------------------------------------------------------------------------------------------------


def test_a_full_refund_is_made_at_the_bank_and_ecwid_becomes_refunded(lab: Lab) -> None:
    attempt_id = lab.paid_attempt()
    outcome = refund_payment(lab.gw.ctx, attempt_id, 1500000, actor="ana")
    assert (outcome.status, outcome.attempt_status, outcome.ecwid_status) == (
        RefundStatus.COMPLETED,
        S.REFUNDED,
        "REFUNDED",
    )
    bank = lab.bank(attempt_id)
    assert bank["paymentAmountInfo"]["refundedAmount"] == 1500000
    (refund,) = lab.refunds()
    assert [r["externalRefundId"] for r in bank["refunds"]] == [refund.external_refund_id]
    assert refund.bank_refund_id and refund.requested_by == "ana"
    assert lab.ecwid_statuses()[-1] == "REFUNDED"
    assert ("ana", "refund", "ok") in lab.actions()


def test_partial_refunds_then_the_rest_and_an_over_refund_is_refused(lab: Lab) -> None:
    attempt_id = lab.paid_attempt()
    first = refund_payment(lab.gw.ctx, attempt_id, 500000, actor="ana")
    assert (first.attempt_status, first.ecwid_status) == (S.PARTIALLY_REFUNDED, "PARTIALLY_REFUNDED")
    with pytest.raises(OperationRefused) as refused:
        refund_payment(lab.gw.ctx, attempt_id, 1000001, actor="ana")
    assert refused.value.reason == "over_refund"
    assert "1000000 left" in refused.value.detail
    second = refund_payment(lab.gw.ctx, attempt_id, 1000000, actor="ana")
    assert (second.attempt_status, second.ecwid_status) == (S.REFUNDED, "REFUNDED")
    assert lab.bank(attempt_id)["paymentAmountInfo"]["refundedAmount"] == 1500000
    assert lab.ecwid_statuses()[-2:] == ["PARTIALLY_REFUNDED", "REFUNDED"]
    with pytest.raises(OperationRefused) as again:
        refund_payment(lab.gw.ctx, attempt_id, 1, actor="ana")
    assert again.value.reason == "over_refund"
    assert ("ana", "refund", "refused") in lab.actions()


@pytest.mark.parametrize("amount", [0, -5])
def test_a_refund_of_nothing_is_refused_before_the_bank(lab: Lab, amount: int) -> None:
    attempt_id = lab.paid_attempt()
    with pytest.raises(OperationRefused) as refused:
        refund_payment(lab.gw.ctx, attempt_id, amount, actor="ana")
    assert refused.value.reason == "amount_not_positive"
    assert lab.bank(attempt_id)["paymentAmountInfo"]["refundedAmount"] == 0
    assert lab.refunds() == []


def test_a_refund_of_an_unpaid_order_is_refused(lab: Lab) -> None:
    started = lab.gw.start()
    attempt = lab.gw.attempt(started.attempt_order_number or "")
    with pytest.raises(OperationRefused) as refused:
        refund_payment(lab.gw.ctx, attempt.id, 100, actor="ana")
    assert refused.value.reason == "not_paid"
    assert lab.refunds() == []


def test_a_refund_whose_answer_was_lost_is_resent_with_the_same_id_and_refunds_once(lab: Lab) -> None:
    attempt_id = lab.paid_attempt()
    lab.control(
        "post",
        "/_control/vpos/faults",
        json={"method": "refund.do", "fault": "http_503", "afterApply": True, "times": 1},
    )
    outcome = refund_payment(lab.gw.ctx, attempt_id, 1500000, actor="ana")
    assert outcome.status is RefundStatus.UNKNOWN
    assert outcome.ecwid_status == "PAID"  # nothing proven yet
    assert lab.bank(attempt_id)["paymentAmountInfo"]["refundedAmount"] == 1500000  # the bank did refund
    assert run_pass(lab.gw.ctx).refunds == 1  # the worker resends it
    (refund,) = lab.refunds()
    assert refund.status == RefundStatus.COMPLETED
    bank = lab.bank(attempt_id)
    assert bank["paymentAmountInfo"]["refundedAmount"] == 1500000  # once, not twice
    assert len(bank["refunds"]) == 1
    assert lab.attempt(attempt_id).status == S.REFUNDED


def test_a_refund_the_bank_takes_and_then_fails_never_makes_ecwid_refunded(lab: Lab) -> None:
    attempt_id = lab.paid_attempt()
    lab.control("put", "/_control/vpos/bank", json={"failNextRefund": True})
    outcome = refund_payment(lab.gw.ctx, attempt_id, 1500000, actor="ana")
    assert (outcome.status, outcome.attempt_status, outcome.ecwid_status) == (RefundStatus.FAILED, S.PAID, "PAID")
    assert "REFUNDED" not in lab.ecwid_statuses()
    assert [e.code for e in lab.gw.exceptions()] == ["refund_failed"]
    # The money is still there to refund: a new refund goes through.
    again = refund_payment(lab.gw.ctx, attempt_id, 1500000, actor="ana")
    assert (again.status, again.ecwid_status) == (RefundStatus.COMPLETED, "REFUNDED")


def test_a_refund_the_bank_refuses_is_recorded_and_explained(lab: Lab) -> None:
    # errorCode 7 is ambiguous for refund.do (system error or a refusal): the bank's refunds[] says none was made.
    attempt_id = lab.paid_attempt()
    lab.control("post", "/_control/vpos/faults", json={"method": "refund.do", "fault": "error_7", "times": 1})
    with pytest.raises(OperationRefused) as refused:
        refund_payment(lab.gw.ctx, attempt_id, 100, actor="ana")
    assert refused.value.reason == "bank_refused"
    (refund,) = lab.refunds()
    assert (refund.status, refund.error_code) == (RefundStatus.REFUSED, "7")
    assert ("ana", "refund", "refused") in lab.actions()
    # Nothing is in flight any more: the operator can refund again.
    assert refund_payment(lab.gw.ctx, attempt_id, 100, actor="ana").status is RefundStatus.COMPLETED


def test_a_refund_whose_answer_was_a_system_error_after_the_bank_made_it_is_completed(lab: Lab) -> None:
    attempt_id = lab.paid_attempt()
    lab.control(
        "post",
        "/_control/vpos/faults",
        json={"method": "refund.do", "fault": "error_7", "afterApply": True, "times": 1},
    )
    outcome = refund_payment(lab.gw.ctx, attempt_id, 1500000, actor="ana")
    assert (outcome.status, outcome.ecwid_status) == (RefundStatus.COMPLETED, "REFUNDED")
    assert len(lab.bank(attempt_id)["refunds"]) == 1


def test_two_refunds_racing_for_the_last_amount_refund_it_once(lab: Lab) -> None:
    attempt_id = lab.paid_attempt()
    results: list[object] = []
    barrier = threading.Barrier(2)

    def refund() -> None:
        barrier.wait()
        try:
            results.append(refund_payment(lab.gw.ctx, attempt_id, 1500000, actor=threading.current_thread().name))
        except OperationRefused as exc:
            results.append(exc.reason)

    threads = [threading.Thread(target=refund, name=f"op{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refusals = [r for r in results if isinstance(r, str)]
    assert len(refusals) == 1 and refusals[0] in ("operation_in_progress", "over_refund")
    bank = lab.bank(attempt_id)
    assert bank["paymentAmountInfo"]["refundedAmount"] == 1500000
    assert len(bank["refunds"]) == 1


# --- reverse ------------------------------------------------------------------------------------------------------


def test_a_same_day_reverse_cancels_the_payment_and_a_second_is_refused(lab: Lab) -> None:
    attempt_id = lab.paid_attempt()
    outcome = reverse_payment(lab.gw.ctx, attempt_id, actor="ana")
    assert (outcome.attempt_status, outcome.ecwid_status) == (S.REVERSED, "CANCELLED")
    assert lab.bank(attempt_id)["orderStatus"] == 3
    with pytest.raises(OperationRefused) as refused:
        reverse_payment(lab.gw.ctx, attempt_id, actor="ana")
    assert refused.value.reason == "already_reversed"
    with pytest.raises(OperationRefused) as no_refund:
        refund_payment(lab.gw.ctx, attempt_id, 100, actor="ana")
    assert no_refund.value.reason == "already_reversed"


def test_a_reverse_after_the_window_is_refused_before_the_bank(lab: Lab) -> None:
    attempt_id = lab.paid_attempt()
    lab.gw.clock.advance(lab.gw.settings.reverse_window_s + 1)
    with pytest.raises(OperationRefused) as refused:
        reverse_payment(lab.gw.ctx, attempt_id, actor="ana")
    assert refused.value.reason == "not_reversible"
    assert lab.bank(attempt_id)["orderStatus"] == 2


def test_a_reverse_after_a_refund_is_refused(lab: Lab) -> None:
    attempt_id = lab.paid_attempt()
    refund_payment(lab.gw.ctx, attempt_id, 100, actor="ana")
    with pytest.raises(OperationRefused) as refused:
        reverse_payment(lab.gw.ctx, attempt_id, actor="ana")
    assert refused.value.reason == "not_reversible"


def test_a_reverse_of_an_unpaid_order_is_refused(lab: Lab) -> None:
    started = lab.gw.start()
    with pytest.raises(OperationRefused) as refused:
        reverse_payment(lab.gw.ctx, lab.gw.attempt(started.attempt_order_number or "").id, actor="ana")
    assert refused.value.reason == "not_paid"


def test_a_reverse_the_bank_refuses_cannot_be_repeated(lab: Lab) -> None:
    attempt_id = lab.paid_attempt()
    lab.control("post", "/_control/vpos/faults", json={"method": "reverse.do", "fault": "error_7", "times": 1})
    with pytest.raises(OperationRefused) as refused:
        reverse_payment(lab.gw.ctx, attempt_id, actor="ana")
    assert refused.value.reason in ("bank_unavailable", "bank_refused")
    with pytest.raises(OperationRefused) as again:
        reverse_payment(lab.gw.ctx, attempt_id, actor="ana")
    assert again.value.reason == "already_reversed"
    assert lab.attempt(attempt_id).status == S.PAID


# --- two-phase ----------------------------------------------------------------------------------------------------


def test_two_phase_holds_then_captures_the_whole_amount(held_lab: Lab) -> None:
    attempt_id = held_lab.paid_attempt()
    assert held_lab.attempt(attempt_id).status == S.AUTHORIZED
    assert held_lab.ecwid_statuses()[-1] == "AWAITING_PAYMENT"
    assert held_lab.bank(attempt_id)["orderStatus"] == 1
    outcome = capture_payment(held_lab.gw.ctx, attempt_id, None, actor="ana")
    assert (outcome.attempt_status, outcome.ecwid_status) == (S.PAID, "PAID")
    assert held_lab.bank(attempt_id)["paymentAmountInfo"]["depositedAmount"] == 1500000


def test_two_phase_partial_capture_is_paid_for_the_captured_amount(held_lab: Lab) -> None:
    attempt_id = held_lab.paid_attempt()
    outcome = capture_payment(held_lab.gw.ctx, attempt_id, 1000000, actor="ana")
    assert outcome.attempt_status is S.PAID
    assert held_lab.attempt(attempt_id).deposited_minor == 1000000
    with pytest.raises(OperationRefused) as refused:
        refund_payment(held_lab.gw.ctx, attempt_id, 1000001, actor="ana")
    assert refused.value.reason == "over_refund"


@pytest.mark.parametrize(("amount", "reason"), [(0, "amount_not_positive"), (1500001, "over_capture")])
def test_a_capture_of_nothing_or_more_than_held_is_refused(held_lab: Lab, amount: int, reason: str) -> None:
    attempt_id = held_lab.paid_attempt()
    with pytest.raises(OperationRefused) as refused:
        capture_payment(held_lab.gw.ctx, attempt_id, amount, actor="ana")
    assert refused.value.reason == reason
    assert held_lab.bank(attempt_id)["orderStatus"] == 1


def test_a_capture_of_a_one_phase_payment_is_refused(lab: Lab) -> None:
    attempt_id = lab.paid_attempt()
    with pytest.raises(OperationRefused) as refused:
        capture_payment(lab.gw.ctx, attempt_id, None, actor="ana")
    assert refused.value.reason == "not_held"


def test_a_held_payment_reversed_is_cancelled_in_ecwid(held_lab: Lab) -> None:
    attempt_id = held_lab.paid_attempt()
    outcome = reverse_payment(held_lab.gw.ctx, attempt_id, actor="ana")
    assert (outcome.attempt_status, outcome.ecwid_status) == (S.CANCELLED, "CANCELLED")
    with pytest.raises(OperationRefused) as refused:
        capture_payment(held_lab.gw.ctx, attempt_id, None, actor="ana")
    assert refused.value.reason == "not_held"


# --- stale attempts -----------------------------------------------------------------------------------------------


def test_a_stale_attempt_is_declined_at_the_bank_so_its_page_cannot_take_money(lab: Lab) -> None:
    first = lab.gw.start()
    old = lab.gw.attempt(first.attempt_order_number or "")
    lab.gw.clock.advance(lab.gw.settings.session_timeout_s + 1)
    second = lab.gw.start()
    assert second.attempt_order_number != first.attempt_order_number
    assert lab.bank(old.id)["orderStatus"] == 6
    response = lab.sim.test_client().post(f"/_control/vpos/orders/{old.provider_order_id}/pay", json=CARD)
    assert response.status_code != 200 or response.get_json()["order"]["orderStatus"] != 2


def test_a_refund_lost_before_its_call_is_sent_by_the_worker_after_a_while(lab: Lab) -> None:
    # The process died between writing the refund and calling the bank: the row waits, then the worker sends it.
    attempt_id = lab.paid_attempt()
    lab.control("post", "/_control/vpos/faults", json={"method": "refund.do", "fault": "http_503", "times": 1})
    assert refund_payment(lab.gw.ctx, attempt_id, 700000, actor="ana").status is RefundStatus.UNKNOWN
    assert lab.bank(attempt_id)["paymentAmountInfo"]["refundedAmount"] == 0  # never reached the bank
    assert resume_refunds(lab.gw.ctx) == 1
    assert lab.bank(attempt_id)["paymentAmountInfo"]["refundedAmount"] == 700000
    assert lab.attempt(attempt_id).status == S.PARTIALLY_REFUNDED
    assert resume_refunds(lab.gw.ctx) == 0  # nothing left on its way


def test_two_workers_resuming_the_same_refund_resend_it_once(lab: Lab) -> None:
    attempt_id = lab.paid_attempt()
    lab.control("post", "/_control/vpos/faults", json={"method": "refund.do", "fault": "http_503", "times": 1})
    assert refund_payment(lab.gw.ctx, attempt_id, 700000, actor="ana").status is RefundStatus.UNKNOWN
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        resume_refunds(lab.gw.ctx)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal = lab.control("get", "/_control/journal", query_string={"service": "vpos"})["entries"]
    assert [entry["operation"] for entry in journal].count("refund.do") == 2  # the lost one, and one resend
    (refund,) = lab.refunds()
    assert refund.status == RefundStatus.COMPLETED
    assert lab.bank(attempt_id)["paymentAmountInfo"]["refundedAmount"] == 700000
