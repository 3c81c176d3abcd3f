"""What the report tests that run a tiny pytest-bdd suite for real share: the child processes' environment, the
suite's pytest.ini, a conftest.py that writes the pytest report log, and the run itself (``test_report_cucumber.py``,
``test_report_run_log.py``, ``test_report_schema.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def pytest_ini(*items: str, **markers: str) -> str:
    """A tiny suite's pytest.ini: strict markers, one per checklist item in ``items`` and the other ``markers``
    (name: description)."""
    lines = ["[pytest]", "addopts = -p no:cacheprovider --strict-markers", "markers ="]
    lines += [f"    {item}: item" for item in items]
    lines += [f"    {name}: {description}" for name, description in markers.items()]
    return "\n".join(lines) + "\n"


REPORT_LOG_CONFTEST = """\
import json
import os

CONFIG = []


def pytest_configure(config):
    CONFIG.append(config)


def pytest_runtest_logreport(report):
    data = CONFIG[0].hook.pytest_report_to_serializable(config=CONFIG[0], report=report)
    with open(os.environ["REPORT_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(data) + "\\n")
"""
"""A tiny suite's conftest.py that writes the report log to ``$REPORT_LOG`` the way pytest-reportlog does
(``pytest_report_to_serializable``), so no plugin is needed."""


def child_env(**extra: str) -> dict[str, str]:
    """This environment for a child process, plus ``extra``: the repository importable, without this run's
    ``PYTEST_*`` variables and without ``VPOSLAB_SIGNING_KEY`` (a report the child writes signs with a key of
    its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "VPOSLAB_SIGNING_KEY"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return {**env, **extra}


def run_tiny_suite(
    work: Path, *options: str, ini: str, conftest: str, feature: str, steps: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """Write a tiny suite into ``work`` (pytest.ini, conftest.py, payments.feature, test_payments.py) and run it
    in a child pytest with ``options`` and ``env``; its Cucumber JSON is ``work / "cucumber.json"``, its report
    log (``REPORT_LOG``, for a conftest like ``REPORT_LOG_CONFTEST``) ``work / "report-log.jsonl"``."""
    for name, text in {
        "pytest.ini": ini,
        "conftest.py": conftest,
        "payments.feature": feature,
        "test_payments.py": steps,
    }.items():
        (work / name).write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", "pytest.ini", "--rootdir", ".",
         f"--cucumberjson={work / 'cucumber.json'}", "-q", *options, "test_payments.py"],
        cwd=work,
        env=child_env(REPORT_LOG=str(work / "report-log.jsonl"), **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
