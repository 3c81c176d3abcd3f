"""Ecwid's order book: orders created by the storefront or the control API, updated by the REST API.

Each accepted REST update is kept in the order's ``history`` (``{"at", "fields"}``) so tests can assert what the
gateway sent and when; ``puts`` keeps every PUT that reached the order, accepted or refused (by an injected fault,
the rate limit, a bad token or bad input), with its HTTP status, the token (masked) and the app
(``GET /_control/ecwid/orders/{storeId}/{ref}/history``).
Orders are looked up by ``id`` ("XJ12H"), numeric ``internalId`` or ``referenceTransactionId``
("transaction_<internalId>", or the custom one an order was created with) - the three forms the REST path accepts.
"""

from __future__ import annotations

import re
import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PAYMENT_STATUSES = (
    "AWAITING_PAYMENT",
    "PAID",
    "CANCELLED",
    "REFUNDED",
    "PARTIALLY_REFUNDED",
    "INCOMPLETE",
    "CUSTOM_PAYMENT_STATUS_1",
    "CUSTOM_PAYMENT_STATUS_2",
    "CUSTOM_PAYMENT_STATUS_3",
)
FULFILLMENT_STATUSES = (
    "AWAITING_PROCESSING",
    "PROCESSING",
    "SHIPPED",
    "DELIVERED",
    "WILL_NOT_DELIVER",
    "RETURNED",
    "READY_FOR_PICKUP",
    "OUT_FOR_DELIVERY",
    "CUSTOM_FULFILLMENT_STATUS_1",
    "CUSTOM_FULFILLMENT_STATUS_2",
    "CUSTOM_FULFILLMENT_STATUS_3",
)
UPDATABLE_FIELDS = (
    "paymentStatus",
    "fulfillmentStatus",
    "externalTransactionId",
    "paymentMessage",
    "privateAdminNotes",
)
CUSTOM_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_ID_ALPHABET = string.ascii_uppercase + string.digits
_FIRST_INTERNAL_ID = 65306446


@dataclass
class OrderItem:
    name: str
    price: float
    quantity: int
    sku: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "price": self.price, "quantity": self.quantity, "sku": self.sku}


@dataclass
class EcwidOrder:
    store_id: int
    id: str
    internal_id: int
    total: float
    subtotal: float
    tax: float
    currency: str
    email: str
    lang: str
    items: list[OrderItem]
    create_date: datetime
    ip_address: str = "127.0.0.1"
    payment_module: str = "CUSTOM_PAYMENT_APP-vposlab-pay"
    payment_status: str = "INCOMPLETE"
    fulfillment_status: str = "AWAITING_PROCESSING"
    external_transaction_id: str = ""
    payment_message: str = ""
    private_admin_notes: str = ""
    return_keys: set[str] = field(default_factory=set)
    history: list[dict[str, Any]] = field(default_factory=list)
    puts: list[dict[str, Any]] = field(default_factory=list)
    reference_id: str | None = None
    """A custom ``referenceTransactionId`` (odd or long ids for tests); None: ``transaction_<internalId>``."""
    person: dict[str, Any] | None = None
    """A custom billing/shipping person (fake orders); None: the default test buyer."""

    @property
    def reference_transaction_id(self) -> str:
        return self.reference_id or f"transaction_{self.internal_id}"

    def billing_person(self) -> dict[str, Any]:
        if self.person is not None:
            return {**self.person, "email": self.email}
        return {
            "name": "Test Buyer",
            "email": self.email,
            "street": "1 Abovyan St",
            "city": "Yerevan",
            "countryCode": "AM",
            "postalCode": "0001",
            "phone": "+37410000000",
        }

    def to_json(self) -> dict[str, Any]:
        """The order as Ecwid's REST API returns it (and as it sits inside the payment request)."""
        return {
            "id": self.id,
            "internalId": self.internal_id,
            "orderNumber": self.internal_id,
            "referenceTransactionId": self.reference_transaction_id,
            "total": self.total,
            "subtotal": self.subtotal,
            "tax": self.tax,
            "currency": self.currency,
            "email": self.email,
            "lang": self.lang,
            "billingPerson": self.billing_person(),
            "shippingPerson": self.billing_person(),
            "items": [item.to_json() for item in self.items],
            "paymentStatus": self.payment_status,
            "fulfillmentStatus": self.fulfillment_status,
            "externalTransactionId": self.external_transaction_id,
            "paymentMessage": self.payment_message,
            "privateAdminNotes": self.private_admin_notes,
            "createDate": self.create_date.strftime("%Y-%m-%d %H:%M:%S %z"),
            "createTimestamp": int(self.create_date.timestamp()),
            "ipAddress": self.ip_address,
            "paymentModule": self.payment_module,
            "paymentMethod": "Pay by card",
        }

    def control_json(self) -> dict[str, Any]:
        """The REST view plus the simulator's own bookkeeping (update history, storeId)."""
        body = self.to_json()
        body["storeId"] = self.store_id
        body["history"] = [dict(entry) for entry in self.history]
        return body


