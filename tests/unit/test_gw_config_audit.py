"""``vposlab-gateway audit`` (RC-30): a complete REAL configuration is ready; each missing or unsafe setting is one
named FAIL (or WARN) saying what to do; no secret ever appears in the output; exit 0 only when ready."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.services.config_audit import FAIL, PASS, WARN, OperatorFacts, audit_environment, format_lines

SECRETS = {
    "client": "client-secret-REAL-0123456789abcdef",
    "bank_amd": "bank-password-amd-REAL",
    "bank_usd": "bank-password-usd-REAL",
    "callback": "callback-key-REAL-0123456789abcdef0123456789",
    "console": "console-key-REAL-0123456789abcdef0123456789",
    "token": "b0ZJd2xJQ0x0b0lKY1VzM2Vxd3l4c0Z0a2Z3b1E5SVE=",
}
GOOD_OPERATORS = OperatorFacts(active=2, active_without_totp=0)


def real(**overrides: str | None) -> dict[str, str]:
    values: dict[str, str | None] = {
        "VPOSLAB_PUBLIC_URL": "https://pay.myshop.am",
        "VPOSLAB_ECWID_CLIENT_SECRETS": json.dumps({"1003": SECRETS["client"]}),
        "VPOSLAB_ECWID_RETURN_HOSTS": json.dumps({"1003": ["myshop.am"]}),
        "VPOSLAB_PROVIDER_MODE": "REAL",
        "VPOSLAB_PROVIDER_CREDENTIALS": json.dumps(
            {
                "AMD": {"user_name": "myshop_amd_api", "password": SECRETS["bank_amd"]},
                "USD": {"user_name": "myshop_usd_api", "password": SECRETS["bank_usd"]},
            }
        ),
        "VPOSLAB_CALLBACK_KEY": SECRETS["callback"],
        "VPOSLAB_TOKEN_KEY": SECRETS["token"],
        "VPOSLAB_DATABASE_URL": "postgresql+psycopg://gateway@db.internal/gateway",
        "VPOSLAB_CONSOLE_SECRET_KEY": SECRETS["console"],
        "VPOSLAB_CONSOLE_REQUIRE_TOTP": "true",
        "VPOSLAB_PROXY_HOPS": "1",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def results(environ: dict[str, str], **kwargs: Any) -> dict[str, str]:
    report = audit_environment(environ, schema_ok=kwargs.pop("schema_ok", True), **kwargs)
    return {f"{f.check} {f.title}": f.result for f in report.findings}


def test_a_complete_real_configuration_is_ready() -> None:
    report = audit_environment(real(), schema_ok=True, operators=GOOD_OPERATORS)
    assert report.ready
    assert {f.result for f in report.findings} == {PASS}
    assert format_lines(report)[-1] == "ready for REAL"


@pytest.mark.parametrize(
    ("overrides", "check"),
    [
        ({"VPOSLAB_PROVIDER_MODE": "TEST", "VPOSLAB_PROVIDER_BASE_URL": "https://ipay.arca.am/payment/rest/"}, "AU-01"),
        ({"VPOSLAB_PROVIDER_BASE_URL": "https://ipaytest.arca.am:8445/payment/rest/"}, "AU-02"),
        ({"VPOSLAB_PROVIDER_BASE_URL": "https://10.0.0.5/payment/rest/"}, "AU-02"),
        (
            {"VPOSLAB_PROVIDER_CREDENTIALS": json.dumps({"AMD": {"user_name": "test_amd", "password": "x" * 10}})},
            "AU-03",
        ),
        ({"VPOSLAB_PROVIDER_CREDENTIALS": json.dumps({"AMD": {"user_name": "shop_amd", "password": " "}})}, "AU-03"),
        ({"VPOSLAB_PUBLIC_URL": "https://gateway.staging.myshop.am"}, "AU-04"),
        ({"VPOSLAB_PUBLIC_URL": "https://pay.myshop.example"}, "AU-04"),
        ({"VPOSLAB_CALLBACK_KEY": None}, "AU-05"),
        ({"VPOSLAB_CALLBACK_KEY": "short"}, "AU-05"),
        ({"FLASK_DEBUG": "1"}, "AU-06"),
        ({"VPOSLAB_CONSOLE_SECRET_KEY": "short"}, "AU-07"),
        ({"VPOSLAB_ECWID_API_URL": "http://127.0.0.1:5000/api/v3"}, "AU-08"),
        ({"VPOSLAB_POLL_AFTER_S": "5"}, "AU-08"),
        ({"VPOSLAB_LAB_SECRETS": "{}"}, "AU-08"),
        ({"VPOSLAB_DATABASE_URL": "sqlite:///var/gateway.sqlite3"}, "AU-09"),
        ({"VPOSLAB_TOKEN_KEY": "Nn3G3m0x0o1h4kqLq6yXv3o0gq2mZr8bXk3y0l2b7ZQ="}, "AU-11"),
    ],
)
def test_each_unsafe_setting_is_a_named_failure(overrides: dict[str, str | None], check: str) -> None:
    report = audit_environment(real(**overrides), schema_ok=True, operators=GOOD_OPERATORS)
    failed = [f for f in report.findings if f.result == FAIL]
    assert [f.check for f in failed] == [check], [(f.check, f.detail) for f in failed]
    assert not report.ready


def test_the_test_clock_fails_the_audit_naming_its_variable() -> None:
    # A TEST gateway audited with the test clock on: AU-08 names the switch; in REAL mode the settings refuse it.
    rehearsal = real(VPOSLAB_PROVIDER_MODE="TEST", VPOSLAB_TEST_CLOCK="true")
    report = audit_environment(rehearsal, schema_ok=True, operators=GOOD_OPERATORS)
    (au08,) = [f for f in report.findings if f.check == "AU-08"]
    assert au08.result == FAIL and "VPOSLAB_TEST_CLOCK" in au08.detail
    without = audit_environment(real(VPOSLAB_PROVIDER_MODE="TEST"), schema_ok=True, operators=GOOD_OPERATORS)
    assert [f.result for f in without.findings if f.check == "AU-08"] == [PASS]
    refused = audit_environment(real(VPOSLAB_TEST_CLOCK="true"), schema_ok=True)
    assert [(f.check, f.result) for f in refused.findings] == [("AU-00", FAIL)]
    assert "the test clock is TEST-only" in refused.findings[0].detail
    assert not report.ready and not refused.ready


def test_plain_http_in_real_mode_cannot_even_load() -> None:
    report = audit_environment(real(VPOSLAB_PUBLIC_URL="http://pay.myshop.am"), schema_ok=True)
    assert [(f.check, f.result) for f in report.findings] == [("AU-00", FAIL)]
    assert "https" in report.findings[0].detail


def test_the_database_and_the_console_accounts_are_checked_when_they_answer() -> None:
    assert results(real(), schema_ok=False, operators=GOOD_OPERATORS)["AU-10 database schema"] == FAIL
    assert results(real(), schema_ok=None, operators=None)["AU-10 database schema"] == WARN
    no_one = OperatorFacts(active=0, active_without_totp=0)
    assert results(real(), operators=no_one)["AU-07 operator console protected"] == FAIL
    optional = real(VPOSLAB_CONSOLE_REQUIRE_TOTP=None)
    weak = OperatorFacts(active=2, active_without_totp=1)
    assert results(optional, operators=weak)["AU-07 operator console protected"] == WARN
    assert results(real(VPOSLAB_CONSOLE_SECRET_KEY=None))["AU-07 operator console protected"] == WARN


def test_warnings_do_not_stop_a_ready_configuration() -> None:
    environ = real(VPOSLAB_ECWID_RETURN_HOSTS=None, VPOSLAB_PROXY_HOPS=None)
    report = audit_environment(environ, schema_ok=True, operators=GOOD_OPERATORS)
    assert {f.check for f in report.findings if f.result == WARN} == {"AU-12", "AU-13"}
    assert report.ready


@pytest.mark.parametrize("as_json", [False, True])
def test_the_command_exits_0_only_when_ready_and_never_prints_a_secret(as_json: bool, tmp_path: Any) -> None:
    runner = CliRunner()
    args = ["audit", "--json"] if as_json else ["audit"]
    database = {"VPOSLAB_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/gone?connect_timeout=1"}
    ready = runner.invoke(main, args, env=real(**database))
    unsafe = runner.invoke(
        main, args, env={**real(**database), "VPOSLAB_PROVIDER_MODE": "TEST", "VPOSLAB_CALLBACK_KEY": ""}
    )
    assert ready.exit_code == 0, ready.output
    assert unsafe.exit_code == 1
    for result in (ready, unsafe):
        for secret in SECRETS.values():
            assert secret not in result.output
    if as_json:
        assert json.loads(ready.output)["ready"] is True
        assert json.loads(unsafe.output)["ready"] is False
    else:
        assert "FAIL AU-01 provider mode" in unsafe.output
        assert unsafe.output.strip().endswith("check(s) failed")


def test_database_facts_read_the_schema_and_the_accounts_and_create_nothing(tmp_path: Any) -> None:
    from gateway.services.config_audit_db import database_facts
    from gateway.store.database import Database

    missing = tmp_path / "none.sqlite3"
    assert database_facts({"VPOSLAB_DATABASE_URL": f"sqlite:///{missing}"}) == (None, None)
    assert not missing.exists()
    url = f"sqlite:///{tmp_path / 'gw.sqlite3'}"
    db = Database(url)
    try:
        with db.engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE unrelated (id INTEGER)")
        assert database_facts({"VPOSLAB_DATABASE_URL": url}) == (False, None)
        db.migrate()
        assert database_facts({"VPOSLAB_DATABASE_URL": url}) == (True, OperatorFacts(0, 0))
    finally:
        db.dispose()
