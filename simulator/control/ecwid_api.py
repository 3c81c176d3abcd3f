"""Control API for Ecwid's bad days and details, under ``/_control/ecwid/`` (JSON):

- ``/faults``: inject 500, 503, 429 (``Retry-After``), hangs, 403 revoked token, 402 suspended store and 409 into
  the orders API (``simulator.ecwid.faults``), per token / store / method, for the next N calls or until cleared;
- ``/rate-limit``: Ecwid's per-token limit (600 per minute, sliding window on the virtual clock), read and change;
- ``/webhooks``: switch ``order.updated`` webhooks on (a URL) or off, and list their deliveries;
- ``/orders/{storeId}/{ref}/history``: every PUT an order received, accepted or refused;
- ``/orders/fake``: a realistic order made up with faker (odd or long ids, cents), with its encrypted payment
  request and storefront checkout URL.

Bad input -> 400 ``{"error": "bad_input", ...}``, unknown things -> 404 ``{"error": "not_found", ...}``; every
change is journaled (service ``control``). ``POST /_control/reset`` clears faults, webhooks and rate-limit counters
and restores the 600/min limit. Endpoints are listed in ``simulator/README.md`` and ``openapi.json``.
"""

from __future__ import annotations

import math
import re
from typing import Any, cast
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request

from simulator.ecwid.fake_orders import FAKE_CURRENCIES, ID_STYLES, IdStyle, fake_order
from simulator.ecwid.faults import (
    ECWID_FAULT_KINDS,
    FAULT_METHODS,
    MAX_SLEEP_LIMIT_SECONDS,
    EcwidFaultKind,
    EcwidFaultSpec,
)
from simulator.ecwid.orders import DuplicateOrderId
from simulator.errors import BadInput, Conflict, NotFound
from simulator.state import current_state
from simulator.vpos.register import LANGUAGES
from simulator.web import note, note_orders

bp = Blueprint("control_ecwid", __name__, url_prefix="/_control/ecwid")

_FAULT_FIELDS = frozenset({"fault", "method", "token", "storeId", "times", "retryAfterSeconds", "seconds"})
_FAKE_FIELDS = frozenset({"storeId", "currency", "lang", "idStyle", "id", "referenceTransactionId", "total", "seed"})
_ODD_ID = re.compile(r"^[!-~]{1,100}$")
_MAX_RATE_LIMIT = 1_000_000
_MAX_RETRY_AFTER = 86_400


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object")
    return body


def _reject_unknown(body: dict[str, Any], accepted: frozenset[str]) -> None:
    unknown = sorted(set(body) - accepted)
    if unknown:
        raise BadInput(f"unknown field(s) {', '.join(unknown)}; accepted: {', '.join(sorted(accepted))}")


def _int(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInput(f"{name} must be an integer from {low} to {high}")
    return value


def _store(body: dict[str, Any], *, required: bool) -> int | None:
    value = body.get("storeId")
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput("storeId must be an integer")
    if current_state().config.store(value) is None:
        raise NotFound(f"unknown store {value}")
    return value


def _odd_id(body: dict[str, Any], name: str) -> str | None:
    """Any printable ASCII without spaces (``/`` ``#`` ``:`` ... included) that a URL path can carry encoded."""
    value = body.get(name)
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not _ODD_ID.match(value)
        or "//" in value
        or value.startswith("/")
        or value.endswith("/")
        or any(part in (".", "..") for part in value.split("/"))
    ):
        raise BadInput(f"{name} must be 1-100 printable ASCII characters without spaces, '//', '.' or '..' segments")
    return value


# -- faults ---------------------------------------------------------------------------------------------------


