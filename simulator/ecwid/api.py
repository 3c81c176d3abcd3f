"""Ecwid's REST API for orders: ``GET`` / ``PUT /api/v3/{storeId}/orders/{ref}`` (protocols.md 1.3).

``ref`` is the order ``id``, its numeric ``internalId`` or its ``referenceTransactionId`` (percent-encoded; it
may contain ``/``). Checks, in order: ``?token=`` in the query -> 403 (switched off by Ecwid on 2025-03-20); an
injected fault (``simulator.ecwid.faults``: 500, 503, 429, hang, 403 revoked, 402, 409); unknown store or
wrong/missing ``Authorization: Bearer`` -> 403 INVALID_API_TOKEN (an unknown store answers like a wrong token, as
the token belongs to the store); the rate limit (600/min per token on the virtual clock) -> 429 RATE_LIMITED with
``Retry-After``; PUT without a JSON body -> 415; unknown order -> 404 ORDER_NOT_FOUND; unknown status or a
non-string field -> 400 WRONG_PARAMETER; success -> 200 ``{"updateCount": 1}``.

Every PUT that names a known order is kept in its ``puts`` (accepted or refused, with the HTTP status); an accepted
PUT that changes paymentStatus fires the ``order.updated`` webhook when it is switched on
(``simulator.ecwid.webhooks``), in the background.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from simulator.config import EcwidStore
from simulator.ecwid.faults import EcwidFault, mask_token
from simulator.ecwid.orders import FULFILLMENT_STATUSES, PAYMENT_STATUSES, UPDATABLE_FIELDS, EcwidOrder
from simulator.errors import EcwidApiError
from simulator.state import SimulatorState, current_state
from simulator.web import note, note_orders

bp = Blueprint("ecwid_api", __name__, url_prefix="/api/v3")


def _bearer() -> str:
    """The Bearer token of the call ("" when there is none)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _refuse_with(state: SimulatorState, fault: EcwidFault, store_id: int, ref: str) -> None:
    """Answer with ``fault`` (raises); a hang first sleeps for real, longer than the client waits."""
    g.ecwid_fault = fault.id
    status, code, message = fault.answer()
    what = f"{fault.label()} -> {status} {code}"
    if fault.spec.kind == "hang":
        finished = state.ecwid_faults.sleep(fault)
        what = f"{fault.label()} -> {'hung' if finished else 'hang interrupted'}, then {status} {code}"
    if fault.spec.kind == "rate_limited":
        g.ecwid_retry_after = fault.spec.retry_after_seconds
        what += f" Retry-After {fault.spec.retry_after_seconds}"
    note(f"{request.method} order", f"store={store_id} ref={ref} {what}")
    raise EcwidApiError(status, code, message)


def _authorised_store(state: SimulatorState, store_id: int, ref: str) -> EcwidStore:
    if "token" in request.args:
        raise EcwidApiError(403, "INVALID_API_TOKEN", "Passing the access token in the query string is not supported")
    token = _bearer()
    fault = state.ecwid_faults.take(request.method, store_id, token)
    if fault is not None:
        _refuse_with(state, fault, store_id, ref)
    store = state.config.store(store_id)
    if store is None or not token:
        raise EcwidApiError(403, "INVALID_API_TOKEN", "Invalid or missing access token")
    if not hmac.compare_digest(token.encode(), store.token.encode()):
        raise EcwidApiError(403, "INVALID_API_TOKEN", "Invalid or missing access token")
    retry_after = state.ecwid_rate.admit(token, state.clock.now())
    if retry_after is not None:
        g.ecwid_retry_after = retry_after
        note(f"{request.method} order", f"store={store_id} ref={ref} rate limit -> 429 Retry-After {retry_after}")
        raise EcwidApiError(429, "RATE_LIMITED", "Too many requests: the limit is per token per minute")
    return store


def _order(state: SimulatorState, store_id: int, ref: str) -> EcwidOrder:
    order = state.ecwid.find(store_id, ref)
    if order is None:
        raise EcwidApiError(404, "ORDER_NOT_FOUND", f"Order {ref} not found")
    note_orders(
        ecwidOrderId=order.id, internalId=order.internal_id, referenceTransactionId=order.reference_transaction_id
    )
    return order


