"""Callbacks under control: defaults and per-order rules (delay, copies, concurrency, method, amount, bad
checksum, retries), pending callbacks that can be delivered, duplicated, dropped, reordered and released, injected
callbacks for any operation, and replays of anything sent. All on the virtual clock: tests advance it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.sim_callback_fakes import (
    KEY,
    Receiver,
    advance,
    build,
    callback_journal,
    expected_checksum,
    manual,
    pay,
    pay_control,
    register,
)

DEFAULTS = {
    "mode": "immediate",
    "delaySeconds": 0.5,
    "times": 1,
    "concurrent": False,
    "method": None,
    "includeAmount": True,
    "badChecksum": False,
    "retry": {"intervalSeconds": 30.0, "times": 3},
}


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def client(receiver: Receiver) -> FlaskClient:
    return manual(build(receiver).test_client())


def order_rules(client: FlaskClient, md_order: str, **rules: Any) -> dict[str, Any]:
    response = client.put(f"/_control/vpos/orders/{md_order}/callbacks", json=rules)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def pending(client: FlaskClient, md_order: str | None = None) -> list[dict[str, Any]]:
    query = f"?mdOrder={md_order}" if md_order else ""
    orders = client.get(f"/_control/vpos/callbacks/pending{query}").get_json()["orders"]
    return [callback for order in orders for callback in order["callbacks"]]


def inject(client: FlaskClient, md_order: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/_control/vpos/orders/{md_order}/callbacks", json=body)
    assert response.status_code == 201, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


def held_order(client: FlaskClient, number: str = "N-1") -> tuple[str, int]:
    """An order paid while its callbacks are held; returns its mdOrder and the held callback's id."""
    md_order = register(client, number)
    order_rules(client, md_order, mode="hold")
    result = pay_control(client, md_order)
    assert result["callback"]["outcome"] == "held"
    return md_order, int(result["callback"]["callbackIds"][0])


# -- defaults -------------------------------------------------------------------------------------------------


def test_defaults_are_documented_values(client: FlaskClient) -> None:
    body = client.get("/_control/vpos/callbacks").get_json()
    assert {name: body[name] for name in DEFAULTS} == DEFAULTS


def test_put_defaults_changes_only_the_given_fields_and_null_restores_a_default(client: FlaskClient) -> None:
    changed = client.put(
        "/_control/vpos/callbacks", json={"mode": "hold", "times": 2, "retry": {"times": 5}, "method": "POST"}
    ).get_json()
    assert (changed["mode"], changed["times"], changed["method"]) == ("hold", 2, "POST")
    assert changed["retry"] == {"intervalSeconds": 30.0, "times": 5}
    assert changed["delaySeconds"] == 0.5
    restored = client.put("/_control/vpos/callbacks", json={"method": None, "retry": None}).get_json()
    assert (restored["method"], restored["retry"]) == (None, DEFAULTS["retry"])


def test_legacy_setting_names_still_work(client: FlaskClient) -> None:
    body = client.put(
        "/_control/vpos/callbacks", json={"afterReturnDelaySeconds": 2, "retryDelaySeconds": 0.1}
    ).get_json()
    assert (body["delaySeconds"], body["retry"]["intervalSeconds"]) == (2.0, 0.1)
    assert (body["afterReturnDelaySeconds"], body["retryDelaySeconds"], body["maxRetries"]) == (2.0, 0.1, 3)


BAD_RULES: list[Any] = [
    {},
    [],
    "mode",
    {"mode": "sometimes"},
    {"mode": 1},
    {"colour": "blue"},
    {"delaySeconds": -1},
    {"delaySeconds": "5"},
    {"delaySeconds": True},
    {"delaySeconds": 86401},
    {"times": 0},
    {"times": 21},
    {"times": 1.5},
    {"times": True},
    {"concurrent": "yes"},
    {"method": "PATCH"},
    {"method": 1},
    {"includeAmount": 1},
    {"badChecksum": "true"},
    {"retry": 3},
    {"retry": {}},
    {"retry": {"every": 3}},
    {"retry": {"intervalSeconds": -1}},
    {"retry": {"times": -1}},
    {"retry": {"times": 11}},
    {"afterReturnDelaySeconds": 61},
    {"retryDelaySeconds": -1},
]


