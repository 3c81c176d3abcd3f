"""Bank API faults (HTTP 500/503, hang, malformed JSON, errorCode 7, slow answer, dropped connection), injected
through ``/_control/vpos/faults`` and exercised through Flask's test client: no sockets (tests/e2e has those)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import flask
import httpx
import pytest
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app, get_state
from simulator.vpos.faults import DEFAULT_MAX_SLEEP_SECONDS, FaultBook, FaultSpec

CREDS = {"userName": "shop_amd", "password": "pw-amd"}
FAULTS = "/_control/vpos/faults"


@pytest.fixture
def app() -> Iterator[flask.Flask]:
    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/pay",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", "secret_token_1003"),),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"), VposMerchant("shop_usd", "pw-usd", "840")),
    )
    app = create_app(config)
    yield app
    get_state(app).reset()  # wakes any sleeper a failing test left behind


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return app.test_client()


def register_response(client: FlaskClient, number: str = "N-1", **extra: str) -> Any:
    params = {**CREDS, "orderNumber": number, "amount": "250000", "returnUrl": "http://gw.test/return", **extra}
    return client.post("/payment/rest/register.do", data=params, buffered=True)


def register(client: FlaskClient, number: str = "N-1") -> str:
    response = register_response(client, number)
    assert response.status_code == 200
    return str(response.get_json()["orderId"])


def status_response(client: FlaskClient, **params: str) -> Any:
    return client.post("/payment/rest/getOrderStatusExtended.do", data={**CREDS, **params}, buffered=True)


def add_fault(client: FlaskClient, **body: Any) -> dict[str, Any]:
    response = client.post(FAULTS, json=body)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert isinstance(data, dict)
    return data


def bank_orders(app: flask.Flask) -> list[str]:
    return [order.order_number for order in get_state(app).bank.all()]


def vpos_journal(client: FlaskClient) -> list[dict[str, Any]]:
    entries = client.get("/_control/journal?service=vpos").get_json()["entries"]
    assert isinstance(entries, list)
    return entries


# -- the fault book itself -------------------------------------------------------------------------------------


def test_a_fault_for_n_calls_fires_exactly_n_times_even_when_calls_race() -> None:
    book = FaultBook()
    fault = book.add(FaultSpec(method="register.do", kind="http_503", times=3))
    fired: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        taken = book.take("register.do", md_orders=set(), order_numbers=set())
        if taken is not None:
            with lock:
                fired.append(taken.id)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fired == [fault.id] * 3
    assert (fault.remaining, fault.fired, fault.active) == (0, 3, False)


def test_without_times_a_fault_fires_until_deleted() -> None:
    book = FaultBook()
    fault = book.add(FaultSpec(method="*", kind="error_7"))
    for _ in range(5):
        assert book.take("refund.do", md_orders=set(), order_numbers=set()) is fault
    assert book.delete(fault.id)
    assert book.take("refund.do", md_orders=set(), order_numbers=set()) is None
    assert not book.delete(fault.id)


def test_the_oldest_matching_fault_fires_first() -> None:
    book = FaultBook()
    first = book.add(FaultSpec(method="register.do", kind="http_500", times=1))
    second = book.add(FaultSpec(method="*", kind="http_503", times=1))
    assert book.take("register.do", md_orders=set(), order_numbers=set()) is first
    assert book.take("register.do", md_orders=set(), order_numbers=set()) is second
    assert book.take("register.do", md_orders=set(), order_numbers=set()) is None


def test_an_order_fault_matches_only_its_order_and_needs_both_ids_when_both_are_given() -> None:
    book = FaultBook()
    fault = book.add(FaultSpec(method="getOrderStatusExtended.do", kind="http_500", md_order="md-1", order_number="7"))
    method = "getOrderStatusExtended.do"
    assert book.take(method, md_orders={"md-1"}, order_numbers=set()) is None
    assert book.take(method, md_orders={"md-2"}, order_numbers={"7"}) is None
    assert book.take(method, md_orders={"md-1"}, order_numbers={"7"}) is fault
    assert book.take("getOrderStatus.do", md_orders={"md-1"}, order_numbers={"7"}) is None


def test_a_sleep_ends_early_when_the_fault_is_cleared() -> None:
    book = FaultBook()
    fault = book.add(FaultSpec(method="*", kind="hang", seconds=10))
    threading.Timer(0.1, book.clear).start()
    started = time.monotonic()
    assert fault.sleep(10) is False  # interrupted
    assert time.monotonic() - started < 5
    assert fault.sleep(10) is False  # stays cancelled


@pytest.mark.parametrize("seconds", [0, -1, 601])
def test_the_maximum_sleep_is_bounded(seconds: float) -> None:
    book = FaultBook()
    with pytest.raises(ValueError):
        book.max_sleep_seconds = seconds
    assert book.max_sleep_seconds == DEFAULT_MAX_SLEEP_SECONDS


def test_a_sleep_that_is_not_interrupted_reports_it_completed() -> None:
    fault = FaultBook().add(FaultSpec(method="*", kind="slow", seconds=0.05))
    assert fault.sleep(0.05) is True


def test_the_fault_book_bounds_sleeps_by_its_maximum() -> None:
    book = FaultBook(max_sleep_seconds=0.05)
    fault = book.add(FaultSpec(method="*", kind="hang", seconds=None))
    assert fault.seconds == 0.05
    started = time.monotonic()
    assert book.sleep(fault, 30) is True
    assert time.monotonic() - started < 1


# -- control API -----------------------------------------------------------------------------------------------


def test_add_list_and_delete_faults(client: FlaskClient) -> None:
    created = add_fault(client, method="register.do", fault="http_503", times=2, orderNumber="N-1")
    assert created == {
        "id": created["id"],
        "method": "register.do",
        "fault": "http_503",
        "times": 2,
        "remaining": 2,
        "fired": 0,
        "active": True,
        "mdOrder": None,
        "orderNumber": "N-1",
        "seconds": None,
        "afterApply": False,
        "variant": None,
    }
    hang = add_fault(client, method="*", fault="hang")
    assert hang["seconds"] == DEFAULT_MAX_SLEEP_SECONDS
    slow = add_fault(client, method="getOrderStatusExtended.do", fault="slow", seconds=0.5, mdOrder="md-1")
    assert slow["seconds"] == 0.5
    malformed = add_fault(client, method="getOrderStatus.do", fault="malformed_json")
    assert malformed["variant"] == "truncated"

    listing = client.get(FAULTS).get_json()
    assert [fault["id"] for fault in listing["faults"]] == [created["id"], hang["id"], slow["id"], malformed["id"]]
    assert listing["maxSleepSeconds"] == DEFAULT_MAX_SLEEP_SECONDS
    assert client.get(f"{FAULTS}/{slow['id']}").get_json() == slow

    deleted = client.delete(f"{FAULTS}/{hang['id']}")
    assert (deleted.status_code, deleted.get_json()) == (200, {"deleted": 1})
    assert client.delete(f"{FAULTS}/{hang['id']}").status_code == 404
    assert client.get(f"{FAULTS}/{hang['id']}").status_code == 404
    assert client.delete(FAULTS).get_json() == {"deleted": 3}
    assert client.get(FAULTS).get_json()["faults"] == []


def test_unknown_fault_id_is_404_json(client: FlaskClient) -> None:
    response = client.delete(f"{FAULTS}/999")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert client.get(f"{FAULTS}/abc").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "JSON object"),
        ({"fault": "http_500"}, "method"),
        ({"method": "", "fault": "http_500"}, "method"),
        ({"method": "register", "fault": "http_500"}, "method"),
        ({"method": "../x.do", "fault": "http_500"}, "method"),
        ({"method": "register.do"}, "fault"),
        ({"method": "register.do", "fault": "teapot"}, "fault"),
        ({"method": "register.do", "fault": "http_500", "times": 0}, "times"),
        ({"method": "register.do", "fault": "http_500", "times": -1}, "times"),
        ({"method": "register.do", "fault": "http_500", "times": 1.5}, "times"),
        ({"method": "register.do", "fault": "http_500", "times": True}, "times"),
        ({"method": "register.do", "fault": "http_500", "times": "2"}, "times"),
        ({"method": "register.do", "fault": "http_500", "seconds": 1}, "seconds"),
        ({"method": "register.do", "fault": "slow", "seconds": 0}, "seconds"),
        ({"method": "register.do", "fault": "slow", "seconds": -1}, "seconds"),
        ({"method": "register.do", "fault": "slow", "seconds": "1"}, "seconds"),
        ({"method": "register.do", "fault": "hang", "seconds": DEFAULT_MAX_SLEEP_SECONDS + 1}, "seconds"),
        ({"method": "register.do", "fault": "http_500", "mdOrder": "md-1"}, "mdOrder"),
        ({"method": "getOrderStatus.do", "fault": "http_500", "mdOrder": ""}, "mdOrder"),
        ({"method": "getOrderStatus.do", "fault": "http_500", "mdOrder": 5}, "mdOrder"),
        ({"method": "getOrderStatus.do", "fault": "http_500", "orderNumber": "x" * 101}, "orderNumber"),
        ({"method": "register.do", "fault": "http_500", "afterApply": "yes"}, "afterApply"),
        ({"method": "register.do", "fault": "http_500", "variant": "truncated"}, "variant"),
        ({"method": "register.do", "fault": "malformed_json", "variant": "xml"}, "variant"),
        ({"method": "register.do", "fault": "http_500", "colour": "red"}, "colour"),
    ],
)
def test_bad_fault_input_is_400(client: FlaskClient, body: Any, message: str) -> None:
    response = client.post(FAULTS, json=body)
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["error"] == "bad_input"
    assert message in answer["message"]
    assert client.get(FAULTS).get_json()["faults"] == []


def test_non_json_fault_body_is_400(client: FlaskClient) -> None:
    response = client.post(FAULTS, data="method=register.do", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_input"


def test_max_sleep_seconds_is_a_setting_restored_by_reset(client: FlaskClient) -> None:
    answer = client.put(f"{FAULTS}/settings", json={"maxSleepSeconds": 40})
    assert (answer.status_code, answer.get_json()) == (200, {"maxSleepSeconds": 40})
    assert add_fault(client, method="*", fault="hang")["seconds"] == 40
    assert add_fault(client, method="*", fault="hang", seconds=35)["seconds"] == 35
    client.post("/_control/reset")
    assert client.get(FAULTS).get_json() == {"faults": [], "maxSleepSeconds": DEFAULT_MAX_SLEEP_SECONDS}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"maxSleepSeconds": 0},
        {"maxSleepSeconds": 601},
        {"maxSleepSeconds": "9"},
        {"maxSleepSeconds": 5, "x": 1},
        [],
    ],
)
def test_bad_fault_settings_are_400(client: FlaskClient, body: Any) -> None:
    response = client.put(f"{FAULTS}/settings", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_input"


def test_fault_control_calls_are_journaled(client: FlaskClient) -> None:
    fault = add_fault(client, method="register.do", fault="http_500")
    client.delete(f"{FAULTS}/{fault['id']}")
    entries = client.get("/_control/journal?service=control").get_json()["entries"]
    assert [entry["operation"] for entry in entries] == ["fault add", "fault delete"]
    assert f"#{fault['id']} http_500 on register.do" in entries[0]["summary"]


def test_reset_clears_faults(client: FlaskClient, app: flask.Flask) -> None:
    add_fault(client, method="register.do", fault="http_500")
    client.post("/_control/reset")
    assert client.get(FAULTS).get_json()["faults"] == []
    register(client)
    assert bank_orders(app) == ["N-1"]


# -- faults before the bank runs the method ----------------------------------------------------------------


@pytest.mark.parametrize(("kind", "status"), [("http_500", 500), ("http_503", 503)])
def test_http_error_fault_answers_that_status_and_registers_nothing(
    client: FlaskClient, app: flask.Flask, kind: str, status: int
) -> None:
    fault = add_fault(client, method="register.do", fault=kind)
    response = register_response(client)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert bank_orders(app) == []
    entry = vpos_journal(client)[-1]
    assert (entry["operation"], entry["status"]) == ("register.do", status)
    assert f"fault #{fault['id']} {kind}" in entry["summary"]


def test_a_fault_for_the_next_call_only_then_the_bank_answers_again(client: FlaskClient, app: flask.Flask) -> None:
    fault = add_fault(client, method="register.do", fault="http_503", times=1)
    assert register_response(client).status_code == 503
    assert register_response(client).get_json()["errorCode"] == 0
    assert bank_orders(app) == ["N-1"]
    listed = client.get(f"{FAULTS}/{fault['id']}").get_json()
    assert (listed["remaining"], listed["fired"], listed["active"]) == (0, 1, False)


def test_a_fault_on_one_order_number_leaves_other_orders_alone(client: FlaskClient, app: flask.Flask) -> None:
    add_fault(client, method="register.do", fault="http_500", orderNumber="N-2")
    assert register_response(client, "N-1").status_code == 200
    assert register_response(client, "N-2").status_code == 500
    assert bank_orders(app) == ["N-1"]


def test_a_fault_on_one_md_order_also_hits_a_lookup_by_its_order_number(client: FlaskClient) -> None:
    target, other = register(client, "N-1"), register(client, "N-2")
    add_fault(client, method="getOrderStatusExtended.do", fault="http_500", mdOrder=target)
    assert status_response(client, orderId=target).status_code == 500
    assert status_response(client, orderNumber="N-1").status_code == 500
    assert status_response(client, orderId=other).get_json()["errorCode"] == "0"
    assert status_response(client, orderNumber="N-2").get_json()["errorCode"] == "0"


def test_an_order_number_fault_also_hits_a_lookup_by_md_order(client: FlaskClient) -> None:
    target = register(client, "N-1")
    add_fault(client, method="getOrderStatusExtended.do", fault="http_503", orderNumber="N-1")
    assert status_response(client, orderId=target).status_code == 503


def test_a_wildcard_fault_hits_every_bank_method(client: FlaskClient) -> None:
    md_order = register(client)
    add_fault(client, method="*", fault="http_503")
    assert register_response(client, "N-2").status_code == 503
    assert status_response(client, orderId=md_order).status_code == 503
    assert client.post("/payment/rest/getOrderStatus.do", data={**CREDS, "orderId": md_order}).status_code == 503
    assert client.post("/payment/rest/refund.do", data=CREDS).status_code == 503


def test_a_fault_on_an_unimplemented_method(client: FlaskClient) -> None:
    add_fault(client, method="deposit.do", fault="http_500")
    assert client.post("/payment/rest/deposit.do", data=CREDS).status_code == 500
    assert client.post("/payment/rest/getBindings.do", data=CREDS).get_json()["errorCode"] == "7"


def test_error_7_fault_is_a_system_error_and_registers_nothing(client: FlaskClient, app: flask.Flask) -> None:
    fault = add_fault(client, method="register.do", fault="error_7")
    response = register_response(client)
    assert response.status_code == 200
    assert response.get_json() == {"errorCode": "7", "errorMessage": "System error"}
    assert bank_orders(app) == []
    assert f"fault #{fault['id']} error_7" in vpos_journal(client)[-1]["summary"]


def test_error_7_fault_on_the_legacy_status_uses_its_capitalised_keys(client: FlaskClient) -> None:
    md_order = register(client)
    add_fault(client, method="getOrderStatus.do", fault="error_7")
    body = client.post("/payment/rest/getOrderStatus.do", data={**CREDS, "orderId": md_order}).get_json()
    assert body == {"ErrorCode": "7", "ErrorMessage": "System error"}


def test_error_7_fault_follows_the_error_code_shape(client: FlaskClient) -> None:
    client.put("/_control/vpos/shapes", json={"errorCodeType": {"register.do": "number"}})
    add_fault(client, method="register.do", fault="error_7")
    assert register_response(client).get_json()["errorCode"] == 7


def test_malformed_json_fault_truncates_json_and_registers_nothing(client: FlaskClient, app: flask.Flask) -> None:
    add_fault(client, method="register.do", fault="malformed_json")
    response = register_response(client)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert text.startswith("{")
    with pytest.raises(ValueError):
        json.loads(text)
    assert bank_orders(app) == []


def test_malformed_json_not_json_variant_answers_an_html_page_with_200(client: FlaskClient) -> None:
    add_fault(client, method="register.do", fault="malformed_json", variant="not_json")
    response = register_response(client)
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith("<")
    with pytest.raises(ValueError):
        json.loads(response.get_data(as_text=True))


def test_slow_fault_answers_normally_after_the_delay(client: FlaskClient, app: flask.Flask) -> None:
    fault = add_fault(client, method="register.do", fault="slow", seconds=0.3)
    started = time.monotonic()
    response = register_response(client)
    assert time.monotonic() - started >= 0.3
    assert response.get_json()["errorCode"] == 0
    assert bank_orders(app) == ["N-1"]
    assert f"fault #{fault['id']} slow" in vpos_journal(client)[-1]["summary"]


def test_drop_fault_in_process_raises_what_an_httpx_client_sees(client: FlaskClient, app: flask.Flask) -> None:
    fault = add_fault(client, method="register.do", fault="drop")
    with pytest.raises(httpx.RemoteProtocolError):
        register_response(client)
    assert bank_orders(app) == []
    entry = vpos_journal(client)[-1]
    assert entry["status"] == 444
    assert f"fault #{fault['id']} drop" in entry["summary"]


def test_drop_fault_through_an_in_process_httpx_transport(app: flask.Flask) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sim.test") as http:
        http.post(FAULTS, json={"method": "getOrderStatusExtended.do", "fault": "drop"})
        with pytest.raises(httpx.TransportError):
            http.post("/payment/rest/getOrderStatusExtended.do", data={**CREDS, "orderId": "x"})


def test_hang_fault_in_process_sleeps_then_times_out(client: FlaskClient, app: flask.Flask) -> None:
    fault = add_fault(client, method="register.do", fault="hang", seconds=0.2)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        register_response(client)
    assert time.monotonic() - started >= 0.2
    assert bank_orders(app) == []
    entry = vpos_journal(client)[-1]
    assert entry["status"] == 444
    assert f"fault #{fault['id']} hang" in entry["summary"]


@pytest.mark.parametrize("end", ["reset", "delete"])
def test_a_hang_ends_at_once_on_reset_or_delete(client: FlaskClient, app: flask.Flask, end: str) -> None:
    fault = add_fault(client, method="register.do", fault="hang", seconds=DEFAULT_MAX_SLEEP_SECONDS)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            app.test_client().post(
                "/payment/rest/register.do",
                data={**CREDS, "orderNumber": "H", "amount": "1", "returnUrl": "http://gw.test/r"},
                buffered=True,
            )
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    started = time.monotonic()
    caller.start()
    time.sleep(0.2)
    if end == "reset":
        client.post("/_control/reset")
    else:
        client.delete(f"{FAULTS}/{fault['id']}")
    caller.join(timeout=5)
    assert not caller.is_alive()
    assert time.monotonic() - started < 5
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.TransportError)
    assert bank_orders(app) == []


def test_a_slow_fault_interrupted_by_reset_drops_the_call_without_running_it(
    client: FlaskClient, app: flask.Flask
) -> None:
    add_fault(client, method="register.do", fault="slow", seconds=DEFAULT_MAX_SLEEP_SECONDS)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            register_response(app.test_client(), "S-1")
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.2)
    client.post("/_control/reset")
    caller.join(timeout=5)
    assert not caller.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.RemoteProtocolError)
    assert bank_orders(app) == []


# -- afterApply: the bank did it, the answer was lost -----------------------------------------------------------


@pytest.mark.parametrize(("kind", "status"), [("http_500", 500), ("http_503", 503)])
def test_after_apply_registers_then_answers_the_error(
    client: FlaskClient, app: flask.Flask, kind: str, status: int
) -> None:
    fault = add_fault(client, method="register.do", fault=kind, afterApply=True, times=1)
    assert register_response(client, "N-9").status_code == status
    assert bank_orders(app) == ["N-9"]
    found = status_response(client, orderNumber="N-9").get_json()
    assert (found["errorCode"], found["orderNumber"], found["orderStatus"]) == ("0", "N-9", 0)
    summary = vpos_journal(client)[-2]["summary"]
    assert "orderNumber=N-9" in summary
    assert f"fault #{fault['id']} {kind} after apply" in summary


def test_after_apply_drop_registers_then_closes_the_connection(client: FlaskClient, app: flask.Flask) -> None:
    add_fault(client, method="register.do", fault="drop", afterApply=True)
    with pytest.raises(httpx.RemoteProtocolError):
        register_response(client, "N-9")
    assert bank_orders(app) == ["N-9"]


def test_after_apply_hang_registers_then_never_answers(client: FlaskClient, app: flask.Flask) -> None:
    add_fault(client, method="register.do", fault="hang", afterApply=True, seconds=0.1)
    with pytest.raises(httpx.ReadTimeout):
        register_response(client, "N-9")
    assert bank_orders(app) == ["N-9"]


def test_after_apply_error_7_registers_then_answers_system_error(client: FlaskClient, app: flask.Flask) -> None:
    add_fault(client, method="register.do", fault="error_7", afterApply=True)
    assert register_response(client, "N-9").get_json()["errorCode"] == "7"
    assert bank_orders(app) == ["N-9"]


def test_after_apply_malformed_json_cuts_the_real_answer(client: FlaskClient, app: flask.Flask) -> None:
    add_fault(client, method="register.do", fault="malformed_json", afterApply=True)
    text = register_response(client, "N-9").get_data(as_text=True)
    md_order = get_state(app).bank.all()[0].md_order
    with pytest.raises(ValueError):
        json.loads(text)
    assert text.startswith(f'{{"orderId":"{md_order}"')


def test_after_apply_malformed_json_not_json_replaces_the_real_answer(client: FlaskClient, app: flask.Flask) -> None:
    add_fault(client, method="register.do", fault="malformed_json", afterApply=True, variant="not_json")
    response = register_response(client, "N-9")
    assert response.get_data(as_text=True).lstrip().startswith("<")
    assert bank_orders(app) == ["N-9"]


def test_after_apply_slow_runs_the_method_then_answers_late(client: FlaskClient, app: flask.Flask) -> None:
    add_fault(client, method="register.do", fault="slow", afterApply=True, seconds=0.2)
    started = time.monotonic()
    assert register_response(client, "N-9").get_json()["errorCode"] == 0
    assert time.monotonic() - started >= 0.2
    assert bank_orders(app) == ["N-9"]


def test_after_apply_slow_interrupted_by_reset_drops_the_answer_of_a_call_that_ran(
    client: FlaskClient, app: flask.Flask
) -> None:
    add_fault(client, method="register.do", fault="slow", afterApply=True, seconds=DEFAULT_MAX_SLEEP_SECONDS)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            register_response(app.test_client(), "S-1")
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 5
    while not bank_orders(app) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert bank_orders(app) == ["S-1"]  # registered; the answer is still on its way
    get_state(app).faults.clear()
    caller.join(timeout=5)
    assert not caller.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.RemoteProtocolError)
    assert "interrupted" in vpos_journal(client)[-1]["summary"]


def test_after_apply_also_replaces_a_bank_error_answer(client: FlaskClient, app: flask.Flask) -> None:
    register(client, "N-1")
    add_fault(client, method="register.do", fault="http_503", afterApply=True)
    assert register_response(client, "N-1").status_code == 503  # the duplicate's errorCode 1 is lost
    assert bank_orders(app) == ["N-1"]


def test_after_apply_on_a_status_call_changes_nothing_but_the_answer(client: FlaskClient) -> None:
    md_order = register(client)
    add_fault(client, method="getOrderStatusExtended.do", fault="http_500", afterApply=True, mdOrder=md_order)
    assert status_response(client, orderId=md_order).status_code == 500
