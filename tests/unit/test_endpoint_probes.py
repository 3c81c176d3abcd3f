"""The endpoint probes (RC-34 callback endpoint, RC-35 REAL bank parity) against in-memory endpoints
(httpx.MockTransport): every finding, every error path, the read-only guard, and that no secret is ever shown."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from click.testing import CliRunner

from gateway.provider.checksum import checksum_string, verify_checksum
from lab.bank_parity_probe import (
    STATUS_METHOD,
    BankSide,
    Credentials,
    MoneyMovingCallRefused,
    ReadOnlyGuard,
    assert_may_register,
    credentials_from_json,
    field_paths,
    guarded_client,
    probe_bank,
)
from lab.callback_probe import BANK_CALLBACKS, Exchange, probe_callback, sign
from lab.endpoint_probes import (
    Finding,
    ProbeReport,
    ProbeUsageError,
    Status,
    Verdict,
    is_loopback,
    public_url,
    redactor,
    tls_problem,
    worst,
)
from lab.probe_cli import probe

KEY = "callback-key-0123456789abcdef-SECRET"
URL = "https://pay.shop.example/vpos/callback"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
Handler = Callable[[httpx.Request], httpx.Response]


def params_of(request: httpx.Request) -> dict[str, str]:
    if request.method == "GET":
        return dict(request.url.params)
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


# --- shared vocabulary -----------------------------------------------------------------------------------------


def test_the_verdict_is_ready_only_when_every_finding_passed_or_warned() -> None:
    def report(*statuses: Status) -> ProbeReport:
        return ProbeReport("p", "t", tuple(Finding(f"X-{i}", "x", s, "d") for i, s in enumerate(statuses)))

    assert report(Status.PASS, Status.WARN).verdict is Verdict.READY
    assert report(Status.PASS, Status.NOT_APPLICABLE).verdict is Verdict.INCOMPLETE
    assert report(Status.PASS, Status.NOT_CHECKED).verdict is Verdict.INCOMPLETE
    assert report(Status.NOT_CHECKED, Status.FAIL).verdict is Verdict.NOT_READY
    assert report().verdict is Verdict.INCOMPLETE  # nothing shown is never ready
    assert worst([Status.PASS, Status.NOT_CHECKED, Status.WARN]) is Status.NOT_CHECKED
    lines = list(report(Status.FAIL, Status.PASS).lines())
    assert lines[-1] == "verdict: NOT READY (failed: X-0)"


def test_urls_are_printed_without_query_or_user_info() -> None:
    assert public_url("https://user:pw@gw.example:8443/vpos/callback?token=s3cret") == (
        "https://gw.example:8443/vpos/callback?..."
    )
    assert [is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "127.5.5.5", "gw.example", "10.0.0.1")] == [
        True,
        True,
        True,
        True,
        False,
        False,
    ]


def test_the_redactor_hides_secrets_as_is_and_encoded() -> None:
    redact = redactor(["p@ss word", ""])
    assert redact("a p@ss word b p%40ss+word c p%40ss%20word") == "a *** b *** c ***"
    assert redactor([])("unchanged") == "unchanged"


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (10, "has expired"),
        (62, "not valid for this host name"),
        (64, "not valid for this IP address"),
        (18, "self-signed and not trusted"),
        (20, "issuer is not trusted"),
        (99, "certificate verification failed: odd"),
    ],
)
def test_tls_verification_errors_are_named(code: int, words: str) -> None:
    error = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    error.verify_code = code
    error.verify_message = "odd"
    try:
        raise httpx.ConnectError("boom") from error
    except httpx.ConnectError as exc:
        problem = tls_problem(exc)
    assert problem is not None and words in problem


def test_a_tls_failure_known_only_by_its_text_is_still_named() -> None:
    text = "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer (_ssl.c:1000)"
    assert tls_problem(httpx.ConnectError(text)) == "certificate verification failed: unable to get local issuer"
    assert tls_problem(httpx.ConnectError("[Errno 111] Connection refused")) is None


# --- the callback probe ----------------------------------------------------------------------------------------


def test_the_probe_signs_as_the_bank_does_and_the_gateway_agrees() -> None:
    params = {
        "amount": "123456",
        "mdOrder": "3ff6962a-7dcc-4283-ab50-a6d7dd3386fe",
        "operation": "deposited",
        "orderNumber": "10747",
        "status": "1",
    }
    # protocols.md 2.8's worked string
    worked = (
        "amount;123456;mdOrder;3ff6962a-7dcc-4283-ab50-a6d7dd3386fe;operation;deposited;orderNumber;10747;status;1;"
    )
    assert checksum_string(params) == worked
    signed = dict(params, checksum=sign(params, KEY))
    assert signed["checksum"].isupper() and len(signed["checksum"]) == 64
    assert verify_checksum(signed, KEY)
    assert sign({**signed, "sign_alias": "x"}, KEY) == signed["checksum"]  # checksum and sign_alias are left out


class FakeSsl:
    def __init__(self, not_after: datetime | None, version: str = "TLSv1.3") -> None:
        self._not_after, self._version = not_after, version

    def getpeercert(self) -> dict[str, Any]:
        if self._not_after is None:
            return {}
        return {
            "notAfter": self._not_after.strftime("%b %d %H:%M:%S %Y GMT"),
            "subject": ((("commonName", "pay.shop.example"),),),
            "issuer": ((("organizationName", "Let's Encrypt"),), (("commonName", "R11"),)),
        }

    def version(self) -> str:
        return self._version


class FakeStream:
    def __init__(self, ssl_object: FakeSsl | None) -> None:
        self._ssl = ssl_object

    def get_extra_info(self, name: str) -> Any:
        return self._ssl if name == "ssl_object" else None


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@dataclass
class FakeGateway:
    """Answers like the gateway's callback endpoint: checksum first (400), unknown order 200."""

    key: str | None = KEY
    cert_days: float | None = 90
    tls_version: str = "TLSv1.3"
    clock: FakeClock = field(default_factory=FakeClock)
    seconds: float = 0.05
    special: Callable[[httpx.Request, dict[str, str]], httpx.Response | None] | None = None
    seen: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        self.clock.t += self.seconds
        params = params_of(request)
        answer = self.special(request, params) if self.special else None
        if answer is None:
            if self.key is not None and not verify_checksum(params, self.key):
                answer = httpx.Response(400, text="bad checksum")
            else:
                answer = httpx.Response(200, text="unknown order")
        if request.url.scheme == "https":
            not_after = NOW + timedelta(days=self.cert_days) if self.cert_days is not None else None
            answer.extensions["network_stream"] = FakeStream(FakeSsl(not_after, self.tls_version))
        return answer

    def probe(self, url: str = URL, **options: Any) -> ProbeReport:
        options.setdefault("callback_key", KEY)
        client = httpx.Client(transport=httpx.MockTransport(self), follow_redirects=False)
        return probe_callback(url, client=client, clock=self.clock, now=lambda: NOW, **options)


