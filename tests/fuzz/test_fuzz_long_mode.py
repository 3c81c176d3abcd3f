"""The long mode (``python -m bench.fuzz``) stays runnable: a tiny run of each engine prints its table with every
target, counts every execution, and exits 0 on the current gateway."""

from __future__ import annotations

import logging

import pytest

from bench import fuzz

TARGETS = (*fuzz.FAST_TARGETS, *fuzz.APP_TARGETS)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert fuzz.main(list(argv)) == 0
    out = capsys.readouterr().out
    assert logging.root.manager.disable == logging.NOTSET  # the run silences the gateway's logs, then restores
    return out


def total_executions(out: str) -> int:
    (row,) = [line for line in out.splitlines() if line.startswith("total ")]
    return int(row.split()[1].replace(",", ""))


def test_the_random_engine_runs_every_target_and_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "--executions", "600", "--app-share", "0.1")
    assert all(f"\n{target} " in out for target in TARGETS)
    assert total_executions(out) == 600
    assert "FAILURE" not in out


def test_the_split_gives_every_execution_to_a_target() -> None:
    for executions in (1, 2, 5, 999, 1_000_000):
        counts = fuzz.plan(executions, 0.02)
        assert sum(counts.values()) == executions
    assert fuzz.plan(1_000_000, 0.02)["ecwid.app"] == 10_000


def test_the_atheris_engine_runs_where_atheris_installs(
    capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    pytest.importorskip("atheris")
    workdir = tmp_path_factory.mktemp("atheris")
    out = run(capsys, "--executions", "300", "--engine", "atheris", "--workdir", str(workdir))
    rows = [line.split() for line in out.splitlines() if line.split()[:1] and line.split()[0] in TARGETS]
    assert sorted(row[0] for row in rows if row[1] == "atheris") == sorted(fuzz.FAST_TARGETS)
    assert total_executions(out) == 300
