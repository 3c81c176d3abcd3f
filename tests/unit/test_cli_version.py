"""``--version`` on every command-line tool the project installs prints the installed distribution's version."""

from __future__ import annotations

from importlib.metadata import version

import click
import pytest
from click.testing import CliRunner

from gateway.cli import main as gateway_main
from lab.cli import main as vposlab_main
from simulator.cli import main as simulator_main


@pytest.mark.parametrize(
    ("command", "name"),
    [(vposlab_main, "vposlab"), (gateway_main, "vposlab-gateway"), (simulator_main, "vposlab-simulator")],
)
def test_version_names_the_tool_and_the_installed_version(command: click.Group, name: str) -> None:
    result = CliRunner().invoke(command, ["--version"], prog_name=name)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{name} {version('vposlab')}"