def statuses(report: ProbeReport) -> dict[str, Status]:
    return {f.id: f.status for f in report.findings}


def test_a_healthy_https_callback_endpoint_is_ready() -> None:
    gateway = FakeGateway()
    report = gateway.probe()
    assert statuses(report) == dict.fromkeys(("CB-01", "CB-02", "CB-03", "CB-04", "CB-05", "CB-06"), Status.PASS)
    assert report.verdict is Verdict.READY
    assert "R11" in report.finding("CB-02").detail and "90 days" in report.finding("CB-02").detail
    # 2 forged and 6 signed callbacks, over GET and over POST
    assert len(gateway.seen) == 2 * (2 + len(BANK_CALLBACKS))
    sent = [(r.method, params_of(r).get("operation"), params_of(r).get("status")) for r in gateway.seen]
    for method in ("GET", "POST"):
        for operation, status in BANK_CALLBACKS:
            assert (method, operation, status) in sent
    get_request = next(r for r in gateway.seen if r.method == "GET")
    post_request = next(r for r in gateway.seen if r.method == "POST")
    assert "mdOrder" in get_request.url.params and get_request.content == b""
    assert "mdOrder" not in post_request.url.params and b"mdOrder=" in post_request.content
    # an order that cannot exist, the same one throughout; the key never leaves the probe
    order_numbers = {params_of(r)["orderNumber"] for r in gateway.seen}
    assert len(order_numbers) == 1 and order_numbers.pop().startswith("probe-")
    for request in gateway.seen:
        assert KEY not in str(request.url) and KEY.encode() not in request.content
    assert all(KEY not in line for line in report.lines())


def test_one_method_only_when_asked() -> None:
    gateway = FakeGateway()
    gateway.probe(methods=("POST",))
    assert {r.method for r in gateway.seen} == {"POST"}
    with pytest.raises(ValueError, match="methods"):
        gateway.probe(methods=("PUT",))


def test_plain_http_on_loopback_is_not_applicable_and_on_a_public_host_fails() -> None:
    lab = FakeGateway().probe("http://127.0.0.1:8080/vpos/callback")
    assert statuses(lab)["CB-01"] is Status.NOT_APPLICABLE and statuses(lab)["CB-02"] is Status.NOT_APPLICABLE
    assert "local lab" in lab.finding("CB-01").detail
    assert lab.verdict is Verdict.INCOMPLETE
    public = FakeGateway().probe("http://pay.shop.example/vpos/callback")
    assert statuses(public)["CB-01"] is Status.FAIL and statuses(public)["CB-02"] is Status.FAIL
    assert public.verdict is Verdict.NOT_READY


