"""The endpoint probes over real sockets: HTTPS servers on 127.0.0.1 with certificates from a throwaway CA (valid,
expired, for another host, self-signed, about to expire), a redirecting and a slow callback endpoint, plain HTTP on
loopback, the ``vposlab probe`` commands end to end, and the bank probe against the simulator's bank behind TLS."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.wrappers import Request, Response

from gateway.provider.checksum import verify_checksum
from lab.bank_parity_probe import BankSide, Credentials, probe_bank
from lab.callback_probe import probe_callback
from lab.endpoint_probes import ProbeReport, Status, Verdict
from lab.probe_cli import probe
from lab.probe_tls import HttpsServerThread, ServerCertificate, ThrowawayCA
from lab.servers import ServerThread
from simulator import SimulatorConfig, VposMerchant
from simulator import create_app as create_simulator

pytestmark = pytest.mark.e2e

KEY = "e2e-callback-key-" + "9" * 24
WSGI = Callable[[dict[str, Any], Callable[..., Any]], Any]


def callback_endpoint(*, delay_s: float = 0.0) -> WSGI:
    """The gateway's callback contract in miniature: checksum first (400), then "unknown order" 200."""

    @Request.application  # type: ignore[misc]
    def app(request: Request) -> Response:
        time.sleep(delay_s)
        params = request.form.to_dict() if request.method == "POST" else {}
        params.update(request.args.to_dict())
        if not verify_checksum(params, KEY):
            return Response("bad checksum", status=400, mimetype="text/plain")
        return Response("unknown order", status=200, mimetype="text/plain")

    return app  # type: ignore[no-any-return]


