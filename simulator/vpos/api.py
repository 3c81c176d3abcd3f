"""The bank's REST API under ``/payment/rest/``: register.do, getOrderStatusExtended.do, getOrderStatus.do.

Always HTTP 200; the outcome is in ``errorCode`` (protocols.md 2.2). register.do answers ``"errorCode": 0`` (a
number) on success and the status methods ``"0"`` (a string), as real banks differ: gateways must accept both.
Methods the simulator does not implement yet (deposit, reverse, refund) answer errorCode "7".
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from simulator.errors import RbsError
from simulator.state import SimulatorState, current_state
from simulator.vpos.orders import BankOrder
from simulator.vpos.payment import expire_if_due
from simulator.vpos.register import LANGUAGES, authenticate, register_order
from simulator.vpos.status import extended_status, legacy_status
from simulator.web import note, request_params

bp = Blueprint("vpos_api", __name__, url_prefix="/payment/rest")


def form_url(public_url: str, order: BankOrder) -> str:
    return f"{public_url}/payment/merchants/sim/payment_{order.language}.html?mdOrder={order.md_order}"


@bp.route("/register.do", methods=["GET", "POST"])
def register() -> Response:
    note("register.do")
    state = current_state()
    config = state.config
    order = register_order(config, state.bank, request_params(), state.clock.now())
    note(
        "register.do",
        f"orderNumber={order.order_number} amount={order.amount} currency={order.currency} "
        f"-> errorCode 0 mdOrder={order.md_order}",
    )
    return jsonify({"orderId": order.md_order, "formUrl": form_url(config.public_url, order), "errorCode": 0})


def _find_order(state: SimulatorState, params: dict[str, str]) -> BankOrder:
    merchant = authenticate(state.config, params)
    order_id, order_number = params.get("orderId"), params.get("orderNumber")
    order: BankOrder | None = None
    if order_id:
        order = state.bank.get(order_id)
    elif order_number:
        order = state.bank.find(merchant.user_name, order_number)
    if order is None or order.merchant != merchant.user_name:
        raise RbsError(6, "Order not found")
    expire_if_due(state, order.md_order)
    return order


@bp.route("/getOrderStatusExtended.do", methods=["GET", "POST"])
def get_order_status_extended() -> Response:
    note("getOrderStatusExtended.do")
    state = current_state()
    params = request_params()
    order = _find_order(state, params)
    language = params.get("language")
    body = extended_status(order, language if language in LANGUAGES else order.language)
    note(
        "getOrderStatusExtended.do",
        f"mdOrder={order.md_order} -> orderStatus {order.order_status} actionCode {order.action_code}",
    )
    return jsonify(body)


@bp.route("/getOrderStatus.do", methods=["GET", "POST"])
def get_order_status() -> Response:
    note("getOrderStatus.do")
    state = current_state()
    try:
        order = _find_order(state, request_params())
    except RbsError as exc:
        return jsonify({"ErrorCode": str(exc.error_code), "ErrorMessage": exc.message})
    note("getOrderStatus.do", f"mdOrder={order.md_order} -> OrderStatus {order.order_status}")
    return jsonify(legacy_status(order))


@bp.route("/<method>.do", methods=["GET", "POST"])
def unsupported(method: str) -> Response:
    note(f"{method}.do")
    raise RbsError(7, f"System error: {method}.do is not implemented by the simulator")
