"""Server-to-server callbacks from the bank to the merchant (protocols.md 2.8), under a test's control.

After a payment decision the bank calls the order's ``dynamicCallbackUrl`` (else the configured callback URL)
with ``mdOrder, orderNumber, operation, status, amount, callbackCreationDate`` and, when a key is configured,
``checksum``. How it does so follows a ``CallbackPolicy``: the defaults, overlaid by per-order rules (by
``mdOrder``), overlaid by one-off rules of an injected callback.

Modes:

- ``immediate`` (default): the first attempt is made synchronously, before the customer's browser is redirected,
  so its effects are visible when the customer returns; retries are scheduled;
- ``after_return``: a scheduler job ``delay_seconds`` of virtual time after the decision;
- ``hold``: kept pending until the control API delivers, releases, reorders or drops it;
- ``none``: dropped (kept as a ``dropped`` callback, so it can still be replayed later).

A policy also says how many identical copies to send (``times``, each its own callback with its own id; at once
in threads when ``concurrent``), the HTTP method, whether ``amount`` is included, whether the checksum is wrong on
purpose, and the retry schedule: a non-200 answer (or a network error) is retried every
``retry_interval_seconds`` of virtual time, ``retry_times`` times. Every delay and retry is a job of the
simulator's scheduler, so ``POST /_control/clock/advance`` drives them and tests never sleep.

Every callback has an id and keeps its parameters exactly as sent (checksum included), its attempts and its state::

    held ----------+                    +--> delivered (200)
                   +--> sending --------+--> scheduled (retry due) --> sending ...
    scheduled -----+                    +--> failed (no retry left)
    held / scheduled --> dropped

Pending callbacks (held or scheduled) stand in a queue per order: ``release`` sends them in queue order (or in a
given order), ``move`` changes the queue (scheduled ones trade due times, so they go out in the new order).
Every attempt is journaled (operation ``callback``, the parameters with the checksum redacted, mdOrder and
orderNumber among them), as are callbacks held or dropped. Nothing here ever raises into the customer's page.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, get_args
from urllib.parse import urlencode

import httpx

from simulator.config import SimulatorConfig
from simulator.control.journal import Journal
from simulator.control.scheduler import Scheduler
from simulator.errors import BadInput, Conflict, NotFound
from simulator.vpos.checksum import sign, wrong_checksum
from simulator.vpos.orders import BankOrder

CallbackMode = Literal["immediate", "none", "after_return", "hold"]
CALLBACK_MODES: tuple[str, ...] = get_args(CallbackMode)
CallbackState = Literal["held", "scheduled", "sending", "delivered", "failed", "dropped"]
PENDING_STATES = frozenset({"held", "scheduled"})
OPERATIONS = ("approved", "deposited", "reversed", "refunded", "declinedByTimeout")
"""Callback operations of protocols.md 2.8 (``approved`` = held funds)."""
MAX_RETRIES = 3
"""The default retry count (BPC: every 30 s, 3 times)."""
ATTEMPT_TIMEOUT_SECONDS = 5.0
MAX_TIMES = 20
MAX_RETRY_TIMES = 10
MAX_DELAY_SECONDS = 86_400.0
_MAX_RECORDS = 10_000
_YEREVAN = timezone(timedelta(hours=4), "AMT")

# Policy attribute -> control API name; the retry fields live in a nested "retry" object.
_TOP_FIELDS = {
    "mode": "mode",
    "delay_seconds": "delaySeconds",
    "times": "times",
    "concurrent": "concurrent",
    "method": "method",
    "include_amount": "includeAmount",
    "bad_checksum": "badChecksum",
}
_RETRY_FIELDS = {"retry_interval_seconds": "intervalSeconds", "retry_times": "times"}


def callback_creation_date(now: datetime) -> str:
    """Java ``Date.toString()`` style, as BPC sends it: ``Mon Jun 30 18:20:05 AMT 2025``."""
    return now.astimezone(_YEREVAN).strftime("%a %b %d %H:%M:%S AMT %Y")


@dataclass(frozen=True)
class CallbackPolicy:
    """How the bank sends a callback. ``method`` None: the configured ``callback_method``."""

    mode: CallbackMode = "immediate"
    delay_seconds: float = 0.5
    """Used by ``after_return``: virtual seconds after the decision."""
    times: int = 1
    concurrent: bool = False
    method: str | None = None
    include_amount: bool = True
    bad_checksum: bool = False
    retry_interval_seconds: float = 30.0
    retry_times: int = MAX_RETRIES

    def with_rules(self, rules: Mapping[str, Any]) -> CallbackPolicy:
        """This policy with ``rules`` (policy attribute -> value) applied; None values are ignored."""
        return dataclasses.replace(self, **{name: value for name, value in rules.items() if value is not None})

    def to_json(self) -> dict[str, Any]:
        return rules_json(dataclasses.asdict(self))


POLICY_FIELDS = frozenset(field.name for field in dataclasses.fields(CallbackPolicy))


def rules_json(rules: Mapping[str, Any]) -> dict[str, Any]:
    """Control API view of (some) policy attributes: camelCase names, retry fields nested under ``retry``."""
    body = {name: rules[attr] for attr, name in _TOP_FIELDS.items() if attr in rules}
    retry = {name: rules[attr] for attr, name in _RETRY_FIELDS.items() if attr in rules}
    if retry:
        body["retry"] = retry
    return body


@dataclass(frozen=True)
class Attempt:
    number: int
    at: datetime
    http_status: int | None
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return {"attempt": self.number, "at": self.at.isoformat(), "httpStatus": self.http_status, "error": self.error}


@dataclass(eq=False)
class Callback:
    """One callback the bank created: what it sends (fixed) and what happened to it (changes under the lock)."""

    id: int
    md_order: str
    order_number: str
    operation: str
    url: str
    method: str
    params: dict[str, str]
    """Exactly what is sent, ``checksum`` included."""
    created_at: datetime
    max_attempts: int
    retry_interval_seconds: float
    group: int
    """The dispatch it came from: concurrent copies of one group that fall due together go out together."""
    concurrent: bool
    bad_checksum: bool
    replay_of: int | None = None
    duplicate_of: int | None = None
    state: CallbackState = "held"
    due: datetime | None = None
    attempts: list[Attempt] = field(default_factory=list)
    job_id: int | None = None
    token: int = 0
    """Bumped whenever a scheduled job stops standing for this callback (so a stale job does nothing)."""

    def summary(self, suffix: str) -> str:
        notes = []
        if self.bad_checksum:
            notes.append("bad checksum")
        if "amount" not in self.params:
            notes.append("no amount")
        if self.replay_of is not None:
            notes.append(f"replay of #{self.replay_of}")
        if self.duplicate_of is not None:
            notes.append(f"copy of #{self.duplicate_of}")
        text = f"{self.operation} status={self.params.get('status')} mdOrder={self.md_order} #{self.id} {suffix}"
        return f"{text} ({', '.join(notes)})" if notes else text


@dataclass(frozen=True)
class DispatchResult:
    """What happened to a decision's callback(s) by the time ``dispatch`` returned."""

    outcome: Literal["delivered", "failed", "scheduled", "held", "disabled", "no_url"]
    attempts: int = 0
    last_status: int | None = None
    callback_ids: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "attempts": self.attempts,
            "lastStatus": self.last_status,
            "callbackIds": list(self.callback_ids),
        }


