"""A paid order whose payment request arrives again is not sent to the store before Ecwid has the verified status.

The customer paid and closed the tab (or left the processing page) while Ecwid refused the PAID update for now (a
503: the update is retried with backoff). Ecwid's checkout still shows the order unpaid, so the customer clicks "pay"
again: the gateway never registers a second bank order, and it used to answer with a redirect straight to Ecwid's
returnUrl, where the store, still INCOMPLETE, showed "the payment did not go through" and invited another payment.
Found by the lifecycle state machine (``bench/lifecycle.py``): the customer must reach the store only once Ecwid
shows the status the gateway verified, whichever way they come back.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from gateway import create_app
from gateway.services.callbacks import handle_callback
from gateway.services.customer_return import handle_return
from tests.gateway_fakes import PUBLIC_URL, RETURN_URL, Gateway, ecwid_form


def paid_while_ecwid_refuses(gw: Gateway) -> tuple[str, str]:
    """The bank takes the payment; its callback confirms it, and Ecwid answers the PAID update 503."""
    number = gw.start().attempt_order_number
    assert number is not None
    md_order = gw.provider.set_status(number, 2)
    gw.ecwid.fail_next(503)
    handle_callback(gw.ctx, gw.signed_callback(number))
    assert gw.ecwid.statuses() == ["PAID"]  # tried once, refused for now: the update waits for its retry
    return number, md_order


def test_pay_again_while_ecwid_lacks_the_paid_status_waits_on_the_return_page(gw: Gateway) -> None:
    number, md_order = paid_while_ecwid_refuses(gw)

    again = gw.start()

    assert gw.provider.register_calls == 1  # paid: never a second bank order
    assert again.redirect_url != RETURN_URL  # Ecwid still shows the order unpaid: not to the store yet
    where = urlsplit(again.redirect_url)
    assert f"{where.scheme}://{where.netloc}{where.path}" == f"{PUBLIC_URL}/vpos/return"
    assert parse_qs(where.query) == {"attempt": [number], "orderId": [md_order]}  # where the bank sends customers
    assert handle_return(gw.ctx, md_order, number).redirect_url is None  # the processing page, while Ecwid lacks it

    gw.clock.advance(gw.settings.ecwid_backoff_max_s)  # the update's retry is due
    assert handle_return(gw.ctx, md_order, number).redirect_url == RETURN_URL  # Ecwid PAID, then the store
    assert gw.ecwid.statuses() == ["PAID", "PAID"]
    assert gw.start().redirect_url == RETURN_URL  # once Ecwid has it, "pay" again goes straight to the store


def test_pay_again_sends_the_update_due_now_before_the_customer_goes_to_the_store(gw: Gateway) -> None:
    paid_while_ecwid_refuses(gw)
    gw.clock.advance(gw.settings.ecwid_backoff_max_s)  # the retry is due, no worker has run yet

    again = gw.start()

    assert again.redirect_url == RETURN_URL
    assert gw.ecwid.statuses() == ["PAID", "PAID"]  # delivered before the redirect


def test_the_payment_url_answers_the_paid_order_with_the_return_page_while_ecwid_lacks_the_status(
    gw: Gateway,
) -> None:
    number, md_order = paid_while_ecwid_refuses(gw)
    client = create_app(context=gw.ctx).test_client()

    answer = client.post("/ecwid/payment", data=ecwid_form())

    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(f"{PUBLIC_URL}/vpos/return?")
    assert client.get("/vpos/return", query_string={"orderId": md_order, "attempt": number}).status_code == 202
