"""Our gateway started elsewhere, for a run on its own host: its log files and its settings file are what RC-25 scans
and RC-30 audits. Without them the scenarios end NOT RUN saying which option names them; another gateway has none
of ours (NOT APPLICABLE); a settings file that cannot be read says why; the gateway's own secrets join the scans and
the report's redaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from features.support.remote_target import RemoteTarget
from lab.env_file import read_env_file, write_env_file
from lab.targets import load_target_file, target_from_urls, target_secret_values

GATEWAY, SIMULATOR = "http://127.0.0.1:8000", "http://127.0.0.1:8101"


def gateway_settings(tmp_path: Path) -> dict[str, str]:
    return {
        "VPOSLAB_PUBLIC_URL": GATEWAY,
        "VPOSLAB_PROVIDER_MODE": "TEST",
        "VPOSLAB_PROVIDER_BASE_URL": f"{SIMULATOR}/payment/rest/",
        "VPOSLAB_ECWID_CLIENT_SECRETS": json.dumps({"1003": "client-secret-of-1003"}),
        "VPOSLAB_PROVIDER_CREDENTIALS": json.dumps({"AMD": {"user_name": "u", "password": "bank-password-amd"}}),
        "VPOSLAB_TOKEN_KEY": Fernet.generate_key().decode(),
        "VPOSLAB_CALLBACK_KEY": "callback-key-" + "c" * 32,
        "VPOSLAB_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.sqlite3'}",
    }


def remote(tmp_path: Path, *, env_file: bool = True, logs: tuple[str, ...] = ()) -> RemoteTarget:
    path = tmp_path / "gateway.env"
    if env_file:
        write_env_file(path, gateway_settings(tmp_path))
    target = target_from_urls(
        GATEWAY, SIMULATOR, gateway_env_file=str(path) if env_file else None, gateway_logs=list(logs)
    )
    return RemoteTarget(target, environ={})


def test_without_the_gateway_s_files_the_scenarios_that_need_them_are_not_run_and_say_which_option(
    tmp_path: Path,
) -> None:
    target = remote(tmp_path, env_file=False)
    with pytest.raises(pytest.skip.Exception, match=r"^NOT RUN: the gateway's log .*--gateway-log"):
        target.log_paths()
    for read in (target.gateway_environment, target.database_url, target.token_key, target.configuration_audit):
        with pytest.raises(pytest.skip.Exception, match=r"^NOT RUN: the gateway's configuration .*--gateway-env-file"):
            read()
    assert "configuration_audit" not in target.target()
    assert "--gateway-env-file" in target.target()["configuration_audit_note"]


def test_another_gateway_has_none_of_ours(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text(
        f'name = "x"\nkind = "simulator"\ngateway = "other"\ngateway_url = "{GATEWAY}"\n'
        f'simulator_url = "{SIMULATOR}"\npayment_url = "{GATEWAY}/pay"\ncallback_url = "{GATEWAY}/cb"\n',
        encoding="utf-8",
    )
    target = RemoteTarget(load_target_file(path), environ={})
    for read in (target.log_paths, target.gateway_environment):
        with pytest.raises(pytest.skip.Exception, match=r"^NOT APPLICABLE: the target's gateway is not vposlab"):
            read()


def test_the_named_files_give_the_logs_the_database_the_token_key_and_the_secrets(tmp_path: Path) -> None:
    target = remote(tmp_path, logs=(str(tmp_path / "web.log"), str(tmp_path / "worker.log")))
    settings = read_env_file(tmp_path / "gateway.env")
    assert target.log_paths() == [tmp_path / "web.log", tmp_path / "worker.log"]
    assert target.database_url() == settings["VPOSLAB_DATABASE_URL"]
    assert target.token_key() == settings["VPOSLAB_TOKEN_KEY"]
    named = target.named_secrets()
    assert named["gateway bank password AMD"] == "bank-password-amd"
    assert named["gateway token key 1"] == settings["VPOSLAB_TOKEN_KEY"]
    values = target_secret_values(target.spec, {})
    assert {"client-secret-of-1003", "bank-password-amd", settings["VPOSLAB_CALLBACK_KEY"]} <= set(values)


def test_a_settings_file_that_cannot_be_read_or_lacks_a_setting_says_so(tmp_path: Path) -> None:
    target = remote(tmp_path)
    (tmp_path / "gateway.env").write_text("VPOSLAB_TOKEN_KEY='unclosed\n", encoding="utf-8")
    with pytest.raises(pytest.skip.Exception, match=r"^NOT RUN: .*gateway\.env, line \d+: a quote is not closed"):
        target.gateway_environment()
    assert target.named_secrets() == {}  # nothing known to scan for beyond the target's own (none set here)
    (tmp_path / "gateway.env").write_text("VPOSLAB_PROVIDER_MODE=TEST\n", encoding="utf-8")
    with pytest.raises(pytest.skip.Exception, match=r"^NOT RUN: .*names no VPOSLAB_DATABASE_URL"):
        target.database_url()
    with pytest.raises(pytest.skip.Exception, match=r"^NOT RUN: .*names no VPOSLAB_TOKEN_KEY"):
        target.token_key()


def test_the_gateway_s_configuration_is_audited_as_on_its_host_shown_and_not_counted(tmp_path: Path) -> None:
    target = remote(tmp_path)
    audit = target.configuration_audit()
    assert audit["ready"] is False and audit["counts"] is False
    assert str(tmp_path / "gateway.env") in audit["subject"]
    failing = {finding["check"] for finding in audit["findings"] if finding["result"] == "FAIL"}
    assert {"AU-01", "AU-02", "AU-04"} <= failing  # TEST mode, the TEST bank, a plain-HTTP public URL
    assert target.target()["configuration_audit"] == audit
    shown = json.dumps(audit)
    for secret in target.named_secrets().values():
        assert secret not in shown
