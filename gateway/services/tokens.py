"""Ecwid tokens are bearer secrets: encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256, from
``cryptography``), decrypted only to call Ecwid."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from gateway.domain.errors import ConfigurationError


class TokenBox:
    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise ConfigurationError("token key is not a Fernet key (Fernet.generate_key())") from exc

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ConfigurationError("stored Ecwid token cannot be decrypted with the current key") from exc