def _validated_fields(body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        raise EcwidApiError(400, "WRONG_PARAMETER", "The request body must be a JSON object")
    fields: dict[str, str] = {}
    for name in UPDATABLE_FIELDS:
        if name not in body or body[name] is None:
            continue
        value = body[name]
        if not isinstance(value, str):
            raise EcwidApiError(400, "WRONG_PARAMETER", f"{name} must be a string")
        fields[name] = value
    if "paymentStatus" in fields and fields["paymentStatus"] not in PAYMENT_STATUSES:
        raise EcwidApiError(400, "WRONG_PARAMETER", f"Unknown paymentStatus: {fields['paymentStatus']}")
    if "fulfillmentStatus" in fields and fields["fulfillmentStatus"] not in FULFILLMENT_STATUSES:
        raise EcwidApiError(400, "WRONG_PARAMETER", f"Unknown fulfillmentStatus: {fields['fulfillmentStatus']}")
    return fields


@bp.route("/<int:store_id>/orders/<path:ref>", methods=["GET"])
def get_order(store_id: int, ref: str) -> Response:
    note("GET order", f"store={store_id} ref={ref}")
    state = current_state()
    _authorised_store(state, store_id, ref)
    return jsonify(_order(state, store_id, ref).to_json())


@bp.route("/<int:store_id>/orders/<path:ref>", methods=["PUT"])
def put_order(store_id: int, ref: str) -> Response:
    note("PUT order", f"store={store_id} ref={ref}")
    state = current_state()
    store = _authorised_store(state, store_id, ref)
    if request.mimetype != "application/json":
        raise EcwidApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
    order = _order(state, store_id, ref)
    body = request.get_json(silent=True)
    if body is None:
        raise EcwidApiError(400, "WRONG_PARAMETER", "The request body is not valid JSON")
    fields = _validated_fields(body)
    now = state.clock.now()
    meta = {"ref": ref, "app": store.app_client_id, "token": mask_token(_bearer()), "fault": None}
    old_status = state.ecwid.update(order, fields, now, meta=meta)
    g.ecwid_put_recorded = True
    changes = " ".join(f"{name}={value}" for name, value in fields.items() if name != "privateAdminNotes")
    note("PUT order", f"store={store_id} order={order.id} {changes} -> updateCount 1")
    state.ecwid_webhooks.order_updated(
        store_id=store_id,
        client_secret=store.client_secret,
        order_id=order.id,
        internal_id=order.internal_id,
        old_status=old_status,
        new_status=order.payment_status,
        now=now,
    )
    return jsonify({"updateCount": 1})


@bp.after_request
def _after(response: Response) -> Response:
    """``Retry-After`` on a 429; a refused PUT of a known order goes into its ``puts``."""
    retry_after = g.pop("ecwid_retry_after", None)
    if response.status_code == 429 and retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    if request.method != "PUT" or g.pop("ecwid_put_recorded", False) or response.status_code < 400:
        return response
    args = request.view_args or {}
    state = current_state()
    order = state.ecwid.find(int(args.get("store_id", -1)), str(args.get("ref", "")))
    if order is None:
        return response
    body = request.get_json(silent=True) if request.is_json else None
    answer = response.get_json(silent=True) if response.is_json else None
    token = _bearer()
    store = state.config.store(order.store_id)
    state.ecwid.record_refused(
        order,
        {k: v for k, v in body.items() if isinstance(v, str | int | float | bool) or v is None}
        if isinstance(body, dict)
        else {},
        state.clock.now(),
        http_status=response.status_code,
        error_code=str(answer.get("errorCode", "")) if isinstance(answer, dict) else "",
        ref=str(args.get("ref", "")),
        app=store.app_client_id
        if store is not None and token and hmac.compare_digest(store.token.encode(), token.encode())
        else None,
        token=mask_token(token) if token else None,
        fault=g.pop("ecwid_fault", None),
    )
    return response
