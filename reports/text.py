"""Small text helpers the renderers share: values, durations, the example row of an outline, error summaries."""

from __future__ import annotations

import json
import re

_EXAMPLE_RE = re.compile(r"\[(.+)\]$")


def format_value(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def example_of(scenario_id: str) -> str | None:
    """The example row of a Scenario Outline from its id's parametrization (``test_x[4242-en]`` -> ``4242-en``).

    pytest writes non-ASCII parameters escaped (``\\u0561``); they are shown as the text they stand for.
    """
    match = _EXAMPLE_RE.search(scenario_id)
    if not match:
        return None
    example = match.group(1)
    try:
        return example.encode("ascii").decode("unicode_escape")
    except (UnicodeEncodeError, UnicodeDecodeError):  # not pytest's escaping: shown as it is
        return example


def error_summary(error: str | None) -> str | None:
    """The lines that say what went wrong (pytest's ``E   `` lines), else the last non-empty line."""
    if not error:
        return None
    lines = error.splitlines()
    marked = [line[1:].strip() for line in lines if line.startswith("E ")]
    if marked:
        return "\n".join(marked)
    meaningful = [line.strip() for line in lines if line.strip()]
    return meaningful[-1] if meaningful else error.strip()
