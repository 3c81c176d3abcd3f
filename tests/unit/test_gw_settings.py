"""Settings from the environment (REAL is never a default; errors never show secret values) and the token box
that keeps Ecwid tokens encrypted at rest."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from gateway.domain.errors import ConfigurationError
from gateway.services.tokens import TokenBox
from gateway.settings import DEFAULT_PROVIDER_URLS, ProviderMode, Settings

CLIENT_SECRET_VALUE = "ecwid-client-secret-value-XYZ123"
PASSWORD_VALUE = "bank-password-value-QWE987"
CALLBACK_KEY_VALUE = "callback-key-value-ASD456"
TOKEN_KEY_VALUE = Fernet.generate_key().decode()
SECRETS = (CLIENT_SECRET_VALUE, PASSWORD_VALUE, CALLBACK_KEY_VALUE, TOKEN_KEY_VALUE)


def environ(**overrides: str | None) -> dict[str, str]:
    env = {
        "VPOSLAB_PUBLIC_URL": "https://gw.example/",
        "VPOSLAB_ECWID_CLIENT_SECRETS": json.dumps({"1003": CLIENT_SECRET_VALUE}),
        "VPOSLAB_PROVIDER_MODE": "TEST",
        "VPOSLAB_PROVIDER_CREDENTIALS": json.dumps({"AMD": {"user_name": "lab_api", "password": PASSWORD_VALUE}}),
        "VPOSLAB_TOKEN_KEY": TOKEN_KEY_VALUE,
        "VPOSLAB_CALLBACK_KEY": CALLBACK_KEY_VALUE,
    }
    for name, value in overrides.items():
        key = "VPOSLAB_" + name
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def configuration_error(env: dict[str, str]) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env(env)
    exc = info.value
    assert exc.code == "configuration_error"
    for secret in SECRETS:
        assert secret not in str(exc)
        assert secret not in repr(exc)
    return exc


def test_complete_environment_gives_typed_settings() -> None:
    settings = Settings.from_env(environ())
    assert settings.provider_mode is ProviderMode.TEST
    assert settings.public_url == "https://gw.example"  # trailing slash dropped
    assert settings.provider_url == DEFAULT_PROVIDER_URLS["TEST"]
    assert settings.ecwid_client_secrets[1003].get_secret_value() == CLIENT_SECRET_VALUE
    assert settings.provider_credentials["AMD"].password.get_secret_value() == PASSWORD_VALUE
    assert set(settings.secret_values) == set(SECRETS)
    for secret in SECRETS:
        assert secret not in repr(settings)


def test_optional_values_are_read_and_typed() -> None:
    settings = Settings.from_env(
        environ(
            PROVIDER_BASE_URL="http://127.0.0.1:9000/payment/rest",
            ECWID_MAX_ATTEMPTS="3",
            SEND_DYNAMIC_CALLBACK_URL="false",
            DATABASE_URL="sqlite:///x.sqlite3",
        )
    )
    assert settings.provider_url == "http://127.0.0.1:9000/payment/rest/"
    assert settings.ecwid_max_attempts == 3
    assert settings.send_dynamic_callback_url is False
    assert settings.database_url == "sqlite:///x.sqlite3"


@pytest.mark.parametrize("mode", [None, ""], ids=["unset", "empty"])
def test_missing_provider_mode_is_an_error_never_a_default(mode: str | None) -> None:
    exc = configuration_error(environ(PROVIDER_MODE=mode))
    assert "VPOSLAB_PROVIDER_MODE" in str(exc)


def test_unknown_provider_mode_is_an_error() -> None:
    assert "provider_mode" in str(configuration_error(environ(PROVIDER_MODE="LIVE")))


def test_real_mode_must_be_chosen_explicitly_and_then_points_at_real() -> None:
    assert Settings.from_env(environ(PROVIDER_MODE="REAL")).provider_url == DEFAULT_PROVIDER_URLS["REAL"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"PUBLIC_URL": "http://gw.example"}, "public_url"),
        ({"PROVIDER_BASE_URL": "http://bank.example/payment/rest/"}, "provider_base_url"),
    ],
)
def test_real_mode_refuses_plain_http(overrides: dict[str, str], field: str) -> None:
    exc = configuration_error(environ(PROVIDER_MODE="REAL", **overrides))
    assert f"{field} must be https:// in REAL mode" in str(exc)
    assert Settings.from_env(environ(PROVIDER_MODE="TEST", **overrides))  # TEST may run on plain HTTP (the lab)


def test_the_test_clock_is_off_unless_asked_for_and_read_from_the_environment() -> None:
    assert Settings.from_env(environ()).test_clock is False
    assert Settings.from_env(environ(TEST_CLOCK="true")).test_clock is True
    assert Settings.from_env(environ(TEST_CLOCK="0")).test_clock is False
    assert "test_clock" in str(configuration_error(environ(TEST_CLOCK="maybe")))


def test_the_test_clock_is_refused_in_real_mode() -> None:
    exc = configuration_error(environ(PROVIDER_MODE="REAL", TEST_CLOCK="true"))
    assert "the test clock is TEST-only" in str(exc)
    with pytest.raises(ValidationError, match="the test clock is TEST-only"):
        Settings.model_validate({**Settings.from_env(environ(PROVIDER_MODE="REAL")).model_dump(), "test_clock": True})


def test_the_outbox_lease_is_read_and_must_outlast_one_send() -> None:
    assert Settings.from_env(environ()).outbox_lease_s == 60.0
    assert Settings.from_env(environ(OUTBOX_LEASE_S="25")).outbox_lease_s == 25.0
    too_short = str(configuration_error(environ(OUTBOX_LEASE_S="14", HTTP_TIMEOUT_S="10")))
    assert "outbox_lease_s" in too_short and "longer than one Ecwid send" in too_short


def test_proxy_hops_come_from_the_environment_and_are_bounded() -> None:
    assert Settings.from_env(environ()).proxy_hops == 0
    assert Settings.from_env(environ(PROXY_HOPS="1")).proxy_hops == 1
    assert "proxy_hops" in str(configuration_error(environ(PROXY_HOPS="9")))


@pytest.mark.parametrize("name", ["ECWID_CLIENT_SECRETS", "PROVIDER_CREDENTIALS"])
def test_broken_json_is_an_error_without_the_value(name: str) -> None:
    broken = '{"1003": "' + (CLIENT_SECRET_VALUE if name == "ECWID_CLIENT_SECRETS" else PASSWORD_VALUE)
    exc = configuration_error(environ(**{name: broken}))
    assert f"VPOSLAB_{name}" in str(exc)
    assert "JSON" in str(exc)


@pytest.mark.parametrize("name", ["ECWID_CLIENT_SECRETS", "PROVIDER_CREDENTIALS", "PUBLIC_URL", "TOKEN_KEY"])
def test_missing_required_value_is_named(name: str) -> None:
    assert f"VPOSLAB_{name}" in str(configuration_error(environ(**{name: None})))


@pytest.mark.parametrize(
    "overrides",
    [
        {"ECWID_CLIENT_SECRETS": json.dumps({"not-a-store-id": CLIENT_SECRET_VALUE})},
        {"PROVIDER_CREDENTIALS": json.dumps({"GBP": {"user_name": "u", "password": PASSWORD_VALUE}})},
        {"PROVIDER_CREDENTIALS": json.dumps({"AMD": {"user_name": "", "password": PASSWORD_VALUE}})},
        {"PROVIDER_CREDENTIALS": json.dumps({"AMD": PASSWORD_VALUE})},
        {"ECWID_CLIENT_SECRETS": json.dumps([CLIENT_SECRET_VALUE]), "HTTP_TIMEOUT_S": "soon"},
    ],
    ids=["store-id", "currency", "empty-user", "credentials-shape", "several"],
)
def test_validation_errors_name_fields_but_never_show_secret_values(overrides: dict[str, str]) -> None:
    assert "invalid settings" in str(configuration_error(environ(**overrides)))


def test_token_box_round_trip_and_the_sealed_form_is_not_the_token() -> None:
    box = TokenBox(TOKEN_KEY_VALUE)
    token = "secret_abcdefghijklmnopqrstuv1234567890"
    sealed = box.seal(token)
    assert token not in sealed
    assert box.open(sealed) == token
    assert box.seal(token) != sealed  # random IV: equal tokens do not look equal at rest


def test_token_box_with_another_key_cannot_open_it() -> None:
    sealed = TokenBox(TOKEN_KEY_VALUE).seal("secret_token")
    with pytest.raises(ConfigurationError) as info:
        TokenBox(Fernet.generate_key().decode()).open(sealed)
    assert "secret_token" not in str(info.value)


def test_token_box_refuses_a_key_that_is_not_a_fernet_key() -> None:
    with pytest.raises(ConfigurationError) as info:
        TokenBox("short-key")
    assert "short-key" not in str(info.value)


def test_tampered_sealed_token_is_refused() -> None:
    box = TokenBox(TOKEN_KEY_VALUE)
    sealed = box.seal("secret_token")
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(ConfigurationError):
        box.open(tampered)


# --- Ecwid client secrets: each must give an AES-128 key ----------------------------------------------------------

SHORT_SECRET = "too-short-secret"[:15]
NON_ASCII_SECRET = "գաղտնիք-գաղտնիք-գաղտնիք"  # 16 characters, but more than 16 bytes in UTF-8


def direct_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "public_url": "https://gw.example",
        "ecwid_client_secrets": {1003: CLIENT_SECRET_VALUE},
        "provider_mode": "TEST",
        "provider_credentials": {"AMD": {"user_name": "lab_api", "password": PASSWORD_VALUE}},
        "token_key": TOKEN_KEY_VALUE,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.mark.parametrize("bad_secret", [SHORT_SECRET, NON_ASCII_SECRET, ""], ids=["15-chars", "non-ascii", "empty"])
def test_a_client_secret_that_cannot_be_a_key_is_refused_at_start_naming_the_store(bad_secret: str) -> None:
    secrets = {"1003": CLIENT_SECRET_VALUE, "2004": bad_secret}
    exc = configuration_error(environ(ECWID_CLIENT_SECRETS=json.dumps(secrets)))
    assert "2004" in str(exc)
    assert "1003" not in str(exc)
    if bad_secret:
        assert bad_secret not in str(exc)
        assert bad_secret[:8] not in str(exc)


@pytest.mark.parametrize("bad_secret", [SHORT_SECRET, NON_ASCII_SECRET], ids=["15-chars", "non-ascii"])
def test_settings_built_directly_refuse_a_secret_that_cannot_be_a_key(bad_secret: str) -> None:
    with pytest.raises(ValidationError) as info:
        direct_settings(ecwid_client_secrets={1003: CLIENT_SECRET_VALUE, 2004: bad_secret})
    text = str(info.value) + repr(info.value)  # what a log or a traceback would show
    assert "2004" in text
    assert bad_secret not in text
    assert CLIENT_SECRET_VALUE not in text


@pytest.mark.parametrize(
    "secret",
    ["exactly-16-chars", "sixteen-ascii-ok-then-ünïcödé"],
    ids=["exactly-16", "non-ascii-after-the-key"],
)
def test_a_secret_whose_first_16_characters_are_16_bytes_is_accepted(secret: str) -> None:
    settings = direct_settings(ecwid_client_secrets={1003: secret, 2004: secret})
    assert settings.ecwid_client_secrets[2004].get_secret_value() == secret


# --- request size limit ---------------------------------------------------------------------------------------------


def test_the_request_size_limit_defaults_to_one_mebibyte() -> None:
    assert Settings.from_env(environ()).max_request_bytes == 1024 * 1024


def test_the_request_size_limit_is_read_from_the_environment() -> None:
    assert Settings.from_env(environ(MAX_REQUEST_BYTES="65536")).max_request_bytes == 65536


@pytest.mark.parametrize("value", ["0", "-1", "1023", "lots"])
def test_an_unusable_request_size_limit_is_refused(value: str) -> None:
    assert "max_request_bytes" in str(configuration_error(environ(MAX_REQUEST_BYTES=value)))


# --- per-store allow-list of returnUrl hosts -------------------------------------------------------------------------


def test_return_hosts_default_to_no_list() -> None:
    assert Settings.from_env(environ()).ecwid_return_hosts == {}


def test_return_hosts_are_read_from_the_environment_and_normalised() -> None:
    hosts = json.dumps({"1003": ["MyStore.Example.", "*.Company.Site", "127.0.0.1"]})
    settings = Settings.from_env(environ(ECWID_RETURN_HOSTS=hosts))
    assert settings.ecwid_return_hosts == {1003: ["mystore.example", "*.company.site", "127.0.0.1"]}


def test_return_hosts_that_are_not_json_are_named() -> None:
    exc = configuration_error(environ(ECWID_RETURN_HOSTS="{1003: mystore.example"))
    assert "VPOSLAB_ECWID_RETURN_HOSTS" in str(exc) and "JSON" in str(exc)


def test_return_hosts_for_a_store_without_a_secret_are_refused_naming_it() -> None:
    exc = configuration_error(environ(ECWID_RETURN_HOSTS=json.dumps({"2004": ["mystore.example"]})))
    assert "ecwid_return_hosts" in str(exc) and "2004" in str(exc)


@pytest.mark.parametrize(
    "patterns",
    [
        [],
        ["*"],
        ["*."],
        ["shop.*.site"],
        ["*shop.site"],
        ["**.shop.site"],
        ["https://mystore.example"],
        ["mystore.example/checkout"],
        ["mystore.example:443"],
        ["user@mystore.example"],
        ["my store.example"],
        [""],
        ["mystore..example"],
        [".mystore.example"],
        ["mystore.example\x00"],
    ],
    ids=[
        "empty-list",
        "star",
        "star-dot",
        "inner-star",
        "star-without-dot",
        "double-star",
        "url",
        "path",
        "port",
        "userinfo",
        "space",
        "empty",
        "double-dot",
        "leading-dot",
        "nul",
    ],
)
def test_an_unusable_return_host_pattern_is_refused_naming_the_store(patterns: list[str]) -> None:
    exc = configuration_error(environ(ECWID_RETURN_HOSTS=json.dumps({"1003": patterns})))
    assert "ecwid_return_hosts" in str(exc) and "1003" in str(exc)


def test_settings_built_directly_accept_return_hosts() -> None:
    settings = direct_settings(ecwid_return_hosts={1003: ["mystore.example"]})
    assert settings.ecwid_return_hosts == {1003: ["mystore.example"]}
