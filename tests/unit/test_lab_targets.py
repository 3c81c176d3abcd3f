"""Targets of a readiness run: the TOML file and the URL shortcut are validated with reasons a person can act on,
never carry a secret, and the features read back exactly what ``vposlab check`` chose."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.targets import (
    LAB,
    TARGET_ENV,
    TargetError,
    TargetKind,
    load_target_file,
    target_from_env,
    target_from_urls,
    target_secret_values,
)

SIMULATOR_TARGET = """
name = "staging gateway"
kind = "simulator"
gateway = "vposlab"
gateway_url = "http://127.0.0.1:8000/"
simulator_url = "http://127.0.0.1:8101"
held_store_id = 1004
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_simulator_target_file_gets_our_gateway_s_default_urls(tmp_path: Path) -> None:
    target = load_target_file(write(tmp_path, SIMULATOR_TARGET))
    assert target.kind is TargetKind.SIMULATOR and target.ours
    assert target.gateway_url == "http://127.0.0.1:8000"
    assert target.effective_payment_url == "http://127.0.0.1:8000/ecwid/payment"
    assert target.effective_callback_url == "http://127.0.0.1:8000/vpos/callback"
    shown = target.describe()
    assert shown["secrets_from"] == sorted(target.secrets.model_dump().values())
    assert "secrets" not in shown


def test_the_features_read_back_the_target_check_chose() -> None:
    chosen = target_from_urls("http://127.0.0.1:8000", "http://127.0.0.1:8101")
    assert target_from_env({TARGET_ENV: chosen.to_env()}) == chosen
    assert target_from_env({}) == LAB


def test_another_gateway_needs_a_target_file_naming_its_urls() -> None:
    with pytest.raises(TargetError, match="payment_url and callback_url must be given"):
        target_from_urls("http://127.0.0.1:8000", "http://127.0.0.1:8101", gateway="other")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('name = "x"\nkind = "simulator"\nsimulator_url = "http://127.0.0.1:1"', "needs gateway_url"),
        ('name = "x"\nkind = "simulator"\ngateway_url = "http://127.0.0.1:1"', "needs simulator_url"),
        ('name = "x"\nkind = "bank-test"\ngateway_url = "https://pay.shop.am"', "needs bank_base_url"),
        (
            'name = "x"\nkind = "simulator"\ngateway_url = "http://127.0.0.1:1"\nsimulator_url = "http://127.0.0.1:2"',
            "payment_url and callback_url must be given",
        ),
        ('name = "x"\nkind = "moon"', "kind"),
        ('name = "x"\nkind = "lab"\npassword = "p"', "password: Extra inputs are not permitted"),
        ('name = "x"\nkind = "lab"\ngateway_url = "ftp://h"', "not an http(s) URL"),
        ('name = "x"\nkind = "lab"\ngateway_url = "https://u:pw@h"', "carries no credentials"),
        ("name = ", "not a TOML file"),
    ],
)
def test_a_target_file_that_cannot_be_used_says_why(tmp_path: Path, text: str, said: str) -> None:
    with pytest.raises(TargetError, match=r"target\.toml") as raised:
        load_target_file(write(tmp_path, text))
    assert said in str(raised.value)
    assert "pw" not in str(raised.value).replace("pw@", "")


def test_a_missing_file_and_a_broken_environment_are_errors(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="cannot read the target file"):
        load_target_file(tmp_path / "none.toml")
    with pytest.raises(TargetError, match="VPOSLAB_TARGET is not JSON"):
        target_from_env({TARGET_ENV: "{"})


def test_the_secret_values_set_for_a_target_are_known_for_redaction() -> None:
    target = target_from_urls("http://127.0.0.1:8000", "http://127.0.0.1:8101")
    environ = {
        "VPOSLAB_TARGET_CLIENT_SECRET": "client-secret-1",
        "VPOSLAB_TARGET_BANK_CREDENTIALS": json.dumps({"AMD": {"user_name": "u", "password": "bank-pw-1"}}),
    }
    values = target_secret_values(target, environ)
    assert "client-secret-1" in values and "bank-pw-1" in values


def test_the_console_user_name_is_not_a_secret_to_redact() -> None:
    target = target_from_urls("http://127.0.0.1:8000", "http://127.0.0.1:8101")
    environ = {"VPOSLAB_TARGET_CONSOLE_USER": "qa", "VPOSLAB_TARGET_CONSOLE_PASSWORD": "console-pw-1"}
    assert target_secret_values(target, environ) == ["console-pw-1"]


def test_the_url_shortcut_can_name_the_store_that_holds_payments() -> None:
    target = target_from_urls("http://127.0.0.1:8000", "http://127.0.0.1:8101", held_store_id=1004)
    assert target.held_store_id == 1004
    assert target_from_urls("http://127.0.0.1:8000", "http://127.0.0.1:8101").held_store_id is None