def _fault_spec(body: dict[str, Any], max_sleep: float) -> EcwidFaultSpec:
    _reject_unknown(body, _FAULT_FIELDS)
    kind = body.get("fault")
    if kind not in ECWID_FAULT_KINDS:
        raise BadInput(f"fault must be one of {', '.join(ECWID_FAULT_KINDS)}")
    method = body.get("method", "*")
    if method not in FAULT_METHODS:
        raise BadInput(f"method must be one of {', '.join(FAULT_METHODS)}")
    token = body.get("token")
    if token is not None and (not isinstance(token, str) or not token):
        raise BadInput("token must be a non-empty string (the store access token the calls present)")
    times = _int(body, "times", 1, 1_000_000)
    retry_after = _int(body, "retryAfterSeconds", 0, _MAX_RETRY_AFTER)
    if retry_after is not None and kind != "rate_limited":
        raise BadInput("retryAfterSeconds only applies to rate_limited")
    seconds = body.get("seconds")
    if seconds is not None:
        if kind != "hang":
            raise BadInput("seconds only applies to hang")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
            raise BadInput("seconds must be a number")
        if not 0 < seconds <= max_sleep:
            raise BadInput(f"seconds must be greater than 0 and at most {max_sleep:g}")
        seconds = float(seconds)
    return EcwidFaultSpec(
        kind=cast(EcwidFaultKind, kind),
        method=method,
        token=token,
        store_id=_store(body, required=False),
        times=times,
        retry_after_seconds=10 if retry_after is None else retry_after,
        seconds=seconds,
    )


@bp.route("/faults", methods=["POST"])
def add_fault() -> tuple[Response, int]:
    note("ecwid fault add")
    faults = current_state().ecwid_faults
    fault = faults.add(_fault_spec(_body(), faults.max_sleep_seconds))
    view = fault.to_json()
    scope = " ".join(
        f"{name}={view[name]}" for name in ("method", "token", "storeId", "times") if view[name] not in (None, "*")
    )
    note("ecwid fault add", f"#{fault.id} {fault.spec.kind} {scope or 'every call'}".strip())
    return jsonify(view), 201


@bp.route("/faults", methods=["GET"])
def list_faults() -> Response:
    faults = current_state().ecwid_faults
    return jsonify({"faults": [f.to_json() for f in faults.all()], "maxSleepSeconds": faults.max_sleep_seconds})


@bp.route("/faults", methods=["DELETE"])
def clear_faults() -> Response:
    deleted = current_state().ecwid_faults.clear()
    note("ecwid fault delete", f"all ({deleted})")
    return jsonify({"deleted": deleted})


@bp.route("/faults/<int:fault_id>", methods=["DELETE"])
def delete_fault(fault_id: int) -> Response:
    note("ecwid fault delete", f"#{fault_id}")
    if not current_state().ecwid_faults.delete(fault_id):
        raise NotFound(f"unknown Ecwid fault {fault_id}")
    return jsonify({"deleted": 1})


@bp.route("/faults/settings", methods=["PUT"])
def put_fault_settings() -> Response:
    note("ecwid fault settings")
    body = _body()
    _reject_unknown(body, frozenset({"maxSleepSeconds"}))
    value = body.get("maxSleepSeconds")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_SLEEP_LIMIT_SECONDS:
        raise BadInput(f"maxSleepSeconds must be a number greater than 0 and at most {MAX_SLEEP_LIMIT_SECONDS:g}")
    faults = current_state().ecwid_faults
    faults.max_sleep_seconds = float(value)
    note("ecwid fault settings", f"maxSleepSeconds={value:g}")
    return jsonify({"maxSleepSeconds": faults.max_sleep_seconds})


# -- rate limit -----------------------------------------------------------------------------------------------


@bp.route("/rate-limit", methods=["GET"])
def get_rate_limit() -> Response:
    state = current_state()
    return jsonify(state.ecwid_rate.to_json(state.clock.now()))


@bp.route("/rate-limit", methods=["PUT"])
def put_rate_limit() -> Response:
    """``{"requestsPerMinute": 5}``: the new limit; every token's window starts afresh."""
    note("ecwid rate limit")
    body = _body()
    _reject_unknown(body, frozenset({"requestsPerMinute"}))
    limit = _int(body, "requestsPerMinute", 1, _MAX_RATE_LIMIT)
    if limit is None:
        raise BadInput("give requestsPerMinute")
    state = current_state()
    state.ecwid_rate.limit = limit
    note("ecwid rate limit", f"{limit} per minute per token")
    return jsonify(state.ecwid_rate.to_json(state.clock.now()))


# -- webhooks -------------------------------------------------------------------------------------------------


def _webhooks_json() -> dict[str, Any]:
    hooks = current_state().ecwid_webhooks
    return {**hooks.settings(), "deliveries": hooks.deliveries()}


