"""Steps of the production items: secrets never shown or stored in the clear (RC-25) and the REAL configuration
audit (RC-30).

RC-25 reads what the customer's browser received (any gateway), and, for our gateway, its log file and its database
(the lab keeps both). RC-30 runs the gateway's own ``vposlab-gateway audit`` as an operator would, on a
configuration made ready for REAL and then broken one setting at a time, and audits the lab's own configuration.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pytest_bdd import given, parsers, then, when
from sqlalchemy import create_engine, or_, select

from features.support.gateway_host import AuditFailed, run_gateway_audit
from features.support.secret_scan import BrowserTap, SecretScan
from features.support.state import EcwidOrderUnderTest, Shopper
from gateway.services.config_audit import KNOWN_SAMPLE_KEYS
from gateway.services.tokens import TokenBox
from gateway.store.models import PaymentSession
from lab import Lab

# --- RC-25: secrets ------------------------------------------------------------------------------------------


@given("everything the customer's browser receives is watched for secrets", target_fixture="browser_tap")
def watch_browser(shopper: Shopper) -> BrowserTap:
    tap = BrowserTap()
    tap.attach(shopper.page.context)
    return tap


@given("the gateway's log is read from this point on", target_fixture="log_offsets")
def log_offsets(lab: Lab) -> dict[Path, int]:
    """Where each of the gateway's log files ends now (the web server's and the worker's, when they are apart)."""
    return {path: path.stat().st_size if path.exists() else 0 for path in lab.log_paths()}


@then("no address, header or page the customer's browser received holds a secret")
def browser_saw_no_secret(browser_tap: BrowserTap, shopper: Shopper, lab: Lab) -> None:
    scan = SecretScan(lab.named_secrets())
    unread = browser_tap.scan(scan)
    scan.text("the page the customer is on now", shopper.page.content())
    assert not scan.leaks, f"secrets reached the customer's browser: {scan.describe()}"
    assert not unread, f"answers that could not be read, so not scanned: {', '.join(unread)}"
    assert browser_tap.documents >= 4, "the browser received too few pages for the scan to mean anything"


@then("the gateway's log lines since then hold no secret")
def logs_hold_no_secret(lab: Lab, log_offsets: dict[Path, int]) -> None:
    scan = SecretScan(lab.named_secrets())
    lines = sum(scan.log_lines(path, offset) for path, offset in log_offsets.items())
    names = ", ".join(str(path) for path in log_offsets)
    assert lines > 0, f"the gateway logged nothing during the payment ({names}): nothing was checked"
    assert not scan.leaks, f"secrets in the gateway's log: {scan.describe()}"


@then("the gateway's database holds no secret in the clear")
def database_holds_no_secret(lab: Lab) -> None:
    scan = SecretScan(lab.named_secrets())
    engine = create_engine(lab.database_url())
    try:
        rows = scan.database(engine)
    finally:
        engine.dispose()
    assert rows > 0, "the gateway's database is empty: nothing was checked"
    assert not scan.leaks, f"secrets in the gateway's database: {scan.describe()}"


@then("the store's Ecwid token is kept encrypted and opens only with the gateway's token key")
def token_encrypted_at_rest(lab: Lab, order_under_test: EcwidOrderUnderTest) -> None:
    engine = create_engine(lab.database_url())
    try:
        with engine.connect() as connection:
            sealed = connection.scalars(
                select(PaymentSession.token_encrypted).where(
                    or_(
                        PaymentSession.ecwid_order_id == order_under_test.order_id,
                        PaymentSession.reference_transaction_id == order_under_test.order_id,
                    )
                )
            ).all()
    finally:
        engine.dispose()
    assert sealed, f"no payment session stored for Ecwid order {order_under_test.order_id}"
    token = lab.secrets.ecwid_token
    box = TokenBox(lab.token_key())
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
    try:
        exit_code, data, output = run_gateway_audit(environment)
    except AuditFailed as exc:
        pytest.fail(str(exc))
    return AuditRun(exit_code, data["findings"], data["ready"], output)


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


@when("the gateway's own configuration is audited", target_fixture="audit_run")
def audit_lab_configuration(lab: Lab) -> AuditRun:
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


@then("the audit fails AU-09 exactly when the gateway's database is SQLite")
def audit_database_finding(audit_run: AuditRun, lab: Lab) -> None:
    sqlite = lab.database_url().lower().startswith("sqlite")
    failing = {key.split(" ", 1)[0] for key in audit_run.failing()}
    assert ("AU-09" in failing) is sqlite, f"database {lab.database_url().split(':', 1)[0]}; failing: {failing}"


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
