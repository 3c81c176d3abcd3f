"""Control API for the bank's bad days and its dialects, under ``/_control/vpos/`` (JSON):

- ``/faults``: inject HTTP 500/503, hangs, malformed JSON, errorCode 7, slow answers and dropped connections into
  the bank's API (``simulator.vpos.faults``); list and delete them; ``/faults/settings`` bounds every sleep;
- ``/shapes``: switch response shapes globally or per merchant (``simulator.vpos.shapes``).

Bad input -> 400 ``{"error": "bad_input", "message": ...}``, unknown things -> 404 ``{"error": "not_found", ...}``
(``simulator.errors``); every change is journaled (service ``control``). Reset (``POST /_control/reset``) deletes
the faults and restores the default shapes and maximum sleep. Endpoints are listed in ``simulator/README.md``.
"""

from __future__ import annotations

import math
import re
from typing import Any, cast

from flask import Blueprint, Response, jsonify, request

from simulator.errors import BadInput, NotFound
from simulator.state import current_state
from simulator.vpos.faults import (
    ANY_METHOD,
    FAULT_KINDS,
    MALFORMED_VARIANTS,
    MAX_SLEEP_LIMIT_SECONDS,
    SLEEPING_KINDS,
    FaultKind,
    FaultSpec,
    MalformedVariant,
)
from simulator.vpos.shapes import (
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
_MAX_ID_LENGTH = 100
_FAULT_FIELDS = frozenset({"method", "fault", "times", "mdOrder", "orderNumber", "seconds", "afterApply", "variant"})
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


def _positive_number(value: Any, name: str, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInput(f"{name} must be a number")
    if not 0 < value <= limit:
        raise BadInput(f"{name} must be greater than 0 and at most {limit:g}")
    return float(value)


def _identifier(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > _MAX_ID_LENGTH:
        raise BadInput(f"{name} must be a non-empty string of at most {_MAX_ID_LENGTH} characters")
    return value


# -- faults ---------------------------------------------------------------------------------------------------


def _fault_spec(body: dict[str, Any], max_sleep: float) -> FaultSpec:
    _reject_unknown(body, _FAULT_FIELDS)
    method = _method_name(body.get("method"), "method")
    kind = body.get("fault")
    if kind not in FAULT_KINDS:
        raise BadInput(f"fault must be one of {', '.join(FAULT_KINDS)}")
    times = body.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise BadInput("times must be a positive integer (leave it out for every call until deleted)")
    md_order = _identifier(body, "mdOrder")
    if md_order is not None and method == "register.do":
        raise BadInput("mdOrder: register.do has no mdOrder yet; use orderNumber")
    seconds = body.get("seconds")
    if seconds is not None:
        if kind not in SLEEPING_KINDS:
            raise BadInput(f"seconds only applies to {' and '.join(SLEEPING_KINDS)}")
        seconds = _positive_number(seconds, "seconds", max_sleep)
    after_apply = body.get("afterApply", False)
    if not isinstance(after_apply, bool):
        raise BadInput("afterApply must be true or false")
    variant = body.get("variant")
    if variant is not None and kind != "malformed_json":
        raise BadInput("variant only applies to malformed_json")
    if kind == "malformed_json":
        variant = variant or "truncated"
        if variant not in MALFORMED_VARIANTS:
            raise BadInput(f"variant must be one of {', '.join(MALFORMED_VARIANTS)}")
    return FaultSpec(
        method=method,
        kind=cast(FaultKind, kind),
        times=times,
        md_order=md_order,
        order_number=_identifier(body, "orderNumber"),
        seconds=seconds,
        after_apply=after_apply,
        variant=cast(MalformedVariant | None, variant),
    )


def _describe(spec: FaultSpec) -> str:
    parts = [f"{spec.kind} on {spec.method}"]
    for label, value in (("mdOrder", spec.md_order), ("orderNumber", spec.order_number), ("times", spec.times)):
        if value is not None:
            parts.append(f"{label}={value}")
    if spec.after_apply:
        parts.append("after apply")
    return " ".join(parts)


@bp.route("/faults", methods=["POST"])
def add_fault() -> tuple[Response, int]:
    note("fault add")
    faults = current_state().faults
    spec = _fault_spec(_body(), faults.max_sleep_seconds)
    fault = faults.add(spec)
    note("fault add", f"#{fault.id} {_describe(spec)}")
    return jsonify(fault.to_json()), 201


@bp.route("/faults", methods=["GET"])
def list_faults() -> Response:
    faults = current_state().faults
    return jsonify({"faults": [fault.to_json() for fault in faults.all()], "maxSleepSeconds": faults.max_sleep_seconds})


@bp.route("/faults/<int:fault_id>", methods=["GET"])
def get_fault(fault_id: int) -> Response:
    fault = current_state().faults.get(fault_id)
    if fault is None:
        raise NotFound(f"unknown fault {fault_id}")
    return jsonify(fault.to_json())


@bp.route("/faults", methods=["DELETE"])
def delete_faults() -> Response:
    deleted = current_state().faults.clear()
    note("fault delete", f"all ({deleted})")
    return jsonify({"deleted": deleted})


@bp.route("/faults/<int:fault_id>", methods=["DELETE"])
def delete_fault(fault_id: int) -> Response:
    note("fault delete", f"#{fault_id}")
    if not current_state().faults.delete(fault_id):
        raise NotFound(f"unknown fault {fault_id}")
    return jsonify({"deleted": 1})


@bp.route("/faults/settings", methods=["PUT"])
def put_fault_settings() -> Response:
    note("fault settings")
    body = _body()
    _reject_unknown(body, frozenset({"maxSleepSeconds"}))
    if "maxSleepSeconds" not in body:
        raise BadInput("give maxSleepSeconds")
    seconds = _positive_number(body["maxSleepSeconds"], "maxSleepSeconds", MAX_SLEEP_LIMIT_SECONDS)
    faults = current_state().faults
    faults.max_sleep_seconds = seconds
    note("fault settings", f"maxSleepSeconds={seconds:g}")
    return jsonify({"maxSleepSeconds": faults.max_sleep_seconds})


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
