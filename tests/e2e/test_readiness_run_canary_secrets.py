"""RC-25 over a whole readiness run: ``vposlab check`` at DEBUG with planted canary secrets, then every log line,
every page the customer and the operator saw (the page sources kept beside the screenshots), the gateway's database,
every report file and the run's own output are scanned for the canaries in every form a leak takes.

The canaries carry characters that must be encoded on their way out (``+ / & = %`` and a space), so a secret that
was only URL-, HTML-, JSON- or base64-encoded is found too. Slow (one whole feature run): it is the proof that the
secrets rule holds across everything the product writes, not one page at a time. The run is
``tests/e2e/whole_lab_run.py``'s, which the separate-processes test compares its verdict with.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from features.support.secret_scan import SecretScan
from tests.e2e.whole_lab_run import WholeLabRun

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".pdf", ".sqlite3"}


def text_files(folder: Path) -> list[Path]:
    return [path for path in sorted(folder.rglob("*")) if path.is_file() and path.suffix not in BINARY_SUFFIXES]


def test_a_whole_readiness_run_at_debug_leaks_no_planted_secret(whole_lab_run: WholeLabRun) -> None:
    planted, out, lab_dir, output = (
        whole_lab_run.planted,
        whole_lab_run.out,
        whole_lab_run.lab_dir,
        whole_lab_run.output,
    )
    assert whole_lab_run.returncode == 0, output[-4000:]

    scan = SecretScan({f.name: getattr(planted, f.name) for f in fields(planted)})
    scan.text("the readiness run's output", output)

    log = lab_dir / "gateway.log"
    lines = scan.log_lines(log)
    debug_lines = sum('"level": "debug"' in line for line in log.read_text(encoding="utf-8").splitlines())
    assert lines > 500 and debug_lines > 50, f"too little logged to mean anything: {lines} lines, {debug_lines} debug"

    engine = create_engine(f"sqlite:///{lab_dir / 'gateway.sqlite3'}")
    try:
        assert scan.database(engine) > 100
    finally:
        engine.dispose()

    files = text_files(out)
    pages = [path for path in files if path.suffix == ".html" and path.parent.name != "out"]
    assert len(pages) > 50, f"only {len(pages)} page sources were kept"
    assert any("/ops/" in path.read_text(encoding="utf-8").split("\n", 1)[0] for path in pages), "no console page"
    for path in files:
        scan.text(str(path.relative_to(out)), path.read_text(encoding="utf-8", errors="replace"))

    assert not scan.leaks, "planted secrets leaked:\n" + "\n".join(sorted({str(leak) for leak in scan.leaks}))
