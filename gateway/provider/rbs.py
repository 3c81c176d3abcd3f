"""ArCa / BPC RBS adapter (protocols.md 2): form-encoded POSTs, ``errorCode`` as 0 or "0", per-currency credentials.

HTTP 200 says nothing about success: ``errorCode`` does. Credentials never leave this module except as request
parameters; errors carry the bank's code and message, never our parameters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from gateway.domain.confirmation import ProviderRefund, ProviderStatus
from gateway.domain.errors import ConfigurationError, ProviderError, ProviderUnavailable
from gateway.provider.port import Registered, Registration
from gateway.settings import ProviderCredentials

FORCE_3DS2 = json.dumps({"FORCE_3DS2": "true"})
STATUS_CARRYING_CODES = frozenset({"2"})


class RbsProvider:
    def __init__(self, http: httpx.Client, base_url: str, credentials: Mapping[str, ProviderCredentials]) -> None:
        self._http = http
        self._base = base_url if base_url.endswith("/") else base_url + "/"
        self._credentials = credentials

    def register(self, registration: Registration) -> Registered:
        params = {
            "orderNumber": registration.order_number,
            "amount": str(registration.amount.minor),
            "currency": registration.amount.numeric_currency,
            "returnUrl": registration.return_url,
            "failUrl": registration.fail_url,
            "description": registration.description,
            "language": registration.language,
            "pageView": registration.page_view,
            "jsonParams": FORCE_3DS2,
            "sessionTimeoutSecs": str(registration.session_timeout_s),
        }
        if registration.callback_url:
            params["dynamicCallbackUrl"] = registration.callback_url
        method = "registerPreAuth.do" if registration.two_phase else "register.do"
        body = self._call(method, params, registration.amount.currency)
        order_id, form_url = body.get("orderId"), body.get("formUrl")
        if not isinstance(order_id, str) or not isinstance(form_url, str) or not order_id or not form_url:
            raise ProviderUnavailable("register.do answered without orderId/formUrl")
        return Registered(provider_order_id=order_id, form_url=form_url)

    def deposit(self, provider_order_id: str, amount_minor: int, currency: str) -> None:
        _positive(amount_minor, "deposit")
        self._call("deposit.do", {"orderId": provider_order_id, "amount": str(amount_minor)}, currency)

    def reverse(self, provider_order_id: str, currency: str) -> None:
        self._call("reverse.do", {"orderId": provider_order_id}, currency)

    def refund(
        self,
        provider_order_id: str,
        amount_minor: int,
        currency: str,
        *,
        external_refund_id: str,
        expected_deposited_minor: int | None,
    ) -> None:
        _positive(amount_minor, "refund")
        params = {"orderId": provider_order_id, "amount": str(amount_minor), "externalRefundId": external_refund_id}
        if expected_deposited_minor is not None:
            params["expectedDepositedAmount"] = str(expected_deposited_minor)
        self._call("refund.do", params, currency)

    def decline(self, provider_order_id: str, order_number: str, currency: str) -> None:
        self._call("decline.do", {"orderId": provider_order_id, "orderNumber": order_number}, currency)

    def get_status(self, provider_order_id: str, currency: str, language: str = "en") -> ProviderStatus:
        return self._status({"orderId": provider_order_id}, currency, language)

    def find_by_order_number(self, order_number: str, currency: str, language: str = "en") -> ProviderStatus | None:
        """The status of the bank order registered under our ``orderNumber``, or None when the bank has none
        (errorCode 6, or no ``orderStatus``: protocols.md 2.9)."""
        try:
            return self._status({"orderNumber": order_number}, currency, language)
        except ProviderError as exc:
            if isinstance(exc, ProviderUnavailable) or exc.error_code != "6":
                raise
            return None
        except _NoOrderStatus:
            return None

    def _status(self, lookup: dict[str, str], currency: str, language: str) -> ProviderStatus:
        # errorCode 2 ("declined by payment credentials") still carries the order's status of record.
        body = self._call(
            "getOrderStatusExtended.do", {**lookup, "language": language}, currency, status_codes=STATUS_CARRYING_CODES
        )
        if body.get("orderStatus") is None and "orderNumber" in lookup:
            raise _NoOrderStatus
        try:
            order_status = int(body["orderStatus"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderUnavailable("getOrderStatusExtended.do answered without orderStatus") from exc
        currency_numeric = body.get("currency")
        card = body.get("cardAuthInfo") if isinstance(body.get("cardAuthInfo"), dict) else {}
        amounts = body.get("paymentAmountInfo") if isinstance(body.get("paymentAmountInfo"), dict) else {}
        return ProviderStatus(
            order_status=order_status,
            action_code=str(body.get("actionCode", "")),
            amount_minor=_minor(body.get("amount")),
            currency_numeric=str(currency_numeric).zfill(3) if currency_numeric is not None else None,
            order_number=str(body["orderNumber"]) if body.get("orderNumber") is not None else None,
            masked_pan=str(card.get("maskedPan")) if card and card.get("maskedPan") else None,
            deposited_minor=_minor(amounts.get("depositedAmount")) if amounts else None,
            refunded_minor=_refunded(amounts, body.get("refunds")),
            provider_order_id=lookup.get("orderId") or _attribute(body.get("attributes"), "mdOrder"),
            approved_minor=_minor(amounts.get("approvedAmount")) if amounts else None,
            payment_state=str(amounts["paymentState"]) if amounts and amounts.get("paymentState") else None,
            refunds=_refund_list(body.get("refunds")),
        )

    def _call(
        self, method: str, params: dict[str, str], currency: str, *, status_codes: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        creds = self._credentials.get(currency)
        if creds is None:
            raise ConfigurationError(f"no provider credentials for {currency}")
        form = {"userName": creds.user_name, "password": creds.password.get_secret_value(), **params}
        try:
            response = self._http.post(self._base + method, data=form)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(f"{method} timed out") from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"{method} unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise ProviderUnavailable(f"{method} answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderUnavailable(f"{method} answered non-JSON (HTTP {response.status_code})") from exc
        if not isinstance(body, dict):
            raise ProviderUnavailable(f"{method} answered a non-object")
        # A number or a string, missing on success, or capitalised in older shapes (protocols.md 2.2, 2.9).
        raw_code = body.get("errorCode", body.get("ErrorCode", "0"))
        error_code = str(raw_code if raw_code is not None else "0").strip() or "0"
        if error_code != "0" and not (error_code in status_codes and "orderStatus" in body):
            message = str(body.get("errorMessage", body.get("ErrorMessage", "")))[:200]
            if error_code == "7":
                # The bank answered, but "7" covers system errors and, for some methods, refusals: callers that
                # can tell them apart (refunds, by the bank's record) see the code.
                raise ProviderUnavailable(f"{method} system error: {message}", error_code="7")
            raise ProviderError(f"{method} errorCode {error_code}: {message}", error_code=error_code)
        return body


class _NoOrderStatus(Exception):
    """A lookup by orderNumber found no order (the answer has no orderStatus)."""


def _minor(value: Any) -> int | None:
    """An amount in minor units, as the bank sends it (number or digit string); None when absent or odd."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _positive(amount_minor: int, what: str) -> None:
    """The bank reads ``amount=0`` as "the whole order" (protocols.md 2.9): a 0 here is always a bug upstream."""
    if amount_minor <= 0:
        raise ValueError(f"{what} amount must be positive, got {amount_minor}")