@pytest.mark.parametrize(
    ("days", "expected", "words"),
    [(5, Status.FAIL, "expires within 14 days"), (20, Status.WARN, "expires within 30 days"), (200, Status.PASS, "")],
)
def test_the_certificate_end_is_checked(days: int, expected: Status, words: str) -> None:
    report = FakeGateway(cert_days=days).probe()
    assert report.finding("CB-02").status is expected
    assert words in report.finding("CB-02").detail


def test_an_old_tls_version_warns_and_an_unreadable_certificate_is_not_checked() -> None:
    assert FakeGateway(tls_version="TLSv1.1").probe().finding("CB-02").status is Status.WARN
    assert FakeGateway(cert_days=None).probe().finding("CB-02").status is Status.NOT_CHECKED


def test_a_refused_certificate_fails_and_stops_the_probe() -> None:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_code = 10

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("handshake failed", request=request) from error

    report = probe_callback(URL, callback_key=KEY, client=httpx.Client(transport=httpx.MockTransport(refuse)))
    assert report.finding("CB-02").status is Status.FAIL
    assert "the certificate has expired" in report.finding("CB-02").detail
    assert "system's trust store" in report.finding("CB-02").detail
    assert statuses(report)["CB-03"] is Status.NOT_CHECKED
    assert statuses(report)["CB-04"] is Status.FAIL
    assert statuses(report)["CB-05"] is Status.NOT_CHECKED
    assert statuses(report)["CB-06"] is Status.NOT_CHECKED
    assert report.verdict is Verdict.NOT_READY


def test_a_redirect_fails_and_the_location_is_shown_without_its_query() -> None:
    def redirect(request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "https://www.shop.example/vpos/callback?token=abc"})

    report = FakeGateway(special=redirect).probe()
    finding = report.finding("CB-03")
    assert finding.status is Status.FAIL
    assert "https://www.shop.example/vpos/callback?..." in finding.detail and "abc" not in finding.detail
    assert "does not follow redirects" in finding.detail
    assert report.verdict is Verdict.NOT_READY
    # even a client that would follow redirects is not allowed to
    following = httpx.Client(transport=httpx.MockTransport(FakeGateway(special=redirect)), follow_redirects=True)
    again = probe_callback(URL, callback_key=KEY, client=following)
    assert again.finding("CB-03").status is Status.FAIL


def test_a_slow_answer_warns_and_one_past_the_bank_wait_fails() -> None:
    assert FakeGateway(seconds=3.0).probe(timeout_s=5).finding("CB-04").status is Status.WARN
    late = FakeGateway(seconds=6.0).probe(timeout_s=5).finding("CB-04")
    assert late.status is Status.FAIL and "after the bank gave up" in late.detail


def test_a_timeout_fails_and_nothing_more_is_sent() -> None:
    seen: list[httpx.Request] = []

    def hang(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    report = probe_callback(
        URL, callback_key=KEY, timeout_s=2, client=httpx.Client(transport=httpx.MockTransport(hang))
    )
    assert len(seen) == 1
    assert report.finding("CB-04").status is Status.FAIL
    assert "no answer within 2 s" in report.finding("CB-04").detail
    assert report.finding("CB-02").status is Status.NOT_CHECKED
    assert report.finding("CB-06").status is Status.NOT_CHECKED


def test_connection_refused_is_unreachable() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    report = probe_callback(URL, callback_key=KEY, client=httpx.Client(transport=httpx.MockTransport(refused)))
    assert report.finding("CB-04").detail.endswith("unreachable: connection refused")
    assert report.finding("CB-02").status is Status.NOT_CHECKED


def test_a_later_timeout_leaves_the_operations_not_checked() -> None:
    def hang_on_refunds(request: httpx.Request, params: dict[str, str]) -> httpx.Response | None:
        if params.get("operation") == "refunded":
            raise httpx.ReadTimeout("timed out", request=request)
        return None

    report = FakeGateway(special=hang_on_refunds).probe()
    assert report.finding("CB-05").status is Status.PASS
    assert report.finding("CB-04").status is Status.FAIL and "refunded" in report.finding("CB-04").detail
    assert report.finding("CB-06").status is Status.NOT_CHECKED


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, Status.FAIL), (404, Status.FAIL), (405, Status.FAIL), (500, Status.FAIL), (429, Status.WARN)],
)
def test_forged_callbacks_must_be_refused_with_a_4xx(status: int, expected: Status) -> None:
    def forged(request: httpx.Request, params: dict[str, str]) -> httpx.Response | None:
        return None if verify_checksum(params, KEY) else httpx.Response(status, text="x")

    finding = FakeGateway(special=forged).probe().finding("CB-05")
    assert finding.status is expected
    assert f"GET unsigned -> {status}" in finding.detail


