"""The simulated Ecwid's bad days: injected faults on the orders API and the per-token rate limit on the virtual
clock (simulator/ecwid/faults.py, /_control/ecwid/faults and /_control/ecwid/rate-limit)."""

from __future__ import annotations

import threading
import time
from typing import Any

import flask
import pytest
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app

TOKEN = "secret_token_1003"
OTHER_TOKEN = "secret_token_2004"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OTHER_AUTH = {"Authorization": f"Bearer {OTHER_TOKEN}"}


@pytest.fixture
def app() -> flask.Flask:
    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/ecwid/payment",
        stores=(
            EcwidStore(1003, "abcdefghijklmnopQRSTUVWXYZ", TOKEN),
            EcwidStore(2004, "zyxwvutsrqponmlk-other", OTHER_TOKEN),
        ),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
    )
    return create_app(config)


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return app.test_client()


def new_order(client: FlaskClient, store_id: int = 1003) -> str:
    response = client.post("/_control/ecwid/orders", json={"storeId": store_id, "total": 15000.0})
    assert response.status_code == 201
    order_id: str = response.get_json()["id"]
    return order_id


def add_fault(client: FlaskClient, **spec: Any) -> dict[str, Any]:
    response = client.post("/_control/ecwid/faults", json=spec)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def put(client: FlaskClient, order_id: str, status: str = "PAID", store_id: int = 1003, auth: Any = None) -> Any:
    return client.put(
        f"/api/v3/{store_id}/orders/{order_id}", json={"paymentStatus": status}, headers=auth if auth else AUTH
    )


def payment_status(client: FlaskClient, order_id: str, store_id: int = 1003) -> str:
    status: str = client.get(f"/_control/ecwid/orders/{store_id}/{order_id}").get_json()["paymentStatus"]
    return status


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("http_500", 500, "INTERNAL_SERVER_ERROR"),
        ("http_503", 503, "SERVICE_UNAVAILABLE"),
        ("rate_limited", 429, "RATE_LIMITED"),
        ("token_revoked", 403, "INVALID_API_TOKEN"),
        ("store_suspended", 402, "STORE_SUSPENDED"),
        ("conflict", 409, "CONFLICT"),
    ],
)
def test_each_fault_kind_answers_its_status_and_ecwid_error_body_and_changes_nothing(
    client: FlaskClient, kind: str, status: int, code: str
) -> None:
    order_id = new_order(client)
    add_fault(client, fault=kind, times=1)
    refused = put(client, order_id)
    assert refused.status_code == status
    body = refused.get_json()
    assert set(body) == {"errorMessage", "errorCode"}
    assert body["errorCode"] == code
    assert payment_status(client, order_id) == "INCOMPLETE"
    assert put(client, order_id).status_code == 200
    assert payment_status(client, order_id) == "PAID"


def test_faults_also_hit_get(client: FlaskClient) -> None:
    order_id = new_order(client)
    add_fault(client, fault="http_503", method="GET", times=1)
    assert client.get(f"/api/v3/1003/orders/{order_id}", headers=AUTH).status_code == 503
    assert client.get(f"/api/v3/1003/orders/{order_id}", headers=AUTH).status_code == 200


def test_a_method_bound_fault_spares_the_other_method(client: FlaskClient) -> None:
    order_id = new_order(client)
    add_fault(client, fault="http_500", method="PUT")
    assert client.get(f"/api/v3/1003/orders/{order_id}", headers=AUTH).status_code == 200
    assert put(client, order_id).status_code == 500


def test_a_429_fault_sends_its_configured_retry_after(client: FlaskClient) -> None:
    order_id = new_order(client)
    add_fault(client, fault="rate_limited", times=1, retryAfterSeconds=7)
    refused = put(client, order_id)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "7"
    add_fault(client, fault="rate_limited", times=1)
    assert put(client, order_id).headers["Retry-After"] == "10"


def test_next_n_calls_fail_then_the_api_answers_again(client: FlaskClient) -> None:
    order_id = new_order(client)
    fault = add_fault(client, fault="http_503", times=3)
    assert fault["remaining"] == 3
    assert [put(client, order_id).status_code for _ in range(4)] == [503, 503, 503, 200]
    listed = client.get("/_control/ecwid/faults").get_json()["faults"]
    assert listed[0]["fired"] == 3
    assert listed[0]["remaining"] == 0
    assert listed[0]["active"] is False


