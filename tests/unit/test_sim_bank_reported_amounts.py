"""A bank that reports other amounts than the order's: the control outcome ``pay`` with ``reportedAmount`` /
``reportedCurrency`` makes the status answers (getOrderStatusExtended.do, getOrderStatus.do) and the payment's
callback carry those instead of the registered amount and currency; ``approvedAmount`` is a partial authorisation
(``paymentAmountInfo.approvedAmount`` and ``depositedAmount`` that much). The registration itself never changes,
and every other outcome refuses these fields."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.validation.request.exceptions import RequestValidationError
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from simulator.control.openapi_api import openapi_document
from tests.sim_bank_fakes import Merchant, control_order, rbs, register, register_pre_auth, status
from tests.sim_bank_fakes import app as app
from tests.sim_bank_fakes import client as client
from tests.sim_bank_fakes import merchant as merchant


def outcome(client: FlaskClient, md_order: str, expected: int = 200, **body: Any) -> dict[str, Any]:
    response = client.post(f"/_control/vpos/orders/{md_order}/outcome", json=body)
    assert response.status_code == expected, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def test_reported_amount_replaces_the_amount_in_every_status_answer(client: FlaskClient, merchant: Merchant) -> None:
    md_order = register(client)["orderId"]
    outcome(client, md_order, outcome="pay", reportedAmount=1499999)
    body = status(client, md_order)
    assert (body["orderStatus"], body["amount"], body["currency"]) == (2, 1499999, "051")
    assert rbs(client, "getOrderStatus.do", orderId=md_order)["Amount"] == 1499999
    order = control_order(client, md_order)
    assert order["amount"] == 1500000  # what was registered stays as it was
    assert order["reported"] == {"amount": 1499999, "currency": None, "approvedAmount": None}
    assert merchant.calls[-1]["amount"] == "1499999"


def test_reported_currency_replaces_the_currency(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    outcome(client, md_order, outcome="pay", reportedCurrency="840")
    body = status(client, md_order)
    assert (body["amount"], body["currency"]) == (1500000, "840")
    assert rbs(client, "getOrderStatus.do", orderId=md_order)["currency"] == "840"
    assert control_order(client, md_order)["currency"] == "051"


def test_approved_amount_is_a_partial_authorisation(client: FlaskClient, merchant: Merchant) -> None:
    md_order = register(client)["orderId"]
    outcome(client, md_order, outcome="pay", approvedAmount=1000000)
    body = status(client, md_order)
    assert (body["orderStatus"], body["amount"], body["currency"]) == (2, 1500000, "051")
    info = body["paymentAmountInfo"]
    assert (info["approvedAmount"], info["depositedAmount"]) == (1000000, 1000000)
    assert control_order(client, md_order)["reported"] == {"amount": None, "currency": None, "approvedAmount": 1000000}
    assert merchant.calls[-1]["amount"] == "1000000"


def test_a_partial_authorisation_of_a_two_phase_order_holds_that_much(client: FlaskClient) -> None:
    md_order = register_pre_auth(client)["orderId"]
    outcome(client, md_order, outcome="pay", approvedAmount=700000)
    body = status(client, md_order)
    assert body["orderStatus"] == 1
    assert (body["paymentAmountInfo"]["approvedAmount"], body["paymentAmountInfo"]["depositedAmount"]) == (700000, 0)


def test_a_plain_payment_reports_the_registration(client: FlaskClient) -> None:
    md_order = register(client)["orderId"]
    outcome(client, md_order, outcome="pay")
    body = status(client, md_order)
    assert (body["amount"], body["currency"]) == (1500000, "051")
    info = body["paymentAmountInfo"]
    assert (info["approvedAmount"], info["depositedAmount"]) == (1500000, 1500000)
    assert control_order(client, md_order)["reported"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"reportedAmount": 0},
        {"reportedAmount": -5},
        {"reportedAmount": "100"},
        {"reportedAmount": 1.5},
        {"reportedAmount": True},
        {"reportedCurrency": 840},
        {"reportedCurrency": "USD"},
        {"reportedCurrency": "8400"},
        {"approvedAmount": 0},
        {"approvedAmount": 1500000},  # not partial
        {"approvedAmount": 2000000},
    ],
)
def test_bad_reported_fields_are_refused_and_change_nothing(client: FlaskClient, body: dict[str, Any]) -> None:
    md_order = register(client)["orderId"]
    answer = outcome(client, md_order, 400, outcome="pay", **body)
    assert answer["error"] == "bad_input"
    assert control_order(client, md_order)["orderStatus"] == 0


@pytest.mark.parametrize("name", ["decline", "hold3ds", "pending", "expire"])
def test_only_pay_takes_reported_fields(client: FlaskClient, name: str) -> None:
    md_order = register(client)["orderId"]
    outcome(client, md_order, 400, outcome=name, reportedAmount=100)
    assert control_order(client, md_order)["orderStatus"] == 0


# -- the control API's document says the same ---------------------------------------------------------------------


@cache
def _openapi() -> OpenAPI:
    return OpenAPI.from_dict(openapi_document())


def _checked_outcome(client: FlaskClient, md_order: str, body: dict[str, Any], status: int, *, valid: bool) -> None:
    """Post the outcome, then validate the request (valid, or refused by the document too) and the answer against
    ``simulator/control/openapi.json``."""
    openapi = _openapi()
    path = f"/_control/vpos/orders/{md_order}/outcome"
    response = client.post(path, json=body)
    assert response.status_code == status, response.get_json()
    request = WerkzeugOpenAPIRequest(Request(EnvironBuilder(path, method="POST", json=body).get_environ()))
    if valid:
        openapi.validate_request(request)
    else:
        with pytest.raises(RequestValidationError):
            openapi.validate_request(request)
    openapi.validate_response(request, WerkzeugOpenAPIResponse(response))


def test_the_documented_request_and_answer_match(client: FlaskClient) -> None:
    for number, fields in enumerate(
        [{"reportedAmount": 100, "reportedCurrency": "840"}, {"approvedAmount": 7}, {"eci": 5, "reportedAmount": 1}]
    ):
        md_order = register(client, f"D-{number}")["orderId"]
        _checked_outcome(client, md_order, {"outcome": "pay", **fields}, 200, valid=True)
        order = client.get(f"/_control/vpos/orders/{md_order}")
        openapi = _openapi()
        request = WerkzeugOpenAPIRequest(Request(EnvironBuilder(f"/_control/vpos/orders/{md_order}").get_environ()))
        openapi.validate_response(request, WerkzeugOpenAPIResponse(order))
    md_order = register(client, "D-bad")["orderId"]
    _checked_outcome(client, md_order, {"outcome": "pay", "reportedCurrency": "USD"}, 400, valid=False)
    _checked_outcome(client, md_order, {"outcome": "decline", "reportedAmount": 5}, 400, valid=False)
