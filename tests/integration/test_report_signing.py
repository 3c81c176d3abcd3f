"""The report's signing key: where it comes from, how it is created (once, 0600), how a signature is checked.

Every test points ``XDG_CONFIG_HOME`` (and, where it says so, ``VPOSLAB_SIGNING_KEY``) at a temporary folder: the
installation's real key is never touched.
"""

from __future__ import annotations

import base64
import hashlib
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reports.errors import SigningError
from reports.signing import (
    SIGNING_KEY_ENV,
    SigningKey,
    check_signature,
    default_key_path,
    fingerprint,
    load_public_key,
    load_signing_key,
    sign,
)


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path / "home"), **extra}


def write_pem(path: Path, key: object) -> Path:
    assert isinstance(key, Ed25519PrivateKey) or hasattr(key, "private_bytes")
    pem = key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    return path


def test_without_configuration_a_key_is_generated_once_under_xdg_config_home_0600(tmp_path: Path) -> None:
    environ = env(tmp_path)

    first = load_signing_key(environ)
    second = load_signing_key(environ)

    path = tmp_path / "config" / "vposlab" / "signing-key.pem"
    assert first.source == str(path) == str(default_key_path(environ))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert first.fingerprint == second.fingerprint  # the same key the second time, not a new one


def test_without_xdg_config_home_the_key_lives_under_home_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    assert default_key_path({"XDG_CONFIG_HOME": ""}) == tmp_path / "home" / ".config" / "vposlab" / "signing-key.pem"
    assert default_key_path({"XDG_CONFIG_HOME": "relative/dir"}).is_relative_to(tmp_path / "home" / ".config")


def test_the_configured_key_file_wins_and_nothing_is_generated(tmp_path: Path) -> None:
    configured = write_pem(tmp_path / "ci-key.pem", Ed25519PrivateKey.generate())

    key = load_signing_key(env(tmp_path, **{SIGNING_KEY_ENV: str(configured)}))

    assert key.source == str(configured)
    assert not (tmp_path / "config").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the signing key"),
        (b"not a key", "not an unencrypted PEM private key"),
        ("ec", "not an Ed25519 key"),
    ],
)
def test_a_configured_key_that_cannot_be_used_is_a_clear_error(
    tmp_path: Path, content: bytes | str | None, message: str
) -> None:
    path = tmp_path / "ci-key.pem"
    if content == "ec":
        write_pem(path, generate_private_key(SECP256R1()))
    elif isinstance(content, bytes):
        path.write_bytes(content)

    with pytest.raises(SigningError, match=message) as caught:
        load_signing_key(env(tmp_path, **{SIGNING_KEY_ENV: str(path)}))

    assert caught.value.code == "signing_failed"
    assert "PRIVATE KEY" not in caught.value.message


def test_a_fingerprint_is_sha256_of_the_raw_public_key_in_unpadded_base64() -> None:
    key = Ed25519PrivateKey.generate()

    value = fingerprint(key.public_key())

    assert re.fullmatch(r"SHA256:[A-Za-z0-9+/]{43}", value)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert value == "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")


def test_a_signature_checks_and_any_change_to_what_it_signs_breaks_it() -> None:
    key = SigningKey(Ed25519PrivateKey.generate(), "test")
    document = sign(key, {"verdict": "NO-GO", "manifest_sha256": "ab" * 32})

    assert check_signature(document)[1] is None
    document["signed"] = {"verdict": "GO", "manifest_sha256": "ab" * 32}
    assert check_signature(document)[1] == (
        "the signature does not match what it signs (the signed verdict or manifest digest was edited)"
    )


def test_the_public_key_of_a_signature_loads_from_pem_and_a_private_pem_gives_its_public_half(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    key = SigningKey(private, "test")
    private_pem = write_pem(tmp_path / "k.pem", private).read_bytes()

    assert fingerprint(load_public_key(key.public_pem.encode())) == key.fingerprint
    assert fingerprint(load_public_key(private_pem)) == key.fingerprint
    with pytest.raises(SigningError, match="not a PEM public key"):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
