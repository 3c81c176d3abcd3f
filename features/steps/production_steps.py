"""Steps of the production items: secrets never shown or stored in the clear (RC-25) and the REAL configuration
audit (RC-30).

RC-25 reads what the customer's browser received (any gateway), and, for our gateway, its log file and its database
(the lab keeps both). RC-30 runs the gateway's own ``vposlab-gateway audit`` as an operator would, on a
configuration made ready for REAL and then broken one setting at a time, and audits the lab's own configuration.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pytest_bdd import given, parsers, then, when
from sqlalchemy import or_, select

from features.support.secret_scan import BrowserTap, SecretScan
from features.support.state import EcwidOrderUnderTest, Shopper
from gateway.services.config_audit import KNOWN_SAMPLE_KEYS
from gateway.services.tokens import TokenBox
from gateway.store.models import PaymentSession
from lab import Lab

GATEWAY_CLI = [sys.executable, "-c", "from gateway.cli import main; main()"]
AUDIT_TIMEOUT_S = 60


# --- RC-25: secrets ------------------------------------------------------------------------------------------


@given("everything the customer's browser receives is watched for secrets", target_fixture="browser_tap")
def watch_browser(shopper: Shopper) -> BrowserTap:
    tap = BrowserTap()
    tap.attach(shopper.page.context)
    return tap


@given("the gateway's log is read from this point on", target_fixture="log_offset")
def log_offset(lab: Lab) -> int:
    return lab.log_path.stat().st_size if lab.log_path.exists() else 0


@then("no address, header or page the customer's browser received holds a secret")
def browser_saw_no_secret(browser_tap: BrowserTap, shopper: Shopper, lab: Lab) -> None:
    scan = SecretScan(lab.named_secrets())
    unread = browser_tap.scan(scan)
    scan.text("the page the customer is on now", shopper.page.content())
    assert not scan.leaks, f"secrets reached the customer's browser: {scan.describe()}"
    assert not unread, f"answers that could not be read, so not scanned: {', '.join(unread)}"
    assert browser_tap.documents >= 4, "the browser received too few pages for the scan to mean anything"


@then("the gateway's log lines since then hold no secret")
def logs_hold_no_secret(lab: Lab, log_offset: int) -> None:
    scan = SecretScan(lab.named_secrets())
    lines = scan.log_lines(lab.log_path, log_offset)
    assert lines > 0, f"the gateway logged nothing during the payment ({lab.log_path}): nothing was checked"
    assert not scan.leaks, f"secrets in the gateway's log: {scan.describe()}"


@then("the gateway's database holds no secret in the clear")
def database_holds_no_secret(lab: Lab) -> None:
    scan = SecretScan(lab.named_secrets())
    rows = scan.database(lab.internals("the gateway's database").db.engine)
    assert rows > 0, "the gateway's database is empty: nothing was checked"
    assert not scan.leaks, f"secrets in the gateway's database: {scan.describe()}"


@then("the store's Ecwid token is kept encrypted and opens only with the gateway's token key")
def token_encrypted_at_rest(lab: Lab, order_under_test: EcwidOrderUnderTest) -> None:
    with lab.internals("the gateway's stored Ecwid tokens").db.session() as session:
        sealed = session.scalars(
            select(PaymentSession.token_encrypted).where(
                or_(
                    PaymentSession.ecwid_order_id == order_under_test.order_id,
                    PaymentSession.reference_transaction_id == order_under_test.order_id,
                )
            )
        ).all()
    assert sealed, f"no payment session stored for Ecwid order {order_under_test.order_id}"
    token = lab.secrets.ecwid_token
    box = TokenBox(lab.settings().token_key.get_secret_value())
    stranger = TokenBox(Fernet.generate_key().decode("ascii"))
    for value in sealed:
        assert token not in value, "the Ecwid token is stored in the clear"
        assert box.open(value) == token, "the stored token does not open to the store's token"
        with pytest.raises(Exception, match="cannot be decrypted"):
            stranger.open(value)


# --- RC-30: the REAL configuration audit -------------------------------------------------------------------------


@dataclass
class AuditRun:
    exit_code: int
    findings: list[dict[str, str]]
    ready: bool
    output: str

    def failing(self) -> dict[str, str]:
        return {f"{f['check']} {f['title']}": f["detail"] for f in self.findings if f["result"] == "FAIL"}


def real_ready_environment() -> dict[str, str]:
    """What a merchant's production host sets: REAL bank, HTTPS everywhere, own keys, PostgreSQL, TOTP required."""
    return {
        "VPOSLAB_PROVIDER_MODE": "REAL",
        "VPOSLAB_PROVIDER_BASE_URL": "https://ipay.arca.am/payment/rest/",
        "VPOSLAB_PROVIDER_CREDENTIALS": json.dumps(
            {
                "AMD": {"user_name": "shop_amd_api", "password": secrets.token_urlsafe(16)},
                "USD": {"user_name": "shop_usd_api", "password": secrets.token_urlsafe(16)},
            }
        ),
        "VPOSLAB_PUBLIC_URL": "https://pay.shop.am",
        "VPOSLAB_ECWID_CLIENT_SECRETS": json.dumps({"1003": secrets.token_urlsafe(24)}),
        "VPOSLAB_ECWID_RETURN_HOSTS": json.dumps({"1003": ["shop.am"]}),
        "VPOSLAB_ECWID_API_URL": "https://app.ecwid.com/api/v3",
        "VPOSLAB_CALLBACK_KEY": secrets.token_hex(32),
        "VPOSLAB_TOKEN_KEY": Fernet.generate_key().decode("ascii"),
        "VPOSLAB_CONSOLE_SECRET_KEY": secrets.token_urlsafe(32),
        "VPOSLAB_CONSOLE_REQUIRE_TOTP": "true",
        # A production database the audit cannot reach from here: schema and operators are "not checked" (WARN).
        "VPOSLAB_DATABASE_URL": "postgresql+psycopg://gateway@db.shop.invalid:5432/gateway?connect_timeout=3",
        "VPOSLAB_PROXY_HOPS": "1",
    }


