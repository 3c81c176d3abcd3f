"""Ecwid's REST API for orders: ``GET`` / ``PUT /api/v3/{storeId}/orders/{ref}`` (protocols.md 1.3).

``ref`` is the order ``id``, its numeric ``internalId`` or its ``referenceTransactionId``. Checks, in order:
``?token=`` in the query -> 403 (switched off by Ecwid on 2025-03-20); unknown store or wrong/missing
``Authorization: Bearer`` -> 403 INVALID_API_TOKEN (an unknown store answers like a wrong token, as the token
belongs to the store); PUT without a JSON body -> 415; unknown order -> 404 ORDER_NOT_FOUND; unknown status or a
non-string field -> 400 WRONG_PARAMETER; success -> 200 ``{"updateCount": 1}``.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, jsonify, request

from simulator.config import EcwidStore
from simulator.ecwid.orders import FULFILLMENT_STATUSES, PAYMENT_STATUSES, UPDATABLE_FIELDS, EcwidOrder
from simulator.errors import EcwidApiError
from simulator.state import SimulatorState, current_state
from simulator.web import note, note_orders

bp = Blueprint("ecwid_api", __name__, url_prefix="/api/v3")


def _authorised_store(state: SimulatorState, store_id: int) -> EcwidStore:
    if "token" in request.args:
        raise EcwidApiError(403, "INVALID_API_TOKEN", "Passing the access token in the query string is not supported")
    store = state.config.store(store_id)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if store is None or scheme.lower() != "bearer" or not token:
        raise EcwidApiError(403, "INVALID_API_TOKEN", "Invalid or missing access token")
    if not hmac.compare_digest(token.strip().encode(), store.token.encode()):
        raise EcwidApiError(403, "INVALID_API_TOKEN", "Invalid or missing access token")
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


@bp.route("/<int:store_id>/orders/<ref>", methods=["GET"])
def get_order(store_id: int, ref: str) -> Response:
    note("GET order", f"store={store_id} ref={ref}")
    state = current_state()
    _authorised_store(state, store_id)
    return jsonify(_order(state, store_id, ref).to_json())


@bp.route("/<int:store_id>/orders/<ref>", methods=["PUT"])
def put_order(store_id: int, ref: str) -> Response:
    note("PUT order", f"store={store_id} ref={ref}")
    state = current_state()
    _authorised_store(state, store_id)
    if request.mimetype != "application/json":
        raise EcwidApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
    order = _order(state, store_id, ref)
    body = request.get_json(silent=True)
    if body is None:
        raise EcwidApiError(400, "WRONG_PARAMETER", "The request body is not valid JSON")
    fields = _validated_fields(body)
    state.ecwid.update(order, fields, state.clock.now())
    changes = " ".join(f"{name}={value}" for name, value in fields.items() if name != "privateAdminNotes")
    note("PUT order", f"store={store_id} order={order.id} {changes} -> updateCount 1")
    return jsonify({"updateCount": 1})
