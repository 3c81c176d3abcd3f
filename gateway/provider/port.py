"""The vPOS port: what the services need from any provider. Adapters: ``rbs.RbsProvider`` (ArCa and friends)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.domain.confirmation import ProviderStatus
from gateway.domain.money import Money


@dataclass(frozen=True)
class Registration:
    order_number: str
    amount: Money
    return_url: str
    fail_url: str
    description: str
    language: str
    page_view: str  # DESKTOP | MOBILE
    session_timeout_s: int
    callback_url: str | None
    two_phase: bool = False  # registerPreAuth.do: the money is held (orderStatus 1) until deposit.do


@dataclass(frozen=True)
class Registered:
    provider_order_id: str  # RBS mdOrder
    form_url: str


class VposProvider(Protocol):
    def register(self, registration: Registration) -> Registered:
        """Register one bank order. Raises ProviderError (refused) or ProviderUnavailable (no clear answer)."""
        ...

    def get_status(self, provider_order_id: str, currency: str, language: str = "en") -> ProviderStatus:
        """The status of record. Raises ProviderError / ProviderUnavailable."""
        ...

    def find_by_order_number(self, order_number: str, currency: str, language: str = "en") -> ProviderStatus | None:
        """The status of the order registered under our ``order_number`` (with its mdOrder when the bank names it),
        or None when the bank has no such order. Raises ProviderError / ProviderUnavailable when it cannot tell."""
        ...

    def deposit(self, provider_order_id: str, amount_minor: int, currency: str) -> None:
        """Capture a held (two-phase) order. ``amount_minor`` must be positive: the bank reads 0 as "everything",
        so callers never send 0 by accident (``ValueError``). Raises ProviderError / ProviderUnavailable."""
        ...

    def reverse(self, provider_order_id: str, currency: str) -> None:
        """Cancel the authorisation (works once, within the bank's window). Raises ProviderError /
        ProviderUnavailable."""
        ...

    def refund(
        self,
        provider_order_id: str,
        amount_minor: int,
        currency: str,
        *,
        external_refund_id: str,
        expected_deposited_minor: int | None,
    ) -> None:
        """Ask for a refund. The bank returns the existing refund for a repeated ``external_refund_id``, so a retry
        after a lost answer refunds once. errorCode 0 proves only that the request was taken: the refund is final
        when ``refunds[]`` says so. ``amount_minor`` must be positive (0 means "everything" to the bank)."""
        ...

    def decline(self, provider_order_id: str, order_number: str, currency: str) -> None:
        """Cancel an order that is not completed, so its bank page can no longer take money."""
        ...
