"""The bank's hosted card page as a shopper meets it: card autofill hints, numeric keyboards, the number grouped as
typed (inline script, no external assets), every form error at once next to its field, and the TEST card table."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import flask
import pytest
from flask.testing import FlaskClient

from simulator import EcwidStore, SimulatorConfig, VposMerchant, create_app
from simulator.vpos import cards, hosted_page
from simulator.vpos.texts import TEXTS

CREDS = {"userName": "shop_amd", "password": "pw-amd"}


@pytest.fixture
def client() -> FlaskClient:
    config = SimulatorConfig(
        public_url="http://sim.test",
        payment_url="http://gw.test/ecwid/payment",
        stores=(EcwidStore(1003, "abcdefghijklmnop-secret", "secret_token_1003"),),
        merchants=(VposMerchant("shop_amd", "pw-amd", "051"),),
    )
    app: flask.Flask = create_app(config)
    return app.test_client()


def open_page(client: FlaskClient, lang: str = "en", page_view: str = "DESKTOP") -> tuple[str, str]:
    """Registers an order; returns (page path, mdOrder)."""
    body = client.post(
        "/payment/rest/register.do",
        data={
            **CREDS,
            "orderNumber": f"N{len(lang)}{page_view[0]}{id(client) % 10_000}",
            "amount": "1500000",
            "returnUrl": "http://gw.test/return",
            "language": lang,
            "pageView": page_view,
        },
    ).get_json()
    parts = urlsplit(body["formUrl"])
    return f"{parts.path}?{parts.query}", body["orderId"]


def order_status(client: FlaskClient, md_order: str) -> int:
    status: int = client.get(f"/_control/vpos/orders/{md_order}").get_json()["orderStatus"]
    return status


def tag(html: str, element_id: str) -> str:
    match = re.search(rf'<(?:input|select)[^>]*\bid="{element_id}"[^>]*>', html)
    assert match, element_id
    return match.group(0)


def test_inputs_carry_card_autocomplete_hints_and_numeric_keyboards(client: FlaskClient) -> None:
    path, _ = open_page(client)
    html = client.get(path).get_data(as_text=True)
    assert 'autocomplete="off"' not in html
    assert 'autocomplete="cc-number"' in tag(html, "pan") and 'inputmode="numeric"' in tag(html, "pan")
    assert 'autocomplete="cc-exp"' in tag(html, "expiry") and 'inputmode="numeric"' in tag(html, "expiry")
    assert 'autocomplete="cc-name"' in tag(html, "cardholder")
    assert 'autocomplete="cc-csc"' in tag(html, "cvc") and 'inputmode="numeric"' in tag(html, "cvc")
    assert re.search(r'<form id="card-form"[^>]*\bnovalidate\b', html), "the server reports every error at once"


def test_the_number_is_grouped_by_an_inline_script_and_nothing_is_loaded_from_elsewhere(client: FlaskClient) -> None:
    path, _ = open_page(client)
    html = client.get(path).get_data(as_text=True)
    assert "<script>" in html
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)
    assert "http" not in re.sub(r'(action|href)="[^"]*"', "", html).replace("http-equiv", "")


def test_a_grouped_number_pays_like_a_plain_one(client: FlaskClient) -> None:
    path, md_order = open_page(client)
    form = {"pan": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "123", "cardholder": "ANI"}
    assert client.post(path, data=form).status_code == 302
    assert order_status(client, md_order) == 2


@pytest.mark.parametrize("lang", ["hy", "ru", "en"])
def test_every_bad_field_is_reported_at_once_next_to_its_field(client: FlaskClient, lang: str) -> None:
    path, md_order = open_page(client, lang)
    response = client.post(path, data={"pan": "42x", "expiry": "13/99", "cvc": "1", "cardholder": "ANI"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'data-testid="form-error"' in html
    for field in ("pan", "expiry", "cvc"):
        message = TEXTS[lang][f"error_{field}"]
        assert html.count(message) == 2, field  # in the summary and next to the field
        assert 'aria-invalid="true"' in tag(html, field)
        assert f'aria-describedby="{field}-error"' in tag(html, field)
        field_at, error_at = html.index(f'id="{field}"'), html.index(f'id="{field}-error"')
        assert 0 < error_at - field_at < 400, "the message sits right after its input"
        assert f'data-testid="error-{field}"' in html
    assert 'aria-invalid="true"' not in tag(html, "cardholder")
    assert 'value="ANI"' in tag(html, "cardholder") and 'value="42x"' in tag(html, "pan")
    assert order_status(client, md_order) == 0


def test_a_single_bad_field_marks_only_that_field(client: FlaskClient) -> None:
    path, _ = open_page(client)
    html = client.post(path, data={"pan": "4242424242424242", "expiry": "1239", "cvc": "123"}).get_data(as_text=True)
    assert 'data-testid="error-expiry"' in html
    assert 'data-testid="error-pan"' not in html and 'data-testid="error-cvc"' not in html


def test_an_empty_form_names_all_three_fields(client: FlaskClient) -> None:
    path, _ = open_page(client)
    response = client.post(path, data={})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert all(f'data-testid="error-{field}"' in html for field in ("pan", "expiry", "cvc"))


def test_the_control_api_still_names_the_first_bad_field(client: FlaskClient) -> None:
    _, md_order = open_page(client)
    response = client.post(f"/_control/vpos/orders/{md_order}/pay", json={"pan": "", "expiry": "xx"})
    assert response.status_code == 400
    assert "pan" in response.get_json()["message"]


@pytest.mark.parametrize("lang", ["hy", "ru", "en"])
def test_test_cards_are_listed_collapsed_with_their_outcome_in_the_page_language(
    client: FlaskClient, lang: str
) -> None:
    path, _ = open_page(client, lang)
    html = client.get(path).get_data(as_text=True)
    table = re.search(r'<details[^>]*data-testid="test-cards".*?</details>', html, re.S)
    assert table, "a collapsible test-card table"
    assert " open" not in table.group(0).split(">", 1)[0]
    assert TEXTS[lang]["test_cards"] in table.group(0)
    for card in cards.TEST_CARDS:
        grouped = " ".join(card.pan[i : i + 4] for i in range(0, len(card.pan), 4))
        assert grouped in table.group(0)
        assert f'data-pan="{card.pan}"' in table.group(0)
    assert cards.action_description(116, lang) in table.group(0)


def test_the_table_renders_whatever_fields_a_card_has(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    minimal = SimpleNamespace(pan="4000000000003220")  # only a number: label, outcome and 3-D Secure default
    rich: Any = SimpleNamespace(pan="4000000000003063", label="3-D Secure: challenge", action_code=0, three_ds=True)
    monkeypatch.setattr(hosted_page, "TEST_CARDS", (minimal, rich))
    path, _ = open_page(client)
    html = client.get(path).get_data(as_text=True)
    assert "4000 0000 0000 3220" in html and "4000 0000 0000 3063" in html
    assert "3-D Secure: challenge" in html and 'data-testid="three-ds"' in html


def test_mobile_page_keeps_every_improvement(client: FlaskClient) -> None:
    path, _ = open_page(client, "hy", "MOBILE")
    html = client.get(path).get_data(as_text=True)
    assert 'class="page-mobile"' in html
    assert 'autocomplete="cc-number"' in html and 'data-testid="test-cards"' in html


def test_the_bank_page_has_every_text_in_every_language() -> None:
    assert set(TEXTS) == {"hy", "ru", "en"}
    for lang in ("hy", "ru"):
        assert set(TEXTS[lang]) == set(TEXTS["en"]), lang
        assert all(text.strip() for text in TEXTS[lang].values())
