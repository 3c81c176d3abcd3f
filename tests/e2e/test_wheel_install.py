"""``pip install .`` (a wheel, not the editable install) gives a working ``vposlab check``.

The wheel is built from a copy of this checkout (tracked files and untracked ones git does not ignore: what
``pip install .`` here would build), then installed with ``--no-deps`` into a fresh virtualenv that sees the
dependencies already installed through a ``.pth`` line naming this environment's site-packages. A path line in a
``.pth`` file does not process the ``.pth`` files in that folder, so the editable install's import hook stays out:
the test checks that ``lab``, ``features`` and the rest resolve inside the new virtualenv. From a folder outside the
checkout it then runs ``vposlab --version``, ``vposlab check --help`` and a real run of one item (RC-24: API only,
no browser).

The fast tests at the top keep the feature run's pytest configuration (``features/pytest.ini``, shipped in the
wheel and passed by ``vposlab check`` with ``-c``) equal to the repository's own (``pyproject.toml``), and every
third-party import of the shipped packages covered by the dependencies or the ``check`` extra.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import iniconfig
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from lab.cli import declared_coverage
from reports import load_checklist

ROOT = Path(__file__).resolve().parent.parent.parent
FEATURES = ROOT / "features"
SHIPPED = ("gateway", "simulator", "reports", "lab", "features")  # the wheel's top-level packages
# settings of the repository's run that the feature run does not take: the test folders it collects, and the
# feature files' folder, which pytest-bdd finds beside test_scenarios.py when none is configured
REPOSITORY_ONLY = {"testpaths", "bdd_features_base_dir"}


# ---------------------------------------------------------------- one configuration for the feature run


def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        data: dict[str, Any] = tomllib.load(file)
    return data


def repository_options() -> dict[str, Any]:
    options: dict[str, Any] = pyproject()["tool"]["pytest"]["ini_options"]
    return options


def suite_options() -> dict[str, str]:
    return dict(iniconfig.IniConfig(FEATURES / "pytest.ini")["pytest"].items())


def lines(value: str) -> list[str]:
    """An ini ``linelist`` value as pytest reads it."""
    return [line.strip() for line in value.split("\n") if line.strip()]


def markers(entries: list[str]) -> dict[str, str]:
    return {entry.split(":", 1)[0].strip(): entry for entry in entries}


def test_the_feature_run_config_has_the_repository_settings() -> None:
    repo, suite = repository_options(), suite_options()

    assert set(suite) == set(repo) - REPOSITORY_ONLY, "features/pytest.ini and pyproject.toml name other settings"
    assert suite["minversion"] == repo["minversion"]
    assert shlex.split(suite["addopts"]) == shlex.split(repo["addopts"])
    assert "--strict-markers" in shlex.split(suite["addopts"])
    assert lines(suite["filterwarnings"]) == repo["filterwarnings"]
    # pythonpath is relative to the file that sets it: both name the folder that holds the packages
    assert [(FEATURES / p).resolve() for p in shlex.split(suite["pythonpath"])] == [
        (ROOT / p).resolve() for p in repo["pythonpath"]
    ]
    assert (ROOT / repo["bdd_features_base_dir"]).resolve() == FEATURES  # what the feature run gets by default


def test_the_feature_run_registers_every_gherkin_tag_and_checklist_item_as_the_repository_does() -> None:
    suite = markers(lines(suite_options()["markers"]))
    repo = markers(repository_options()["markers"])
    items = {entry.id for entry in load_checklist()}
    tags = set(declared_coverage(FEATURES) or {})
    assert tags, "no Gherkin tags found in features/"

    assert set(suite) == tags | items, "features/pytest.ini markers: the suite's tags and every checklist item"
    assert {name for name in repo if name.startswith("RC-")} == items
    assert {name: repo.get(name) for name in suite} == suite, "a marker differs from pyproject.toml's"


# ---------------------------------------------------------------- what the shipped packages import


def _declared(requirements: list[str]) -> set[str]:
    """The distributions ``requirements`` bring, with what they require in turn (installed metadata)."""
    seen: set[str] = set()
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or name == "vposlab":
            continue
        seen.add(name)
        try:
            required = metadata.requires(requirement.name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here (another platform's): nothing imports it
        wanted = {"", *requirement.extras}
        for text in required:
            nested = Requirement(text)
            if nested.marker is None or any(nested.marker.evaluate({"extra": extra}) for extra in wanted):
                todo.append(nested)
    return seen


def _imported_top_level_modules() -> dict[str, str]:
    """Each third-party module the shipped packages import, with one file that does."""
    found: dict[str, str] = {}
    for package in SHIPPED:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in SHIPPED and top != "__future__":
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_package_the_shipped_code_imports_comes_with_the_dependencies_or_the_check_extra() -> None:
    project = pyproject()["project"]
    extras = project["optional-dependencies"]
    assert {canonicalize_name(Requirement(text).name) for text in extras["check"]} == {
        "pytest",
        "pytest-bdd",
        "playwright",
        "pytest-reportlog",
        "pytest-rerunfailures",
    }
    assert "vposlab[check]" in extras["dev"], "the dev extra installs what vposlab check runs"
    available = _declared([*project["dependencies"], *extras["check"]])
    owners = metadata.packages_distributions()

    missing = {
        module: where
        for module, where in _imported_top_level_modules().items()
        if not {canonicalize_name(dist) for dist in owners.get(module, [])} & available
    }
    assert not missing, f"imported but neither a dependency nor in the check extra: {missing}"


# ---------------------------------------------------------------- the wheel, installed alone


@dataclass(frozen=True)
class Installed:
    wheel: Path
    built_from: frozenset[str]  # the checkout's files the wheel was built from (a snapshot: others edit it too)
    venv: Path
    site: Path
    workdir: Path  # outside the checkout
    env: Mapping[str, str]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), cwd=self.workdir, env=dict(self.env), capture_output=True, text=True, timeout=timeout
        )

    def tool(self, name: str) -> str:
        return str(self.venv / "bin" / name)


def _checkout_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the wheel is built from the checkout's files")
    listed = subprocess.run(
        ["git", "-c", f"safe.directory={ROOT}", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    return [name for name in listed.stdout.decode("utf-8").split("\0") if name and (ROOT / name).is_file()]


def _build_wheel(into: Path) -> tuple[Path, frozenset[str]]:
    """``pip wheel`` on a copy of the checkout, so no build/ or egg-info is written into it."""
    source = into / "source"
    copied = []
    for name in _checkout_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):  # removed meanwhile by someone working in the checkout
            shutil.copy2(ROOT / name, target)
            copied.append(name)
    dist = into / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(dist), "-q"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("vposlab-*.whl")
    return wheel, frozenset(copied)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    wheel, built_from = _build_wheel(base)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # after the install, so pip never saw the editable vposlab: the dependencies only, as a plain path line
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "vposlab-test-dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n", encoding="utf-8")
    workdir = base / "elsewhere"
    workdir.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VPOSLAB_", "PYTHON", "PYTEST_"))},
        "XDG_CONFIG_HOME": str(base / "config"),  # the report's signing key is generated there, not in ~/.config
    }
    yield Installed(wheel=wheel, built_from=built_from, venv=venv, site=site, workdir=workdir, env=env)


@pytest.mark.e2e
def test_the_wheel_holds_the_feature_suite_with_its_config_and_nothing_else(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    top = {name.split("/")[0] for name in names}

    assert top - {name for name in top if name.endswith(".dist-info")} == set(SHIPPED)
    assert not [name for name in names if "__pycache__" in name or name.endswith((".pyc", ".sqlite3"))]
    shipped_features = {name for name in names if name.startswith("features/")}
    in_checkout = {name for name in installed.built_from if name.startswith("features/")}
    assert shipped_features == in_checkout, (
        f"only in the wheel: {shipped_features - in_checkout}, only in the checkout: {in_checkout - shipped_features}"
    )
    assert {"features/pytest.ini", "features/conftest.py", "features/test_scenarios.py"} <= shipped_features
    assert "reports/schema/readiness.schema.json" in names
    assert "reports/readiness-checklist.md" in names


@pytest.mark.e2e
def test_the_installed_tools_come_from_the_wheel_not_the_checkout(installed: Installed) -> None:
    probe = (
        "import json, sys, importlib.metadata as m\n"
        "import gateway, simulator, reports, lab, features, pytest_bdd, playwright\n"
        "mods = {n: sys.modules[n].__file__ for n in ('gateway', 'simulator', 'reports', 'lab', 'features')}\n"
        "print(json.dumps({'modules': mods, 'dist': str(m.distribution('vposlab')._path), 'path': sys.path,"
        " 'editable': [n for n in sys.modules if 'editable' in n]}))\n"
    )
    done = installed.run(installed.tool("python"), "-c", probe)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)

    for name, file in seen["modules"].items():
        assert Path(file).is_relative_to(installed.site), f"{name} imported from {file}"
    assert Path(seen["dist"]).parent == installed.site
    assert not seen["editable"], "the editable install's import hook is active"
    assert str(ROOT) not in seen["path"]

    version = installed.run(installed.tool("vposlab"), "--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"vposlab {metadata.version('vposlab')}")
    helped = installed.run(installed.tool("vposlab"), "check", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--item RC-NN" in helped.stdout


@pytest.mark.e2e
def test_an_installed_check_runs_the_installed_suite_with_its_config(installed: Installed) -> None:
    out = installed.workdir / "out"
    done = installed.run(
        installed.tool("vposlab"), "check", "--item", "RC-24", "--no-fail", "--out", str(out), timeout=600
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]  # one item of 37: NO-GO, hence --no-fail

    suite = installed.site / "features"
    assert f"pytest {suite} -c {suite / 'pytest.ini'} --rootdir={installed.site} " in output
    report = json.loads((out / "readiness.json").read_text(encoding="utf-8"))
    statuses = {entry["id"]: entry["status"] for entry in report["items"]}
    assert statuses["RC-24"] == "PASS"
    assert statuses["RC-01"] == "NOT RUN"
    assert report["target"]["items_selected"] == ["RC-24"]
    assert not (installed.site / "reports" / "out").exists()