_FAILED_REFUND_STATES = frozenset({"FAILED", "DECLINED", "ERROR", "REJECTED", "CANCELLED"})


def _refund_list(refunds: Any) -> tuple[ProviderRefund, ...] | None:
    """``refunds[]`` as typed entries; None when the response version has no such list. An entry counts as failed
    when it says so (a non-zero ``actionCode``, or a failed state/status); otherwise it is a refund the bank made."""
    if not isinstance(refunds, list):
        return None
    entries = []
    for item in refunds:
        if not isinstance(item, dict):
            continue
        action = str(item.get("actionCode", "0")).strip() or "0"
        state = str(item.get("state", item.get("status", item.get("refundStatus", "")))).strip().upper()
        failed = action != "0" or state in _FAILED_REFUND_STATES or item.get("approved") is False
        ref = item.get("externalRefundId")
        bank_id = item.get("refundId", item.get("referenceNumber", item.get("id")))
        entries.append(
            ProviderRefund(
                amount_minor=_minor(item.get("amount")),
                external_refund_id=str(ref) if ref not in (None, "") else None,
                bank_refund_id=str(bank_id)[:64] if bank_id not in (None, "") else None,
                succeeded=not failed,
            )
        )
    return tuple(entries)


def _refunded(amounts: Any, refunds: Any) -> int | None:
    """What the bank has refunded for good. ``refunds[]`` (version 5+) is the record: a refund the bank took and then
    failed is in it as failed and never counts; without it, ``paymentAmountInfo.refundedAmount`` (version 3+)."""
    entries = _refund_list(refunds)
    if entries:
        values = [r.amount_minor for r in entries if r.succeeded]
        if all(v is not None for v in values):
            return sum(v for v in values if v is not None)
    if isinstance(amounts, dict) and _minor(amounts.get("refundedAmount")) is not None:
        return _minor(amounts.get("refundedAmount"))
    return None


def _attribute(attributes: Any, name: str) -> str | None:
    """A value from the ``attributes`` list (``[{"name": "mdOrder", "value": "..."}]``)."""
    if not isinstance(attributes, list):
        return None
    for item in attributes:
        if isinstance(item, dict) and item.get("name") == name and isinstance(item.get("value"), str):
            return str(item["value"]) or None
    return None