@pytest.mark.parametrize("body", BAD_RULES)
def test_bad_defaults_are_400_and_change_nothing(client: FlaskClient, body: Any) -> None:
    response = client.put("/_control/vpos/callbacks", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_input"
    current = client.get("/_control/vpos/callbacks").get_json()
    assert {name: current[name] for name in DEFAULTS} == DEFAULTS


# -- per-order rules ------------------------------------------------------------------------------------------


def test_an_order_rule_applies_to_that_order_only(client: FlaskClient, receiver: Receiver) -> None:
    quiet, loud = register(client, "N-1"), register(client, "N-2")
    body = order_rules(client, quiet, mode="none")
    assert body["mdOrder"] == quiet
    assert body["rules"] == {"mode": "none"}
    assert body["effective"] == {**DEFAULTS, "mode": "none"}
    pay(client, quiet)
    pay(client, loud)
    assert [params["mdOrder"] for params in (receiver.params(i) for i in range(len(receiver.calls)))] == [loud]


def test_order_rules_merge_and_null_removes_a_rule(client: FlaskClient) -> None:
    md_order = register(client)
    order_rules(client, md_order, mode="hold", retry={"times": 1})
    merged = order_rules(client, md_order, times=2)
    assert merged["rules"] == {"mode": "hold", "times": 2, "retry": {"times": 1}}
    assert merged["effective"]["retry"] == {"intervalSeconds": 30.0, "times": 1}
    removed = order_rules(client, md_order, mode=None, retry=None)
    assert removed["rules"] == {"times": 2}
    assert removed["effective"]["mode"] == "immediate"


def test_order_rules_follow_later_changes_of_the_defaults(client: FlaskClient) -> None:
    md_order = register(client)
    order_rules(client, md_order, times=2)
    client.put("/_control/vpos/callbacks", json={"mode": "hold"})
    effective = client.get(f"/_control/vpos/orders/{md_order}/callbacks").get_json()["effective"]
    assert (effective["mode"], effective["times"]) == ("hold", 2)


def test_deleting_order_rules_returns_to_the_defaults(client: FlaskClient, receiver: Receiver) -> None:
    md_order = register(client)
    order_rules(client, md_order, mode="none")
    deleted = client.delete(f"/_control/vpos/orders/{md_order}/callbacks").get_json()
    assert (deleted["rules"], deleted["effective"]) == ({}, DEFAULTS)
    pay(client, md_order)
    assert len(receiver.calls) == 1


@pytest.mark.parametrize("body", BAD_RULES)
def test_bad_order_rules_are_400(client: FlaskClient, body: Any) -> None:
    md_order = register(client)
    response = client.put(f"/_control/vpos/orders/{md_order}/callbacks", json=body)
    assert (response.status_code, response.get_json()["error"]) == (400, "bad_input")
    assert client.get(f"/_control/vpos/orders/{md_order}/callbacks").get_json()["rules"] == {}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/_control/vpos/orders/nope/callbacks", None),
        ("PUT", "/_control/vpos/orders/nope/callbacks", {"mode": "none"}),
        ("DELETE", "/_control/vpos/orders/nope/callbacks", None),
        ("POST", "/_control/vpos/orders/nope/callbacks", {"operation": "deposited", "status": 1}),
        ("POST", "/_control/vpos/orders/nope/callbacks/release", None),
        ("GET", "/_control/vpos/callbacks/999", None),
        ("POST", "/_control/vpos/callbacks/999/deliver", None),
        ("POST", "/_control/vpos/callbacks/999/duplicate", None),
        ("POST", "/_control/vpos/callbacks/999/drop", None),
        ("POST", "/_control/vpos/callbacks/999/move", {"position": 0}),
        ("POST", "/_control/vpos/callbacks/999/replay", None),
    ],
)
def test_unknown_orders_and_callbacks_are_404(
    client: FlaskClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = client.open(path, method=method, json=body)
    assert (response.status_code, response.get_json()["error"]) == (404, "not_found")


def test_a_delay_rule_schedules_the_callback_on_the_virtual_clock(client: FlaskClient, receiver: Receiver) -> None:
    md_order = register(client)
    order_rules(client, md_order, mode="after_return", delaySeconds=120)
    pay(client, md_order)
    [callback] = pending(client, md_order)
    assert (callback["state"], callback["operation"], callback["nextAttempt"]) == ("scheduled", "deposited", 1)
    assert callback["due"] is not None
    jobs = client.get("/_control/clock").get_json()["pendingJobs"]
    assert [job["tags"]["md_order"] for job in jobs] == [md_order]
    advance(client, 119)
    assert receiver.calls == []
    advance(client, 1)
    assert receiver.operations() == ["deposited"]
    assert pending(client) == []


# -- copies, concurrency, method, amount, checksum ------------------------------------------------------------


def test_times_sends_identical_copies_each_with_its_own_id(client: FlaskClient, receiver: Receiver) -> None:
    md_order = register(client)
    order_rules(client, md_order, times=3)
    result = pay_control(client, md_order)
    assert result["callback"]["outcome"] == "delivered"
    assert len(set(result["callback"]["callbackIds"])) == 3
    assert len(receiver.calls) == 3
    assert receiver.params(0) == receiver.params(1) == receiver.params(2)  # same checksum, same creation date


def test_concurrent_copies_are_in_flight_at_the_same_time(client: FlaskClient) -> None:
    together = Receiver(barrier=threading.Barrier(3))
    client = manual(build(together).test_client())
    md_order = register(client)
    order_rules(client, md_order, times=3, concurrent=True)
    result = pay_control(client, md_order)
    assert result["callback"]["outcome"] == "delivered"  # the barrier would have answered 599 otherwise
    assert len(together.calls) == 3


def test_delayed_concurrent_copies_go_out_together(client: FlaskClient) -> None:
    together = Receiver(barrier=threading.Barrier(2))
    client = manual(build(together).test_client())
    client.put("/_control/vpos/callbacks", json={"mode": "after_return", "delaySeconds": 10, "times": 2})
    client.put("/_control/vpos/callbacks", json={"concurrent": True})
    pay_control(client, register(client))
    advance(client, 10)
    statuses = [e["status"] for e in callback_journal(client)]
    assert statuses == [200, 200]


def test_method_rule_overrides_the_configured_method(client: FlaskClient, receiver: Receiver) -> None:
    md_order = register(client)
    order_rules(client, md_order, method="POST")
    pay(client, md_order)
    call = receiver.calls[0]
    assert call["method"] == "POST"
    assert call["form"]["checksum"] == expected_checksum(call["form"], KEY)


def test_without_amount_the_checksum_covers_the_other_parameters(client: FlaskClient, receiver: Receiver) -> None:
    md_order = register(client)
    order_rules(client, md_order, includeAmount=False)
    pay(client, md_order)
    params = receiver.params()
    assert "amount" not in params
    assert params["checksum"] == expected_checksum(params, KEY)


def test_bad_checksum_sends_a_wrong_signature_and_says_so(client: FlaskClient, receiver: Receiver) -> None:
    md_order = register(client)
    order_rules(client, md_order, badChecksum=True)
    pay(client, md_order)
    params = receiver.params()
    assert len(params["checksum"]) == 64
    assert params["checksum"] != expected_checksum(params, KEY)
    assert "bad checksum" in callback_journal(client)[0]["summary"]


def test_bad_checksum_without_a_key_still_sends_a_checksum(receiver: Receiver) -> None:
    client = manual(build(receiver, key=None).test_client())
    client.put("/_control/vpos/callbacks", json={"badChecksum": True})
    pay(client, register(client))
    assert len(receiver.params()["checksum"]) == 64


# -- hold, deliver, duplicate, drop, move, release ------------------------------------------------------------


def test_hold_keeps_the_callback_pending_and_journals_it(client: FlaskClient, receiver: Receiver) -> None:
    md_order, callback_id = held_order(client)
    advance(client, 3600)
    assert receiver.calls == []
    orders = client.get("/_control/vpos/callbacks/pending").get_json()["orders"]
    assert [(o["mdOrder"], o["orderNumber"]) for o in orders] == [(md_order, "N-1")]
    [callback] = orders[0]["callbacks"]
    assert (callback["id"], callback["state"], callback["position"], callback["due"]) == (callback_id, "held", 0, None)
    assert callback["params"]["checksum"] == expected_checksum(callback["params"], KEY)
    held = [
        e
        for e in client.get("/_control/journal?service=vpos").get_json()["entries"]
        if e["operation"] == "callback held"
    ]
    assert held[0]["params"]["mdOrder"] == md_order


def test_deliver_sends_a_pending_callback_now(client: FlaskClient, receiver: Receiver) -> None:
    _, callback_id = held_order(client)
    response = client.post(f"/_control/vpos/callbacks/{callback_id}/deliver")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["state"], [a["httpStatus"] for a in body["attempts"]]) == ("delivered", [200])
    assert receiver.operations() == ["deposited"]
    again = client.post(f"/_control/vpos/callbacks/{callback_id}/deliver")
    assert (again.status_code, again.get_json()["error"]) == (409, "conflict")


