"""Every error page is the gateway's own: werkzeug's HTTP errors (unknown path, wrong method, oversized body) and
unexpected exceptions get the generic page (plain text on /vpos/callback) with the right status, never echoing
the request. The request size limit comes from ``Settings.max_request_bytes``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway import create_app
from gateway.services.messages import MESSAGES
from tests.gateway_fakes import Gateway, ecwid_form, make_settings

MARKER = "zq-echo-marker-7731"


@pytest.fixture
def app(gw: Gateway) -> Flask:
    app = create_app(context=gw.ctx)

    def explode() -> str:
        raise RuntimeError(f"internal detail {MARKER}")

    # Stand-ins for a view that fails unexpectedly: same app, same error handling.
    app.add_url_rule("/test-only/explode", view_func=explode)
    app.add_url_rule("/vpos/callback/test-only-explode", endpoint="callback_explode", view_func=explode)
    return app


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as test_client:
        yield test_client


def assert_our_page(response: TestResponse, status: int) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == status, page
    assert response.mimetype == "text/html"
    assert 'data-testid="gateway-error"' in page
    assert MESSAGES["en"]["generic_error"] in page
    assert "Werkzeug" not in page and "werkzeug" not in page
    assert MARKER not in page
    return page


def assert_plain(response: TestResponse, status: int) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code == status, body
    assert response.mimetype == "text/plain"
    assert len(body) < 64 and "<" not in body
    assert MARKER not in body
    return body


def test_an_unknown_path_gets_our_404_page_without_echoing_it(client: FlaskClient) -> None:
    assert_our_page(client.get(f"/{MARKER}/<script>"), 404)
    assert_our_page(client.post(f"/ecwid/{MARKER}", data={"x": MARKER}), 404)


def test_an_unknown_path_under_the_callback_gets_plain_text(client: FlaskClient) -> None:
    assert_plain(client.get(f"/vpos/callback/{MARKER}"), 404)


def test_a_wrong_method_gets_our_405_page_with_the_allowed_methods(client: FlaskClient) -> None:
    response = client.get(f"/ecwid/payment?x={MARKER}")
    assert_our_page(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"POST"}


def test_a_wrong_method_on_the_callback_gets_plain_text_with_the_allowed_methods(client: FlaskClient) -> None:
    response = client.put("/vpos/callback", data={"mdOrder": MARKER})
    assert_plain(response, 405)
    assert {"GET", "POST"} <= set(response.headers["Allow"].replace(" ", "").split(","))


def test_an_unexpected_exception_gets_our_500_page_without_its_message(client: FlaskClient) -> None:
    assert_our_page(client.get("/test-only/explode"), 500)
    assert_plain(client.get("/vpos/callback/test-only-explode"), 500)


def test_the_request_limit_defaults_to_one_mebibyte_for_bodies_and_forms(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert app.config["MAX_FORM_MEMORY_SIZE"] == 1024 * 1024


def test_a_body_over_the_default_limit_gets_our_413_page(gw: Gateway, client: FlaskClient) -> None:
    response = client.post("/ecwid/payment", data={"enc_data": "A" * (1024 * 1024)})
    assert_our_page(response, 413)
    assert set(gw.row_counts().values()) == {0}


@pytest.fixture
def small_limit_client(database_url: str) -> Iterator[tuple[Gateway, FlaskClient]]:
    gateway = Gateway.build(make_settings(database_url, max_request_bytes=8 * 1024))
    try:
        with create_app(context=gateway.ctx).test_client() as test_client:
            yield gateway, test_client
    finally:
        gateway.close()


def test_the_configured_limit_is_enforced_with_our_pages(small_limit_client: tuple[Gateway, FlaskClient]) -> None:
    gw, client = small_limit_client
    big = "A" * (9 * 1024)

    assert_our_page(client.post("/ecwid/payment", data={"enc_data": big}), 413)
    assert_plain(client.post("/vpos/callback", data={"mdOrder": big}), 413)
    assert_our_page(client.post("/ecwid/payment", data=big, content_type="application/octet-stream"), 413)
    assert set(gw.row_counts().values()) == {0}
    # a request under the limit is processed as usual
    assert client.post("/ecwid/payment", data=ecwid_form()).status_code == 303
