"""Prometheus metrics: what an operations engineer watches.

Counted in the process (``prometheus_client``; under gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory so every worker process's counts are summed):
- ``vposlab_callbacks_total{outcome}``: bank callbacks by what became of them;
- ``vposlab_outbound_call_seconds{service,outcome}``: latency of every call to the bank and to Ecwid.

Read from the database at each scrape (the same answer from any process):
- ``vposlab_attempts{state}``: payment attempts by state;
- ``vposlab_outbox_backlog`` and ``vposlab_outbox_oldest_age_seconds``: Ecwid updates waiting;
- ``vposlab_operator_exceptions_open{code}``: what people must look at;
- ``vposlab_refunds{state}``.
Labels carry states and codes, never ids, amounts or secrets.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from gateway.services.context import GatewayContext
from gateway.settings import Settings
from gateway.store.models import Attempt, OperatorException, OutboxMessage, Refund

CALLBACKS = Counter("vposlab_callbacks_total", "Bank callbacks by outcome", ["outcome"])
OUTBOUND = Histogram(
    "vposlab_outbound_call_seconds",
    "Calls to the bank and to Ecwid",
    ["service", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def instrument_http_client(client: httpx.Client, settings: Settings) -> None:
    """Time every request the gateway makes, labelled by the service it went to."""
    bank, ecwid = settings.provider_url, settings.ecwid_api_url

    def service_of(url: str) -> str:
        return "bank" if url.startswith(bank) else "ecwid" if url.startswith(ecwid) else "other"

    def started(request: httpx.Request) -> None:
        request.extensions["vposlab_started"] = time.perf_counter()

    def answered(response: httpx.Response) -> None:
        began = response.request.extensions.get("vposlab_started")
        if began is not None:
            outcome = "ok" if response.status_code < 500 else "server_error"
            OUTBOUND.labels(service_of(str(response.request.url)), outcome).observe(time.perf_counter() - began)

    client.event_hooks["request"].append(started)
    client.event_hooks["response"].append(answered)


class StateCollector(Collector):
    """Gauges read from the database at scrape time."""

    def __init__(self, ctx: GatewayContext) -> None:
        self._ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._ctx.db.session() as session:
            attempts = GaugeMetricFamily("vposlab_attempts", "Payment attempts by state", labels=["state"])
            for state, count in session.execute(select(Attempt.status, func.count()).group_by(Attempt.status)):
                attempts.add_metric([state], count)
            yield attempts
            pending = select(func.count(), func.min(OutboxMessage.created_at)).where(OutboxMessage.state == "pending")
            backlog, oldest = session.execute(pending).one()
            yield GaugeMetricFamily("vposlab_outbox_backlog", "Ecwid updates waiting", value=backlog)
            age = 0.0
            if oldest is not None:
                oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
                age = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
            yield GaugeMetricFamily(
                "vposlab_outbox_oldest_age_seconds", "Age of the oldest Ecwid update waiting", value=age
            )
            open_exceptions = GaugeMetricFamily(
                "vposlab_operator_exceptions_open", "Operator exceptions not resolved", labels=["code"]
            )
            query = (
                select(OperatorException.code, func.count())
                .where(OperatorException.resolved_at.is_(None))
                .group_by(OperatorException.code)
            )
            for code, count in session.execute(query):
                open_exceptions.add_metric([code], count)
            yield open_exceptions
            refunds = GaugeMetricFamily("vposlab_refunds", "Refunds by state", labels=["state"])
            for state, count in session.execute(select(Refund.status, func.count()).group_by(Refund.status)):
                refunds.add_metric([state], count)
            yield refunds


def render(ctx: GatewayContext) -> bytes:
    """The exposition text: the process's (or, under gunicorn, all processes') counters, then the state gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
    else:
        counted = REGISTRY
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector(ctx))
    return generate_latest(counted) + generate_latest(state)