def test_a_delivered_callback_that_fails_is_retried_on_schedule(client: FlaskClient) -> None:
    failing = Receiver(statuses=[500])
    client = manual(build(failing).test_client())
    md_order, callback_id = held_order(client)
    body = client.post(f"/_control/vpos/callbacks/{callback_id}/deliver").get_json()
    assert (body["state"], body["nextAttempt"]) == ("scheduled", 2)
    assert [c["id"] for c in pending(client, md_order)] == [callback_id]
    advance(client, 30)
    assert len(failing.calls) == 2
    assert client.get(f"/_control/vpos/callbacks/{callback_id}").get_json()["state"] == "delivered"


def test_deliver_cancels_the_scheduled_job(client: FlaskClient, receiver: Receiver) -> None:
    client.put("/_control/vpos/callbacks", json={"mode": "after_return", "delaySeconds": 60})
    result = pay_control(client, register(client))
    callback_id = result["callback"]["callbackIds"][0]
    client.post(f"/_control/vpos/callbacks/{callback_id}/deliver")
    advance(client, 120)
    assert len(receiver.calls) == 1
    assert client.get("/_control/clock").get_json()["pendingJobs"] == []


def test_drop_removes_a_pending_callback_for_good(client: FlaskClient, receiver: Receiver) -> None:
    md_order, callback_id = held_order(client)
    dropped = client.post(f"/_control/vpos/callbacks/{callback_id}/drop")
    assert (dropped.status_code, dropped.get_json()["state"]) == (200, "dropped")
    assert pending(client) == []
    assert client.post(f"/_control/vpos/callbacks/{callback_id}/drop").status_code == 409
    release = client.post(f"/_control/vpos/orders/{md_order}/callbacks/release").get_json()
    assert release["callbacks"] == []
    assert receiver.calls == []
    assert any(e["operation"] == "callback dropped" for e in client.get("/_control/journal").get_json()["entries"])


