"""The journal per order and per scenario run: a scenario's evidence is its own orders' traffic, never the
background traffic of other orders (issue 6)."""

from __future__ import annotations

import flask
import pytest
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app
from simulator.control.clock import VirtualClock
from simulator.control.journal import Journal, order_keys

CREDS = {"userName": "shop_amd", "password": "pw-amd"}
TOKEN = "secret_token_1003"


@pytest.fixture
def client() -> FlaskClient:
    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/pay",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", TOKEN),),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
        callback_key="k",
    )
    app: flask.Flask = create_app(config)
    return app.test_client()


def register(client: FlaskClient, number: str) -> str:
    params = {**CREDS, "orderNumber": number, "amount": "250000", "returnUrl": "http://gw.test/return"}
    return str(client.post("/payment/rest/register.do", data=params).get_json()["orderId"])


def journal(client: FlaskClient, query: str = "") -> list[dict[str, object]]:
    response = client.get("/_control/journal" + query)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["entries"])


def test_order_keys_come_from_params_answers_and_paths() -> None:
    assert order_keys("/payment/rest/register.do", {"orderNumber": "V1"}, {"orderId": "md-1"}) == {"V1", "md-1"}
    assert order_keys("/api/v3/1003/orders/transaction_7", {}) == {"transaction_7"}
    assert order_keys("/store/1003/return/XJ12H", {"key": "k"}) == {"XJ12H"}
    assert order_keys("", {"order": {"id": "XJ12H", "internalId": 7}}) == {"XJ12H", "7"}
    assert order_keys("/health", {"amount": 5, "ok": True}) == frozenset()


def test_identifiers_seen_together_are_linked() -> None:
    log = Journal(VirtualClock())
    log.record(
        direction="in",
        service="vpos",
        method="POST",
        path="/r",
        operation="register.do",
        status=200,
        params={"orderNumber": "V1"},
        related={"orderId": "md-1"},
    )
    log.record(
        direction="out",
        service="vpos",
        method="GET",
        path="/cb",
        operation="callback",
        status=200,
        params={"mdOrder": "md-1", "orderNumber": "V1", "operation": "deposited"},
    )
    log.record(
        direction="in",
        service="vpos",
        method="POST",
        path="/s",
        operation="status",
        status=200,
        params={"orderId": "md-2"},
    )
    assert log.linked("V1") == {"V1", "md-1"}
    assert [e.operation for e in log.entries(orders=("V1",))] == ["register.do", "callback"]
    assert [e.operation for e in log.entries(orders=("md-2",))] == ["status"]
    assert log.entries(orders=("nothing",)) == []


def test_a_query_by_one_order_leaves_out_background_traffic(client: FlaskClient) -> None:
    mine = register(client, "V-MINE")
    other = register(client, "V-OTHER")
    for md_order in (mine, other, mine):
        client.post("/payment/rest/getOrderStatusExtended.do", data={**CREDS, "orderId": md_order})

    by_number = journal(client, "?order=V-MINE")
    assert [e["operation"] for e in by_number] == [
        "register.do",
        "getOrderStatusExtended.do",
        "getOrderStatusExtended.do",
    ]
    assert all(other not in e["orders"] and "V-OTHER" not in e["orders"] for e in by_number)
    assert journal(client, f"?order={mine}") == by_number  # mdOrder or orderNumber: the same order
    both = journal(client, f"?order={mine}&order={other}")
    assert len(both) == 5  # two registrations, three status calls


def test_ecwid_traffic_is_found_by_any_of_the_orders_ids(client: FlaskClient) -> None:
    created = client.post("/_control/ecwid/orders", json={"storeId": 1003, "total": 100}).get_json()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    client.put(
        f"/api/v3/1003/orders/{created['referenceTransactionId']}", json={"paymentStatus": "PAID"}, headers=headers
    )
    client.get(f"/api/v3/1003/orders/{created['internalId']}", headers=headers)
    by_id = journal(client, f"?order={created['id']}")
    assert [e["operation"] for e in by_id if e["service"] == "ecwid"] == ["PUT order", "GET order"]


def test_entries_of_a_scenario_run_carry_its_id(client: FlaskClient) -> None:
    register(client, "V-BEFORE")
    started = client.post("/_control/runs", json={"name": "RC-07 callback before return"})
    assert started.status_code == 201
    run_id = started.get_json()["runId"]
    register(client, "V-DURING")
    assert client.post("/_control/runs/end").get_json() == {"runId": run_id}
    register(client, "V-AFTER")

    during = journal(client, f"?run={run_id}&service=vpos")
    assert [e["operation"] for e in during] == ["register.do"]
    assert "V-DURING" in during[0]["orders"]  # type: ignore[operator]
    assert client.get("/_control/runs").get_json()["runs"] == [
        {"runId": run_id, "name": "RC-07 callback before return"}
    ]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/_control/runs", {"name": ""}, 400),
        ("POST", "/_control/runs", {"name": 5}, 400),
        ("GET", "/_control/journal?run=run-nope", None, 404),
    ],
)
def test_bad_run_input_is_refused(
    client: FlaskClient, method: str, path: str, body: dict[str, object] | None, status: int
) -> None:
    response = client.open(path, method=method, json=body)
    assert response.status_code == status
    assert response.get_json()["error"] in ("bad_input", "not_found")


def test_reset_forgets_links_and_runs(client: FlaskClient) -> None:
    register(client, "V1")
    client.post("/_control/runs", json={"name": "x"})
    client.post("/_control/reset")
    assert client.get("/_control/runs").get_json()["runs"] == []
    assert journal(client, "?order=V1") == []


def test_the_acs_one_time_code_is_never_journaled_in_clear() -> None:
    from simulator.control.journal import REDACTED, redact

    assert redact({"otp": "123456", "mdOrder": "md-1"}) == {"otp": REDACTED, "mdOrder": "md-1"}
