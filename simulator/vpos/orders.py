"""The bank's order book: orders registered through ``register.do`` and their payment outcome.

Thread-safe: every read-modify-write of an order happens under the book's lock, so two concurrent card
submissions for one order decide it exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulator.vpos.cards import ACTION_SESSION_EXPIRED, ORDER_DECLINED, ORDER_DEPOSITED, action_description

ORDER_REGISTERED = 0
NO_PAYMENT_YET = -100


@dataclass
class CardAuth:
    masked_pan: str
    expiration: str
    """YYYYMM"""
    cardholder_name: str
    approval_code: str
    payment_system: str

    def to_json(self) -> dict[str, Any]:
        return {
            "maskedPan": self.masked_pan,
            "expiration": self.expiration,
            "cardholderName": self.cardholder_name,
            "approvalCode": self.approval_code,
            "paymentSystem": self.payment_system,
            "secureAuthInfo": {"eci": 7},
        }


@dataclass
class BankOrder:
    """One registered order (``mdOrder``) and everything the bank knows about it."""

    md_order: str
    merchant: str
    order_number: str
    amount: int
    currency: str
    return_url: str
    fail_url: str | None
    language: str
    page_view: str
    json_params: dict[str, str]
    description: str
    dynamic_callback_url: str | None
    session_timeout_secs: int
    client_id: str | None
    created_at: datetime
    order_status: int = ORDER_REGISTERED
    action_code: int = NO_PAYMENT_YET
    card: CardAuth | None = None
    auth_at: datetime | None = None
    auth_ref_num: str | None = None
    ip: str | None = None
    operations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def expires_at(self) -> datetime:
        return self.created_at + timedelta(seconds=self.session_timeout_secs)

    @property
    def is_final(self) -> bool:
        return self.order_status != ORDER_REGISTERED

    @property
    def payment_state(self) -> str:
        return {ORDER_REGISTERED: "CREATED", ORDER_DEPOSITED: "DEPOSITED", ORDER_DECLINED: "DECLINED"}.get(
            self.order_status, "CREATED"
        )

    @property
    def deposited_amount(self) -> int:
        return self.amount if self.order_status == ORDER_DEPOSITED else 0

    def to_json(self) -> dict[str, Any]:
        """Control API view of the order (no credentials)."""
        return {
            "mdOrder": self.md_order,
            "merchant": self.merchant,
            "orderNumber": self.order_number,
            "amount": self.amount,
            "currency": self.currency,
            "returnUrl": self.return_url,
            "failUrl": self.fail_url,
            "language": self.language,
            "pageView": self.page_view,
            "jsonParams": dict(self.json_params),
            "description": self.description,
            "dynamicCallbackUrl": self.dynamic_callback_url,
            "sessionTimeoutSecs": self.session_timeout_secs,
            "clientId": self.client_id,
            "createdAt": int(self.created_at.timestamp() * 1000),
            "expiresAt": int(self.expires_at.timestamp() * 1000),
            "orderStatus": self.order_status,
            "actionCode": self.action_code,
            "actionCodeDescription": action_description(self.action_code, "en"),
            "paymentState": self.payment_state,
            "cardAuthInfo": self.card.to_json() if self.card else None,
            "authDateTime": int(self.auth_at.timestamp() * 1000) if self.auth_at else None,
            "operations": list(self.operations),
        }


class DuplicateOrderNumber(Exception):
    """The merchant already registered this orderNumber (RBS errorCode 1)."""


class BankOrderBook:
    """All bank orders, by ``mdOrder`` and by ``(merchant, orderNumber)``."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._orders: dict[str, BankOrder] = {}
        self._by_number: dict[tuple[str, str], str] = {}

    def add(self, order: BankOrder) -> None:
        with self._lock:
            key = (order.merchant, order.order_number)
            if key in self._by_number:
                raise DuplicateOrderNumber(order.order_number)
            self._orders[order.md_order] = order
            self._by_number[key] = order.md_order

    def get(self, md_order: str) -> BankOrder | None:
        with self._lock:
            return self._orders.get(md_order)

    def find(self, merchant: str, order_number: str) -> BankOrder | None:
        with self._lock:
            md_order = self._by_number.get((merchant, order_number))
            return self._orders.get(md_order) if md_order else None

    def all(self) -> list[BankOrder]:
        with self._lock:
            return sorted(self._orders.values(), key=lambda order: order.created_at)

    def clear(self) -> None:
        with self._lock:
            self._orders.clear()
            self._by_number.clear()

    def update(self, md_order: str, change: Callable[[BankOrder], bool]) -> tuple[BankOrder | None, bool]:
        """Run ``change`` on the order under the lock; returns the order and whether it changed it."""
        with self._lock:
            order = self._orders.get(md_order)
            if order is None:
                return None, False
            return order, change(order)

    def expire_if_due(self, md_order: str, now: datetime) -> bool:
        """Decline an unpaid order whose session is over (actionCode -2007); True when this call did it."""

        def expire(order: BankOrder) -> bool:
            if order.is_final or now <= order.expires_at:
                return False
            order.order_status = ORDER_DECLINED
            order.action_code = ACTION_SESSION_EXPIRED
            order.operations.append({"operation": "declinedByTimeout", "at": int(now.timestamp() * 1000)})
            return True

        return self.update(md_order, expire)[1]
