"""The bank's REST API under ``/payment/rest/``: register.do, registerPreAuth.do, getOrderStatusExtended.do,
getOrderStatus.do, and the money after the payment (``simulator.vpos.money``): deposit.do, reverse.do, refund.do,
decline.do.

Always HTTP 200; the outcome is in ``errorCode`` (protocols.md 2.2). By default register.do and registerPreAuth.do
answer ``"errorCode": 0`` (a number) on success and everything else strings (``"0"``, ``"6"``...), as real banks
differ: gateways must accept both. Every answer, errors included, goes through the merchant's response shape
(``simulator.vpos.shapes``). Methods the simulator does not implement answer errorCode "7". A money method the bank
does not deploy for the merchant (bank setting ``disabledMethods``) answers HTTP 404, as real banks do.

Injected faults (``simulator.vpos.faults``) are applied here, around every ``*.do``: a ``before_request`` hook
takes the call's fault and answers instead of the bank (or sleeps first, for ``slow``); an ``afterApply`` fault
lets the method run and spoils its answer in the ``after_request`` hook. The journal entry's summary names the
fault.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request

from simulator.errors import RbsError
from simulator.state import SimulatorState, current_state
from simulator.vpos import money
from simulator.vpos.cards import ORDER_DECLINED
from simulator.vpos.faults import Fault, http_error_response, malformed_response, no_response
from simulator.vpos.orders import BankOrder, UnknownBankOrder
from simulator.vpos.payment import expire_if_due
from simulator.vpos.register import LANGUAGES, authenticate, register_order
from simulator.vpos.shapes import LEGACY_STATUS_METHOD, Shape, error_keys
from simulator.vpos.status import extended_status, legacy_status
from simulator.web import note, request_params

bp = Blueprint("vpos_api", __name__, url_prefix="/payment/rest")

SYSTEM_ERROR = 7
SYSTEM_ERROR_MESSAGE = "System error"
DECLINED_ERROR = 2
DECLINED_MESSAGE = "Payment is declined"


def form_url(public_url: str, order: BankOrder) -> str:
    return f"{public_url}/payment/merchants/sim/payment_{order.language}.html?mdOrder={order.md_order}"


def _method() -> str:
    """The called method's name (``register.do``): the last path segment."""
    return request.path.rsplit("/", 1)[-1]


def _shape(state: SimulatorState, params: dict[str, str], method: str) -> Shape:
    """The shape of the merchant named by ``userName`` (even when its password is wrong), else the global one."""
    user = params.get("userName")
    known = any(merchant.user_name == user for merchant in state.config.merchants)
    return state.shapes.shape(user if known else None, method)


def _answer(body: dict[str, Any], method: str | None = None) -> Response:
    method = method or _method()
    return jsonify(_shape(current_state(), request_params(), method).finish(body, method))


def _error_body(method: str, code: int, message: str) -> dict[str, Any]:
    code_key, message_key = error_keys(method)
    return {code_key: str(code), message_key: message}


@bp.errorhandler(RbsError)
def _rbs_error(exc: RbsError) -> Response:
    """Bank errors in the merchant's shape (this blueprint's handler wins over the app-wide one)."""
    method = _method()
    return _answer(_error_body(method, exc.error_code, exc.message), method)


@bp.errorhandler(UnknownBankOrder)
def _order_gone(_exc: UnknownBankOrder) -> Response:
    """An order forgotten between the lookup and the decision (a reset meanwhile): unknown, errorCode 6."""
    method = _method()
    return _answer(_error_body(method, 6, "Order not found"), method)


# -- the methods ------------------------------------------------------------------------------------------------


def _register(method: str, *, two_phase: bool) -> Response:
    note(method)
    state = current_state()
    config = state.config
    order = register_order(config, state.bank, request_params(), state.clock.now(), two_phase=two_phase)
    note(
        method,
        f"orderNumber={order.order_number} amount={order.amount} currency={order.currency} "
        f"-> errorCode 0 mdOrder={order.md_order}",
    )
    return _answer({"orderId": order.md_order, "formUrl": form_url(config.public_url, order), "errorCode": 0})


@bp.route("/register.do", methods=["GET", "POST"])
def register() -> Response:
    return _register("register.do", two_phase=False)


@bp.route("/registerPreAuth.do", methods=["GET", "POST"])
def register_pre_auth() -> Response:
    """Two-phase: paying the order holds the money (orderStatus 1, callback ``approved``) until deposit.do."""
    _deployed("registerPreAuth.do")
    return _register("registerPreAuth.do", two_phase=True)


