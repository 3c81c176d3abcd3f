"""Our gateway's own records, read the way an operator's tools read them: through the console's JSON view
(``/ops/api/*``, behind the operator login), never through its database. The same client serves the lab and our
gateway started elsewhere (``vposlab check --gateway-url``), so a scenario judges both from the same answers.

- ``ConsoleApi``: signs in as the console's login page asks (the page's CSRF token, username, password; the session
  cookie), signs in again when the login has expired (the gateway's clock may have been moved past it), and reads
  ``status`` (the gateway's time and timings), ``payments?q=`` (search by any id) and ``payments/<id>`` (attempts,
  refunds, exceptions, timeline). ``advance_clock`` moves a TEST gateway's test clock (``VPOSLAB_TEST_CLOCK``).
- ``GatewayTimings``: the timings of ``status``, under the names of ``gateway.settings.Settings``.

Nothing here writes to the gateway except ``advance_clock``; no secret is ever part of an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

CSRF_FIELD = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
TIMEOUT_S = 20.0


class ConsoleApiError(RuntimeError):
    """The console's JSON view did not answer as documented (the message says what it answered)."""


@dataclass(frozen=True)
class GatewayTimings:
    """The gateway's timings as its ``/ops/api/status`` gives them (seconds)."""

    http_timeout_s: float
    session_timeout_s: float
    poll_after_s: float
    poll_max_interval_s: float
    pending_wait_s: float
    return_wait_s: float

    @classmethod
    def from_status(cls, status: dict[str, Any]) -> GatewayTimings:
        timings = status["timings"]
        return cls(**{name: float(timings[name]) for name in cls.__dataclass_fields__})


class ConsoleApi:
    """An operator's session on our gateway's console, for its JSON view (see the module's docstring)."""

    def __init__(self, console_url: str, username: str, password: str) -> None:
        self._base = console_url.rstrip("/")
        self._username = username
        self._password = password
        self._http = httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)
        self._signed_in = False

    def close(self) -> None:
        self._http.close()

    # --- reading -----------------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return self._get("/api/status")

    def now(self) -> datetime:
        """The gateway's own time (its test clock included)."""
        return datetime.fromisoformat(str(self.status()["now"]))

    def timings(self) -> GatewayTimings:
        return GatewayTimings.from_status(self.status())

    def search(self, reference: str) -> list[dict[str, Any]]:
        """Payment summaries whose Ecwid order id, referenceTransactionId, orderNumber or mdOrder is ``reference``."""
        found: list[dict[str, Any]] = self._get("/api/payments", params={"q": reference})["payments"]
        return found

    def payment(self, session_id: int) -> dict[str, Any]:
        """A payment session: ``payment``, ``attempts`` (with ``refunds``), ``exceptions`` and ``timeline``."""
        return self._get(f"/api/payments/{session_id}")

    # --- the TEST gateway's test clock -------------------------------------------------------------------------

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the gateway's test clock forward; every process of the gateway sees the new time on return."""
        self._sign_in_once()
        answer = self._send("POST", "/api/test-clock", json={"advance_s": seconds}, csrf=True)
        if answer.status_code == 404:
            raise ConsoleApiError(
                f"the gateway has no test clock: start it in TEST with VPOSLAB_TEST_CLOCK=true ({_said(answer)})"
            )
        return _json(answer, "POST /ops/api/test-clock")

    # --- the session -------------------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        self._sign_in_once()
        answer = self._send("GET", path, params=params)
        return _json(answer, f"GET /ops{path}")

    def _send(self, method: str, path: str, *, csrf: bool = False, **kwargs: Any) -> httpx.Response:
        """One request; a login that has expired (401) is renewed once and the request repeated."""
        for _ in range(2):
            headers = {"Accept": "application/json"}
            if csrf:  # Flask-WTF's token of this login, as the console's forms carry it
                headers["X-CSRFToken"] = str(self._get("/api/status")["csrf_token"])
            answer = self._http.request(method, self._base + path, headers=headers, **kwargs)
            if answer.status_code != 401:
                return answer
            self._sign_in()
        raise ConsoleApiError(f"{method} /ops{path}: still refused after signing in again ({_said(answer)})")

    def _sign_in_once(self) -> None:
        if not self._signed_in:
            self._sign_in()

    def _sign_in(self) -> None:
        self._http.cookies.clear()
        page = self._http.get(self._base + "/login")
        found = CSRF_FIELD.search(page.text)
        if page.status_code != 200 or found is None:
            raise ConsoleApiError(f"the console's login page gave no form ({_said(page)})")
        answer = self._http.post(
            self._base + "/login",
            data={"username": self._username, "password": self._password, "csrf_token": found.group(1)},
            headers={"Referer": self._base + "/login"},  # over HTTPS the console's CSRF check wants the referrer
        )
        if answer.status_code != 302 or answer.headers.get("location", "").rstrip("/").endswith("/login"):
            raise ConsoleApiError(
                f"the console refused the operator {self._username!r} (HTTP {answer.status_code}): check the"
                " console user and password the target names"
            )
        if "/login/totp" in answer.headers.get("location", ""):
            raise ConsoleApiError(f"the operator {self._username!r} needs a TOTP code: use an account without one")
        self._signed_in = True


def _json(answer: httpx.Response, what: str) -> dict[str, Any]:
    if answer.status_code != 200:
        raise ConsoleApiError(f"{what}: {_said(answer)}")
    try:
        data = answer.json()
    except ValueError as exc:
        raise ConsoleApiError(f"{what}: not JSON ({_said(answer)})") from exc
    if not isinstance(data, dict):
        raise ConsoleApiError(f"{what}: not a JSON object ({_said(answer)})")
    return data


def _said(answer: httpx.Response) -> str:
    return f"HTTP {answer.status_code}: {answer.text[:200]!r}"