class DuplicateOrderId(Exception):
    """An order with this id already exists in the store."""


class EcwidOrderBook:
    """All Ecwid orders of all stores; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._orders: dict[tuple[int, str], EcwidOrder] = {}
        self._next_internal_id = _FIRST_INTERNAL_ID

    def create(
        self,
        *,
        store_id: int,
        total: float,
        currency: str,
        email: str,
        lang: str,
        items: list[OrderItem],
        now: datetime,
        subtotal: float | None = None,
        tax: float = 0.0,
        order_id: str | None = None,
        ip_address: str = "127.0.0.1",
        payment_module: str = "CUSTOM_PAYMENT_APP-vposlab-pay",
        reference_id: str | None = None,
        person: dict[str, Any] | None = None,
    ) -> EcwidOrder:
        with self._lock:
            if order_id is not None and (store_id, order_id) in self._orders:
                raise DuplicateOrderId(order_id)
            if reference_id is not None and any(
                o.store_id == store_id and reference_id in (o.id, o.reference_transaction_id)
                for o in self._orders.values()
            ):
                raise DuplicateOrderId(reference_id)
            new_id = order_id or self._fresh_id(store_id)
            internal_id = self._next_internal_id
            self._next_internal_id += 1
            order = EcwidOrder(
                store_id=store_id,
                id=new_id,
                internal_id=internal_id,
                total=total,
                subtotal=total - tax if subtotal is None else subtotal,
                tax=tax,
                currency=currency,
                email=email,
                lang=lang,
                items=items,
                create_date=now,
                ip_address=ip_address,
                payment_module=payment_module,
                reference_id=reference_id,
                person=person,
            )
            self._orders[(store_id, new_id)] = order
            return order

    def _fresh_id(self, store_id: int) -> str:
        while True:
            length = 5 + secrets.randbelow(2)
            candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))
            if (store_id, candidate) not in self._orders:
                return candidate

    def find(self, store_id: int, ref: str) -> EcwidOrder | None:
        """By ``id``, else a custom ``referenceTransactionId``, else numeric ``internalId``, else
        ``transaction_<internalId>``."""
        with self._lock:
            order = self._orders.get((store_id, ref))
            if order is not None:
                return order
            for candidate in self._orders.values():
                if candidate.store_id == store_id and candidate.reference_id == ref:
                    return candidate
            internal = ref.removeprefix("transaction_")
            if internal.isdigit():
                number = int(internal)
                for candidate in self._orders.values():
                    if candidate.store_id == store_id and candidate.internal_id == number:
                        return candidate
            return None

    def update(
        self, order: EcwidOrder, fields: dict[str, str], now: datetime, *, meta: dict[str, Any] | None = None
    ) -> str:
        """Apply validated fields and append them to the order's history (and, with ``meta``: who sent them, to
        ``puts``); returns the paymentStatus before the update."""
        with self._lock:
            old_status = order.payment_status
            for name, value in fields.items():
                if name == "paymentStatus":
                    order.payment_status = value
                elif name == "fulfillmentStatus":
                    order.fulfillment_status = value
                elif name == "externalTransactionId":
                    order.external_transaction_id = value
                elif name == "paymentMessage":
                    order.payment_message = value
                elif name == "privateAdminNotes":
                    order.private_admin_notes = value
            at = now.isoformat(timespec="milliseconds")
            order.history.append({"at": at, "fields": dict(fields)})
            if meta is not None:
                order.puts.append(
                    {
                        "seq": len(order.puts) + 1,
                        "at": at,
                        "accepted": True,
                        "httpStatus": 200,
                        "errorCode": None,
                        "fields": dict(fields),
                        "oldPaymentStatus": old_status,
                        "newPaymentStatus": order.payment_status,
                        **meta,
                    }
                )
            return old_status

    def record_refused(
        self,
        order: EcwidOrder,
        fields: dict[str, Any],
        now: datetime,
        *,
        http_status: int,
        error_code: str,
        **meta: Any,
    ) -> None:
        """A PUT that reached this order but changed nothing (a fault, the rate limit, a bad token or body)."""
        with self._lock:
            order.puts.append(
                {
                    "seq": len(order.puts) + 1,
                    "at": now.isoformat(timespec="milliseconds"),
                    "accepted": False,
                    "httpStatus": http_status,
                    "errorCode": error_code,
                    "fields": dict(fields),
                    "oldPaymentStatus": order.payment_status,
                    "newPaymentStatus": None,
                    **meta,
                }
            )

    def put_log(self, order: EcwidOrder) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in order.puts]

    def add_return_key(self, order: EcwidOrder, key: str) -> None:
        with self._lock:
            order.return_keys.add(key)

    def knows_return_key(self, order: EcwidOrder, key: str) -> bool:
        with self._lock:
            return key in order.return_keys

    def all(self) -> list[EcwidOrder]:
        with self._lock:
            return list(self._orders.values())

    def clear(self) -> None:
        with self._lock:
            self._orders.clear()
