"""Build Ecwid payment requests on the test side (protocols.md 1.1), for defects the storefront never makes:
missing fields, unsupported currency, a wrong key. Encrypts exactly as Ecwid does (GCM and CBC, unpadded base64)."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def encrypt_gcm(payload: dict[str, Any], client_secret: str) -> str:
    iv = os.urandom(16)
    return _b64(iv + AESGCM(client_secret[:16].encode()).encrypt(iv, json.dumps(payload).encode(), None))


def encrypt_cbc(payload: dict[str, Any], client_secret: str) -> str:
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(json.dumps(payload).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(client_secret[:16].encode()), modes.CBC(iv)).encryptor()
    return _b64(iv + encryptor.update(padded) + encryptor.finalize())


def payload_for(order: dict[str, Any], return_url: str, token: str, store_id: int = 1003) -> dict[str, Any]:
    return {
        "storeId": store_id,
        "lang": "en",
        "returnUrl": return_url,
        "merchantAppSettings": {},
        "token": token,
        "cart": {
            "currency": order.get("currency", "AMD"),
            "order": {
                "id": order["id"],
                "internalId": order.get("internalId"),
                "referenceTransactionId": order["referenceTransactionId"],
                "total": order["total"],
                "email": order.get("email", "buyer@example.com"),
                "paymentStatus": "INCOMPLETE",
            },
        },
    }
