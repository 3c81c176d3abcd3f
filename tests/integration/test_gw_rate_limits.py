"""The paymentUrl is rate-limited per client address (the one the trusted proxy hops name); the bank's callbacks and
the customers' returns never are; an empty limit switches it off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from gateway import create_app
from tests.gateway_fakes import Gateway, ecwid_form, make_settings


@pytest.fixture
def limited(database_url: str) -> Iterator[tuple[Gateway, FlaskClient]]:
    gateway = Gateway.build(make_settings(database_url, payment_rate_limit="3 per minute", proxy_hops=1))
    try:
        yield gateway, create_app(context=gateway.ctx).test_client()
    finally:
        gateway.close()


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def test_the_payment_url_is_limited_per_client_address(limited: tuple[Gateway, FlaskClient]) -> None:
    gw, client = limited
    form = ecwid_form()
    answers = [client.post("/ecwid/payment", data=form, headers=from_address("198.51.100.1")) for _ in range(4)]
    assert [a.status_code for a in answers] == [303, 303, 303, 429]
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) > 0
    assert "<html" in refused.get_data(as_text=True).lower()  # the gateway's own page
    assert gw.provider.register_calls == 1  # the refused one reached nothing
    other = client.post("/ecwid/payment", data=form, headers=from_address("198.51.100.2"))
    assert other.status_code == 303


def test_callbacks_and_returns_are_never_rate_limited(limited: tuple[Gateway, FlaskClient]) -> None:
    gw, client = limited
    client.post("/ecwid/payment", data=ecwid_form(), headers=from_address("198.51.100.1"))
    (attempt,) = gw.attempts()
    for _ in range(10):
        callback = client.get(
            "/vpos/callback",
            query_string=gw.signed_callback(attempt.order_number),
            headers=from_address("198.51.100.1"),
        )
        assert callback.status_code != 429
        back = client.get(
            "/vpos/return",
            query_string={"orderId": attempt.provider_order_id, "attempt": attempt.order_number},
            headers=from_address("198.51.100.1"),
        )
        assert back.status_code != 429


def test_an_empty_limit_switches_it_off(database_url: str) -> None:
    gateway = Gateway.build(make_settings(database_url, payment_rate_limit=""))
    try:
        client = create_app(context=gateway.ctx).test_client()
        form = ecwid_form()
        assert {client.post("/ecwid/payment", data=form).status_code for _ in range(130)} == {303}
    finally:
        gateway.close()


def test_a_limit_that_is_not_a_limit_is_refused_at_start(database_url: str) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        make_settings(database_url, payment_rate_limit="lots")
