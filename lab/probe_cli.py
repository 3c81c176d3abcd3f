"""``vposlab probe``: the read-only probes of the merchant's REAL endpoints, from the command line.

    vposlab probe callback https://pay.example.am/vpos/callback          # RC-34, key from $VPOSLAB_CALLBACK_KEY
    vposlab probe bank --test-url https://ipaytest.arca.am:8445/payment/rest/ \\
        --test-credentials-env VPOSLAB_TEST_PROVIDER_CREDENTIALS --real-order AMD=<orderId>      # RC-35

Secrets come from environment variables only (the gateway's own names by default), never from arguments, which
other users of the machine can read. One line per finding, then the verdict and what the probe cannot show; every
line passes through a redactor, so no key or password is printed even by mistake.

Exit codes: 0 READY (every finding PASS or WARN); 1 NOT READY (a finding FAILed); 2 bad usage; 3 INCOMPLETE
(nothing failed, but something could not be shown: NOT APPLICABLE or NOT CHECKED).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import click

from gateway.settings import DEFAULT_PROVIDER_URLS
from lab.bank_parity_probe import BankSide, Credentials, credentials_from_json, probe_bank
from lab.callback_probe import DEFAULT_MIN_DAYS, DEFAULT_TIMEOUT_S, DEFAULT_WARN_DAYS, METHODS, probe_callback
from lab.endpoint_probes import ProbeReport, ProbeUsageError, Verdict, redactor

EXIT_CODES = {Verdict.READY: 0, Verdict.NOT_READY: 1, Verdict.INCOMPLETE: 3}
CA_BUNDLE = click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="trust only this PEM CA bundle (default: the system's trust store)",
)
AS_JSON = click.option("--json", "as_json", is_flag=True, help="print the report as JSON instead of text")


@click.group("probe")
def probe() -> None:
    """Read-only probes of the REAL endpoints: the callback URL (RC-34) and the REAL bank (RC-35)."""


@probe.command("callback")
@click.argument("url")
@click.option(
    "--key-env",
    default="VPOSLAB_CALLBACK_KEY",
    show_default=True,
    help="environment variable with the callback checksum key; unset: CB-06 cannot be checked",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(0.1, 120),
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    help="how long the bank waits for an answer, in seconds (UNVERIFIED for ArCa)",
)
@click.option("--method", type=click.Choice([*METHODS, "both"]), default="both", show_default=True)
@click.option("--min-days", type=click.IntRange(0), default=DEFAULT_MIN_DAYS, show_default=True)
@click.option("--warn-days", type=click.IntRange(0), default=DEFAULT_WARN_DAYS, show_default=True)
@CA_BUNDLE
@AS_JSON
def callback(
    url: str,
    key_env: str,
    timeout_s: float,
    method: str,
    min_days: int,
    warn_days: int,
    ca_bundle: Path | None,
    as_json: bool,
) -> None:
    """Probe the callback URL the bank will call (CB-01..CB-06): HTTPS and certificate, no redirect, answer time,
    forged callbacks refused, every operation the bank sends answered 200. Only an order that cannot exist is
    named, so no payment changes."""
    key = os.environ.get(key_env) or None
    methods: Sequence[str] = METHODS if method == "both" else (method,)
    try:
        report = probe_callback(
            url,
            callback_key=key,
            timeout_s=timeout_s,
            ca_bundle=str(ca_bundle) if ca_bundle else None,
            methods=methods,
            min_days=min_days,
            warn_days=max(warn_days, min_days),
        )
    except ProbeUsageError as exc:
        raise click.UsageError(str(exc)) from None
    _finish(report, [key] if key else [], as_json)


@probe.command("bank")
@click.option(
    "--real-url",
    default=DEFAULT_PROVIDER_URLS["REAL"],
    show_default=True,
    help="the REAL bank's base URL (only getOrderStatusExtended.do is ever sent there)",
)
@click.option(
    "--real-credentials-env",
    default="VPOSLAB_PROVIDER_CREDENTIALS",
    show_default=True,
    help='environment variable with the REAL credentials, JSON {"AMD": {"user_name": ..., "password": ...}}',
)
@click.option("--test-url", default=None, help="the TEST bank's base URL, to compare with")
@click.option("--test-credentials-env", default=None, help="environment variable with the TEST credentials (JSON)")
@click.option(
    "--real-order",
    "real_orders",
    multiple=True,
    metavar="CUR=ORDERID",
    help="a REAL order to read (read-only), e.g. the canary's: its status shows REAL's fields (BK-06)",
)
@click.option("--test-order", "test_orders", multiple=True, metavar="CUR=ORDERID", help="a TEST order to compare with")
@click.option(
    "--register-on-test",
    is_flag=True,
    help="without --test-order: register one never-paid order on TEST to compare with (never on REAL)",
)
@click.option("--timeout", "timeout_s", type=click.FloatRange(0.1, 120), default=10.0, show_default=True)
@CA_BUNDLE
@AS_JSON
def bank(
    real_url: str,
    real_credentials_env: str,
    test_url: str | None,
    test_credentials_env: str | None,
    real_orders: tuple[str, ...],
    test_orders: tuple[str, ...],
    register_on_test: bool,
    timeout_s: float,
    ca_bundle: Path | None,
    as_json: bool,
) -> None:
    """Probe the REAL bank read-only (BK-01..BK-06): credentials accepted per currency, answers and status fields
    as on TEST. Never registers, deposits, reverses, refunds or declines on REAL."""
    try:
        real_credentials = _credentials(real_credentials_env, "REAL")
        real = BankSide(real_url, real_credentials, _orders(real_orders, "--real-order"))
        test: BankSide | None = None
        if test_url or test_credentials_env:
            if not (test_url and test_credentials_env):
                raise ProbeUsageError("--test-url and --test-credentials-env go together")
            test = BankSide(test_url, _credentials(test_credentials_env, "TEST"), _orders(test_orders, "--test-order"))
        elif test_orders:
            raise ProbeUsageError("--test-order needs --test-url and --test-credentials-env")
        report = probe_bank(
            real,
            test,
            register_on_test=register_on_test,
            timeout_s=timeout_s,
            ca_bundle=str(ca_bundle) if ca_bundle else None,
        )
    except ProbeUsageError as exc:
        raise click.UsageError(str(exc)) from None
    _finish(report, real.secrets() + (test.secrets() if test else []), as_json)


def _credentials(env: str, what: str) -> dict[str, Credentials]:
    raw = os.environ.get(env)
    if not raw:
        raise ProbeUsageError(f"the {what} credentials: environment variable {env} is not set")
    return credentials_from_json(raw, f"{what} credentials ({env})")


def _orders(values: Sequence[str], option: str) -> dict[str, str]:
    orders: dict[str, str] = {}
    for value in values:
        currency, _, order_id = value.partition("=")
        if not currency or not order_id:
            raise ProbeUsageError(f"{option} takes CUR=ORDERID, e.g. AMD=3ff6962a-7dcc-4283-ab50-a6d7dd3386fe")
        orders[currency.strip().upper()] = order_id.strip()
    return orders


def _finish(report: ProbeReport, secrets: list[str], as_json: bool) -> None:
    redact = redactor(secrets)
    if as_json:
        click.echo(redact(json.dumps(report.as_dict(), indent=2)))
    else:
        for line in report.lines():
            click.echo(redact(line))
    raise SystemExit(EXIT_CODES[report.verdict])