def run_audit(environment: dict[str, str]) -> AuditRun:
    """``vposlab-gateway audit --json`` in a process of its own, with only this configuration (no lab variable)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VPOSLAB_", "FLASK_"))}
    env.update(environment)
    done = subprocess.run(  # noqa: S603 - our own interpreter and command
        [*GATEWAY_CLI, "audit", "--json"], env=env, capture_output=True, text=True, timeout=AUDIT_TIMEOUT_S
    )
    try:
        data = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"the audit printed no JSON (exit {done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
    return AuditRun(done.returncode, data["findings"], data["ready"], done.stdout)


@given("a gateway configuration ready for REAL", target_fixture="audit_environment")
def ready_configuration(lab: Lab) -> dict[str, str]:
    lab.require_ours("the configuration audit (vposlab-gateway audit)")
    return real_ready_environment()


@when(parsers.parse('the setting {name} is changed to "{value}"'))
def change_setting(audit_environment: dict[str, str], name: str, value: str) -> None:
    if value == "<published sample key>":
        value = next(iter(KNOWN_SAMPLE_KEYS))
    elif value == "<USD password emptied>":
        credentials = json.loads(audit_environment[name])
        credentials["USD"]["password"] = " "
        value = json.dumps(credentials)
    audit_environment[name] = value


@when(parsers.parse("the setting {name} is removed"))
def remove_setting(audit_environment: dict[str, str], name: str) -> None:
    audit_environment.pop(name, None)


@when("the operator runs the configuration audit", target_fixture="audit_run")
def operator_runs_audit(audit_environment: dict[str, str]) -> AuditRun:
    return run_audit(audit_environment)


@when("the lab gateway's own configuration is audited", target_fixture="audit_run")
def audit_lab_configuration(lab: Lab) -> AuditRun:
    lab.internals("the configuration the gateway runs with")
    audit: dict[str, Any] = lab.configuration_audit()
    return AuditRun(0 if audit["ready"] else 1, audit["findings"], audit["ready"], json.dumps(audit))


@then("the audit says the configuration is ready for REAL and exits 0")
def audit_ready(audit_run: AuditRun, audit_environment: dict[str, str]) -> None:
    assert audit_run.failing() == {}, audit_run.failing()
    assert audit_run.ready and audit_run.exit_code == 0, audit_run.output
    _no_secret_in(audit_run, audit_environment)


@then(parsers.parse('the audit says it is not ready, failing {check} with "{words}", and exits 1'))
def audit_not_ready(audit_run: AuditRun, check: str, words: str) -> None:
    assert not audit_run.ready and audit_run.exit_code == 1, audit_run.output
    named = {key: detail for key, detail in audit_run.failing().items() if key.startswith(f"{check} ")}
    assert named, f"{check} did not fail; failing: {audit_run.failing()}"
    assert any(words.lower() in f"{key} {detail}".lower() for key, detail in named.items()), named


@then("no other check fails")
def only_that_check_fails(audit_run: AuditRun) -> None:
    checks = {key.split(" ", 1)[0] for key in audit_run.failing()}
    assert len(checks) == 1, f"more than the one unsafe setting failed: {audit_run.failing()}"


@then(parsers.parse("the audit names every TEST-only part of it: {checks}"))
def lab_audit_names(audit_run: AuditRun, checks: str) -> None:
    assert not audit_run.ready
    failing = {key.split(" ", 1)[0] for key in audit_run.failing()}
    wanted = {check.strip() for check in checks.split(",")}
    assert wanted <= failing, f"not named: {sorted(wanted - failing)}; failing: {audit_run.failing()}"


@then("the audit shows no secret of the configuration")
def audit_shows_no_secret(audit_run: AuditRun, audit_environment: dict[str, str]) -> None:
    _no_secret_in(audit_run, audit_environment)


def _no_secret_in(audit_run: AuditRun, environment: dict[str, str]) -> None:
    values = {
        "VPOSLAB_CALLBACK_KEY": environment.get("VPOSLAB_CALLBACK_KEY", ""),
        "VPOSLAB_TOKEN_KEY": environment.get("VPOSLAB_TOKEN_KEY", ""),
        "VPOSLAB_CONSOLE_SECRET_KEY": environment.get("VPOSLAB_CONSOLE_SECRET_KEY", ""),
    }
    for store, secret in json.loads(environment.get("VPOSLAB_ECWID_CLIENT_SECRETS", "{}")).items():
        values[f"client secret of store {store}"] = secret
    for currency, creds in json.loads(environment.get("VPOSLAB_PROVIDER_CREDENTIALS", "{}")).items():
        values[f"bank password {currency}"] = creds["password"]
    scan = SecretScan({name: value for name, value in values.items() if len(value.strip()) >= 8})
    scan.text("the audit's output", audit_run.output)
    assert not scan.leaks, scan.describe()
