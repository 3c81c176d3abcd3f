"""What only our gateway's own host has, for a run on that host: the gateway's settings file (its ``VPOSLAB_*``
variables: the database it writes, its keys) and its log files. RC-25 scans them and the database for secrets;
RC-30 runs ``vposlab-gateway audit`` on them as an operator on that host would.

The lab has all of this itself; a target started elsewhere names the files (``--gateway-env-file``,
``--gateway-log``, or ``gateway_env_file`` / ``gateway_logs`` in a target file). Nothing here prints a value.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

GATEWAY_CLI = [sys.executable, "-c", "from gateway.cli import main; main()"]
AUDIT_TIMEOUT_S = 60


class AuditFailed(RuntimeError):
    """``vposlab-gateway audit --json`` printed no JSON (the message has its exit code and the end of its output)."""


def run_gateway_audit(environment: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    """``vposlab-gateway audit --json`` in a process of its own, with only ``environment``'s settings (none of the
    caller's ``VPOSLAB_*`` or ``FLASK_*`` variables): (exit code, the findings document, what it printed)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VPOSLAB_", "FLASK_"))}
    env.update(environment)
    done = subprocess.run(  # noqa: S603 - our own interpreter and command
        [*GATEWAY_CLI, "audit", "--json"], env=env, capture_output=True, text=True, timeout=AUDIT_TIMEOUT_S
    )
    try:
        data = json.loads(done.stdout)
    except ValueError as exc:
        raise AuditFailed(
            f"the audit printed no JSON (exit {done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}"
        ) from exc
    return done.returncode, data, done.stdout
