"""The operator console in a real browser against the running lab: the QA operator signs in, switches to Armenian,
finds a payment the simulator's storefront started, and resolves an operator exception with a note."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from features.support.browser import OpenPage
from gateway.services.journal import raise_exception
from gateway.store.models import OperatorAction, OperatorException, PaymentSession
from gateway.web.console_texts import TEXTS
from lab import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with Lab(Path(tmp_path_factory.mktemp("console"))) as running:
        yield running


def started_payment(lab: Lab) -> dict[str, Any]:
    """An Ecwid order sent to the gateway by the simulator's storefront: the bank page is open."""
    with httpx.Client(base_url=lab.simulator_url, timeout=15) as sim:
        order = sim.post("/_control/ecwid/orders", json={"storeId": 1003, "total": 2500.0, "currency": "AMD"}).json()
        request = sim.post("/_control/ecwid/payment-request", json={"storeId": 1003, "orderId": order["id"]}).json()
    answer = httpx.post(request["paymentUrl"], data={"enc_data": request["enc_data"], "data": request["data"]})
    assert answer.status_code == 303
    return dict(order)


def open_exception(lab: Lab, order_id: str) -> int:
    """Test set-up through the gateway's own journal: an exception on that payment for a person to look at."""
    assert lab.gateway is not None
    with lab.gateway.db.session() as session, session.begin():
        payment = session.scalars(select(PaymentSession).where(PaymentSession.ecwid_order_id == order_id)).one()
        raise_exception(
            session, "unexpected_bank_status", "e2e: the bank says something odd", lab.gateway.clock.now(),
            session_id=payment.id,
        )  # fmt: skip
        session.flush()
        exception_id = session.scalars(
            select(OperatorException.id).where(OperatorException.session_id == payment.id)
        ).one()
    return int(exception_id)


def test_qa_signs_in_switches_to_armenian_finds_a_payment_and_resolves_an_exception(
    lab: Lab, open_page: OpenPage
) -> None:
    order = started_payment(lab)
    order_id = str(order["id"])
    exception_id = open_exception(lab, order_id)
    username, password = lab.console_credentials
    page = open_page("desktop")

    page.goto(lab.console_url)
    assert page.url.endswith("/ops/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_selector("#signed-in")

    page.select_option("#lang-select", "hy")
    page.click("#lang-switch")
    page.wait_for_selector(f"h1:has-text('{TEXTS['exceptions_title']['hy']}')")
    assert page.get_attribute("html", "lang") == "hy"

    page.fill("#q", order_id)
    page.click("#search-submit")
    page.click("#search-results a.payment-link")
    page.wait_for_selector("#payment-title")
    assert order_id in page.inner_text("#payment-title")
    assert TEXTS["timeline"]["hy"] in page.content()

    page.click("#nav-exceptions")
    row = page.locator(f"#exception-{exception_id}")
    row.locator("textarea[name=note]").fill("e2e: ստուգված է, բանկի հետ համաձայնեցված")
    row.locator("button.resolve").click()
    page.wait_for_selector("#flashes")
    assert TEXTS["exc_resolved_ok"]["hy"] in page.inner_text("#flashes")
    assert page.locator(f"#exception-{exception_id}").count() == 0  # gone from the open ones

    assert lab.gateway is not None
    with lab.gateway.db.session() as session:
        exception = session.get(OperatorException, exception_id)
        assert exception is not None
        assert (exception.resolved_by, exception.note) == ("qa", "e2e: ստուգված է, բանկի հետ համաձայնեցված")
        resolved = session.scalars(
            select(OperatorAction).where(
                OperatorAction.action == "exception_resolve", OperatorAction.exception_id == exception_id
            )
        ).one()
        assert (resolved.actor, resolved.outcome) == ("qa", "ok")
    assert password not in page.content()
