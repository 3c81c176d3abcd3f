"""What a readiness run is pointed at: the lab (default), a gateway started elsewhere tested against our simulator
started elsewhere, or a deployed gateway with the bank's TEST environment.

A target is described by a TOML file (``vposlab check --target FILE``) or, for the common case, by
``--gateway-url URL --simulator-url URL``. Secrets are never in the file: it names the environment variables that hold
them (defaults below), and a secret that is not set only makes the scenarios that need it NOT APPLICABLE, saying which
variable was missing.

The features receive the target as JSON in ``VPOSLAB_TARGET`` (no secrets); they read the secrets from the named
variables themselves.
"""

from __future__ import annotations

import contextlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lab.env_file import EnvFileError, named_gateway_secrets, read_env_file

TARGET_ENV = "VPOSLAB_TARGET"


class TargetError(ValueError):
    """A target that cannot be used, with the reason for people."""


class TargetKind(StrEnum):
    LAB = "lab"  # gateway + simulator started by the run itself, on free ports, with a virtual clock
    SIMULATOR = "simulator"  # a gateway started elsewhere, with our simulator started elsewhere
    BANK_TEST = "bank-test"  # a deployed gateway with the bank's TEST environment and an Ecwid test store


NOT_SECRET = frozenset({"console_user"})  # named beside the secrets, but a user name: redacting it would mangle text