def test_an_endpoint_without_a_key_accepts_forgeries_and_fails() -> None:
    report = FakeGateway(key=None).probe(callback_key=None)
    assert report.finding("CB-05").status is Status.FAIL
    assert "is the callback key set" in report.finding("CB-05").detail


def test_without_the_key_the_operations_could_not_be_checked() -> None:
    gateway = FakeGateway()
    report = gateway.probe(callback_key=None)
    finding = report.finding("CB-06")
    assert finding.status is Status.NOT_CHECKED and finding.detail.startswith("could not be checked")
    assert report.verdict is Verdict.INCOMPLETE
    assert len(gateway.seen) == 4  # the forged ones only


def test_a_key_that_differs_from_the_gateway_s_is_named() -> None:
    report = FakeGateway(key="the-gateway-has-another-key").probe()
    finding = report.finding("CB-06")
    assert finding.status is Status.FAIL
    assert "refused as forged: the key or the checksum differs" in finding.detail
    assert "12 of 12 not answered 200" in finding.detail


@pytest.mark.parametrize("answer", [404, 500, 503, 202])
def test_an_operation_not_answered_200_fails_and_is_named(answer: int) -> None:
    def refunds(request: httpx.Request, params: dict[str, str]) -> httpx.Response | None:
        return httpx.Response(answer, text="no") if params.get("operation") == "refunded" else None

    finding = FakeGateway(special=refunds).probe().finding("CB-06")
    assert finding.status is Status.FAIL
    assert f"GET refunded/1 -> {answer}" in finding.detail and f"POST refunded/1 -> {answer}" in finding.detail


def test_a_bad_url_is_a_usage_error() -> None:
    for url in ("ftp://x/y", "/vpos/callback", "https://"):
        with pytest.raises(ProbeUsageError):
            probe_callback(url, callback_key=None)


def test_an_exchange_outcome_reads_well() -> None:
    assert Exchange("GET unsigned", "GET", 400, 0.1, body="bad checksum").outcome() == (
        'GET unsigned -> 400 "bad checksum"'
    )
    assert Exchange("GET x", "GET", None, 0.1, problem="unreachable").outcome() == "GET x -> unreachable"


# --- the bank parity probe -------------------------------------------------------------------------------------

REAL_URL = "https://real.bank.example/payment/rest/"
TEST_URL = "https://test.bank.example:8445/payment/rest/"
REAL = {
    "AMD": Credentials("real_amd", "real-amd-SECRET"),
    "USD": Credentials("real_usd", "real-usd-SECRET"),
}
TESTC = {
    "AMD": Credentials("test_amd", "test-amd-SECRET"),
    "USD": Credentials("test_usd", "test-usd-SECRET"),
}
PAID: dict[str, Any] = {
    "errorCode": "0",
    "errorMessage": "Success",
    "orderNumber": "V1",
    "orderStatus": 2,
    "actionCode": 0,
    "actionCodeDescription": "",
    "amount": 1500000,
    "currency": "051",
    "date": 1,
    "ip": "1.2.3.4",
    "attributes": [{"name": "mdOrder", "value": "md"}],
    "cardAuthInfo": {"maskedPan": "424242**4242", "expiration": "203012"},
    "authDateTime": 1,
    "paymentAmountInfo": {"paymentState": "DEPOSITED", "approvedAmount": 1500000, "depositedAmount": 1500000},
    "refunds": [],
}


def without(body: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in names}


