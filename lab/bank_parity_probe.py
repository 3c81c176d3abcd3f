"""RC-35: the REAL bank with the REAL credentials answers as TEST does, shown with read-only calls only
(``vposlab probe bank``).

On the REAL base URL the probe calls ``getOrderStatusExtended.do`` and nothing else: ``ReadOnlyGuard`` wraps the
probe's HTTP transport and refuses any other method to the REAL origin (and to the known REAL hosts of
``KNOWN_REAL_ORIGINS``) before a byte is sent, whoever asks. On TEST it may also register one order
(``register_on_test``; a registered, never paid order moves no money), never where TEST shares REAL's origin.

What is honestly checkable read-only (protocols.md 2.4, 2.5, 2.9):

    BK-01 REAL base URL        https, not ArCa's TEST host, not the TEST URL given; its certificate trusted
    BK-02 Refusal control      unknown credentials (a random user name, so no real account can be locked) get
                               errorCode 5: only then does errorCode 6 below prove credentials were accepted
    BK-03/<CUR> Credentials    per currency, a random ``probe-<hex>`` orderNumber: errorCode 6 (order not found)
                               = accepted; 5 (access denied) = refused; anything else = unexpected
    BK-04 Currencies           the same currencies as on TEST; one account per currency (ArCa issues one each)
    BK-05 Errors as on TEST    per currency, REAL's "order not found" answer has TEST's errorCode and fields
    BK-06 Status fields        the status of a REAL order the operator names (e.g. the canary's, RC-37): the
                               fields the gateway reads are present, and every field TEST answers with for an
                               order (named, or registered on TEST) is there too; fields that only some order
                               states carry (card, bank, authorisation) are compared only between equal states

What is not checkable without moving money or creating REAL orders is listed in the report's limits.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.domain.money import CURRENCIES
from lab.endpoint_probes import (
    Finding,
    ProbeReport,
    ProbeUsageError,
    Status,
    checked_url,
    is_loopback,
    origin,
    public_url,
    short_text,
    transport_problem,
    trust_context,
    trust_name,
    worst,
)

STATUS_METHOD = "getOrderStatusExtended.do"
READ_ONLY_METHODS = frozenset({STATUS_METHOD})
KNOWN_REAL_ORIGINS = frozenset({("https", "ipay.arca.am", 443), ("https", "pg.inecoecom.am", 443)})
"""Hosts that serve REAL (protocols.md 2.1; Inecobank serves TEST and REAL on one host): never registered on."""
KNOWN_TEST_HOSTS = frozenset({"ipaytest.arca.am"})
REQUIRED_STATUS_FIELDS = ("orderStatus", "orderNumber", "amount", "currency", "actionCode")
"""What the gateway reads to decide "paid" (protocols.md 2.5: orderStatus 1/2 and amount/currency as registered)."""
ERROR_FIELDS = frozenset({"errorCode", "errorMessage", "ErrorCode", "ErrorMessage"})
STATE_DEPENDENT_FIELDS = frozenset(
    {"cardAuthInfo", "bankInfo", "authDateTime", "authRefNum", "displayErrorMessage", "payerData", "bindingInfo"}
)
"""Present only for orders in some states (a card was entered, an authorisation happened, a decline)."""
FROM_VERSION = {"paymentAmountInfo": 3, "bankInfo": 3, "refunds": 5, "chargeback": 6, "displayErrorMessage": 33}
"""The per-merchant response version a field appears from (protocols.md 2.9)."""
ORDER_NUMBER_PREFIX = "probe-"
TEST_RETURN_URL = "https://vposlab-probe.invalid/return"


class MoneyMovingCallRefused(ProbeUsageError):
    """A call other than a status read was about to reach the REAL bank (or a registration a REAL host)."""


@dataclass(frozen=True)
class Credentials:
    user_name: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class BankSide:
    """One environment: its base URL, its credentials per currency (ISO alpha) and orders to read
    (currency -> the bank's ``orderId``, read with that currency's credentials)."""

    base_url: str
    credentials: Mapping[str, Credentials]
    orders: Mapping[str, str] = field(default_factory=dict)

    def method_url(self, method: str) -> str:
        return (self.base_url if self.base_url.endswith("/") else self.base_url + "/") + method

    def secrets(self) -> list[str]:
        return [c.password for c in self.credentials.values()]


def credentials_from_json(raw: str, what: str) -> dict[str, Credentials]:
    """``{"AMD": {"user_name": "...", "password": "..."}}`` (the gateway's ``VPOSLAB_PROVIDER_CREDENTIALS``).
    Errors name the currency or the field, never a value."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise ProbeUsageError(f"{what} is not valid JSON") from None
    if not isinstance(data, dict) or not data:
        raise ProbeUsageError(f'{what} must be a JSON object {{"AMD": {{"user_name": ..., "password": ...}}}}')
    found: dict[str, Credentials] = {}
    for currency, entry in data.items():
        if currency not in CURRENCIES:
            raise ProbeUsageError(f"{what}: unknown currency {str(currency)[:8]!r} (known: {', '.join(CURRENCIES)})")
        if not isinstance(entry, dict):
            raise ProbeUsageError(f"{what}: {currency} must be an object with user_name and password")
        user, password = entry.get("user_name"), entry.get("password")
        if not isinstance(user, str) or not user or not isinstance(password, str) or not password:
            raise ProbeUsageError(f"{what}: {currency} needs a non-empty user_name and password")
        found[currency] = Credentials(user, password)
    return found


# --- the guard -------------------------------------------------------------------------------------------------


class ReadOnlyGuard(httpx.BaseTransport):
    """Refuses every request to a protected origin (REAL) whose method is not a status read: the probe cannot
    register, deposit, reverse, refund or decline there, by mistake or by a bug, whatever its callers do."""

    def __init__(self, inner: httpx.BaseTransport, protected: Iterable[tuple[str, str, int]]) -> None:
        self._inner = inner
        self._protected = frozenset(protected)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1]
        if origin(request.url) in self._protected and method not in READ_ONLY_METHODS:
            raise MoneyMovingCallRefused(
                f"refused to send {method[:40]} to the REAL bank ({request.url.host}): the probe only reads statuses"
            )
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def guarded_client(
    real_base_url: str,
    *,
    timeout_s: float,
    ca_bundle: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """The probe's only HTTP client. ``transport`` (tests) is wrapped too; environment proxy settings are ignored,
    since a proxy transport would bypass the guard."""
    inner = transport or httpx.HTTPTransport(verify=trust_context(ca_bundle))
    protected = KNOWN_REAL_ORIGINS | {origin(real_base_url)}
    return httpx.Client(
        transport=ReadOnlyGuard(inner, protected), trust_env=False, timeout=timeout_s, follow_redirects=False
    )


def assert_may_register(test_base_url: str, real_base_url: str) -> None:
    """A registration goes to TEST only: never to REAL's origin, never to a known REAL host."""
    where = origin(test_base_url)
    if where == origin(real_base_url):
        raise MoneyMovingCallRefused(
            f"TEST and REAL share {where[1]}:{where[2]}: the probe never registers an order there"
        )
    if where in KNOWN_REAL_ORIGINS:
        raise MoneyMovingCallRefused(f"{where[1]} serves REAL: the probe never registers an order there")


# --- calls -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A bank answer: its JSON object, or why there is none (``problem``)."""

    http_status: int | None
    body: dict[str, Any] | None = None
    problem: str | None = None
    problem_kind: str | None = None

    @property
    def error_code(self) -> str | None:
        """``errorCode`` as a string ("0" when it is missing, as on some banks' successes); None without a body."""
        if self.body is None:
            return None
        code = self.body.get("errorCode", self.body.get("ErrorCode"))
        return "0" if code is None else str(code).strip()

    @property
    def error_message(self) -> str:
        if self.body is None:
            return ""
        return short_text(str(self.body.get("errorMessage", self.body.get("ErrorMessage", ""))), 80)

    def describe(self) -> str:
        if self.body is None:
            return self.problem or "no answer"
        message = f" ({self.error_message})" if self.error_message else ""
        return f"errorCode {self.error_code}{message}"


def _post(http: httpx.Client, url: str, form: dict[str, str], timeout_s: float) -> Answer:
    try:
        response = http.post(url, data=form)
    except httpx.HTTPError as exc:
        kind, problem = transport_problem(exc, timeout_s)
        return Answer(None, problem=problem, problem_kind=kind)
    method = url.rsplit("/", 1)[-1]
    if response.status_code == 404:
        return Answer(404, problem=f"HTTP 404: {method} is not deployed at this URL (wrong base URL?)")
    if response.status_code != 200:
        return Answer(response.status_code, problem=f"HTTP {response.status_code} from {method}")
    try:
        body = response.json()
    except ValueError:
        return Answer(200, problem=f"{method} answered something that is not JSON")
    if not isinstance(body, dict):
        return Answer(200, problem=f"{method} answered JSON that is not an object")
    return Answer(200, body)


def _status(http: httpx.Client, side: BankSide, creds: Credentials, lookup: dict[str, str], timeout_s: float) -> Answer:
    form = {"userName": creds.user_name, "password": creds.password, **lookup, "language": "en"}
    return _post(http, side.method_url(STATUS_METHOD), form, timeout_s)


def _probe_number() -> str:
    return ORDER_NUMBER_PREFIX + secrets.token_hex(8)


def register_test_order(
    http: httpx.Client, test: BankSide, currency: str, real_base_url: str, timeout_s: float
) -> tuple[str | None, str]:
    """Register one order on TEST (never paid, so no money moves): (orderId or None, what happened)."""
    assert_may_register(test.base_url, real_base_url)
    creds = test.credentials[currency]
    form = {
        "userName": creds.user_name,
        "password": creds.password,
        "orderNumber": _probe_number(),
        "amount": "100",
        "currency": CURRENCIES[currency][0],
        "returnUrl": TEST_RETURN_URL,
        "description": "vposlab parity probe (TEST only, never paid)",
        "language": "en",
    }
    answer = _post(http, test.method_url("register.do"), form, timeout_s)
    order_id = answer.body.get("orderId") if answer.body is not None else None
    if answer.error_code == "0" and isinstance(order_id, str) and order_id:
        return order_id, f"registered TEST order {order_id[:64]} ({currency}, never paid)"
    return None, f"TEST registration failed: {answer.describe()}"


# --- the probe -------------------------------------------------------------------------------------------------


@dataclass
class _Observations:
    control: Answer
    real_unknown: dict[str, Answer]
    test_unknown: dict[str, Answer]
    real_orders: dict[str, tuple[str, Answer]]
    references: list[tuple[str, Answer]]
    reference_note: str


def _ordered(currencies: Iterable[str]) -> list[str]:
    order = list(CURRENCIES)
    return sorted(currencies, key=lambda c: order.index(c) if c in order else len(order))


def _validate(real: BankSide, test: BankSide | None, register_on_test: bool) -> None:
    checked_url(real.base_url, "the REAL base URL")
    if not real.credentials:
        raise ProbeUsageError("no REAL credentials given")
    for side, name in ((real, "REAL"), (test, "TEST")):
        if side is None:
            continue
        if name == "TEST":
            checked_url(side.base_url, "the TEST base URL")
        for currency in list(side.credentials) + list(side.orders):
            if currency not in CURRENCIES:
                raise ProbeUsageError(f"{name}: unknown currency {currency[:8]!r}")
        for currency in side.orders:
            if currency not in side.credentials:
                raise ProbeUsageError(f"{name}: an order is named for {currency}, which has no {name} credentials")
    if register_on_test:
        if test is None or not test.credentials:
            raise ProbeUsageError("registering on TEST needs the TEST base URL and TEST credentials")
        assert_may_register(test.base_url, real.base_url)


def probe_bank(
    real: BankSide,
    test: BankSide | None = None,
    *,
    register_on_test: bool = False,
    timeout_s: float = 10.0,
    ca_bundle: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ProbeReport:
    """Probe the REAL bank (read-only) and compare it with TEST. Never registers, deposits, reverses, refunds or
    declines on REAL (``ReadOnlyGuard``); registers at most one never-paid order on TEST, and only when asked."""
    _validate(real, test, register_on_test)
    with guarded_client(real.base_url, timeout_s=timeout_s, ca_bundle=ca_bundle, transport=transport) as http:
        seen = _observe(http, real, test, register_on_test, timeout_s)
    findings = [_real_url(real, test, seen, trust_name(ca_bundle)), _control(seen.control)]
    findings += [_credentials(currency, answer, seen.control) for currency, answer in seen.real_unknown.items()]
    findings += [_currencies(real, test), _errors_as_on_test(seen), _status_fields(real, seen)]
    return ProbeReport("REAL bank", public_url(real.base_url), tuple(findings), _limits())


def _observe(
    http: httpx.Client, real: BankSide, test: BankSide | None, register_on_test: bool, timeout_s: float
) -> _Observations:
    nobody = Credentials("vposlab-probe-" + secrets.token_hex(6), secrets.token_urlsafe(18))
    control = _status(http, real, nobody, {"orderNumber": _probe_number()}, timeout_s)
    real_unknown = {
        c: _status(http, real, real.credentials[c], {"orderNumber": _probe_number()}, timeout_s)
        for c in _ordered(real.credentials)
    }
    test_unknown: dict[str, Answer] = {}
    if test is not None:
        test_unknown = {
            c: _status(http, test, test.credentials[c], {"orderNumber": _probe_number()}, timeout_s)
            for c in _ordered(test.credentials)
        }
    real_orders = {
        c: (order_id, _status(http, real, real.credentials[c], {"orderId": order_id}, timeout_s))
        for c, order_id in real.orders.items()
    }
    references: list[tuple[str, Answer]] = []
    note = "no TEST order named (--test-order) and none registered (--register-on-test)"
    if test is not None and test.orders:
        references = [
            (c, _status(http, test, test.credentials[c], {"orderId": order_id}, timeout_s))
            for c, order_id in test.orders.items()
        ]
        note = "TEST orders named by the operator"
    elif test is not None and register_on_test and real_orders:
        currency = next((c for c in real_orders if c in test.credentials), _ordered(test.credentials)[0])
        order_id, note = register_test_order(http, test, currency, real.base_url, timeout_s)
        if order_id is not None:
            references = [(currency, _status(http, test, test.credentials[currency], {"orderId": order_id}, timeout_s))]
    return _Observations(control, real_unknown, test_unknown, real_orders, references, note)


# --- findings --------------------------------------------------------------------------------------------------

LAB_REASON = (
    "plain HTTP on a loopback address: the lab's simulated bank, which plays TEST and REAL at once; the REAL bank's"
    " URL and certificate need the real endpoint"
)


def _real_url(real: BankSide, test: BankSide | None, seen: _Observations, trust: str) -> Finding:
    title = "REAL base URL"
    scheme, host, port = origin(real.base_url)
    if scheme == "http":
        if is_loopback(host):
            return Finding("BK-01", title, Status.NOT_APPLICABLE, LAB_REASON)
        return Finding("BK-01", title, Status.FAIL, "plain HTTP: the REAL bank is only reached over https")
    if host in KNOWN_TEST_HOSTS:
        return Finding("BK-01", title, Status.FAIL, f"{host} is ArCa's TEST host, not REAL")
    if test is not None and origin(test.base_url) == (scheme, host, port):
        return Finding("BK-01", title, Status.FAIL, "the TEST URL given is the REAL one: nothing would be compared")
    if seen.control.problem_kind == "tls":
        return Finding(
            "BK-01", title, Status.FAIL, f"the bank's certificate is refused against {trust}: {seen.control.problem}"
        )
    if seen.control.http_status is None:
        return Finding(
            "BK-01", title, Status.NOT_CHECKED, f"https, not a TEST URL; no TLS session: {seen.control.problem}"
        )
    return Finding(
        "BK-01", title, Status.PASS, f"https://{host}:{port}, not a TEST URL; its certificate trusted by {trust}"
    )


def _control(answer: Answer) -> Finding:
    title = "Refusal control"
    code = answer.error_code
    if code == "5":
        return Finding(
            "BK-02",
            title,
            Status.PASS,
            "unknown credentials are refused with errorCode 5, so errorCode 6 below means accepted credentials",
        )
    if code == "6":
        return Finding(
            "BK-02",
            title,
            Status.FAIL,
            "the bank answers errorCode 6 (order not found) even to unknown credentials: an accepted and a"
            " refused password look alike, BK-03 proves nothing",
        )
    return Finding("BK-02", title, Status.FAIL, f"unknown credentials got {answer.describe()}, not errorCode 5")


def _credentials(currency: str, answer: Answer, control: Answer) -> Finding:
    finding_id, title = f"BK-03/{currency}", f"{currency} credentials accepted"
    code = answer.error_code
    if code == "6":
        if control.error_code != "5":
            return Finding(
                finding_id,
                title,
                Status.NOT_CHECKED,
                "errorCode 6, but the bank answers so to unknown credentials too (BK-02)",
            )
        return Finding(
            finding_id,
            title,
            Status.PASS,
            "errorCode 6 (order not found) for a random orderNumber: the credentials were accepted",
        )
    if code == "5":
        return Finding(
            finding_id,
            title,
            Status.FAIL,
            f"refused: {answer.describe()}: wrong user name or password for {currency} on REAL",
        )
    if answer.body is None:
        return Finding(finding_id, title, Status.FAIL, f"no usable answer: {answer.describe()}")
    return Finding(
        finding_id,
        title,
        Status.FAIL,
        f"unexpected {answer.describe()} for a random orderNumber (expected 6, order not found)",
    )


def _currencies(real: BankSide, test: BankSide | None) -> Finding:
    title = "Currencies and accounts"
    statuses: list[Status] = []
    notes: list[str] = []
    by_user: dict[str, list[str]] = {}
    for currency in _ordered(real.credentials):
        by_user.setdefault(real.credentials[currency].user_name, []).append(currency)
    shared = [currencies for currencies in by_user.values() if len(currencies) > 1]
    if shared:
        statuses.append(Status.WARN)
        together = "; ".join(" and ".join(group) for group in shared)
        notes.append(f"one REAL account serves {together}: ArCa issues an account per currency")
    if test is None:
        statuses.append(Status.NOT_CHECKED)
        notes.append("no TEST credentials given: the currencies were not compared with TEST")
    else:
        missing = [c for c in _ordered(test.credentials) if c not in real.credentials]
        untested = [c for c in _ordered(real.credentials) if c not in test.credentials]
        if missing:
            statuses.append(Status.FAIL)
            notes.append(f"tested on TEST but no REAL credentials: {', '.join(missing)} (payments would fail)")
        if untested:
            statuses.append(Status.WARN)
            notes.append(f"REAL credentials but never tested on TEST: {', '.join(untested)}")
    if not notes:
        notes.append(f"REAL and TEST both have {', '.join(_ordered(real.credentials))}, one account each")
    return Finding("BK-04", title, worst(statuses), "; ".join(notes))


def _error_fields(answer: Answer) -> set[str]:
    return set(answer.body) if answer.body is not None else set()


def _errors_as_on_test(seen: _Observations) -> Finding:
    title = "Errors as on TEST"
    if not seen.test_unknown:
        return Finding("BK-05", title, Status.NOT_CHECKED, "no TEST credentials given: nothing to compare with")
    statuses: list[Status] = []
    notes: list[str] = []
    for currency, real_answer in seen.real_unknown.items():
        test_answer = seen.test_unknown.get(currency)
        if test_answer is None:
            continue
        if test_answer.error_code != "6":
            statuses.append(Status.NOT_CHECKED)
            notes.append(f"{currency}: TEST answered {test_answer.describe()}, not 6: no TEST side to compare")
            continue
        if real_answer.error_code != test_answer.error_code:
            statuses.append(Status.FAIL)
            notes.append(f"{currency}: REAL {real_answer.describe()}, TEST {test_answer.describe()}")
            continue
        real_fields, test_fields = _error_fields(real_answer), _error_fields(test_answer)
        if real_fields != test_fields:
            statuses.append(Status.WARN)
            notes.append(f"{currency}: fields REAL {sorted(real_fields)}, TEST {sorted(test_fields)}")
            continue
        statuses.append(Status.PASS)
        assert real_answer.body is not None and test_answer.body is not None
        typed = type(real_answer.body.get("errorCode")) is not type(test_answer.body.get("errorCode"))
        notes.append(f"{currency}: same" + (" (errorCode a number on one, a string on the other)" if typed else ""))
    if not statuses:
        return Finding("BK-05", title, Status.NOT_CHECKED, "no currency has credentials on both TEST and REAL")
    return Finding("BK-05", title, worst(statuses), "; ".join(notes))


def field_paths(body: Mapping[str, Any], *, with_state: bool = True) -> set[str]:
    """The status answer's fields, one level into objects (``paymentAmountInfo.depositedAmount``), without the
    error fields; without the state-dependent ones unless ``with_state``."""
    paths: set[str] = set()
    for name, value in body.items():
        if name in ERROR_FIELDS or (not with_state and name in STATE_DEPENDENT_FIELDS):
            continue
        paths.add(name)
        if isinstance(value, dict):
            paths |= {f"{name}.{sub}" for sub in value}
    return paths


def _named(paths: Iterable[str]) -> str:
    shown = []
    for path in sorted(paths):
        version = FROM_VERSION.get(path.split(".", 1)[0])
        shown.append(f"{path} (response version {version}+)" if version and "." not in path else path)
    return ", ".join(shown)


def _status_fields(real: BankSide, seen: _Observations) -> Finding:
    title = "Status fields"
    if not seen.real_orders:
        return Finding(
            "BK-06",
            title,
            Status.NOT_CHECKED,
            "no REAL order named: the fields of REAL's status answer show only on an existing REAL order (the"
            " canary of RC-37, or any earlier REAL payment: --real-order AMD=<orderId>); the probe never makes one",
        )
    statuses: list[Status] = []
    notes: list[str] = []
    usable_refs = [(c, a) for c, a in seen.references if a.body is not None and a.error_code in ("0", "2")]
    for currency, (order_id, answer) in seen.real_orders.items():
        name = f"{currency} order {order_id[:64]}"
        if answer.body is None or answer.error_code not in ("0", "2"):
            statuses.append(Status.FAIL)
            notes.append(f"{name}: {answer.describe()}")
            continue
        missing = [f for f in REQUIRED_STATUS_FIELDS if answer.body.get(f) is None]
        if missing:
            statuses.append(Status.FAIL)
            notes.append(f"{name}: without {', '.join(missing)}, which the gateway needs")
            continue
        if not usable_refs:
            statuses.append(Status.NOT_CHECKED)
            refs = "; ".join(f"{c} {a.describe()}" for c, a in seen.references)
            notes.append(
                f"{name}: the fields the gateway needs are there; no TEST status to compare with"
                f" ({refs or seen.reference_note})"
            )
            continue
        ref_currency, reference = _closest(answer, currency, usable_refs)
        assert reference.body is not None
        same_state = str(answer.body.get("orderStatus")) == str(reference.body.get("orderStatus"))
        real_paths = field_paths(answer.body, with_state=same_state)
        test_paths = field_paths(reference.body, with_state=same_state)
        lacking, extra = test_paths - real_paths, real_paths - test_paths
        compared = f"compared with a TEST {ref_currency} order in orderStatus {reference.body.get('orderStatus')}" + (
            "" if same_state else " (state-dependent fields left out: the states differ)"
        )
        if lacking:
            statuses.append(Status.FAIL)
            notes.append(
                f"{name}: TEST answers with fields REAL does not: {_named(lacking)}; {compared}: ask the bank for"
                " the same response version on REAL"
            )
            continue
        statuses.append(Status.PASS)
        more = f"; REAL also has {_named(extra)} (ignored by the gateway)" if extra else ""
        notes.append(
            f"{name} (orderStatus {answer.body.get('orderStatus')}): every TEST field present, {compared}{more}"
        )
    return Finding("BK-06", title, worst(statuses), "; ".join(notes))


def _closest(answer: Answer, currency: str, references: list[tuple[str, Answer]]) -> tuple[str, Answer]:
    """The TEST reference in the same order state (then the same currency) as ``answer``, else the first."""
    assert answer.body is not None
    state = str(answer.body.get("orderStatus"))

    def rank(item: tuple[str, Answer]) -> tuple[bool, bool]:
        body = item[1].body or {}
        return (str(body.get("orderStatus")) != state, item[0] != currency)

    return min(references, key=rank)


def _limits() -> tuple[str, ...]:
    return (
        "accepted credentials are not shown to be that currency's account: only register.do binds an account to a"
        " currency, and the probe never registers on REAL (the REAL canary of RC-37 shows it)",
        "whether register, deposit, reverse, refund and decline are permitted for the REAL merchant: these methods"
        " are permission-gated per merchant and cannot be called without creating orders or moving money",
        "the status answer of states the REAL order named is not in (paid, declined, refunded...); the response"
        " version decides which fields appear, so name orders in the states the shop uses",
        "the REAL bank's callbacks and the payment page (3-D Secure): the callback probe (RC-34) and the canary",
    )
