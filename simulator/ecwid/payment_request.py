"""Building Ecwid's encrypted payment request for an order (protocols.md 1.1, 1.2, 1.4).

Every request carries a fresh ``returnUrl`` with a per-request ``timestamp`` and random ``key``; the key is
remembered on the order so the return page can refuse a rebuilt URL, as Ecwid does since 2025-03-20.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from simulator.config import EcwidStore
from simulator.control.clock import VirtualClock
from simulator.ecwid.crypto import encrypt_cbc, encrypt_gcm
from simulator.ecwid.orders import EcwidOrder, EcwidOrderBook

_KEY_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class PaymentRequest:
    enc_data: str
    data: str
    return_url: str
    payment_url: str

    def to_json(self) -> dict[str, str]:
        return {
            "enc_data": self.enc_data,
            "data": self.data,
            "paymentUrl": self.payment_url,
            "returnUrl": self.return_url,
        }


def return_url_for(public_url: str, store: EcwidStore, order: EcwidOrder, timestamp_ms: int, key: str) -> str:
    query = urlencode({"clientId": store.app_client_id, "timestamp": str(timestamp_ms), "key": key})
    return f"{public_url}/store/{store.store_id}/return/{quote(order.id, safe='')}?{query}"


def payload(store: EcwidStore, order: EcwidOrder, return_url: str) -> dict[str, Any]:
    """The decrypted JSON of protocols.md 1.2. Contains the store token: never log it."""
    order_json = order.to_json()
    return {
        "storeId": store.store_id,
        "returnUrl": return_url,
        "merchantAppSettings": dict(store.app_settings),
        "cart": {"currency": order.currency, "order": order_json},
        "token": store.token,
        "lang": order.lang,
    }


def build_payment_request(
    *,
    store: EcwidStore,
    order: EcwidOrder,
    book: EcwidOrderBook,
    clock: VirtualClock,
    public_url: str,
    payment_url: str,
) -> PaymentRequest:
    """A fresh encrypted request for ``order`` (new IVs, new returnUrl key, same order and reference)."""
    key = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(12))
    return_url = return_url_for(public_url, store, order, clock.now_ms(), key)
    book.add_return_key(order, key)
    plaintext = json.dumps(payload(store, order, return_url), ensure_ascii=False).encode("utf-8")
    return PaymentRequest(
        enc_data=encrypt_gcm(plaintext, store.client_secret),
        data=encrypt_cbc(plaintext, store.client_secret),
        return_url=return_url,
        payment_url=payment_url,
    )
