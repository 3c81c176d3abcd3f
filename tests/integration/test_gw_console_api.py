"""The console's JSON view (``/ops/api/*``) over a real database: behind the operator login (401 JSON, not the login
page's redirect), search by any id, one payment with its attempts, refunds, exceptions and timeline (made through
the real payment, refund and console paths), JSON 404 / 405, the console's security headers, zoned datetimes and no
secret in any answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from importlib.metadata import version
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from gateway.domain.errors import ProviderUnavailable
from gateway.services.confirm import confirm_attempt
from gateway.services.journal import raise_exception
from gateway.services.outbox import relay
from gateway.services.start_payment import RegistrationFailed
from gateway.services.timeline import aware
from gateway.store.models import Operator, PaymentSession
from gateway.web.console_auth import SECURITY_HEADERS
from tests.gateway_fakes import ECWID_ORDER_ID, ECWID_TOKEN, REFERENCE, RETURN_URL, Gateway
from tests.integration.test_gw_console_money import Bank, do, signed_in
from tests.integration.test_gw_console_support import (
    PASSWORD,
    Console,
    add_operator,
    paid_payment,
)

LOGIN_REQUIRED = {"error": "login required"}
NOT_FOUND = {"error": "not found"}
API_URLS = ["/ops/api/status", "/ops/api/payments?q=XJ12H", "/ops/api/payments/1", "/ops/api/no-such-thing"]


@pytest.fixture
def console(cgw: Gateway, app: Flask) -> Console:
    add_operator(cgw, "anna")
    signed_in_console = Console(app.test_client())
    assert signed_in_console.login("anna").status_code == 302
    return signed_in_console


def answer(response: TestResponse, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    return response.get_json()


def zoned(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None and parsed.utcoffset() is not None, value
    return parsed


# --- the login ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", API_URLS)
def test_logged_out_the_json_view_answers_401_json(app: Flask, url: str) -> None:
    assert answer(app.test_client().get(url), 401) == LOGIN_REQUIRED


def test_logged_out_a_post_is_401_too_and_the_pages_still_redirect_to_the_login(app: Flask) -> None:
    client = app.test_client()
    assert answer(client.post("/ops/api/test-clock", json={"advance_s": 1}), 401) == LOGIN_REQUIRED
    page = client.get("/ops/payments")
    assert page.status_code == 302 and page.headers["Location"].endswith("/ops/login")


def test_half_way_through_a_totp_login_is_still_logged_out(cgw: Gateway, app: Flask) -> None:
    add_operator(cgw, "tom", totp=True)
    console = Console(app.test_client())
    response = console.login("tom")
    assert response.status_code == 302 and response.headers["Location"].endswith("/ops/login/totp")
    assert answer(console.get("/ops/api/status"), 401) == LOGIN_REQUIRED


def test_an_expired_login_is_401_json(cgw: Gateway, console: Console) -> None:
    assert answer(console.get("/ops/api/status"))["now"]
    cgw.clock.advance(cgw.settings.console_session_ttl_s + 1)
    assert answer(console.get("/ops/api/status"), 401) == LOGIN_REQUIRED


def test_a_disabled_operator_is_logged_out_at_once(cgw: Gateway, console: Console) -> None:
    with cgw.ctx.db.session() as session, session.begin():
        operator = session.scalars(select(Operator).where(Operator.username == "anna")).one()
        operator.active = False
    assert answer(console.get("/ops/api/payments?q=x"), 401) == LOGIN_REQUIRED


# --- status -------------------------------------------------------------------------------------------------------


def test_status_gives_the_gateways_clock_mode_version_timings_and_a_csrf_token(cgw: Gateway, console: Console) -> None:
    cgw.clock.advance(90)
    status = answer(console.get("/ops/api/status"))
    assert zoned(status["now"]) == cgw.clock.now()
    assert status["provider_mode"] == "TEST"
    assert status["version"] == version("vposlab")
    settings = cgw.settings
    assert status["timings"] == {
        "http_timeout_s": settings.http_timeout_s,
        "session_timeout_s": settings.session_timeout_s,
        "poll_after_s": settings.poll_after_s,
        "poll_max_interval_s": settings.poll_max_interval_s,
        "pending_wait_s": settings.pending_wait_s,
        "return_wait_s": settings.return_wait_s,
        "registering_stale_s": settings.registering_stale_s,
        "reverse_window_s": settings.reverse_window_s,
        "ecwid_backoff_base_s": settings.ecwid_backoff_base_s,
        "ecwid_backoff_max_s": settings.ecwid_backoff_max_s,
        "console_session_ttl_s": settings.console_session_ttl_s,
    }
    assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in status["timings"].values())
    assert status["test_clock"] == {"enabled": False, "offset_s": 0.0}
    assert isinstance(status["csrf_token"], str) and len(status["csrf_token"]) > 20
    # The token is this session's: a console form accepts it.
    resolved = console.client.post("/ops/logout", data={"csrf_token": status["csrf_token"]})
    assert resolved.status_code == 302 and resolved.headers["Location"].endswith("/ops/login")


# --- search -------------------------------------------------------------------------------------------------------


def test_search_finds_the_payment_by_each_kind_of_id(cgw: Gateway, console: Console) -> None:
    session_id, number = paid_payment(cgw)
    paid_payment(cgw, reference="transaction_other", order_id="OTHER1")
    md_order = cgw.provider.md_order(number)
    for query in (ECWID_ORDER_ID, REFERENCE, number, md_order):
        found = answer(console.get("/ops/api/payments", query_string={"q": query}))
        assert found["query"] == query
        assert [p["id"] for p in found["payments"]] == [session_id], query
    (summary,) = answer(console.get("/ops/api/payments", query_string={"q": f"  {number} "}))["payments"]
    assert summary == {
        "id": session_id,
        "store_id": 1003,
        "ecwid_order_id": ECWID_ORDER_ID,
        "reference_transaction_id": REFERENCE,
        "amount": "15000.00 AMD",
        "amount_minor": 1500000,
        "currency": "AMD",
        "ecwid_status": "PAID",
        "created_at": summary["created_at"],
    }
    with cgw.ctx.db.session() as session:
        created = session.get(PaymentSession, session_id)
        assert created is not None
    assert zoned(summary["created_at"]) == cgw.clock.now() == aware(created.created_at)


@pytest.mark.parametrize("url", ["/ops/api/payments", "/ops/api/payments?q=", "/ops/api/payments?q=%20%20"])
def test_an_empty_search_finds_nothing(cgw: Gateway, console: Console, url: str) -> None:
    paid_payment(cgw)
    assert answer(console.get(url)) == {"query": "", "payments": []}


def test_a_search_without_a_match_is_an_empty_list(cgw: Gateway, console: Console) -> None:
    paid_payment(cgw)
    assert answer(console.get("/ops/api/payments?q=nothing-like-it")) == {"query": "nothing-like-it", "payments": []}


# --- one payment --------------------------------------------------------------------------------------------------


def test_a_payment_with_two_attempts_lists_them_in_order(cgw: Gateway, console: Console) -> None:
    first = cgw.start()
    assert first.attempt_order_number is not None
    declined = cgw.attempt(first.attempt_order_number)
    md_first = cgw.provider.set_status(first.attempt_order_number, 6, action_code="2001")
    confirm_attempt(cgw.ctx, declined.id, cgw.provider.status_of(md_first), source="test")
    cgw.clock.advance(60)
    session_id, number = paid_payment(cgw)
    record = answer(console.get(f"/ops/api/payments/{session_id}"))
    assert [(a["attempt_no"], a["status"]) for a in record["attempts"]] == [(1, "declined"), (2, "paid")]
    second = record["attempts"][1]
    assert second["order_number"] == number and second["md_order"] == cgw.provider.md_order(number)
    assert second["masked_pan"] == "408397**0003" and second["two_phase"] is False
    assert (second["amount_minor"], second["currency"], second["refunds"]) == (1500000, "AMD", [])
    assert record["attempts"][0]["action_code"] == "2001"
    assert record["payment"]["ecwid_status"] == "PAID"
    kinds = [entry["kind"] for entry in record["timeline"]]
    assert kinds.index("attempt:declined") < kinds.index("attempt:paid")


def test_an_attempt_the_bank_never_answered_has_no_md_order(cgw: Gateway, console: Console) -> None:
    cgw.provider.fail_next_register(ProviderUnavailable("register.do timed out"))
    with pytest.raises(RegistrationFailed):  # the customer gets the "bank unavailable" page
        cgw.start()
    with cgw.ctx.db.session() as session:
        session_id = session.scalars(select(PaymentSession.id)).one()
    (attempt,) = answer(console.get(f"/ops/api/payments/{session_id}"))["attempts"]
    assert attempt["md_order"] is None


def test_unknown_ids_paths_and_methods_are_json(console: Console) -> None:
    assert answer(console.get("/ops/api/payments/999999"), 404) == NOT_FOUND
    assert answer(console.get("/ops/api/payments/not-a-number"), 404) == NOT_FOUND
    assert answer(console.get("/ops/api/no-such-thing"), 404) == NOT_FOUND
    wrong = console.get("/ops/api/test-clock")
    assert answer(wrong, 405) == {"error": "method not allowed"}
    assert wrong.headers["Allow"] == "OPTIONS, POST"
    assert answer(console.client.delete("/ops/api/status"), 405) == {"error": "method not allowed"}


@pytest.fixture
def bank(database_url: str) -> Iterator[Bank]:
    running = Bank(database_url)
    yield running
    running.close()


def test_payment_record_with_refunds_exceptions_and_timeline_and_no_secret(bank: Bank) -> None:
    """A payment paid at the simulator's bank, its PAID refused by Ecwid for good (an exception, resolved by an
    operator in the console), a partial refund made through the console, and one more exception on the attempt."""
    gw = bank.gw
    gw.ecwid.fail_next(401)
    session_id, attempt_id = bank.paid_attempt()
    relay(gw.ctx)
    console = signed_in(bank)
    gw.clock.advance(60)
    _, message = do(console, attempt_id, "refund", "2014.97")
    assert "completed" in message
    gw.clock.advance(60)
    with gw.ctx.db.session() as session, session.begin():
        raise_exception(
            session, "double_charge", "another attempt is paid too", gw.clock.now(), session_id=session_id,
            attempt_id=attempt_id,
        )  # fmt: skip
    ecwid_exception = next(e for e in gw.exceptions() if e.code == "ecwid_update_failed")
    gw.clock.advance(60)
    console.get("/ops/exceptions")
    resolved = console.post(f"/ops/exceptions/{ecwid_exception.id}/resolve", {"note": "set PAID by hand"})
    assert resolved.status_code == 302

    response = console.get(f"/ops/api/payments/{session_id}")
    record = answer(response)
    assert set(record) == {"payment", "attempts", "exceptions", "timeline"}
    assert record["payment"]["id"] == session_id and record["payment"]["amount"] == "15000.00 AMD"
    (attempt,) = record["attempts"]
    assert attempt["id"] == attempt_id and attempt["status"] == "partially_refunded"
    assert (attempt["deposited_minor"], attempt["refunded_minor"]) == (1500000, 201497)
    assert attempt["md_order"] == gw.attempts()[0].provider_order_id
    (refund,) = attempt["refunds"]
    assert {k: refund[k] for k in ("amount_minor", "currency", "status", "requested_by")} == {
        "amount_minor": 201497,
        "currency": "AMD",
        "status": "completed",
        "requested_by": "ana",
    }
    assert refund["external_refund_id"] and zoned(refund["completed_at"]) >= zoned(refund["created_at"])
    first, second = record["exceptions"]
    assert (first["code"], first["open"], first["resolved_by"], first["note"]) == (
        "ecwid_update_failed",
        False,
        "ana",
        "set PAID by hand",
    )
    assert zoned(first["resolved_at"]) == gw.clock.now()
    assert (second["code"], second["open"], second["attempt_id"], second["resolved_at"]) == (
        "double_charge",
        True,
        attempt_id,
        None,
    )
    assert second["attempt_order_number"] == gw.attempts()[0].order_number
    assert zoned(first["created_at"]) <= zoned(second["created_at"])
    times = [zoned(entry["at"]) for entry in record["timeline"]]
    assert times == sorted(times)
    assert set(record["timeline"][0]) == {"at", "source", "kind", "detail", "attempt_id", "outcome"}
    sources = {entry["source"] for entry in record["timeline"]}
    assert {"event", "refund", "outbox", "exception", "action"} <= sources
    kinds = [entry["kind"] for entry in record["timeline"]]
    assert kinds.index("attempt:paid") < kinds.index("refund_requested") < kinds.index("double_charge")

    with gw.ctx.db.session() as session:
        sealed = session.scalars(select(PaymentSession.token_encrypted)).one()
        password_hash = session.scalars(select(Operator.password_hash)).one()
    text = response.get_data(as_text=True) + json.dumps(answer(console.get("/ops/api/status")))
    text += console.get("/ops/api/payments?q=XJ12H").get_data(as_text=True)
    forbidden = [*gw.settings.secret_values, ECWID_TOKEN, RETURN_URL, sealed, password_hash, PASSWORD]
    forbidden += [a.form_url for a in gw.attempts() if a.form_url]
    for secret in forbidden:
        assert secret not in text
    assert "return_url" not in text and "token_encrypted" not in text