def test_a_fault_without_times_fails_every_call_until_cleared(client: FlaskClient) -> None:
    order_id = new_order(client)
    add_fault(client, fault="http_500")
    assert [put(client, order_id).status_code for _ in range(5)] == [500] * 5
    cleared = client.delete("/_control/ecwid/faults")
    assert cleared.get_json() == {"deleted": 1}
    assert put(client, order_id).status_code == 200


def test_one_fault_is_deleted_by_id(client: FlaskClient) -> None:
    order_id = new_order(client)
    fault = add_fault(client, fault="conflict")
    assert client.delete(f"/_control/ecwid/faults/{fault['id']}").get_json() == {"deleted": 1}
    assert client.delete(f"/_control/ecwid/faults/{fault['id']}").status_code == 404
    assert put(client, order_id).status_code == 200


def test_a_per_token_fault_hits_only_calls_with_that_token(client: FlaskClient) -> None:
    ours, theirs = new_order(client, 1003), new_order(client, 2004)
    fault = add_fault(client, fault="token_revoked", token=OTHER_TOKEN)
    assert fault["token"] == "***2004"  # the token is never shown whole
    assert put(client, ours).status_code == 200
    revoked = put(client, theirs, store_id=2004, auth=OTHER_AUTH)
    assert revoked.status_code == 403
    assert revoked.get_json()["errorCode"] == "INVALID_API_TOKEN"


def test_a_per_store_next_n_fault_counts_only_that_stores_calls(client: FlaskClient) -> None:
    ours, theirs = new_order(client, 1003), new_order(client, 2004)
    add_fault(client, fault="store_suspended", storeId=2004, times=2)
    assert put(client, ours).status_code == 200
    assert put(client, ours, "PAID").status_code == 200
    assert put(client, theirs, store_id=2004, auth=OTHER_AUTH).status_code == 402
    assert put(client, theirs, store_id=2004, auth=OTHER_AUTH).status_code == 402
    assert put(client, theirs, store_id=2004, auth=OTHER_AUTH).status_code == 200


def test_a_hang_sleeps_for_real_then_answers_503(client: FlaskClient) -> None:
    order_id = new_order(client)
    add_fault(client, fault="hang", seconds=0.3, times=1)
    started = time.monotonic()
    response = put(client, order_id)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 503
    assert payment_status(client, order_id) == "INCOMPLETE"


def test_clearing_the_faults_wakes_a_hanging_call(app: flask.Flask) -> None:
    client = app.test_client()
    order_id = new_order(client)
    add_fault(client, fault="hang", seconds=10)
    statuses: list[int] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: statuses.append(put(app.test_client(), order_id).status_code))
    worker.start()
    time.sleep(0.2)
    client.delete("/_control/ecwid/faults")
    worker.join(5)
    assert statuses == [503]
    assert time.monotonic() - started < 5


def test_hang_seconds_are_bounded_by_the_settings(client: FlaskClient) -> None:
    assert client.put("/_control/ecwid/faults/settings", json={"maxSleepSeconds": 2}).status_code == 200
    assert client.post("/_control/ecwid/faults", json={"fault": "hang", "seconds": 3}).status_code == 400
    assert add_fault(client, fault="hang")["seconds"] == 2


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"fault": "teapot"},
        {"fault": "http_500", "method": "POST"},
        {"fault": "http_500", "times": 0},
        {"fault": "http_500", "retryAfterSeconds": 5},
        {"fault": "rate_limited", "retryAfterSeconds": -1},
        {"fault": "http_500", "seconds": 1},
        {"fault": "http_500", "token": ""},
        {"fault": "http_500", "colour": "red"},
    ],
)
def test_bad_fault_specs_are_400(client: FlaskClient, spec: dict[str, Any]) -> None:
    response = client.post("/_control/ecwid/faults", json=spec)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_input"


def test_a_fault_for_an_unknown_store_is_404(client: FlaskClient) -> None:
    assert client.post("/_control/ecwid/faults", json={"fault": "http_500", "storeId": 9}).status_code == 404


def test_fault_applications_are_journaled(client: FlaskClient) -> None:
    order_id = new_order(client)
    fault = add_fault(client, fault="http_503", times=1)
    put(client, order_id)
    entries = client.get("/_control/journal?service=ecwid").get_json()["entries"]
    assert entries[-1]["status"] == 503
    assert f"ecwid fault #{fault['id']} http_503" in entries[-1]["summary"]
    control = client.get("/_control/journal?service=control").get_json()["entries"]
    assert any("http_503" in entry["summary"] for entry in control)


