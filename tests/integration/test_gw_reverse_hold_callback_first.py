"""An operator reverses a held (two-phase) payment, and the bank's ``reversed`` callback reaches the gateway before
reverse.do answers (the simulator's default, and what a fast bank does): the hold ends cancelled, Ecwid CANCELLED,
and no operator exception is opened for a reversal the gateway asked for itself. Found by the lifecycle state
machine (``bench/lifecycle.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.states import AttemptStatus
from gateway.services.callbacks import handle_callback
from gateway.services.confirm import confirm_attempt
from gateway.services.reversal import reverse_payment
from tests.gateway_fakes import STORE_ID, FakeProvider, Gateway, make_settings


@dataclass
class CallbackFirstBank(FakeProvider):
    """reverse.do that reverses the order and sends its signed ``reversed`` callback before answering."""

    gateway: Gateway | None = None

    def reverse(self, provider_order_id: str, currency: str) -> None:
        assert self.gateway is not None
        number = next(r.order_number for r in self.registrations if self.md_order(r.order_number) == provider_order_id)
        self.set_status(number, 3)
        handle_callback(self.gateway.ctx, self.gateway.signed_callback(number, "reversed", "1"))


def test_a_hold_reversed_with_its_callback_first_is_cancelled_without_an_alarm(database_url: str) -> None:
    gw = Gateway.build(make_settings(database_url, two_phase_stores=[STORE_ID]))
    try:
        bank = CallbackFirstBank(gateway=gw)
        gw.ctx.provider = bank
        gw.provider = bank
        number = gw.start().attempt_order_number or ""
        attempt_id = gw.attempt(number).id
        confirm_attempt(gw.ctx, attempt_id, bank.status_of(bank.set_status(number, 1)), source="test")
        assert gw.attempt(number).status == AttemptStatus.AUTHORIZED

        outcome = reverse_payment(gw.ctx, attempt_id, actor="ana")

        assert (outcome.attempt_status, outcome.ecwid_status) == (AttemptStatus.CANCELLED, "CANCELLED")
        assert [e.code for e in gw.exceptions()] == []
        assert "transition_ignored" not in gw.events()
    finally:
        gw.close()
