"""A target started elsewhere, seen by the steps through the same attributes as the lab (``lab.storefront_url``,
``lab.secrets.client_secret``...): a gateway at a URL with our simulator at a URL, or a deployed gateway with the
bank's TEST environment.

What the steps cannot have from a target started elsewhere ends the scenario honestly, through ``pytest.skip`` with
a reason the report reads (``features/support/applicability.py``): NOT APPLICABLE when the target does not have the
thing at all (another gateway has no console of ours), NOT RUN when it could be checked but not from here (the
gateway's own records and clock, a secret whose variable is not set).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from features.support.applicability import not_applicable, not_run_here
from features.support.gateway_api import ConsoleApi, ConsoleApiError
from features.support.gateway_host import AuditFailed, run_gateway_audit
from lab.env_file import EnvFileError, named_gateway_secrets, read_env_file
from lab.targets import NOT_SECRET, Target, TargetKind

ON_ITS_HOST = "is on the gateway's own host"
AUDIT_NOT_COUNTED = (
    "a target run against the simulator is a TEST configuration by design; the REAL configuration is audited with"
    " vposlab-gateway audit on the production host"
)


class TargetSecrets:
    """The target's secrets, read from the environment variables the target names; a missing one ends the
    scenario that needs it (never a guess, never an empty string)."""

    def __init__(self, target: Target, environ: Mapping[str, str]) -> None:
        self._names = target.secrets.model_dump()
        self._values = {field: environ.get(variable, "") for field, variable in self._names.items()}

    def _get(self, field: str) -> str:
        value = self._values.get(field, "")
        if not value:
            what = field.replace("_", " ")
            not_run_here(f"the target's {what} is not set (environment variable {self._names[field]})")
        return value

    @property
    def client_secret(self) -> str:
        return self._get("client_secret")

    @property
    def ecwid_token(self) -> str:
        return self._get("ecwid_token")

    @property
    def held_store_token(self) -> str:
        return self._get("held_store_token")

    @property
    def callback_key(self) -> str:
        return self._get("callback_key")

    @property
    def console_password(self) -> str:
        return self._get("console_password")

    def named(self) -> dict[str, str]:
        """Every secret that is set, by name (for the secrets scans and the report's redaction)."""
        skipped = {"bank_credentials", *NOT_SECRET}
        named = {field: value for field, value in self._values.items() if value and field not in skipped}
        for currency, creds in self.bank_credentials().items():
            named[f"bank_password_{currency.lower()}"] = str(creds.get("password", ""))
        return {name: value for name, value in named.items() if value}

    def values(self) -> list[str]:
        return list(self.named().values())

    def bank_credentials(self) -> dict[str, dict[str, Any]]:
        raw = self._values.get("bank_credentials", "")
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            not_run_here(f"{self._names['bank_credentials']} is not JSON")
        return data if isinstance(data, dict) else {}


class RemoteTarget:
    """The lab's face for a target started elsewhere (see the module's docstring)."""

    def __init__(self, target: Target, environ: Mapping[str, str] | None = None) -> None:
        self.spec = target
        self._environ = os.environ if environ is None else environ
        self.secrets = TargetSecrets(target, self._environ)
        self._console: ConsoleApi | None = None
        self._audit: dict[str, Any] | None = None

    # URLs -----------------------------------------------------------------------------------------------------
    @property
    def gateway_url(self) -> str:
        assert self.spec.gateway_url is not None
        return self.spec.gateway_url

    @property
    def simulator_url(self) -> str:
        if self.spec.simulator_url is None:
            not_applicable("the target has no simulator: the bank's TEST environment cannot be steered")
        return self.spec.simulator_url

    @property
    def payment_url(self) -> str:
        return self.spec.effective_payment_url

    @property
    def callback_url(self) -> str:
        return self.spec.effective_callback_url

    @property
    def storefront_url(self) -> str:
        return f"{self.simulator_url}/store/{self.spec.store_id}/"

    @property
    def held_storefront_url(self) -> str:
        if self.spec.held_store_id is None:
            not_applicable("the target's gateway has no store that holds payments (held_store_id)")
        return f"{self.simulator_url}/store/{self.spec.held_store_id}/"

    @property
    def bank_url(self) -> str:
        if self.spec.kind is TargetKind.BANK_TEST:
            assert self.spec.bank_base_url is not None
            return self.spec.bank_base_url + "/"
        return f"{self.simulator_url}/payment/rest/"

    @property
    def ecwid_api_url(self) -> str:
        return f"{self.simulator_url}/api/v3"

    @property
    def console_url(self) -> str:
        self._ours("its operator console")
        return f"{self.gateway_url}/ops/"

    @property
    def console_credentials(self) -> tuple[str, str]:
        self._ours("its operator console")
        user = self._environ.get(self.spec.secrets.console_user, "")
        if not user:
            not_run_here(f"no console operator for the target (environment variable {self.spec.secrets.console_user})")
        return user, self.secrets.console_password

    # ours, through its own HTTP interfaces ----------------------------------------------------------------------
    def advance_gateway_clock(self, seconds: float) -> None:
        """Move our gateway's test clock (TEST only, ``VPOSLAB_TEST_CLOCK``) through its console."""
        if self._console is None:
            self._console = ConsoleApi(self.console_url, *self.console_credentials)
        try:
            self._console.advance_clock(seconds)
        except ConsoleApiError as exc:
            not_run_here(f"moving the gateway's clock ({seconds:g} s): {exc}")

    # ours, on its own host -------------------------------------------------------------------------------------
    def log_paths(self) -> list[Path]:
        """The gateway's log files (``--gateway-log``), for the secrets scan."""
        self._ours("its log")
        if not self.spec.gateway_logs:
            not_run_here(f"the gateway's log {ON_ITS_HOST}: name its files with --gateway-log, or scan them there")
        return [Path(path) for path in self.spec.gateway_logs]

    def gateway_environment(self) -> dict[str, str]:
        """The gateway's ``VPOSLAB_*`` settings, from its settings file (``--gateway-env-file``)."""
        self._ours("its configuration")
        if self.spec.gateway_env_file is None:
            not_run_here(
                f"the gateway's configuration {ON_ITS_HOST}: name its settings file with --gateway-env-file,"
                " or check it there"
            )
        try:
            return read_env_file(Path(self.spec.gateway_env_file))
        except EnvFileError as exc:
            not_run_here(str(exc))

    def database_url(self) -> str:
        url = self.gateway_environment().get("VPOSLAB_DATABASE_URL", "")
        if not url:
            not_run_here(f"{self.spec.gateway_env_file} names no VPOSLAB_DATABASE_URL")
        return url

    def token_key(self) -> str:
        key = self.gateway_environment().get("VPOSLAB_TOKEN_KEY", "")
        if not key:
            not_run_here(f"{self.spec.gateway_env_file} names no VPOSLAB_TOKEN_KEY")
        return key

    def configuration_audit(self) -> dict[str, Any]:
        """``vposlab-gateway audit --json`` on the gateway's settings file, for the report and RC-30: a TEST
        configuration, so shown and not counted toward the verdict."""
        if self._audit is None:
            try:
                _, found, _ = run_gateway_audit(self.gateway_environment())
            except AuditFailed as exc:
                not_run_here(str(exc))
            self._audit = {
                **found,
                "subject": f"the gateway's configuration ({self.spec.gateway_env_file})",
                "counts": False,
                "reason": AUDIT_NOT_COUNTED,
            }
        return self._audit

    # secrets ---------------------------------------------------------------------------------------------------
    def named_secrets(self) -> dict[str, str]:
        """The target's secrets, and the gateway's own when its settings file is named."""
        named = self.secrets.named()
        if self.spec.ours and self.spec.gateway_env_file is not None:
            # An unreadable file: the scenarios that need it end NOT RUN, saying why.
            with contextlib.suppress(EnvFileError):
                named.update(named_gateway_secrets(read_env_file(Path(self.spec.gateway_env_file))))
        return named

    def bank_credentials(self) -> dict[str, dict[str, str]]:
        found = self.secrets.bank_credentials()
        if not found:
            not_run_here(f"no bank credentials for the target ({self.spec.secrets.bank_credentials})")
        return {
            currency: {"user_name": str(creds["user_name"]), "password": str(creds["password"])}
            for currency, creds in found.items()
        }

    def target(self) -> dict[str, Any]:
        described = self.spec.describe()
        if self.spec.ours and self.spec.gateway_env_file is not None:
            try:
                return {**described, "configuration_audit": self.configuration_audit()}
            except pytest.skip.Exception as exc:  # NOT RUN (the file unreadable, the audit silent): the report says why
                described["configuration_audit_note"] = f"not read: {exc}"
                return described
        return {
            **described,
            "configuration_audit_note": "not read: a gateway started elsewhere is audited on its own host"
            " (vposlab-gateway audit, or name its settings file with --gateway-env-file); keep its output beside"
            " this report",
        }

    def require_ours(self, what: str) -> None:
        self._ours(what)

    def _ours(self, what: str) -> None:
        if not self.spec.ours:
            not_applicable(f"the target's gateway is not vposlab: {what} is not ours to drive")
