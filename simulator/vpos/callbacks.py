"""Server-to-server callbacks from the bank to the merchant (protocols.md 2.8).

After a payment decision the bank calls the order's ``dynamicCallbackUrl`` (else the configured callback URL)
with ``mdOrder, orderNumber, operation, status, amount, callbackCreationDate`` and, when a key is configured,
``checksum``. Delivery modes (``PUT /_control/vpos/callbacks``):

- ``immediate``: delivered synchronously before the customer's browser is redirected, so its effects are
  visible when the customer returns; at most ~5 s of the redirect is spent on it, remaining retries continue in
  the background;
- ``none``: never sent (the gateway must cope through the return and polling);
- ``after_return``: sent from a background thread ``after_return_delay`` seconds after the redirect.

A non-200 answer (or a network error) is retried up to 3 times. Every attempt is journaled (URL without our
parameters, parameters with the checksum redacted, HTTP status or error). Background threads never raise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, get_args
from urllib.parse import urlencode

import httpx

from simulator.config import SimulatorConfig
from simulator.control.journal import Journal
from simulator.vpos.checksum import sign
from simulator.vpos.orders import BankOrder

CallbackMode = Literal["immediate", "none", "after_return"]
CALLBACK_MODES: tuple[str, ...] = get_args(CallbackMode)
MAX_RETRIES = 3
IMMEDIATE_BUDGET_SECONDS = 5.0
_ATTEMPT_TIMEOUT_SECONDS = 2.0
_YEREVAN = timezone(timedelta(hours=4), "AMT")


def callback_creation_date(now: datetime) -> str:
    """Java ``Date.toString()`` style, as BPC sends it: ``Mon Jun 30 18:20:05 AMT 2025``."""
    return now.astimezone(_YEREVAN).strftime("%a %b %d %H:%M:%S AMT %Y")


@dataclass(frozen=True)
class CallbackJob:
    url: str
    method: str
    params: dict[str, str]
    """Everything sent, including ``checksum`` when signed."""


@dataclass(frozen=True)
class DispatchResult:
    """What happened to a callback by the time ``dispatch`` returned."""

    outcome: Literal["delivered", "failed", "scheduled", "disabled", "no_url"]
    attempts: int = 0
    last_status: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "attempts": self.attempts, "lastStatus": self.last_status}


class CallbackDispatcher:
    """Builds, signs and delivers callbacks according to the current mode."""

    def __init__(
        self,
        *,
        journal: Journal,
        config: Callable[[], SimulatorConfig],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._journal = journal
        self._config = config
        self._lock = threading.Lock()
        self._mode: CallbackMode = "immediate"
        self._after_return_delay = 0.5
        self._retry_delay = 1.0
        self._generation = 0
        # An injected transport (tests: httpx.WSGITransport) is shared by one long-lived client; otherwise each
        # attempt opens and closes its own client so no socket outlives the delivery.
        self._shared_client = httpx.Client(transport=transport) if transport is not None else None

    # -- settings ---------------------------------------------------------------------------------------

    @property
    def mode(self) -> CallbackMode:
        with self._lock:
            return self._mode

    def settings(self) -> dict[str, Any]:
        with self._lock:
            return {
                "mode": self._mode,
                "afterReturnDelaySeconds": self._after_return_delay,
                "retryDelaySeconds": self._retry_delay,
                "maxRetries": MAX_RETRIES,
            }

    def configure(
        self,
        *,
        mode: CallbackMode | None = None,
        after_return_delay: float | None = None,
        retry_delay: float | None = None,
    ) -> None:
        with self._lock:
            if mode is not None:
                self._mode = mode
            if after_return_delay is not None:
                self._after_return_delay = after_return_delay
            if retry_delay is not None:
                self._retry_delay = retry_delay

    def reset(self) -> None:
        """Back to defaults; callbacks still pending in background threads are dropped."""
        with self._lock:
            self._mode = "immediate"
            self._after_return_delay = 0.5
            self._retry_delay = 1.0
            self._generation += 1

    # -- dispatch ---------------------------------------------------------------------------------------

    def build(self, order: BankOrder, operation: str, status: int, now: datetime) -> CallbackJob | None:
        """The callback for ``order``, or None when no callback URL is known."""
        config = self._config()
        url = order.dynamic_callback_url or config.callback_url
        if not url:
            return None
        params = {
            "mdOrder": order.md_order,
            "orderNumber": order.order_number,
            "operation": operation,
            "status": str(status),
            "amount": str(order.amount),
            "callbackCreationDate": callback_creation_date(now),
        }
        if config.callback_key is not None:
            params["checksum"] = sign(params, config.callback_key)
        return CallbackJob(url=url, method=config.callback_method, params=params)

    def dispatch(
        self, order: BankOrder, operation: str, status: int, now: datetime, *, background: bool = False
    ) -> DispatchResult:
        """Send the callback for a decision per the current mode; ``background`` forces asynchronous sending.

        Never raises: delivery problems are journaled, not propagated to the customer's page.
        """
        with self._lock:
            mode, delay, generation = self._mode, self._after_return_delay, self._generation
        if mode == "none":
            return DispatchResult("disabled")
        job = self.build(order, operation, status, now)
        if job is None:
            return DispatchResult("no_url")
        if mode == "after_return" or background:
            self._start_background(job, first_attempt=1, delay=delay if mode == "after_return" else 0.0)
            return DispatchResult("scheduled")
        deadline = time.monotonic() + IMMEDIATE_BUDGET_SECONDS
        attempt, last_status = 0, None
        while attempt <= MAX_RETRIES:
            remaining = deadline - time.monotonic()
            if remaining < 0.2:
                break
            attempt += 1
            last_status = self._attempt(job, attempt, min(_ATTEMPT_TIMEOUT_SECONDS, remaining), generation)
            if last_status == 200:
                return DispatchResult("delivered", attempt, last_status)
            if attempt <= MAX_RETRIES:
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        if attempt <= MAX_RETRIES:
            self._start_background(job, first_attempt=attempt + 1, delay=self._retry_delay)
            return DispatchResult("scheduled", attempt, last_status)
        return DispatchResult("failed", attempt, last_status)

    def _start_background(self, job: CallbackJob, *, first_attempt: int, delay: float) -> None:
        with self._lock:
            generation = self._generation
        thread = threading.Thread(
            target=self._run_background,
            args=(job, first_attempt, delay, generation),
            name=f"sim-callback-{job.params.get('mdOrder', '')[:8]}",
            daemon=True,
        )
        thread.start()

    def _run_background(self, job: CallbackJob, first_attempt: int, delay: float, generation: int) -> None:
        try:
            time.sleep(delay)
            for attempt in range(first_attempt, MAX_RETRIES + 2):
                if self._stale(generation):
                    return
                if self._attempt(job, attempt, _ATTEMPT_TIMEOUT_SECONDS, generation) == 200:
                    return
                with self._lock:
                    retry_delay = self._retry_delay
                time.sleep(retry_delay)
        except Exception as exc:  # a background thread must never raise
            self._journal.record(
                direction="out",
                service="vpos",
                method=job.method,
                path=job.url,
                operation="callback",
                status=None,
                params=job.params,
                summary=f"callback thread failed: {type(exc).__name__}",
            )

    def _stale(self, generation: int) -> bool:
        with self._lock:
            return generation != self._generation

    def _attempt(self, job: CallbackJob, attempt: int, timeout: float, generation: int) -> int | None:
        """One HTTP call; returns the status code or None on a network error. Journals the attempt."""
        if self._stale(generation):
            return None
        status: int | None = None
        error = ""
        try:
            status = self._send(job, timeout)
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        operation = job.params.get("operation", "")
        outcome = str(status) if status is not None else f"error {error}"
        self._journal.record(
            direction="out",
            service="vpos",
            method=job.method,
            path=job.url,
            operation="callback",
            status=status,
            params=job.params,
            summary=(
                f"{operation} status={job.params.get('status')} mdOrder={job.params.get('mdOrder')} "
                f"attempt {attempt}/{MAX_RETRIES + 1} -> {outcome}"
            ),
        )
        return status

    def _send(self, job: CallbackJob, timeout: float) -> int:
        timeouts = httpx.Timeout(timeout, connect=min(1.0, timeout))
        if self._shared_client is not None:
            return self._request(self._shared_client, job, timeouts)
        with httpx.Client() as client:
            return self._request(client, job, timeouts)

    @staticmethod
    def _request(client: httpx.Client, job: CallbackJob, timeouts: httpx.Timeout) -> int:
        if job.method == "POST":
            response = client.post(job.url, data=job.params, timeout=timeouts)
        else:
            # Append to the URL's own query (httpx's ``params=`` would replace it).
            separator = "&" if "?" in job.url else "?"
            response = client.get(f"{job.url}{separator}{urlencode(job.params)}", timeout=timeouts)
        return response.status_code
