"""The operator console's door: accounts, login with lockout and TOTP, sessions, CSRF, headers, and that every page
but the login needs a logged-in active operator. Flask's test client over SQLite and PostgreSQL."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from gateway import create_app
from gateway.services import operators
from gateway.store.models import Operator
from tests.gateway_fakes import CLIENT_SECRET, ECWID_TOKEN, TOKEN_KEY, Gateway, ecwid_form
from tests.integration.test_gw_console_support import (
    CONSOLE_KEY,
    PASSWORD,
    Console,
    actions,
    add_operator,
    console_gateway,
    paid_payment,
)


@pytest.fixture
def console(app: Flask) -> Console:
    return Console(app.test_client())


def test_console_is_404_everywhere_without_a_secret_key(gw: Gateway) -> None:
    with create_app(context=gw.ctx).test_client() as client:
        for path in ("/ops/", "/ops/login", "/ops/exceptions", "/ops/payments?q=x", "/ops/console.css"):
            assert client.get(path).status_code == 404, path
        assert client.post("/ops/login", data={"username": "a", "password": "b"}).status_code == 404


def test_login_with_the_right_password_opens_the_console(cgw: Gateway, console: Console) -> None:
    add_operator(cgw)
    response = console.login()
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/ops/")
    page = console.get("/ops/exceptions")
    assert page.status_code == 200
    assert "Signed in as anna" in page.get_data(as_text=True)
    ok = [a for a in actions(cgw, "login") if a.outcome == "ok"]
    assert [(a.actor, a.detail) for a in ok] == [("anna", "password")]


def test_password_is_stored_as_argon2id_and_never_in_clear(cgw: Gateway) -> None:
    add_operator(cgw)
    with cgw.ctx.db.session() as session:
        operator = session.scalars(select(Operator)).one()
    assert operator.password_hash.startswith("$argon2id$")
    assert PASSWORD not in operator.password_hash
    assert all(PASSWORD not in a.detail for a in actions(cgw))


def test_wrong_password_is_refused_and_recorded(cgw: Gateway, console: Console) -> None:
    add_operator(cgw)
    response = console.login(password="not the password at all")
    assert response.status_code == 200
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert console.get("/ops/exceptions").status_code == 302
    refused = [a for a in actions(cgw, "login") if a.outcome == "refused"]
    assert [(a.actor, a.detail) for a in refused] == [("anna", "bad_credentials")]


def test_unknown_username_is_refused_without_recording_what_was_typed(cgw: Gateway, console: Console) -> None:
    response = console.login(username="correct horse battery staple", password="x")
    assert "Wrong username or password." in response.get_data(as_text=True)
    refused = actions(cgw, "login")
    assert [(a.actor, a.outcome) for a in refused] == [("anonymous", "refused")]


def test_five_failures_lock_the_account_for_fifteen_minutes(cgw: Gateway, console: Console) -> None:
    add_operator(cgw)
    for _ in range(4):
        assert "Wrong username" in console.login(password="wrong-password-1").get_data(as_text=True)
    fifth = console.login(password="wrong-password-1").get_data(as_text=True)
    assert "locked until" in fifth
    # locked: even the right password is refused, and refusals while locked do not extend the lock
    cgw.clock.advance(14 * 60)
    assert "locked until" in console.login().get_data(as_text=True)
    assert console.get("/ops/exceptions").status_code == 302
    cgw.clock.advance(61)
    assert console.login().status_code == 302
    assert console.get("/ops/exceptions").status_code == 200
    details = [a.detail for a in actions(cgw, "login")]
    assert details == ["bad_credentials"] * 5 + ["locked", "password"]


def test_lockout_is_per_account(cgw: Gateway, console: Console) -> None:
    add_operator(cgw, "anna")
    add_operator(cgw, "boris")
    for _ in range(5):
        console.login("anna", "wrong-password-1")
    assert console.login("boris").status_code == 302


def test_inactive_operator_cannot_log_in_and_is_logged_out(cgw: Gateway, app: Flask) -> None:
    add_operator(cgw)
    # Two browsers. Not ``with client``: a client kept open would leave its app context (and ``g``) to the other.
    first, second = Console(app.test_client()), Console(app.test_client())
    assert first.login().status_code == 302
    operators.set_active(cgw.ctx, "anna", False, actor="test")
    assert first.get("/ops/exceptions").status_code == 302  # the live session ends at once
    response = second.login()
    assert response.status_code == 200
    assert "This account is disabled." in response.get_data(as_text=True)
    assert second.get("/ops/exceptions").status_code == 302
    assert actions(cgw, "login")[-1].detail == "inactive"


def test_new_password_ends_existing_sessions(cgw: Gateway, console: Console) -> None:
    add_operator(cgw)
    console.login()
    operators.set_password(cgw.ctx, "anna", "another long password", actor="test")
    assert console.get("/ops/exceptions").status_code == 302


def test_totp_is_asked_after_the_password_and_checked(cgw: Gateway, console: Console) -> None:
    uri = add_operator(cgw, totp=True)
    assert uri is not None and uri.startswith("otpauth://totp/")
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    with cgw.ctx.db.session() as session:
        sealed = session.scalars(select(Operator.totp_secret_encrypted)).one()
    assert sealed is not None and secret not in sealed
    response = console.login()
    assert response.headers["Location"].endswith("/ops/login/totp")
    assert console.get("/ops/exceptions").status_code == 302  # the password alone is not a login
    assert console.get("/ops/login/totp").status_code == 200
    wrong = console.post("/ops/login/totp", {"code": "000000"})
    assert "The code is wrong" in wrong.get_data(as_text=True)
    code = pyotp.TOTP(secret).at(cgw.clock.now())
    assert console.post("/ops/login/totp", {"code": code}).status_code == 302
    assert console.get("/ops/exceptions").status_code == 200


def test_a_totp_code_works_once(cgw: Gateway, app: Flask) -> None:
    uri = add_operator(cgw, totp=True)
    assert uri is not None
    code = pyotp.TOTP(parse_qs(urlsplit(uri).query)["secret"][0]).at(cgw.clock.now())
    # Two browsers. Not ``with client``: a client kept open would leave its app context (and ``g``) to the other.
    first, second = Console(app.test_client()), Console(app.test_client())
    first.login()
    first.get("/ops/login/totp")
    assert first.post("/ops/login/totp", {"code": code}).status_code == 302
    second.login()
    second.get("/ops/login/totp")
    assert "already used" in second.post("/ops/login/totp", {"code": code}).get_data(as_text=True)


def test_required_totp_refuses_an_account_without_it(database_url: str) -> None:
    gw = console_gateway(database_url, console_require_totp=True)
    try:
        add_operator(gw)
        with create_app(context=gw.ctx).test_client() as client:
            response = Console(client).login()
            assert response.status_code == 200
            assert "(TOTP) is required" in response.get_data(as_text=True)
            assert Console(client).get("/ops/exceptions").status_code == 302
    finally:
        gw.close()


def test_session_expires_after_the_ttl(cgw: Gateway, console: Console) -> None:
    add_operator(cgw)
    console.login()
    cgw.clock.advance(cgw.settings.console_session_ttl_s - 1)
    assert console.get("/ops/exceptions").status_code == 200
    cgw.clock.advance(2)
    assert console.get("/ops/exceptions").status_code == 302


def test_logout_ends_the_session(cgw: Gateway, console: Console) -> None:
    add_operator(cgw)
    console.login()
    console.get("/ops/exceptions")
    assert console.post("/ops/logout").status_code == 302
    assert console.get("/ops/exceptions").status_code == 302
    assert [a.action for a in actions(cgw)][-1] == "logout"


def test_session_cookie_is_httponly_strict_and_scoped_to_ops(cgw: Gateway, console: Console) -> None:
    add_operator(cgw)
    response = console.login()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/ops" in cookie
    assert "Secure" not in cookie  # the test gateway's public URL is http
    assert "Expires=" in cookie


def test_session_cookie_is_secure_behind_https(database_url: str) -> None:
    gw = console_gateway(database_url, public_url="https://pay.example")
    try:
        add_operator(gw)
        with create_app(context=gw.ctx).test_client() as client:
            console = Console(client)
            console.get("/ops/login", base_url="https://pay.example")
            response = console.post(
                "/ops/login",
                {"username": "anna", "password": PASSWORD},
                base_url="https://pay.example",
                headers={"Referer": "https://pay.example/ops/login"},
            )
            assert response.status_code == 302
            assert "Secure" in response.headers["Set-Cookie"]
    finally:
        gw.close()


# --- every route needs a login --------------------------------------------------------------------------------------

PUBLIC = {"ops.login", "ops.login_totp", "ops.stylesheet", "ops.static"}
SAMPLE_VALUES = {"session_id": "1", "exception_id": "1", "attempt_id": "1", "action": "refund"}


def _console_routes(app: Flask) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/ops") or rule.endpoint in PUBLIC:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", SAMPLE_VALUES[name], path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, path, rule.endpoint))
    return routes


def test_every_console_route_requires_a_login(cgw: Gateway, app: Flask, console: Console) -> None:
    paid_payment(cgw)
    routes = _console_routes(app)
    endpoints = {endpoint for _, _, endpoint in routes}
    assert {"ops.payments", "ops.payment", "ops.exceptions", "ops.resolve_exception", "ops.money_execute"} <= endpoints
    for method, path, _ in routes:
        if method == "GET":
            response = console.get(path)
        else:
            response = console.post(path, {"note": "x", "confirmed": "yes", "lang": "hy", "amount": "1"})
        if path.startswith("/ops/api/"):  # the JSON view says so in JSON instead of redirecting a tool
            assert (response.status_code, response.get_json()) == (401, {"error": "login required"}), (method, path)
            continue
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].endswith("/ops/login"), (method, path)
    assert [a.action for a in actions(cgw)] == []  # nothing happened


def test_security_headers_on_console_pages(cgw: Gateway, console: Console) -> None:
    add_operator(cgw)
    pages = [console.get("/ops/login")]
    console.login()
    pages += [console.get("/ops/exceptions"), console.get("/ops/payments?q=nothing")]
    for response in pages:
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


# --- CSRF -------------------------------------------------------------------------------------------------------------


def _open_exception(cgw: Gateway) -> int:
    """A paid payment whose Ecwid update was refused for good: an open ``ecwid_update_failed``."""
    cgw.ecwid.fail_next(401)
    paid_payment(cgw, reference="transaction_exception", order_id="EXC1")
    (exception,) = [e for e in cgw.exceptions() if e.code == "ecwid_update_failed"]
    return exception.id


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["without-token", "wrong-token"])
def test_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    cgw: Gateway, console: Console, token: str | None
) -> None:
    add_operator(cgw)
    exception_id = _open_exception(cgw)
    console.login()
    console.get("/ops/exceptions")
    before = len(actions(cgw))
    data = {"note": "resolved by a forged form"}
    if token is not None:
        data["csrf_token"] = token
    response = console.post(f"/ops/exceptions/{exception_id}/resolve", data, csrf=False)
    assert response.status_code == 400
    assert cgw.exceptions()[0].resolved_at is None
    assert len(actions(cgw)) == before
    # and the same form with the page's token works
    data.pop("csrf_token", None)
    assert console.post(f"/ops/exceptions/{exception_id}/resolve", data).status_code == 302
    assert cgw.exceptions()[0].resolved_by == "anna"


def test_login_post_without_csrf_token_is_refused(cgw: Gateway, console: Console) -> None:
    add_operator(cgw)
    response = console.post("/ops/login", {"username": "anna", "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert actions(cgw, "login") == []


def test_public_endpoints_need_no_csrf_token(cgw: Gateway, app: Flask) -> None:
    with app.test_client() as client:
        response = client.post("/ecwid/payment", data=ecwid_form())
        assert response.status_code == 303


def test_no_secret_is_rendered(cgw: Gateway, console: Console) -> None:
    add_operator(cgw, totp=True)
    add_operator(cgw, "boris")
    session_id, _ = paid_payment(cgw)
    _open_exception(cgw)
    console.login("boris")
    pages = [
        console.get("/ops/exceptions?state=all"),
        console.get(f"/ops/payments/{session_id}"),
        console.get("/ops/payments?q=XJ12H"),
    ]
    with cgw.ctx.db.session() as session:
        hashes = list(session.scalars(select(Operator.password_hash)))
        sealed = list(session.scalars(select(Operator.totp_secret_encrypted)))
    secrets = [ECWID_TOKEN, CLIENT_SECRET, TOKEN_KEY, CONSOLE_KEY, PASSWORD, *hashes, *(s for s in sealed if s)]
    for response in pages:
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        for secret in secrets:
            assert secret not in body
