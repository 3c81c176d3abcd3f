"""The bank's order book: orders registered through ``register.do``, their status and what happened to them.

Thread-safe: every read-modify-write of an order happens under the book's lock. ``BankOrderBook.transition`` is
the ONLY code that changes an order's ``order_status`` (house rule 14; a unit test scans the source): it checks the
current status against ``simulator.vpos.states.TRANSITIONS`` under the lock, applies the decision's facts, and
appends the operation record, so two racing decisions (two card submits, the ACS page and a timer) decide once.
Side effects (callbacks, scheduled work) belong to the callers, after the lock (``simulator.vpos.lifecycle``).

Money after the payment (``simulator.vpos.money``): an order registered with ``registerPreAuth.do`` is two-phase
(``two_phase``): the writer turns a paying decision (a move to DEPOSITED from 0, 5 or 7) into APPROVED (held),
whoever decided it (card page, ACS page, pending job, control API). ``deposit.do`` then records ``deposited``;
``refund.do`` appends ``Refund`` records. The amounts of ``paymentAmountInfo`` are derived here:

- ``approvedAmount``: the registered amount while the order is held, deposited or refunded (1, 2, 4, 8), else 0
  (less after a partial authorisation: ``partial_amount``, set by the control outcome ``pay`` with
  ``approvedAmount``);
- ``depositedAmount``: what was deposited (the whole approved amount for a one-phase payment), for 2, 4, 8, else 0; it
  does NOT shrink with refunds (BPC keeps the deposited total; ``refund.do``'s ``expectedDepositedAmount`` is
  compared with it);
- ``refundedAmount``: the sum of the approved refunds (failed ones never count).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulator.vpos.cards import NO_PAYMENT_YET, action_description
from simulator.vpos.states import OrderStatus, can_transition

ORDER_REGISTERED = OrderStatus.REGISTERED
"""Kept for importers of the one-phase era; new code uses ``OrderStatus``."""
DEFAULT_PENDING_SECONDS = 60.0
DEFAULT_REVERSE_WINDOW_SECONDS = 72 * 3600.0
_PAYING_SOURCES = frozenset({OrderStatus.REGISTERED, OrderStatus.ACS_AUTH, OrderStatus.PENDING})
_HOLDS_MONEY = frozenset(
    {OrderStatus.APPROVED, OrderStatus.DEPOSITED, OrderStatus.REFUNDED, OrderStatus.PARTLY_DEPOSITED}
)
_DEPOSITED = frozenset({OrderStatus.DEPOSITED, OrderStatus.REFUNDED, OrderStatus.PARTLY_DEPOSITED})
REFUND_APPROVED = "APPROVED"
REFUND_FAILED = "FAILED"


@dataclass
class CardAuth:
    """``cardAuthInfo`` of the order's card attempt."""

    masked_pan: str
    expiration: str
    """YYYYMM"""
    cardholder_name: str
    approval_code: str
    payment_system: str
    eci: int | None = None
    """Electronic Commerce Indicator (``secureAuthInfo.eci``); None when 3-D Secure failed or could not run."""
    three_ds_protocol_version: str | None = None
    """``2.2.0`` after a 3-D Secure 2 authentication; ``simulator.vpos.status`` shows it from response version 30."""

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "maskedPan": self.masked_pan,
            "expiration": self.expiration,
            "cardholderName": self.cardholder_name,
            "approvalCode": self.approval_code,
            "paymentSystem": self.payment_system,
        }
        if self.eci is not None:
            body["secureAuthInfo"] = {"eci": self.eci}
        return body


@dataclass
class Challenge:
    """A 3-D Secure challenge at the ACS page: what a passed challenge gives, and the wrong codes typed so far."""

    pass_status: OrderStatus
    pass_action_code: int
    pass_eci: int | None
    wrong_otp: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "passStatus": int(self.pass_status),
            "passActionCode": self.pass_action_code,
            "passEci": self.pass_eci,
            "wrongOtp": self.wrong_otp,
        }


@dataclass
class PendingPlan:
    """How a pending order (orderStatus 7) resolves by itself, and when (virtual time)."""

    resolve_to: OrderStatus
    action_code: int
    eci: int | None
    due: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "resolveTo": "paid" if self.resolve_to is OrderStatus.DEPOSITED else "declined",
            "actionCode": self.action_code,
            "eci": self.eci,
            "due": int(self.due.timestamp() * 1000),
        }


