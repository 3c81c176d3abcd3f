"""The scenario control API under ``/_control/`` (JSON): what tests and the lab use to set up and observe.

Bad input -> 400 ``{"error": "bad_input", "message": ...}``; unknown things -> 404 ``{"error": "not_found", ...}``.
Endpoints are listed in ``simulator/README.md``.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, jsonify, request

from simulator.control.journal import SERVICES
from simulator.control.scheduler import CLOCK_MODES
from simulator.ecwid.orders import CUSTOM_ID_PATTERN, DuplicateOrderId, OrderItem
from simulator.errors import BadInput, Conflict, NotFound
from simulator.state import current_state
from simulator.vpos.payment import CardInput, CardInputError, expire_if_due, submit_payment
from simulator.web import client_ip, note

bp = Blueprint("control", __name__, url_prefix="/_control")

_CONFIG_FIELDS = {
    "publicUrl": "public_url",
    "paymentUrl": "payment_url",
    "callbackUrl": "callback_url",
    "callbackMethod": "callback_method",
}


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object")
    return body


def _number(body: dict[str, Any], name: str, *, default: float | None = None, positive: bool = False) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInput(f"{name} must be a number")
    if positive and value <= 0:
        raise BadInput(f"{name} must be greater than 0")
    if value < 0:
        raise BadInput(f"{name} must not be negative")
    return float(value)


def _string(body: dict[str, Any], name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or not value:
        raise BadInput(f"{name} must be a non-empty string")
    return value


def _store_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput("storeId must be an integer")
    if current_state().config.store(value) is None:
        raise NotFound(f"unknown store {value}")
    return value


def _items(raw: Any, total: float) -> list[OrderItem]:
    if raw is None:
        return [OrderItem(name="Test item", price=total, quantity=1, sku="test-item")]
    if not isinstance(raw, list) or not raw:
        raise BadInput("items must be a non-empty list")
    items = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise BadInput(f"items[{index}] must be an object")
        quantity = item.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise BadInput(f"items[{index}].quantity must be a positive integer")
        items.append(
            OrderItem(
                name=_string(item, "name"),
                price=_number(item, "price"),
                quantity=quantity,
                sku=str(item.get("sku", "")),
            )
        )
    return items


@bp.route("/health", methods=["GET"])
def health() -> Response:
    return jsonify({"status": "ok"})


@bp.route("/reset", methods=["POST"])
def reset() -> Response:
    note("reset")
    current_state().reset()
    return jsonify({"status": "reset"})


@bp.route("/config", methods=["GET"])
def get_config() -> Response:
    return jsonify(current_state().config.public_view())


@bp.route("/config", methods=["PUT"])
def put_config() -> Response:
    """Change non-secret settings over HTTP (the in-process way is ``SimulatorState.reconfigure``)."""
    note("config")
    body = _body()
    unknown = sorted(set(body) - set(_CONFIG_FIELDS))
    if unknown or not body:
        raise BadInput(f"accepted fields: {', '.join(_CONFIG_FIELDS)}")
    changes: dict[str, Any] = {}
    for name, field in _CONFIG_FIELDS.items():
        if name in body:
            value = body[name]
            if not (isinstance(value, str) or (value is None and name == "callbackUrl")):
                raise BadInput(f"{name} must be a string")
            changes[field] = value
    try:
        config = current_state().reconfigure(**changes)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return jsonify(config.public_view())


# -- Ecwid ------------------------------------------------------------------------------------------------


@bp.route("/ecwid/orders", methods=["POST"])
def create_ecwid_order() -> tuple[Response, int]:
    note("create order")
    state = current_state()
    body = _body()
    store_id = _store_id(body.get("storeId"))
    total = _number(body, "total", positive=True)
    currency = _string(body, "currency", "AMD")
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise BadInput("currency must be an ISO 4217 alphabetic code such as AMD")
    lang = _string(body, "lang", "en")
    if len(lang) != 2 or not lang.isalpha():
        raise BadInput("lang must be an ISO 639-1 code such as en")
    order_id = body.get("id")
    if order_id is not None and (not isinstance(order_id, str) or not CUSTOM_ID_PATTERN.match(order_id)):
        raise BadInput("id must be 1-100 characters of letters, digits, '_', '.', '-'")
    tax = _number(body, "tax", default=0.0)
    subtotal = _number(body, "subtotal") if "subtotal" in body else None
    try:
        order = state.ecwid.create(
            store_id=store_id,
            total=total,
            currency=currency,
            email=_string(body, "email", "buyer@example.com"),
            lang=lang,
            items=_items(body.get("items"), total),
            now=state.clock.now(),
            subtotal=subtotal,
            tax=tax,
            order_id=order_id,
        )
    except DuplicateOrderId:
        raise Conflict(f"order {order_id} already exists in store {store_id}") from None
    note("create order", f"store={store_id} -> order {order.id}")
    return jsonify(order.control_json()), 201


@bp.route("/ecwid/orders", methods=["GET"])
def list_ecwid_orders() -> Response:
    orders = current_state().ecwid.all()
    store_raw = request.args.get("storeId")
    if store_raw is not None:
        if not store_raw.isdigit():
            raise BadInput("storeId must be an integer")
        orders = [order for order in orders if order.store_id == int(store_raw)]
    return jsonify({"orders": [order.control_json() for order in orders]})


@bp.route("/ecwid/orders/<int:store_id>/<order_id>", methods=["GET"])
def get_ecwid_order(store_id: int, order_id: str) -> Response:
    order = current_state().ecwid.find(store_id, order_id)
    if order is None:
        raise NotFound(f"unknown order {order_id} in store {store_id}")
    return jsonify(order.control_json())


@bp.route("/ecwid/payment-request", methods=["POST"])
def payment_request() -> Response:
    note("payment request")
    state = current_state()
    body = _body()
    store_id = _store_id(body.get("storeId"))
    order_id = _string(body, "orderId")
    order = state.ecwid.find(store_id, order_id)
    if order is None:
        raise NotFound(f"unknown order {order_id} in store {store_id}")
    return jsonify(state.payment_request(store_id, order).to_json())


# -- bank -------------------------------------------------------------------------------------------------


@bp.route("/vpos/orders", methods=["GET"])
def list_bank_orders() -> Response:
    state = current_state()
    number = request.args.get("orderNumber")
    orders = [order for order in state.bank.all() if number is None or order.order_number == number]
    return jsonify({"orders": [order.to_json() for order in orders]})


@bp.route("/vpos/orders/<md_order>", methods=["GET"])
def get_bank_order(md_order: str) -> Response:
    state = current_state()
    if state.bank.get(md_order) is None:
        raise NotFound(f"unknown mdOrder {md_order}")
    expire_if_due(state, md_order)
    order = state.bank.get(md_order)
    assert order is not None
    return jsonify(order.to_json())


@bp.route("/vpos/orders/<md_order>/pay", methods=["POST"])
def pay_bank_order(md_order: str) -> tuple[Response, int]:
    """Pay without a browser: the same code path as the hosted card page, callbacks included."""
    note("pay", f"mdOrder={md_order}")
    state = current_state()
    body = _body()
    card = CardInput(
        pan=_string(body, "pan"),
        expiry=_string(body, "expiry"),
        cardholder=str(body.get("cardholder", "TEST CARDHOLDER")),
        cvc=str(body.get("cvc", "")),
    )
    try:
        result = submit_payment(state, md_order, card, ip=client_ip())
    except CardInputError as exc:
        raise BadInput(f"{exc.field} is malformed") from None
    order = result.order
    payload = {
        "mdOrder": order.md_order,
        "orderStatus": order.order_status,
        "actionCode": order.action_code,
        "redirectUrl": result.redirect_url,
        "alreadyProcessed": result.already_processed,
        "callback": result.callback.to_json() if result.callback else None,
        "order": order.to_json(),
    }
    note("pay", f"mdOrder={md_order} -> orderStatus {order.order_status} actionCode {order.action_code}")
    return jsonify(payload), 409 if result.already_processed else 200


# -- journal and clock ------------------------------------------------------------------------------------


@bp.route("/journal", methods=["GET"])
def journal() -> Response:
    service = request.args.get("service")
    if service is not None and service not in SERVICES:
        raise BadInput(f"service must be one of {', '.join(SERVICES)}")
    since_raw = request.args.get("since", "0")
    if not since_raw.isdigit():
        raise BadInput("since must be a non-negative integer")
    orders = tuple(o for o in request.args.getlist("order") if o)
    run = request.args.get("run") or None
    if run is not None and run not in current_state().journal.runs():
        raise NotFound(f"unknown run {run}")
    entries = current_state().journal.entries(service=service, since=int(since_raw), orders=orders, run=run)
    return jsonify({"entries": [entry.to_json() for entry in entries]})


@bp.route("/runs", methods=["POST"])
def start_run() -> tuple[Response, int]:
    """``{"name": "scenario name"}``: entries recorded from now on carry the run's id (``GET /journal?run=``)."""
    name = _body().get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadInput("name must be a non-empty string")
    run_id, since = current_state().journal.start_run(name.strip())
    note("run start", f"{run_id} {name.strip()[:80]}")
    return jsonify({"runId": run_id, "since": since}), 201


