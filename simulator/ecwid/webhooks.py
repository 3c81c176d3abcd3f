"""Ecwid's optional ``order.updated`` webhooks (protocols.md 1.5), switched on through ``/_control/ecwid/webhooks``.

After each accepted PUT that changes an order's paymentStatus, the simulator POSTs to the configured URL::

    {"eventId": "<uuid>", "eventCreated": <unix seconds, virtual clock>, "storeId": 1003,
     "entityId": <internalId>, "eventType": "order.updated",
     "data": {"orderId": "XJ12H", "oldPaymentStatus": "INCOMPLETE", "newPaymentStatus": "PAID"}}

with ``X-Ecwid-Webhook-Signature: base64(HMAC-SHA256(key=client_secret, msg=f"{eventCreated}.{eventId}"))``.
Ecwid fires them for the app's own PUTs too (a receiver must never answer one with another PUT).

Delivery happens in a background thread: the PUT never waits for it. One attempt per event, with a short timeout;
every delivery (status or network error) is journaled (service ``ecwid``, direction ``out``) and listed in
``GET /_control/ecwid/webhooks``; a failure never reaches the PUT.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from datetime import datetime
from typing import Any

import httpx

from simulator.control.journal import Journal

SIGNATURE_HEADER = "X-Ecwid-Webhook-Signature"
DELIVERY_TIMEOUT_SECONDS = 5.0
_MAX_DELIVERIES = 200


def signature(client_secret: str, event_created: int, event_id: str) -> str:
    """base64(HMAC-SHA256(key=client_secret, msg=f"{eventCreated}.{eventId}"))."""
    digest = hmac.new(client_secret.encode(), f"{event_created}.{event_id}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class WebhookDispatcher:
    """Settings (enabled, URL, optional store) and the deliveries made; thread-safe."""

    def __init__(self, journal: Journal, *, transport: httpx.BaseTransport | None = None) -> None:
        self._journal = journal
        self._transport = transport
        self._lock = threading.Lock()
        self._url: str | None = None
        self._store_id: int | None = None
        self._deliveries: list[dict[str, Any]] = []
        self._threads: list[threading.Thread] = []
        self._generation = 0

    def configure(self, url: str | None, store_id: int | None = None) -> None:
        """``url=None`` switches webhooks off."""
        with self._lock:
            self._url = url
            self._store_id = store_id if url else None

    def settings(self) -> dict[str, Any]:
        with self._lock:
            return {"enabled": self._url is not None, "url": self._url, "storeId": self._store_id}

    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(delivery) for delivery in self._deliveries]

    def order_updated(
        self,
        *,
        store_id: int,
        client_secret: str,
        order_id: str,
        internal_id: int,
        old_status: str,
        new_status: str,
        now: datetime,
    ) -> dict[str, Any] | None:
        """Queue an ``order.updated`` event when webhooks are on for this store and the status changed; returns the
        event (or None). Never raises, never waits for the delivery."""
        with self._lock:
            url = self._url
            if url is None or old_status == new_status or self._store_id not in (None, store_id):
                return None
            generation = self._generation
        event_created = int(now.timestamp())
        event_id = str(uuid.uuid4())
        event = {
            "eventId": event_id,
            "eventCreated": event_created,
            "storeId": store_id,
            "entityId": internal_id,
            "eventType": "order.updated",
            "data": {"orderId": order_id, "oldPaymentStatus": old_status, "newPaymentStatus": new_status},
        }
        headers = {SIGNATURE_HEADER: signature(client_secret, event_created, event_id)}
        thread = threading.Thread(
            target=self._deliver, args=(url, event, headers, generation), name=f"sim-ecwid-webhook-{event_id[:8]}"
        )
        thread.daemon = True
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return event

    def _deliver(self, url: str, event: dict[str, Any], headers: dict[str, str], generation: int) -> None:
        status: int | None = None
        error: str | None = None
        body = json.dumps(event).encode()
        try:
            with httpx.Client(transport=self._transport, timeout=DELIVERY_TIMEOUT_SECONDS) as client:
                status = client.post(
                    url, content=body, headers={**headers, "Content-Type": "application/json"}
                ).status_code
        except Exception as exc:  # a network error or anything the receiver raised: recorded, never raised
            error = type(exc).__name__
        with self._lock:
            if generation != self._generation:  # reset while in flight: forget it
                return
            self._deliveries.append(
                {"eventId": event["eventId"], "url": url, "event": event, "httpStatus": status, "error": error}
            )
            del self._deliveries[:-_MAX_DELIVERIES]
        data = event["data"]
        outcome = str(status) if status is not None else f"error {error}"
        self._journal.record(
            direction="out",
            service="ecwid",
            method="POST",
            path=url,
            operation="webhook order.updated",
            status=status,
            params={"eventId": event["eventId"], "ecwidOrderId": data["orderId"], "internalId": event["entityId"]},
            summary=(f"order {data['orderId']} {data['oldPaymentStatus']} -> {data['newPaymentStatus']}: {outcome}"),
        )

    def join(self, timeout: float = 10.0) -> None:
        """Wait for deliveries in flight (tests)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def reset(self) -> None:
        with self._lock:
            self._url = None
            self._store_id = None
            self._deliveries.clear()
            self._generation += 1
