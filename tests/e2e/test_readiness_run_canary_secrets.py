"""RC-25 over a whole readiness run: ``vposlab check`` at DEBUG with planted canary secrets, then every log line,
every page the customer and the operator saw (the page sources kept beside the screenshots), the gateway's database,
every report file and the run's own output are scanned for the canaries in every form a leak takes.

The canaries carry characters that must be encoded on their way out (``+ / & = %`` and a space), so a secret that
was only URL-, HTML-, JSON- or base64-encoded is found too. Slow (one whole feature run): it is the proof that the
secrets rule holds across everything the product writes, not one page at a time.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from dataclasses import asdict, fields
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from features.support.secret_scan import SecretScan
from lab.lab import LabSecrets

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ROOT = Path(__file__).resolve().parent.parent.parent
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".pdf", ".sqlite3"}


def canaries() -> LabSecrets:
    mark = secrets.token_hex(4)
    return LabSecrets(
        client_secret=f"CANARYcs{mark}{secrets.token_urlsafe(16)}",
        ecwid_token=f"secret_CANARYtok{mark}{secrets.token_urlsafe(12)}",
        bank_password_amd=f"CANARY+amd/{mark}&x=1%",
        bank_password_usd=f"CANARY usd+{mark}/=",
        bank_password_eur=f"CANARY&eur={mark}+",
        bank_password_rub=f"CANARY%rub/{mark} +",
        held_store_token=f"secret_CANARYheld{mark}{secrets.token_urlsafe(12)}",
        callback_key=f"CANARYcb{mark}{secrets.token_hex(20)}",
        console_key=f"CANARYck{mark}{secrets.token_urlsafe(24)}",
        console_password=f"CANARY pw+{mark}/{secrets.token_urlsafe(8)}",
    )


def text_files(folder: Path) -> list[Path]:
    return [path for path in sorted(folder.rglob("*")) if path.is_file() and path.suffix not in BINARY_SUFFIXES]


def test_a_whole_readiness_run_at_debug_leaks_no_planted_secret(tmp_path: Path) -> None:
    planted = canaries()
    out, lab_dir = tmp_path / "out", tmp_path / "lab"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VPOSLAB_")},
        "VPOSLAB_LAB_SECRETS": json.dumps(asdict(planted)),
        "VPOSLAB_LAB_DIR": str(lab_dir),
    }
    done = subprocess.run(
        [sys.executable, "-c", "from lab.cli import main; main()", "check", "--out", str(out), "--log-level", "debug"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=40 * 60,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]

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
