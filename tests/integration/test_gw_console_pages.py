"""Console pages over a real database: find a payment by any id, its one timeline in time order, the exceptions
queue (open first; resolve, note and retry, each recorded with who did it), and the language switch."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask

from gateway.services import exceptions_queue
from gateway.services.audit import record_action
from gateway.services.journal import raise_exception
from gateway.services.timeline import payment_timeline
from gateway.web.console_texts import TEXTS
from tests.gateway_fakes import ECWID_ORDER_ID, REFERENCE, Gateway, unavailable
from tests.integration.test_gw_console_support import Console, actions, add_operator, paid_payment


@pytest.fixture
def console(cgw: Gateway, app: Flask) -> Console:
    add_operator(cgw, "anna")
    signed_in = Console(app.test_client())
    assert signed_in.login("anna").status_code == 302
    return signed_in


def flashed(page: str) -> str:
    found = re.search(r'<ul class="flashes" id="flashes"><li>([^<]*)</li>', page)
    assert found is not None, page
    return html.unescape(found.group(1))


def exception_failed_to_ecwid(cgw: Gateway) -> tuple[int, int]:
    """A paid payment whose Ecwid update was refused for good: (session id, exception id)."""
    cgw.ecwid.fail_next(401)
    session_id, _ = paid_payment(cgw)
    (exception,) = cgw.exceptions()
    assert exception.code == "ecwid_update_failed"
    return session_id, exception.id


# --- search -----------------------------------------------------------------------------------------------------


def test_search_finds_the_payment_by_each_kind_of_id(cgw: Gateway, console: Console) -> None:
    session_id, number = paid_payment(cgw)
    paid_payment(cgw, reference="transaction_other", order_id="OTHER1")
    md_order = cgw.provider.md_order(number)
    for query in (ECWID_ORDER_ID, REFERENCE, number, md_order, f"  {md_order} "):
        page = console.get("/ops/payments", query_string={"q": query}).get_data(as_text=True)
        links = re.findall(r'href="/ops/payments/(\d+)" class="payment-link"', page)
        assert links == [str(session_id)], query


def test_search_without_a_match_says_so(console: Console) -> None:
    page = console.get("/ops/payments?q=nothing-like-it").get_data(as_text=True)
    assert TEXTS["search_no_results"]["en"] in page


def test_payment_page_shows_attempts_in_major_units_with_masked_pan(cgw: Gateway, console: Console) -> None:
    session_id, number = paid_payment(cgw)
    page = console.get(f"/ops/payments/{session_id}").get_data(as_text=True)
    assert "15000.00 AMD" in page
    assert "408397**0003" in page
    assert number in page
    assert cgw.provider.md_order(number) in page
    assert console.get("/ops/payments/999999").status_code == 404


# --- the timeline ---------------------------------------------------------------------------------------------------


def test_timeline_merges_every_source_in_time_order(cgw: Gateway, console: Console) -> None:
    session_id, exception_id = exception_failed_to_ecwid(cgw)
    cgw.clock.advance(60)
    console.get("/ops/exceptions")
    assert console.post(f"/ops/exceptions/{exception_id}/note", {"note": "called the shop"}).status_code == 302
    cgw.clock.advance(60)
    with cgw.ctx.db.session() as session, session.begin():
        record_action(session, "system", "test_marker", cgw.clock.now(), session_id=session_id)

    with cgw.ctx.db.session() as session:
        entries = payment_timeline(session, session_id)
    times = [e.at for e in entries]
    assert times == sorted(times)
    sources = {e.source for e in entries}
    assert {"event", "outbox", "exception", "action"} <= sources
    kinds = [e.kind for e in entries]
    assert kinds.index("attempt:paid") < kinds.index("ecwid_update_failed") < kinds.index("exception_note")
    assert kinds[-1] == "test_marker"
    queued = next(e for e in entries if e.source == "outbox" and "PAID" in e.detail)
    assert queued.outcome == "failed" and "tries=1" in queued.detail and "last error" in queued.detail
    page = console.get(f"/ops/payments/{session_id}").get_data(as_text=True)
    timeline = page[page.index('id="timeline"') :]
    assert timeline.index("attempt:paid") < timeline.index("ecwid_update_failed") < timeline.index("exception_note")
    assert "anna: called the shop" in timeline


# --- the exceptions queue -------------------------------------------------------------------------------------------


def test_open_exceptions_first_and_the_filter(cgw: Gateway, console: Console) -> None:
    _, first = exception_failed_to_ecwid(cgw)
    cgw.ecwid.fail_next(401)
    paid_payment(cgw, reference="transaction_second", order_id="SECOND")
    second = max(e.id for e in cgw.exceptions())
    exceptions_queue.resolve(cgw.ctx, first, "fixed by hand", actor="boris")
    all_rows = re.findall(
        r'<tr id="exception-(\d+)" class="(open|resolved)"',
        console.get("/ops/exceptions?state=all").get_data(as_text=True),
    )
    assert all_rows == [(str(second), "open"), (str(first), "resolved")]
    open_rows = re.findall(r'<tr id="exception-(\d+)"', console.get("/ops/exceptions").get_data(as_text=True))
    assert open_rows == [str(second)]
    resolved = console.get("/ops/exceptions?state=resolved").get_data(as_text=True)
    assert re.findall(r'<tr id="exception-(\d+)"', resolved) == [str(first)]
    assert "resolved by boris" in resolved and "fixed by hand" in resolved


def test_resolve_with_a_note_is_recorded_with_who(cgw: Gateway, console: Console) -> None:
    session_id, exception_id = exception_failed_to_ecwid(cgw)
    console.get("/ops/exceptions")
    assert console.post(f"/ops/exceptions/{exception_id}/resolve", {"note": "   "}).status_code == 302
    assert flashed(console.get("/ops/exceptions").get_data(as_text=True)) == TEXTS["exc_note_required"]["en"]
    assert cgw.exceptions()[0].resolved_at is None
    response = console.post(f"/ops/exceptions/{exception_id}/resolve", {"note": "token renewed in Ecwid"})
    assert flashed(console.get(response.headers["Location"]).get_data(as_text=True)) == TEXTS["exc_resolved_ok"]["en"]
    (exception,) = cgw.exceptions()
    assert (exception.resolved_by, exception.note) == ("anna", "token renewed in Ecwid")
    again = console.post(f"/ops/exceptions/{exception_id}/resolve", {"note": "twice"})
    assert flashed(console.get(again.headers["Location"]).get_data(as_text=True)) == TEXTS["exc_already_resolved"]["en"]
    recorded = [(a.actor, a.outcome, a.detail, a.session_id, a.exception_id) for a in actions(cgw, "exception_resolve")]
    assert recorded == [
        ("anna", "refused", "note_required", session_id, exception_id),
        ("anna", "ok", "token renewed in Ecwid", session_id, exception_id),
        ("anna", "refused", "already_resolved", session_id, exception_id),
    ]


def test_note_keeps_the_latest_and_records_every_one(cgw: Gateway, console: Console) -> None:
    _, exception_id = exception_failed_to_ecwid(cgw)
    console.get("/ops/exceptions")
    console.post(f"/ops/exceptions/{exception_id}/note", {"note": "first look"})
    console.post(f"/ops/exceptions/{exception_id}/note", {"note": "asked the bank"})
    assert cgw.exceptions()[0].note == "asked the bank"
    assert cgw.exceptions()[0].resolved_at is None
    assert [(a.actor, a.detail) for a in actions(cgw, "exception_note")] == [
        ("anna", "first look"),
        ("anna", "asked the bank"),
    ]


def test_retry_of_an_ecwid_delivery_sends_again_and_resolves(cgw: Gateway, console: Console) -> None:
    session_id, exception_id = exception_failed_to_ecwid(cgw)
    console.get("/ops/exceptions")
    response = console.post(f"/ops/exceptions/{exception_id}/retry")
    message = flashed(console.get(response.headers["Location"]).get_data(as_text=True))
    assert message.startswith("The status was delivered to Ecwid")
    assert cgw.ecwid.statuses()[-1] == "PAID"
    (exception,) = cgw.exceptions()
    assert exception.resolved_by == "anna"
    (retry,) = actions(cgw, "exception_retry")
    assert (retry.actor, retry.outcome, retry.exception_id, retry.session_id) == (
        "anna",
        "ok",
        exception_id,
        session_id,
    )


def test_retry_of_an_attempt_exception_asks_the_bank_and_reports_what_changed(cgw: Gateway, console: Console) -> None:
    outcome = cgw.start()
    number = outcome.attempt_order_number or ""
    attempt = cgw.attempt(number)
    with cgw.ctx.db.session() as session, session.begin():
        raise_exception(
            session,
            "poll_failing",
            "bank did not answer 5 times",
            cgw.clock.now(),
            session_id=attempt.session_id,
            attempt_id=attempt.id,
        )
    (exception,) = cgw.exceptions()
    console.get("/ops/exceptions")
    cgw.provider.status_error = unavailable()
    response = console.post(f"/ops/exceptions/{exception.id}/retry")
    message = flashed(console.get(response.headers["Location"]).get_data(as_text=True))
    assert message.startswith("The bank did not answer")
    cgw.provider.status_error = None
    cgw.provider.set_status(number, 2)
    response = console.post(f"/ops/exceptions/{exception.id}/retry")
    message = flashed(console.get(response.headers["Location"]).get_data(as_text=True))
    assert message == "Asked the bank again: bank orderStatus=2; attempt registered -> paid; ecwid PAID"
    assert cgw.attempt(number).status == "paid"
    assert cgw.exceptions()[0].resolved_at is None  # a person decides
    recorded = [(a.actor, a.outcome, a.attempt_id) for a in actions(cgw, "exception_retry")]
    assert recorded == [("anna", "failed", attempt.id), ("anna", "ok", attempt.id)]
    assert "attempt:paid" in cgw.events()


def test_retry_of_an_exception_with_nothing_to_retry_is_refused(cgw: Gateway, console: Console) -> None:
    with cgw.ctx.db.session() as session, session.begin():
        raise_exception(session, "unknown_order_paid", "callback for an order we never registered", cgw.clock.now())
    (exception,) = cgw.exceptions()
    console.get("/ops/exceptions")
    response = console.post(f"/ops/exceptions/{exception.id}/retry")
    assert (
        flashed(console.get(response.headers["Location"]).get_data(as_text=True)) == TEXTS["retry_not_retryable"]["en"]
    )
    assert [(a.actor, a.outcome) for a in actions(cgw, "exception_retry")] == [("anna", "refused")]


# --- languages ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["hy", "ru"])
def test_language_switch_translates_the_pages(cgw: Gateway, console: Console, lang: str) -> None:
    exception_failed_to_ecwid(cgw)
    console.get("/ops/exceptions")
    response = console.post("/ops/language", {"lang": lang, "next": "/ops/exceptions?state=all"})
    assert response.headers["Location"].endswith("/ops/exceptions?state=all")
    page = console.get("/ops/exceptions").get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    for key in ("exceptions_title", "resolve", "add_note", "retry", "nav_payments"):
        assert TEXTS[key][lang] in page, key
    assert TEXTS["exceptions_title"]["en"] not in page


def test_language_switch_never_redirects_away(console: Console) -> None:
    console.get("/ops/exceptions")
    for target in ("https://evil.example/", "//evil.example/ops/", "/ops/\\evil"):
        response = console.post("/ops/language", {"lang": "ru", "next": target})
        assert response.headers["Location"].endswith("/ops/"), target


def test_operator_language_is_the_default_after_login(cgw: Gateway, app: Flask) -> None:
    add_operator(cgw, "armen", language="hy")
    console = Console(app.test_client())
    console.login("armen")
    page = console.get("/ops/exceptions").get_data(as_text=True)
    assert TEXTS["exceptions_title"]["hy"] in page


# --- reconciliation -------------------------------------------------------------------------------------------------


def test_reconciliation_page_runs_a_day_as_html_or_csv(cgw: Gateway, console: Console) -> None:
    paid_payment(cgw)
    assert console.get("/ops/reconcile").status_code == 200
    bad = console.get("/ops/reconcile/report?day=yesterday&format=csv")
    assert bad.status_code == 302
    assert flashed(console.get(bad.headers["Location"]).get_data(as_text=True)) == TEXTS["reconcile_bad_day"]["en"]
    day = cgw.clock.now().date().isoformat()
    csv = console.get(f"/ops/reconcile/report?day={day}&format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert f"reconcile-{day}.csv" in csv.headers["Content-Disposition"]
    assert csv.get_data(as_text=True).splitlines()[0].startswith("day,")
    report = console.get(f"/ops/reconcile/report?day={day}&format=html")
    assert report.status_code == 200 and report.mimetype == "text/html"
    assert report.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert report.headers["Cache-Control"] == "no-store"
