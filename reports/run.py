"""Did the feature run itself complete? The answer the report needs before it may say anything about items.

Role: turn what is known about the run that produced the Cucumber JSON (pytest's exit code, whether the file was
written, the tail of its output) into one ``RunOutcome``. When the run did not complete (it could not start, crashed
or was interrupted), the builder makes the verdict NO-GO with the problem as its first reason, and an item without
results is NOT RUN because "the feature run did not complete: ...", never "no scenario covers this item".

pytest's exit codes (``pytest.ExitCode``): 0 all passed, 1 some failed (both complete runs), 2 interrupted (an error
while collecting, Ctrl-C), 3 internal error, 4 usage error (a bad option, or an import error in a ``conftest.py``,
for example a missing package), 5 no tests collected; a negative code means the process was killed by a signal.

Pure functions, no I/O beyond ``cucumber_problem`` looking at one file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

PYTEST_EXIT_MEANINGS = {
    0: "all scenarios passed",
    1: "some scenarios failed",
    2: "interrupted, e.g. by an error while collecting the features",
    3: "pytest internal error",
    4: "usage error, e.g. an import error in a conftest.py (a missing package) or a bad option",
    5: "no scenario was collected",
}
COMPLETE_EXIT_CODES = frozenset({0, 1})

# The output lines that say what went wrong, most telling first.
_ERROR_LINE_RES = (
    re.compile(r"^E\s+(\S.*)$"),  # pytest's exception lines ("E   ModuleNotFoundError: ...")
    re.compile(r"^INTERNALERROR>\s+(\S*(?:Error|Exception)\b.*)$"),
    re.compile(r"^((?:ERROR|error):\s*\S.*)$"),  # usage errors ("ERROR: file or directory not found: x")
    re.compile(r"^(\S*(?:Error|Exception):\s.*)$"),  # a bare traceback's last line
)
_WHERE_RE = re.compile(r"^ImportError while (?:loading conftest|importing test module) '([^']+)'")
_MAX_DETAIL = 300


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How the feature run ended. ``problem`` says why it did not complete (None when it did).

    ``exit_code`` is pytest's (None when unknown); ``output_tail`` the last lines the run printed, for people.
    """

    completed: bool = True
    problem: str | None = None
    exit_code: int | None = None
    output_tail: str = ""

    def __post_init__(self) -> None:
        if not self.completed and not self.problem:
            raise ValueError("a run that did not complete needs a problem saying why")


def exit_code_meaning(code: int) -> str:
    """What pytest's exit ``code`` means, for people."""
    if code < 0:
        return f"killed by signal {-code}"
    return PYTEST_EXIT_MEANINGS.get(code, "unexpected exit code")


def error_detail(output: str) -> str | None:
    """The line of pytest's output that best says what broke (e.g. ``ModuleNotFoundError: No module named 'x'``)."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    where = next((m.group(1) for m in map(_WHERE_RE.match, lines) if m), None)
    for pattern in _ERROR_LINE_RES:
        for line in reversed(lines):
            match = pattern.match(line)
            if match:
                detail = match.group(1).strip()
                if where is not None:
                    detail = f"import error in {where}: {detail}"
                return detail if len(detail) <= _MAX_DETAIL else detail[: _MAX_DETAIL - 3] + "..."
    return None


def cucumber_problem(path: Path) -> str | None:
    """Why ``path`` cannot hold the run's results (missing or empty file), or None when it was written."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"no Cucumber JSON was written ({path} does not exist)"
    except (OSError, UnicodeDecodeError) as exc:
        return f"the Cucumber JSON cannot be read ({path}: {exc})"
    if not text.strip():
        return f"the Cucumber JSON is empty ({path})"
    return None


def junit_errors(path: Path) -> str | None:
    """Why the run is broken when pytest's JUnit XML lists scenarios that errored outside their steps (a fixture
    that failed in setup or teardown: the lab did not start, the browser could not be launched), else None.

    Scenarios that failed in a step are failures, not errors: they are results, and the report shows them.
    A missing or unreadable file says nothing.
    """
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - pytest's own output for this run
    except (OSError, ET.ParseError):
        return None
    errors = list(root.iter("error"))
    if not errors:
        return None
    first = " ".join((errors[0].get("message") or "").split())
    n = len(errors)
    text = f"{n} {'scenario' if n == 1 else 'scenarios'} errored outside their steps (fixture setup or teardown)"
    return f"{text}, first: {first}" if first else text


def assess_pytest_run(
    exit_code: int | None,
    *,
    cucumber_problem: str | None = None,
    errors_problem: str | None = None,
    output: str = "",
    tail_lines: int = 40,
) -> RunOutcome:
    """The outcome of a pytest-bdd run from its exit code, the Cucumber file's problem, the scenarios that errored
    outside their steps (``junit_errors``) and its output.

    Complete only when pytest exited 0 or 1 (or the code is unknown), the Cucumber JSON was written and no
    scenario errored outside its steps. Exit code 5
    (nothing collected) is a run that did not complete here; a caller that filtered the scenarios should refuse a
    filter that selects nothing before it gets this far.
    """
    tail = "\n".join(output.splitlines()[-tail_lines:]) if output else ""
    problems: list[str] = []
    if exit_code is not None and exit_code not in COMPLETE_EXIT_CODES:
        text = f"pytest exited with code {exit_code} ({exit_code_meaning(exit_code)})"
        detail = error_detail(output)
        problems.append(f"{text}: {detail}" if detail else text)
    if cucumber_problem is not None:
        problems.append(cucumber_problem)
    if errors_problem is not None:
        problems.append(errors_problem)
    if not problems:
        return RunOutcome(completed=True, exit_code=exit_code, output_tail=tail)
    return RunOutcome(completed=False, problem="; ".join(problems), exit_code=exit_code, output_tail=tail)
