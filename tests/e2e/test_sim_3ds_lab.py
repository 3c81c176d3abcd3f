"""The bank's awkward paths end to end over real sockets (the lab: gateway + simulator), no browser: a 3-D Secure
challenge answered at the ACS page, a failed challenge, an ACS page left open until the session ends, a pending
payment that the issuer resolves later, and an outcome decided through the control API. Time moves with
``POST /_control/clock/advance``; nothing sleeps to wait for the simulator."""

from __future__ import annotations

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
    with Lab(Path(tmp_path_factory.mktemp("bank-3ds"))) as running:
        yield running


@pytest.fixture(scope="module")
def sim(lab: Lab) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=lab.simulator_url, timeout=15) as client:
        yield client


def open_bank_page(sim: httpx.Client) -> dict[str, Any]:
    order = sim.post("/_control/ecwid/orders", json={"storeId": 1003, "total": 15000.0, "currency": "AMD"}).json()
    request = sim.post("/_control/ecwid/payment-request", json={"storeId": 1003, "orderId": order["id"]}).json()
    answer = httpx.post(request["paymentUrl"], data={"enc_data": request["enc_data"], "data": request["data"]})
    assert answer.status_code == 303
    form_url = answer.headers["location"]
    md_order = parse_qs(urlsplit(form_url).query)["mdOrder"][0]
    return {"order": order, "request": request, "form_url": form_url, "md_order": md_order}


def submit_card(flow: dict[str, Any], pan: str) -> httpx.Response:
    return httpx.post(flow["form_url"], data={"pan": pan, "expiry": "12/30", "cvc": "123", "cardholder": "ANI"})


def ecwid_status(sim: httpx.Client, flow: dict[str, Any]) -> str:
    status: str = sim.get(f"/_control/ecwid/orders/1003/{flow['order']['id']}").json()["paymentStatus"]
    return status


def bank_order(sim: httpx.Client, flow: dict[str, Any]) -> dict[str, Any]:
    order: dict[str, Any] = sim.get(f"/_control/vpos/orders/{flow['md_order']}").json()
    return order


def test_a_passed_challenge_pays_and_the_shop_sees_paid(sim: httpx.Client) -> None:
    flow = open_bank_page(sim)
    to_acs = submit_card(flow, "4000000000003220")
    assert to_acs.status_code == 302
    acs_url = to_acs.headers["location"]
    assert bank_order(sim, flow)["orderStatus"] == 5
    assert ecwid_status(sim, flow) == "INCOMPLETE"
    assert "Visa Secure" in httpx.get(acs_url).text
    back = httpx.post(acs_url, data={"action": "pass", "otp": "123456"})
    assert back.status_code == 302
    assert ecwid_status(sim, flow) == "PAID"  # the deposited callback reached the gateway before the redirect
    shop = httpx.get(back.headers["location"])
    assert shop.status_code == 303 and shop.headers["location"] == flow["request"]["returnUrl"]
    paid = bank_order(sim, flow)
    assert (paid["orderStatus"], paid["cardAuthInfo"]["secureAuthInfo"]) == (2, {"eci": 5})


def test_a_failed_challenge_sends_the_customer_back_to_checkout(sim: httpx.Client) -> None:
    flow = open_bank_page(sim)
    acs_url = submit_card(flow, "5555555555555599").headers["location"]
    back = httpx.post(acs_url, data={"action": "fail"})
    assert back.status_code == 302
    shop = httpx.get(back.headers["location"])
    assert shop.status_code == 303
    assert shop.headers["location"].startswith(flow["request"]["returnUrl"] + "&errorMsg=")
    assert ecwid_status(sim, flow) == "INCOMPLETE"
    assert (bank_order(sim, flow)["orderStatus"], bank_order(sim, flow)["actionCode"]) == (6, -2006)


def test_an_acs_page_left_open_is_declined_by_timeout(sim: httpx.Client) -> None:
    flow = open_bank_page(sim)
    acs_url = submit_card(flow, "4000000000003220").headers["location"]
    session = bank_order(sim, flow)["sessionTimeoutSecs"]
    sim.post("/_control/clock/advance", json={"seconds": session}).raise_for_status()
    expired = bank_order(sim, flow)
    assert (expired["orderStatus"], expired["actionCode"]) == (6, -2007)
    journal = sim.get("/_control/journal", params={"service": "vpos", "order": flow["md_order"]}).json()["entries"]
    callbacks = [e for e in journal if e["operation"] == "callback"]
    assert callbacks and callbacks[-1]["params"]["operation"] == "declinedByTimeout"
    assert callbacks[-1]["status"] == 200  # the gateway took it
    assert httpx.post(acs_url, data={"action": "pass", "otp": "123456"}).status_code == 409
    assert ecwid_status(sim, flow) == "INCOMPLETE"


def test_a_pending_payment_becomes_paid_when_the_issuer_answers(sim: httpx.Client) -> None:
    flow = open_bank_page(sim)
    back = submit_card(flow, "4000000000007015")
    assert back.status_code == 302 and bank_order(sim, flow)["orderStatus"] == 7
    assert ecwid_status(sim, flow) != "PAID"
    sim.post("/_control/clock/advance", json={"seconds": 60}).raise_for_status()
    assert bank_order(sim, flow)["orderStatus"] == 2
    assert ecwid_status(sim, flow) == "PAID"  # from the callback sent at resolution


def test_an_outcome_without_a_browser_reaches_the_shop(sim: httpx.Client) -> None:
    flow = open_bank_page(sim)
    held = sim.post(f"/_control/vpos/orders/{flow['md_order']}/outcome", json={"outcome": "hold3ds"}).json()
    assert held["orderStatus"] == 5
    paid = sim.post(f"/_control/vpos/orders/{flow['md_order']}/outcome", json={"outcome": "pay"}).json()
    assert (paid["orderStatus"], paid["callback"]["lastStatus"]) == (2, 200)
    assert ecwid_status(sim, flow) == "PAID"
