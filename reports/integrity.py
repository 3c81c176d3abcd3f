"""The run folder's manifest: the SHA-256 of every file of the run, so any later edit can be named.

Role: ``hash_folder`` hashes every regular file under the report folder (evidence screenshots, ``evidence.jsonl``,
``cucumber.json``, the report log, ``readiness.json``, ``readiness.html``, the JUnit files, the target...) except
the seal itself (``manifest.json``, ``signature.json``), the ``history/`` folder (earlier runs' reports, kept next to
this one, are not this run's) and the writers' own temporary files (``.<name>.tmp``). ``write_manifest`` stores
them as ``manifest.json``::

    {"manifest_version": 1, "algorithm": "sha256",
     "files": {"readiness.json": {"sha256": "<hex>", "bytes": 20823}, "evidence/x/01-store.png": {...}, ...}}

with paths relative to the folder, ``/``-separated, sorted. ``compare_files`` says which files changed, were added
or were removed since.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reports.errors import OutputError

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "signature.json"
HISTORY_DIR = "history"
MANIFEST_VERSION = 1
SEAL = frozenset({MANIFEST_NAME, SIGNATURE_NAME})
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class FileDigest:
    sha256: str
    bytes: int


@dataclass(frozen=True, slots=True)
class FileChanges:
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changed or self.added or self.removed)


def sha256_file(path: Path) -> FileDigest:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileDigest(digest.hexdigest(), size)


def _excluded(relative: str) -> bool:
    name = relative.rsplit("/", 1)[-1]
    return (
        relative in SEAL
        or relative == HISTORY_DIR
        or relative.startswith(HISTORY_DIR + "/")
        or (name.startswith(".") and name.endswith(".tmp"))
    )


def hash_folder(folder: Path) -> dict[str, FileDigest]:
    """``{relative path: digest}`` of every file of the run under ``folder`` (see the module docstring)."""
    found: dict[str, FileDigest] = {}
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            relative = path.relative_to(folder).as_posix()
            if _excluded(relative) or not path.is_file():
                continue
            found[relative] = sha256_file(path)
    return dict(sorted(found.items()))


def manifest_document(files: Mapping[str, FileDigest]) -> dict[str, object]:
    return {
        "manifest_version": MANIFEST_VERSION,
        "algorithm": "sha256",
        "files": {name: {"sha256": d.sha256, "bytes": d.bytes} for name, d in sorted(files.items())},
    }


def write_manifest(folder: Path) -> tuple[Path, bytes]:
    """Hash the folder and write ``manifest.json``; returns its path and the exact bytes written."""
    data = (json.dumps(manifest_document(hash_folder(folder)), indent=2) + "\n").encode("utf-8")
    path = folder / MANIFEST_NAME
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the manifest ({exc.strerror or exc})") from exc
    return path, data


def files_of(manifest: Mapping[str, object]) -> dict[str, FileDigest] | None:
    """The files a manifest lists, or None when it is not the documented shape."""
    files = manifest.get("files")
    if not isinstance(files, dict):
        return None
    out: dict[str, FileDigest] = {}
    for name, entry in files.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            return None
        size = entry.get("bytes")
        out[str(name)] = FileDigest(entry["sha256"], size if isinstance(size, int) else -1)
    return out


def compare_files(recorded: Mapping[str, FileDigest], actual: Mapping[str, FileDigest]) -> FileChanges:
    """Which files differ between what a manifest recorded and what the folder holds now."""
    return FileChanges(
        changed=tuple(n for n in recorded if n in actual and actual[n].sha256 != recorded[n].sha256),
        added=tuple(n for n in actual if n not in recorded),
        removed=tuple(n for n in recorded if n not in actual),
    )
