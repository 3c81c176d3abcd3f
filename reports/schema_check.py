"""The versioned JSON Schema of ``readiness.json``, shipped with the package, and the check against it.

Role: load ``schema/readiness.schema.json`` (package data) and validate a decoded ``readiness.json`` with
``jsonschema`` (Draft 2020-12). ``problems`` lists every violation as ``"<json path>: <message>"``, so
``vposlab verify`` and the tests can say exactly which field breaks the contract.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

SCHEMA_RESOURCE = "schema/readiness.schema.json"


@cache
def load_schema() -> dict[str, Any]:
    """The schema document (read once)."""
    text = resources.files("reports").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def problems(document: object, *, limit: int = 20) -> list[str]:
    """Every way ``document`` breaks the schema (at most ``limit``), each ``"$.items[3].status: message"``."""
    validator = Draft202012Validator(load_schema())
    found: list[str] = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        found.append(f"{error.json_path}: {error.message}")
        if len(found) >= limit:
            break
    return found