class SecretVariables(BaseModel):
    """The environment variables holding the target's secrets (their names, never their values)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_secret: str = "VPOSLAB_TARGET_CLIENT_SECRET"  # noqa: S105 - a variable's name
    ecwid_token: str = "VPOSLAB_TARGET_ECWID_TOKEN"  # noqa: S105
    held_store_token: str = "VPOSLAB_TARGET_HELD_STORE_TOKEN"  # noqa: S105
    callback_key: str = "VPOSLAB_TARGET_CALLBACK_KEY"
    bank_credentials: str = "VPOSLAB_TARGET_BANK_CREDENTIALS"  # JSON: {"AMD": {"user_name": ..., "password": ...}}
    console_user: str = "VPOSLAB_TARGET_CONSOLE_USER"
    console_password: str = "VPOSLAB_TARGET_CONSOLE_PASSWORD"  # noqa: S105


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kind: TargetKind
    gateway_url: str | None = None
    gateway: Literal["vposlab", "other"] = "other"  # ours: console and audit are reached over its own HTTP
    payment_url: str | None = None  # default for ours: {gateway_url}/ecwid/payment
    callback_url: str | None = None  # default for ours: {gateway_url}/vpos/callback
    simulator_url: str | None = None
    store_id: int = 1003
    held_store_id: int | None = None  # a store that holds payments (two-phase), when the gateway has one
    bank_base_url: str | None = None  # bank-test: the bank's TEST REST base URL
    real_bank_base_url: str | None = None  # RC-35: the REAL bank, read-only probe
    ecwid_store_url: str | None = None  # bank-test: the Ecwid test store's storefront
    test_cards: dict[str, str] = Field(default_factory=dict)  # bank-test: name -> PAN of the bank's test cards
    # Ours, when the run is on the gateway's own host: the file of its VPOSLAB_* settings (it holds secrets: keep it
    # 0600) and its log files. RC-25 scans them and the database they name; RC-30 audits them. Without them, those
    # scenarios are NOT RUN ("on its own host").
    gateway_env_file: str | None = None
    gateway_logs: list[str] = Field(default_factory=list)
    secrets: SecretVariables = Field(default_factory=SecretVariables)

    @field_validator(
        "gateway_url",
        "payment_url",
        "callback_url",
        "simulator_url",
        "bank_base_url",
        "real_bank_base_url",
        "ecwid_store_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL")
        if parts.username or parts.password:
            raise ValueError("a URL in a target carries no credentials: name an environment variable instead")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _complete(self) -> Target:
        if self.kind is TargetKind.LAB:
            return self
        if self.gateway_url is None:
            raise ValueError(f"a {self.kind} target needs gateway_url")
        if self.kind is TargetKind.SIMULATOR and self.simulator_url is None:
            raise ValueError("a simulator target needs simulator_url (vposlab-simulator serve)")
        if self.kind is TargetKind.BANK_TEST:
            if self.simulator_url is not None:
                raise ValueError("a bank-test target has no simulator: drop simulator_url or use kind = 'simulator'")
            if self.bank_base_url is None:
                raise ValueError("a bank-test target needs bank_base_url (the bank's TEST environment)")
        if self.gateway == "other" and (self.gateway_env_file is not None or self.gateway_logs):
            raise ValueError("gateway_env_file and gateway_logs are our gateway's (gateway = 'vposlab')")
        if self.gateway == "other" and (self.payment_url is None or self.callback_url is None):
            raise ValueError("another gateway's payment_url and callback_url must be given (ours has defaults)")
        return self

    # -- derived ------------------------------------------------------------------------------------------------

    @property
    def ours(self) -> bool:
        return self.kind is TargetKind.LAB or self.gateway == "vposlab"

    @property
    def effective_payment_url(self) -> str:
        return self.payment_url or f"{self.gateway_url}/ecwid/payment"

    @property
    def effective_callback_url(self) -> str:
        return self.callback_url or f"{self.gateway_url}/vpos/callback"

    def describe(self) -> dict[str, Any]:
        """What the report shows as the target: names and URLs, never a secret."""
        shown = self.model_dump(mode="json", exclude_none=True, exclude={"secrets", "test_cards"})
        shown["payment_url"] = self.effective_payment_url if self.gateway_url else None
        shown["callback_url"] = self.effective_callback_url if self.gateway_url else None
        shown["test_cards"] = sorted(self.test_cards)
        shown["secrets_from"] = sorted(self.secrets.model_dump().values())
        return {key: value for key, value in shown.items() if value is not None}

    def to_env(self) -> str:
        return self.model_dump_json()


LAB = Target(name="local lab (simulator)", kind=TargetKind.LAB)


def load_target_file(path: Path) -> Target:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TargetError(f"{path}: cannot read the target file ({exc.strerror or exc})") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TargetError(f"{path}: not a TOML file ({exc})") from exc
    return _validated(data, str(path))


def target_from_urls(
    gateway_url: str,
    simulator_url: str,
    *,
    gateway: str = "vposlab",
    held_store_id: int | None = None,
    gateway_env_file: str | None = None,
    gateway_logs: Sequence[str] = (),
) -> Target:
    host: dict[str, Any] = {"gateway_logs": list(gateway_logs)}
    if gateway_env_file is not None:
        host["gateway_env_file"] = gateway_env_file
    return _validated(
        {
            **host,
            "name": f"gateway at {gateway_url} with the simulator at {simulator_url}",
            "kind": "simulator",
            "gateway_url": gateway_url,
            "simulator_url": simulator_url,
            "gateway": gateway,
            # ours serves the lab's two stores: 1004 holds payments (vposlab-gateway's VPOSLAB_TWO_PHASE_STORES)
            **({"held_store_id": held_store_id} if held_store_id is not None else {}),
        },
        "--gateway-url/--simulator-url",
    )


def target_from_env(environ: Mapping[str, str]) -> Target:
    """The target a feature run was given (the lab when none)."""
    raw = environ.get(TARGET_ENV)
    if not raw:
        return LAB
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise TargetError(f"{TARGET_ENV} is not JSON ({exc})") from exc
    return _validated(data, TARGET_ENV)


def target_secret_values(target: Target, environ: Mapping[str, str]) -> list[str]:
    """The values of the target's secrets that are set (for the report's redaction; never for output)."""
    values = []
    for field, variable in target.secrets.model_dump().items():
        if field in NOT_SECRET:
            continue
        value = environ.get(variable, "")
        if not value:
            continue
        values.append(value)
        if field == "bank_credentials":
            try:
                credentials = json.loads(value)
            except ValueError:
                continue
            if isinstance(credentials, dict):
                values += [str(creds.get("password", "")) for creds in credentials.values() if isinstance(creds, dict)]
    if target.ours and target.gateway_env_file is not None:  # the gateway's own keys, when the run has its file
        with contextlib.suppress(EnvFileError):
            values += named_gateway_secrets(read_env_file(Path(target.gateway_env_file))).values()
    return [value for value in values if value]


def _validated(data: object, source: str) -> Target:
    try:
        return Target.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'target'}: {error['msg']}" for error in exc.errors()
        )
        raise TargetError(f"{source}: {problems}") from exc