@dataclass(frozen=True)
class Refund:
    """One ``refund.do`` accepted by the bank (errorCode 0): ``status`` APPROVED (the money went back) or FAILED
    (accepted, then failed: it never counts in ``refundedAmount`` and changes no orderStatus)."""

    refund_id: str
    amount: int
    at: datetime
    status: str
    external_refund_id: str | None = None
    action_code: int = 0
    approval_code: str = ""
    reference_number: str = ""

    @property
    def approved(self) -> bool:
        return self.status == REFUND_APPROVED

    def to_json(self) -> dict[str, Any]:
        """An element of ``refunds[]`` (getOrderStatusExtended from version 5; ``externalRefundId`` from 21)."""
        body: dict[str, Any] = {
            "refundId": self.refund_id,
            "date": int(self.at.timestamp() * 1000),
            "amount": self.amount,
            "status": self.status,
            "approved": self.approved,
            "actionCode": self.action_code,
            "approvalCode": self.approval_code,
            "referenceNumber": self.reference_number,
        }
        if self.external_refund_id is not None:
            body["externalRefundId"] = self.external_refund_id
        return body


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
    order_status: OrderStatus = OrderStatus.REGISTERED
    action_code: int = NO_PAYMENT_YET
    card: CardAuth | None = None
    auth_at: datetime | None = None
    auth_ref_num: str | None = None
    ip: str | None = None
    challenge: Challenge | None = None
    pending: PendingPlan | None = None
    operations: list[dict[str, Any]] = field(default_factory=list)
    two_phase: bool = False
    """Registered with ``registerPreAuth.do``: a payment holds the money (orderStatus 1) until ``deposit.do``."""
    paid_at: datetime | None = None
    """When the money was taken (held or deposited): the start of the reverse window."""
    deposited: int | None = None
    """The amount ``deposit.do`` captured; None: the whole amount (one-phase payment)."""
    refunds: list[Refund] = field(default_factory=list)
    reported_amount: int | None = None
    """The ``amount`` getOrderStatusExtended reports instead of the registered one (control outcome ``pay`` with
    ``reportedAmount``): a bank answer that disagrees with the order. None: the registered amount."""
    reported_currency: str | None = None
    """The numeric ``currency`` reported instead of the registered one (``reportedCurrency``); None: registered."""
    partial_amount: int | None = None
    """A partial authorisation (``approvedAmount``): what the bank approved and took, less than ``amount``; it is
    ``paymentAmountInfo.approvedAmount`` and ``depositedAmount``. None: the whole amount."""

    @property
    def authorised_amount(self) -> int:
        """What a payment approved: the registered amount, or less after a partial authorisation."""
        return self.amount if self.partial_amount is None else self.partial_amount

    def reported(self) -> dict[str, Any] | None:
        """Control API view of what the bank reports differently from the registration, or None."""
        if self.reported_amount is None and self.reported_currency is None and self.partial_amount is None:
            return None
        return {
            "amount": self.reported_amount,
            "currency": self.reported_currency,
            "approvedAmount": self.partial_amount,
        }

    @property
    def expires_at(self) -> datetime:
        return self.created_at + timedelta(seconds=self.session_timeout_secs)

    def session_over(self, now: datetime) -> bool:
        """The bank session (card page, ACS page) ends at ``created + sessionTimeoutSecs``."""
        return now >= self.expires_at

    @property
    def accepts_card(self) -> bool:
        """Only a registered order takes a card; any other status means the card page has been used."""
        return self.order_status is OrderStatus.REGISTERED

    @property
    def payment_state(self) -> str:
        return self.order_status.payment_state

    @property
    def approved_amount(self) -> int:
        return self.authorised_amount if self.order_status in _HOLDS_MONEY else 0

    @property
    def deposited_amount(self) -> int:
        """The deposited total (it does not shrink with refunds); 0 before a deposit and after a reverse."""
        if self.order_status not in _DEPOSITED:
            return 0
        return self.authorised_amount if self.deposited is None else self.deposited

    @property
    def refunded_amount(self) -> int:
        return sum(refund.amount for refund in self.refunds if refund.approved)

    @property
    def refundable_amount(self) -> int:
        return self.deposited_amount - self.refunded_amount

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
            "orderStatus": int(self.order_status),
            "actionCode": self.action_code,
            "actionCodeDescription": action_description(self.action_code, "en"),
            "paymentState": self.payment_state,
            "cardAuthInfo": self.card.to_json() if self.card else None,
            "authDateTime": int(self.auth_at.timestamp() * 1000) if self.auth_at else None,
            "challenge": self.challenge.to_json() if self.challenge else None,
            "pending": self.pending.to_json() if self.pending else None,
            "operations": list(self.operations),
            "twoPhase": self.two_phase,
            "paidAt": int(self.paid_at.timestamp() * 1000) if self.paid_at else None,
            "paymentAmountInfo": {
                "paymentState": self.payment_state,
                "approvedAmount": self.approved_amount,
                "depositedAmount": self.deposited_amount,
                "refundedAmount": self.refunded_amount,
            },
            "refunds": [refund.to_json() for refund in self.refunds],
            "reported": self.reported(),
        }


class DuplicateOrderNumber(Exception):
    """The merchant already registered this orderNumber (RBS errorCode 1)."""


class UnknownBankOrder(LookupError):
    """No order with this mdOrder."""


@dataclass(frozen=True)
class Transition:
    """What ``BankOrderBook.transition`` did: ``changed`` is False when the table, ``sources`` or the guard refused."""

    order: BankOrder
    previous: OrderStatus
    changed: bool


