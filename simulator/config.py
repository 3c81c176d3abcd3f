"""Configuration of the simulator: who the fake bank and the fake Ecwid know.

Plain frozen dataclasses, built directly by tests, the lab and the CLI. Secrets (client secrets, API tokens,
bank passwords, the callback key) live here only; they are never logged, journaled or rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

KNOWN_CURRENCIES: dict[str, str] = {"051": "AMD", "840": "USD", "978": "EUR", "643": "RUB"}
"""ISO 4217 numeric -> alphabetic code, for the currencies the bank accepts (protocols.md 2.3)."""

CALLBACK_METHODS = ("GET", "POST")


@dataclass(frozen=True)
class EcwidStore:
    """One Ecwid store with our payment app installed.

    ``client_secret`` is the app's secret: its first 16 characters are the AES key of the payment request.
    ``token`` is the store access token the app receives in the payment request and uses as a Bearer token.
    """

    store_id: int
    client_secret: str
    token: str
    app_client_id: str = "vposlab-pay"
    app_settings: tuple[tuple[str, str], ...] = ()
    """Sent as ``merchantAppSettings`` in every payment request (the app's storage keys)."""

    def __post_init__(self) -> None:
        if len(self.client_secret.encode("utf-8")) < 16 or not self.client_secret[:16].isascii():
            raise ValueError(f"store {self.store_id}: client_secret must start with 16 ASCII characters")
        if not self.token:
            raise ValueError(f"store {self.store_id}: token must not be empty")

    def __repr__(self) -> str:  # never show secrets, even in a traceback
        return f"EcwidStore(store_id={self.store_id}, app_client_id={self.app_client_id!r})"


@dataclass(frozen=True)
class VposMerchant:
    """One set of bank API credentials; ArCa issues one per currency (ISO numeric, e.g. "051")."""

    user_name: str
    password: str
    currency: str

    def __post_init__(self) -> None:
        if self.currency not in KNOWN_CURRENCIES:
            raise ValueError(f"merchant {self.user_name}: unknown currency {self.currency!r}")

    def __repr__(self) -> str:
        return f"VposMerchant(user_name={self.user_name!r}, currency={self.currency!r})"


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything the simulator needs to know; change it later with ``SimulatorState.reconfigure``."""

    public_url: str
    """Where the simulator is reachable, without a trailing slash (formUrl, returnUrl and storefront links)."""
    payment_url: str
    """The gateway's Ecwid paymentUrl: the storefront's payment form POSTs there."""
    stores: tuple[EcwidStore, ...]
    merchants: tuple[VposMerchant, ...]
    callback_url: str | None = None
    """Bank-configured callback URL; register's ``dynamicCallbackUrl`` overrides it per order."""
    callback_key: str | None = None
    """Shared HMAC-SHA256 key for callback checksums; None sends unsigned callbacks."""
    callback_method: str = "GET"

    def __post_init__(self) -> None:
        if self.public_url.endswith("/"):
            raise ValueError("public_url must not end with '/'")
        if self.callback_method not in CALLBACK_METHODS:
            raise ValueError(f"callback_method must be one of {CALLBACK_METHODS}")
        ids = [store.store_id for store in self.stores]
        if len(ids) != len(set(ids)):
            raise ValueError("store ids must be unique")
        users = [merchant.user_name for merchant in self.merchants]
        if len(users) != len(set(users)):
            raise ValueError("merchant user names must be unique")

    def __repr__(self) -> str:
        return (
            f"SimulatorConfig(public_url={self.public_url!r}, payment_url={self.payment_url!r}, "
            f"stores={self.stores!r}, merchants={self.merchants!r}, callback_url={self.callback_url!r}, "
            f"callback_signed={self.callback_key is not None}, callback_method={self.callback_method!r})"
        )

    def store(self, store_id: int) -> EcwidStore | None:
        return next((store for store in self.stores if store.store_id == store_id), None)

    def public_view(self) -> dict[str, object]:
        """The configuration without any secret, for the control API."""
        return {
            "publicUrl": self.public_url,
            "paymentUrl": self.payment_url,
            "bankBaseUrl": f"{self.public_url}/payment/rest/",
            "stores": [{"storeId": store.store_id, "appClientId": store.app_client_id} for store in self.stores],
            "merchants": [
                {"userName": merchant.user_name, "currency": merchant.currency} for merchant in self.merchants
            ],
            "callbackUrl": self.callback_url,
            "callbackSigned": self.callback_key is not None,
            "callbackMethod": self.callback_method,
        }
