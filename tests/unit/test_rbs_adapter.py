"""The ArCa/RBS adapter against an in-memory bank (httpx.MockTransport): parameters, units, errorCode handling."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from gateway.domain.errors import ConfigurationError, ProviderError, ProviderUnavailable
from gateway.domain.money import Money
from gateway.provider.port import Registration
from gateway.provider.rbs import RbsProvider
from gateway.settings import ProviderCredentials

BASE = "https://bank.test/payment/rest/"
CREDS = {
    "AMD": ProviderCredentials(user_name="amd_api", password=SecretStr("amd-pass")),
    "USD": ProviderCredentials(user_name="usd_api", password=SecretStr("usd-pass")),
}
Handler = Callable[[httpx.Request], httpx.Response]


def provider(handler: Handler) -> RbsProvider:
    return RbsProvider(httpx.Client(transport=httpx.MockTransport(handler)), BASE, CREDS)


def form_of(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def registration(amount: Money) -> Registration:
    return Registration(
        order_number="V123",
        amount=amount,
        return_url="https://gw/r?attempt=V123",
        fail_url="https://gw/r?attempt=V123",
        description="Order XJ12H",
        language="hy",
        page_view="MOBILE",
        session_timeout_s=1200,
        callback_url="https://gw/vpos/callback",
    )


def test_register_sends_minor_units_numeric_currency_and_the_currency_credentials() -> None:
    seen: list[httpx.Request] = []

    def bank(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"orderId": "md-1", "formUrl": "https://bank.test/pay?mdOrder=md-1", "errorCode": 0}
        )

    result = provider(bank).register(registration(Money.from_major(Decimal("2014.97"), "USD")))
    assert (result.provider_order_id, result.form_url) == ("md-1", "https://bank.test/pay?mdOrder=md-1")
    request = seen[0]
    assert str(request.url) == BASE + "register.do"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = form_of(request)
    assert form["amount"] == "201497" and form["currency"] == "840"
    assert (form["userName"], form["password"]) == ("usd_api", "usd-pass")
    assert json.loads(form["jsonParams"]) == {"FORCE_3DS2": "true"}
    assert form["pageView"] == "MOBILE" and form["language"] == "hy"
    assert form["dynamicCallbackUrl"] == "https://gw/vpos/callback"


@pytest.mark.parametrize("code", [0, "0"])
def test_status_accepts_error_code_zero_as_number_or_string(code: object) -> None:
    def bank(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "errorCode": code,
                "orderStatus": 2,
                "actionCode": 0,
                "amount": 1500000,
                "currency": "051",
                "cardAuthInfo": {"maskedPan": "424242**4242"},
            },
        )

    status = provider(bank).get_status("md-1", "AMD")
    assert (status.order_status, status.amount_minor, status.currency_numeric) == (2, 1500000, "051")
    assert status.action_code == "0" and status.masked_pan == "424242**4242"


def test_status_with_error_code_2_still_reports_the_declined_order() -> None:
    def bank(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "errorCode": "2",
                "errorMessage": "declined",
                "orderStatus": 6,
                "actionCode": 116,
                "amount": 1500000,
                "currency": "051",
            },
        )

    status = provider(bank).get_status("md-1", "AMD")
    assert (status.order_status, status.action_code) == (6, "116")


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(200, json={"errorCode": "6", "errorMessage": "unknown order"}), ProviderError),
        (httpx.Response(200, json={"errorCode": "5", "errorMessage": "access denied"}), ProviderError),
        (httpx.Response(200, json={"errorCode": "7", "errorMessage": "system error"}), ProviderUnavailable),
        (httpx.Response(503, text="busy"), ProviderUnavailable),
        (httpx.Response(200, text="<html>maintenance</html>"), ProviderUnavailable),
        (httpx.Response(200, json=["not", "an", "object"]), ProviderUnavailable),
        (httpx.Response(200, json={"errorCode": "0"}), ProviderUnavailable),  # no orderStatus
    ],
)
def test_status_errors_are_typed(response: httpx.Response, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        provider(lambda request: response).get_status("md-1", "AMD")
    assert "amd-pass" not in str(caught.value)


def test_refusal_carries_the_bank_error_code_and_never_the_password() -> None:
    def bank(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"errorCode": "1", "errorMessage": "Order number already used"})

    with pytest.raises(ProviderError) as caught:
        provider(bank).register(registration(Money(1500000, "AMD")))
    assert caught.value.error_code == "1"
    assert not isinstance(caught.value, ProviderUnavailable)
    assert "amd-pass" not in str(caught.value)


def test_register_without_form_url_is_unavailable_not_success() -> None:
    def bank(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"orderId": "md-1", "errorCode": 0})

    with pytest.raises(ProviderUnavailable):
        provider(bank).register(registration(Money(1500000, "AMD")))


def test_timeout_and_connection_errors_are_unavailable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for handler in (slow, down):
        with pytest.raises(ProviderUnavailable):
            provider(handler).get_status("md-1", "AMD")


def test_currency_without_credentials_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        provider(lambda request: httpx.Response(200, json={})).get_status("md-1", "EUR")


# --- amounts after the payment and lookups by orderNumber (issue 5.11, 5.12) --------------------------------------


def status_body(**fields: object) -> dict[str, object]:
    body: dict[str, object] = {"errorCode": "0", "orderStatus": 4, "amount": 1500000, "currency": "051"}
    body.update(fields)
    return body


def answering(body: dict[str, object], seen: list[dict[str, str]] | None = None) -> RbsProvider:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(form_of(request))
        return httpx.Response(200, json=body)

    return provider(handler)


def test_status_reads_deposited_and_refunded_amounts_from_payment_amount_info() -> None:
    body = status_body(paymentAmountInfo={"depositedAmount": 1500000, "refundedAmount": "500000"})
    status = answering(body).get_status("md-1", "AMD")
    assert (status.deposited_minor, status.refunded_minor) == (1500000, 500000)


def test_status_sums_refunds_when_payment_amount_info_is_missing() -> None:
    body = status_body(refunds=[{"amount": 100000}, {"amount": "250000"}])
    status = answering(body).get_status("md-1", "AMD")
    assert (status.deposited_minor, status.refunded_minor) == (None, 350000)


@pytest.mark.parametrize("extra", [{}, {"paymentAmountInfo": "odd"}, {"refunds": [{"amount": "x"}]}])
def test_status_without_usable_refund_amounts_says_none(extra: dict[str, object]) -> None:
    status = answering(status_body(**extra)).get_status("md-1", "AMD")
    assert status.refunded_minor is None


def test_lookup_by_order_number_names_the_mdorder_from_attributes() -> None:
    seen: list[dict[str, str]] = []
    body = status_body(orderStatus=0, attributes=[{"name": "mdOrder", "value": "md-42"}])
    status = answering(body, seen).find_by_order_number("V123", "AMD", "hy")
    assert status is not None and (status.order_status, status.provider_order_id) == (0, "md-42")
    assert seen[0]["orderNumber"] == "V123" and "orderId" not in seen[0]
    assert seen[0]["userName"] == "amd_api"


@pytest.mark.parametrize(
    "body",
    [
        {"errorCode": "6", "errorMessage": "Order not found"},
        {"errorCode": 6, "errorMessage": "Order not found"},
        {"errorCode": "0", "errorMessage": "Success"},  # orderStatus absent: not found (protocols.md 2.9)
    ],
)
def test_lookup_by_order_number_of_an_order_the_bank_never_registered_is_none(body: dict[str, object]) -> None:
    assert answering(body).find_by_order_number("V123", "AMD") is None


@pytest.mark.parametrize(
    ("body", "error"),
    [({"errorCode": "5", "errorMessage": "Access denied"}, ProviderError), ({"errorCode": "7"}, ProviderUnavailable)],
)
def test_lookup_by_order_number_that_cannot_tell_raises(body: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        answering(body).find_by_order_number("V123", "AMD")


@pytest.mark.parametrize(
    "shape",
    [{"errorCode": 0}, {"errorCode": "0"}, {}, {"errorCode": None}, {"ErrorCode": "0"}],
    ids=["number", "string", "missing", "null", "capitalised"],
)
def test_every_success_shape_banks_send_is_accepted(shape: dict[str, object]) -> None:
    body = {"orderStatus": 2, "amount": 1500000, "currency": "051", **shape}
    assert answering(body).get_status("md-1", "AMD").order_status == 2


def test_a_capitalised_error_is_still_an_error() -> None:
    with pytest.raises(ProviderError, match="Access denied"):
        answering({"ErrorCode": "5", "ErrorMessage": "Access denied"}).get_status("md-1", "AMD")
