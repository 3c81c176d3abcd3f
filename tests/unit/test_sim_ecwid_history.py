"""Every PUT an Ecwid order receives, accepted or refused, in ``GET /_control/ecwid/orders/{storeId}/{ref}/history``
and on the dashboard; and ``order.updated`` webhooks, signed, delivered in the background to a real local HTTP
receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import flask
import pytest
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app
from simulator.app import get_state

SECRET = "abcdefghijklmnopQRSTUVWXYZ"
TOKEN = "secret_token_1003"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app() -> flask.Flask:
    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/ecwid/payment",
        stores=(
            EcwidStore(1003, SECRET, TOKEN, app_client_id="my-pay-app"),
            EcwidStore(2004, "zyxwvutsrqponmlk-other", "secret_token_2004"),
        ),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
    )
    return create_app(config)


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return app.test_client()


def new_order(client: FlaskClient) -> dict[str, Any]:
    response = client.post("/_control/ecwid/orders", json={"storeId": 1003, "total": 2014.97})
    assert response.status_code == 201
    body: dict[str, Any] = response.get_json()
    return body


def history(client: FlaskClient, ref: str) -> list[dict[str, Any]]:
    response = client.get(f"/_control/ecwid/orders/1003/{ref}/history")
    assert response.status_code == 200
    entries: list[dict[str, Any]] = response.get_json()["history"]
    return entries


def test_accepted_puts_are_kept_with_time_fields_app_and_masked_token(client: FlaskClient) -> None:
    order = new_order(client)
    client.post("/_control/clock/advance", json={"seconds": 3600})
    sent = {"paymentStatus": "PAID", "externalTransactionId": "md-123", "paymentMessage": "Approved"}
    assert (
        client.put(f"/api/v3/1003/orders/{order['referenceTransactionId']}", json=sent, headers=AUTH).status_code == 200
    )
    [entry] = history(client, order["id"])
    assert entry["accepted"] is True
    assert entry["httpStatus"] == 200
    assert entry["fields"] == sent
    assert entry["oldPaymentStatus"] == "INCOMPLETE"
    assert entry["newPaymentStatus"] == "PAID"
    assert entry["app"] == "my-pay-app"
    assert entry["token"] == "***1003"
    assert TOKEN not in json.dumps(entry)
    assert entry["ref"] == order["referenceTransactionId"]
    clock = client.get("/_control/clock").get_json()
    assert entry["at"][:13] == clock["now"][:13]  # virtual time, an hour ahead of the wall clock


def test_refused_puts_are_listed_with_their_status_and_change_nothing(client: FlaskClient) -> None:
    order = new_order(client)
    url = f"/api/v3/1003/orders/{order['id']}"
    fault = client.post("/_control/ecwid/faults", json={"fault": "http_503", "times": 1}).get_json()
    client.put(url, json={"paymentStatus": "PAID"}, headers=AUTH)
    client.put(url, json={"paymentStatus": "PAID"}, headers={"Authorization": "Bearer wrong-token-xyz"})
    client.put(url, json={"paymentStatus": "NOPE"}, headers=AUTH)
    client.put(url, data="paymentStatus=PAID", headers=AUTH)
    client.put(url, json={"paymentStatus": "PAID"}, headers=AUTH)
    entries = history(client, order["id"])
    assert [(e["accepted"], e["httpStatus"], e["errorCode"]) for e in entries] == [
        (False, 503, "SERVICE_UNAVAILABLE"),
        (False, 403, "INVALID_API_TOKEN"),
        (False, 400, "WRONG_PARAMETER"),
        (False, 415, "UNSUPPORTED_MEDIA_TYPE"),
        (True, 200, None),
    ]
    assert entries[0]["fault"] == fault["id"]
    assert entries[0]["fields"] == {"paymentStatus": "PAID"}
    assert entries[0]["newPaymentStatus"] is None
    assert entries[1]["app"] is None  # not the store's token
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    # the order's own history (GET /_control/ecwid/orders/...) keeps accepted updates only, as before
    stored = client.get(f"/_control/ecwid/orders/1003/{order['id']}").get_json()
    assert [h["fields"] for h in stored["history"]] == [{"paymentStatus": "PAID"}]


def test_rate_limited_puts_are_in_the_history(client: FlaskClient) -> None:
    order = new_order(client)
    client.put("/_control/ecwid/rate-limit", json={"requestsPerMinute": 1})
    url = f"/api/v3/1003/orders/{order['id']}"
    client.put(url, json={"paymentStatus": "AWAITING_PAYMENT"}, headers=AUTH)
    client.put(url, json={"paymentStatus": "PAID"}, headers=AUTH)
    entries = history(client, str(order["internalId"]))
    assert [(e["httpStatus"], e["errorCode"]) for e in entries] == [(200, None), (429, "RATE_LIMITED")]


def test_history_of_an_unknown_order_is_404(client: FlaskClient) -> None:
    assert client.get("/_control/ecwid/orders/1003/nope/history").status_code == 404


def test_the_dashboard_shows_accepted_and_refused_puts(client: FlaskClient) -> None:
    order = new_order(client)
    url = f"/api/v3/1003/orders/{order['id']}"
    client.post("/_control/ecwid/faults", json={"fault": "conflict", "times": 1})
    client.put(url, json={"paymentStatus": "PAID"}, headers=AUTH)
    client.put(url, json={"paymentStatus": "PAID", "externalTransactionId": "md-9"}, headers=AUTH)
    page = client.get(f"/_control/dashboard/ecwid/1003/{order['id']}").get_data(as_text=True)
    table = re.search(r'id="ecwid-history".*?</table>', page, re.S)
    assert table
    rows = re.findall(r"<tr data-accepted=\"(\w+)\">(.*?)</tr>", table.group(0), re.S)
    assert [accepted for accepted, _ in rows] == ["false", "true"]
    assert "refused 409" in rows[0][1]
    assert "CONFLICT" in rows[0][1]
    assert "md-9" in rows[1][1]
    assert "INCOMPLETE → PAID" in rows[1][1]
    assert TOKEN not in page


def test_the_dashboard_lists_ecwid_faults_rate_limit_and_webhooks(client: FlaskClient) -> None:
    client.post("/_control/ecwid/faults", json={"fault": "rate_limited", "token": TOKEN, "retryAfterSeconds": 42})
    client.put("/_control/ecwid/rate-limit", json={"requestsPerMinute": 7})
    client.put("/_control/ecwid/webhooks", json={"url": "http://127.0.0.1:9/hook"})
    page = client.get("/_control/dashboard").get_data(as_text=True)
    section = re.search(r'<section id="ecwid".*?</section>', page, re.S)
    assert section
    text = section.group(0)
    assert "rate_limited" in text
    assert "Retry-After 42" in text
    assert "***1003" in text
    assert TOKEN not in page
    assert 'data-testid="ecwid-rate-limit">7<' in text
    assert "http://127.0.0.1:9/hook" in text


# -- webhooks -----------------------------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    calls: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.calls.append(  # type: ignore[attr-defined]
            {"path": self.path, "headers": dict(self.headers.items()), "body": self.rfile.read(length)}
        )
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.calls = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def _url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/ecwid/webhook"


def test_a_status_change_posts_a_signed_order_updated_webhook(
    app: flask.Flask, client: FlaskClient, receiver: ThreadingHTTPServer
) -> None:
    order = new_order(client)
    settings = client.put("/_control/ecwid/webhooks", json={"url": _url(receiver)}).get_json()
    assert settings["enabled"] is True
    response = client.put(f"/api/v3/1003/orders/{order['id']}", json={"paymentStatus": "PAID"}, headers=AUTH)
    assert response.status_code == 200
    get_state(app).ecwid_webhooks.join()
    [call] = receiver.calls  # type: ignore[attr-defined]
    assert call["path"] == "/ecwid/webhook"
    event = json.loads(call["body"])
    assert event["eventType"] == "order.updated"
    assert event["storeId"] == 1003
    assert event["entityId"] == order["internalId"]
    assert event["data"] == {"orderId": order["id"], "oldPaymentStatus": "INCOMPLETE", "newPaymentStatus": "PAID"}
    assert isinstance(event["eventCreated"], int)
    assert set(event) == {"eventId", "eventCreated", "storeId", "entityId", "eventType", "data"}
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{event['eventCreated']}.{event['eventId']}".encode(), hashlib.sha256).digest()
    ).decode()
    assert call["headers"]["X-Ecwid-Webhook-Signature"] == expected
    deliveries = client.get("/_control/ecwid/webhooks").get_json()["deliveries"]
    assert [(d["eventId"], d["httpStatus"], d["error"]) for d in deliveries] == [(event["eventId"], 200, None)]


def test_no_webhook_when_the_status_does_not_change_or_the_put_is_refused(
    app: flask.Flask, client: FlaskClient, receiver: ThreadingHTTPServer
) -> None:
    order = new_order(client)
    url = f"/api/v3/1003/orders/{order['id']}"
    client.put("/_control/ecwid/webhooks", json={"url": _url(receiver)})
    client.put(url, json={"externalTransactionId": "md-1"}, headers=AUTH)
    client.put(url, json={"paymentStatus": "INCOMPLETE"}, headers=AUTH)
    client.post("/_control/ecwid/faults", json={"fault": "http_500", "times": 1})
    client.put(url, json={"paymentStatus": "PAID"}, headers=AUTH)
    get_state(app).ecwid_webhooks.join()
    assert receiver.calls == []  # type: ignore[attr-defined]


def test_webhooks_can_be_limited_to_one_store_and_switched_off(
    app: flask.Flask, client: FlaskClient, receiver: ThreadingHTTPServer
) -> None:
    order = new_order(client)
    client.put("/_control/ecwid/webhooks", json={"url": _url(receiver), "storeId": 2004})
    client.put(f"/api/v3/1003/orders/{order['id']}", json={"paymentStatus": "PAID"}, headers=AUTH)
    off = client.delete("/_control/ecwid/webhooks").get_json()
    assert off["enabled"] is False
    client.put(f"/api/v3/1003/orders/{order['id']}", json={"paymentStatus": "CANCELLED"}, headers=AUTH)
    get_state(app).ecwid_webhooks.join()
    assert receiver.calls == []  # type: ignore[attr-defined]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_failed_delivery_is_journaled_and_never_blocks_the_put(app: flask.Flask, client: FlaskClient) -> None:
    order = new_order(client)
    client.put("/_control/ecwid/webhooks", json={"url": f"http://127.0.0.1:{_closed_port()}/hook"})
    started = time.monotonic()
    response = client.put(f"/api/v3/1003/orders/{order['id']}", json={"paymentStatus": "PAID"}, headers=AUTH)
    assert response.status_code == 200
    assert time.monotonic() - started < 2
    get_state(app).ecwid_webhooks.join()
    [delivery] = client.get("/_control/ecwid/webhooks").get_json()["deliveries"]
    assert delivery["httpStatus"] is None
    assert delivery["error"] == "ConnectError"
    entries = client.get(f"/_control/journal?service=ecwid&order={order['id']}").get_json()["entries"]
    webhook = [e for e in entries if e["operation"] == "webhook order.updated"]
    assert webhook
    assert webhook[0]["direction"] == "out"
    assert "error ConnectError" in webhook[0]["summary"]


@pytest.mark.parametrize("body", [{}, {"url": "ftp://x"}, {"url": 5}, {"url": "http://x", "secret": "s"}])
def test_bad_webhook_settings_are_400(client: FlaskClient, body: dict[str, Any]) -> None:
    assert client.put("/_control/ecwid/webhooks", json=body).status_code == 400
