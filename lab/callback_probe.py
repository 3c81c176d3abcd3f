"""RC-34: the gateway's callback endpoint as the bank will call it, probed from outside (``vposlab probe callback``).

The probe sends what the bank sends (protocols.md 2.8: ``mdOrder, orderNumber, operation, status, amount,
callbackCreationDate`` and ``checksum``, by GET query or POST form) for an order that cannot exist (``mdOrder`` a
random UUID, ``orderNumber`` ``probe-<hex>``), so no payment can change:

1. unsigned, and signed with a wrong key: a forged callback must be refused (4xx), never 2xx or 5xx;
2. with the callback key (when given), each operation the bank sends with the status it sends it with
   (``BANK_CALLBACKS``): each must be answered 200, the gateway's "unknown order: stop retrying".

Findings (ids are stable)::

    CB-01 HTTPS                   the URL is https (plain HTTP on a loopback address: NOT APPLICABLE, the lab)
    CB-02 Certificate chain       verified against the trust store for the host, as served (no intermediate is
                                  fetched), not expiring within ``min_days`` (WARN within ``warn_days``)
    CB-03 No redirect             no answer is a 3xx: the bank does not follow redirects
    CB-04 Answers in time         every answer within the bank's timeout (WARN over half of it)
    CB-05 Forged callback refused unsigned and wrongly signed callbacks get 400/401/403/422, never 2xx, 3xx, 5xx,
                                  nor 404/405 (not the callback endpoint, or the method is not taken)
    CB-06 Bank operations handled every (operation, status) of ``BANK_CALLBACKS``, signed, answered 200

A gateway like ours records a signed status-1 callback about an order it never registered as an operator
exception ("payment for unknown order", naming ``probe-<hex>``): the CB-06 detail says so, so the operator can
resolve them. The key is only used to sign; it never appears in a finding.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import ssl
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx

from lab.endpoint_probes import (
    Finding,
    ProbeReport,
    Status,
    checked_url,
    is_loopback,
    public_url,
    short_text,
    transport_problem,
    trust_context,
    trust_name,
    worst,
)

BANK_CALLBACKS: tuple[tuple[str, str], ...] = (
    ("approved", "1"),
    ("deposited", "1"),
    ("deposited", "0"),
    ("declinedByTimeout", "0"),
    ("reversed", "1"),
    ("refunded", "1"),
)
"""(operation, status) as the bank sends them (protocols.md 2.8): ``approved`` 1 = held, ``deposited`` 1 paid or
0 declined, ``declinedByTimeout`` 0 for an expired session, ``reversed`` 1, ``refunded`` 1."""
DEFAULT_TIMEOUT_S = 5.0
"""The bank's wait for a callback answer: UNVERIFIED for ArCa (the simulator waits 5 s; BPC retries a non-200
every 30 s, 3 times)."""
DEFAULT_MIN_DAYS = 14
DEFAULT_WARN_DAYS = 30
METHODS = ("GET", "POST")
REFUSALS = frozenset({400, 401, 403, 422})
"""How a callback endpoint refuses a forged callback (ours: 400 "bad checksum")."""
NOT_THE_ENDPOINT = frozenset({404, 405, 410})
ORDER_NUMBER_PREFIX = "probe-"
BODY_LIMIT = 4096
_YEREVAN = timezone(timedelta(hours=4), "AMT")


def sign(params: Mapping[str, str], key: str) -> str:
    """The bank's symmetric checksum (protocols.md 2.8), written here from the protocol, not taken from the gateway,
    so the probe does not share a mistake with the code it checks: drop ``checksum`` and ``sign_alias``, sort by
    name, ``name;value;`` each, HMAC-SHA256 with the key, upper-case hex."""
    text = "".join(f"{name};{params[name]};" for name in sorted(params) if name not in ("checksum", "sign_alias"))
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest().upper()


@dataclass(frozen=True)
class TlsFacts:
    """What the TLS connection showed: the protocol version and the leaf certificate (as ``getpeercert()``)."""

    version: str | None
    not_after: datetime | None
    subject: str | None
    issuer: str | None


@dataclass(frozen=True)
class Exchange:
    """One callback the probe sent and what came back (``status`` None: no HTTP answer, see ``problem``)."""

    label: str
    method: str
    status: int | None
    seconds: float
    location: str | None = None
    body: str = ""
    problem_kind: str | None = None
    problem: str | None = None
    tls: TlsFacts | None = None

    @property
    def answered(self) -> bool:
        return self.status is not None

    def outcome(self) -> str:
        if self.status is None:
            return f"{self.label} -> {self.problem}"
        body = f' "{self.body}"' if self.body else ""
        return f"{self.label} -> {self.status}{body}"


def probe_callback(
    url: str,
    *,
    callback_key: str | None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    ca_bundle: str | None = None,
    methods: Sequence[str] = METHODS,
    operations: Sequence[tuple[str, str]] = BANK_CALLBACKS,
    min_days: int = DEFAULT_MIN_DAYS,
    warn_days: int = DEFAULT_WARN_DAYS,
    client: httpx.Client | None = None,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ProbeReport:
    """Probe the callback endpoint at ``url``; never follows a redirect, never sends the key, never touches a real
    order. ``client`` (tests) replaces the probe's own (which trusts ``ca_bundle`` or the system, keeps no
    connection alive, so each callback pays its connection set-up as the bank's does, and ignores proxy settings
    of the environment)."""
    checked_url(url, "the callback URL")
    if not methods or any(method not in METHODS for method in methods):
        raise ValueError(f"methods must be among {METHODS}")
    parts = urlsplit(url)
    https, loopback = parts.scheme == "https", is_loopback(parts.hostname)
    own = client is None
    http = client or httpx.Client(
        verify=trust_context(ca_bundle),
        follow_redirects=False,
        trust_env=False,
        timeout=timeout_s,
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    order_number = ORDER_NUMBER_PREFIX + secrets.token_hex(6)
    base = {
        "mdOrder": str(uuid.uuid4()),
        "orderNumber": order_number,
        "amount": "100",
        "callbackCreationDate": now().astimezone(_YEREVAN).strftime("%a %b %d %H:%M:%S AMT %Y"),
    }
    plan: list[tuple[str, str, str, dict[str, str]]] = []  # (kind, method, label, params)
    for method in methods:
        unsigned = {**base, "operation": "deposited", "status": "1"}
        plan.append(("forged", method, f"{method} unsigned", unsigned))
        wrong = dict(unsigned, checksum=sign(unsigned, secrets.token_hex(32)))
        plan.append(("forged", method, f"{method} signed with a wrong key", wrong))
    if callback_key:
        for method in methods:
            for operation, status in operations:
                params = {**base, "operation": operation, "status": status}
                params["checksum"] = sign(params, callback_key)
                plan.append(("signed", method, f"{method} {operation}/{status}", params))
    sent: list[tuple[str, Exchange]] = []
    try:
        for kind, method, label, params in plan:
            exchange = _send(http, url, method, label, params, timeout_s, clock)
            sent.append((kind, exchange))
            if not exchange.answered:
                break  # no answer: more of the same would only wait as long again
    finally:
        if own:
            http.close()
    exchanges = [exchange for _, exchange in sent]
    first = exchanges[0]
    findings = (
        _https(url, https, loopback),
        _certificate(first, https, loopback, ca_bundle, now(), min_days, warn_days),
        _no_redirect(exchanges),
        _in_time(exchanges, timeout_s),
        _forged_refused([e for k, e in sent if k == "forged"], planned=2 * len(methods)),
        _operations_handled(
            [e for k, e in sent if k == "signed"],
            planned=len(methods) * len(operations),
            key_given=bool(callback_key),
            order_number=order_number,
            operations=operations,
            methods=methods,
        ),
    )
    return ProbeReport("callback endpoint", public_url(url), findings, _limits(timeout_s, ca_bundle))


def _send(
    http: httpx.Client,
    url: str,
    method: str,
    label: str,
    params: dict[str, str],
    timeout_s: float,
    clock: Callable[[], float],
) -> Exchange:
    request: dict[str, Any] = {"params": params} if method == "GET" else {"data": params}
    started = clock()
    try:
        with http.stream(method, url, timeout=timeout_s, follow_redirects=False, **request) as response:
            tls = _tls_facts(response)
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= BODY_LIMIT:
                    break
            seconds = clock() - started
            location = response.headers.get("location")
            text = short_text(body.decode("utf-8", "replace"))
            return Exchange(label, method, response.status_code, seconds, location, text, tls=tls)
    except httpx.HTTPError as exc:
        kind, problem = transport_problem(exc, timeout_s)
        return Exchange(label, method, None, clock() - started, problem_kind=kind, problem=problem)


def _tls_facts(response: httpx.Response) -> TlsFacts | None:
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return None
    cert = ssl_object.getpeercert()
    version = ssl_object.version()
    if not cert:
        return TlsFacts(version, None, None, None)
    not_after = cert.get("notAfter")
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC) if not_after else None
    return TlsFacts(version, expires, _name(cert.get("subject")), _name(cert.get("issuer")))


def _name(rdns: Any) -> str | None:
    """The common name (else the organisation) of a ``getpeercert()`` subject or issuer."""
    fields = {key: value for rdn in rdns or () for key, value in rdn}
    return fields.get("commonName") or fields.get("organizationName")


# --- findings --------------------------------------------------------------------------------------------------

LAB_REASON = "plain HTTP on a loopback address (the local lab): the bank can only call a public HTTPS URL"


def _https(url: str, https: bool, loopback: bool) -> Finding:
    title = "HTTPS"
    if https:
        return Finding("CB-01", title, Status.PASS, f"{public_url(url)} is https")
    if loopback:
        return Finding("CB-01", title, Status.NOT_APPLICABLE, LAB_REASON + "; check it on the real endpoint")
    return Finding("CB-01", title, Status.FAIL, "plain HTTP: the bank's callbacks must go to an https:// URL")


def _certificate(
    first: Exchange,
    https: bool,
    loopback: bool,
    ca_bundle: str | None,
    now: datetime,
    min_days: int,
    warn_days: int,
) -> Finding:
    title = "Certificate chain"
    trust = trust_name(ca_bundle)
    if not https:
        if loopback:
            return Finding("CB-02", title, Status.NOT_APPLICABLE, LAB_REASON + ": no certificate to check")
        return Finding("CB-02", title, Status.FAIL, "no certificate: plain HTTP")
    if first.problem_kind == "tls":
        return Finding("CB-02", title, Status.FAIL, f"refused against {trust}: {first.problem}")
    if not first.answered:
        return Finding("CB-02", title, Status.NOT_CHECKED, f"no TLS session to read: {first.problem}")
    tls = first.tls
    if tls is None or tls.not_after is None:
        return Finding("CB-02", title, Status.NOT_CHECKED, "the connection did not show its certificate")
    days = (tls.not_after - now) / timedelta(days=1)
    about = (
        f"verified for the host against {trust}, as served; {tls.subject or 'leaf'} issued by "
        f"{tls.issuer or 'unknown'}, valid until {tls.not_after:%Y-%m-%d} ({days:.0f} days); {tls.version}"
    )
    if ca_bundle:
        about += " (a given CA bundle, not the public trust store a bank uses)"
    if days < min_days:
        return Finding("CB-02", title, Status.FAIL, f"expires within {min_days} days: {about}")
    if days < warn_days:
        return Finding("CB-02", title, Status.WARN, f"expires within {warn_days} days: {about}")
    if tls.version in ("TLSv1", "TLSv1.1", "SSLv3"):
        return Finding("CB-02", title, Status.WARN, f"old protocol: {about}")
    return Finding("CB-02", title, Status.PASS, about)


def _no_redirect(exchanges: Sequence[Exchange]) -> Finding:
    title = "No redirect"
    answered = [e for e in exchanges if e.answered]
    if not answered:
        return Finding("CB-03", title, Status.NOT_CHECKED, f"no answer: {exchanges[0].problem}")
    redirects = [e for e in answered if e.status is not None and 300 <= e.status < 400]
    if redirects:
        shown = redirects[0]
        where = public_url(shown.location) if shown.location else "no Location"
        return Finding(
            "CB-03",
            title,
            Status.FAIL,
            f"{len(redirects)} of {len(answered)} answers redirect ({shown.label} -> {shown.status} to {where}):"
            " the bank does not follow redirects; give it the final URL",
        )
    return Finding("CB-03", title, Status.PASS, f"none of {len(answered)} answers is a redirect")


def _in_time(exchanges: Sequence[Exchange], timeout_s: float) -> Finding:
    title = "Answers in time"
    lost = [e for e in exchanges if not e.answered]
    if lost:
        return Finding("CB-04", title, Status.FAIL, f"{lost[0].label}: {lost[0].problem}")
    slowest = max(exchanges, key=lambda e: e.seconds)
    about = (
        f"slowest of {len(exchanges)} answers {slowest.seconds:.2f} s ({slowest.label}); the bank waits"
        f" {timeout_s:g} s (UNVERIFIED for ArCa)"
    )
    if slowest.seconds > timeout_s:
        return Finding("CB-04", title, Status.FAIL, f"answered after the bank gave up: {about}")
    if slowest.seconds > timeout_s / 2:
        return Finding("CB-04", title, Status.WARN, f"over half the bank's wait: {about}")
    return Finding("CB-04", title, Status.PASS, about)


def _forged_status(exchange: Exchange) -> Status:
    status = exchange.status
    if status is None:
        return Status.NOT_CHECKED
    if status in REFUSALS:
        return Status.PASS
    if 400 <= status < 500 and status not in NOT_THE_ENDPOINT:
        return Status.WARN
    return Status.FAIL


def _forged_refused(exchanges: Sequence[Exchange], planned: int) -> Finding:
    title = "Forged callback refused"
    if not exchanges or not any(e.answered for e in exchanges):
        return Finding("CB-05", title, Status.NOT_CHECKED, "no answer to a forged callback")
    statuses = [_forged_status(e) for e in exchanges]
    if len(exchanges) < planned:
        statuses.append(Status.NOT_CHECKED)
    verdict = worst(statuses)
    outcomes = "; ".join(e.outcome() for e in exchanges)
    advice = {
        Status.PASS: "refused, no server error",
        Status.WARN: "refused, but not with 400/401/403/422",
        Status.NOT_CHECKED: "not every forged callback got an answer",
        Status.FAIL: "2xx accepts a forged callback (is the callback key set?), 3xx/5xx are never right, "
        "404/405 mean this is not the callback endpoint or it does not take the method",
    }[verdict]
    return Finding("CB-05", title, verdict, f"{advice}: {outcomes}")


def _operations_handled(
    exchanges: Sequence[Exchange],
    *,
    planned: int,
    key_given: bool,
    order_number: str,
    operations: Sequence[tuple[str, str]],
    methods: Sequence[str],
) -> Finding:
    title = "Bank operations handled"
    names = ", ".join(f"{operation}/{status}" for operation, status in operations)
    if not key_given:
        return Finding(
            "CB-06",
            title,
            Status.NOT_CHECKED,
            f"could not be checked: no callback key given, so no callback could be signed ({names}); give the"
            " gateway's key (--key-env) to check that each is answered 200",
        )
    if len(exchanges) < planned:
        stopped = exchanges[-1].outcome() if exchanges else "the endpoint did not answer earlier callbacks"
        return Finding("CB-06", title, Status.NOT_CHECKED, f"not every signed callback was sent: {stopped}")
    wrong = [e for e in exchanges if e.status != 200]
    if wrong:
        refused_as_forged = [e for e in wrong if e.status in REFUSALS]
        hint = " (refused as forged: the key or the checksum differs from the bank's)" if refused_as_forged else ""
        shown = "; ".join(e.outcome() for e in wrong[:6])
        return Finding("CB-06", title, Status.FAIL, f"{len(wrong)} of {len(exchanges)} not answered 200{hint}: {shown}")
    return Finding(
        "CB-06",
        title,
        Status.PASS,
        f"{names} signed with the key for an unknown order ({order_number}) each answered 200 over"
        f" {' and '.join(methods)}; the gateway may list the status-1 ones as operator exceptions"
        f' "payment for unknown order" naming {order_number}: resolve them',
    )


def _limits(timeout_s: float, ca_bundle: str | None) -> tuple[str, ...]:
    return (
        "the probe calls from this machine: whether the bank's network reaches the URL (its DNS, firewalls,"
        " allow-lists) shows only with the bank's first real callback (RC-37)",
        "whether the bank is set up to call this URL, with this key, and by GET or POST, only the bank can say",
        f"the bank's wait ({timeout_s:g} s here) and its retries are UNVERIFIED for ArCa",
        f"the certificate was checked against {trust_name(ca_bundle)}; the bank's own trust store may differ",
        "signed callbacks go to an order that cannot exist: how the gateway handles each operation for a real"
        " order is shown by the lab's scenarios (RC-07..RC-12, RC-19..RC-21, RC-29) and the REAL canary (RC-37)",
    )