@dataclass
class FakeBank:
    """A bank per base URL: credentials, orders by orderId; errorCode 5 for bad credentials, 6 unknown order."""

    credentials: dict[str, dict[str, Credentials]]
    orders: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    unknown_answer: Callable[[str], httpx.Response] | None = None
    control_code: str = "5"
    seen: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        base = str(request.url).rsplit("/", 1)[0] + "/"
        method = request.url.path.rsplit("/", 1)[-1]
        form = params_of(request)
        users = {(c.user_name, c.password) for c in self.credentials.get(base, {}).values()}
        if form.get("userName", "").startswith("vposlab-probe-"):
            return httpx.Response(200, json={"errorCode": self.control_code, "errorMessage": "Access denied"})
        if (form.get("userName"), form.get("password")) not in users:
            return httpx.Response(200, json={"errorCode": "5", "errorMessage": "Access denied"})
        if method == "register.do":
            self.orders.setdefault(base, {})["registered-1"] = without(PAID, "cardAuthInfo", "authDateTime") | {
                "orderStatus": 0
            }
            return httpx.Response(200, json={"errorCode": 0, "orderId": "registered-1", "formUrl": "https://x"})
        assert method == STATUS_METHOD
        if "orderId" in form and form["orderId"] in self.orders.get(base, {}):
            return httpx.Response(200, json=self.orders[base][form["orderId"]])
        if self.unknown_answer is not None and base == REAL_URL:
            return self.unknown_answer(form["userName"])
        return httpx.Response(200, json={"errorCode": "6", "errorMessage": "Order not found"})

    def probe(self, real: BankSide, test: BankSide | None = None, **options: Any) -> ProbeReport:
        return probe_bank(real, test, transport=httpx.MockTransport(self), **options)


def bank(**options: Any) -> FakeBank:
    return FakeBank({REAL_URL: dict(REAL), TEST_URL: dict(TESTC)}, **options)


def sides(
    real_orders: Mapping[str, str] | None = None, test_orders: Mapping[str, str] | None = None
) -> tuple[BankSide, BankSide]:
    return BankSide(REAL_URL, REAL, real_orders or {}), BankSide(TEST_URL, TESTC, test_orders or {})


def test_a_real_bank_that_answers_as_test_is_ready_and_only_read() -> None:
    fake = bank(orders={REAL_URL: {"real-md": PAID}, TEST_URL: {"test-md": PAID}})
    report = fake.probe(*sides({"AMD": "real-md"}, {"AMD": "test-md"}))
    assert statuses(report) == dict.fromkeys(
        ("BK-01", "BK-02", "BK-03/AMD", "BK-03/USD", "BK-04", "BK-05", "BK-06"), Status.PASS
    )
    assert report.verdict is Verdict.READY
    real_calls = [r for r in fake.seen if r.url.host == "real.bank.example"]
    assert real_calls and {r.url.path.rsplit("/", 1)[-1] for r in real_calls} == {STATUS_METHOD}
    unknown = [params_of(r)["orderNumber"] for r in fake.seen if "orderNumber" in params_of(r)]
    assert unknown and all(n.startswith("probe-") for n in unknown) and len(set(unknown)) == len(unknown)
    text = "\n".join(report.lines())
    for creds in (*REAL.values(), *TESTC.values()):
        assert creds.password not in text
    assert "every TEST field present" in report.finding("BK-06").detail


def test_a_wrong_password_for_one_currency_names_that_currency() -> None:
    real = BankSide(REAL_URL, {**REAL, "USD": Credentials("real_usd", "typo")})
    report = bank().probe(real, sides()[1])
    usd = report.finding("BK-03/USD")
    assert usd.status is Status.FAIL and "Access denied" in usd.detail and "USD" in usd.detail
    assert report.finding("BK-03/AMD").status is Status.PASS
    assert report.finding("BK-05").status is Status.FAIL and "USD: REAL errorCode 5" in report.finding("BK-05").detail
    assert report.verdict is Verdict.NOT_READY
    assert "typo" not in "\n".join(report.lines())


def test_a_bank_that_says_not_found_to_anyone_proves_nothing() -> None:
    report = bank(control_code="6").probe(*sides())
    assert report.finding("BK-02").status is Status.FAIL
    assert report.finding("BK-03/AMD").status is Status.NOT_CHECKED
    assert "unknown credentials too" in report.finding("BK-03/AMD").detail


def test_a_control_answer_that_is_neither_5_nor_6_fails() -> None:
    report = bank(control_code="7").probe(*sides())
    assert report.finding("BK-02").status is Status.FAIL and "errorCode 7" in report.finding("BK-02").detail


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            lambda user: httpx.Response(200, json={"errorCode": 7, "errorMessage": "System error"}),
            "unexpected errorCode 7",
        ),
        (lambda user: httpx.Response(404, text="<html>"), "not deployed at this URL"),
        (lambda user: httpx.Response(502, text="bad gateway"), "HTTP 502"),
        (lambda user: httpx.Response(200, text="<html>maintenance</html>"), "not JSON"),
        (lambda user: httpx.Response(200, json=["6"]), "not an object"),
        (lambda user: httpx.Response(200, json={"orderStatus": 0}), "unexpected errorCode 0"),
    ],
)
def test_odd_bank_answers_fail_with_a_reason(answer: Callable[[str], httpx.Response], words: str) -> None:
    report = bank(unknown_answer=answer).probe(*sides())
    finding = report.finding("BK-03/AMD")
    assert finding.status is Status.FAIL and words in finding.detail


