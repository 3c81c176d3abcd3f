"""An off-the-shelf open-source RBS client from PyPI (``gocream-pysberbank``, the maintained fork of
``pysberbank``) works against the simulator unchanged but for its base URL: register, status by orderId and by
orderNumber, errors. It compares ``errorCode`` with the string ``"0"``, as many clients do, so the simulator's
response-shape switch for string error codes is what makes it work, as it would with such a bank."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from gocream_pysberbank import SberbankClient
from gocream_pysberbank.errors import SberbankApiException

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app
from simulator.testing import ServerThread

pytestmark = pytest.mark.e2e

USER, PASSWORD = "shop_amd_api", "shop-amd-password"


@dataclass
class Bank:
    url: str
    control: httpx.Client

    def client(self) -> SberbankClient:
        # The library's one setting we change: where the bank is. Currency 051 (AMD) and the language are the
        # library's own call parameters.
        return SberbankClient(
            username=USER, password=PASSWORD, url=f"{self.url}/payment/{{api_type}}/{{method}}", language="en"
        )


@pytest.fixture
def bank() -> Iterator[Bank]:
    config = SimulatorConfig(
        public_url="http://127.0.0.1",
        payment_url="http://127.0.0.1:9/ecwid/payment",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", "secret_token"),),
        merchants=(VposMerchant(USER, PASSWORD, "051"),),
    )
    with ServerThread(create_app(config)) as server, httpx.Client(base_url=server.url, timeout=10) as control:
        control.put("/_control/config", json={"publicUrl": server.url}).raise_for_status()
        control.put("/_control/vpos/shapes", json={"errorCodeType": {"*": "string"}}).raise_for_status()
        yield Bank(server.url, control)


def test_register_pay_and_read_the_status_by_order_id_and_by_order_number(bank: Bank) -> None:
    client = bank.client()
    registered = client.register("SHOP-1001", 1500000, "https://shop.example/return", currency=51)
    md_order = registered["orderId"]
    assert registered["formUrl"].startswith(bank.url) and md_order in registered["formUrl"]

    before = client.order_status_extended(orderId=md_order)
    assert (before["orderStatus"], before["amount"], before["currency"]) == (0, 1500000, "051")

    paid = bank.control.post(
        f"/_control/vpos/orders/{md_order}/pay", json={"pan": "4242424242424242", "expiry": "12/30"}
    )
    assert paid.status_code == 200

    by_number = client.order_status_extended(orderNumber="SHOP-1001")
    assert (by_number["orderStatus"], by_number["orderNumber"]) == (2, "SHOP-1001")
    assert client.order_status(md_order)["OrderStatus"] == 2  # the legacy method too


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.register("SHOP-DUP", 100, "https://shop.example/r", currency=51), "1"),
        (lambda c: c.register("SHOP-X", 100, "https://shop.example/r", currency=999), "3"),
        (lambda c: c.order_status_extended(orderId="00000000-0000-0000-0000-000000000000"), "6"),
        (lambda c: c.order_status_extended(orderNumber="NEVER-REGISTERED"), "6"),
    ],
    ids=["duplicate-order-number", "unknown-currency", "unknown-order-id", "unknown-order-number"],
)
def test_errors_reach_the_library_as_its_own_api_exception(bank: Bank, call, code: str) -> None:  # type: ignore[no-untyped-def]
    client = bank.client()
    client.register("SHOP-DUP", 100, "https://shop.example/r", currency=51)
    with pytest.raises(SberbankApiException) as info:
        call(client)
    assert info.value.code == code


def test_wrong_credentials_are_refused(bank: Bank) -> None:
    client = SberbankClient(username=USER, password="wrong", url=f"{bank.url}/payment/{{api_type}}/{{method}}")
    with pytest.raises(SberbankApiException) as info:
        client.register("SHOP-2", 100, "https://shop.example/r", currency=51)
    assert info.value.code == "5"


def test_without_the_string_switch_the_library_misreads_success_as_it_would_with_such_a_bank(bank: Bank) -> None:
    bank.control.delete("/_control/vpos/shapes").raise_for_status()  # the default: register answers errorCode 0
    # The library compares errorCode with "0": a numeric 0 on success is read as an error it cannot even describe.
    with pytest.raises((SberbankApiException, KeyError)):
        bank.client().register("SHOP-3", 100, "https://shop.example/r", currency=51)
