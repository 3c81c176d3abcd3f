"""Session expiry of unpaid bank orders is timer-driven on the virtual clock (a scheduled job at ``created +
sessionTimeoutSecs``), and still noticed lazily by any read when the clock moved without running jobs."""

from __future__ import annotations

from datetime import datetime

import flask
from flask.testing import FlaskClient

from simulator import get_state
from tests.sim_bank_fakes import (
    Merchant,
    advance,
    bank_jobs,
    control_order,
    manual,
    register,
    status,
    submit,
)
from tests.sim_bank_fakes import app as app
from tests.sim_bank_fakes import client as client
from tests.sim_bank_fakes import merchant as merchant


def test_registering_schedules_the_session_expiry_at_the_session_end(client: FlaskClient) -> None:
    md_order = register(client, sessionTimeoutSecs="300")["orderId"]
    [job] = bank_jobs(client)
    assert job["tags"] == {"md_order": md_order, "bank": "session-expiry"}
    expires_at = control_order(client, md_order)["expiresAt"]
    assert int(datetime.fromisoformat(job["due"]).timestamp() * 1000) == expires_at


def test_the_session_expires_by_itself_with_minus_2007_and_declined_by_timeout(
    client: FlaskClient, merchant: Merchant
) -> None:
    md_order = register(client, sessionTimeoutSecs="300")["orderId"]
    advance(client, 299)
    assert merchant.seen() == []
    advance(client, 1)
    assert merchant.seen() == [("declinedByTimeout", "0")]  # sent by the job, before any read
    body = status(client, md_order)
    assert (body["orderStatus"], body["actionCode"]) == (6, -2007)
    assert bank_jobs(client) == []
    assert control_order(client, md_order)["operations"][-1]["operation"] == "session expired"


def test_a_decided_order_has_no_expiry_job_left(client: FlaskClient, merchant: Merchant) -> None:
    registered = register(client)
    submit(client, registered, "4242424242424242")
    assert bank_jobs(client) == []
    advance(client, 1201)
    assert merchant.seen() == [("deposited", "1")]
    assert status(client, registered["orderId"])["orderStatus"] == 2


def test_a_submit_after_the_session_ended_finds_it_expired(client: FlaskClient) -> None:
    registered = register(client, sessionTimeoutSecs="60")
    advance(client, 61)
    response = submit(client, registered, "4242424242424242")
    assert response.status_code == 409
    assert "payment time limit has expired" in response.get_data(as_text=True)
    body = status(client, registered["orderId"])
    assert (body["orderStatus"], body["actionCode"]) == (6, -2007)


def test_reads_still_notice_expiry_when_no_job_ran(app: flask.Flask, client: FlaskClient) -> None:
    state = get_state(app)
    md_order = register(client, sessionTimeoutSecs="60")["orderId"]
    for job in state.scheduler.pending(md_order=md_order):
        state.scheduler.cancel(job.seq)
    advance(client, 61)
    assert state.bank.get(md_order) is not None and state.bank.get(md_order).order_status == 0  # type: ignore[union-attr]
    body = status(client, md_order)
    assert (body["orderStatus"], body["actionCode"]) == (6, -2007)


def test_a_card_submitted_after_the_end_but_before_any_job_declines_with_minus_2007(
    app: flask.Flask, client: FlaskClient, merchant: Merchant
) -> None:
    state = get_state(app)
    registered = register(client, sessionTimeoutSecs="60")
    for job in state.scheduler.pending(md_order=registered["orderId"]):
        state.scheduler.cancel(job.seq)
    advance(client, 61)
    response = submit(client, registered, "4242424242424242")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("http://gw.test/fail?")
    assert merchant.seen() == [("declinedByTimeout", "0")]
    assert (status(client, registered["orderId"])["actionCode"]) == -2007


def test_reset_forgets_orders_and_jobs_and_new_orders_get_their_job_again(client: FlaskClient) -> None:
    register(client)
    assert client.post("/_control/reset").status_code == 200
    manual(client)
    assert bank_jobs(client) == []
    advance(client, 1201)  # nothing left to run, nothing fails
    md_order = register(client, "N-2")["orderId"]
    assert [job["tags"]["md_order"] for job in bank_jobs(client)] == [md_order]


def test_a_job_for_an_order_forgotten_meanwhile_changes_nothing(app: flask.Flask, client: FlaskClient) -> None:
    state = get_state(app)
    register(client, sessionTimeoutSecs="60")
    state.bank.clear()  # the job stays, its order is gone
    assert advance(client, 61)["ranJobs"] == 1
