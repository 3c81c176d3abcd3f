"""A target started elsewhere, seen by the steps through the same attributes as the lab (``lab.storefront_url``,
``lab.secrets.client_secret``...): a gateway at a URL with our simulator at a URL, or a deployed gateway with the
bank's TEST environment.

What the steps cannot have from a target started elsewhere ends the scenario honestly, through ``pytest.skip`` with
a reason the report reads (``features/support/applicability.py``): NOT APPLICABLE when the target does not have the
thing at all (another gateway has no console of ours), NOT RUN when it could be checked but not from here (the
gateway's own records and clock, a secret whose variable is not set).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, NoReturn

from features.support.applicability import not_applicable, not_run_here
from lab.targets import NOT_SECRET, Target, TargetKind


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

    gateway = None  # the gateway's internals (database, clock) are not reachable: steps that need them end

    def __init__(self, target: Target, environ: Mapping[str, str] | None = None) -> None:
        self.spec = target
        self._environ = os.environ if environ is None else environ
        self.secrets = TargetSecrets(target, self._environ)

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

    # what only the lab has -------------------------------------------------------------------------------------
    def internals(self, what: str) -> NoReturn:
        not_run_here(f"{what} is read from the gateway's own records, reachable only in the lab")

    def named_secrets(self) -> dict[str, str]:
        return self.secrets.named()

    def bank_credentials(self) -> dict[str, dict[str, str]]:
        found = self.secrets.bank_credentials()
        if not found:
            not_run_here(f"no bank credentials for the target ({self.spec.secrets.bank_credentials})")
        return {
            currency: {"user_name": str(creds["user_name"]), "password": str(creds["password"])}
            for currency, creds in found.items()
        }

    @property
    def log_path(self) -> NoReturn:
        not_run_here("the gateway's log file is on its own host: scan it there (docs: RC-25)")

    def settings(self) -> NoReturn:
        not_run_here("the gateway's configuration and timings are not readable from a target started elsewhere")

    def advance_gateway_clock(self, seconds: float) -> NoReturn:
        not_run_here(f"moving the gateway's clock ({seconds:g} s) needs the lab's virtual clock")

    def configuration_audit(self) -> NoReturn:
        not_run_here("the configuration of a gateway started elsewhere is audited on its own host")

    def target(self) -> dict[str, Any]:
        return {
            **self.spec.describe(),
            "configuration_audit_note": "not read: a gateway started elsewhere is audited on its own host"
            " (vposlab-gateway audit); keep its output beside this report",
        }

    def require_ours(self, what: str) -> None:
        self._ours(what)

    def _ours(self, what: str) -> None:
        if not self.spec.ours:
            not_applicable(f"the target's gateway is not vposlab: {what} is not ours to drive")
