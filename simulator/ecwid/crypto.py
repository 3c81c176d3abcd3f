"""Encryption of Ecwid's payment request, written from protocols.md 1.1 (independent of any gateway).

Key: the first 16 characters of the app's client_secret, as bytes (AES-128). Both fields are URL-safe base64
WITHOUT ``=`` padding:

- ``enc_data``: ``IV(16) || AES-128-GCM ciphertext || tag(16)``, 16-byte nonce, no AAD;
- ``data``: ``IV(16) || AES-128-CBC ciphertext``, PKCS#7 padding.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

IV_LENGTH = 16


def app_key(client_secret: str) -> bytes:
    """The AES-128 key Ecwid derives from the client secret: its first 16 characters, no KDF."""
    key = client_secret[:16].encode("utf-8")
    if len(key) != 16:
        raise ValueError("client_secret must start with 16 ASCII characters")
    return key


def b64url_nopad(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def encrypt_gcm(plaintext: bytes, client_secret: str) -> str:
    """``enc_data``: a fresh random 16-byte IV per call."""
    iv = os.urandom(IV_LENGTH)
    sealed = AESGCM(app_key(client_secret)).encrypt(iv, plaintext, None)
    return b64url_nopad(iv + sealed)


def encrypt_cbc(plaintext: bytes, client_secret: str) -> str:
    """``data`` (legacy): a fresh random IV per call."""
    iv = os.urandom(IV_LENGTH)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(app_key(client_secret)), modes.CBC(iv)).encryptor()
    return b64url_nopad(iv + encryptor.update(padded) + encryptor.finalize())
