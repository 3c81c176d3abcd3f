"""The gateway's HTTP surface through Flask's test client, over a real database and the fakes: status codes, the
generic error page, redirects, and that nothing from a request or the settings leaks into pages or logs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from gateway import create_app
from gateway.domain.errors import ProviderError
from gateway.domain.states import AttemptStatus
from gateway.services.messages import MESSAGES
from gateway.store.database import Database
from tests.gateway_fakes import (
    CLIENT_SECRET,
    ECWID_TOKEN,
    RETURN_URL,
    STORE_ID,
    Gateway,
    ecwid_form,
    ecwid_payload,
    encrypt_cbc,
    encrypt_gcm,
    make_settings,
    sign_callback,
    unavailable,
)

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@pytest.fixture
def app(gw: Gateway) -> Flask:
    return create_app(context=gw.ctx)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as test_client:
        yield test_client


def pay(client: FlaskClient, form: dict[str, str] | None = None, agent: str = DESKTOP) -> str:
    response = client.post("/ecwid/payment", data=form or ecwid_form(), headers={"User-Agent": agent})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def the_attempt_number(gw: Gateway) -> str:
    (attempt,) = gw.attempts()
    return attempt.order_number


# --- Ecwid paymentUrl ---------------------------------------------------------------------------------------------


def with_order(**fields: Any) -> dict[str, Any]:
    """The example payload with ``cart.order`` fields replaced."""
    payload = ecwid_payload()
    payload["cart"]["order"].update(fields)
    return payload


INVALID_BODIES: dict[str, Callable[[], dict[str, str]]] = {
    "wrong-key": lambda: ecwid_form(ecwid_payload(), "a-different-client-secret-123"),
    "unsupported-currency": lambda: {"enc_data": encrypt_gcm(ecwid_payload(currency="GBP"))},
    "bad-return-url": lambda: {"enc_data": encrypt_gcm(ecwid_payload(return_url="javascript:alert(1)"))},
    "no-token": lambda: {"enc_data": encrypt_gcm(ecwid_payload(token=""))},
    "garbage": lambda: {"enc_data": "not-encrypted-at-all", "data": "x"},
    "empty": lambda: {},
    # correctly encrypted, hostile fields: each used to reach the database or the redirect and give a 500
    "lang-lone-surrogate": lambda: ecwid_form(ecwid_payload(lang="\ud800")),
    "total-1e300": lambda: ecwid_form(ecwid_payload(total=1e300)),
    "internal-id-2**63": lambda: ecwid_form(with_order(internalId=2**63)),
    "internal-id-negative": lambda: ecwid_form(with_order(internalId=-1)),
    "nul-in-return-url": lambda: ecwid_form(ecwid_payload(return_url=RETURN_URL + "\x00")),
    "nul-in-lang": lambda: ecwid_form(ecwid_payload(lang="en\x00")),
    "nul-in-order-id": lambda: ecwid_form(ecwid_payload(order_id="XJ\x0012H")),
    "nul-in-reference": lambda: ecwid_form(ecwid_payload(reference="transaction_\x00")),
    "crlf-in-return-url": lambda: ecwid_form(ecwid_payload(return_url=RETURN_URL + "\r\nSet-Cookie: a=b")),
    "lf-in-return-url": lambda: {"data": encrypt_cbc(ecwid_payload(return_url=RETURN_URL.replace("?", "\n?")))},
    "space-in-return-url": lambda: ecwid_form(ecwid_payload(return_url=RETURN_URL.replace("checkout", "check out"))),
    "c1-in-return-url": lambda: ecwid_form(ecwid_payload(return_url=RETURN_URL + "\x85")),
    "nul-in-token": lambda: ecwid_form(ecwid_payload(token=ECWID_TOKEN + "\x00")),
}


@pytest.mark.parametrize("make_body", list(INVALID_BODIES.values()), ids=list(INVALID_BODIES))
def test_invalid_payment_request_gets_the_generic_page_and_stores_nothing(
    gw: Gateway, client: FlaskClient, caplog: pytest.LogCaptureFixture, make_body: Callable[[], dict[str, str]]
) -> None:
    caplog.set_level(logging.DEBUG)
    body = make_body()

    response = client.post("/ecwid/payment", data=body, headers={"User-Agent": DESKTOP})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert MESSAGES["en"]["generic_error"] in page
    assert 'data-testid="gateway-error"' in page
    assert set(gw.row_counts().values()) == {0}
    assert gw.provider.register_calls == 0
    logs = caplog.text + "".join(str(r.args) for r in caplog.records)
    forbidden = [*body.values(), *gw.settings.secret_values, ECWID_TOKEN, CLIENT_SECRET, RETURN_URL, "mystore.example"]
    for value in forbidden:
        if len(value) >= 4:
            assert value not in page
            assert value not in logs
    assert "payment_request_rejected" in caplog.text


@pytest.mark.parametrize(
    ("total", "internal_id", "minor"),
    [(21474836.48, 2**31, 2**31), (15000.0, 2**62, 1500000)],
    ids=["amount-2**31-minor-units", "internal-id-2**62"],
)
def test_amounts_and_ids_beyond_32_bits_are_accepted_and_stored(
    gw: Gateway, client: FlaskClient, total: float, internal_id: int, minor: int
) -> None:
    pay(client, ecwid_form(with_order(total=total, internalId=internal_id)))
    session = gw.payment_session()
    assert (session.amount_minor, session.ecwid_internal_id) == (minor, internal_id)
    assert gw.provider.registrations[0].amount.minor == minor


def test_valid_payment_request_redirects_to_the_bank_page(gw: Gateway, client: FlaskClient) -> None:
    location = pay(client, agent=IPHONE)
    (attempt,) = gw.attempts()
    assert location == attempt.form_url
    assert location.startswith(gw.provider.form_url_base)
    assert gw.provider.registrations[0].page_view == "MOBILE"


def test_repeated_payment_request_redirects_to_the_same_bank_page(gw: Gateway, client: FlaskClient) -> None:
    assert pay(client) == pay(client) == pay(client, {"data": ecwid_form()["data"]})
    assert gw.provider.register_calls == 1


def test_payment_request_logs_no_secrets(gw: Gateway, client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    form = ecwid_form()
    pay(client, form)
    for value in [*form.values(), *gw.settings.secret_values, ECWID_TOKEN]:
        assert value not in caplog.text


def test_bank_refusing_registration_shows_a_page_with_a_way_back(gw: Gateway, client: FlaskClient) -> None:
    gw.provider.fail_next_register(ProviderError("register.do errorCode 5: bad value", error_code="5"))
    response = client.post("/ecwid/payment", data=ecwid_form(), headers={"User-Agent": DESKTOP})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert MESSAGES["en"]["bank_unavailable"] in page
    assert 'id="back-to-store"' in page
    assert "errorMsg=" in page
    assert [a.status for a in gw.attempts()] == [AttemptStatus.REGISTER_FAILED]
    assert pay(client) == gw.attempts()[1].form_url  # the customer's retry works


# --- bank callback ------------------------------------------------------------------------------------------------


def test_callback_with_bad_checksum_is_refused_and_changes_nothing(gw: Gateway, client: FlaskClient) -> None:
    pay(client)
    number = the_attempt_number(gw)
    gw.provider.set_status(number, 2)
    params = gw.signed_callback(number)
    params["checksum"] = "0" * 64
    before = gw.row_counts()

    get = client.get("/vpos/callback", query_string=params)
    post = client.post("/vpos/callback", data=params)

    assert (get.status_code, post.status_code) == (400, 400)
    assert gw.row_counts() == before
    assert gw.attempt(number).status == AttemptStatus.REGISTERED
    assert gw.provider.status_calls == []


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_valid_signed_callback_answers_200_after_the_state_changed(
    gw: Gateway, client: FlaskClient, method: str
) -> None:
    pay(client)
    number = the_attempt_number(gw)
    gw.provider.set_status(number, 2)
    params = gw.signed_callback(number)

    if method == "GET":
        response = client.get("/vpos/callback", query_string=params)
    else:
        response = client.post("/vpos/callback", data=params)

    assert response.status_code == 200
    assert gw.attempt(number).status == AttemptStatus.PAID
    assert gw.ecwid.statuses() == ["PAID"]


def test_callback_for_an_unknown_order_answers_200_so_the_bank_stops(gw: Gateway, client: FlaskClient) -> None:
    params = sign_callback({"mdOrder": "9d1c3f1e-0000-4000-8000-000000000000", "orderNumber": "VNOPE", "status": "1"})
    response = client.get("/vpos/callback", query_string=params)
    assert response.status_code == 200
    counts = gw.row_counts()
    assert counts.pop("operator_exceptions") == 1  # signed money on an order we never registered: a person looks
    assert set(counts.values()) == {0}


def test_callback_when_the_bank_status_is_unavailable_answers_503(gw: Gateway, client: FlaskClient) -> None:
    pay(client)
    number = the_attempt_number(gw)
    gw.provider.set_status(number, 2)
    gw.provider.status_error = unavailable()

    response = client.post("/vpos/callback", data=gw.signed_callback(number))

    assert response.status_code == 503
    assert gw.attempt(number).status == AttemptStatus.REGISTERED
    gw.provider.status_error = None
    assert client.post("/vpos/callback", data=gw.signed_callback(number)).status_code == 200  # the bank's retry
    assert gw.attempt(number).status == AttemptStatus.PAID


# --- customer return ----------------------------------------------------------------------------------------------


def test_return_after_payment_redirects_to_return_url_exactly(gw: Gateway, client: FlaskClient) -> None:
    pay(client)
    number = the_attempt_number(gw)
    md_order = gw.provider.set_status(number, 2)

    response = client.get("/vpos/return", query_string={"attempt": number, "orderId": md_order, "lang": "en"})

    assert response.status_code == 303
    assert response.headers["Location"] == RETURN_URL
    assert gw.ecwid.statuses() == ["PAID"]  # Ecwid was updated before the redirect


def test_return_after_decline_redirects_with_the_error_message(gw: Gateway, client: FlaskClient) -> None:
    pay(client, ecwid_form(ecwid_payload(lang="ru")))
    number = the_attempt_number(gw)
    md_order = gw.provider.set_status(number, 6, action_code="101")

    response = client.get("/vpos/return", query_string={"attempt": number, "orderId": md_order})

    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(RETURN_URL + "&errorMsg=")
    assert parse_qs(urlsplit(location).query)["errorMsg"] == [MESSAGES["ru"]["expired_card"]]
    assert gw.ecwid.puts == []  # INCOMPLETE is what Ecwid already shows


def test_return_while_the_bank_is_unavailable_shows_a_refreshing_page(gw: Gateway, client: FlaskClient) -> None:
    pay(client)
    number = the_attempt_number(gw)
    gw.provider.status_error = unavailable()
    response = client.get("/vpos/return", query_string={"attempt": number, "orderId": gw.provider.md_order(number)})
    assert response.status_code == 202
    page = response.get_data(as_text=True)
    assert 'data-testid="processing"' in page
    assert 'http-equiv="refresh"' in page


def test_return_for_an_unknown_order_shows_the_not_found_page(gw: Gateway, client: FlaskClient) -> None:
    response = client.get("/vpos/return", query_string={"orderId": "9d1c3f1e-0000-4000-8000-000000000000"})
    assert response.status_code == 404
    assert MESSAGES["en"]["unknown_payment"] in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/readyz", "/health"])
def test_ready_answers_200_with_its_checks_and_the_provider_mode(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "provider_mode": "TEST",
        "checks": {"database": "ok", "schema": "ok"},
    }


def test_alive_answers_without_the_database(gw: Gateway, client: FlaskClient) -> None:
    working, gw.ctx.db = gw.ctx.db, Database("postgresql+psycopg://nobody@127.0.0.1:9/gone")
    try:
        assert client.get("/healthz").get_json() == {"status": "ok"}
        response = client.get("/readyz")
    finally:
        gw.ctx.db.dispose()
        gw.ctx.db = working
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["checks"]["database"].startswith("unavailable (")
    assert "sqlite" not in response.get_data(as_text=True) and "postgres" not in response.get_data(as_text=True)


def test_ready_is_503_when_the_schema_is_behind(gw: Gateway, client: FlaskClient) -> None:
    with gw.ctx.db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "vposlab-gateway migrate" in response.get_json()["checks"]["schema"]


# --- per-store allow-list of returnUrl hosts ----------------------------------------------------------------------


@pytest.fixture
def listed_client(database_url: str) -> Iterator[tuple[Gateway, FlaskClient]]:
    settings = make_settings(database_url, ecwid_return_hosts={STORE_ID: ["mystore.example", "*.company.site"]})
    gateway = Gateway.build(settings)
    try:
        with create_app(context=gateway.ctx).test_client() as test_client:
            yield gateway, test_client
    finally:
        gateway.close()


@pytest.mark.parametrize(
    "return_url", [RETURN_URL, "https://shop.company.site/checkout?key=k"], ids=["exact", "wildcard"]
)
def test_a_return_url_on_the_stores_list_is_accepted(
    listed_client: tuple[Gateway, FlaskClient], return_url: str
) -> None:
    gw, client = listed_client
    pay(client, ecwid_form(ecwid_payload(return_url=return_url)))
    assert gw.payment_session().return_url == return_url


@pytest.mark.parametrize(
    "return_url",
    ["https://evil.example/checkout", "https://company.site/checkout", "https://mystore.example@evil.example/"],
    ids=["foreign", "wildcard-apex", "userinfo-trick"],
)
def test_a_return_url_off_the_stores_list_gets_the_generic_page_and_stores_nothing(
    listed_client: tuple[Gateway, FlaskClient], return_url: str
) -> None:
    gw, client = listed_client
    response = client.post("/ecwid/payment", data=ecwid_form(ecwid_payload(return_url=return_url)))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert MESSAGES["en"]["generic_error"] in page
    assert "evil.example" not in page
    assert set(gw.row_counts().values()) == {0}
    assert gw.provider.register_calls == 0


def test_without_a_list_a_foreign_return_url_is_followed(gw: Gateway, client: FlaskClient) -> None:
    # Authenticated by the client secret, so Ecwid's choice: followed exactly as received (module docstring).
    pay(client, ecwid_form(ecwid_payload(return_url="https://elsewhere.example/thanks")))
    assert gw.payment_session().return_url == "https://elsewhere.example/thanks"
