"""Control API for the bank's dialects, under ``/_control/vpos/`` (JSON):

- ``/shapes``: switch response shapes globally or per merchant (``simulator.vpos.shapes``).

Bad input -> 400 ``{"error": "bad_input", "message": ...}``, unknown things -> 404 ``{"error": "not_found", ...}``
(``simulator.errors``); every change is journaled (service ``control``). Reset (``POST /_control/reset``) restores
the default shapes. Endpoints are listed in ``simulator/README.md``.
"""

from __future__ import annotations

import re
from typing import Any, cast

from flask import Blueprint, Response, jsonify, request

from simulator.errors import BadInput, NotFound
from simulator.state import current_state
from simulator.vpos.shapes import (
    ANY_METHOD,
    DECLINED_ERROR_CODES,
    ERROR_CODE_TYPES,
    STATUS_VERSION_MAX,
    STATUS_VERSION_MIN,
    UNSET,
    ErrorCodeType,
    ShapeChange,
    Unset,
)
from simulator.web import note

bp = Blueprint("vpos_faults", __name__, url_prefix="/_control/vpos")

_METHOD = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}\.do$")
_SHAPE_FIELDS = ("errorCodeType", "omitErrorCodeOnSuccess", "declinedErrorCode", "statusVersion")
_DEFAULT_TYPE = "default"


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object")
    return body


def _reject_unknown(body: dict[str, Any], accepted: frozenset[str] | tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(accepted))
    if unknown:
        raise BadInput(f"unknown field(s) {', '.join(unknown)}; accepted: {', '.join(sorted(accepted))}")


def _method_name(value: Any, name: str) -> str:
    if not isinstance(value, str) or not (value == ANY_METHOD or _METHOD.match(value)):
        raise BadInput(f"{name} must be a bank method such as register.do, or * for every method")
    return value


# -- response shapes ------------------------------------------------------------------------------------------


def _per_method(body: dict[str, Any], name: str, accepted: tuple[Any, ...], unset: Any) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadInput(f"{name} must be an object of method -> value")
    change: dict[str, Any] = {}
    for method, setting in value.items():
        _method_name(method, f"{name} key {method!r}")
        if setting is None or setting == unset:
            change[method] = None
        elif setting in accepted and type(setting) is type(accepted[0]):
            change[method] = setting
        else:
            raise BadInput(f"{name}[{method}] must be one of {', '.join(map(str, accepted))}, or null")
    return change


def _scalar(body: dict[str, Any], name: str, accepted: range | tuple[int, ...]) -> int | Unset | None:
    if name not in body:
        return UNSET
    value = body[name]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in accepted:
        if isinstance(accepted, range):
            raise BadInput(f"{name} must be an integer from {accepted.start} to {accepted.stop - 1}, or null")
        raise BadInput(f"{name} must be one of {', '.join(map(str, accepted))}, or null")
    return value


def _shape_change(body: dict[str, Any]) -> tuple[str | None, ShapeChange]:
    _reject_unknown(body, ("merchant", *_SHAPE_FIELDS))
    merchant = body.get("merchant")
    if merchant is not None:
        if not isinstance(merchant, str):
            raise BadInput("merchant must be a merchant's userName")
        if all(known.user_name != merchant for known in current_state().config.merchants):
            raise NotFound(f"unknown merchant {merchant}")
    change = ShapeChange(
        error_code_type=cast(
            dict[str, ErrorCodeType | None], _per_method(body, "errorCodeType", ERROR_CODE_TYPES, _DEFAULT_TYPE)
        ),
        omit_error_code_on_success=_per_method(body, "omitErrorCodeOnSuccess", (True, False), None),
        declined_error_code=_scalar(body, "declinedErrorCode", DECLINED_ERROR_CODES),
        status_version=_scalar(body, "statusVersion", range(STATUS_VERSION_MIN, STATUS_VERSION_MAX + 1)),
    )
    if not any(name in body for name in _SHAPE_FIELDS):
        raise BadInput(f"give at least one of {', '.join(_SHAPE_FIELDS)}")
    return merchant, change


@bp.route("/shapes", methods=["GET"])
def get_shapes() -> Response:
    return jsonify(current_state().shapes.to_json())


@bp.route("/shapes", methods=["PUT"])
def put_shapes() -> Response:
    note("shapes")
    merchant, change = _shape_change(_body())
    shapes = current_state().shapes
    shapes.update(change, merchant)
    note("shapes", f"{merchant or 'global'}: " + ", ".join(f"{k}={v}" for k, v in sorted(_given(change).items())))
    return jsonify(shapes.to_json())


def _given(change: ShapeChange) -> dict[str, Any]:
    """The fields a change sets, for the journal."""
    given: dict[str, Any] = {
        "errorCodeType": change.error_code_type or UNSET,
        "omitErrorCodeOnSuccess": change.omit_error_code_on_success or UNSET,
        "declinedErrorCode": change.declined_error_code,
        "statusVersion": change.status_version,
    }
    return {name: value for name, value in given.items() if value is not UNSET}


@bp.route("/shapes", methods=["DELETE"])
def delete_shapes() -> Response:
    note("shapes reset")
    shapes = current_state().shapes
    shapes.reset()
    return jsonify(shapes.to_json())