def test_drop_cancels_a_scheduled_callback_and_its_job(client: FlaskClient, receiver: Receiver) -> None:
    client.put("/_control/vpos/callbacks", json={"mode": "after_return", "delaySeconds": 60})
    callback_id = pay_control(client, register(client))["callback"]["callbackIds"][0]
    client.post(f"/_control/vpos/callbacks/{callback_id}/drop")
    advance(client, 120)
    assert receiver.calls == []
    assert client.get("/_control/clock").get_json()["pendingJobs"] == []


def test_duplicate_adds_identical_pending_copies_right_after_it(client: FlaskClient, receiver: Receiver) -> None:
    md_order, callback_id = held_order(client)
    inject(client, md_order, operation="refunded", status=1)
    response = client.post(f"/_control/vpos/callbacks/{callback_id}/duplicate", json={"times": 2})
    assert response.status_code == 201
    copies = response.get_json()["callbacks"]
    assert len(copies) == 2
    queue = pending(client, md_order)
    assert [c["operation"] for c in queue] == ["deposited", "deposited", "deposited", "refunded"]
    assert [c["id"] for c in queue[:3]] == [callback_id, copies[0]["id"], copies[1]["id"]]
    assert all(c["params"] == queue[0]["params"] and c["duplicateOf"] == callback_id for c in copies)
    client.post(f"/_control/vpos/orders/{md_order}/callbacks/release")
    assert receiver.operations() == ["deposited", "deposited", "deposited", "refunded"]


def test_duplicate_without_a_body_adds_one_copy(client: FlaskClient) -> None:
    _, callback_id = held_order(client)
    assert len(client.post(f"/_control/vpos/callbacks/{callback_id}/duplicate").get_json()["callbacks"]) == 1


def test_a_duplicate_of_a_scheduled_callback_goes_out_at_the_same_time(client: FlaskClient, receiver: Receiver) -> None:
    client.put("/_control/vpos/callbacks", json={"mode": "after_return", "delaySeconds": 10})
    callback_id = pay_control(client, register(client))["callback"]["callbackIds"][0]
    client.post(f"/_control/vpos/callbacks/{callback_id}/duplicate")
    advance(client, 9)
    assert receiver.calls == []
    advance(client, 1)
    assert len(receiver.calls) == 2


