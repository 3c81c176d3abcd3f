"""``/metrics``: payments by state, callback outcomes, the outbox backlog and its age, open operator exceptions,
refunds, and the latency of calls to Ecwid, in Prometheus' text format without ids or secrets."""

from __future__ import annotations

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from gateway import create_app
from gateway.services.confirm import confirm_attempt
from gateway.services.outbox import relay
from tests.gateway_fakes import CALLBACK_KEY, ECWID_TOKEN, Gateway, ecwid_form, paid


def scrape(client: FlaskClient) -> dict[str, list[tuple[dict[str, str], float]]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    families: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            families.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return families


def value(families: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for found, v in families.get(name, []) if all(found.get(k) == x for k, x in labels.items()))


def test_metrics_show_the_payment_lifecycle(gw: Gateway) -> None:
    client = create_app(context=gw.ctx).test_client()
    before = scrape(client)
    client.post("/ecwid/payment", data=ecwid_form())
    (attempt,) = gw.attempts()
    confirm_attempt(gw.ctx, attempt.id, paid(attempt.order_number, gw.provider), source="test")
    waiting = scrape(client)
    assert value(waiting, "vposlab_attempts", state="paid") == 1
    assert value(waiting, "vposlab_outbox_backlog") == 1
    assert value(waiting, "vposlab_outbox_oldest_age_seconds") >= 0

    client.get("/vpos/callback", query_string=gw.signed_callback(attempt.order_number))  # a replay: no change
    client.get("/vpos/callback", query_string={**gw.signed_callback(attempt.order_number), "checksum": "00"})
    relay(gw.ctx)
    after = scrape(client)
    assert value(after, "vposlab_outbox_backlog") == 0
    for outcome in ("no_change", "bad_checksum"):
        grown = value(after, "vposlab_callbacks_total", outcome=outcome) - value(
            before, "vposlab_callbacks_total", outcome=outcome
        )
        assert grown == 1, outcome
    calls = value(after, "vposlab_outbound_call_seconds_count", service="ecwid", outcome="ok") - value(
        before, "vposlab_outbound_call_seconds_count", service="ecwid", outcome="ok"
    )
    assert calls == 1


def test_metrics_count_open_operator_exceptions_by_code_and_hold_no_ids_or_secrets(gw: Gateway) -> None:
    client = create_app(context=gw.ctx).test_client()
    client.post("/ecwid/payment", data=ecwid_form())
    (attempt,) = gw.attempts()
    gw.provider.set_status(attempt.order_number, 2, amount_minor=1)
    confirm_attempt(gw.ctx, attempt.id, gw.provider.status_of(attempt.provider_order_id or ""), source="test")
    families = scrape(client)
    assert value(families, "vposlab_operator_exceptions_open", code="amount_mismatch") == 1
    text = client.get("/metrics").get_data(as_text=True)
    for leak in (attempt.order_number, attempt.provider_order_id or "", ECWID_TOKEN, CALLBACK_KEY):
        assert leak not in text
    labels = {
        key
        for name, samples in families.items()
        if name.startswith("vposlab_")
        for found, _ in samples
        for key in found
    }
    assert labels <= {"state", "code", "outcome", "service", "le"}  # never an id, an amount or a secret
