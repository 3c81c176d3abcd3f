"""The gateway's one typed Settings object. Tests build ``Settings(...)`` directly; production uses ``from_env()``.

Nothing here defaults to the bank's REAL environment: the provider mode must be chosen explicitly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.domain.errors import ConfigurationError
from gateway.domain.money import CURRENCIES
from gateway.ecwid.crypto import key_from_secret
from gateway.ecwid.payment_request import return_host_pattern_problem

ENV_PREFIX = "VPOSLAB_"
DEFAULT_PROVIDER_URLS = {
    "TEST": "https://ipaytest.arca.am:8445/payment/rest/",
    "REAL": "https://ipay.arca.am/payment/rest/",
}


class ProviderMode(StrEnum):
    TEST = "TEST"
    REAL = "REAL"


class ProviderCredentials(BaseModel):
    """ArCa issues separate API credentials per currency (protocols.md 2.1)."""

    model_config = ConfigDict(frozen=True)
    user_name: str = Field(min_length=1)
    password: SecretStr


class Settings(BaseModel):
    # hide_input_in_errors: a ValidationError must never show a value, since values may be secrets.
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    public_url: str = Field(description="Where the bank and browsers reach this gateway, no trailing slash")
    ecwid_client_secrets: dict[int, SecretStr] = Field(description="storeId -> the payment app's client_secret")
    ecwid_return_hosts: dict[int, list[str]] = Field(
        default_factory=dict,
        description="storeId -> the returnUrl hosts accepted for it ('host' or '*.suffix'); no entry: any host",
    )
    ecwid_api_url: str = "https://app.ecwid.com/api/v3"
    provider_mode: ProviderMode
    provider_base_url: str = ""
    provider_credentials: dict[str, ProviderCredentials] = Field(description="ISO alpha currency -> credentials")
    callback_key: SecretStr | None = None
    token_key: SecretStr = Field(description="Fernet key that encrypts Ecwid tokens at rest")
    database_url: str = "sqlite:///var/gateway.sqlite3"
    http_timeout_s: float = 10.0
    session_timeout_s: int = 1200
    send_dynamic_callback_url: bool = True
    ecwid_max_attempts: int = Field(default=8, ge=1)
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024, description="largest request body accepted (413)")
    return_wait_s: float = Field(default=5.0, ge=0, description="how long a returning customer waits for Ecwid")
    pending_wait_s: float = Field(
        default=30.0, ge=0, description="how long a customer back while the bank still decides waits on our page"
    )
    poll_after_s: float = Field(default=30.0, gt=0, description="first status check of an open attempt")
    poll_max_interval_s: float = Field(default=300.0, gt=0, description="longest gap between two checks")
    two_phase_stores: list[int] = Field(
        default_factory=list,
        description="stores whose payments are held (registerPreAuth.do) and captured later with deposit.do",
    )
    reverse_window_s: float = Field(
        default=72 * 3600.0, gt=0, description="how long after the payment the bank accepts reverse.do (bank-set)"
    )
    ecwid_rate_limit_per_minute: int = Field(
        default=600, ge=1, description="Ecwid's limit per token; the relay stays under it"
    )
    ecwid_backoff_base_s: float = Field(default=2.0, gt=0, description="first retry delay of an Ecwid update")
    ecwid_backoff_max_s: float = Field(default=300.0, gt=0, description="longest retry delay of an Ecwid update")
    outbox_lease_s: float = Field(
        default=60.0,
        gt=0,
        description="how long a worker holds an Ecwid update it is sending; after a crash mid-send the update waits"
        " this long before another worker takes it (longer than one send: connect 5 s plus the HTTP timeout)",
    )
    console_secret_key: SecretStr | None = Field(
        default=None, description="signs operator console sessions; the console is off (404) without it"
    )
    console_require_totp: bool = Field(default=False, description="every operator must use a TOTP second factor")
    console_session_ttl_s: int = Field(default=8 * 3600, ge=60, description="an operator's login lasts this long")
    payment_rate_limit: str = Field(
        default="120 per minute",
        description="payment requests per client address (limits notation, e.g. '30 per minute; 300 per hour'); "
        "empty: no limit",
    )
    proxy_hops: int = Field(
        default=0, ge=0, le=5, description="trusted proxies in front that set X-Forwarded-For/-Proto/-Host (ProxyFix)"
    )
    test_clock: bool = Field(
        default=False,
        description="TEST only: the gateway's clock is system time plus an offset kept in its database, moved "
        "forward by an operator (POST /ops/api/test-clock); refused in REAL mode, and the audit fails it",
    )

    @field_validator("public_url", "ecwid_api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("payment_rate_limit")
    @classmethod
    def _rate_limit_notation(cls, value: str) -> str:
        if value.strip():
            from limits import parse_many

            try:
                parse_many(value)
            except ValueError as exc:
                raise ValueError("not a rate limit like '30 per minute'") from exc
        return value.strip()

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Settings:
        """A lease shorter than one send would let a second worker send the same update while the first still is."""
        if self.outbox_lease_s <= 5.0 + self.http_timeout_s:
            raise ValueError(
                f"outbox_lease_s ({self.outbox_lease_s:g}) must be longer than one Ecwid send"
                f" (connect 5 s + http_timeout_s {self.http_timeout_s:g})"
            )
        return self

    @model_validator(mode="after")
    def _real_money_over_https(self) -> Settings:
        """In REAL mode the bank and customers reach the gateway over HTTPS, and it reaches the bank over HTTPS."""
        if self.provider_mode is ProviderMode.REAL:
            if not self.public_url.lower().startswith("https://"):
                raise ValueError("public_url must be https:// in REAL mode")
            if not self.provider_url.lower().startswith("https://"):
                raise ValueError("provider_base_url must be https:// in REAL mode")
        return self

    @model_validator(mode="after")
    def _test_clock_in_test_only(self) -> Settings:
        """A clock that people can move is for rehearsals: time-based decisions on real money never follow it."""
        if self.test_clock and self.provider_mode is ProviderMode.REAL:
            raise ValueError("the test clock is TEST-only (VPOSLAB_TEST_CLOCK)")
        return self

    @field_validator("ecwid_client_secrets")
    @classmethod
    def _secrets_are_keys(cls, value: dict[int, SecretStr]) -> dict[int, SecretStr]:
        """Each secret's first 16 characters are its store's AES key: a secret that cannot be one is refused here,
        at start-up, naming the store (never the secret), rather than failing requests later."""
        bad = []
        for store_id, secret in value.items():
            try:
                key_from_secret(secret.get_secret_value())
            except ConfigurationError:
                bad.append(store_id)
        if bad:
            stores = ", ".join(str(store_id) for store_id in sorted(bad))
            raise ValueError(
                f"client secret of store {stores}: needs at least 16 characters, and its first 16 must be ASCII"
            )
        return value

    @field_validator("ecwid_return_hosts")
    @classmethod
    def _return_host_patterns(cls, value: dict[int, list[str]], info: ValidationInfo) -> dict[int, list[str]]:
        """Lower-case, without a trailing dot; each either a host name or '*.suffix' (subdomains of suffix); only for
        configured stores, since a list under a mistyped store id would leave the real store allowing any host."""
        secrets = info.data.get("ecwid_client_secrets")  # absent when it failed its own validation
        unknown = sorted(set(value) - set(secrets)) if secrets is not None else []
        if unknown:
            stores = ", ".join(str(store_id) for store_id in unknown)
            raise ValueError(f"store {stores} has no client secret")
        normalised: dict[int, list[str]] = {}
        for store_id, patterns in value.items():
            if not patterns:
                raise ValueError(f"store {store_id}: an empty list would refuse every request (remove the entry)")
            normalised[store_id] = [pattern.lower().removesuffix(".") for pattern in patterns]
            for pattern in normalised[store_id]:
                problem = return_host_pattern_problem(pattern)
                if problem is not None:
                    raise ValueError(f"store {store_id}: {problem}")
        return normalised

    @field_validator("provider_credentials")
    @classmethod
    def _known_currencies(cls, value: dict[str, ProviderCredentials]) -> dict[str, ProviderCredentials]:
        unknown = set(value) - set(CURRENCIES)
        if unknown:
            raise ValueError(f"unsupported currencies: {sorted(unknown)}")
        return value

    @property
    def provider_url(self) -> str:
        """The RBS REST base, always ending with '/'."""
        base = self.provider_base_url or DEFAULT_PROVIDER_URLS[self.provider_mode]
        return base if base.endswith("/") else base + "/"

    @property
    def registering_stale_s(self) -> float:
        """After this long in ``registering`` no register.do can still be waiting for its answer (connect timeout 5 s
        plus the read timeout, plus a margin): the attempt is recovered by asking the bank by orderNumber."""
        return 5.0 + self.http_timeout_s + 15.0

    @property
    def secret_values(self) -> list[str]:
        """Every configured secret as plain text: for redaction checks, never for output."""
        values = [s.get_secret_value() for s in self.ecwid_client_secrets.values()]
        values += [c.password.get_secret_value() for c in self.provider_credentials.values()]
        values.append(self.token_key.get_secret_value())
        values += [key.strip() for key in self.token_key.get_secret_value().split(",") if key.strip()]
        if self.callback_key is not None:
            values.append(self.callback_key.get_secret_value())
        if self.console_secret_key is not None:
            values.append(self.console_secret_key.get_secret_value())
        return values

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``VPOSLAB_*`` variables. JSON for the maps:

        VPOSLAB_ECWID_CLIENT_SECRETS='{"1003": "client-secret"}'
        VPOSLAB_ECWID_RETURN_HOSTS='{"1003": ["mystore.example", "*.company.site"]}'   (optional)
        VPOSLAB_PROVIDER_CREDENTIALS='{"AMD": {"user_name": "...", "password": "..."}}'
        """
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return env.get(ENV_PREFIX + name)

        def load_json(name: str) -> Any:
            raw = get(name)
            if raw is None:
                raise ConfigurationError(f"{ENV_PREFIX}{name} is required")
            try:
                return json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConfigurationError(f"{ENV_PREFIX}{name} is not valid JSON") from exc

        mode = get("PROVIDER_MODE")
        if not mode:
            raise ConfigurationError(f"{ENV_PREFIX}PROVIDER_MODE is required (TEST or REAL); there is no default")
        values: dict[str, Any] = {
            "public_url": get("PUBLIC_URL"),
            "ecwid_client_secrets": load_json("ECWID_CLIENT_SECRETS"),
            "provider_mode": mode,
            "provider_credentials": load_json("PROVIDER_CREDENTIALS"),
            "token_key": get("TOKEN_KEY"),
        }
        optional = {
            "ecwid_api_url": "ECWID_API_URL",
            "provider_base_url": "PROVIDER_BASE_URL",
            "callback_key": "CALLBACK_KEY",
            "database_url": "DATABASE_URL",
            "http_timeout_s": "HTTP_TIMEOUT_S",
            "session_timeout_s": "SESSION_TIMEOUT_S",
            "send_dynamic_callback_url": "SEND_DYNAMIC_CALLBACK_URL",
            "ecwid_max_attempts": "ECWID_MAX_ATTEMPTS",
            "max_request_bytes": "MAX_REQUEST_BYTES",
            "return_wait_s": "RETURN_WAIT_S",
            "pending_wait_s": "PENDING_WAIT_S",
            "poll_after_s": "POLL_AFTER_S",
            "poll_max_interval_s": "POLL_MAX_INTERVAL_S",
            "reverse_window_s": "REVERSE_WINDOW_S",
            "ecwid_rate_limit_per_minute": "ECWID_RATE_LIMIT_PER_MINUTE",
            "ecwid_backoff_base_s": "ECWID_BACKOFF_BASE_S",
            "ecwid_backoff_max_s": "ECWID_BACKOFF_MAX_S",
            "outbox_lease_s": "OUTBOX_LEASE_S",
            "console_secret_key": "CONSOLE_SECRET_KEY",
            "console_require_totp": "CONSOLE_REQUIRE_TOTP",
            "console_session_ttl_s": "CONSOLE_SESSION_TTL_S",
            "proxy_hops": "PROXY_HOPS",
            "payment_rate_limit": "PAYMENT_RATE_LIMIT",
            "test_clock": "TEST_CLOCK",
        }
        if get("ECWID_RETURN_HOSTS"):
            values["ecwid_return_hosts"] = load_json("ECWID_RETURN_HOSTS")
        if get("TWO_PHASE_STORES"):
            values["two_phase_stores"] = load_json("TWO_PHASE_STORES")
        for field, name in optional.items():
            raw = get(name)
            if raw is not None and raw != "":
                values[field] = raw
        missing = [k for k, v in values.items() if v is None]
        if missing:
            raise ConfigurationError("missing settings: " + ", ".join(ENV_PREFIX + m.upper() for m in missing))
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            # Field names and messages only: the input values may be secrets.
            fields = ", ".join(".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors())
            raise ConfigurationError(f"invalid settings: {fields}") from None
