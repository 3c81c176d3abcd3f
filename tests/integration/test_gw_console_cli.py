"""``vposlab-gateway operator ...``: accounts made from the command line work in the console, the password only
from standard input or a hidden prompt, the TOTP URI printed once, and no hash or secret ever printed."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pyotp
from click.testing import CliRunner
from sqlalchemy import select

from gateway import create_app
from gateway.cli import main
from gateway.store.models import Operator
from tests.gateway_fakes import CLIENT_SECRET, TOKEN_KEY, migrate_database
from tests.integration.test_gw_console_support import CONSOLE_KEY, PASSWORD, Console, console_gateway


def _env(database_url: str) -> dict[str, str]:
    return {
        "VPOSLAB_PUBLIC_URL": "http://gateway.test",
        "VPOSLAB_ECWID_CLIENT_SECRETS": json.dumps({"1003": CLIENT_SECRET}),
        "VPOSLAB_PROVIDER_MODE": "TEST",
        "VPOSLAB_PROVIDER_BASE_URL": "https://bank.test/payment/rest/",
        "VPOSLAB_PROVIDER_CREDENTIALS": json.dumps({"AMD": {"user_name": "lab_amd_api", "password": "pw-amd"}}),
        "VPOSLAB_TOKEN_KEY": TOKEN_KEY,
        "VPOSLAB_DATABASE_URL": database_url,
        "VPOSLAB_CONSOLE_SECRET_KEY": CONSOLE_KEY,
    }


def test_operator_commands_manage_accounts_that_can_log_in(database_url: str) -> None:
    migrate_database(database_url)
    runner, env = CliRunner(), _env(database_url)

    added = runner.invoke(
        main, ["operator", "add", "anna", "--language", "hy", "--password-stdin"], input=PASSWORD + "\n", env=env
    )
    assert added.exit_code == 0, added.output
    assert "operator anna created (language hy)" in added.output
    assert PASSWORD not in added.output

    with_totp = runner.invoke(
        main, ["operator", "add", "boris", "--totp", "--password-stdin"], input=PASSWORD + "\n", env=env
    )
    assert with_totp.exit_code == 0, with_totp.output
    uri = next(line for line in with_totp.output.splitlines() if line.startswith("otpauth://totp/"))
    secret = parse_qs(urlsplit(uri).query)["secret"][0]

    taken = runner.invoke(main, ["operator", "add", "anna", "--password-stdin"], input=PASSWORD + "\n", env=env)
    assert taken.exit_code == 1 and "exists already" in taken.output
    short = runner.invoke(main, ["operator", "add", "carl", "--password-stdin"], input="short\n", env=env)
    assert short.exit_code == 1 and "at least 12 characters" in short.output

    prompted = runner.invoke(main, ["operator", "set-password", "anna"], input="a new long password\n" * 2, env=env)
    assert prompted.exit_code == 0, prompted.output
    assert "a new long password" not in prompted.output.replace("Password: \n", "")

    listed = runner.invoke(main, ["operator", "list"], env=env)
    assert listed.exit_code == 0
    assert "anna\thy\tactive\tno-totp" in listed.output
    assert "boris\ten\tactive\ttotp" in listed.output

    gw = console_gateway(database_url)
    try:
        with gw.ctx.db.session() as session:
            stored = list(session.scalars(select(Operator)))
        for row in stored:
            assert row.password_hash not in listed.output + added.output + with_totp.output
            assert row.totp_secret_encrypted is None or row.totp_secret_encrypted not in with_totp.output
        app = create_app(context=gw.ctx)
        anna = Console(app.test_client())
        assert anna.login("anna", "a new long password").status_code == 302
        boris = Console(app.test_client())
        assert boris.login("boris").headers["Location"].endswith("/ops/login/totp")
        code = pyotp.TOTP(secret).at(gw.clock.now())
        assert boris.post("/ops/login/totp", {"code": code}).status_code == 302

        disabled = runner.invoke(main, ["operator", "disable", "anna"], env=env)
        assert disabled.exit_code == 0
        assert "anna\thy\tdisabled" in runner.invoke(main, ["operator", "list"], env=env).output
        assert anna.get("/ops/exceptions").status_code == 302
        assert "This account is disabled." in Console(app.test_client()).login("anna", "a new long password").get_data(
            as_text=True
        )
    finally:
        gw.close()

    unknown = runner.invoke(main, ["operator", "disable", "nobody"], env=env)
    assert unknown.exit_code == 1 and "no operator 'nobody'" in unknown.output