def test_transport_errors_fail_with_a_reason() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    report = probe_bank(BankSide(REAL_URL, REAL), transport=httpx.MockTransport(down))
    assert "unreachable: connection refused" in report.finding("BK-03/AMD").detail
    assert report.finding("BK-01").status is Status.NOT_CHECKED  # no TLS session: nothing said of the certificate
    report = probe_bank(BankSide(REAL_URL, REAL), transport=httpx.MockTransport(slow), timeout_s=3)
    assert "no answer within 3 s" in report.finding("BK-03/USD").detail
    assert report.verdict is Verdict.NOT_READY


def test_an_untrusted_bank_certificate_fails_the_url_finding() -> None:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_code = 20

    def mitm(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("handshake", request=request) from error

    report = probe_bank(BankSide(REAL_URL, REAL), transport=httpx.MockTransport(mitm))
    assert report.finding("BK-01").status is Status.FAIL and "issuer is not trusted" in report.finding("BK-01").detail


@pytest.mark.parametrize(
    ("real_url", "test_url", "expected", "words"),
    [
        ("http://127.0.0.1:9/payment/rest/", None, Status.NOT_APPLICABLE, "simulated bank"),
        ("http://bank.example/payment/rest/", None, Status.FAIL, "plain HTTP"),
        ("https://ipaytest.arca.am:8445/payment/rest/", None, Status.FAIL, "TEST host"),
        (REAL_URL, REAL_URL, Status.FAIL, "the TEST URL given is the REAL one"),
    ],
)
def test_the_real_base_url_is_checked(real_url: str, test_url: str | None, expected: Status, words: str) -> None:
    fake = FakeBank({real_url: dict(REAL)})
    test = BankSide(test_url, TESTC) if test_url else None
    finding = fake.probe(BankSide(real_url, REAL), test).finding("BK-01")
    assert finding.status is expected and words in finding.detail


def test_error_answers_are_compared_with_test() -> None:
    numbers = bank(unknown_answer=lambda user: httpx.Response(200, json={"errorCode": 6, "errorMessage": "No"}))
    finding = numbers.probe(*sides()).finding("BK-05")
    assert finding.status is Status.PASS and "a number on one, a string on the other" in finding.detail
    extra = bank(unknown_answer=lambda user: httpx.Response(200, json={"errorCode": "6"}))
    assert extra.probe(*sides()).finding("BK-05").status is Status.WARN
    test_refused = bank().probe(BankSide(REAL_URL, REAL), BankSide(TEST_URL, {"AMD": Credentials("test_amd", "x")}))
    finding = test_refused.finding("BK-05")
    assert finding.status is Status.NOT_CHECKED and "TEST answered errorCode 5" in finding.detail


def test_without_test_the_comparisons_are_not_checked() -> None:
    report = bank().probe(BankSide(REAL_URL, REAL))
    assert report.finding("BK-04").status is Status.NOT_CHECKED
    assert report.finding("BK-05").status is Status.NOT_CHECKED
    assert report.finding("BK-06").status is Status.NOT_CHECKED
    assert "never makes one" in report.finding("BK-06").detail
    assert report.verdict is Verdict.INCOMPLETE


def test_currencies_must_match_test_and_have_an_account_each() -> None:
    shared = {"AMD": Credentials("one", "p1"), "USD": Credentials("one", "p1")}
    fake = FakeBank({REAL_URL: shared, TEST_URL: dict(TESTC)})
    finding = fake.probe(BankSide(REAL_URL, shared), sides()[1]).finding("BK-04")
    assert finding.status is Status.WARN and "one REAL account serves AMD and USD" in finding.detail
    only_amd = {"AMD": REAL["AMD"]}
    finding = bank().probe(BankSide(REAL_URL, only_amd), sides()[1]).finding("BK-04")
    assert finding.status is Status.FAIL and "no REAL credentials: USD" in finding.detail
    finding = bank().probe(BankSide(REAL_URL, REAL), BankSide(TEST_URL, {"AMD": TESTC["AMD"]})).finding("BK-04")
    assert finding.status is Status.WARN and "never tested on TEST: USD" in finding.detail


def test_a_real_status_without_a_field_test_has_fails_naming_its_version() -> None:
    fake = bank(orders={REAL_URL: {"r": without(PAID, "refunds")}, TEST_URL: {"t": PAID}})
    finding = fake.probe(*sides({"AMD": "r"}, {"AMD": "t"})).finding("BK-06")
    assert finding.status is Status.FAIL and "refunds (response version 5+)" in finding.detail


def test_a_real_status_without_what_the_gateway_needs_fails_even_without_test() -> None:
    fake = bank(orders={REAL_URL: {"r": without(PAID, "currency")}})
    finding = fake.probe(BankSide(REAL_URL, REAL, {"AMD": "r"})).finding("BK-06")
    assert finding.status is Status.FAIL and "without currency" in finding.detail


def test_a_real_order_the_bank_does_not_know_fails() -> None:
    finding = bank().probe(*sides({"USD": "nope"})).finding("BK-06")
    assert finding.status is Status.FAIL and "USD order nope: errorCode 6" in finding.detail


def test_a_real_status_without_a_test_reference_is_not_checked_but_says_what_it_saw() -> None:
    fake = bank(orders={REAL_URL: {"r": PAID}})
    finding = fake.probe(*sides({"AMD": "r"})).finding("BK-06")
    assert finding.status is Status.NOT_CHECKED and "the fields the gateway needs are there" in finding.detail


def test_state_dependent_fields_are_only_compared_between_equal_states_and_extras_are_fine() -> None:
    registered = without(PAID, "cardAuthInfo", "authDateTime") | {"orderStatus": 0}
    fake = bank(orders={REAL_URL: {"r": PAID | {"chargeback": False}}, TEST_URL: {"t": registered}})
    finding = fake.probe(*sides({"AMD": "r"}, {"AMD": "t"})).finding("BK-06")
    assert finding.status is Status.PASS
    assert "states differ" in finding.detail and "REAL also has" in finding.detail and "chargeback" in finding.detail
    same_state = bank(orders={REAL_URL: {"r": without(PAID, "cardAuthInfo")}, TEST_URL: {"t": PAID}})
    finding = same_state.probe(*sides({"AMD": "r"}, {"AMD": "t"})).finding("BK-06")
    assert finding.status is Status.FAIL and "cardAuthInfo" in finding.detail


def test_field_paths_go_one_level_deep_and_skip_the_error_fields() -> None:
    assert field_paths({"errorCode": 0, "a": {"b": 1}, "cardAuthInfo": {"x": 1}}, with_state=False) == {"a", "a.b"}


def test_registering_on_test_gives_the_reference_and_never_touches_real() -> None:
    fake = bank(orders={REAL_URL: {"r": PAID}})
    report = fake.probe(*sides({"AMD": "r"}), register_on_test=True)
    registers = [r for r in fake.seen if r.url.path.endswith("/register.do")]
    assert len(registers) == 1 and registers[0].url.host == "test.bank.example"
    form = params_of(registers[0])
    assert form["currency"] == "051" and form["amount"] == "100" and form["orderNumber"].startswith("probe-")
    assert {r.url.path.rsplit("/", 1)[-1] for r in fake.seen if r.url.host == "real.bank.example"} == {STATUS_METHOD}
    finding = report.finding("BK-06")
    assert finding.status is Status.PASS and "orderStatus 0" in finding.detail


def test_a_failed_test_registration_leaves_the_comparison_not_checked() -> None:
    fake = bank(orders={REAL_URL: {"r": PAID}})
    test = BankSide(TEST_URL, {"AMD": Credentials("test_amd", "wrong")})
    finding = fake.probe(BankSide(REAL_URL, REAL, {"AMD": "r"}), test, register_on_test=True).finding("BK-06")
    assert finding.status is Status.NOT_CHECKED and "TEST registration failed: errorCode 5" in finding.detail


# --- the guard: never a money-moving call to REAL -------------------------------------------------------------


@pytest.mark.parametrize(
    "method", ["register.do", "registerPreAuth.do", "deposit.do", "reverse.do", "refund.do", "decline.do", "x"]
)
@pytest.mark.parametrize("url", [REAL_URL, "https://REAL.bank.example:443/payment/rest/", "https://ipay.arca.am/x/"])
def test_the_guard_refuses_everything_but_the_status_read_on_real(method: str, url: str) -> None:
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json={}))
    with guarded_client(REAL_URL, timeout_s=1, transport=transport) as client:
        with pytest.raises(MoneyMovingCallRefused, match="only reads statuses"):
            client.post(url.rstrip("/") + "/" + method, data={"amount": "100"})
        client.post(url.rstrip("/") + "/" + STATUS_METHOD, data={})
        client.post(TEST_URL + "register.do", data={})  # TEST is not guarded
    assert [r.url.path.rsplit("/", 1)[-1] for r in seen] == [STATUS_METHOD, "register.do"]


