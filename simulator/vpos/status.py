"""Order status responses of the bank: ``getOrderStatusExtended.do`` (2.5) and legacy ``getOrderStatus.do``."""

from __future__ import annotations

from typing import Any

from simulator.vpos.cards import ORDER_DEPOSITED, action_description
from simulator.vpos.orders import BankOrder

TERMINAL_ID = "98000001"


def extended_status(order: BankOrder, language: str) -> dict[str, Any]:
    """The full response of getOrderStatusExtended.do; ``errorCode`` is the STRING "0" as many banks send it."""
    deposited = order.deposited_amount
    body: dict[str, Any] = {
        "errorCode": "0",
        "errorMessage": "Success",
        "orderNumber": order.order_number,
        "orderStatus": order.order_status,
        "actionCode": order.action_code,
        "actionCodeDescription": action_description(order.action_code, language),
        "amount": order.amount,
        "currency": order.currency,
        "date": int(order.created_at.timestamp() * 1000),
        "orderDescription": order.description,
        "ip": order.ip or "",
        "merchantOrderParams": [{"name": name, "value": value} for name, value in order.json_params.items()],
        "attributes": [{"name": "mdOrder", "value": order.md_order}],
        "terminalId": TERMINAL_ID,
        "paymentAmountInfo": {
            "paymentState": order.payment_state,
            "approvedAmount": order.amount if order.order_status == ORDER_DEPOSITED else 0,
            "depositedAmount": deposited,
            "refundedAmount": 0,
        },
        "refunds": [],
    }
    if order.card is not None:
        body["cardAuthInfo"] = order.card.to_json()
        body["bankInfo"] = {"bankName": "SIMULATED BANK", "bankCountryCode": "AM", "bankCountryName": "Armenia"}
    if order.auth_at is not None:
        body["authDateTime"] = int(order.auth_at.timestamp() * 1000)
    if order.auth_ref_num is not None:
        body["authRefNum"] = order.auth_ref_num
    return body


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
        "Amount": order.amount,
        "currency": order.currency,
        "approvalCode": card.approval_code if card else "",
        "Ip": order.ip or "",
        "clientId": order.client_id or "",
    }
