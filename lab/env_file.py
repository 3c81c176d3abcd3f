"""A gateway's settings file: the ``VPOSLAB_*`` variables it runs with, one ``NAME=value`` per line, as a shell
sources it (``export`` optional, shell quoting, a quoted value may span lines) or as systemd's ``EnvironmentFile=``
holds it (a value in single or double quotes, or bare). Blank lines and ``#`` comments are skipped.

It holds the gateway's secrets: ``read_env_file`` never puts a value in an error, ``write_env_file`` creates the
file with mode 0600 before anything is written to it, and ``named_gateway_secrets`` names every secret of it (for
the secrets scans and the report's redaction).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

from gateway.domain.errors import ConfigurationError
from gateway.settings import Settings

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class EnvFileError(ValueError):
    """A settings file that cannot be read; the message names the file and the line, never a value."""


def read_env_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EnvFileError(f"{path}: cannot read the gateway's settings file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise EnvFileError(f"{path}: not a text file") from exc
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True  # a word ends at a blank only: "NAME=value" is one word, quotes and all
    lexer.commenters = "#"
    values: dict[str, str] = {}
    try:
        for word in lexer:
            if word == "export":
                continue
            name, equals, value = word.partition("=")
            if not equals or not NAME.fullmatch(name):
                raise EnvFileError(f"{path}, line {lexer.lineno}: not NAME=value (a value with blanks is quoted)")
            values[name] = value
    except ValueError as exc:
        if isinstance(exc, EnvFileError):
            raise
        raise EnvFileError(f"{path}, line {lexer.lineno}: a quote is not closed") from exc
    return values


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """``export NAME=value`` lines (shell-quoted), in a file only its owner can read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        for name, value in values.items():
            if not NAME.fullmatch(name):
                raise EnvFileError(f"{name!r} is not a variable name")
            handle.write(f"export {name}={shlex.quote(value)}\n")


def named_gateway_secrets(environment: dict[str, str]) -> dict[str, str]:
    """Every secret of the gateway's settings, by name (for the secrets scans); none when they do not load."""
    try:
        settings = Settings.from_env(environment)
    except ConfigurationError:
        return {}
    named: dict[str, str] = {}
    for store, secret in settings.ecwid_client_secrets.items():
        named[f"gateway client secret of store {store}"] = secret.get_secret_value()
    for currency, credentials in settings.provider_credentials.items():
        named[f"gateway bank password {currency}"] = credentials.password.get_secret_value()
    for number, key in enumerate(settings.token_key.get_secret_value().split(","), start=1):
        if key.strip():
            named[f"gateway token key {number}"] = key.strip()
    if settings.callback_key is not None:
        named["gateway callback key"] = settings.callback_key.get_secret_value()
    if settings.console_secret_key is not None:
        named["gateway console secret key"] = settings.console_secret_key.get_secret_value()
    return {name: value for name, value in named.items() if value.strip()}
