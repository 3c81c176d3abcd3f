"""A capture or a reverse the bank carried out, whose outcome the gateway could not read (the status call after it
failed) and whose callback never comes, is never left silent: an operator exception names the attempt, and its retry
asks the bank again and applies the status of record.

Found by the lifecycle state machine (``bench/lifecycle.py``): a held payment captured while the bank's status calls
failed stayed ``authorized`` with Ecwid AWAITING_PAYMENT for good, though the bank had taken the money; nothing else
ever looks at it (the poller follows open attempts only, the reconciliation only reports).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.errors import ProviderUnavailable
from gateway.domain.states import AttemptStatus
from gateway.services.confirm import confirm_attempt
from gateway.services.exceptions_queue import retry
from gateway.services.reversal import capture_payment, reverse_payment
from tests.gateway_fakes import STORE_ID, FakeProvider, Gateway, make_settings

S = AttemptStatus


@dataclass
class StatusLostBank(FakeProvider):
    """deposit.do and reverse.do that move the money, after which the bank's status calls fail for a while."""

    def _number(self, provider_order_id: str) -> str:
        return next(r.order_number for r in self.registrations if self.md_order(r.order_number) == provider_order_id)

    def deposit(self, provider_order_id: str, amount_minor: int, currency: str) -> None:
        self.set_status(self._number(provider_order_id), 2, deposited_minor=amount_minor)
        self.status_error = ProviderUnavailable("getOrderStatusExtended.do timed out")

    def reverse(self, provider_order_id: str, currency: str) -> None:
        self.set_status(self._number(provider_order_id), 3)
        self.status_error = ProviderUnavailable("getOrderStatusExtended.do timed out")


def gateway(database_url: str, *, held: bool) -> tuple[Gateway, StatusLostBank, int]:
    gw = Gateway.build(make_settings(database_url, two_phase_stores=[STORE_ID] if held else []))
    bank = StatusLostBank()
    gw.ctx.provider = bank
    gw.provider = bank
    number = gw.start().attempt_order_number or ""
    attempt_id = gw.attempt(number).id
    confirm_attempt(gw.ctx, attempt_id, bank.status_of(bank.set_status(number, 1 if held else 2)), source="test")
    return gw, bank, attempt_id


def test_a_capture_whose_outcome_was_not_read_opens_an_exception_whose_retry_applies_it(database_url: str) -> None:
    gw, bank, attempt_id = gateway(database_url, held=True)
    try:
        capture_payment(gw.ctx, attempt_id, None, actor="ana")
        assert gw.attempts()[0].status == S.AUTHORIZED  # the gateway could not see the deposit
        (opened,) = gw.exceptions()
        assert (opened.code, opened.attempt_id, opened.resolved_at) == ("money_operation_unconfirmed", attempt_id, None)

        bank.status_error = None  # the bank answers again
        assert retry(gw.ctx, opened.id, actor="ana").reason == "changed"
        assert gw.attempts()[0].status == S.PAID
        assert gw.payment_session().ecwid_status == "PAID"
    finally:
        gw.close()


def test_a_reverse_whose_outcome_was_not_read_opens_an_exception_whose_retry_applies_it(database_url: str) -> None:
    gw, bank, attempt_id = gateway(database_url, held=False)
    try:
        reverse_payment(gw.ctx, attempt_id, actor="ana")
        assert gw.attempts()[0].status == S.PAID  # the gateway could not see the reversal
        (opened,) = gw.exceptions()
        assert (opened.code, opened.attempt_id) == ("money_operation_unconfirmed", attempt_id)

        bank.status_error = None
        assert retry(gw.ctx, opened.id, actor="ana").reason == "changed"
        assert gw.attempts()[0].status == S.REVERSED
        assert gw.payment_session().ecwid_status == "CANCELLED"
    finally:
        gw.close()


def test_a_capture_whose_outcome_was_read_opens_no_exception(database_url: str) -> None:
    gw, bank, attempt_id = gateway(database_url, held=True)
    try:
        bank.deposit = lambda md, amount, currency: bank.set_status(  # type: ignore[method-assign,assignment]
            bank._number(md), 2, deposited_minor=amount
        )
        assert capture_payment(gw.ctx, attempt_id, None, actor="ana").attempt_status is S.PAID
        assert gw.exceptions() == []
    finally:
        gw.close()
