"""The lab's wiring as separate processes, the way a host runs them: ``vposlab-simulator serve``, then
``vposlab-gateway migrate``, an operator account, ``vposlab-gateway serve`` (gunicorn) and ``vposlab-gateway worker``,
configured as ``lab.Lab`` configures its in-process gateway and simulator (stores 1003 and 1004, the latter
two-phase; the four currency merchants; signed callbacks; the lab's timings), so ``vposlab check --gateway-url URL
--simulator-url URL`` can be pointed at them.

    python -m lab.separate --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test [--workdir DIR]

starts everything on free ports on 127.0.0.1, writes the ``VPOSLAB_TARGET_*`` variables ``vposlab check`` reads into
``DIR/target.env`` (mode 0600: it holds the secrets, which are never printed) and prints the check command; Ctrl-C or
SIGTERM stops the processes. Every process's output goes to ``DIR/<name>.log``. Python callers use
``SeparateLab`` (``with SeparateLab(workdir, database_url) as running: running.check_env()``).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

import click
import httpx

from lab.env_file import write_env_file
from lab.lab import CONSOLE_USERNAME, CURRENCY_MERCHANTS, HELD_STORE_ID, STORE_ID, LabSecrets

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GATEWAY_CLI = [sys.executable, "-c", "from gateway.cli import main; main()"]
SIMULATOR_CLI = [sys.executable, "-c", "from simulator.cli import main; main()"]
STOP_WAIT_S = 30.0  # gunicorn's graceful timeout is 30 s; the worker stops after the pass in progress


class SeparateLabError(RuntimeError):
    """A process did not start (the message names it and points at its log)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SeparateLab:
    """The simulator and the gateway (web server and worker) as processes of their own; see the module docstring."""

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        *,
        secrets: LabSecrets | None = None,
        serve_workers: int = 2,
        worker_interval_s: float = 1.0,
        poll_after_s: float = 5.0,
        payment_rate_limit: str = "10000 per minute",  # one address (127.0.0.1) plays every customer
        log_level: str = "INFO",
        base_env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.secrets = secrets or LabSecrets()
        self.serve_workers = serve_workers
        self.worker_interval_s = worker_interval_s
        self.poll_after_s = poll_after_s
        self.payment_rate_limit = payment_rate_limit
        self.log_level = log_level
        # The processes' own environment: the caller's, without any VPOSLAB_* setting that would change them.
        source = os.environ if base_env is None else base_env
        self._base_env = {key: value for key, value in source.items() if not key.startswith("VPOSLAB_")}
        self.gateway_port = free_port()
        self.simulator_port = free_port()
        self._processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._logs: list[IO[bytes]] = []

    # URLs -------------------------------------------------------------------------------------------------------
    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def simulator_url(self) -> str:
        return f"http://127.0.0.1:{self.simulator_port}"

    # configuration ----------------------------------------------------------------------------------------------
    def bank_credentials(self) -> dict[str, dict[str, str]]:
        return {
            currency: {"user_name": user, "password": self.secrets.bank_password(currency)}
            for currency, (user, _) in CURRENCY_MERCHANTS.items()
        }

    def gateway_env(self) -> dict[str, str]:
        """The gateway's ``VPOSLAB_*`` settings: what ``Lab.settings()`` gives the in-process gateway."""
        s = self.secrets
        return {
            **self._base_env,
            "VPOSLAB_PUBLIC_URL": self.gateway_url,
            "VPOSLAB_ECWID_CLIENT_SECRETS": json.dumps(
                {str(STORE_ID): s.client_secret, str(HELD_STORE_ID): s.client_secret}
            ),
            "VPOSLAB_TWO_PHASE_STORES": json.dumps([HELD_STORE_ID]),
            "VPOSLAB_ECWID_API_URL": f"{self.simulator_url}/api/v3",
            "VPOSLAB_PROVIDER_MODE": "TEST",
            "VPOSLAB_PROVIDER_BASE_URL": f"{self.simulator_url}/payment/rest/",
            "VPOSLAB_PROVIDER_CREDENTIALS": json.dumps(self.bank_credentials()),
            "VPOSLAB_CALLBACK_KEY": s.callback_key,
            "VPOSLAB_TOKEN_KEY": s.token_key,
            "VPOSLAB_CONSOLE_SECRET_KEY": s.console_key,
            "VPOSLAB_DATABASE_URL": self.database_url,
            "VPOSLAB_HTTP_TIMEOUT_S": "10",
            "VPOSLAB_POLL_AFTER_S": f"{self.poll_after_s:g}",
            "VPOSLAB_POLL_MAX_INTERVAL_S": f"{max(self.poll_after_s, 30.0):g}",
            "VPOSLAB_PENDING_WAIT_S": "6",
            "VPOSLAB_PAYMENT_RATE_LIMIT": self.payment_rate_limit,
            "VPOSLAB_LOG_LEVEL": self.log_level,
            "VPOSLAB_SERVE_WORKERS": str(self.serve_workers),
            # TEST only (the audit fails it): scenarios move the gateway's time through its console.
            "VPOSLAB_TEST_CLOCK": "true",
            # gunicorn's control socket is off (gateway/server.py); a runtime folder of its own all the same.
            "XDG_RUNTIME_DIR": str(self.workdir),
        }

    def settings_file(self) -> Path:
        """The gateway's ``VPOSLAB_*`` settings as its host keeps them (0600): ``--gateway-env-file``."""
        return self.workdir / "gateway.env"

    def simulator_command(self) -> list[str]:
        """``vposlab-simulator serve`` with no secret on its command line (``simulator_env`` carries them)."""
        return [
            *SIMULATOR_CLI,
            "serve",
            "--port",
            str(self.simulator_port),
            "--payment-url",
            f"{self.gateway_url}/ecwid/payment",
            "--callback-url",
            f"{self.gateway_url}/vpos/callback",
        ]

    def simulator_env(self) -> dict[str, str]:
        """The simulator's stores, merchants and callback key: in its environment, which other users cannot read
        (arguments show in ``ps``)."""
        s = self.secrets
        stores = [
            f"{STORE_ID}:{s.client_secret}:{s.ecwid_token}",
            f"{HELD_STORE_ID}:{s.client_secret}:{s.held_store_token}",
        ]
        merchants = [
            f"{user}:{s.bank_password(currency)}:{numeric}" for currency, (user, numeric) in CURRENCY_MERCHANTS.items()
        ]
        return {
            **self._base_env,
            "VPOSLAB_SIM_STORES": "\n".join(stores),
            "VPOSLAB_SIM_MERCHANTS": "\n".join(merchants),
            "VPOSLAB_SIM_CALLBACK_KEY": s.callback_key,
        }

    def check_env(self) -> dict[str, str]:
        """The ``VPOSLAB_TARGET_*`` variables ``vposlab check --gateway-url ... --simulator-url ...`` reads."""
        s = self.secrets
        return {
            "VPOSLAB_TARGET_CLIENT_SECRET": s.client_secret,
            "VPOSLAB_TARGET_ECWID_TOKEN": s.ecwid_token,
            "VPOSLAB_TARGET_HELD_STORE_TOKEN": s.held_store_token,
            "VPOSLAB_TARGET_CALLBACK_KEY": s.callback_key,
            "VPOSLAB_TARGET_BANK_CREDENTIALS": json.dumps(self.bank_credentials()),
            "VPOSLAB_TARGET_CONSOLE_USER": CONSOLE_USERNAME,
            "VPOSLAB_TARGET_CONSOLE_PASSWORD": s.console_password,
        }

    def check_args(self) -> list[str]:
        """What ``vposlab check`` is told: the URLs, the store that holds payments, and, the run being on this
        host, the gateway's settings file and the logs of its web server and worker."""
        return [
            "--gateway-url",
            self.gateway_url,
            "--simulator-url",
            self.simulator_url,
            "--held-store-id",
            str(HELD_STORE_ID),
            "--gateway-env-file",
            str(self.settings_file()),
            "--gateway-log",
            str(self.log_path("gateway")),
            "--gateway-log",
            str(self.log_path("worker")),
        ]

    # lifecycle --------------------------------------------------------------------------------------------------
    def start(self) -> SeparateLab:
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            # Each process takes seconds to import: the ones that do not wait for another start side by side.
            self._spawn("simulator", self.simulator_command(), self.simulator_env())
            env = self.gateway_env()
            write_env_file(self.settings_file(), {k: v for k, v in env.items() if k.startswith("VPOSLAB_")})
            self._run("migrate", [*GATEWAY_CLI, "migrate"], env)  # serve and worker refuse an unmigrated database
            serve = ["serve", "--port", str(self.gateway_port), "--workers", str(self.serve_workers)]
            self._spawn("gateway", [*GATEWAY_CLI, *serve], env)
            self._spawn("worker", [*GATEWAY_CLI, "worker", "--interval", f"{self.worker_interval_s:g}"], env)
            self._run(
                "operator",
                [*GATEWAY_CLI, "operator", "add", CONSOLE_USERNAME, "--password-stdin"],
                env,
                stdin=self.secrets.console_password + "\n",
            )
            self._wait_for("simulator", f"{self.simulator_url}/_control/health")
            self._wait_for("gateway", f"{self.gateway_url}/readyz")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM every process (last started first), wait, SIGKILL the ones still there."""
        for _name, process in reversed(self._processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_S
        for _name, process in reversed(self._processes):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self._processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def exit_codes(self) -> dict[str, int | None]:
        """Each started process's exit code (None: still running)."""
        return {name: process.poll() for name, process in self._processes}

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def __enter__(self) -> SeparateLab:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = self.log_path(name).open("ab")
        self._logs.append(log)
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        self._processes.append((name, process))

    def _run(self, name: str, command: list[str], env: dict[str, str], *, stdin: str | None = None) -> None:
        with self.log_path(name).open("ab") as log:
            done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
                command,
                cwd=PROJECT_ROOT,
                env=env,
                input=(stdin or "").encode("utf-8"),
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=120,
                check=False,
            )
        if done.returncode != 0:
            raise SeparateLabError(f"{name} exited with {done.returncode} (see {self.log_path(name)})")

    def _wait_for(self, name: str, url: str, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=5) as client:
            while time.monotonic() < deadline:
                for started, process in self._processes:
                    if process.poll() is not None:
                        raise SeparateLabError(
                            f"{started} exited with {process.returncode} (see {self.log_path(started)})"
                        )
                try:
                    if client.get(url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise SeparateLabError(f"{name} did not answer {url} within {timeout_s:g} s (see {self.log_path(name)})")


@click.command()
@click.option(
    "--database-url",
    default=None,
    help="the gateway's database (PostgreSQL for several processes) [default: SQLite in the workdir]",
)
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1), help="gunicorn worker processes")
def main(database_url: str | None, workdir: Path | None, workers: int) -> None:
    """Start the simulator and the gateway as separate processes; print how to point vposlab check at them."""
    workdir = (workdir or Path(tempfile.mkdtemp(prefix="vposlab-separate-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{workdir / 'gateway.sqlite3'}"
    stop = {"requested": False}

    def request_stop(_signum: int, _frame: object) -> None:
        stop["requested"] = True

    signal.signal(signal.SIGTERM, request_stop)
    with SeparateLab(workdir, url, serve_workers=workers) as running:
        env_file = workdir / "target.env"
        env_file.touch(mode=0o600)
        env_file.chmod(0o600)
        lines = [f"export {name}={shlex.quote(value)}" for name, value in running.check_env().items()]
        env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        click.echo("vposlab separate lab is running (Ctrl-C to stop)")
        click.echo(f"  gateway     {running.gateway_url}  (gunicorn, {workers} workers; and a worker process)")
        click.echo(f"  simulator   {running.simulator_url}")
        click.echo(f"  logs        {workdir}/{{simulator,gateway,worker}}.log")
        click.echo(f"  secrets     {env_file} (0600; the gateway's own settings: {running.settings_file()})")
        click.echo(
            "  check with  . " + shlex.quote(str(env_file)) + " && vposlab check " + shlex.join(running.check_args())
        )
        try:
            while not stop["requested"]:
                if any(code is not None for code in running.exit_codes().values()):
                    raise click.ClickException(f"a process stopped: {running.exit_codes()} (see the logs)")
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        click.echo("stopping")


if __name__ == "__main__":
    main()
