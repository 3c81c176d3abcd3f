"""Shared pieces of the operator console tests (no tests here): a gateway with the console on, a test client that
carries the CSRF token, operators and a payment with a story to tell."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from pydantic import SecretStr
from sqlalchemy import select
from werkzeug.test import TestResponse

from gateway.services import operators
from gateway.services.confirm import confirm_attempt
from gateway.services.outbox import relay
from gateway.store.models import OperatorAction
from tests.gateway_fakes import Gateway, make_settings

CONSOLE_KEY = "console-secret-key-for-tests-0123456789"
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_gateway(database_url: str, **overrides: Any) -> Gateway:
    return Gateway.build(make_settings(database_url, console_secret_key=SecretStr(CONSOLE_KEY), **overrides))


@dataclass
class Console:
    """A browser's view of the console: the test client plus the CSRF token of the last page."""

    client: FlaskClient
    token: str = ""

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(url, **kwargs)
        self._remember(response)
        return response

    def post(self, url: str, data: dict[str, str] | None = None, *, csrf: bool = True, **kwargs: Any) -> TestResponse:
        form = dict(data or {})
        if csrf:
            if not self.token:
                self.get("/ops/login")
            form.setdefault("csrf_token", self.token)
        response = self.client.post(url, data=form, **kwargs)
        self._remember(response)
        return response

    def _remember(self, response: TestResponse) -> None:
        if response.mimetype == "text/html":
            found = _CSRF.search(response.get_data(as_text=True))
            if found:
                self.token = found.group(1)

    def login(self, username: str = "anna", password: str = PASSWORD) -> TestResponse:
        """Sign in as a browser does: the login page, the form, then wherever it sends us (a fresh session has a
        fresh CSRF token). Returns the answer to the form."""
        self.get("/ops/login")
        response = self.post("/ops/login", {"username": username, "password": password})
        follow, hops = response, 0
        while follow.status_code == 302 and hops < 3:
            follow, hops = self.get(follow.headers["Location"]), hops + 1
        return response

    def flashes(self, url: str = "/ops/exceptions") -> str:
        return self.get(url).get_data(as_text=True)


def add_operator(gw: Gateway, username: str = "anna", *, language: str = "en", totp: bool = False) -> str | None:
    _, uri = operators.create_operator(gw.ctx, username, PASSWORD, language=language, totp=totp, actor="test")
    return uri


def actions(gw: Gateway, action: str | None = None) -> list[OperatorAction]:
    with gw.ctx.db.session() as session:
        query = select(OperatorAction).order_by(OperatorAction.id)
        if action is not None:
            query = query.where(OperatorAction.action == action)
        return list(session.scalars(query))


def paid_payment(gw: Gateway, **overrides: Any) -> tuple[int, str]:
    """A paid one-phase payment whose PAID status reached Ecwid: (session id, attempt orderNumber)."""
    outcome = gw.start(**overrides)
    assert outcome.attempt_order_number is not None
    number = outcome.attempt_order_number
    attempt = gw.attempt(number)
    md_order = gw.provider.set_status(number, 2)
    confirm_attempt(gw.ctx, attempt.id, gw.provider.status_of(md_order), source="test")
    relay(gw.ctx)
    return attempt.session_id, number
