"""Money actions from the console against the simulator's bank (real RBS adapter over WSGI, real database): each
goes form -> confirmation (exact amount and currency) -> POST, calls the service once, and every refusal reason
the service gives comes back as its own translated message. The services record their own operator actions;
the console adds none."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from pydantic import SecretStr

from gateway import create_app
from gateway.domain.errors import OperationRefused
from gateway.provider.rbs import RbsProvider
from gateway.services.confirm import confirm_attempt
from gateway.web.console_money import parse_amount
from gateway.web.console_texts import TEXTS
from simulator import EcwidStore, SimulatorConfig, VposMerchant
from simulator import create_app as create_simulator
from tests.gateway_fakes import STORE_ID, Gateway, make_settings
from tests.integration.test_gw_console_support import CONSOLE_KEY, Console, actions, add_operator
from tests.sim_bank_fakes import Merchant

SIM = "http://sim.test"
CARD = {"pan": "4242424242424242", "expiry": "12/39", "cvc": "123"}
REASONS = (
    "not_paid",
    "amount_not_positive",
    "over_refund",
    "already_reversed",
    "not_reversible",
    "not_held",
    "over_capture",
    "operation_in_progress",
    "bank_refused",
    "bank_unavailable",
)


class Bank:
    """The gateway wired to the simulator's bank, and the console in front of it."""

    def __init__(self, database_url: str, **overrides: Any) -> None:
        self.sim = create_simulator(
            SimulatorConfig(
                public_url=SIM,
                payment_url="http://gateway.test/ecwid/payment",
                stores=(EcwidStore(STORE_ID, "abcdefghijklmnop-secret", "secret_token_1003"),),
                merchants=(
                    VposMerchant("lab_amd_api", "bank-password-amd", "051"),
                    VposMerchant("lab_usd_api", "bank-password-usd", "840"),
                ),
                callback_url="http://merchant.test/callback",
            ),
            http_transport=httpx.WSGITransport(app=Merchant()),
        )
        settings = make_settings(
            database_url,
            provider_base_url=f"{SIM}/payment/rest/",
            console_secret_key=SecretStr(CONSOLE_KEY),
            **overrides,
        )
        self.gw = Gateway.build(settings)
        self.http = httpx.Client(transport=httpx.WSGITransport(app=self.sim))
        self.gw.ctx.provider = RbsProvider(self.http, f"{SIM}/payment/rest/", settings.provider_credentials)
        self.app: Flask = create_app(context=self.gw.ctx)

    def close(self) -> None:
        self.http.close()
        self.gw.close()

    def paid_attempt(self, reference: str = "transaction_65306446", order_id: str = "XJ12H") -> tuple[int, int]:
        """(session id, attempt id) of a payment paid at the bank and confirmed (held, for a two-phase store)."""
        started = self.gw.start(reference=reference, order_id=order_id)
        attempt = self.gw.attempt(started.attempt_order_number or "")
        assert attempt.provider_order_id
        paid = self.sim.test_client().post(f"/_control/vpos/orders/{attempt.provider_order_id}/pay", json=CARD)
        assert paid.status_code in (200, 201), paid.get_data(as_text=True)
        status = self.gw.ctx.provider.get_status(attempt.provider_order_id, attempt.currency)
        confirm_attempt(self.gw.ctx, attempt.id, status, source="test")
        return attempt.session_id, attempt.id


@pytest.fixture
def bank(database_url: str) -> Iterator[Bank]:
    running = Bank(database_url)
    yield running
    running.close()


@pytest.fixture
def held(database_url: str) -> Iterator[Bank]:
    running = Bank(database_url, two_phase_stores=[STORE_ID])
    yield running
    running.close()


def signed_in(bank: Bank) -> Console:
    add_operator(bank.gw, "ana")
    console = Console(bank.app.test_client())
    assert console.login("ana").status_code == 302
    return console


