"""Bank API faults over a real socket, seen by an httpx client as a gateway sees them: a dropped connection is a
transport error (never an HTTP 500), a hang is a read timeout, and the server keeps serving afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app, get_state
from simulator.testing import ServerThread

pytestmark = pytest.mark.e2e

CREDS = {"userName": "shop_amd", "password": "pw-amd"}


@pytest.fixture
def simulator() -> Iterator[tuple[Any, str]]:
    config = SimulatorConfig(
        public_url="http://placeholder",
        payment_url="http://placeholder/pay",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", "secret_token_1003"),),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
    )
    app = create_app(config)
    with ServerThread(app) as server:
        get_state(app).reconfigure(public_url=server.url, payment_url=f"{server.url}/pay")
        yield app, server.url
        get_state(app).reset()  # never leave a request thread sleeping


def register_form(number: str) -> dict[str, str]:
    return {**CREDS, "orderNumber": number, "amount": "250000", "returnUrl": "http://gw.test/return"}


def add_fault(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/_control/vpos/faults", json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    assert isinstance(data, dict)
    return data


def test_a_dropped_connection_is_a_transport_error_and_the_server_keeps_serving(
    simulator: tuple[Any, str],
) -> None:
    app, url = simulator
    with httpx.Client(base_url=url, timeout=5) as http:
        add_fault(http, method="register.do", fault="drop", times=1)
        started = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/payment/rest/register.do", data=register_form("D-1"))
        assert time.monotonic() - started < 2
        assert get_state(app).bank.all() == []
        answer = http.post("/payment/rest/register.do", data=register_form("D-1"))  # same client, next call
        assert (answer.status_code, answer.json()["errorCode"]) == (200, 0)
        entry = http.get("/_control/journal?service=vpos").json()["entries"][0]
        assert entry["status"] == 444 and "drop" in entry["summary"]


def test_register_applied_then_the_connection_dropped_is_found_by_order_number(simulator: tuple[Any, str]) -> None:
    app, url = simulator
    with httpx.Client(base_url=url, timeout=5) as http:
        add_fault(http, method="register.do", fault="drop", afterApply=True, orderNumber="L-1")
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/payment/rest/register.do", data=register_form("L-1"))
        found = http.post("/payment/rest/getOrderStatusExtended.do", data={**CREDS, "orderNumber": "L-1"}).json()
        assert (found["errorCode"], found["orderNumber"], found["orderStatus"]) == ("0", "L-1", 0)
        [order] = get_state(app).bank.all()
        assert found["attributes"] == [{"name": "mdOrder", "value": order.md_order}]


def test_a_hang_outlasts_the_client_timeout_and_ends_on_reset(simulator: tuple[Any, str]) -> None:
    _, url = simulator
    with httpx.Client(base_url=url, timeout=5) as control:
        add_fault(control, method="getOrderStatusExtended.do", fault="hang", seconds=10)
        before = set(threading.enumerate())
        with httpx.Client(base_url=url, timeout=0.5) as gateway:
            started = time.monotonic()
            with pytest.raises(httpx.ReadTimeout):
                gateway.post("/payment/rest/getOrderStatusExtended.do", data={**CREDS, "orderId": "x"})
            assert time.monotonic() - started < 3
        entry = control.get("/_control/journal?service=vpos").json()["entries"][-1]
        assert "hang" in entry["summary"]  # journaled when the call arrived, while it still hangs
        sleepers = [t for t in set(threading.enumerate()) - before if "process_request" in t.name]
        assert sleepers  # the server's request thread still sleeps in the hang
        control.post("/_control/reset")
        deadline = time.monotonic() + 3
        while any(t.is_alive() for t in sleepers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(t.is_alive() for t in sleepers)
        assert control.get("/_control/health").json() == {"status": "ok"}


def test_a_hang_shorter_than_the_client_timeout_ends_in_a_dropped_connection(simulator: tuple[Any, str]) -> None:
    _, url = simulator
    with httpx.Client(base_url=url, timeout=5) as http:
        add_fault(http, method="register.do", fault="hang", seconds=0.3)
        started = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/payment/rest/register.do", data=register_form("H-1"))
        assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(("kind", "status"), [("http_500", 500), ("http_503", 503)])
def test_http_error_faults_over_the_wire(simulator: tuple[Any, str], kind: str, status: int) -> None:
    _, url = simulator
    with httpx.Client(base_url=url, timeout=5) as http:
        add_fault(http, method="*", fault=kind, times=1)
        answer = http.post("/payment/rest/register.do", data=register_form("E-1"))
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("text/html")
        assert http.post("/payment/rest/register.do", data=register_form("E-1")).json()["errorCode"] == 0


def test_malformed_and_slow_answers_over_the_wire(simulator: tuple[Any, str]) -> None:
    _, url = simulator
    with httpx.Client(base_url=url, timeout=5) as http:
        add_fault(http, method="register.do", fault="malformed_json", afterApply=True, times=1)
        add_fault(http, method="register.do", fault="slow", seconds=0.3, times=1)
        cut = http.post("/payment/rest/register.do", data=register_form("M-1"))
        with pytest.raises(ValueError):
            cut.json()
        started = time.monotonic()
        slow = http.post("/payment/rest/register.do", data=register_form("M-2"))
        assert time.monotonic() - started >= 0.3
        assert slow.json()["errorCode"] == 0
