"""The gateway's settings file (``--gateway-env-file``): read as a shell or systemd reads it, written so only its
owner can read it, never a value in an error, and every secret in it named for the scans and the redaction."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from lab.env_file import EnvFileError, named_gateway_secrets, read_env_file, write_env_file


def test_what_is_written_reads_back_exactly_and_only_its_owner_can_read_it(tmp_path: Path) -> None:
    values = {
        "VPOSLAB_PROVIDER_CREDENTIALS": json.dumps({"AMD": {"user_name": "u", "password": "p w'\"$x"}}),
        "VPOSLAB_MULTI": "first line\nsecond line",
        "VPOSLAB_SHELLY": "it's $HOME \\ `uname` # not a comment",
        "VPOSLAB_EMPTY": "",
    }
    path = tmp_path / "gateway.env"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o644)  # an existing file does not keep a readable mode
    write_env_file(path, values)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_env_file(path) == values


def test_the_shell_and_systemd_forms_are_read(tmp_path: Path) -> None:
    path = tmp_path / "gateway.env"
    path.write_text(
        "# the gateway\n\nexport VPOSLAB_A=1\nVPOSLAB_B='two words'\nVPOSLAB_C=\"three\"  # trailing comment\n",
        encoding="utf-8",
    )
    assert read_env_file(path) == {"VPOSLAB_A": "1", "VPOSLAB_B": "two words", "VPOSLAB_C": "three"}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("VPOSLAB_A=secret value\n", "not NAME=value"),
        ("just-a-word-secret\n", "not NAME=value"),
        ("1BAD=secret\n", "not NAME=value"),
        ("VPOSLAB_A='secret\n", "a quote is not closed"),
    ],
)
def test_a_file_that_cannot_be_read_says_where_and_never_shows_a_value(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "gateway.env"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EnvFileError) as raised:
        read_env_file(path)
    assert said in str(raised.value) and str(path) in str(raised.value)
    assert "secret" not in str(raised.value).replace(str(path), "")


def test_a_missing_or_binary_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EnvFileError, match="cannot read the gateway's settings file"):
        read_env_file(tmp_path / "none.env")
    (tmp_path / "bin.env").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(EnvFileError, match="not a text file"):
        read_env_file(tmp_path / "bin.env")
    with pytest.raises(EnvFileError, match="not a variable name"):
        write_env_file(tmp_path / "w.env", {"NOT A NAME": "x"})


def test_every_secret_of_the_gateway_s_settings_is_named() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    environment = {
        "VPOSLAB_PUBLIC_URL": "http://127.0.0.1:8000",
        "VPOSLAB_PROVIDER_MODE": "TEST",
        "VPOSLAB_ECWID_CLIENT_SECRETS": json.dumps({"1003": "client-secret-of-1003"}),
        "VPOSLAB_PROVIDER_CREDENTIALS": json.dumps({"AMD": {"user_name": "u", "password": "bank-password-amd"}}),
        "VPOSLAB_TOKEN_KEY": f"{new},{old}",
        "VPOSLAB_CALLBACK_KEY": "c" * 32,
        "VPOSLAB_CONSOLE_SECRET_KEY": "k" * 32,
    }
    named = named_gateway_secrets(environment)
    assert named == {
        "gateway client secret of store 1003": "client-secret-of-1003",
        "gateway bank password AMD": "bank-password-amd",
        "gateway token key 1": new,
        "gateway token key 2": old,
        "gateway callback key": "c" * 32,
        "gateway console secret key": "k" * 32,
    }
    assert named_gateway_secrets({"VPOSLAB_PROVIDER_MODE": "TEST"}) == {}  # settings that do not load: none
