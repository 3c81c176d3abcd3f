"""The readiness run's client of our gateway's console JSON view (``features/support/gateway_api.py``), against the
lab's gateway over real HTTP: it signs in as the login page asks, reads the records of a payment the bank took, signs
in again by itself when its login is gone, and says plainly why it cannot go on (a refused operator, one who needs
a TOTP code, a gateway without a test clock), never with a password in the message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from features.support.control import SimulatorControl
from features.support.gateway_api import ConsoleApi, ConsoleApiError, GatewayTimings
from features.support.state import md_order_of
from gateway.services.operators import create_operator
from lab import Lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with Lab(Path(tmp_path_factory.mktemp("console-api"))) as running:
        yield running


@pytest.fixture
def api(lab: Lab) -> Iterator[ConsoleApi]:
    made = ConsoleApi(lab.console_url, *lab.console_credentials)
    yield made
    made.close()


def paid_payment(lab: Lab) -> tuple[str, str]:
    """An Ecwid order sent to the gateway by the simulated Ecwid and paid at the simulated bank: (Ecwid order id,
    mdOrder)."""
    control = SimulatorControl(lab.simulator_url)
    order = control.create_order(total=12.5, currency="AMD")
    request = control.payment_request(order["id"])
    answer = httpx.post(request["paymentUrl"], data={"enc_data": request["enc_data"], "data": request["data"]})
    assert answer.status_code == 303, answer.text
    md_order = md_order_of(answer.headers["location"])
    assert control.pay(md_order, "4242424242424242")["orderStatus"] == 2
    return str(order["id"]), md_order


def test_the_gateway_s_time_and_timings_are_its_own(api: ConsoleApi, lab: Lab) -> None:
    timings = api.timings()
    settings = lab.settings()
    assert timings == GatewayTimings(
        http_timeout_s=settings.http_timeout_s,
        session_timeout_s=settings.session_timeout_s,
        poll_after_s=settings.poll_after_s,
        poll_max_interval_s=settings.poll_max_interval_s,
        pending_wait_s=settings.pending_wait_s,
        return_wait_s=settings.return_wait_s,
    )
    lab.advance_gateway_clock(3600)
    told, own = api.now(), lab.clock.now()
    assert abs((own - told).total_seconds()) < 5, (told, own)  # the gateway's clock, moved: not this machine's
    assert (told - datetime.now(UTC)).total_seconds() > 3000


def test_a_payment_is_found_by_any_of_its_ids_with_its_attempts_and_timeline(api: ConsoleApi, lab: Lab) -> None:
    order_id, md_order = paid_payment(lab)
    by_order, by_md_order = api.search(order_id), api.search(md_order)
    assert [p["id"] for p in by_order] == [p["id"] for p in by_md_order] and len(by_order) == 1
    page = api.payment(int(by_order[0]["id"]))
    assert page["payment"]["ecwid_order_id"] == order_id
    assert [a["md_order"] for a in page["attempts"]] == [md_order]
    assert page["timeline"], "a paid payment has a story"
    assert api.search("no-such-order-anywhere") == []
    with pytest.raises(ConsoleApiError, match="HTTP 404"):
        api.payment(10**9)


def test_a_login_that_is_gone_is_renewed_by_itself(api: ConsoleApi) -> None:
    api.status()
    api._http.cookies.clear()  # as when the login expired or the gateway's key changed
    assert "now" in api.status()


def test_a_refused_operator_is_named_and_the_password_never_shown(lab: Lab) -> None:
    stranger = ConsoleApi(lab.console_url, "nobody-here", "not-the-password-123")
    try:
        with pytest.raises(ConsoleApiError, match="refused the operator 'nobody-here'") as raised:
            stranger.status()
        assert "not-the-password-123" not in str(raised.value)
    finally:
        stranger.close()


def test_an_operator_who_needs_a_totp_code_is_told_to_use_another_account(lab: Lab) -> None:
    assert lab.gateway is not None
    create_operator(lab.gateway, "with-totp", "a-long-password-1234", totp=True, actor="test")
    guarded = ConsoleApi(lab.console_url, "with-totp", "a-long-password-1234")
    try:
        with pytest.raises(ConsoleApiError, match="needs a TOTP code"):
            guarded.status()
    finally:
        guarded.close()


def test_a_gateway_without_a_test_clock_says_so_when_asked_to_move_it(api: ConsoleApi) -> None:
    with pytest.raises(ConsoleApiError, match="no test clock"):
        api.advance_clock(60)


def test_a_console_that_is_not_there_is_an_error_not_a_guess(lab: Lab) -> None:
    elsewhere = ConsoleApi(lab.gateway_url + "/not-the-console/", "qa", "pw")
    try:
        with pytest.raises(ConsoleApiError, match="login page gave no form"):
            elsewhere.status()
    finally:
        elsewhere.close()
    assert httpx.get(lab.gateway_url + "/healthz").status_code == 200
