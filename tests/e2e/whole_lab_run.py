"""One whole readiness run in the lab, shared by the proofs that need one: ``vposlab check`` at DEBUG with planted
canary secrets (``test_readiness_run_canary_secrets.py`` scans everything it wrote for them) whose report is also the
lab's verdict that ``test_check_against_separate_processes.py`` compares the separate processes' verdict with.
A whole run takes about ten minutes on a small machine: it is run once per pytest session, on first use (the
fixture is registered in ``tests/e2e/conftest.py``: imported into two test modules it would be two fixtures).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from lab.lab import LabSecrets

ROOT = Path(__file__).resolve().parent.parent.parent
CHECK = [sys.executable, "-c", "from lab.cli import main; main()", "check"]
WHOLE_RUN_TIMEOUT_S = 40 * 60


@dataclass(frozen=True)
class WholeLabRun:
    planted: LabSecrets
    out: Path  # the report folder
    lab_dir: Path  # the lab's database and log
    returncode: int
    output: str  # stdout and stderr

    def report(self) -> dict[str, object]:
        data: dict[str, object] = json.loads((self.out / "readiness.json").read_text(encoding="utf-8"))
        return data


def canaries() -> LabSecrets:
    """Secrets with characters that must be encoded on their way out (``+ / & = %`` and a space)."""
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


@pytest.fixture(scope="session")
def whole_lab_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WholeLabRun]:
    planted = canaries()
    folder = tmp_path_factory.mktemp("whole-lab-run")
    out, lab_dir = folder / "out", folder / "lab"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VPOSLAB_") or k == "VPOSLAB_CHROMIUM"},
        "VPOSLAB_LAB_SECRETS": json.dumps(asdict(planted)),
        "VPOSLAB_LAB_DIR": str(lab_dir),
    }
    done = subprocess.run(
        [*CHECK, "--out", str(out), "--log-level", "debug"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=WHOLE_RUN_TIMEOUT_S,
    )
    yield WholeLabRun(planted, out, lab_dir, done.returncode, done.stdout + done.stderr)