class CallbackDispatcher:
    """Builds, signs, holds, schedules and delivers callbacks; the one owner of every callback's state."""

    def __init__(
        self,
        *,
        journal: Journal,
        config: Callable[[], SimulatorConfig],
        scheduler: Scheduler,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._journal = journal
        self._config = config
        self._scheduler = scheduler
        self._lock = threading.Lock()
        self._defaults = CallbackPolicy()
        self._rules: dict[str, dict[str, Any]] = {}
        self._records: dict[int, Callback] = {}
        self._queues: dict[str, list[int]] = {}
        self._ids = itertools.count(1)  # never restarts, so an id from before a reset is simply unknown
        self._groups = itertools.count(1)
        self._generation = 0
        # An injected transport (tests: httpx.WSGITransport) is shared by one long-lived client; otherwise each
        # attempt opens and closes its own client so no socket outlives the delivery.
        self._shared_client = httpx.Client(transport=transport) if transport is not None else None

    # -- policies ---------------------------------------------------------------------------------------------

    @property
    def mode(self) -> CallbackMode:
        with self._lock:
            return self._defaults.mode

    def defaults(self) -> CallbackPolicy:
        with self._lock:
            return self._defaults

    def settings(self) -> dict[str, Any]:
        """The defaults as the control API shows them."""
        return self.defaults().to_json()

    def configure(self, **rules: Any) -> CallbackPolicy:
        """Change the defaults (policy attribute names); None restores an attribute's built-in default."""
        _check_names(rules)
        builtin = CallbackPolicy()
        changes = {name: getattr(builtin, name) if value is None else value for name, value in rules.items()}
        with self._lock:
            self._defaults = dataclasses.replace(self._defaults, **changes)
            return self._defaults

    def rules(self, md_order: str) -> dict[str, Any]:
        """The order's own rules (policy attribute -> value); the defaults fill in the rest."""
        with self._lock:
            return dict(self._rules.get(md_order, {}))

    def set_rules(self, md_order: str, rules: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``rules`` into the order's rules; a None value removes that rule (back to the default)."""
        _check_names(rules)
        with self._lock:
            merged = dict(self._rules.get(md_order, {}))
            for name, value in rules.items():
                if value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = value
            if merged:
                self._rules[md_order] = merged
            else:
                self._rules.pop(md_order, None)
            return dict(merged)

    def clear_rules(self, md_order: str) -> None:
        with self._lock:
            self._rules.pop(md_order, None)

    def effective(self, md_order: str, extra: Mapping[str, Any] | None = None) -> CallbackPolicy:
        """Defaults, then the order's rules, then ``extra`` (one-off rules)."""
        with self._lock:
            policy = self._defaults.with_rules(self._rules.get(md_order, {}))
        return policy.with_rules(extra or {})

    def reset(self) -> None:
        """Defaults back, order rules forgotten, pending callbacks dropped, history cleared (ids keep counting);
        an attempt in flight over the network records nothing afterwards."""
        with self._lock:
            self._generation += 1
            for callback in self._records.values():
                if callback.job_id is not None:
                    self._scheduler.cancel(callback.job_id)
            self._defaults = CallbackPolicy()
            self._rules.clear()
            self._records.clear()
            self._queues.clear()

    # -- dispatch ---------------------------------------------------------------------------------------------

    def dispatch(
        self,
        order: BankOrder,
        operation: str,
        status: int,
        now: datetime,
        *,
        background: bool = False,
        rules: Mapping[str, Any] | None = None,
        amount: int | None = None,
    ) -> DispatchResult:
        """Create the callback(s) for a decision and act on them per the order's policy.

        ``background`` never sends before returning (an immediate callback is scheduled at once instead), for
        callers that must not wait; ``rules`` are one-off rules; ``amount`` replaces the order's amount.
        Never raises: delivery problems are journaled, not propagated to the customer's page.
        """
        config = self._config()
        url = order.dynamic_callback_url or config.callback_url
        if not url:
            return DispatchResult("no_url")
        policy = self.effective(order.md_order, rules)
        params = build_params(
            order,
            operation,
            status,
            now,
            amount=order.amount if amount is None else amount,
            include_amount=policy.include_amount,
            key=config.callback_key,
            bad_checksum=policy.bad_checksum,
        )
        with self._lock:
            generation = self._generation
            group = next(self._groups)
            batch = [
                self._add_locked(
                    Callback(
                        id=next(self._ids),
                        md_order=order.md_order,
                        order_number=order.order_number,
                        operation=operation,
                        url=url,
                        method=policy.method or config.callback_method,
                        params=params,
                        created_at=now,
                        max_attempts=1 + policy.retry_times,
                        retry_interval_seconds=policy.retry_interval_seconds,
                        group=group,
                        concurrent=policy.concurrent,
                        bad_checksum=policy.bad_checksum,
                        state="sending",
                    )
                )
                for _ in range(policy.times)
            ]
            ids = tuple(callback.id for callback in batch)
            if policy.mode == "none":
                for callback in batch:
                    callback.state = "dropped"
                    self._journal_event_locked(callback, "callback dropped", "dropped (mode none)")
                return DispatchResult("disabled", callback_ids=ids)
            if policy.mode == "hold":
                for callback in batch:
                    callback.state = "held"
                    self._enqueue_locked(callback)
                    self._journal_event_locked(callback, "callback held", "held until released")
                return DispatchResult("held", callback_ids=ids)
            if policy.mode == "after_return" or background:
                delay = policy.delay_seconds if policy.mode == "after_return" else 0.0
                due = self._scheduler.clock.now() + timedelta(seconds=delay)
                for callback in batch:
                    self._schedule_locked(callback, due)
                return DispatchResult("scheduled", callback_ids=ids)
        statuses = self._send_batch(batch, concurrent=policy.concurrent, generation=generation)
        with self._lock:
            states = {callback.state for callback in batch}
        if states == {"delivered"}:
            outcome: Literal["delivered", "failed", "scheduled"] = "delivered"
        elif "scheduled" in states:
            outcome = "scheduled"
        else:
            outcome = "failed"
        return DispatchResult(outcome, len(statuses), statuses[-1] if statuses else None, ids)

    # -- reading ----------------------------------------------------------------------------------------------

    def get(self, callback_id: int) -> dict[str, Any]:
        """One callback (any state); NotFound for an unknown id."""
        with self._lock:
            return self._json_locked(self._require_locked(callback_id))

    def callbacks(
        self, *, md_order: str | None = None, order_number: str | None = None, sent_only: bool = False
    ) -> list[dict[str, Any]]:
        """Callbacks oldest first, optionally of one order and only those sent at least once."""
        with self._lock:
            return [
                self._json_locked(callback)
                for callback in self._records.values()
                if (md_order is None or callback.md_order == md_order)
                and (order_number is None or callback.order_number == order_number)
                and (callback.attempts or not sent_only)
            ]

    def pending(self, *, md_order: str | None = None, order_number: str | None = None) -> list[dict[str, Any]]:
        """Held and scheduled callbacks per order (orders by their oldest pending callback), in queue order."""
        with self._lock:
            orders = []
            for key, queue in self._queues.items():
                callbacks = [self._records[callback_id] for callback_id in queue]
                number = callbacks[0].order_number
                if (md_order is None or key == md_order) and (order_number is None or number == order_number):
                    orders.append(
                        {
                            "mdOrder": key,
                            "orderNumber": number,
                            "callbacks": [self._json_locked(callback) for callback in callbacks],
                        }
                    )
            return orders

    # -- acting on callbacks ----------------------------------------------------------------------------------

    def deliver(self, callback_id: int) -> dict[str, Any]:
        """Send a pending callback now (one attempt; a failure schedules its next retry, if any is left)."""
        with self._lock:
            callback = self._require_pending_locked(callback_id, "deliver; replay it instead")
            self._claim_locked(callback)
            generation = self._generation
        self._attempt(callback, generation)
        with self._lock:
            return self._json_locked(callback)

    def drop(self, callback_id: int) -> dict[str, Any]:
        """A pending callback is never sent (a replay can still send it later)."""
        with self._lock:
            callback = self._require_pending_locked(callback_id, "drop")
            self._claim_locked(callback)
            callback.state = "dropped"
            self._journal_event_locked(callback, "callback dropped", "dropped by the control API")
            return self._json_locked(callback)

    def duplicate(self, callback_id: int, times: int = 1) -> list[dict[str, Any]]:
        """``times`` identical copies of a pending callback, right after it in the queue, in the same state (a
        scheduled one's copies fall due at the same time)."""
        with self._lock:
            original = self._require_pending_locked(callback_id, "duplicate; replay it instead")
            queue = self._queues[original.md_order]
            index = queue.index(original.id)
            copies = []
            for offset in range(1, times + 1):
                copy = self._add_locked(
                    dataclasses.replace(
                        original,
                        id=next(self._ids),
                        params=dict(original.params),
                        duplicate_of=original.id,
                        attempts=[],
                        job_id=None,
                        token=0,
                        state="held",
                        due=None,
                    )
                )
                queue.insert(index + offset, copy.id)
                if original.state == "scheduled" and original.due is not None:
                    self._schedule_locked(copy, original.due)
                copies.append(copy)
            return [self._json_locked(copy) for copy in copies]

    def move(self, callback_id: int, position: int) -> dict[str, Any]:
        """Put a pending callback at ``position`` (0-based) of its order's queue. Scheduled callbacks in the queue
        then trade due times so they go out in queue order (the set of due times stays the same)."""
        with self._lock:
            callback = self._require_pending_locked(callback_id, "move")
            queue = self._queues[callback.md_order]
            if not 0 <= position < len(queue):
                raise BadInput(f"position must be from 0 to {len(queue) - 1}")
            queue.remove(callback.id)
            queue.insert(position, callback.id)
            scheduled = [self._records[i] for i in queue if self._records[i].state == "scheduled"]
            dues = sorted(c.due for c in scheduled if c.due is not None)
            for member, due in zip(scheduled, dues, strict=True):
                if member.due != due:
                    self._schedule_locked(member, due)
            return self._json_locked(callback)

    def release(self, md_order: str, ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """Send the order's pending callbacks now, one after the other: all in queue order, or exactly ``ids`` in
        that order (the others stay pending). One attempt each; failures retry on their schedule."""
        with self._lock:
            queue = list(self._queues.get(md_order, []))
            if ids is None:
                chosen = queue
            else:
                if len(set(ids)) != len(ids):
                    raise BadInput("ids must not repeat")
                strangers = [str(i) for i in ids if i not in queue]
                if strangers:
                    raise BadInput(f"not pending for order {md_order}: {', '.join(strangers)}")
                chosen = list(ids)
            batch = [self._records[callback_id] for callback_id in chosen]
            for callback in batch:
                self._claim_locked(callback)
            generation = self._generation
        self._send_batch(batch, concurrent=False, generation=generation)
        with self._lock:
            return [self._json_locked(callback) for callback in batch]

    def replay(self, callback_id: int) -> dict[str, Any]:
        """Send any known callback's parameters again, exactly (checksum and creation date included): once, now,
        as a new callback with its own id and no retries."""
        with self._lock:
            original = self._require_locked(callback_id)
            replay = self._add_locked(
                dataclasses.replace(
                    original,
                    id=next(self._ids),
                    params=dict(original.params),
                    created_at=self._scheduler.clock.now(),
                    max_attempts=1,
                    group=next(self._groups),
                    replay_of=original.id,
                    duplicate_of=None,
                    state="sending",
                    due=None,
                    attempts=[],
                    job_id=None,
                    token=0,
                )
            )
            generation = self._generation
        self._attempt(replay, generation)
        with self._lock:
            return self._json_locked(replay)

    # -- internals (the *_locked methods expect self._lock held) ----------------------------------------------

    def _add_locked(self, callback: Callback) -> Callback:
        self._records[callback.id] = callback
        if len(self._records) > _MAX_RECORDS:  # forget the oldest finished callback
            oldest = next(
                (c.id for c in self._records.values() if c.state not in PENDING_STATES and c.state != "sending"),
                None,
            )
            if oldest is not None:
                del self._records[oldest]
        return callback

    def _require_locked(self, callback_id: int) -> Callback:
        callback = self._records.get(callback_id)
        if callback is None:
            raise NotFound(f"unknown callback {callback_id}")
        return callback

    def _require_pending_locked(self, callback_id: int, action: str) -> Callback:
        callback = self._require_locked(callback_id)
        if callback.state not in PENDING_STATES:
            raise Conflict(f"callback {callback_id} is {callback.state}, not pending: cannot {action}")
        return callback

    def _enqueue_locked(self, callback: Callback) -> None:
        queue = self._queues.setdefault(callback.md_order, [])
        if callback.id not in queue:
            queue.append(callback.id)

    def _dequeue_locked(self, callback: Callback) -> None:
        queue = self._queues.get(callback.md_order)
        if queue is not None and callback.id in queue:
            queue.remove(callback.id)
            if not queue:
                del self._queues[callback.md_order]

    def _schedule_locked(self, callback: Callback, due: datetime) -> None:
        """(Re)schedule ``callback``'s next attempt at ``due`` as a scheduler job."""
        if callback.job_id is not None:
            self._scheduler.cancel(callback.job_id)
        callback.token += 1
        callback.state, callback.due = "scheduled", due
        token, callback_id = callback.token, callback.id
        job = self._scheduler.at(
            due,
            f"callback #{callback.id} {callback.operation} attempt {len(callback.attempts) + 1}",
            lambda: self._fire(callback_id, token),
            md_order=callback.md_order,
            order_number=callback.order_number,
            callback_id=str(callback.id),
        )
        callback.job_id = job.seq
        self._enqueue_locked(callback)

    def _claim_locked(self, callback: Callback) -> None:
        """A pending callback leaves the queue to be sent (or dropped); its scheduled job, if any, is cancelled."""
        if callback.job_id is not None:
            self._scheduler.cancel(callback.job_id)
        callback.job_id, callback.due = None, None
        callback.token += 1
        callback.state = "sending"
        self._dequeue_locked(callback)

    def _json_locked(self, callback: Callback) -> dict[str, Any]:
        queue = self._queues.get(callback.md_order, [])
        pending = callback.state in PENDING_STATES
        return {
            "id": callback.id,
            "mdOrder": callback.md_order,
            "orderNumber": callback.order_number,
            "operation": callback.operation,
            "state": callback.state,
            "position": queue.index(callback.id) if callback.id in queue else None,
            "due": callback.due.isoformat() if callback.due is not None else None,
            "nextAttempt": len(callback.attempts) + 1 if pending else None,
            "maxAttempts": callback.max_attempts,
            "url": callback.url,
            "method": callback.method,
            "params": dict(callback.params),
            "badChecksum": callback.bad_checksum,
            "includeAmount": "amount" in callback.params,
            "createdAt": callback.created_at.isoformat(),
            "replayOf": callback.replay_of,
            "duplicateOf": callback.duplicate_of,
            "attempts": [attempt.to_json() for attempt in callback.attempts],
        }

    def _journal_event_locked(self, callback: Callback, operation: str, what: str) -> None:
        self._journal.record(
            direction="out",
            service="vpos",
            method=callback.method,
            path=callback.url,
            operation=operation,
            status=None,
            params=callback.params,
            summary=callback.summary(what),
        )

    def _fire(self, callback_id: int, token: int) -> None:
        """A scheduler job: send the callback if the job still stands for it, with its concurrent siblings."""
        with self._lock:
            callback = self._records.get(callback_id)
            if callback is None or callback.state != "scheduled" or callback.token != token:
                return
            due = callback.due
            batch = [callback]
            if callback.concurrent:
                batch += [
                    self._records[i]
                    for i in self._queues.get(callback.md_order, [])
                    if i != callback.id
                    and self._records[i].group == callback.group
                    and self._records[i].state == "scheduled"
                    and self._records[i].due == due
                ]
            for member in batch:
                self._claim_locked(member)
            generation = self._generation
        self._send_batch(batch, concurrent=len(batch) > 1, generation=generation)

    def _send_batch(self, batch: list[Callback], *, concurrent: bool, generation: int) -> list[int | None]:
        """One attempt for each callback: one after the other, or all at once from threads (started together)."""
        if not concurrent or len(batch) < 2:
            return [self._attempt(callback, generation) for callback in batch]
        statuses: list[int | None] = [None] * len(batch)
        barrier = threading.Barrier(len(batch))

        def run(index: int, callback: Callback) -> None:
            with contextlib.suppress(threading.BrokenBarrierError):  # a broken barrier: send anyway
                barrier.wait(timeout=ATTEMPT_TIMEOUT_SECONDS)
            statuses[index] = self._attempt(callback, generation)

        threads = [
            threading.Thread(target=run, args=(index, callback), name=f"sim-callback-{callback.id}", daemon=True)
            for index, callback in enumerate(batch)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=2 * ATTEMPT_TIMEOUT_SECONDS + 1)
        return statuses

    def _attempt(self, callback: Callback, generation: int) -> int | None:
        """One HTTP call for a callback in state ``sending``; records and journals it, then schedules the next retry
        or settles the state. Returns the HTTP status, None on a network error. Never raises."""
        with self._lock:
            if generation != self._generation:
                return None
            number = len(callback.attempts) + 1
        status: int | None = None
        error: str | None = None
        try:
            status = self._send(callback)
        except Exception as exc:  # a network error, or anything the receiving side raised: journaled, not raised
            error = type(exc).__name__
        with self._lock:
            if generation != self._generation:  # reset while in flight: forget it
                return status
            at = self._scheduler.clock.now()
            callback.attempts.append(Attempt(number, at, status, error))
            if status == 200:
                callback.state = "delivered"
            elif number < callback.max_attempts:
                self._schedule_locked(callback, at + timedelta(seconds=callback.retry_interval_seconds))
            else:
                callback.state = "failed"
            outcome = str(status) if status is not None else f"error {error}"
            self._journal.record(
                direction="out",
                service="vpos",
                method=callback.method,
                path=callback.url,
                operation="callback",
                status=status,
                params=callback.params,
                summary=callback.summary(f"attempt {number}/{callback.max_attempts} -> {outcome}"),
            )
        return status

    def _send(self, callback: Callback) -> int:
        timeouts = httpx.Timeout(ATTEMPT_TIMEOUT_SECONDS, connect=min(1.0, ATTEMPT_TIMEOUT_SECONDS))
        if self._shared_client is not None:
            return _request(self._shared_client, callback, timeouts)
        with httpx.Client() as client:
            return _request(client, callback, timeouts)


def build_params(
    order: BankOrder,
    operation: str,
    status: int,
    now: datetime,
    *,
    amount: int,
    include_amount: bool = True,
    key: str | None = None,
    bad_checksum: bool = False,
) -> dict[str, str]:
    """The callback's parameters, signed with ``key`` (unsigned without one; a wrong checksum when asked)."""
    params = {
        "mdOrder": order.md_order,
        "orderNumber": order.order_number,
        "operation": operation,
        "status": str(status),
    }
    if include_amount:
        params["amount"] = str(amount)
    params["callbackCreationDate"] = callback_creation_date(now)
    if bad_checksum:
        params["checksum"] = wrong_checksum(params, key)
    elif key is not None:
        params["checksum"] = sign(params, key)
    return params


def _check_names(rules: Mapping[str, Any]) -> None:
    unknown = sorted(set(rules) - POLICY_FIELDS)
    if unknown:
        raise TypeError(f"unknown callback policy fields: {', '.join(unknown)}")


def _request(client: httpx.Client, callback: Callback, timeouts: httpx.Timeout) -> int:
    if callback.method == "POST":
        response = client.post(callback.url, data=callback.params, timeout=timeouts)
    else:
        # Append to the URL's own query (httpx's ``params=`` would replace it).
        separator = "&" if "?" in callback.url else "?"
        response = client.get(f"{callback.url}{separator}{urlencode(callback.params)}", timeout=timeouts)
    return response.status_code
