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