@dataclass
class BankSettings:
    """Bank-wide behaviour that tests may change (``PUT /_control/vpos/bank``); ``clear`` restores it."""

    pending_seconds: float = DEFAULT_PENDING_SECONDS
    """How long a pending test card keeps its order in orderStatus 7 (virtual seconds)."""
    reverse_window_seconds: float = DEFAULT_REVERSE_WINDOW_SECONDS
    """How long after the payment ``reverse.do`` still cancels a DEPOSITED order (virtual seconds; held: always)."""
    partial_deposit: bool = True
    """``deposit.do`` may capture less than the held amount."""
    fail_next_refund: bool = False
    """The next accepted ``refund.do`` (any order) answers errorCode 0 but the refund ends FAILED; then cleared."""
    disabled_methods: dict[str, list[str]] = field(default_factory=dict)
    """Methods the bank does not deploy, per merchant ``userName`` (``*``: every merchant): they answer HTTP 404."""

    def method_disabled(self, merchant: str | None, method: str) -> bool:
        names = [*self.disabled_methods.get("*", []), *(self.disabled_methods.get(merchant or "", []))]
        return method in names

    def to_json(self) -> dict[str, Any]:
        return {
            "pendingSeconds": self.pending_seconds,
            "reverseWindowSeconds": self.reverse_window_seconds,
            "partialDeposit": self.partial_deposit,
            "failNextRefund": self.fail_next_refund,
            "disabledMethods": {name: list(methods) for name, methods in sorted(self.disabled_methods.items())},
        }


class BankOrderBook:
    """All bank orders, by ``mdOrder`` and by ``(merchant, orderNumber)``."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._orders: dict[str, BankOrder] = {}
        self._by_number: dict[tuple[str, str], str] = {}
        self._listeners: list[Callable[[BankOrder], None]] = []
        self.settings = BankSettings()

    def listen(self, listener: Callable[[BankOrder], None]) -> None:
        """Call ``listener`` with every order added from now on (after the lock; e.g. to schedule its expiry)."""
        with self._lock:
            self._listeners.append(listener)

    def add(self, order: BankOrder) -> None:
        with self._lock:
            key = (order.merchant, order.order_number)
            if key in self._by_number:
                raise DuplicateOrderNumber(order.order_number)
            self._orders[order.md_order] = order
            self._by_number[key] = order.md_order
            listeners = list(self._listeners)
        for listener in listeners:
            listener(order)

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
        """Forget every order and restore the settings; listeners stay."""
        with self._lock:
            self._orders.clear()
            self._by_number.clear()
            self.settings = BankSettings()

    def update(self, md_order: str, change: Callable[[BankOrder], bool]) -> tuple[BankOrder | None, bool]:
        """Run ``change`` on the order under the lock (facts other than the status, e.g. a wrong OTP count);
        returns the order and what ``change`` returned. Status changes go through ``transition``."""
        with self._lock:
            order = self._orders.get(md_order)
            if order is None:
                return None, False
            return order, change(order)

    def transition(
        self,
        md_order: str,
        to: OrderStatus,
        *,
        operation: str,
        now: datetime,
        action_code: int | None = None,
        sources: Collection[OrderStatus] | None = None,
        guard: Callable[[BankOrder], bool] | None = None,
        facts: Callable[[BankOrder], None] | None = None,
    ) -> Transition:
        """The only writer of ``order_status``. Under the lock: the move ``current -> to`` must be in the table
        (and ``current`` in ``sources`` when given: a narrower start, e.g. only an order in 3-D Secure takes an ACS
        answer), and ``guard`` (when given) must accept the order. Then ``facts`` records the decision's details
        (card, eci...), the status and ``action_code`` (None: unchanged) are written and the operation is appended
        to the order's record. Otherwise nothing changes. A paying move (to DEPOSITED from 0, 5 or 7) of a two-phase
        order holds the money instead (APPROVED). Entering a paid status from an unpaid one stamps ``paid_at``.
        Raises UnknownBankOrder."""
        with self._lock:
            order = self._orders.get(md_order)
            if order is None:
                raise UnknownBankOrder(md_order)
            previous = order.order_status
            if order.two_phase and to is OrderStatus.DEPOSITED and previous in _PAYING_SOURCES:
                to = OrderStatus.APPROVED
            allowed = can_transition(previous, to) and (sources is None or previous in sources)
            if not allowed or (guard is not None and not guard(order)):
                return Transition(order, previous, changed=False)
            if facts is not None:
                facts(order)
            if to.is_paid and not previous.is_paid:
                order.paid_at = now
            order.order_status = to
            if action_code is not None:
                order.action_code = action_code
            order.operations.append(
                {
                    "operation": operation,
                    "at": int(now.timestamp() * 1000),
                    "from": int(previous),
                    "orderStatus": int(to),
                    "actionCode": order.action_code,
                }
            )
            return Transition(order, previous, changed=True)