@pytest.mark.parametrize("body", [{"times": 0}, {"times": 21}, {"times": "2"}, {"copies": 2}, []])
def test_bad_duplicate_input_is_400(client: FlaskClient, body: Any) -> None:
    _, callback_id = held_order(client)
    assert client.post(f"/_control/vpos/callbacks/{callback_id}/duplicate", json=body).status_code == 400


def test_only_pending_callbacks_can_be_duplicated_moved_or_dropped(client: FlaskClient) -> None:
    callback_id = pay_control(client, register(client))["callback"]["callbackIds"][0]
    for action, body in (("duplicate", None), ("drop", None), ("move", {"position": 0}), ("deliver", None)):
        response = client.post(f"/_control/vpos/callbacks/{callback_id}/{action}", json=body)
        assert (response.status_code, response.get_json()["error"]) == (409, "conflict"), action


def test_a_later_operation_released_first(client: FlaskClient, receiver: Receiver) -> None:
    """The reorder scenario: deposited is held, a declinedByTimeout is injected, the bank sends the decline first."""
    md_order, deposited = held_order(client)
    declined = inject(client, md_order, operation="declinedByTimeout", status=0)["callbacks"][0]["id"]
    released = client.post(f"/_control/vpos/orders/{md_order}/callbacks/release", json={"ids": [declined, deposited]})
    assert released.status_code == 200
    assert [c["state"] for c in released.get_json()["callbacks"]] == ["delivered", "delivered"]
    assert receiver.operations() == ["declinedByTimeout", "deposited"]
    assert [receiver.params(i)["status"] for i in range(2)] == ["0", "1"]
    assert receiver.params(0)["checksum"] == expected_checksum(receiver.params(0), KEY)


def test_release_without_ids_sends_every_pending_callback_in_queue_order(
    client: FlaskClient, receiver: Receiver
) -> None:
    md_order, _ = held_order(client)
    inject(client, md_order, operation="declinedByTimeout", status=0)
    client.post(f"/_control/vpos/orders/{md_order}/callbacks/release")
    assert receiver.operations() == ["deposited", "declinedByTimeout"]


def test_release_with_some_ids_keeps_the_others_pending(client: FlaskClient, receiver: Receiver) -> None:
    md_order, deposited = held_order(client)
    declined = inject(client, md_order, operation="declinedByTimeout", status=0)["callbacks"][0]["id"]
    client.post(f"/_control/vpos/orders/{md_order}/callbacks/release", json={"ids": [declined]})
    assert receiver.operations() == ["declinedByTimeout"]
    assert [c["id"] for c in pending(client, md_order)] == [deposited]


def test_move_changes_the_release_order(client: FlaskClient, receiver: Receiver) -> None:
    md_order, _ = held_order(client)
    declined = inject(client, md_order, operation="declinedByTimeout", status=0)["callbacks"][0]["id"]
    moved = client.post(f"/_control/vpos/callbacks/{declined}/move", json={"position": 0})
    assert (moved.status_code, moved.get_json()["position"]) == (200, 0)
    assert [c["operation"] for c in pending(client, md_order)] == ["declinedByTimeout", "deposited"]
    client.post(f"/_control/vpos/orders/{md_order}/callbacks/release")
    assert receiver.operations() == ["declinedByTimeout", "deposited"]


def test_moving_scheduled_callbacks_swaps_their_due_times(client: FlaskClient, receiver: Receiver) -> None:
    md_order = register(client)
    order_rules(client, md_order, mode="after_return", delaySeconds=10)
    pay(client, md_order)
    late = inject(client, md_order, operation="declinedByTimeout", status=0, delaySeconds=20)["callbacks"][0]
    early_due = pending(client, md_order)[0]["due"]
    client.post(f"/_control/vpos/callbacks/{late['id']}/move", json={"position": 0})
    queue = pending(client, md_order)
    assert [c["operation"] for c in queue] == ["declinedByTimeout", "deposited"]
    assert queue[0]["due"] == early_due
    advance(client, 10)
    assert receiver.operations() == ["declinedByTimeout"]
    advance(client, 10)
    assert receiver.operations() == ["declinedByTimeout", "deposited"]


@pytest.mark.parametrize("body", [{}, {"position": -1}, {"position": 2}, {"position": "0"}, {"position": True}])
def test_bad_move_input_is_400(client: FlaskClient, body: dict[str, Any]) -> None:
    md_order, callback_id = held_order(client)
    inject(client, md_order, operation="declinedByTimeout", status=0)
    assert client.post(f"/_control/vpos/callbacks/{callback_id}/move", json=body).status_code == 400


