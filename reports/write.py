"""Writing a run's report into its folder, then sealing the folder.

Role: the order matters and lives only here:
1. ``readiness.json`` (with each evidence file's SHA-256 and the signing key's fingerprint), ``readiness.html``
   (screenshots inlined from the folder) and ``readiness-junit.xml``, each written atomically;
2. ``manifest.json``: the SHA-256 of every file now in the folder (``reports.integrity``);
3. ``signature.json`` when a signing key is given: Ed25519 over the verdict, the failed rules and the manifest's
   own SHA-256 (``reports.signing``);
4. a copy of ``readiness.json`` into ``history/`` (outside the manifest: earlier runs are not this run's files).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from reports import history
from reports.errors import OutputError
from reports.history import Comparison
from reports.html_view import HTML_NAME, render_html
from reports.integrity import MANIFEST_NAME, SIGNATURE_NAME, write_manifest
from reports.json_doc import JSON_NAME, SCHEMA_VERSION, dumps, evidence_hashes, report_document
from reports.junit_xml import JUNIT_NAME, render_junit
from reports.model import Report
from reports.signing import SigningKey, sign


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the report ({exc.strerror or exc})") from exc


def signed_payload(report: Report, manifest_bytes: bytes) -> dict[str, object]:
    """What the signature covers (see ``reports.signing``)."""
    return {
        "report": JSON_NAME,
        "schema_version": SCHEMA_VERSION,
        "verdict": report.verdict.value,
        "generated_at": report.generated_at_iso,
        "failed_rules": [rule.id for rule in report.failed_rules],
        "manifest": MANIFEST_NAME,
        "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
    }


def write_all(
    report: Report,
    out_dir: Path,
    *,
    signing_key: SigningKey | None = None,
    comparison: Comparison | None = None,
    keep_history: bool = True,
) -> dict[str, Path]:
    """Write and seal (see the module docstring); returns the paths by key."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the report directory ({exc.strerror or exc})") from exc
    hashes = evidence_hashes(report, out_dir)
    fingerprint = signing_key.fingerprint if signing_key is not None else None
    document = report_document(report, hashes=hashes, fingerprint=fingerprint, comparison=comparison)
    rendered = {
        "json": (JSON_NAME, dumps(document)),
        "html": (
            HTML_NAME,
            render_html(report, folder=out_dir, fingerprint=fingerprint, comparison=comparison, hashes=hashes),
        ),
        "junit": (JUNIT_NAME, render_junit(report)),
    }
    paths: dict[str, Path] = {}
    for key, (name, text) in rendered.items():
        path = out_dir / name
        write_atomically(path, text)
        paths[key] = path
    paths["manifest"], manifest_bytes = write_manifest(out_dir)
    signature_path = out_dir / SIGNATURE_NAME
    if signing_key is not None:
        document_text = json.dumps(sign(signing_key, signed_payload(report, manifest_bytes)), indent=2) + "\n"
        write_atomically(signature_path, document_text)
        paths["signature"] = signature_path
    else:
        signature_path.unlink(missing_ok=True)  # an earlier run's signature would not be this one's
    if keep_history:
        paths["history"] = history.keep_history(out_dir, paths["json"], report.generated_at)
    return paths
