"""No tracked file refers to a path outside the repository: a clone elsewhere must read and run the same.

Outside means the machine this checkout happens to sit on (the checkout's own absolute path, a workspace's shared
folders or reference library) or a relative path that climbs out of the repository from the file that names it.
Scratch paths (``/tmp/...`` in an example command) are not: a clone in ``/tmp`` must not make them offend. System paths
the project really uses (``/usr/bin/chromium``, ``/usr/lib/postgresql/...``) and user paths (``~/.config``) are not
references to another checkout, and are allowed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
THIS_FILE = "tests/unit/test_docs_self_contained.py"  # names the patterns it looks for
# The machine's own layout: the workspace folder, its shared folders and reference library, and the absolute path of
# this checkout (not a fixed name: a CI runner clones elsewhere).
FIXED = (
    re.compile(r"(?<![\w.-])/work/"),
    re.compile(r"(?<![\w-])\.library\b"),
    re.compile(r"(?<![\w.-])\.\./shared\b"),
)
# A relative path starting with ../ (not the inside of a longer path such as evidence/../x).
CLIMB = re.compile(r"(?<![\w./-])((?:\.\./)+)([^\s)\]\"'`<>,;]*)")
# Offenders outside README.md and docs/, left to their owners: path -> why. Each must still offend (so the list
# shrinks as they are fixed).
KNOWN: dict[str, str] = {}


def tracked_text_files() -> dict[str, str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    command = ["git", "-c", f"safe.directory={ROOT}", "ls-files", "-z"]  # a checkout owned by another user too
    listed = subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
    texts = {}
    for name in listed.stdout.decode("utf-8").split("\0"):
        path = ROOT / name
        if not name or name == THIS_FILE or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary
        texts[name] = data.decode("utf-8", errors="replace")
    return texts


def outside_references(name: str, text: str) -> list[str]:
    """Each line of ``text`` (the file ``name``) that refers to a path outside the repository."""
    checkout = str(ROOT).rstrip("/") + "/"
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        hit = any(pattern.search(line) for pattern in FIXED) or checkout in line
        for match in CLIMB.finditer(line):
            target = (ROOT / name).parent / (match.group(1) + match.group(2))
            hit = hit or not target.resolve().is_relative_to(ROOT)
        if hit:
            found.append(f"{name}:{number}: {line.strip()[:160]}")
    return found


@pytest.mark.parametrize(
    ("name", "line", "outside"),
    [
        ("README.md", "see ../shared/notes.md", True),
        ("docs/tooling.md", "[notes](../../other/notes.md)", True),
        ("docs/tooling.md", "read /work/.library/search/README.md", True),
        ("docs/tooling.md", "[readme](../README.md)", False),
        ("tests/unit/x.py", '{"path": "../../etc/passwd"}', False),  # resolves inside: a path traversal test input
        ("tests/unit/x.py", '"evidence/../../secret.png"', False),
        ("docs/tooling.md", "Debian's `/usr/bin/chromium`, the key in ~/.config/vposlab", False),
        ("README.md", "python -m lab.separate --workdir /tmp/sep", False),  # a scratch folder, wherever the clone is
        ("scripts/x.sh", "data=/tmp/vposlab-pg", False),
        ("README.md", f"open {ROOT}/reports/out/readiness.html", True),  # this checkout's own absolute path
    ],
)
def test_what_counts_as_a_path_outside_the_repository(name: str, line: str, outside: bool) -> None:
    assert bool(outside_references(name, line)) is outside


def test_no_tracked_file_refers_to_a_path_outside_the_repository() -> None:
    found_in = {name: outside_references(name, text) for name, text in tracked_text_files().items()}
    offenders = {name: found for name, found in found_in.items() if found}

    new = {name: found for name, found in offenders.items() if name not in KNOWN}
    assert not new, "paths outside the repository:\n" + "\n".join(line for found in new.values() for line in found)
    fixed = set(KNOWN) - set(offenders)
    assert not fixed, f"no longer offending, remove from KNOWN: {sorted(fixed)}"
