"""Decrypt Ecwid's payment request (protocols.md 1.1).

``enc_data``: AES-128-GCM, ``IV(16) || ciphertext || tag(16)``. ``data``: AES-128-CBC, ``IV(16) || ciphertext``,
PKCS#7. Both URL-safe base64, possibly without padding. Key: the first 16 characters of the client secret, which
must be 16 bytes in UTF-8 (16 ASCII characters); anything else is a ``ConfigurationError`` (Settings refuses it at
start-up). Every decryption failure raises the same ``InvalidPaymentRequest`` so CBC cannot become a padding oracle.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.domain.errors import ConfigurationError, InvalidPaymentRequest

IV_LEN = 16
TAG_LEN = 16
_UNDECRYPTABLE = "undecryptable"


def key_from_secret(client_secret: str) -> bytes:
    """The AES-128 key: the secret's first 16 characters as UTF-8. Raises ``ConfigurationError`` (never showing the
    secret) when they are not exactly 16 bytes: shorter than 16 characters, or not ASCII."""
    key = client_secret[:16].encode("utf-8", "surrogatepass")
    if len(key) != 16:
        raise ConfigurationError("client secret: its first 16 characters must be 16 ASCII characters (the AES key)")
    return key


def b64url_decode(text: str) -> bytes:
    """URL-safe base64 with or without '=' padding; re-pads only what is missing."""
    cleaned = text.strip()
    try:
        return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidPaymentRequest(_UNDECRYPTABLE) from exc


def decrypt_gcm(token: str, key: bytes) -> bytes:
    raw = b64url_decode(token)
    if len(raw) < IV_LEN + TAG_LEN + 1:
        raise InvalidPaymentRequest(_UNDECRYPTABLE)
    try:
        return AESGCM(key).decrypt(raw[:IV_LEN], raw[IV_LEN:], None)
    except (InvalidTag, ValueError) as exc:
        raise InvalidPaymentRequest(_UNDECRYPTABLE) from exc


def decrypt_cbc(token: str, key: bytes) -> bytes:
    raw = b64url_decode(token)
    body = raw[IV_LEN:]
    if len(raw) < IV_LEN + 16 or len(body) % 16:
        raise InvalidPaymentRequest(_UNDECRYPTABLE)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(raw[:IV_LEN])).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise InvalidPaymentRequest(_UNDECRYPTABLE) from exc
