"""Start the whole lab: simulator (bank + Ecwid) and gateway, each on its own free port, with fresh secrets.

Wiring: gateway -> simulator's RBS base URL and Ecwid API; simulator storefront -> gateway paymentUrl; bank
callbacks -> gateway callback URL, signed with a shared key. A worker thread relays the outbox and polls.

The gateway logs as in production (JSON lines, configured secrets scrubbed) into ``<workdir>/gateway.log`` at the
level given (``VPOSLAB_LOG_LEVEL`` in the features); the secrets scan of RC-25 reads that file.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import httpx
from cryptography.fernet import Fernet

from gateway import Settings, build_context, create_app
from gateway.logs import configure_logging
from gateway.services.config_audit import audit_settings
from gateway.services.context import GatewayContext
from gateway.services.operators import upsert_operator
from gateway.store.database import Database
from gateway.worker import run_pass
from lab.clock import OffsetClock
from lab.servers import ServerThread
from simulator import create_app as create_simulator
from simulator.config import EcwidStore, SimulatorConfig, VposMerchant

log = logging.getLogger(__name__)

STORE_ID = 1003
CONSOLE_USERNAME = "qa"  # the lab's operator account; its password is in LabSecrets
HELD_STORE_ID = 1004  # the same payment app in a second store that holds payments (two-phase) and captures later
CURRENCY_MERCHANTS = {
    "AMD": ("lab_amd_api", "051"),
    "USD": ("lab_usd_api", "840"),
    "EUR": ("lab_eur_api", "978"),
    "RUB": ("lab_rub_api", "643"),
}


@dataclass(frozen=True)
class LabSecrets:
    client_secret: str = field(default_factory=lambda: "cs_" + secrets.token_urlsafe(24))
    ecwid_token: str = field(default_factory=lambda: "secret_" + secrets.token_urlsafe(24))
    bank_password_amd: str = field(default_factory=lambda: "pw-" + secrets.token_urlsafe(12))
    bank_password_usd: str = field(default_factory=lambda: "pw-" + secrets.token_urlsafe(12))
    bank_password_eur: str = field(default_factory=lambda: "pw-" + secrets.token_urlsafe(12))
    bank_password_rub: str = field(default_factory=lambda: "pw-" + secrets.token_urlsafe(12))
    held_store_token: str = field(default_factory=lambda: "secret_" + secrets.token_urlsafe(24))
    callback_key: str = field(default_factory=lambda: secrets.token_hex(32))
    token_key: str = field(default_factory=lambda: Fernet.generate_key().decode("ascii"))
    console_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    console_password: str = field(default_factory=lambda: "qa-" + secrets.token_urlsafe(18))

    @classmethod
    def from_json(cls, raw: str) -> LabSecrets:
        """Secrets planted by the caller (a JSON object naming some or all fields; the rest are generated)."""
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("the lab's secrets must be a JSON object")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown lab secret(s): {', '.join(unknown)}")
        if not all(isinstance(value, str) and len(value) >= 8 for value in data.values()):
            raise ValueError("every lab secret must be a string of at least 8 characters")
        return cls(**data)

    def named(self) -> dict[str, str]:
        """Every secret by its field name (for secrets scans; never for output)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def values(self) -> list[str]:
        return [
            self.client_secret,
            self.ecwid_token,
            self.bank_password_amd,
            self.bank_password_usd,
            self.bank_password_eur,
            self.bank_password_rub,
            self.held_store_token,
            self.callback_key,
            self.token_key,
            self.console_key,
            self.console_password,
        ]

    def __repr__(self) -> str:
        return "LabSecrets(***)"

    def bank_password(self, currency: str) -> str:
        return {
            "AMD": self.bank_password_amd,
            "USD": self.bank_password_usd,
            "EUR": self.bank_password_eur,
            "RUB": self.bank_password_rub,
        }[currency]


