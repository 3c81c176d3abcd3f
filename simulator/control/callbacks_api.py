"""Control API for the bank's callbacks under ``/_control/vpos/`` (JSON): defaults and per-order rules, pending
callbacks (deliver, duplicate, drop, move, release), injected callbacks, sent callbacks and their replays.

Input is checked here (400 ``bad_input``); unknown orders and callback ids are 404 ``not_found``; acting on a
callback that is no longer pending is 409 ``conflict``. Shapes are listed in ``simulator/README.md`` (Callbacks).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request

from simulator.config import CALLBACK_METHODS
from simulator.errors import BadInput, Conflict, NotFound
from simulator.state import SimulatorState, current_state
from simulator.vpos.callbacks import (
    CALLBACK_MODES,
    MAX_DELAY_SECONDS,
    MAX_RETRY_TIMES,
    MAX_TIMES,
    OPERATIONS,
    CallbackPolicy,
    rules_json,
)
from simulator.vpos.orders import BankOrder
from simulator.web import note, note_orders

bp = Blueprint("control_callbacks", __name__, url_prefix="/_control")

RULE_NAMES = ("mode", "delaySeconds", "times", "concurrent", "method", "includeAmount", "badChecksum", "retry")
LEGACY_NAMES = ("afterReturnDelaySeconds", "retryDelaySeconds")
"""Older names, still accepted (at most 60 s each): ``delaySeconds`` and ``retry.intervalSeconds``."""
_LEGACY_MAX_SECONDS = 60.0
_BOOLEANS = {"concurrent": "concurrent", "includeAmount": "include_amount", "badChecksum": "bad_checksum"}


# -- input ------------------------------------------------------------------------------------------------------


def _body(*, optional: bool = False) -> dict[str, Any]:
    """The JSON object body; with ``optional``, no body at all reads as ``{}``."""
    if optional and not request.get_data():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object")
    return body


def _seconds(name: str, value: Any, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInput(f"{name} must be a number of seconds")
    if not 0 <= value <= maximum:
        raise BadInput(f"{name} must be from 0 to {maximum:g}")
    return float(value)


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{name} must be an integer")
    if not low <= value <= high:
        raise BadInput(f"{name} must be from {low} to {high}")
    return value


def _retry(value: Any) -> dict[str, Any]:
    if value is None:
        return {"retry_interval_seconds": None, "retry_times": None}
    if not isinstance(value, dict) or not value:
        raise BadInput('retry must be an object with "intervalSeconds" and/or "times"')
    unknown = sorted(set(value) - {"intervalSeconds", "times"})
    if unknown:
        raise BadInput(f"unknown retry field(s): {', '.join(unknown)}")
    rules: dict[str, Any] = {}
    if "intervalSeconds" in value:
        interval = value["intervalSeconds"]
        rules["retry_interval_seconds"] = (
            None if interval is None else _seconds("retry.intervalSeconds", interval, MAX_DELAY_SECONDS)
        )
    if "times" in value:
        times = value["times"]
        rules["retry_times"] = None if times is None else _integer("retry.times", times, 0, MAX_RETRY_TIMES)
    return rules


def parse_rules(body: Mapping[str, Any], *, allow: tuple[str, ...] = ()) -> dict[str, Any]:
    """Control API rule fields -> policy attributes; a null value stays None (= back to the inherited value).

    Fields in ``allow`` are skipped (the caller reads them); any other unknown field is refused.
    """
    unknown = sorted(set(body) - set(RULE_NAMES) - set(LEGACY_NAMES) - set(allow))
    if unknown:
        raise BadInput(f"unknown field(s): {', '.join(unknown)}; accepted: {', '.join(RULE_NAMES)}")
    rules: dict[str, Any] = {}
    for name, value in body.items():
        if name in allow:
            continue
        if name == "retry":
            rules.update(_retry(value))
        elif value is None:
            rules.update(_attributes(name))
        elif name == "mode":
            if value not in CALLBACK_MODES:
                raise BadInput(f"mode must be one of {', '.join(CALLBACK_MODES)}")
            rules["mode"] = value
        elif name == "delaySeconds":
            rules["delay_seconds"] = _seconds(name, value, MAX_DELAY_SECONDS)
        elif name == "afterReturnDelaySeconds":
            rules["delay_seconds"] = _seconds(name, value, _LEGACY_MAX_SECONDS)
        elif name == "retryDelaySeconds":
            rules["retry_interval_seconds"] = _seconds(name, value, _LEGACY_MAX_SECONDS)
        elif name == "times":
            rules["times"] = _integer(name, value, 1, MAX_TIMES)
        elif name == "method":
            if value not in CALLBACK_METHODS:
                raise BadInput(f"method must be one of {', '.join(CALLBACK_METHODS)} (or null: as configured)")
            rules["method"] = value
        else:
            if not isinstance(value, bool):
                raise BadInput(f"{name} must be true or false")
            rules[_BOOLEANS[name]] = value
    return rules


def _attributes(name: str) -> dict[str, Any]:
    """The policy attribute(s) a field names, set to None."""
    attribute = {
        "mode": "mode",
        "delaySeconds": "delay_seconds",
        "afterReturnDelaySeconds": "delay_seconds",
        "retryDelaySeconds": "retry_interval_seconds",
        "times": "times",
        "method": "method",
        **_BOOLEANS,
    }[name]
    return {attribute: None}


def _require_rules(body: Mapping[str, Any]) -> dict[str, Any]:
    if not body:
        raise BadInput(f"give at least one of {', '.join(RULE_NAMES)}")
    return parse_rules(body)


def _bank_order(state: SimulatorState, md_order: str) -> BankOrder:
    order = state.bank.get(md_order)
    if order is None:
        raise NotFound(f"unknown mdOrder {md_order}")
    return order


# -- output -----------------------------------------------------------------------------------------------------


def _defaults_json(policy: CallbackPolicy) -> dict[str, Any]:
    return {
        **policy.to_json(),
        # the older names, kept for existing clients
        "afterReturnDelaySeconds": policy.delay_seconds,
        "retryDelaySeconds": policy.retry_interval_seconds,
        "maxRetries": policy.retry_times,
    }


def _order_rules_json(state: SimulatorState, md_order: str) -> dict[str, Any]:
    callbacks = state.callbacks
    return {
        "mdOrder": md_order,
        "rules": rules_json(callbacks.rules(md_order)),
        "effective": callbacks.effective(md_order).to_json(),
    }


def _known(callback_id: int) -> None:
    """404 for an unknown callback; otherwise the request's journal entry belongs to the callback's order."""
    callback = current_state().callbacks.get(callback_id)
    note_orders(mdOrder=callback["mdOrder"], orderNumber=callback["orderNumber"])


def _filters() -> dict[str, str | None]:
    return {"md_order": request.args.get("mdOrder"), "order_number": request.args.get("orderNumber")}


# -- defaults ---------------------------------------------------------------------------------------------------


@bp.route("/vpos/callbacks", methods=["GET"])
def get_defaults() -> Response:
    return jsonify(_defaults_json(current_state().callbacks.defaults()))


@bp.route("/vpos/callbacks", methods=["PUT"])
def put_defaults() -> Response:
    """Change the default rules (only the fields given; null restores a field's built-in default)."""
    note("callbacks")
    rules = _require_rules(_body())
    return jsonify(_defaults_json(current_state().callbacks.configure(**rules)))


# -- per order --------------------------------------------------------------------------------------------------


@bp.route("/vpos/orders/<md_order>/callbacks", methods=["GET"])
def get_order_callbacks(md_order: str) -> Response:
    state = current_state()
    _bank_order(state, md_order)
    return jsonify({**_order_rules_json(state, md_order), "callbacks": state.callbacks.callbacks(md_order=md_order)})


@bp.route("/vpos/orders/<md_order>/callbacks", methods=["PUT"])
def put_order_rules(md_order: str) -> Response:
    """Merge rules for this order's future callbacks (null removes a rule: the default applies again)."""
    note("callback rules", f"mdOrder={md_order}")
    state = current_state()
    _bank_order(state, md_order)
    state.callbacks.set_rules(md_order, _require_rules(_body()))
    return jsonify(_order_rules_json(state, md_order))


@bp.route("/vpos/orders/<md_order>/callbacks", methods=["DELETE"])
def delete_order_rules(md_order: str) -> Response:
    note("callback rules", f"mdOrder={md_order} cleared")
    state = current_state()
    _bank_order(state, md_order)
    state.callbacks.clear_rules(md_order)
    return jsonify(_order_rules_json(state, md_order))


@bp.route("/vpos/orders/<md_order>/callbacks", methods=["POST"])
def inject(md_order: str) -> tuple[Response, int]:
    """Create a callback for any operation now, signed like the bank's own, sent per the order's rules plus any
    one-off rules in the body: ``{"operation", "status": 0|1, "amount"?, ...rules}``."""
    note("callback inject", f"mdOrder={md_order}")
    state = current_state()
    order = _bank_order(state, md_order)
    body = _body()
    rules = parse_rules(body, allow=("operation", "status", "amount"))
    operation = body.get("operation")
    if operation not in OPERATIONS:
        raise BadInput(f"operation must be one of {', '.join(OPERATIONS)}")
    status = _integer("status", body.get("status"), 0, 1)
    amount = body.get("amount")
    if amount is not None:
        amount = _integer("amount", amount, 0, 10**15)
    result = state.callbacks.dispatch(order, operation, status, state.clock.now(), rules=rules, amount=amount)
    if result.outcome == "no_url":
        raise Conflict("no callback URL is known for this order (no dynamicCallbackUrl, no callbackUrl)")
    note("callback inject", f"mdOrder={md_order} {operation} status={status} -> {result.outcome}")
    callbacks = [state.callbacks.get(callback_id) for callback_id in result.callback_ids]
    return jsonify({**result.to_json(), "callbacks": callbacks}), 201


@bp.route("/vpos/orders/<md_order>/callbacks/release", methods=["POST"])
def release(md_order: str) -> Response:
    """Send the order's pending callbacks now: all in queue order, or ``{"ids": [...]}`` in that order."""
    note("callback release", f"mdOrder={md_order}")
    state = current_state()
    _bank_order(state, md_order)
    body = _body(optional=True)
    unknown = sorted(set(body) - {"ids"})
    if unknown:
        raise BadInput(f"unknown field(s): {', '.join(unknown)}; accepted: ids")
    ids: list[int] | None = None
    if "ids" in body:
        raw = body["ids"]
        if not isinstance(raw, list) or not raw:
            raise BadInput("ids must be a non-empty list of callback ids")
        ids = [_integer("ids[]", value, 1, 2**63) for value in raw]
    return jsonify({"mdOrder": md_order, "callbacks": state.callbacks.release(md_order, ids)})


# -- callbacks by id --------------------------------------------------------------------------------------------


@bp.route("/vpos/callbacks/pending", methods=["GET"])
def list_pending() -> Response:
    return jsonify({"orders": current_state().callbacks.pending(**_filters())})


@bp.route("/vpos/callbacks/sent", methods=["GET"])
def list_sent() -> Response:
    return jsonify({"callbacks": current_state().callbacks.callbacks(sent_only=True, **_filters())})


@bp.route("/vpos/callbacks/<int:callback_id>", methods=["GET"])
def get_callback(callback_id: int) -> Response:
    return jsonify(current_state().callbacks.get(callback_id))


@bp.route("/vpos/callbacks/<int:callback_id>/deliver", methods=["POST"])
def deliver(callback_id: int) -> Response:
    note("callback deliver", f"#{callback_id}")
    _known(callback_id)
    return jsonify(current_state().callbacks.deliver(callback_id))


@bp.route("/vpos/callbacks/<int:callback_id>/drop", methods=["POST"])
def drop(callback_id: int) -> Response:
    note("callback drop", f"#{callback_id}")
    _known(callback_id)
    return jsonify(current_state().callbacks.drop(callback_id))


@bp.route("/vpos/callbacks/<int:callback_id>/duplicate", methods=["POST"])
def duplicate(callback_id: int) -> tuple[Response, int]:
    """``{"times"?: 1..20}`` identical pending copies right after the callback."""
    note("callback duplicate", f"#{callback_id}")
    _known(callback_id)  # 404 before the body is judged
    body = _body(optional=True)
    unknown = sorted(set(body) - {"times"})
    if unknown:
        raise BadInput(f"unknown field(s): {', '.join(unknown)}; accepted: times")
    times = _integer("times", body.get("times", 1), 1, MAX_TIMES)
    return jsonify({"callbacks": current_state().callbacks.duplicate(callback_id, times)}), 201


@bp.route("/vpos/callbacks/<int:callback_id>/move", methods=["POST"])
def move(callback_id: int) -> Response:
    """``{"position": n}``: the callback's new 0-based place in its order's pending queue."""
    note("callback move", f"#{callback_id}")
    _known(callback_id)  # 404 before the body is judged
    body = _body()
    if "position" not in body:
        raise BadInput("position is required")
    position = _integer("position", body["position"], 0, 10**6)
    return jsonify(current_state().callbacks.move(callback_id, position))


@bp.route("/vpos/callbacks/<int:callback_id>/replay", methods=["POST"])
def replay(callback_id: int) -> tuple[Response, int]:
    """Send a known callback's exact parameters again, once, now (a new callback with ``replayOf``)."""
    note("callback replay", f"#{callback_id}")
    _known(callback_id)
    return jsonify(current_state().callbacks.replay(callback_id)), 201