def redirecting_endpoint(target: str) -> WSGI:
    @Request.application  # type: ignore[misc]
    def app(request: Request) -> Response:
        return Response("", status=301, headers={"Location": target})

    return app  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayCA:
    return ThrowawayCA(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def good_cert(ca: ThrowawayCA) -> ServerCertificate:
    return ca.issue("good")


@pytest.fixture
def serve() -> Iterator[Callable[[WSGI, ServerCertificate], str]]:
    servers: list[HttpsServerThread] = []

    def start(app: WSGI, certificate: ServerCertificate) -> str:
        server = HttpsServerThread(app, certificate)
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


def statuses(report: ProbeReport) -> dict[str, Status]:
    return {f.id: f.status for f in report.findings}


def test_a_valid_chain_for_the_host_is_ready(
    ca: ThrowawayCA, good_cert: ServerCertificate, serve: Callable[[WSGI, ServerCertificate], str]
) -> None:
    url = serve(callback_endpoint(), good_cert) + "/vpos/callback"
    report = probe_callback(url, callback_key=KEY, ca_bundle=str(ca.ca_file))
    assert set(statuses(report).values()) == {Status.PASS}, list(report.lines())
    assert report.verdict is Verdict.READY
    detail = report.finding("CB-02").detail
    assert "vposlab throwaway CA" in detail and "TLSv1." in detail and "not the public trust store" in detail


@pytest.mark.parametrize(
    ("label", "options", "expected", "words"),
    [
        ("expired", {"valid_from": timedelta(days=-60), "valid_until": timedelta(days=-1)}, Status.FAIL, "expired"),
        ("other-host", {"hosts": ("pay.other.example",)}, Status.FAIL, "not valid for this IP address"),
        ("self-signed", {"self_signed": True}, Status.FAIL, "self-signed and not trusted"),
        ("not-yet", {"valid_from": timedelta(days=2)}, Status.FAIL, "not yet valid"),
        ("ends-soon", {"valid_until": timedelta(days=5)}, Status.FAIL, "expires within 14 days"),
        ("ends-in-20-days", {"valid_until": timedelta(days=20)}, Status.WARN, "expires within 30 days"),
    ],
)
def test_the_certificate_verdict_per_case(
    ca: ThrowawayCA,
    serve: Callable[[WSGI, ServerCertificate], str],
    label: str,
    options: dict[str, Any],
    expected: Status,
    words: str,
) -> None:
    url = serve(callback_endpoint(), ca.issue(label, **options)) + "/vpos/callback"
    report = probe_callback(url, callback_key=KEY, ca_bundle=str(ca.ca_file))
    finding = report.finding("CB-02")
    assert finding.status is expected, finding
    assert words in finding.detail
    assert report.verdict is (Verdict.READY if expected is Status.WARN else Verdict.NOT_READY)


def test_a_server_must_send_its_intermediate_certificate(
    ca: ThrowawayCA, serve: Callable[[WSGI, ServerCertificate], str]
) -> None:
    intermediate = ca.intermediate()
    whole = serve(callback_endpoint(), intermediate.issue("with-chain")) + "/vpos/callback"
    leaf_only = serve(callback_endpoint(), intermediate.issue("leaf-only", chain=False)) + "/vpos/callback"
    assert probe_callback(whole, callback_key=KEY, ca_bundle=str(ca.ca_file)).finding("CB-02").status is Status.PASS
    finding = probe_callback(leaf_only, callback_key=KEY, ca_bundle=str(ca.ca_file)).finding("CB-02")
    assert finding.status is Status.FAIL and "does not send the intermediate" in finding.detail


def test_a_private_ca_is_not_trusted_by_the_system_store(
    good_cert: ServerCertificate, serve: Callable[[WSGI, ServerCertificate], str]
) -> None:
    url = serve(callback_endpoint(), good_cert) + "/vpos/callback"
    finding = probe_callback(url, callback_key=KEY).finding("CB-02")
    assert finding.status is Status.FAIL
    assert "system's trust store" in finding.detail and "not trusted" in finding.detail


def test_a_redirecting_endpoint_fails(
    ca: ThrowawayCA, good_cert: ServerCertificate, serve: Callable[[WSGI, ServerCertificate], str]
) -> None:
    final = serve(callback_endpoint(), good_cert) + "/vpos/callback"
    url = serve(redirecting_endpoint(final + "?from=old"), good_cert) + "/old/callback"
    report = probe_callback(url, callback_key=KEY, ca_bundle=str(ca.ca_file))
    finding = report.finding("CB-03")
    assert finding.status is Status.FAIL
    assert f"to {final}?..." in finding.detail and "from=old" not in finding.detail
    assert report.finding("CB-02").status is Status.PASS  # the TLS part is fine: only the redirect is wrong
    assert report.verdict is Verdict.NOT_READY


def test_a_slow_endpoint_fails(
    ca: ThrowawayCA, good_cert: ServerCertificate, serve: Callable[[WSGI, ServerCertificate], str]
) -> None:
    url = serve(callback_endpoint(delay_s=1.5), good_cert) + "/vpos/callback"
    started = time.monotonic()
    report = probe_callback(url, callback_key=KEY, ca_bundle=str(ca.ca_file), timeout_s=0.5)
    assert time.monotonic() - started < 5  # it gave up after one unanswered callback
    finding = report.finding("CB-04")
    assert finding.status is Status.FAIL and "no answer within 0.5 s" in finding.detail
    assert report.verdict is Verdict.NOT_READY


def test_plain_http_on_loopback_shows_everything_but_https() -> None:
    server = ServerThread("plain-callback")
    server.start(callback_endpoint())
    try:
        report = probe_callback(server.url + "/vpos/callback", callback_key=KEY)
    finally:
        server.stop()
    assert statuses(report) == {
        "CB-01": Status.NOT_APPLICABLE,
        "CB-02": Status.NOT_APPLICABLE,
        "CB-03": Status.PASS,
        "CB-04": Status.PASS,
        "CB-05": Status.PASS,
        "CB-06": Status.PASS,
    }
    assert report.verdict is Verdict.INCOMPLETE


def test_the_callback_command_exits_0_when_ready_and_1_when_not(
    ca: ThrowawayCA, good_cert: ServerCertificate, serve: Callable[[WSGI, ServerCertificate], str]
) -> None:
    good = serve(callback_endpoint(), good_cert) + "/vpos/callback"
    expired = serve(
        callback_endpoint(), ca.issue("cli-expired", valid_from=timedelta(days=-9), valid_until=timedelta(days=-2))
    )
    runner = CliRunner()
    env = {"PROBE_KEY": KEY}
    ready = runner.invoke(probe, ["callback", good, "--key-env", "PROBE_KEY", "--ca-bundle", str(ca.ca_file)], env=env)
    assert ready.exit_code == 0, ready.output
    assert "verdict: READY" in ready.output and ready.output.count("\n  PASS") == 6
    assert KEY not in ready.output
    not_ready = runner.invoke(probe, ["callback", expired + "/vpos/callback", "--ca-bundle", str(ca.ca_file)], env=env)
    assert not_ready.exit_code == 1 and "has expired" in not_ready.output
    no_key = runner.invoke(
        probe, ["callback", good, "--key-env", "UNSET_PROBE_KEY", "--ca-bundle", str(ca.ca_file), "--json"], env={}
    )
    assert no_key.exit_code == 3, no_key.output
    data = json.loads(no_key.output)
    assert data["verdict"] == "INCOMPLETE"
    assert {f["id"]: f["status"] for f in data["findings"]}["CB-06"] == "NOT CHECKED"


# --- the bank probe against the simulator's bank, plain and behind TLS -----------------------------------------

MERCHANTS = {"AMD": ("e2e_amd", "051", "amd-pw-SECRET"), "USD": ("e2e_usd", "840", "usd-pw-SECRET")}


@pytest.fixture(scope="module")
def simulator_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    config = SimulatorConfig(
        public_url="http://127.0.0.1:9",
        payment_url="http://127.0.0.1:9/ecwid/payment",
        stores=(),
        merchants=tuple(VposMerchant(user_name=u, password=p, currency=n) for u, n, p in MERCHANTS.values()),
    )
    return create_simulator(config)


def credentials() -> dict[str, Credentials]:
    return {currency: Credentials(user, password) for currency, (user, _, password) in MERCHANTS.items()}


def test_the_bank_probe_reads_the_simulated_bank_over_real_sockets(simulator_app: Any) -> None:
    server = ServerThread("sim-bank")
    server.start(simulator_app)
    try:
        base = server.url + "/payment/rest/"
        report = probe_bank(BankSide(base, credentials()), BankSide(base, credentials()))
        result = CliRunner().invoke(
            probe,
            ["bank", "--real-url", base, "--test-url", base, "--test-credentials-env", "CREDS"],
            env={
                "VPOSLAB_PROVIDER_CREDENTIALS": json.dumps(
                    {c: {"user_name": u, "password": p} for c, (u, _, p) in MERCHANTS.items()}
                ),
                "CREDS": json.dumps({c: {"user_name": u, "password": p} for c, (u, _, p) in MERCHANTS.items()}),
            },
        )
    finally:
        server.stop()
    assert statuses(report) == {
        "BK-01": Status.NOT_APPLICABLE,
        "BK-02": Status.PASS,
        "BK-03/AMD": Status.PASS,
        "BK-03/USD": Status.PASS,
        "BK-04": Status.PASS,
        "BK-05": Status.PASS,
        "BK-06": Status.NOT_CHECKED,
    }
    assert result.exit_code == 3, result.output  # INCOMPLETE: the lab has no REAL bank
    assert "BK-03/USD" in result.output and "SECRET" not in result.output


def test_the_bank_probe_names_an_untrusted_bank_certificate(
    simulator_app: Any, good_cert: ServerCertificate, serve: Callable[[WSGI, ServerCertificate], str]
) -> None:
    base = serve(simulator_app, good_cert) + "/payment/rest/"
    report = probe_bank(BankSide(base, credentials()))  # the system's trust store: the throwaway CA is unknown
    assert report.finding("BK-01").status is Status.FAIL
    assert "not trusted" in report.finding("BK-01").detail
    assert report.finding("BK-03/AMD").status is Status.FAIL


def test_the_bank_probe_behind_tls_with_the_ca_trusted(
    simulator_app: Any, ca: ThrowawayCA, good_cert: ServerCertificate, serve: Callable[[WSGI, ServerCertificate], str]
) -> None:
    base = serve(simulator_app, good_cert) + "/payment/rest/"
    report = probe_bank(BankSide(base, credentials()), ca_bundle=str(ca.ca_file))
    assert report.finding("BK-01").status is Status.PASS
    assert report.finding("BK-03/USD").status is Status.PASS


def test_the_throwaway_ca_writes_only_to_its_folder(ca: ThrowawayCA, good_cert: ServerCertificate) -> None:
    assert ca.ca_file.parent == ca.folder == good_cert.key_file.parent == good_cert.cert_file.parent
    assert oct(good_cert.key_file.stat().st_mode)[-3:] == "600"