def do(console: Console, attempt_id: int, action: str, amount: str = "") -> tuple[str, str]:
    """Walk the three steps; returns (the confirmation question, the flash message on the payment page)."""
    form = console.get(f"/ops/attempts/{attempt_id}/{action}")
    assert form.status_code == 200
    if action == "reverse":
        confirmation = form  # nothing to type: the confirmation page at once
    else:
        confirmation = console.post(f"/ops/attempts/{attempt_id}/{action}/confirm", {"amount": amount})
    page = confirmation.get_data(as_text=True)
    question = re.search(r'id="money-question">([^<]*)<', page)
    assert question is not None, page
    minor = re.search(r'name="amount_minor" value="([^"]*)"', page)
    assert minor is not None
    done = console.post(f"/ops/attempts/{attempt_id}/{action}", {"amount_minor": minor.group(1), "confirmed": "yes"})
    assert done.status_code == 302
    after = console.get(done.headers["Location"]).get_data(as_text=True)
    flashed = re.search(r'<ul class="flashes" id="flashes"><li>([^<]*)</li>', after)
    assert flashed is not None, after
    return question.group(1), flashed.group(1)


def test_full_refund_confirms_the_amount_then_refunds_once(bank: Bank) -> None:
    _, attempt_id = bank.paid_attempt()
    console = signed_in(bank)
    question, message = do(console, attempt_id, "refund")
    assert question == "Refund 15000.00 AMD to the customer (order XJ12H)."
    assert message == "Refund: completed. Attempt: refunded, Ecwid: REFUNDED."
    assert [(a.actor, a.action, a.outcome) for a in actions(bank.gw, "refund")] == [("ana", "refund", "ok")]
    page = console.get(f"/ops/payments/{bank.gw.attempts()[0].session_id}").get_data(as_text=True)
    timeline = page[page.index('id="timeline"') :]
    assert timeline.index("refund_requested") < timeline.index("refund_completed")
    assert "15000.00 AMD by ana" in timeline


def test_partial_refund_in_major_units(bank: Bank) -> None:
    _, attempt_id = bank.paid_attempt()
    console = signed_in(bank)
    question, message = do(console, attempt_id, "refund", "2014.97")
    assert question == "Refund 2014.97 AMD to the customer (order XJ12H)."
    assert message == "Refund: completed. Attempt: partially_refunded, Ecwid: PARTIALLY_REFUNDED."
    assert bank.gw.attempts()[0].refunded_minor == 201497


def test_confirmation_step_alone_moves_no_money(bank: Bank) -> None:
    _, attempt_id = bank.paid_attempt()
    console = signed_in(bank)
    console.post(f"/ops/attempts/{attempt_id}/refund/confirm", {"amount": "100"})
    unconfirmed = console.post(f"/ops/attempts/{attempt_id}/refund", {"amount_minor": "10000"})
    assert unconfirmed.status_code == 302 and unconfirmed.headers["Location"].endswith("/refund")
    assert bank.gw.attempts()[0].status == "paid"
    assert actions(bank.gw, "refund") == []


@pytest.mark.parametrize("typed", ["abc", "1.001", "-5", "0", "1e3"])
def test_an_amount_that_is_not_exact_is_asked_again(bank: Bank, typed: str) -> None:
    _, attempt_id = bank.paid_attempt()
    console = signed_in(bank)
    response = console.post(f"/ops/attempts/{attempt_id}/refund/confirm", {"amount": typed})
    assert response.status_code == 200
    assert "Invalid amount" in response.get_data(as_text=True)
    assert "money-question" not in response.get_data(as_text=True)


def test_reverse_same_day(bank: Bank) -> None:
    _, attempt_id = bank.paid_attempt()
    console = signed_in(bank)
    question, message = do(console, attempt_id, "reverse")
    assert question.startswith("Reverse the payment of 15000.00 AMD (order XJ12H).")
    assert message == "Done. Attempt: reversed, Ecwid: CANCELLED."
    _, again = do(console, attempt_id, "reverse")
    assert again == TEXTS["refused_already_reversed"]["en"]