def test_the_guard_holds_even_with_a_proxy_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json={}))
    with guarded_client(REAL_URL, timeout_s=1, transport=transport) as client:
        with pytest.raises(MoneyMovingCallRefused):
            client.post(REAL_URL + "refund.do")
        client.post(REAL_URL + STATUS_METHOD)
    assert len(seen) == 1


def test_the_guard_closes_what_it_wraps() -> None:
    closed: list[bool] = []

    class Inner(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200)

        def close(self) -> None:
            closed.append(True)

    ReadOnlyGuard(Inner(), []).close()
    assert closed == [True]


def test_registration_is_refused_where_test_is_real() -> None:
    with pytest.raises(MoneyMovingCallRefused, match="share"):
        assert_may_register("https://Real.Bank.example/payment/rest/", REAL_URL)
    with pytest.raises(MoneyMovingCallRefused, match="serves REAL"):
        assert_may_register("https://ipay.arca.am/payment/rest/", REAL_URL)
    with pytest.raises(MoneyMovingCallRefused, match="serves REAL"):
        assert_may_register("https://pg.inecoecom.am/payment/rest/", REAL_URL)
    assert_may_register(TEST_URL, REAL_URL)


def test_the_probe_refuses_to_register_on_real_before_any_call() -> None:
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json={}))
    for test_url in (REAL_URL, "https://ipay.arca.am/payment/rest/"):
        with pytest.raises(MoneyMovingCallRefused):
            probe_bank(
                BankSide(REAL_URL, REAL, {"AMD": "r"}),
                BankSide(test_url, TESTC),
                register_on_test=True,
                transport=transport,
            )
    assert seen == []