class Lab:
    """``with Lab(workdir) as lab:`` starts everything; leaving stops it. URLs are attributes."""

    def __init__(
        self,
        workdir: Path,
        *,
        database_url: str | None = None,
        worker_interval_s: float = 1.0,
        poll_after_s: float = 5.0,
        secrets: LabSecrets | None = None,
        log_level: str = "INFO",
    ) -> None:
        self.workdir = workdir
        self.log_level = log_level
        self.secrets = secrets or LabSecrets()
        self._database_url = database_url or f"sqlite:///{workdir / 'gateway.sqlite3'}"
        self._worker_interval_s = worker_interval_s
        self._poll_after_s = poll_after_s
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._sim_server = ServerThread("simulator")
        self._gw_server = ServerThread("gateway")
        self.gateway: GatewayContext | None = None
        self.clock = OffsetClock()  # the gateway's time; ``advance_gateway_clock`` moves it
        self._log: TextIO | None = None

    # URLs -----------------------------------------------------------------
    @property
    def simulator_url(self) -> str:
        return self._sim_server.url

    @property
    def gateway_url(self) -> str:
        return self._gw_server.url

    @property
    def payment_url(self) -> str:
        return f"{self.gateway_url}/ecwid/payment"

    @property
    def callback_url(self) -> str:
        return f"{self.gateway_url}/vpos/callback"

    @property
    def storefront_url(self) -> str:
        return f"{self.simulator_url}/store/{STORE_ID}/"

    @property
    def held_storefront_url(self) -> str:
        """The store whose payments are held (two-phase) until captured."""
        return f"{self.simulator_url}/store/{HELD_STORE_ID}/"

    def advance_gateway_clock(self, seconds: float) -> None:
        """Move the gateway's time (not the bank's): its own timeouts pass while the bank page stays open."""
        self.clock.advance(seconds)

    @property
    def bank_url(self) -> str:
        return f"{self.simulator_url}/payment/rest/"

    @property
    def ecwid_api_url(self) -> str:
        return f"{self.simulator_url}/api/v3"

    @property
    def console_url(self) -> str:
        return f"{self.gateway_url}/ops/"

    @property
    def console_credentials(self) -> tuple[str, str]:
        """(username, password) of the QA operator account: for features only, never for reports."""
        return CONSOLE_USERNAME, self.secrets.console_password

    def settings(self) -> Settings:
        s = self.secrets
        return Settings.model_validate(
            {
                "public_url": self.gateway_url,
                "ecwid_client_secrets": {STORE_ID: s.client_secret, HELD_STORE_ID: s.client_secret},
                "two_phase_stores": [HELD_STORE_ID],
                "ecwid_api_url": self.ecwid_api_url,
                "provider_mode": "TEST",
                "provider_base_url": self.bank_url,
                "provider_credentials": {
                    currency: {"user_name": user, "password": s.bank_password(currency)}
                    for currency, (user, _) in CURRENCY_MERCHANTS.items()
                },
                "callback_key": s.callback_key,
                "token_key": s.token_key,
                "console_secret_key": s.console_key,
                "database_url": self._database_url,
                "http_timeout_s": 10.0,
                "poll_after_s": self._poll_after_s,
                "payment_rate_limit": "600 per minute",  # one address (127.0.0.1) plays every customer
                "pending_wait_s": 6.0,  # a customer back while the bank decides waits this long on our page
                "poll_max_interval_s": max(self._poll_after_s, 30.0),
            }
        )

    def simulator_config(self) -> SimulatorConfig:
        s = self.secrets
        return SimulatorConfig(
            public_url=self.simulator_url,
            payment_url=self.payment_url,
            stores=(
                EcwidStore(store_id=STORE_ID, client_secret=s.client_secret, token=s.ecwid_token),
                EcwidStore(store_id=HELD_STORE_ID, client_secret=s.client_secret, token=s.held_store_token),
            ),
            merchants=tuple(
                VposMerchant(user_name=user, password=s.bank_password(currency), currency=numeric)
                for currency, (user, numeric) in CURRENCY_MERCHANTS.items()
            ),
            callback_url=self.callback_url,
            callback_key=s.callback_key,
        )

    def named_secrets(self) -> dict[str, str]:
        return self.secrets.named()

    def require_ours(self, what: str) -> None:
        """The lab's gateway is vposlab: whatever only our gateway has is here."""

    def bank_credentials(self) -> dict[str, dict[str, str]]:
        """The bank user and password per currency (for the parity probe; never for output)."""
        return {
            currency: {"user_name": user, "password": self.secrets.bank_password(currency)}
            for currency, (user, _) in CURRENCY_MERCHANTS.items()
        }

    @property
    def log_path(self) -> Path:
        """The gateway's JSON log lines (secrets scrubbed, as in production)."""
        return self.workdir / "gateway.log"

    def log_paths(self) -> list[Path]:
        """Every log file of the gateway (one: web and worker share the lab's process)."""
        return [self.log_path]

    def database_url(self) -> str:
        """The gateway's database (for the secrets scan of what it stores)."""
        return self._database_url

    def token_key(self) -> str:
        """The key the gateway seals Ecwid tokens with (to prove they open only with it)."""
        return self.secrets.token_key

    def configuration_audit(self) -> dict[str, Any]:
        """``vposlab-gateway audit`` of the configuration the lab's gateway runs, for the report: a TEST
        configuration by design, so it is shown and never counted toward the verdict."""
        report = audit_settings(self.settings(), environ=os.environ, serve_workers=1).as_dict()
        return {
            **report,
            "subject": "the lab's gateway configuration (TEST)",
            "counts": False,
            "reason": "the lab runs a TEST configuration by design; the REAL configuration is audited"
            " with vposlab-gateway audit on the production host",
        }

    def target(self) -> dict[str, Any]:
        """What the readiness report shows as the target (no secrets)."""
        return {
            "name": "local lab (simulator)",
            "gateway_url": self.gateway_url,
            "provider_mode": "TEST",
            "provider_base_url": self.bank_url,
            "ecwid_api_url": self.ecwid_api_url,
            "storefront_url": self.storefront_url,
            "database": self._database_url.split("://", 1)[0],
            "configuration_audit": self.configuration_audit(),
        }

    # lifecycle --------------------------------------------------------------
    def start(self) -> Lab:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("a", encoding="utf-8")  # closed in stop()
        configure_logging(self.log_level, "json", self.settings().secret_values, stream=self._log)
        self._sim_server.start(create_simulator(self.simulator_config()))
        migrate_database(self.settings().database_url)  # the operator's one explicit step
        self.gateway = build_context(self.settings(), clock=self.clock)
        upsert_operator(self.gateway, CONSOLE_USERNAME, self.secrets.console_password, actor="lab")
        self._gw_server.start(create_app(context=self.gateway))
        self._worker = threading.Thread(target=self._work, name="gateway-worker", daemon=True)
        self._worker.start()
        self._wait_ready()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=10)
        self._gw_server.stop()
        self._sim_server.stop()
        if self.gateway is not None:
            self.gateway.db.dispose()
        if self._log is not None:
            logging.getLogger().handlers.clear()  # nothing may write to the closed file
            self._log.close()
            self._log = None

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        with httpx.Client(timeout=5) as client:
            for url in (f"{self.simulator_url}/_control/health", f"{self.gateway_url}/health"):
                client.get(url).raise_for_status()

    def _work(self) -> None:
        assert self.gateway is not None
        while not self._stop.wait(self._worker_interval_s):
            run_pass(self.gateway)


def migrate_database(database_url: str) -> None:
    """The operator's one explicit schema step (``vposlab-gateway migrate``), before anything starts."""
    db = Database(database_url)
    try:
        db.migrate()
    finally:
        db.dispose()