def _find_order(state: SimulatorState, params: dict[str, str], *, by_order_number: bool = True) -> BankOrder:
    """The caller's own order by ``orderId`` (which wins when both are given) or ``orderNumber``.

    Credentials first (errorCode 5), then errorCode 6 for an unknown order, none given, or another merchant's.
    """
    merchant = authenticate(state.config, params)
    order_id, order_number = params.get("orderId"), params.get("orderNumber")
    order: BankOrder | None = None
    if order_id:
        order = state.bank.get(order_id)
    elif order_number and by_order_number:
        order = state.bank.find(merchant.user_name, order_number)
    if order is None or order.merchant != merchant.user_name:
        raise RbsError(6, "Order not found")
    expire_if_due(state, order.md_order)
    return order


def _declined_as_error(body: dict[str, Any], order: BankOrder, shape: Shape, method: str) -> dict[str, Any]:
    """errorCode 2 for a declined order when the merchant's bank answers so; the status stays complete."""
    if shape.declined_error_code == DECLINED_ERROR and order.order_status == ORDER_DECLINED:
        body.update(_error_body(method, DECLINED_ERROR, DECLINED_MESSAGE))
    return body


@bp.route("/getOrderStatusExtended.do", methods=["GET", "POST"])
def get_order_status_extended() -> Response:
    method = "getOrderStatusExtended.do"
    note(method)
    state = current_state()
    params = request_params()
    order = _find_order(state, params)
    language = params.get("language")
    shape = _shape(state, params, method)
    body = extended_status(order, language if language in LANGUAGES else order.language, shape.status_version)
    note(method, f"mdOrder={order.md_order} -> orderStatus {order.order_status} actionCode {order.action_code}")
    return jsonify(shape.finish(_declined_as_error(body, order, shape, method), method))


@bp.route("/getOrderStatus.do", methods=["GET", "POST"])
def get_order_status() -> Response:
    """Legacy: ``orderId`` only (protocols.md 2.4), capitalised keys."""
    method = LEGACY_STATUS_METHOD
    note(method)
    state = current_state()
    params = request_params()
    order = _find_order(state, params, by_order_number=False)
    shape = _shape(state, params, method)
    note(method, f"mdOrder={order.md_order} -> OrderStatus {order.order_status}")
    return jsonify(shape.finish(_declined_as_error(legacy_status(order), order, shape, method), method))


# -- money after the payment (simulator.vpos.money) ------------------------------------------------------------


def _deployed(method: str) -> None:
    """HTTP 404 for a method the bank does not deploy for the caller (``disabledMethods``), before anything else."""
    if current_state().bank.settings.method_disabled(request_params().get("userName"), method):
        note(method, "-> HTTP 404: method not deployed for this merchant")
        abort(Response("<html><body><h1>404 Not Found</h1></body></html>", status=404, mimetype="text/html"))


def _money_order(method: str, *, by_order_number: bool = False) -> tuple[SimulatorState, dict[str, str], BankOrder]:
    """The caller's order for a money method: 404 when not deployed, 5 bad credentials or no order named,
    6 unknown order."""
    _deployed(method)
    note(method)
    state = current_state()
    params = request_params()
    authenticate(state.config, params)
    if not params.get("orderId") and not (by_order_number and params.get("orderNumber")):
        raise RbsError(money.WRONG_PARAMETER, "[orderId] is empty")
    return state, params, _find_order(state, params, by_order_number=by_order_number)


def _success() -> Response:
    return _answer({"errorCode": "0", "errorMessage": "Success"})


def _outcome(order: BankOrder, text: str) -> str:
    return f"mdOrder={order.md_order} {text} -> errorCode 0 orderStatus {int(order.order_status)}"


@bp.route("/deposit.do", methods=["GET", "POST"])
def deposit() -> Response:
    method = "deposit.do"
    state, params, order = _money_order(method)
    decision = money.deposit(state, order, params)
    note(method, _outcome(decision.order, f"amount={params.get('amount')} deposited={order.deposited_amount}"))
    return _success()


@bp.route("/reverse.do", methods=["GET", "POST"])
def reverse() -> Response:
    method = "reverse.do"
    state, params, order = _money_order(method)
    decision = money.reverse(state, order, params)
    note(method, _outcome(decision.order, "reversed"))
    return _success()


@bp.route("/refund.do", methods=["GET", "POST"])
def refund() -> Response:
    method = "refund.do"
    state, params, order = _money_order(method)
    result = money.refund(state, order, params)
    made = result.refund
    what = "existing refund (externalRefundId repeated)" if result.existing else f"refund {made.status}"
    note(method, _outcome(order, f"amount={params.get('amount')} {what} refundId={made.refund_id} {made.amount}"))
    return _success()


