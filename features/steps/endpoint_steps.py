"""Steps of the REAL-endpoint features (RC-34 callback endpoint, RC-35 bank parity): the probes of
``lab.callback_probe`` and ``lab.bank_parity_probe`` run against the lab, exactly as ``vposlab probe`` runs them
against a real deployment. The lab's callback URL is plain HTTP on 127.0.0.1 and its simulated bank plays TEST and
REAL at once: the findings that need the real endpoints must come out NOT APPLICABLE, never PASS.

State travels by ``target_fixture``: ``callback_run`` and ``parity_run`` (the probe's report, kept with what the
scenario needs to check it), ``callback_target`` (the URL and trust the probe is pointed at), ``paid_orders``.
HTTPS fronts and redirecting endpoints a scenario starts are stopped when it ends (``endpoint_servers``).
Each probe's text report is added to the scenario's evidence."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when
from werkzeug.wrappers import Request, Response

from features.steps.common_steps import ecwid_order_registered
from features.support.control import SimulatorControl
from features.support.evidence import ScenarioEvidence
from features.support.state import Baseline, ScenarioState
from lab import Lab
from lab.bank_parity_probe import ORDER_NUMBER_PREFIX, STATUS_METHOD, BankSide, Credentials, probe_bank
from lab.callback_probe import BANK_CALLBACKS, probe_callback
from lab.endpoint_probes import ProbeReport, Status
from lab.probe_tls import HttpsServerThread, ThrowawayCA, gateway_front
from lab.servers import ServerThread

SUCCESS_CARD = "4242424242424242"
CERTIFICATES: dict[str, dict[str, Any]] = {
    "a certificate for 127.0.0.1": {},
    "an expired certificate": {"valid_from": timedelta(days=-60), "valid_until": timedelta(days=-1)},
    "a certificate for another host": {"hosts": ("pay.another-shop.example",)},
}


def _ids(text: str) -> list[str]:
    """``"CB-03, CB-04 and CB-05"`` -> ``["CB-03", "CB-04", "CB-05"]``."""
    return [part for part in re.split(r",\s*|\s+and\s+", text.strip()) if part]


def _note(evidence: ScenarioEvidence, label: str, report: ProbeReport) -> None:
    evidence.note(label, "\n".join(report.lines()))


class EndpointServers:
    """The servers a scenario starts (HTTPS fronts, redirecting endpoints); all stopped when it ends."""

    def __init__(self) -> None:
        self._https: list[HttpsServerThread] = []
        self._plain: list[ServerThread] = []

    def https(self, server: HttpsServerThread) -> HttpsServerThread:
        self._https.append(server)
        return server

    def plain(self, app: Any, name: str) -> ServerThread:
        server = ServerThread(name)
        self._plain.append(server)
        server.start(app)
        return server

    def stop(self) -> None:
        for https in self._https:
            https.stop()
        for plain in self._plain:
            plain.stop()


@pytest.fixture
def endpoint_servers() -> Iterator[EndpointServers]:
    servers = EndpointServers()
    yield servers
    servers.stop()


@dataclass(frozen=True)
class CallbackTarget:
    """Where the callback probe is pointed, and the CA bundle it trusts (None: the system's trust store)."""

    url: str
    ca_bundle: str | None = None

    def evidence_values(self) -> Mapping[str, Any]:
        return {}


@dataclass(frozen=True)
class ProbeRun:
    """A probe's report, the secrets it must never show and, for the bank probe, the orders it read and its calls
    as the simulated bank's journal shows them."""

    report: ProbeReport
    secrets: tuple[str, ...]
    read_orders: tuple[str, ...] = ()
    bank_calls: tuple[Mapping[str, Any], ...] = ()

    def evidence_values(self) -> Mapping[str, Any]:
        # The journal excerpt of the scenario follows these ids: the orders read and the probe's random orderNumbers.
        numbers = {str(call["params"]["orderNumber"]) for call in self.bank_calls if "orderNumber" in call["params"]}
        return {
            "read": [{"orderId": md_order} for md_order in self.read_orders],
            "probe": [{"orderNumber": number} for number in sorted(numbers)],
        }


def _probe_calls(entries: list[dict[str, Any]], read_orders: tuple[str, ...]) -> tuple[Mapping[str, Any], ...]:
    """The journal entries of the parity probe's own calls to the simulated bank."""

    def by_probe(entry: Mapping[str, Any]) -> bool:
        params = entry.get("params") or {}
        return entry.get("service") == "vpos" and (
            str(params.get("userName", "")).startswith("vposlab-probe-")
            or str(params.get("orderNumber", "")).startswith(ORDER_NUMBER_PREFIX)
            or params.get("orderId") in read_orders
        )

    return tuple(entry for entry in entries if by_probe(entry))


@dataclass(frozen=True)
class PaidOrders:
    """Bank orders paid in the lab: one read as a REAL order, one as the TEST reference; their bank state before."""

    real_md_order: str
    test_md_order: str
    before: Mapping[str, Any] = field(default_factory=dict)

    def evidence_values(self) -> Mapping[str, Any]:
        return {"real_md_order": self.real_md_order, "test_md_order": self.test_md_order}


def _lab_credentials(lab: Lab, wrong_for: str | None = None) -> dict[str, Credentials]:
    found = {}
    for currency, creds in lab.bank_credentials().items():
        password = creds["password"]
        if currency == wrong_for:
            password = "wrong-" + password[::-1]
        found[currency] = Credentials(creds["user_name"], password)
    return found


# --- Given ----------------------------------------------------------------------------------------------------


@given(
    parsers.parse("an HTTPS front of the lab gateway with {certificate} from a throwaway CA"),
    target_fixture="callback_target",
)
def https_front(
    lab: Lab, endpoint_servers: EndpointServers, tmp_path: Path, scenario_state: ScenarioState, certificate: str
) -> CallbackTarget:
    """The target's gateway behind a TLS-terminating front on another port (``lab.probe_tls.gateway_front``), with
    a certificate from a CA made for this scenario only."""
    ca = ThrowawayCA(tmp_path / "pki")
    server = endpoint_servers.https(gateway_front(lab.gateway_url, ca.issue("front", **CERTIFICATES[certificate])))
    target = CallbackTarget(f"{server.url}/vpos/callback", str(ca.ca_file))
    scenario_state.register(target)
    return target


@given("a callback URL that redirects to the lab gateway's callback endpoint", target_fixture="callback_target")
def redirecting_url(lab: Lab, endpoint_servers: EndpointServers, scenario_state: ScenarioState) -> CallbackTarget:
    """What a web server does to a URL typed without its final form (http -> https, a missing slash...)."""

    @Request.application  # type: ignore[misc]
    def moved(request: Request) -> Response:
        query = request.query_string.decode("latin-1")
        return Response("", status=301, headers={"Location": lab.callback_url + (f"?{query}" if query else "")})

    server = endpoint_servers.plain(moved, "redirecting-callback")
    target = CallbackTarget(f"{server.url}/vpos/callback/")
    scenario_state.register(target)
    return target


@given(
    parsers.parse(
        "two Ecwid orders of {total:g} {currency} paid at the bank: one read as a REAL order, one as the TEST reference"
    ),
    target_fixture="paid_orders",
)
def two_paid_orders(
    baseline: Baseline, scenario_state: ScenarioState, control: SimulatorControl, total: float, currency: str
) -> PaidOrders:
    md_orders = []
    for _ in range(2):
        order = ecwid_order_registered(baseline, scenario_state, control, total, currency)
        paid = control.pay(order.md_order, SUCCESS_CARD)
        assert paid["orderStatus"] == 2, paid
        md_orders.append(order.md_order)
    paid_orders = PaidOrders(md_orders[0], md_orders[1], before={md: control.bank_order(md) for md in md_orders})
    scenario_state.register(paid_orders)
    return paid_orders


# --- When -----------------------------------------------------------------------------------------------------


def _run_callback_probe(
    target: CallbackTarget, key: str | None, lab: Lab, evidence: ScenarioEvidence, scenario_state: ScenarioState
) -> ProbeRun:
    report = probe_callback(target.url, callback_key=key, ca_bundle=target.ca_bundle)
    _note(evidence, "callback probe (vposlab probe callback)", report)
    run = ProbeRun(report, tuple(lab.secrets.values()))
    scenario_state.register(run)
    return run


@when(
    "the callback probe runs against the lab gateway's callback URL with the bank's key", target_fixture="callback_run"
)
def probe_lab_callback(lab: Lab, evidence: ScenarioEvidence, scenario_state: ScenarioState) -> ProbeRun:
    return _run_callback_probe(
        CallbackTarget(lab.callback_url), lab.secrets.callback_key, lab, evidence, scenario_state
    )


@when("the callback probe runs against the lab gateway's callback URL without a key", target_fixture="callback_run")
def probe_lab_callback_without_key(lab: Lab, evidence: ScenarioEvidence, scenario_state: ScenarioState) -> ProbeRun:
    return _run_callback_probe(CallbackTarget(lab.callback_url), None, lab, evidence, scenario_state)


@when("the callback probe runs against the HTTPS front trusting the throwaway CA", target_fixture="callback_run")
@when("the callback probe runs against the redirecting URL with the bank's key", target_fixture="callback_run")
def probe_target(
    callback_target: CallbackTarget, lab: Lab, evidence: ScenarioEvidence, scenario_state: ScenarioState
) -> ProbeRun:
    return _run_callback_probe(callback_target, lab.secrets.callback_key, lab, evidence, scenario_state)


def _run_parity_probe(
    lab: Lab,
    control: SimulatorControl,
    evidence: ScenarioEvidence,
    scenario_state: ScenarioState,
    *,
    wrong_for: str | None = None,
    paid_orders: PaidOrders | None = None,
) -> ProbeRun:
    real_orders = {"AMD": paid_orders.real_md_order} if paid_orders else {}
    test_orders = {"AMD": paid_orders.test_md_order} if paid_orders else {}
    real = BankSide(lab.bank_url, _lab_credentials(lab, wrong_for), real_orders)
    test = BankSide(lab.bank_url, _lab_credentials(lab), test_orders)
    mark = control.journal_mark()
    report = probe_bank(real, test)
    _note(evidence, "parity probe (vposlab probe bank)", report)
    read = tuple(real_orders.values()) + tuple(test_orders.values())
    calls = _probe_calls(control.journal(since=mark), read)
    run = ProbeRun(report, (*lab.secrets.values(), *real.secrets()), read, calls)
    scenario_state.register(run)
    return run


@when("the parity probe reads the simulated bank with the lab's credentials per currency", target_fixture="parity_run")
def parity_probe(
    lab: Lab,
    control: SimulatorControl,
    evidence: ScenarioEvidence,
    scenario_state: ScenarioState,
    paid_orders: PaidOrders,
) -> ProbeRun:
    return _run_parity_probe(lab, control, evidence, scenario_state, paid_orders=paid_orders)


@when(
    parsers.parse(
        "the parity probe reads the simulated bank with the lab's credentials but a wrong password for {currency}"
    ),
    target_fixture="parity_run",
)
def parity_probe_wrong_password(
    baseline: Baseline,
    lab: Lab,
    control: SimulatorControl,
    evidence: ScenarioEvidence,
    scenario_state: ScenarioState,
    currency: str,
) -> ProbeRun:
    return _run_parity_probe(lab, control, evidence, scenario_state, wrong_for=currency)


# --- Then -----------------------------------------------------------------------------------------------------


def _assert_statuses(run: ProbeRun, ids: list[str], expected: Status) -> None:
    found = {finding_id: run.report.finding(finding_id) for finding_id in ids}
    wrong = {i: (f.status.value, f.detail) for i, f in found.items() if f.status is not expected}
    assert not wrong, f"expected {expected.value}: {wrong}"


@then(parsers.parse("the callback findings {ids} pass"))
def callback_findings_pass(callback_run: ProbeRun, ids: str) -> None:
    _assert_statuses(callback_run, _ids(ids), Status.PASS)


@then(parsers.parse("the bank findings {ids} pass"))
def bank_findings_pass(parity_run: ProbeRun, ids: str) -> None:
    _assert_statuses(parity_run, _ids(ids), Status.PASS)


@then(parsers.parse("the callback findings {ids} are not applicable because the lab has no HTTPS"))
def callback_not_applicable(callback_run: ProbeRun, ids: str) -> None:
    _assert_statuses(callback_run, _ids(ids), Status.NOT_APPLICABLE)
    for finding_id in _ids(ids):
        assert "plain HTTP on a loopback address" in callback_run.report.finding(finding_id).detail


@then(
    parsers.parse("the bank finding {finding_id} is not applicable because the lab's bank is plain HTTP on 127.0.0.1")
)
def bank_not_applicable(parity_run: ProbeRun, finding_id: str) -> None:
    _assert_statuses(parity_run, [finding_id], Status.NOT_APPLICABLE)
    assert "simulated bank" in parity_run.report.finding(finding_id).detail


def _status_named(word: str) -> Status:
    return {"passes": Status.PASS, "fails": Status.FAIL, "was not checked": Status.NOT_CHECKED}.get(word) or Status(
        word
    )


@then(parsers.parse('the callback finding {finding_id} {outcome} with "{words}"'))
def callback_finding_outcome(callback_run: ProbeRun, finding_id: str, outcome: str, words: str) -> None:
    finding = callback_run.report.finding(finding_id)
    expected = _status_named(outcome.removeprefix("is "))
    assert finding.status is expected, (finding.status.value, finding.detail)
    assert words in finding.detail, finding.detail


@then(parsers.parse('the bank finding {finding_id} fails with "{words}"'))
def bank_finding_fails(parity_run: ProbeRun, finding_id: str, words: str) -> None:
    finding = parity_run.report.finding(finding_id)
    assert finding.status is Status.FAIL, (finding.status.value, finding.detail)
    assert words in finding.detail, finding.detail


@then("CB-06 names every operation the bank sends: approved, deposited, declinedByTimeout, reversed and refunded")
def every_operation_named(callback_run: ProbeRun) -> None:
    detail = callback_run.report.finding("CB-06").detail
    for operation, status in BANK_CALLBACKS:
        assert f"{operation}/{status}" in detail, detail
    assert "answered 200 over GET and POST" in detail


@then(parsers.parse("the callback probe's verdict is {verdict}"))
def callback_verdict(callback_run: ProbeRun, verdict: str) -> None:
    assert callback_run.report.verdict.value == verdict, list(callback_run.report.lines())


@then(parsers.parse("the parity probe's verdict is {verdict}"))
def parity_verdict(parity_run: ProbeRun, verdict: str) -> None:
    assert parity_run.report.verdict.value == verdict, list(parity_run.report.lines())


@then(parsers.parse("no secret appears in the {which} probe's report"))
def no_secret_in_report(request: pytest.FixtureRequest, which: str) -> None:
    run: ProbeRun = request.getfixturevalue({"callback": "callback_run", "parity": "parity_run"}[which])
    text = "\n".join(run.report.lines()) + repr(run.report.as_dict())
    leaked = [i for i, secret in enumerate(run.secrets) if secret and secret in text]
    assert not leaked, f"secret #{leaked} appears in the report"


@then("the parity probe only read order statuses at the bank")
def only_status_reads(parity_run: ProbeRun) -> None:
    calls = parity_run.bank_calls
    # the refusal control, one random orderNumber per currency on REAL and on TEST, and the orders named
    assert len(calls) >= 1 + 4 + 4 + len(parity_run.read_orders), [e["operation"] for e in calls]
    assert {e["operation"] for e in calls} == {STATUS_METHOD}, sorted({e["operation"] for e in calls})


@then("the paid orders are unchanged at the bank")
def paid_orders_unchanged(paid_orders: PaidOrders, control: SimulatorControl) -> None:
    for md_order, before in paid_orders.before.items():
        assert control.bank_order(md_order) == before, md_order
