"""The background worker: relays the Ecwid outbox and polls open attempts, pass after pass.

Each unit of work fails alone inside ``relay`` and ``poll_open_attempts`` (house rule 16); a pass that fails as a
whole (the database is down) is logged and the next pass tries again, so one bad row or one outage never stops
Ecwid updates for every store.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from gateway.services.context import GatewayContext
from gateway.services.outbox import RelayResult, relay
from gateway.services.poller import PollResult, poll_open_attempts

log = logging.getLogger("gateway.worker")


@dataclass(frozen=True)
class PassResult:
    relay: RelayResult | None
    poll: PollResult | None


def run_pass(ctx: GatewayContext) -> PassResult:
    """One poll, then one relay (so what the poll found reaches Ecwid in the same pass); an error in either is
    logged and does not prevent the other."""
    relayed: RelayResult | None = None
    polled: PollResult | None = None
    try:
        polled = poll_open_attempts(ctx)
    except Exception:
        log.exception("worker_poll_pass_failed")
    try:
        relayed = relay(ctx)
    except Exception:
        log.exception("worker_relay_pass_failed")
    log.info(
        "worker_pass sent=%s retried=%s failed=%s relay_errors=%s checked=%s changed=%s poll_errors=%s",
        *(getattr(relayed, f, "-") for f in ("sent", "retried", "failed", "errors")),
        *(getattr(polled, f, "-") for f in ("checked", "changed", "failed")),
    )
    return PassResult(relayed, polled)


def run_forever(ctx: GatewayContext, *, interval_s: float, stop: threading.Event | None = None) -> None:
    """Passes every ``interval_s`` until ``stop`` is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        run_pass(ctx)
        stop.wait(interval_s)