@bp.route("/decline.do", methods=["GET", "POST"])
def decline() -> Response:
    """``orderId`` and/or ``orderNumber`` (``merchantLogin`` is ignored: the caller's own orders only)."""
    method = "decline.do"
    state, _params, order = _money_order(method, by_order_number=True)
    decision = money.decline(state, order)
    note(method, _outcome(decision.order, "declined"))
    return _success()


@bp.route("/<method>.do", methods=["GET", "POST"])
def unsupported(method: str) -> Response:
    note(f"{method}.do")
    raise RbsError(SYSTEM_ERROR, f"System error: {method}.do is not implemented by the simulator")


# -- injected faults --------------------------------------------------------------------------------------------


def _order_ids(state: SimulatorState, params: dict[str, str]) -> tuple[set[str], set[str]]:
    """The mdOrders and orderNumbers this call is about, each side completed from the order book."""
    md_orders: set[str] = set()
    numbers: set[str] = set()
    if order_id := params.get("orderId"):
        md_orders.add(order_id)
        order = state.bank.get(order_id)
        if order is not None:
            numbers.add(order.order_number)
    if number := params.get("orderNumber"):
        numbers.add(number)
        order = state.bank.find(params.get("userName", ""), number)
        if order is not None:
            md_orders.add(order.md_order)
    return md_orders, numbers


def _summary(response: Response | None) -> str:
    """The journal summary so far: the method's own note, else the error in its answer."""
    noted = g.get("journal_summary")
    if noted:
        return str(noted)
    data = response.get_json(silent=True) if response is not None and response.is_json else None
    if not isinstance(data, dict):
        return ""
    parts = [f"{key}={data[key]}" for key in ("errorCode", "ErrorCode") if key in data]
    message = data.get("errorMessage") or data.get("ErrorMessage")
    return " ".join([*parts, str(message)] if message else parts)


def _add_summary(text: str, response: Response | None = None) -> None:
    g.journal_summary = "; ".join(part for part in (_summary(response), text) if part)


def _spoiled(fault: Fault, method: str, real: Response | None) -> Response:
    """The answer ``fault`` gives instead of the bank's (``real``: the bank's own, for afterApply)."""
    state = current_state()
    kind = fault.kind
    if kind in ("http_500", "http_503"):
        status = int(kind.removeprefix("http_"))
        _add_summary(f"{fault.label()}: HTTP {status}", real)
        return http_error_response(status)
    if kind == "error_7":
        _add_summary(f"{fault.label()}: errorCode 7", real)
        return _answer(_error_body(method, SYSTEM_ERROR, SYSTEM_ERROR_MESSAGE), method)
    if kind == "malformed_json":
        variant = fault.spec.variant or "truncated"
        _add_summary(f"{fault.label()}: {variant.replace('_', ' ')} body", real)
        return malformed_response(variant, real.get_data() if real is not None else None)
    if kind == "hang":
        seconds = fault.seconds or 0.0
        _add_summary(f"{fault.label()}: no answer, connection closed after {seconds:g} s", real)
        return no_response(request.environ, wait=lambda: state.faults.sleep(fault, seconds))
    _add_summary(f"{fault.label()}: connection closed without an answer", real)
    return no_response(request.environ)


@bp.before_request
def _fault_before() -> Response | None:
    """Take this call's fault: answer instead of the bank, delay it (slow), or keep it for after the method."""
    state = current_state()
    method = _method()
    md_orders, numbers = _order_ids(state, request_params())
    fault = state.faults.take(method, md_orders=md_orders, order_numbers=numbers)
    if fault is None:
        return None
    if fault.spec.after_apply:
        g.vpos_fault = fault
        return None
    note(method)
    if fault.kind != "slow":
        return _spoiled(fault, method, None)
    seconds = fault.seconds or 0.0
    if not state.faults.sleep(fault, seconds):
        _add_summary(f"{fault.label()}: interrupted after the fault was removed; connection closed")
        return no_response(request.environ)
    g.vpos_fault_note = f"{fault.label()}: answered after {seconds:g} s"
    return None


@bp.after_request
def _fault_after(response: Response) -> Response:
    """Name a finished slow fault in the summary; spoil the answer of an afterApply fault."""
    slow_note = g.pop("vpos_fault_note", None)
    if slow_note:
        _add_summary(slow_note, response)
    fault: Fault | None = g.pop("vpos_fault", None)
    if fault is None:
        return response
    if fault.kind != "slow":
        return _spoiled(fault, _method(), response)
    seconds = fault.seconds or 0.0
    if not current_state().faults.sleep(fault, seconds):
        _add_summary(f"{fault.label()}: interrupted after the fault was removed; connection closed", response)
        return no_response(request.environ)
    _add_summary(f"{fault.label()}: answered after {seconds:g} s", response)
    return response
