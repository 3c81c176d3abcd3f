"""Ed25519 signing of a report: the key, the signature over the verdict and the manifest, and its check.

Role: ``load_signing_key`` finds the key: the PEM file named by ``VPOSLAB_SIGNING_KEY``, or else the installation's
own key ``$XDG_CONFIG_HOME/vposlab/signing-key.pem`` (``~/.config`` when ``XDG_CONFIG_HOME`` is unset), generated
the first time it is needed (directory 0700, file 0600, created exclusively so two runs never write two keys).
``sign`` returns the ``signature.json`` document; ``check_signature`` verifies one. A key is named by its
fingerprint, ``SHA256:`` + unpadded base64 of the SHA-256 of the raw 32-byte public key (as ``ssh-keygen -l``).

What is signed is the canonical JSON (sorted keys, no spaces, UTF-8) of the ``signed`` object::

    {"report": "readiness.json", "schema_version": "2.0", "verdict": "NO-GO", "generated_at": "...Z",
     "failed_rules": ["V-02", ...], "manifest": "manifest.json", "manifest_sha256": "<hex>"}

The private key never leaves its file: it is not logged, not copied into the report, not in any error message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from reports.errors import SigningError

SIGNING_KEY_ENV = "VPOSLAB_SIGNING_KEY"
KEY_FILE = "signing-key.pem"
ALGORITHM = "Ed25519"
SIGNATURE_VERSION = 1


@dataclass(frozen=True)
class SigningKey:
    """A private key and where it came from (``source``: the path, for messages; never its content)."""

    private_key: Ed25519PrivateKey
    source: str

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_pem(self) -> str:
        return public_pem(self.public_key)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode("ascii").rstrip("=")


def default_key_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/vposlab/signing-key.pem`` (``~/.config/...`` when unset or not absolute)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "vposlab" / KEY_FILE


def generate_key_file(path: Path) -> Ed25519PrivateKey:
    """Write a new key to ``path`` (0600, parent 0700); ``FileExistsError`` when one is already there."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, pem)
    finally:
        os.close(fd)
    return key


def read_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"{path}: cannot read the signing key ({exc.strerror or exc})") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{path}: not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path}: not an Ed25519 key ({type(key).__name__})")
    return key


def load_signing_key(environ: Mapping[str, str] | None = None) -> SigningKey:
    """The configured key (``VPOSLAB_SIGNING_KEY``), else the installation's key, generated once when missing.

    Raises ``SigningError`` when the configured file is missing or not an Ed25519 private key, or the default one
    cannot be created.
    """
    env = os.environ if environ is None else environ
    configured = env.get(SIGNING_KEY_ENV, "")
    if configured:
        path = Path(configured)
        return SigningKey(read_private_key(path), str(path))
    path = default_key_path(env)
    if not path.exists():
        try:
            return SigningKey(generate_key_file(path), str(path))
        except FileExistsError:
            pass  # another run created it a moment ago: use that one
        except OSError as exc:
            raise SigningError(f"{path}: cannot create the signing key ({exc.strerror or exc})") from exc
    return SigningKey(read_private_key(path), str(path))


def load_public_key(data: bytes, *, source: str = "public key") -> Ed25519PublicKey:
    """A PEM public key (or the PEM of a private key, whose public half is taken); ``SigningError`` otherwise."""
    try:
        key: Any = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise SigningError(f"{source}: not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{source}: not an Ed25519 key ({type(key).__name__})")
    return key


def canonical(data: Mapping[str, object]) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(key: SigningKey, signed: Mapping[str, object]) -> dict[str, object]:
    """The ``signature.json`` document for ``signed``."""
    signature = key.private_key.sign(canonical(signed))
    return {
        "signature_version": SIGNATURE_VERSION,
        "algorithm": ALGORITHM,
        "signed": dict(signed),
        "signature": base64.b64encode(signature).decode("ascii"),
        "public_key": key.public_pem,
        "fingerprint": key.fingerprint,
    }


def check_signature(document: Mapping[str, Any]) -> tuple[Ed25519PublicKey | None, str | None]:
    """``(public key, None)`` when ``document`` (a ``signature.json``) is a valid signature by its own public key,
    else ``(key or None, what is wrong)``."""
    if document.get("algorithm") != ALGORITHM:
        return None, f"unknown signature algorithm {document.get('algorithm')!r}"
    signed = document.get("signed")
    if not isinstance(signed, dict):
        return None, "'signed' is missing"
    try:
        key = load_public_key(str(document.get("public_key", "")).encode("ascii"), source="signature.json")
    except (SigningError, UnicodeEncodeError):
        return None, "the public key in signature.json cannot be read"
    if document.get("fingerprint") != fingerprint(key):
        return key, "the fingerprint in signature.json is not the public key's"
    try:
        raw = base64.b64decode(str(document.get("signature", "")), validate=True)
        key.verify(raw, canonical(signed))
    except (binascii.Error, ValueError, InvalidSignature):
        return key, "the signature does not match what it signs (the signed verdict or manifest digest was edited)"
    return key, None
