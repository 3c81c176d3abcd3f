"""``verify``: was this report folder edited after its run? Says exactly what, never just "invalid".

Role: given a report folder (or its ``readiness.json``), check, in order:
1. ``manifest.json``: every file it lists still has its SHA-256; name each file changed, added or removed;
2. ``signature.json``: the Ed25519 signature is valid for what it signs, the signed manifest digest is the
   manifest's, the signed verdict, failed rules, time and schema are ``readiness.json``'s; with a trusted public
   key, the signature was made by it (else: "signed by an untrusted key", with both fingerprints);
3. ``readiness.json``: it follows its schema (``reports.schema_check``), its evidence hashes match the files, and
   every finding, the verdict, the rules and the summary follow from its own items (``reports.recheck``).

Each problem has a stable ``kind`` (``file_changed``, ``file_added``, ``file_removed``, ``manifest_missing``,
``manifest_invalid``, ``manifest_edited``, ``signature_missing``, ``signature_invalid``, ``signed_mismatch``,
``untrusted_key``, ``report_unreadable``, ``schema``, ``evidence_hash``, ``finding``) and names the file or field.
A path that is not a report at all is a ``NotAReportError`` (a usage error, not an edit).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from reports.errors import NotAReportError
from reports.integrity import MANIFEST_NAME, SIGNATURE_NAME, compare_files, files_of, hash_folder
from reports.json_doc import JSON_NAME
from reports.recheck import recheck
from reports.schema_check import problems as schema_problems
from reports.signing import check_signature, fingerprint, load_public_key


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    subject: str
    message: str


@dataclass
class VerifyResult:
    """``intact`` when nothing was found; ``problems`` each name what was edited; ``notes`` are for information."""

    folder: Path
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    signer: str | None = None
    verdict: str | None = None

    @property
    def intact(self) -> bool:
        return not self.problems

    def add(self, kind: str, subject: str, message: str) -> None:
        self.problems.append(Problem(kind, subject, message))

    def lines(self) -> list[str]:
        head = (
            f"INTACT: {self.folder} (verdict {self.verdict}, signed by {self.signer})"
            if self.intact
            else f"EDITED OR INVALID: {self.folder}: {len(self.problems)} problem(s)"
        )
        return [head, *(f"  - [{p.kind}] {p.subject}: {p.message}" for p in self.problems), *self.notes]


TrustedKey = Ed25519PublicKey | bytes | str | Path


def _trusted(value: TrustedKey | None) -> Ed25519PublicKey | None:
    if value is None or isinstance(value, Ed25519PublicKey):
        return value
    if isinstance(value, Path):
        return load_public_key(value.read_bytes(), source=str(value))
    if isinstance(value, str):
        if "-----BEGIN" in value:
            return load_public_key(value.encode("ascii"))
        return load_public_key(Path(value).read_bytes(), source=value)
    return load_public_key(value)


def _folder_of(path: Path) -> Path:
    if path.is_dir():
        folder = path
    elif path.is_file() and path.name == JSON_NAME:
        folder = path.parent
    else:
        raise NotAReportError(f"{path}: not a report folder nor its {JSON_NAME}")
    if not any((folder / name).exists() for name in (JSON_NAME, MANIFEST_NAME, SIGNATURE_NAME)):
        raise NotAReportError(f"{folder}: no {JSON_NAME}, {MANIFEST_NAME} or {SIGNATURE_NAME}: not a report folder")
    return folder


def _read_json(path: Path) -> tuple[Any, str | None]:
    try:
        return json.loads(path.read_text(encoding="utf-8")), None
    except FileNotFoundError:
        return None, "missing"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"cannot be read ({exc})"


def _check_files(folder: Path, result: VerifyResult) -> bytes | None:
    try:
        manifest_bytes = (folder / MANIFEST_NAME).read_bytes()
    except FileNotFoundError:
        result.add("manifest_missing", MANIFEST_NAME, "missing: no file of the run can be checked")
        return None
    try:
        recorded = files_of(json.loads(manifest_bytes))
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        recorded = None
    if recorded is None:
        result.add("manifest_invalid", MANIFEST_NAME, "not a manifest (no 'files' with a sha256 each)")
        return manifest_bytes
    changes = compare_files(recorded, hash_folder(folder))
    for name in changes.changed:
        result.add("file_changed", name, "changed after the run (its SHA-256 is not the one in the manifest)")
    for name in changes.added:
        result.add("file_added", name, "added after the run (not in the manifest)")
    for name in changes.removed:
        result.add("file_removed", name, "removed after the run (listed in the manifest)")
    return manifest_bytes


def _check_signature(
    folder: Path,
    manifest_bytes: bytes | None,
    document: dict[str, Any] | None,
    trusted: Ed25519PublicKey | None,
    result: VerifyResult,
) -> None:
    signature, problem = _read_json(folder / SIGNATURE_NAME)
    if problem == "missing":
        result.add("signature_missing", SIGNATURE_NAME, "missing: the report is not signed")
        return
    if problem is not None or not isinstance(signature, dict):
        result.add("signature_invalid", SIGNATURE_NAME, problem or "not a signature document")
        return
    key, problem = check_signature(signature)
    if problem is not None:
        result.add("signature_invalid", SIGNATURE_NAME, problem)
        return
    assert key is not None
    result.signer = fingerprint(key)
    signed: dict[str, Any] = signature["signed"]
    if manifest_bytes is not None and signed.get("manifest_sha256") != hashlib.sha256(manifest_bytes).hexdigest():
        result.add("manifest_edited", MANIFEST_NAME, "edited after it was signed (its SHA-256 is not the signed one)")
    if document is not None:
        stated = {
            "verdict": document.get("verdict"),
            "failed_rules": document.get("failed_rules"),
            "generated_at": document.get("generated_at"),
            "schema_version": document.get("schema_version"),
        }
        for key_name, value in stated.items():
            if signed.get(key_name) != value:
                result.add(
                    "signed_mismatch",
                    f"{JSON_NAME}: {key_name}",
                    f"says {value!r} but the signature covers {signed.get(key_name)!r}",
                )
        signing = document.get("signing")
        if isinstance(signing, dict) and signing.get("fingerprint") != result.signer:
            result.add(
                "signed_mismatch",
                f"{JSON_NAME}: signing.fingerprint",
                f"names the key {signing.get('fingerprint')} but the signature was made by {result.signer}",
            )
    if trusted is None:
        result.notes.append(
            f"note: signature valid, made by {result.signer}; not compared with a trusted key"
            " (give the signer's public key to check who signed)"
        )
    elif fingerprint(trusted) != result.signer:
        result.add(
            "untrusted_key",
            SIGNATURE_NAME,
            f"signed by an untrusted key {result.signer} (trusted: {fingerprint(trusted)})",
        )


def _check_document(folder: Path, result: VerifyResult) -> dict[str, Any] | None:
    document, problem = _read_json(folder / JSON_NAME)
    if problem is not None or not isinstance(document, dict):
        result.add("report_unreadable", JSON_NAME, problem or "not a JSON object")
        return None
    result.verdict = str(document.get("verdict"))
    found = schema_problems(document)
    for message in found:
        result.add("schema", JSON_NAME, f"does not follow schema {document.get('schema_version')!r}: {message}")
    if found:
        return document
    for item in document["items"]:
        for scenario in item["scenarios"]:
            for record in scenario["evidence"]:
                path, digest = record["path"], record["sha256"]
                if not path or digest is None:
                    continue
                file = folder / path
                actual = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else None
                if actual != digest:
                    state = "missing" if actual is None else "different"
                    result.add("evidence_hash", f"{record['ref']} {path}", f"{state} from the SHA-256 in {JSON_NAME}")
    for message in recheck(document):
        result.add("finding", JSON_NAME, message)
    return document


def verify(report: Path, trusted_public_key: TrustedKey | None = None) -> VerifyResult:
    """Check the report folder (or ``readiness.json``) ``report``; see the module docstring.

    ``trusted_public_key``: the signer's public key (PEM bytes or text, a path to a PEM file, or a key); without it
    the signature is checked against the key it carries, and a note says so. Raises ``NotAReportError`` when
    ``report`` is not a report, ``SigningError`` when the trusted key cannot be read.
    """
    folder = _folder_of(report)
    trusted = _trusted(trusted_public_key)
    result = VerifyResult(folder=folder)
    manifest_bytes = _check_files(folder, result)
    document = _check_document(folder, result)
    _check_signature(folder, manifest_bytes, document, trusted, result)
    return result
