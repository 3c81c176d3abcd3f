"""``GET /_control/openapi.json``: the OpenAPI 3.1 document of the JSON control API (``openapi.json`` here).

The document is kept as JSON (read with the standard library, so the simulator needs no YAML parser at runtime);
``tests/unit/test_sim_openapi.py`` checks it is valid, that it names every ``/_control/`` route and that real
answers match it.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from flask import Blueprint, Response, jsonify

bp = Blueprint("control_openapi", __name__, url_prefix="/_control")

DOCUMENT = "openapi.json"


@functools.cache
def _text() -> str:
    return resources.files(__package__ or "simulator.control").joinpath(DOCUMENT).read_text(encoding="utf-8")


def openapi_document() -> dict[str, Any]:
    """The control API's OpenAPI document, parsed (a fresh copy each call)."""
    document = json.loads(_text())
    assert isinstance(document, dict)
    return document


@bp.route("/openapi.json", methods=["GET"])
def get_openapi() -> Response:
    return jsonify(openapi_document())
