"""The reproducibility block: what a person needs to run the same check again and get the same answer.

Role: hold what the caller knows about the run (the commit, the seed, the exact command, who ran it) and add what
this process can see for itself: the Python version, the platform and the installed versions of the packages that
shape a result (``importlib.metadata``, never by importing them). Nothing here runs a command or reads git.
"""

from __future__ import annotations

import getpass
import platform
import shlex
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata

# The distributions whose versions can change what a run shows, in the order they are listed.
PACKAGES = (
    "vposlab",
    "pytest",
    "pytest-bdd",
    "pytest-rerunfailures",
    "pytest-reportlog",
    "playwright",
    "flask",
    "sqlalchemy",
    "httpx",
    "cryptography",
    "jinja2",
    "pillow",
    "jsonschema",
)
NOT_INSTALLED = "not installed"


@dataclass(frozen=True, slots=True)
class Reproducibility:
    """``command`` is the exact command line to run again (shell-quoted); ``packages`` maps names to versions."""

    commit: str | None = None
    seed: str | None = None
    command: str | None = None
    ran_by: str | None = None
    python: str = ""
    platform: str = ""
    packages: Mapping[str, str] = field(default_factory=dict)


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str]:
    """``{name: version}`` from the installed distributions; ``"not installed"`` for a missing one."""
    versions: dict[str, str] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = NOT_INSTALLED
    return versions


def current_user() -> str:
    """``user@host`` of this process, for the sign-off block ("who ran it")."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        user = "unknown user"
    return f"{user}@{socket.gethostname()}"


def collect(
    *,
    commit: str | None = None,
    seed: str | int | None = None,
    command: str | Sequence[str] | None = None,
    ran_by: str | None = None,
    packages: Iterable[str] = PACKAGES,
) -> Reproducibility:
    """The block for this process: the caller's facts plus Python, platform and package versions.

    ``command`` may be a list of arguments (quoted here so it can be pasted into a shell) or a string kept as is;
    ``ran_by`` defaults to ``user@host``.
    """
    if command is not None and not isinstance(command, str):
        command = shlex.join(list(command))
    return Reproducibility(
        commit=commit or None,
        seed=None if seed is None else str(seed),
        command=command or None,
        ran_by=ran_by or current_user(),
        python=platform.python_version(),
        platform=platform.platform(),
        packages=package_versions(packages),
    )
