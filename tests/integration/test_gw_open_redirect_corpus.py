"""Open redirects: every input that can influence where the gateway sends a browser, fed a corpus of the forms
attackers use (scheme-relative, backslashes, userinfo, encoded slashes and dots, control characters, look-alike dots,
other schemes), must leave the browser on the gateway or on the store's own host.

The inputs: the Ecwid payment request's ``returnUrl`` (a store with its return hosts listed), the console's ``next``
field (language switch, exception resolve / note / retry), and the customer's return from the bank (its query
parameters). Where a redirect is given, its ``Location`` is resolved the way a browser resolves it (WHATWG rules
approximated: tabs and newlines dropped, backslashes read as slashes) before its host is judged.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from pydantic import SecretStr
from werkzeug.test import TestResponse

from gateway import create_app
from gateway.domain.errors import InvalidPaymentRequest
from gateway.ecwid.payment_request import parse_payment_request
from gateway.services.journal import raise_exception
from tests.gateway_fakes import CLIENT_SECRET, PUBLIC_URL, STORE_ID, Gateway, ecwid_form, ecwid_payload, make_settings
from tests.integration.test_gw_console_support import Console, add_operator, paid_payment

EVIL = "evil.example"
STORE_HOSTS = ["mystore.example", "*.company.site"]
# Absolute returnUrls that must be refused for a store listing STORE_HOSTS.
HOSTILE_RETURN_URLS = [
    f"https://{EVIL}/checkout",
    f"//{EVIL}/checkout",
    f"https://mystore.example@{EVIL}/",
    f"https://mystore.example:443@{EVIL}/",
    f"https://mystore.example%40{EVIL}/",
    f"https://{EVIL}#@mystore.example/",
    f"https://{EVIL}?@mystore.example/",
    f"https://{EVIL}\\@mystore.example/",
    f"https://mystore.example\\@{EVIL}/",
    f"https://mystore.example.{EVIL}/",
    f"https://mystore.example%2F.{EVIL}/",
    f"https://mystore.example%2f@{EVIL}/",
    f"https://{EVIL}%23.mystore.example/",
    f"https://{EVIL}/.mystore.example",
    f"https://mystore\u3002example.{EVIL}/",
    f"https://{EVIL}\u3002mystore.example/",
    f"https://company.site.{EVIL}/",
    "https://company.site/",  # the bare domain of a '*.' pattern is not one of its subdomains
    f"https://xcompany.site.{EVIL}/",
    f"https:\\\\{EVIL}/",
    f"https:/{EVIL}/",
    f"https:{EVIL}/",
    f"\thttps://{EVIL}/",
    f"https://{EVIL}\t.mystore.example/",
    f"https://mystore.example\n.{EVIL}/",
    f"https://\u202e{EVIL}/",
    "javascript://mystore.example/%0Aalert(1)",
    "javascript:alert(document.domain)",
    "data:text/html,<script>alert(1)</script>",
    f"ftp://mystore.example@{EVIL}/",
    "/checkout",
    f"///{EVIL}/",
    f"http://[::ffff:127.0.0.1]@{EVIL}/",
    "https://",
    "",
]
# Hostile-looking, but the browser stays on the store's own host: accepted, sent back exactly as received.
STAYS_ON_THE_STORE = [
    f"https://mystore.example/..//{EVIL}/",
    f"https://mystore.example/redirect?to=https://{EVIL}/",
    "https://MyStore.Example./checkout",
    "https://mystore.example:8443/checkout",
    "https://shop.company.site/checkout",
    f"https://shop.company.site/#{EVIL}",
]
# Values of the console's ``next`` field.
HOSTILE_NEXT = [
    f"https://{EVIL}/",
    f"//{EVIL}/",
    f"/\\{EVIL}/",
    f"\\\\{EVIL}/",
    f"/ops/\\..\\\\{EVIL}",
    f"/ops//{EVIL}",
    f"/ops/../..//{EVIL}/",
    f"/ops/%2F%2F{EVIL}",
    f"/ops/\t/{EVIL}",
    f"/ops/\r\nLocation: https://{EVIL}/",
    f"/ops/%0d%0aLocation:%20https://{EVIL}/",
    f"\t//{EVIL}/",
    f" //{EVIL}/",
    f"/\t/{EVIL}/",
    f"javascript:alert(1)//{EVIL}",
    f"https:{EVIL}",
    f"/ops/@{EVIL}",
    f"/ops/:{EVIL}",
    "",
]


def browser_target(base: str, location: str) -> tuple[str, str]:
    """(scheme, host) a browser goes to for ``Location: location`` on a page of ``base``."""
    cleaned = location.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/").strip()
    resolved = urlsplit(urljoin(base, cleaned))
    return resolved.scheme, (resolved.hostname or "")


def assert_stays(response: TestResponse, base: str, allowed_hosts: set[str]) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    location = response.headers.get("Location")
    if location is None:
        return
    scheme, host = browser_target(base, location)
    assert scheme in ("http", "https"), location
    assert host in allowed_hosts, f"{location!r} sends the browser to {host!r}"


# --- the Ecwid payment request's returnUrl ---------------------------------------------------------------------


def parse(return_url: str) -> str:
    form = ecwid_form(ecwid_payload(return_url=return_url))
    request = parse_payment_request(
        form, {STORE_ID: SecretStr(CLIENT_SECRET)}, frozenset({"AMD", "USD"}), return_hosts={STORE_ID: STORE_HOSTS}
    )
    return request.return_url


@pytest.mark.parametrize("return_url", HOSTILE_RETURN_URLS)
def test_a_return_url_off_the_store_s_hosts_is_refused(return_url: str) -> None:
    with pytest.raises(InvalidPaymentRequest):
        parse(return_url)


@pytest.mark.parametrize("return_url", STAYS_ON_THE_STORE)
def test_a_return_url_on_the_store_s_hosts_is_sent_back_as_received_and_stays_there(return_url: str) -> None:
    assert parse(return_url) == return_url
    _, host = browser_target("https://gateway.invalid/", return_url)
    assert host.rstrip(".") in {"mystore.example", "shop.company.site"}


def test_the_payment_url_refuses_every_hostile_return_url_with_no_redirect(database_url: str) -> None:
    gw = Gateway.build(make_settings(database_url, ecwid_return_hosts={STORE_ID: STORE_HOSTS}))
    try:
        client = create_app(context=gw.ctx).test_client()
        for return_url in HOSTILE_RETURN_URLS:
            answer = client.post("/ecwid/payment", data=ecwid_form(ecwid_payload(return_url=return_url)))
            assert "Location" not in answer.headers, (return_url, answer.headers.get("Location"))
            assert answer.status_code < 500, return_url
        assert gw.attempts() == []  # nothing registered at the bank for any of them
    finally:
        gw.close()


# --- the console's ``next`` ------------------------------------------------------------------------------------


def test_the_console_s_next_never_leaves_the_console(cgw: Gateway) -> None:
    add_operator(cgw, "anna")
    console = Console(create_app(context=cgw.ctx).test_client())
    assert console.login("anna").status_code == 302
    session_id, _ = paid_payment(cgw)
    with cgw.ctx.db.session() as session, session.begin():
        raise_exception(session, "amount_mismatch", "corpus", cgw.clock.now(), session_id=session_id)
    (opened,) = cgw.exceptions()
    gateway = {urlsplit(PUBLIC_URL).hostname or "", "localhost"}
    for target in HOSTILE_NEXT:
        answer = console.post("/ops/language", {"lang": "en", "next": target})
        assert_stays(answer, "http://localhost/ops/", gateway)
        for action in ("note", "resolve", "retry"):
            answer = console.post(f"/ops/exceptions/{opened.id}/{action}", {"note": "checked", "next": target})
            assert_stays(answer, "http://localhost/ops/", gateway)


# --- the customer's return from the bank ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [f"https://{EVIL}/", f"//{EVIL}", f"/\\{EVIL}", "%2F%2Fevil.example", "\r\n"])
def test_the_customer_return_goes_only_to_the_gateway_or_the_store(gw: Gateway, value: str) -> None:
    client = create_app(context=gw.ctx).test_client()
    outcome = gw.start()
    number = outcome.attempt_order_number
    assert number is not None
    md_order = gw.provider.set_status(number, 2)
    allowed = {"mystore.example", urlsplit(PUBLIC_URL).hostname or "", "localhost"}
    for query in (
        {"orderId": value},
        {"orderId": md_order, "attempt": value},
        {"orderId": md_order, "attempt": number, "returnUrl": value, "next": value, "redirect": value},
    ):
        assert_stays(client.get("/vpos/return", query_string=query), "http://localhost/vpos/return", allowed)