@bp.route("/runs/end", methods=["POST"])
def end_run() -> Response:
    ended = current_state().journal.end_run()
    return jsonify({"runId": ended})


@bp.route("/runs", methods=["GET"])
def list_runs() -> Response:
    return jsonify({"runs": [{"runId": k, "name": v} for k, v in current_state().journal.runs().items()]})


def _clock_json(ran: int | None = None) -> dict[str, Any]:
    state = current_state()
    clock = state.clock
    body: dict[str, Any] = {
        "offsetSeconds": clock.offset_seconds,
        "now": clock.now().isoformat(),
        "nowMs": clock.now_ms(),
        "mode": state.scheduler.mode,
        "pendingJobs": [job.to_json() for job in state.scheduler.pending()],
    }
    if ran is not None:
        body["ranJobs"] = ran
    return body


@bp.route("/clock", methods=["GET"])
def get_clock() -> Response:
    return jsonify(_clock_json())


@bp.route("/clock/advance", methods=["POST"])
def advance_clock() -> Response:
    note("clock advance")
    seconds = _number(_body(), "seconds")
    ran = current_state().scheduler.advance(seconds)
    return jsonify(_clock_json(ran))


@bp.route("/clock", methods=["PUT"])
def set_clock_mode() -> Response:
    """``{"mode": "real"|"manual"}``: in manual mode scheduled work runs only when the clock is advanced."""
    note("clock mode")
    mode = _body().get("mode")
    if not isinstance(mode, str) or mode not in CLOCK_MODES:
        raise BadInput(f"mode must be one of {', '.join(CLOCK_MODES)}")
    current_state().scheduler.set_mode(mode)
    return jsonify(_clock_json())