def test_capture_of_a_held_payment_full_and_partial(held: Bank) -> None:
    _, full_id = held.paid_attempt("transaction_full", "N_FULL")
    console = signed_in(held)
    question, message = do(console, full_id, "capture")
    assert question == "Capture 15000.00 AMD (order N_FULL)."
    assert message == "Done. Attempt: paid, Ecwid: PAID."
    _, part_id = held.paid_attempt("transaction_part", "N_PART")
    question, message = do(console, part_id, "capture", "100.50")
    assert question == "Capture 100.50 AMD (order N_PART)."
    assert message == "Done. Attempt: paid, Ecwid: PAID."


def test_each_refusal_the_bank_path_gives_has_its_message(bank: Bank) -> None:
    _, attempt_id = bank.paid_attempt()
    console = signed_in(bank)
    seen = {}
    _, seen["over_refund"] = do(console, attempt_id, "refund", "15000.01")
    _, seen["not_held"] = do(console, attempt_id, "capture", "1")
    seen["amount_not_positive"] = _execute(console, attempt_id, "refund", "0")
    started = bank.gw.start(reference="transaction_unpaid", order_id="UNPAID")
    unpaid = bank.gw.attempt(started.attempt_order_number or "").id
    seen["not_paid"] = _execute(console, unpaid, "refund", "100")
    bank.gw.ctx.provider = RbsProvider(
        httpx.Client(transport=httpx.MockTransport(_unreachable)),
        f"{SIM}/payment/rest/",
        bank.gw.settings.provider_credentials,
    )
    seen["bank_unavailable"] = _execute(console, attempt_id, "refund", "100")
    for reason, message in seen.items():
        assert message == TEXTS[f"refused_{reason}"]["en"], reason
    refused = [a for a in actions(bank.gw) if a.outcome == "refused" and a.action != "login"]
    assert len(refused) == len(seen)  # recorded by the services, once each; the console adds none


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("bank down", request=request)


def _execute(console: Console, attempt_id: int, action: str, amount_minor: str) -> str:
    console.get(f"/ops/attempts/{attempt_id}/{action}")
    done = console.post(f"/ops/attempts/{attempt_id}/{action}", {"amount_minor": amount_minor, "confirmed": "yes"})
    after = console.get(done.headers["Location"]).get_data(as_text=True)
    flashed = re.search(r'<ul class="flashes" id="flashes"><li>([^<]*)</li>', after)
    assert flashed is not None
    return flashed.group(1)


@pytest.mark.parametrize("reason", REASONS)
def test_every_refusal_reason_has_a_message_in_every_language(reason: str) -> None:
    texts = TEXTS[f"refused_{reason}"]
    assert all(texts[lang] for lang in ("hy", "ru", "en"))
    others = {TEXTS[f"refused_{other}"]["en"] for other in REASONS if other != reason}
    assert texts["en"] not in others
    assert OperationRefused(reason).reason == reason


def test_parse_amount_is_exact() -> None:
    assert parse_amount("2014.97", "AMD") == 201497
    assert parse_amount("1 500,50", "AMD") == 150050
    assert parse_amount("0.1", "USD") == 10
    assert parse_amount("0.001", "USD") is None
    assert parse_amount("1e3", "USD") is None
    assert parse_amount("", "USD") is None


def test_a_refund_form_with_nothing_left_is_refused_before_the_confirmation(bank: Bank) -> None:
    # The form was opened, then everything was refunded (by another operator): an empty amount means "what is
    # left", which is 0 now. The console must not ask to confirm a refund of 0.00.
    _, attempt_id = bank.paid_attempt()
    console = signed_in(bank)
    do(console, attempt_id, "refund")
    page = console.post(f"/ops/attempts/{attempt_id}/refund/confirm", {"amount": ""}).get_data(as_text=True)
    assert 'name="confirmed"' not in page
    assert "0.00 AMD to the customer" not in page
    assert [a.outcome for a in actions(bank.gw, "refund")] == ["ok"]
