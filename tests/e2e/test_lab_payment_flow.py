"""End to end over real sockets: the gateway against the simulator (an independent implementation of Ecwid's
encrypted request and of the bank's signed callbacks), no browser. The browser flows live in features/."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from lab import Lab

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with Lab(Path(tmp_path_factory.mktemp("e2e"))) as running:
        yield running


@pytest.fixture(scope="module")
def sim(lab: Lab) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=lab.simulator_url, timeout=15) as client:
        yield client


def _open_bank_page(sim: httpx.Client, total: float = 15000.0, currency: str = "AMD") -> dict[str, Any]:
    order = sim.post("/_control/ecwid/orders", json={"storeId": 1003, "total": total, "currency": currency}).json()
    request = sim.post("/_control/ecwid/payment-request", json={"storeId": 1003, "orderId": order["id"]}).json()
    answer = httpx.post(request["paymentUrl"], data={"enc_data": request["enc_data"], "data": request["data"]})
    assert answer.status_code == 303
    form_url = answer.headers["location"]
    md_order = parse_qs(urlsplit(form_url).query)["mdOrder"][0]
    return {"order": order, "request": request, "form_url": form_url, "md_order": md_order}


def _ecwid_status(sim: httpx.Client, order_id: str) -> str:
    status: str = sim.get(f"/_control/ecwid/orders/1003/{order_id}").json()["paymentStatus"]
    return status


def _set_callbacks(sim: httpx.Client, mode: str) -> None:
    sim.put("/_control/vpos/callbacks", json={"mode": mode}).raise_for_status()


def test_gcm_request_from_the_simulator_registers_the_exact_amount(sim: httpx.Client) -> None:
    flow = _open_bank_page(sim, total=2014.97, currency="USD")
    bank_order = sim.get(f"/_control/vpos/orders/{flow['md_order']}").json()
    assert (bank_order["amount"], bank_order["currency"]) == (201497, "840")
    assert bank_order["jsonParams"] == {"FORCE_3DS2": "true"}
    assert bank_order["pageView"] == "DESKTOP"


def test_cbc_only_request_is_accepted(sim: httpx.Client) -> None:
    order = sim.post("/_control/ecwid/orders", json={"storeId": 1003, "total": 500.0, "currency": "AMD"}).json()
    request = sim.post("/_control/ecwid/payment-request", json={"storeId": 1003, "orderId": order["id"]}).json()
    answer = httpx.post(request["paymentUrl"], data={"data": request["data"]})
    assert answer.status_code == 303
    assert "mdOrder=" in answer.headers["location"]


def test_signed_callback_from_the_bank_marks_paid_before_the_customer_returns(sim: httpx.Client) -> None:
    _set_callbacks(sim, "immediate")
    flow = _open_bank_page(sim)
    paid = sim.post(
        f"/_control/vpos/orders/{flow['md_order']}/pay", json={"pan": "4242424242424242", "expiry": "12/30"}
    ).json()
    assert paid["callback"]["lastStatus"] == 200  # the gateway accepted the simulator's checksum
    assert _ecwid_status(sim, flow["order"]["id"]) == "PAID"  # before any return visit


def test_customer_return_confirms_with_the_bank_when_no_callback_comes(sim: httpx.Client) -> None:
    _set_callbacks(sim, "none")
    try:
        flow = _open_bank_page(sim)
        paid = sim.post(
            f"/_control/vpos/orders/{flow['md_order']}/pay", json={"pan": "4242424242424242", "expiry": "12/30"}
        ).json()
        assert _ecwid_status(sim, flow["order"]["id"]) == "INCOMPLETE"
        back = httpx.get(paid["redirectUrl"])
        assert back.status_code == 303
        assert back.headers["location"] == flow["request"]["returnUrl"]  # exactly as received
        assert _ecwid_status(sim, flow["order"]["id"]) == "PAID"
    finally:
        _set_callbacks(sim, "immediate")


def test_declined_card_returns_to_checkout_with_a_message_and_incomplete(sim: httpx.Client) -> None:
    flow = _open_bank_page(sim)
    paid = sim.post(
        f"/_control/vpos/orders/{flow['md_order']}/pay", json={"pan": "4000000000009995", "expiry": "12/30"}
    ).json()
    back = httpx.get(paid["redirectUrl"])
    assert back.status_code == 303
    location = back.headers["location"]
    assert location.startswith(flow["request"]["returnUrl"] + "&errorMsg=")
    assert "insufficient%20funds" in location
    assert _ecwid_status(sim, flow["order"]["id"]) == "INCOMPLETE"


def _callback_params(lab: Lab, flow: dict[str, Any], sim: httpx.Client) -> dict[str, str]:
    bank_order = sim.get(f"/_control/vpos/orders/{flow['md_order']}").json()
    params = {
        "mdOrder": flow["md_order"],
        "orderNumber": bank_order["orderNumber"],
        "operation": "deposited",
        "status": "1",
        "amount": str(bank_order["amount"]),
    }
    text = "".join(f"{k};{params[k]};" for k in sorted(params))
    params["checksum"] = hmac.new(lab.secrets.callback_key.encode(), text.encode(), hashlib.sha256).hexdigest()
    return params


def test_lower_case_checksum_and_post_form_are_accepted(lab: Lab, sim: httpx.Client) -> None:
    _set_callbacks(sim, "none")
    try:
        flow = _open_bank_page(sim)
        sim.post(f"/_control/vpos/orders/{flow['md_order']}/pay", json={"pan": "4242424242424242", "expiry": "12/30"})
        params = _callback_params(lab, flow, sim)  # hexdigest() is lower case; the bank sends upper
        answer = httpx.post(lab.callback_url, data=params)
        assert answer.status_code == 200
        assert _ecwid_status(sim, flow["order"]["id"]) == "PAID"
    finally:
        _set_callbacks(sim, "immediate")


def test_tampered_callback_is_refused_and_changes_nothing(lab: Lab, sim: httpx.Client) -> None:
    flow = _open_bank_page(sim)
    params = _callback_params(lab, flow, sim)
    params["amount"] = "100"
    answer = httpx.get(lab.callback_url, params=params)
    assert answer.status_code == 400
    assert _ecwid_status(sim, flow["order"]["id"]) == "INCOMPLETE"


def test_mobile_user_agent_registers_the_mobile_bank_page(sim: httpx.Client) -> None:
    order = sim.post("/_control/ecwid/orders", json={"storeId": 1003, "total": 900.0, "currency": "AMD"}).json()
    request = sim.post("/_control/ecwid/payment-request", json={"storeId": 1003, "orderId": order["id"]}).json()
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
    answer = httpx.post(request["paymentUrl"], data={"enc_data": request["enc_data"]}, headers={"User-Agent": iphone})
    md_order = parse_qs(urlsplit(answer.headers["location"]).query)["mdOrder"][0]
    assert sim.get(f"/_control/vpos/orders/{md_order}").json()["pageView"] == "MOBILE"
