"""The simulator's command line: argument parsing (serving is covered by tests/e2e/test_sim_cli_e2e.py)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from simulator.cli import main, parse_merchant, parse_store


def test_parse_store_keeps_colons_in_the_token() -> None:
    store = parse_store("1003:abcdefghijklmnopq:tok:en")
    assert (store.store_id, store.client_secret, store.token) == (1003, "abcdefghijklmnopq", "tok:en")


@pytest.mark.parametrize("value", ["1003:short:token", "abc:abcdefghijklmnopq:t", "1003:abcdefghijklmnopq"])
def test_parse_store_rejects_bad_values(value: str) -> None:
    with pytest.raises(click.BadParameter):
        parse_store(value)


def test_parse_merchant_keeps_colons_in_the_password() -> None:
    merchant = parse_merchant("shop_api:pa:ss:051")
    assert (merchant.user_name, merchant.password, merchant.currency) == ("shop_api", "pa:ss", "051")


@pytest.mark.parametrize("value", ["shop:pw", "shop:pw:999", ":pw:051"])
def test_parse_merchant_rejects_bad_values(value: str) -> None:
    with pytest.raises(click.BadParameter):
        parse_merchant(value)


def test_serve_help_lists_the_options() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--payment-url", "--callback-url", "--callback-key", "--store", "--merchant"):
        assert option in result.output


def test_secrets_can_come_from_the_environment_one_value_per_line(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def fake_create_app(config: object) -> object:
        seen["config"] = config
        raise SystemExit(0)  # stop before serving

    monkeypatch.setattr("simulator.cli.create_app", fake_create_app)
    env = {
        "VPOSLAB_SIM_STORES": "1003:abcdefghijklmnopq:tok en 1\n1004:abcdefghijklmnopq:tok2\n",
        "VPOSLAB_SIM_MERCHANTS": "shop_amd:pass word:051\nshop_usd:pw2:840",
        "VPOSLAB_SIM_CALLBACK_KEY": "k" * 40,
    }
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code == 0, result.output
    config = seen["config"]
    assert [(s.store_id, s.token) for s in config.stores] == [(1003, "tok en 1"), (1004, "tok2")]  # type: ignore[attr-defined]
    assert [(m.user_name, m.password) for m in config.merchants] == [("shop_amd", "pass word"), ("shop_usd", "pw2")]  # type: ignore[attr-defined]
    assert config.callback_key == "k" * 40  # type: ignore[attr-defined]
    assert "tok en 1" not in result.output and "pass word" not in result.output
