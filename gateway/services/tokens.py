"""Ecwid tokens (and operators' TOTP secrets) are bearer secrets: encrypted at rest with Fernet (AES-128-CBC +
HMAC-SHA256, from ``cryptography``), decrypted only to use them.

Key rotation: ``VPOSLAB_TOKEN_KEY`` holds one key or several separated by commas, newest first. The newest
encrypts; every key decrypts (``MultiFernet``), so a new key can be put first at any time without breaking stored
values; ``vposlab-gateway rotate-token-key`` then re-encrypts everything under the newest key, after which the old
ones can be removed.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from gateway.domain.errors import ConfigurationError


def parse_keys(value: str) -> list[str]:
    """The configured keys, newest first (comma separated, blanks ignored)."""
    return [part.strip() for part in value.split(",") if part.strip()]


class TokenBox:
    def __init__(self, keys: str) -> None:
        parts = parse_keys(keys)
        if not parts:
            raise ConfigurationError("token key is empty (Fernet.generate_key())")
        try:
            fernets = [Fernet(part.encode("ascii")) for part in parts]
        except (ValueError, UnicodeEncodeError) as exc:
            raise ConfigurationError(
                "token key is not a Fernet key (Fernet.generate_key()), or one of several is not"
            ) from exc
        self._fernet, self._newest = MultiFernet(fernets), fernets[0]
        self.key_count = len(parts)

    def seal(self, token: str) -> str:
        """Encrypt under the newest key."""
        return self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ConfigurationError("stored secret cannot be decrypted with any configured token key") from exc

    def rotate(self, sealed: str) -> str:
        """The same secret under the newest key: unchanged when it already is (ConfigurationError when no key opens
        it)."""
        try:
            self._newest.decrypt(sealed.encode("ascii"))
            return sealed
        except InvalidToken:
            pass
        try:
            return self._fernet.rotate(sealed.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise ConfigurationError("stored secret cannot be decrypted with any configured token key") from exc
