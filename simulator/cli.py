"""``vposlab-simulator``: serve the simulator on a local port for demos and manual testing.

    vposlab-simulator serve --port 8101 --payment-url http://127.0.0.1:8100/ecwid/payment \
        --store 1003:CLIENT_SECRET:TOKEN --merchant USER:PASSWORD:051 [--callback-url URL] [--callback-key KEY]

Without ``--store`` / ``--merchant`` it uses demo credentials (documented in ``simulator/README.md``). Secrets are
never printed. Every option that carries a secret also reads an environment variable (``VPOSLAB_SIM_STORES`` and
``VPOSLAB_SIM_MERCHANTS``, one value per line; ``VPOSLAB_SIM_CALLBACK_KEY``): on a shared host, command-line
arguments are visible to every user (``ps``), the environment of a process is not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from simulator.app import create_app
from simulator.config import CALLBACK_METHODS, EcwidStore, SimulatorConfig, VposMerchant
from simulator.serving import make_simulator_server

# Public demo credentials for a local sandbox only: documented in the README, protecting nothing.
DEMO_STORE = EcwidStore(
    store_id=1003,
    client_secret="demo-client-secret-0123456789",  # noqa: S106
    token="secret_demo_token_1003",  # noqa: S106
)
DEMO_MERCHANT = VposMerchant(user_name="demo_merchant_api", password="demo-password", currency="051")  # noqa: S106
DEFAULT_PAYMENT_URL = "http://127.0.0.1:8100/ecwid/payment"


def parse_store(value: str) -> EcwidStore:
    """``STORE_ID:CLIENT_SECRET:TOKEN`` (the client secret must not contain ':'; the token may)."""
    parts = value.split(":", 2)
    if len(parts) != 3 or not parts[0].isdigit():
        raise click.BadParameter("expected STORE_ID:CLIENT_SECRET:TOKEN")
    try:
        return EcwidStore(store_id=int(parts[0]), client_secret=parts[1], token=parts[2])
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def parse_merchant(value: str) -> VposMerchant:
    """``USER:PASSWORD:CURRENCY`` with an ISO numeric currency such as 051 (the user name must not contain ':')."""
    user, _, rest = value.partition(":")
    password, _, currency = rest.rpartition(":")
    if not user or not password or not currency:
        raise click.BadParameter("expected USER:PASSWORD:CURRENCY, e.g. shop_api:secret:051")
    try:
        return VposMerchant(user_name=user, password=password, currency=currency)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


if TYPE_CHECKING:  # generic in click's stubs from 8.2 on; plain at run time for older ones
    _TextParam = click.ParamType[str, str]
else:
    _TextParam = click.ParamType


class LinePerValue(_TextParam):
    """A repeatable option whose environment variable holds one value per line (values may contain spaces)."""

    name = "text"
    envvar_list_splitter = "\n"

    def split_envvar_value(self, rv: str) -> list[str]:
        return [line.strip() for line in rv.splitlines() if line.strip()]


@click.group()
@click.version_option(package_name="vposlab", message="%(prog)s %(version)s")
def main() -> None:
    """The vposlab simulator: fake ArCa vPOS bank and fake Ecwid."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8101, show_default=True, type=int)
@click.option("--public-url", default=None, help="URL the simulator is reachable at [default: http://HOST:PORT]")
@click.option("--payment-url", default=DEFAULT_PAYMENT_URL, show_default=True, help="The gateway's paymentUrl.")
@click.option("--callback-url", default=None, help="Bank-configured callback URL (register may override).")
@click.option(
    "--callback-key",
    default=None,
    envvar="VPOSLAB_SIM_CALLBACK_KEY",
    help="Shared key for callback checksums (unsigned if omitted). [env: VPOSLAB_SIM_CALLBACK_KEY]",
)
@click.option("--callback-method", default="GET", show_default=True, type=click.Choice(CALLBACK_METHODS))
@click.option(
    "--store",
    "stores",
    multiple=True,
    type=LinePerValue(),
    envvar="VPOSLAB_SIM_STORES",
    help="STORE_ID:CLIENT_SECRET:TOKEN (repeatable). [env: VPOSLAB_SIM_STORES, one per line]",
)
@click.option(
    "--merchant",
    "merchants",
    multiple=True,
    type=LinePerValue(),
    envvar="VPOSLAB_SIM_MERCHANTS",
    help="USER:PASSWORD:CURRENCY (repeatable). [env: VPOSLAB_SIM_MERCHANTS, one per line]",
)
def serve(
    host: str,
    port: int,
    public_url: str | None,
    payment_url: str,
    callback_url: str | None,
    callback_key: str | None,
    callback_method: str,
    stores: tuple[str, ...],
    merchants: tuple[str, ...],
) -> None:
    """Serve the simulator with werkzeug's threaded server until interrupted."""
    config = SimulatorConfig(
        public_url=(public_url or f"http://{host}:{port}").rstrip("/"),
        payment_url=payment_url,
        stores=tuple(parse_store(item) for item in stores) or (DEMO_STORE,),
        merchants=tuple(parse_merchant(item) for item in merchants) or (DEMO_MERCHANT,),
        callback_url=callback_url,
        callback_key=callback_key,
        callback_method=callback_method,
    )
    app = create_app(config)
    server = make_simulator_server(host, port, app)
    base = config.public_url
    click.echo(f"vposlab simulator on {base}")
    click.echo(f"  bank API base URL   {base}/payment/rest/")
    click.echo(f"  Ecwid REST API      {base}/api/v3/{{storeId}}/orders/{{ref}}")
    for store in config.stores:
        click.echo(f"  storefront          {base}/store/{store.store_id}/")
    click.echo(f"  control API         {base}/_control/health")
    click.echo(f"  gateway paymentUrl  {config.payment_url}")
    click.echo(f"  callbacks           {config.callback_url or '(per order only)'} signed={callback_key is not None}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