@pytest.mark.parametrize(
    "body", [{"ids": "1"}, {"ids": [True]}, {"ids": ["1"]}, {"ids": [999]}, {"order": [1]}, {"ids": []}, []]
)
def test_bad_release_input_is_400(client: FlaskClient, body: Any) -> None:
    md_order, _ = held_order(client)
    response = client.post(f"/_control/vpos/orders/{md_order}/callbacks/release", json=body)
    assert (response.status_code, response.get_json()["error"]) == (400, "bad_input")
    assert len(pending(client, md_order)) == 1


def test_release_refuses_repeated_ids_and_another_orders_callbacks(client: FlaskClient) -> None:
    md_order, callback_id = held_order(client, "N-1")
    _, other_id = held_order(client, "N-2")
    for ids in ([callback_id, callback_id], [other_id]):
        response = client.post(f"/_control/vpos/orders/{md_order}/callbacks/release", json={"ids": ids})
        assert response.status_code == 400
    assert len(pending(client)) == 2


def test_pending_lists_callbacks_per_order_and_filters(client: FlaskClient) -> None:
    first, _ = held_order(client, "N-1")
    second, _ = held_order(client, "N-2")
    orders = client.get("/_control/vpos/callbacks/pending").get_json()["orders"]
    assert [o["mdOrder"] for o in orders] == [first, second]
    assert [c["mdOrder"] for c in pending(client, second)] == [second]
    by_number = client.get("/_control/vpos/callbacks/pending?orderNumber=N-1").get_json()["orders"]
    assert [o["mdOrder"] for o in by_number] == [first]


# -- inject ---------------------------------------------------------------------------------------------------


def test_inject_sends_any_operation_signed_per_the_order_rules(client: FlaskClient, receiver: Receiver) -> None:
    md_order = register(client)
    result = inject(client, md_order, operation="refunded", status=1, amount=1000)
    assert result["outcome"] == "delivered"
    params = receiver.params()
    assert (params["operation"], params["status"], params["amount"], params["mdOrder"]) == (
        "refunded",
        "1",
        "1000",
        md_order,
    )
    assert params["checksum"] == expected_checksum(params, KEY)


def test_inject_accepts_one_off_rules(client: FlaskClient, receiver: Receiver) -> None:
    md_order = register(client)
    result = inject(client, md_order, operation="deposited", status=1, mode="hold", times=2)
    assert result["outcome"] == "held"
    assert len(pending(client, md_order)) == 2
    assert client.get(f"/_control/vpos/orders/{md_order}/callbacks").get_json()["rules"] == {}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"operation": "deposited"},
        {"status": 1},
        {"operation": "paid", "status": 1},
        {"operation": "deposited", "status": 2},
        {"operation": "deposited", "status": "1"},
        {"operation": "deposited", "status": True},
        {"operation": "deposited", "status": 1, "amount": -1},
        {"operation": "deposited", "status": 1, "amount": 1.5},
        {"operation": "deposited", "status": 1, "mode": "sometimes"},
        {"operation": "deposited", "status": 1, "colour": "blue"},
    ],
)
def test_bad_inject_input_is_400(client: FlaskClient, receiver: Receiver, body: dict[str, Any]) -> None:
    md_order = register(client)
    response = client.post(f"/_control/vpos/orders/{md_order}/callbacks", json=body)
    assert (response.status_code, response.get_json()["error"]) == (400, "bad_input")
    assert receiver.calls == []


def test_inject_without_a_callback_url_is_409(client: FlaskClient) -> None:
    app_client = client
    md_order = register(app_client)
    app_client.put("/_control/config", json={"callbackUrl": None})
    response = app_client.post(
        f"/_control/vpos/orders/{md_order}/callbacks", json={"operation": "deposited", "status": 1}
    )
    assert (response.status_code, response.get_json()["error"]) == (409, "conflict")


# -- sent callbacks and replays -------------------------------------------------------------------------------


