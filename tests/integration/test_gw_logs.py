"""Structured logs: JSON lines with the request id, and a payment trace id that follows one payment from the
paymentUrl request through its callback to the worker's Ecwid update; a configured secret never shows."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from gateway import create_app
from gateway.logs import configure_logging
from gateway.services.outbox import relay
from tests.gateway_fakes import CALLBACK_KEY, Gateway, ecwid_form


@pytest.fixture
def json_logs(gw: Gateway) -> Iterator[Any]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out = io.StringIO()
    configure_logging("INFO", "json", gw.settings.secret_values, stream=out)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]

    yield lines
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def test_a_payment_is_traced_from_the_payment_url_to_the_ecwid_update(gw: Gateway, json_logs: Any) -> None:
    client = create_app(context=gw.ctx).test_client()
    started = client.post("/ecwid/payment", data=ecwid_form(), headers={"X-Request-ID": "shop-req-0001"})
    assert started.headers["X-Request-ID"] == "shop-req-0001"
    (attempt,) = gw.attempts()
    gw.provider.set_status(attempt.order_number, 2)
    gw.ecwid.fail_next(503)  # the callback's own delivery fails: the worker delivers later, outside any request
    callback = client.get("/vpos/callback", query_string=gw.signed_callback(attempt.order_number))
    callback_id = callback.headers["X-Request-ID"]
    assert callback_id != "shop-req-0001"
    gw.clock.advance(gw.settings.ecwid_backoff_max_s + 1)
    assert relay(gw.ctx).sent == 1  # as the worker does, outside any request
    lines = json_logs()
    by_event = {line["event"].split()[0]: line for line in lines}
    registered = by_event["attempt_registered"]
    assert (registered["request_id"], registered["payment"]) == ("shop-req-0001", "shop-req-0001")
    changed = by_event["attempt_transition"]
    assert (changed["request_id"], changed["payment"]) == (callback_id, "shop-req-0001")
    updated = by_event["ecwid_updated"]
    assert updated["payment"] == "shop-req-0001" and "request_id" not in updated
    for line in lines:
        assert {"timestamp", "level", "logger", "event"} <= set(line)


def test_an_unusable_request_id_is_replaced(gw: Gateway, json_logs: Any) -> None:
    client = create_app(context=gw.ctx).test_client()
    for offered in ("short", "x" * 65, "bad id with spaces", "evil\u2028id-123"):
        answer = client.get("/healthz", headers={"X-Request-ID": offered})
        assert answer.headers["X-Request-ID"] != offered
        assert len(answer.headers["X-Request-ID"]) == 32


def test_a_secret_that_reaches_a_log_line_is_masked(gw: Gateway, json_logs: Any) -> None:
    logging.getLogger("gateway.test").warning("oops key=%s", CALLBACK_KEY)
    (line,) = [line for line in json_logs() if line["logger"] == "gateway.test"]
    assert CALLBACK_KEY not in json.dumps(line)
    assert "***" in line["event"]