def test_reset_clears_the_faults(client: FlaskClient) -> None:
    order_id = new_order(client)
    add_fault(client, fault="http_500")
    client.post("/_control/reset")
    assert client.get("/_control/ecwid/faults").get_json()["faults"] == []
    order_id = new_order(client)
    assert put(client, order_id).status_code == 200


# -- the rate limit -----------------------------------------------------------------------------------------------


def test_the_default_limit_is_600_per_minute(client: FlaskClient) -> None:
    limit = client.get("/_control/ecwid/rate-limit").get_json()
    assert limit["requestsPerMinute"] == 600
    assert limit["windowSeconds"] == 60


def test_beyond_the_limit_429_with_retry_after_until_the_window_frees(client: FlaskClient) -> None:
    order_id = new_order(client)
    assert client.put("/_control/ecwid/rate-limit", json={"requestsPerMinute": 5}).status_code == 200
    assert [put(client, order_id).status_code for _ in range(5)] == [200] * 5
    refused = put(client, order_id, "CANCELLED")
    assert refused.status_code == 429
    assert refused.get_json()["errorCode"] == "RATE_LIMITED"
    assert 59 <= int(refused.headers["Retry-After"]) <= 60
    assert payment_status(client, order_id) == "PAID"
    client.post("/_control/clock/advance", json={"seconds": 45})
    later = put(client, order_id)
    assert later.status_code == 429
    assert 14 <= int(later.headers["Retry-After"]) <= 15
    client.post("/_control/clock/advance", json={"seconds": 15.5})
    assert put(client, order_id).status_code == 200


def test_the_window_slides_call_by_call(client: FlaskClient) -> None:
    order_id = new_order(client)
    client.put("/_control/ecwid/rate-limit", json={"requestsPerMinute": 2})
    assert put(client, order_id).status_code == 200
    client.post("/_control/clock/advance", json={"seconds": 30})
    assert put(client, order_id).status_code == 200
    retry = put(client, order_id).headers["Retry-After"]
    assert 29 <= int(retry) <= 30  # the first call leaves the window 60 s after it was made
    client.post("/_control/clock/advance", json={"seconds": 30.5})
    assert put(client, order_id).status_code == 200  # the first left, the second is still in
    assert put(client, order_id).status_code == 429


def test_the_limit_is_per_token(client: FlaskClient) -> None:
    ours, theirs = new_order(client, 1003), new_order(client, 2004)
    client.put("/_control/ecwid/rate-limit", json={"requestsPerMinute": 1})
    assert put(client, ours).status_code == 200
    assert put(client, ours).status_code == 429
    assert put(client, theirs, store_id=2004, auth=OTHER_AUTH).status_code == 200
    usage = client.get("/_control/ecwid/rate-limit").get_json()["usage"]
    assert usage == [{"token": "***1003", "calls": 1}, {"token": "***2004", "calls": 1}]


def test_gets_count_too_and_refused_calls_do_not(client: FlaskClient) -> None:
    order_id = new_order(client)
    client.put("/_control/ecwid/rate-limit", json={"requestsPerMinute": 2})
    assert client.get(f"/api/v3/1003/orders/{order_id}", headers=AUTH).status_code == 200
    assert put(client, order_id).status_code == 200
    assert client.get(f"/api/v3/1003/orders/{order_id}", headers=AUTH).status_code == 429
    assert put(client, order_id).status_code == 429
    usage = client.get("/_control/ecwid/rate-limit").get_json()["usage"]
    assert usage == [{"token": "***1003", "calls": 2}]


def test_reset_restores_the_default_limit(client: FlaskClient) -> None:
    client.put("/_control/ecwid/rate-limit", json={"requestsPerMinute": 3})
    client.post("/_control/reset")
    assert client.get("/_control/ecwid/rate-limit").get_json()["requestsPerMinute"] == 600


@pytest.mark.parametrize("body", [{}, {"requestsPerMinute": 0}, {"requestsPerMinute": "5"}, {"perHour": 5}])
def test_bad_rate_limits_are_400(client: FlaskClient, body: dict[str, Any]) -> None:
    assert client.put("/_control/ecwid/rate-limit", json=body).status_code == 400
