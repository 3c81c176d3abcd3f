"""Start the whole lab: simulator (bank + Ecwid) and gateway, each on its own free port, with fresh secrets.

Wiring: gateway -> simulator's RBS base URL and Ecwid API; simulator storefront -> gateway paymentUrl; bank
callbacks -> gateway callback URL, signed with a shared key. A worker thread relays the outbox and polls.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from cryptography.fernet import Fernet

from gateway import Settings, build_context, create_app
from gateway.services.context import GatewayContext
from gateway.store.database import Database
from gateway.worker import run_pass
from lab.servers import ServerThread
from simulator import create_app as create_simulator
from simulator.config import EcwidStore, SimulatorConfig, VposMerchant

log = logging.getLogger(__name__)

STORE_ID = 1003


@dataclass(frozen=True)
class LabSecrets:
    client_secret: str = field(default_factory=lambda: "cs_" + secrets.token_urlsafe(24))
    ecwid_token: str = field(default_factory=lambda: "secret_" + secrets.token_urlsafe(24))
    bank_password_amd: str = field(default_factory=lambda: "pw-" + secrets.token_urlsafe(12))
    bank_password_usd: str = field(default_factory=lambda: "pw-" + secrets.token_urlsafe(12))
    callback_key: str = field(default_factory=lambda: secrets.token_hex(32))
    token_key: str = field(default_factory=lambda: Fernet.generate_key().decode("ascii"))

    def values(self) -> list[str]:
        return [
            self.client_secret,
            self.ecwid_token,
            self.bank_password_amd,
            self.bank_password_usd,
            self.callback_key,
            self.token_key,
        ]

    def __repr__(self) -> str:
        return "LabSecrets(***)"


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
    ) -> None:
        self.workdir = workdir
        self.secrets = secrets or LabSecrets()
        self._database_url = database_url or f"sqlite:///{workdir / 'gateway.sqlite3'}"
        self._worker_interval_s = worker_interval_s
        self._poll_after_s = poll_after_s
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._sim_server = ServerThread("simulator")
        self._gw_server = ServerThread("gateway")
        self.gateway: GatewayContext | None = None

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
    def bank_url(self) -> str:
        return f"{self.simulator_url}/payment/rest/"

    @property
    def ecwid_api_url(self) -> str:
        return f"{self.simulator_url}/api/v3"

    def settings(self) -> Settings:
        s = self.secrets
        return Settings.model_validate(
            {
                "public_url": self.gateway_url,
                "ecwid_client_secrets": {STORE_ID: s.client_secret},
                "ecwid_api_url": self.ecwid_api_url,
                "provider_mode": "TEST",
                "provider_base_url": self.bank_url,
                "provider_credentials": {
                    "AMD": {"user_name": "lab_amd_api", "password": s.bank_password_amd},
                    "USD": {"user_name": "lab_usd_api", "password": s.bank_password_usd},
                },
                "callback_key": s.callback_key,
                "token_key": s.token_key,
                "database_url": self._database_url,
                "http_timeout_s": 10.0,
                "poll_after_s": self._poll_after_s,
                "pending_wait_s": 6.0,  # a customer back while the bank decides waits this long on our page
                "poll_max_interval_s": max(self._poll_after_s, 30.0),
            }
        )

    def simulator_config(self) -> SimulatorConfig:
        s = self.secrets
        return SimulatorConfig(
            public_url=self.simulator_url,
            payment_url=self.payment_url,
            stores=(EcwidStore(store_id=STORE_ID, client_secret=s.client_secret, token=s.ecwid_token),),
            merchants=(
                VposMerchant(user_name="lab_amd_api", password=s.bank_password_amd, currency="051"),
                VposMerchant(user_name="lab_usd_api", password=s.bank_password_usd, currency="840"),
            ),
            callback_url=self.callback_url,
            callback_key=s.callback_key,
        )

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
        }

    # lifecycle --------------------------------------------------------------
    def start(self) -> Lab:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._sim_server.start(create_simulator(self.simulator_config()))
        migrate_database(self.settings().database_url)  # the operator's one explicit step
        self.gateway = build_context(self.settings())
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