def test_sent_callbacks_keep_the_exact_parameters(client: FlaskClient, receiver: Receiver) -> None:
    first, second = register(client, "N-1"), register(client, "N-2")
    pay(client, first)
    pay(client, second)
    sent = client.get("/_control/vpos/callbacks/sent").get_json()["callbacks"]
    assert [c["mdOrder"] for c in sent] == [first, second]
    assert sent[0]["params"] == receiver.params(0)  # the checksum included
    assert sent[0]["url"] == "http://merchant.test/bank/callback?source=arca"
    assert (sent[0]["method"], sent[0]["orderNumber"], sent[0]["replayOf"]) == ("GET", "N-1", None)
    only = client.get(f"/_control/vpos/callbacks/sent?mdOrder={second}").get_json()["callbacks"]
    assert [c["mdOrder"] for c in only] == [second]
    one = client.get(f"/_control/vpos/callbacks/{sent[0]['id']}").get_json()
    assert one == sent[0]


def test_replay_sends_the_very_same_parameters_again(client: FlaskClient, receiver: Receiver) -> None:
    md_order = register(client)
    pay(client, md_order)
    original = client.get("/_control/vpos/callbacks/sent").get_json()["callbacks"][0]
    advance(client, 86400)
    response = client.post(f"/_control/vpos/callbacks/{original['id']}/replay")
    assert response.status_code == 201
    replay = response.get_json()
    assert (replay["replayOf"], replay["state"]) == (original["id"], "delivered")
    assert replay["id"] != original["id"]
    assert receiver.params(1) == receiver.params(0)
    assert "replay of #" in callback_journal(client)[-1]["summary"]
    sent = client.get(f"/_control/vpos/callbacks/sent?mdOrder={md_order}").get_json()["callbacks"]
    assert [c["id"] for c in sent] == [original["id"], replay["id"]]


def test_a_replay_is_sent_once_even_when_refused() -> None:
    refusing = Receiver(statuses=[200, 400, 400])
    client = manual(build(refusing).test_client())
    pay(client, register(client))
    original = client.get("/_control/vpos/callbacks/sent").get_json()["callbacks"][0]
    replay = client.post(f"/_control/vpos/callbacks/{original['id']}/replay").get_json()
    assert (replay["state"], [a["httpStatus"] for a in replay["attempts"]]) == ("failed", [400])
    advance(client, 3600)
    assert len(refusing.calls) == 2


def test_a_dropped_callback_can_be_replayed_later(client: FlaskClient, receiver: Receiver) -> None:
    client.put("/_control/vpos/callbacks", json={"mode": "none"})
    callback_id = pay_control(client, register(client))["callback"]["callbackIds"][0]
    client.post(f"/_control/vpos/callbacks/{callback_id}/replay")
    assert receiver.operations() == ["deposited"]


# -- control journal and reset --------------------------------------------------------------------------------


def test_control_actions_are_journaled(client: FlaskClient) -> None:
    md_order, callback_id = held_order(client)
    client.post(f"/_control/vpos/callbacks/{callback_id}/deliver")
    control = [e for e in client.get("/_control/journal?service=control").get_json()["entries"]]
    operations = [e["operation"] for e in control]
    assert "callback rules" in operations
    assert "callback deliver" in operations
    assert any(md_order in e["summary"] for e in control if e["operation"] == "callback rules")


def test_reset_forgets_rules_pending_and_sent_callbacks_and_never_reuses_ids(client: FlaskClient) -> None:
    md_order, callback_id = held_order(client)
    client.post("/_control/reset")
    manual(client)
    assert pending(client) == []
    assert client.get(f"/_control/vpos/callbacks/{callback_id}").status_code == 404
    md_order = register(client)
    assert client.get(f"/_control/vpos/orders/{md_order}/callbacks").get_json()["rules"] == {}
    new_id = pay_control(client, md_order)["callback"]["callbackIds"][0]
    assert new_id > callback_id


def test_an_orders_journal_shows_its_callbacks_and_the_control_actions_on_them(client: FlaskClient) -> None:
    md_order, callback_id = held_order(client, "N-1")
    other, other_id = held_order(client, "N-2")
    client.post(f"/_control/vpos/callbacks/{callback_id}/duplicate")
    client.post(f"/_control/vpos/callbacks/{callback_id}/deliver")
    client.post(f"/_control/vpos/callbacks/{other_id}/drop")
    entries = client.get("/_control/journal", query_string={"order": "N-1"}).get_json()["entries"]
    operations = [e["operation"] for e in entries]
    for expected in ("callback held", "callback duplicate", "callback deliver", "callback"):
        assert expected in operations
    assert "callback drop" not in operations
    assert all(md_order in e["orders"] and other not in e["orders"] for e in entries)