@pytest.mark.parametrize(
    ("real", "test", "register", "words"),
    [
        (BankSide(REAL_URL, {}), None, False, "no REAL credentials"),
        (BankSide("ftp://x/", REAL), None, False, "absolute http"),
        (BankSide(REAL_URL, {"GBP": Credentials("u", "p")}), None, False, "unknown currency"),
        (BankSide(REAL_URL, REAL, {"EUR": "x"}), None, False, "no REAL credentials"),
        (BankSide(REAL_URL, REAL), None, True, "needs the TEST base URL"),
    ],
)
def test_bad_probe_requests_are_usage_errors(real: BankSide, test: BankSide | None, register: bool, words: str) -> None:
    with pytest.raises(ProbeUsageError, match=words):
        probe_bank(real, test, register_on_test=register, transport=httpx.MockTransport(lambda r: httpx.Response(500)))


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"GBP": {"user_name": "u", "password": "hunter2"}}', "unknown currency 'GBP'"),
        ('{"AMD": "hunter2"}', "AMD must be an object"),
        ('{"AMD": {"user_name": "u"}}', "AMD needs a non-empty user_name and password"),
    ],
)
def test_credentials_json_errors_never_show_a_value(raw: str, words: str) -> None:
    with pytest.raises(ProbeUsageError) as caught:
        credentials_from_json(raw, "REAL credentials")
    assert words in str(caught.value) and "hunter2" not in str(caught.value)


def test_credentials_json_in_the_gateway_s_shape() -> None:
    found = credentials_from_json('{"AMD": {"user_name": "u", "password": "p"}}', "x")
    assert found == {"AMD": Credentials("u", "p")} and "p" not in repr(found["AMD"]).split("user_name")[0]
    assert "password" not in repr(found["AMD"])


# --- the command line (usage only: no network) -----------------------------------------------------------------


def test_the_bank_command_needs_credentials_from_the_environment() -> None:
    result = CliRunner().invoke(probe, ["bank", "--real-credentials-env", "NOPE_NOT_SET"], env={"NOPE_NOT_SET": ""})
    assert result.exit_code == 2 and "NOPE_NOT_SET is not set" in result.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--real-order", "AMD"], "CUR=ORDERID"),
        (["--test-url", TEST_URL], "go together"),
        (["--test-order", "AMD=x"], "--test-order needs"),
        (
            ["--real-url", REAL_URL, "--test-url", REAL_URL, "--test-credentials-env", "C", "--register-on-test"],
            "share",
        ),
    ],
)
def test_bank_command_usage_errors(args: list[str], words: str) -> None:
    creds = json.dumps({"AMD": {"user_name": "u", "password": "pw-SECRET"}})
    result = CliRunner().invoke(
        probe, ["bank", "--real-credentials-env", "C", *args, "--real-order", "AMD=r"], env={"C": creds}
    )
    assert result.exit_code == 2, result.output
    assert words in result.output and "pw-SECRET" not in result.output


def test_the_callback_command_refuses_a_bad_url() -> None:
    result = CliRunner().invoke(probe, ["callback", "ftp://x/vpos/callback"])
    assert result.exit_code == 2 and "absolute http" in result.output
