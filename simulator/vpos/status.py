"""Order status responses of the bank: ``getOrderStatusExtended.do`` (2.5) and legacy ``getOrderStatus.do``.

``extended_status`` builds the simulator's own shape (``version=None``: the fields of response version 5) or the
shape of one per-merchant response version (protocols.md 2.9): ``paymentAmountInfo`` and ``bankInfo`` from v3,
``refunds[]`` from v5, ``chargeback`` from v6, ``refunds[].externalRefundId`` from v21, the 3DS2 fields of
``cardAuthInfo.secureAuthInfo`` (``threeDSProtocolVersion``...) from v30, ``displayErrorMessage`` from v33.
Error codes and their types are the API layer's business (``simulator.vpos.shapes``).

``amount`` and ``currency`` are the registered ones unless the control outcome ``pay`` made the bank report others
(``reportedAmount``, ``reportedCurrency``: a bank answer that disagrees with the order, for the gateway's amount
checks). ``paymentAmountInfo`` comes from the order (``approved_amount``, ``deposited_amount``: the deposited total,
which refunds do not lower, ``refunded_amount``: approved refunds only); ``refunds[]`` lists every accepted refund
(``simulator.vpos.orders.Refund``: ``refundId, date, amount, status APPROVED|FAILED, approved, actionCode,
approvalCode, referenceNumber`` and ``externalRefundId`` when given). The order's optional facts (chargeback,
3-D Secure protocol version) are read with ``getattr`` so this module follows the order book as it grows.
"""

from __future__ import annotations

import copy
from typing import Any

from simulator.vpos.cards import ORDER_DECLINED, action_description
from simulator.vpos.orders import BankOrder

TERMINAL_ID = "98000001"
BANK_INFO = {"bankName": "SIMULATED BANK", "bankCountryCode": "AM", "bankCountryName": "Armenia"}
THREE_DS2_FIELDS = ("threeDSProtocolVersion", "aresTransStatus", "rreqTransStatus")
"""``secureAuthInfo`` fields that exist from response version 30."""


def extended_status(order: BankOrder, language: str, version: int | None = None) -> dict[str, Any]:
    """The full response of getOrderStatusExtended.do; ``errorCode`` is the STRING "0" as many banks send it."""
    deposited = order.deposited_amount
    body: dict[str, Any] = {
        "errorCode": "0",
        "errorMessage": "Success",
        "orderNumber": order.order_number,
        "orderStatus": order.order_status,
        "actionCode": order.action_code,
        "actionCodeDescription": action_description(order.action_code, language),
        "amount": reported_amount(order),
        "currency": reported_currency(order),
        "date": int(order.created_at.timestamp() * 1000),
        "orderDescription": order.description,
        "ip": order.ip or "",
        "merchantOrderParams": [{"name": name, "value": value} for name, value in order.json_params.items()],
        "attributes": [{"name": "mdOrder", "value": order.md_order}],
        "terminalId": TERMINAL_ID,
        "paymentAmountInfo": {
            "paymentState": order.payment_state,
            "approvedAmount": order.approved_amount,
            "depositedAmount": deposited,
            "refundedAmount": _int_attribute(order, "refunded_amount"),
        },
        "refunds": _refunds(order),
    }
    if order.card is not None:
        body["cardAuthInfo"] = copy.deepcopy(order.card.to_json())
        body["bankInfo"] = dict(BANK_INFO)
    if order.auth_at is not None:
        body["authDateTime"] = int(order.auth_at.timestamp() * 1000)
    if order.auth_ref_num is not None:
        body["authRefNum"] = order.auth_ref_num
    return body if version is None else _as_version(body, order, language, version)


def reported_amount(order: BankOrder) -> int:
    """The ``amount`` the status answers carry: the registered one unless a control outcome made the bank report
    another (``reportedAmount``)."""
    return order.amount if order.reported_amount is None else order.reported_amount


def reported_currency(order: BankOrder) -> str:
    """The numeric ``currency`` the status answers carry (``reportedCurrency`` overrides the registered one)."""
    return order.currency if order.reported_currency is None else order.reported_currency


def _as_version(body: dict[str, Any], order: BankOrder, language: str, version: int) -> dict[str, Any]:
    if version < 3:
        body.pop("paymentAmountInfo", None)
        body.pop("bankInfo", None)
    if version < 5:
        body.pop("refunds", None)
    if version >= 6:
        body["chargeback"] = bool(getattr(order, "chargeback", False))
    if version < 21:
        for refund in body.get("refunds", []):
            refund.pop("externalRefundId", None)
    secure = body.get("cardAuthInfo", {}).get("secureAuthInfo")
    if isinstance(secure, dict):
        if version < 30:
            for name in THREE_DS2_FIELDS:
                secure.pop(name, None)
        else:
            protocol = _three_ds_protocol_version(order)
            if protocol is not None:
                secure["threeDSProtocolVersion"] = protocol
    if version >= 33 and order.order_status == ORDER_DECLINED:
        body["displayErrorMessage"] = action_description(order.action_code, language)
    return body


def _int_attribute(order: BankOrder, name: str) -> int:
    value = getattr(order, name, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _refunds(order: BankOrder) -> list[dict[str, Any]]:
    refunds = getattr(order, "refunds", None)
    if not isinstance(refunds, list | tuple):
        return []
    rendered: list[dict[str, Any]] = []
    for refund in refunds:
        to_json = getattr(refund, "to_json", None)
        data = to_json() if callable(to_json) else refund
        if isinstance(data, dict):
            rendered.append(copy.deepcopy(data))
    return rendered


def _three_ds_protocol_version(order: BankOrder) -> str | None:
    for source in (order, order.card):
        value = getattr(source, "three_ds_protocol_version", None)
        if isinstance(value, str) and value:
            return value
    return None


def legacy_status(order: BankOrder) -> dict[str, Any]:
    """getOrderStatus.do: the older method with capitalised keys."""
    card = order.card
    return {
        "ErrorCode": "0",
        "ErrorMessage": "Success",
        "OrderStatus": order.order_status,
        "OrderNumber": order.order_number,
        "Pan": card.masked_pan if card else "",
        "expiration": card.expiration if card else "",
        "cardholderName": card.cardholder_name if card else "",
        "Amount": reported_amount(order),
        "currency": reported_currency(order),
        "approvalCode": card.approval_code if card else "",
        "Ip": order.ip or "",
        "clientId": order.client_id or "",
    }
