"""``register.do`` and ``registerPreAuth.do``: validating the merchant's parameters and creating a bank order
(protocols.md 2.3; the same parameters, a pre-authorised order is two-phase: paying it holds the money).

Checks, in order: mandatory parameters (errorCode 4), credentials (5), currency known (3), currency matches the
merchant's credentials (5), parameter values (5), orderNumber not yet registered by this merchant (1).
"""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

from simulator.config import KNOWN_CURRENCIES, SimulatorConfig, VposMerchant
from simulator.errors import RbsError
from simulator.vpos.orders import BankOrder, BankOrderBook, DuplicateOrderNumber

MANDATORY = ("userName", "password", "orderNumber", "amount", "returnUrl")
LANGUAGES = ("hy", "ru", "en")
PAGE_VIEWS = ("DESKTOP", "MOBILE")
DEFAULT_LANGUAGE = "en"
DEFAULT_SESSION_TIMEOUT_SECS = 1200
MAX_ORDER_NUMBER_LENGTH = 32

ACCESS_DENIED = "Access denied"


def authenticate(config: SimulatorConfig, params: Mapping[str, str]) -> VposMerchant:
    """The merchant whose ``userName``/``password`` these are; RbsError 5 otherwise (constant-time compare)."""
    user, password = params.get("userName", ""), params.get("password", "")
    for merchant in config.merchants:
        same_user = hmac.compare_digest(merchant.user_name.encode(), user.encode())
        same_password = hmac.compare_digest(merchant.password.encode(), password.encode())
        if same_user and same_password:
            return merchant
    raise RbsError(5, ACCESS_DENIED)


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _positive_int(value: str) -> int | None:
    if not value.isdigit() or not value.isascii():
        return None
    number = int(value)
    return number if number > 0 else None


def _json_params(raw: str) -> dict[str, str]:
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise RbsError(5, "jsonParams is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise RbsError(5, "jsonParams must be a JSON object")
    return {str(name): value if isinstance(value, str) else json.dumps(value) for name, value in parsed.items()}


def register_order(
    config: SimulatorConfig,
    book: BankOrderBook,
    params: Mapping[str, str],
    now: datetime,
    *,
    two_phase: bool = False,
) -> BankOrder:
    """Validate ``params`` like the bank does and store a new order (``two_phase``: registerPreAuth.do); raises
    RbsError with the bank's code."""
    missing = [name for name in MANDATORY if not params.get(name)]
    if missing:
        raise RbsError(4, f"Mandatory parameter is missing: {', '.join(missing)}")
    merchant = authenticate(config, params)
    currency = params.get("currency") or merchant.currency
    if currency.isdigit() and len(currency) < 3:
        currency = currency.zfill(3)  # an ISO 4217 numeric code sent as a number: 51 is 051 (AMD)
    if currency not in KNOWN_CURRENCIES:
        raise RbsError(3, "Unknown currency")
    if currency != merchant.currency:
        raise RbsError(5, ACCESS_DENIED)

    order_number = params["orderNumber"]
    if len(order_number) > MAX_ORDER_NUMBER_LENGTH:
        raise RbsError(5, f"orderNumber is longer than {MAX_ORDER_NUMBER_LENGTH} characters")
    amount = _positive_int(params["amount"])
    if amount is None:
        raise RbsError(5, "amount must be a positive integer in minor units")
    return_url = params["returnUrl"]
    if not _is_http_url(return_url):
        raise RbsError(5, "returnUrl is not a valid URL")
    fail_url = params.get("failUrl") or None
    if fail_url is not None and not _is_http_url(fail_url):
        raise RbsError(5, "failUrl is not a valid URL")
    callback_url = params.get("dynamicCallbackUrl") or None
    if callback_url is not None and not _is_http_url(callback_url):
        raise RbsError(5, "dynamicCallbackUrl is not a valid URL")
    language = params.get("language") or DEFAULT_LANGUAGE
    if language not in LANGUAGES:
        raise RbsError(5, "language must be one of hy, ru, en")
    page_view = params.get("pageView") or "DESKTOP"
    if page_view not in PAGE_VIEWS:
        raise RbsError(5, "pageView must be DESKTOP or MOBILE")
    json_params = _json_params(params["jsonParams"]) if params.get("jsonParams") else {}
    timeout_raw = params.get("sessionTimeoutSecs")
    timeout = _positive_int(timeout_raw) if timeout_raw else DEFAULT_SESSION_TIMEOUT_SECS
    if timeout is None:
        raise RbsError(5, "sessionTimeoutSecs must be a positive integer")

    order = BankOrder(
        md_order=str(uuid.uuid4()),
        merchant=merchant.user_name,
        order_number=order_number,
        amount=amount,
        currency=currency,
        return_url=return_url,
        fail_url=fail_url,
        language=language,
        page_view=page_view,
        json_params=json_params,
        description=params.get("description", ""),
        dynamic_callback_url=callback_url,
        session_timeout_secs=timeout,
        client_id=params.get("clientId") or None,
        created_at=now,
        two_phase=two_phase,
    )
    try:
        book.add(order)
    except DuplicateOrderNumber:
        raise RbsError(1, "Order with this number was already processed") from None
    return order
