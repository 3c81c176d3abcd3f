"""The simulator's whole in-memory world, created by ``create_app`` and kept in ``app.extensions["simulator"]``.

One ``SimulatorState`` per app: configuration (replaceable with ``reconfigure``), virtual clock, journal, the
bank's and Ecwid's order books and the callback dispatcher. Each part has its own lock; the state object only
swaps the configuration under its lock.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, cast

import httpx
from flask import current_app

from simulator.config import SimulatorConfig
from simulator.control.clock import VirtualClock
from simulator.control.journal import Journal
from simulator.control.scheduler import Scheduler
from simulator.ecwid.faults import EcwidFaultBook, RateLimiter
from simulator.ecwid.orders import EcwidOrder, EcwidOrderBook
from simulator.ecwid.payment_request import PaymentRequest, build_payment_request
from simulator.ecwid.webhooks import WebhookDispatcher
from simulator.vpos.callbacks import CallbackDispatcher
from simulator.vpos.faults import FaultBook
from simulator.vpos.orders import BankOrderBook
from simulator.vpos.shapes import ShapeBook

EXTENSION_KEY = "simulator"


class SimulatorState:
    """Everything the simulator remembers; safe to use from the threaded server's request threads."""

    def __init__(self, config: SimulatorConfig, *, http_transport: httpx.BaseTransport | None = None) -> None:
        self._lock = threading.Lock()
        self._config = config
        self.clock = VirtualClock()
        self.scheduler = Scheduler(self.clock)
        self.journal = Journal(self.clock)
        self.bank = BankOrderBook()
        self.ecwid = EcwidOrderBook()
        self.callbacks = CallbackDispatcher(
            journal=self.journal, config=lambda: self.config, scheduler=self.scheduler, transport=http_transport
        )
        self.faults = FaultBook()  # injected bank API faults (/_control/vpos/faults)
        self.shapes = ShapeBook()  # bank response shapes (/_control/vpos/shapes)
        self.ecwid_faults = EcwidFaultBook()  # injected Ecwid orders API faults (/_control/ecwid/faults)
        self.ecwid_rate = RateLimiter()  # Ecwid's per-token rate limit (/_control/ecwid/rate-limit)
        self.ecwid_webhooks = WebhookDispatcher(self.journal, transport=http_transport)  # /_control/ecwid/webhooks

    @property
    def config(self) -> SimulatorConfig:
        with self._lock:
            return self._config

    def reconfigure(self, **changes: Any) -> SimulatorConfig:
        """Replace configuration fields (e.g. ``payment_url``, ``public_url`` once ports are known).

        Accepts the field names of ``SimulatorConfig``; validation is the dataclass's own (ValueError/TypeError).
        Takes effect for every request that starts afterwards.
        """
        with self._lock:
            self._config = dataclasses.replace(self._config, **changes)
            return self._config

    def payment_request(self, store_id: int, order: EcwidOrder) -> PaymentRequest:
        """A fresh encrypted Ecwid payment request for an existing order of a configured store."""
        config = self.config
        store = config.store(store_id)
        if store is None:
            raise LookupError(f"store {store_id} is not configured")
        return build_payment_request(
            store=store,
            order=order,
            book=self.ecwid,
            clock=self.clock,
            public_url=config.public_url,
            payment_url=config.payment_url,
        )

    def reset(self) -> None:
        """Forget all orders, bank orders and journal entries; callback settings and the clock go back to
        their defaults, and scheduled work (delayed callbacks, pending resolutions) is dropped. The configuration is
        kept."""
        self.bank.clear()
        self.ecwid.clear()
        self.journal.clear()
        self.scheduler.clear()
        self.scheduler.set_mode("real")
        self.callbacks.reset()
        self.faults.reset()  # deletes faults, wakes calls sleeping in one
        self.shapes.reset()
        self.ecwid_faults.reset()  # deletes Ecwid faults, wakes calls hanging in one
        self.ecwid_rate.reset()
        self.ecwid_webhooks.reset()
        self.clock.reset()


def current_state() -> SimulatorState:
    """The state of the app handling the current request."""
    return cast(SimulatorState, current_app.extensions[EXTENSION_KEY])