@bp.route("/webhooks", methods=["GET"])
def get_webhooks() -> Response:
    return jsonify(_webhooks_json())


@bp.route("/webhooks", methods=["PUT"])
def put_webhooks() -> Response:
    """``{"url": "http://...", "storeId": 1003}`` (storeId optional: every store): webhooks on."""
    note("ecwid webhooks")
    body = _body()
    _reject_unknown(body, frozenset({"url", "storeId"}))
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise BadInput("url must be an http:// or https:// URL")
    store_id = _store(body, required=False)
    current_state().ecwid_webhooks.configure(url, store_id)
    note("ecwid webhooks", f"on -> {url}" + (f" for store {store_id}" if store_id is not None else ""))
    return jsonify(_webhooks_json())


@bp.route("/webhooks", methods=["DELETE"])
def delete_webhooks() -> Response:
    note("ecwid webhooks", "off")
    current_state().ecwid_webhooks.configure(None)
    return jsonify(_webhooks_json())


# -- order history --------------------------------------------------------------------------------------------


@bp.route("/orders/<int:store_id>/<path:ref>/history", methods=["GET"])
def order_history(store_id: int, ref: str) -> Response:
    state = current_state()
    order = state.ecwid.find(store_id, ref)
    if order is None:
        raise NotFound(f"unknown order {ref} in store {store_id}")
    return jsonify(
        {
            "storeId": order.store_id,
            "orderId": order.id,
            "internalId": order.internal_id,
            "referenceTransactionId": order.reference_transaction_id,
            "paymentStatus": order.payment_status,
            "history": state.ecwid.put_log(order),
        }
    )


# -- fake orders ----------------------------------------------------------------------------------------------


@bp.route("/orders/fake", methods=["POST"])
def create_fake_order() -> tuple[Response, int]:
    note("fake order")
    state = current_state()
    body = _body()
    _reject_unknown(body, _FAKE_FIELDS)
    store_id = _store(body, required=True)
    assert store_id is not None
    currency = body.get("currency", "AMD")
    if currency not in FAKE_CURRENCIES:
        raise BadInput(f"currency must be one of {', '.join(FAKE_CURRENCIES)}")
    lang = body.get("lang", "en")
    if lang not in LANGUAGES:
        raise BadInput(f"lang must be one of {', '.join(LANGUAGES)}")
    id_style = body.get("idStyle", "short")
    if id_style not in ID_STYLES:
        raise BadInput(f"idStyle must be one of {', '.join(ID_STYLES)}")
    total = body.get("total")
    if total is not None and (
        isinstance(total, bool) or not isinstance(total, int | float) or not math.isfinite(total) or total <= 0
    ):
        raise BadInput("total must be a positive number")
    seed = _int(body, "seed", 0, 2**31 - 1)
    made = fake_order(
        lang=lang,
        currency=currency,
        id_style=cast(IdStyle, id_style),
        seed=seed,
        serial=len(state.ecwid.all()) + 1,
        total=None if total is None else round(float(total), 2),
    )
    order_id = _odd_id(body, "id") or made.order_id
    reference = _odd_id(body, "referenceTransactionId") or made.reference_id
    store = state.config.store(store_id)
    assert store is not None
    try:
        order = state.ecwid.create(
            store_id=store_id,
            total=made.total,
            currency=currency,
            email=made.email,
            lang=lang,
            items=made.items,
            now=state.clock.now(),
            order_id=order_id,
            ip_address=made.ip_address,
            payment_module=f"CUSTOM_PAYMENT_APP-{store.app_client_id}",
            reference_id=reference,
            person=made.person,
        )
    except DuplicateOrderId as exc:
        raise Conflict(f"an order {exc} already exists in store {store_id}") from None
    note_orders(
        ecwidOrderId=order.id, internalId=order.internal_id, referenceTransactionId=order.reference_transaction_id
    )
    note("fake order", f"store={store_id} -> order {order.id} total={order.total} {order.currency}")
    payment = state.payment_request(store_id, order)
    checkout = f"{state.config.public_url}/store/{store_id}/orders/{quote(order.id, safe='')}/pay"
    return jsonify({"order": order.control_json(), "paymentRequest": payment.to_json(), "checkoutUrl": checkout}), 201
