"""The background worker: polls open attempts, follows refunds on their way, relays the Ecwid outbox, pass after
pass.

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
from gateway.services.refunds import resume_refunds

log = logging.getLogger("gateway.worker")


@dataclass(frozen=True)
class PassResult:
    relay: RelayResult | None
    poll: PollResult | None
    refunds: int | None = None  # refunds looked at (resent after a lost answer, or followed until final)


def run_pass(ctx: GatewayContext) -> PassResult:
    """One poll, one round of refunds, then one relay (so what they found reaches Ecwid in the same pass); an
    error in one is logged and does not prevent the others."""
    relayed: RelayResult | None = None
    polled: PollResult | None = None
    refunds: int | None = None
    try:
        polled = poll_open_attempts(ctx)
    except Exception:
        log.exception("worker_poll_pass_failed")
    try:
        refunds = resume_refunds(ctx)
    except Exception:
        log.exception("worker_refund_pass_failed")
    try:
        relayed = relay(ctx)
    except Exception:
        log.exception("worker_relay_pass_failed")
    log.info(
        "worker_pass sent=%s retried=%s failed=%s relay_errors=%s checked=%s changed=%s poll_errors=%s",
        *(getattr(relayed, f, "-") for f in ("sent", "retried", "failed", "errors")),
        *(getattr(polled, f, "-") for f in ("checked", "changed", "failed")),
    )
    return PassResult(relayed, polled, refunds)


def run_forever(ctx: GatewayContext, *, interval_s: float, stop: threading.Event | None = None) -> None:
    """Passes every ``interval_s`` until ``stop`` is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        run_pass(ctx)
        stop.wait(interval_s)
