"""Bank decisions and what follows them: every status change of a bank order goes through ``decide`` here.

``decide`` calls the one writer (``BankOrderBook.transition``: the table check and the operation record under the
book's lock), then, only when the order did change, does the side effects outside the lock:

- the callback of a payment event (``state.callbacks.dispatch``): paid -> ``deposited`` status 1, held ->
  ``approved`` 1, declined -> ``deposited`` 0, or ``declinedByTimeout`` 0 for an expired session (-2007),
  reversed -> ``reversed`` 1, refunded -> ``refunded`` 1 (the money operations of ``simulator.vpos.money``, which
  name the callback's amount); moving into 3-D Secure (5) or pending (7) sends nothing;
- scheduled work on the virtual clock (``state.scheduler``), tagged ``md_order`` and ``bank``: the session expiry
  of an order the customer still has to act on (registered 0 or at the ACS page 5), due at ``created +
  sessionTimeoutSecs``, and the resolution of a pending order (7); jobs whose state the order has left are cancelled.
  Each job decides through ``decide`` again, so a job that lost a race changes nothing.

Expiry is also noticed lazily (``expire_if_due``, on every read), for a clock that moved without running jobs.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from simulator.state import SimulatorState
from simulator.vpos.callbacks import DispatchResult
from simulator.vpos.cards import ACTION_SESSION_EXPIRED
from simulator.vpos.orders import BankOrder, Transition, UnknownBankOrder
from simulator.vpos.states import AWAITING_CUSTOMER, OrderStatus

log = logging.getLogger(__name__)

JOB_TAG = "bank"
SESSION_JOB = "session-expiry"
PENDING_JOB = "pending"


@dataclass(frozen=True)
class Decision:
    """A transition and the callback it sent (None when nothing changed or the move sends none)."""

    transition: Transition
    callback: DispatchResult | None

    @property
    def order(self) -> BankOrder:
        return self.transition.order

    @property
    def changed(self) -> bool:
        return self.transition.changed


def callback_for(order: BankOrder) -> tuple[str, int] | None:
    """The callback ``(operation, status)`` for the order's current status, or None for a status that sends none."""
    if order.order_status is OrderStatus.DEPOSITED:
        return "deposited", 1
    if order.order_status is OrderStatus.APPROVED:
        return "approved", 1
    if order.order_status is OrderStatus.DECLINED:
        return ("declinedByTimeout", 0) if order.action_code == ACTION_SESSION_EXPIRED else ("deposited", 0)
    if order.order_status is OrderStatus.REVERSED:
        return "reversed", 1
    if order.order_status is OrderStatus.REFUNDED:
        return "refunded", 1
    return None


def decide(
    state: SimulatorState,
    md_order: str,
    to: OrderStatus,
    *,
    operation: str,
    now: datetime | None = None,
    action_code: int | None = None,
    sources: Collection[OrderStatus] | None = None,
    guard: Callable[[BankOrder], bool] | None = None,
    facts: Callable[[BankOrder], None] | None = None,
    background: bool = False,
    callback_amount: Callable[[BankOrder], int] | None = None,
    send_callback: bool = True,
) -> Decision:
    """Move the order to ``to`` through the one writer (see ``BankOrderBook.transition`` for ``sources``, ``guard``,
    ``facts``); when it changed, send the callback (``background``: without waiting for it; ``callback_amount``:
    its ``amount`` read from the changed order, else the order's amount; ``send_callback=False``: none) and keep
    the order's scheduled work in step. Never sends anything for a refused transition. Raises UnknownBankOrder."""
    when = now or state.clock.now()
    transition = state.bank.transition(
        md_order,
        to,
        operation=operation,
        now=when,
        action_code=action_code,
        sources=sources,
        guard=guard,
        facts=facts,
    )
    if not transition.changed:
        return Decision(transition, None)
    order = transition.order
    _cancel_stale_jobs(state, order)
    if order.order_status in AWAITING_CUSTOMER:
        schedule_session_expiry(state, order)
    if order.order_status is OrderStatus.PENDING and order.pending is not None:
        _schedule_pending(state, order)
    callback = callback_for(order) if send_callback else None
    result = None
    if callback is not None:
        amount = callback_amount(order) if callback_amount is not None else None
        result = state.callbacks.dispatch(order, callback[0], callback[1], when, background=background, amount=amount)
    return Decision(transition, result)


def approval_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


# -- session expiry ---------------------------------------------------------------------------------------------


def install(state: SimulatorState) -> None:
    """Schedule the session expiry of every order registered from now on (called once per app)."""
    state.bank.listen(lambda order: schedule_session_expiry(state, order))


def schedule_session_expiry(state: SimulatorState, order: BankOrder) -> None:
    """One job per order at ``created + sessionTimeoutSecs`` (none when one is already waiting)."""
    if state.scheduler.pending(md_order=order.md_order, **{JOB_TAG: SESSION_JOB}):
        return
    md_order = order.md_order
    state.scheduler.at(
        order.expires_at,
        f"session expiry {md_order}",
        lambda: _run_job(lambda: expire(state, md_order)),
        md_order=md_order,
        **{JOB_TAG: SESSION_JOB},
    )


def expire(state: SimulatorState, md_order: str, *, background: bool = False) -> Decision:
    """Decline an order whose session is over while the customer still had to act (registered, or at the ACS
    page): actionCode -2007 and the ``declinedByTimeout`` callback. Changes nothing before the time or for an order
    that moved on."""
    now = state.clock.now()
    return decide(
        state,
        md_order,
        OrderStatus.DECLINED,
        operation="session expired",
        now=now,
        action_code=ACTION_SESSION_EXPIRED,
        sources=AWAITING_CUSTOMER,
        guard=lambda order: order.session_over(now),
        background=background,
    )


def expire_if_due(state: SimulatorState, md_order: str) -> None:
    """Lazy session expiry on any read: the same decision as the scheduled job, its callback sent in the
    background (never blocking the reader). Nothing for an unknown order."""
    order = state.bank.get(md_order)
    if order is None or order.order_status not in AWAITING_CUSTOMER or not order.session_over(state.clock.now()):
        return
    try:
        expire(state, md_order, background=True)
    except UnknownBankOrder:  # reset meanwhile
        return


# -- pending ------------------------------------------------------------------------------------------------------


def _schedule_pending(state: SimulatorState, order: BankOrder) -> None:
    plan = order.pending
    assert plan is not None
    md_order = order.md_order
    state.scheduler.at(
        plan.due,
        f"pending resolution {md_order}",
        lambda: _run_job(lambda: resolve_pending(state, md_order)),
        md_order=md_order,
        **{JOB_TAG: PENDING_JOB},
    )


def resolve_pending(state: SimulatorState, md_order: str) -> Decision | None:
    """A pending order resolves by itself as planned (paid or declined), with its callback."""
    order = state.bank.get(md_order)
    plan = order.pending if order is not None else None
    if plan is None:
        return None
    paid = plan.resolve_to.is_paid

    def facts(target: BankOrder) -> None:
        if target.card is not None:
            target.card.approval_code = approval_code() if paid else ""
            if paid and plan.eci is not None:
                target.card.eci = plan.eci
        target.auth_at = state.clock.now()

    return decide(
        state,
        md_order,
        plan.resolve_to,
        operation="pending resolved",
        action_code=plan.action_code,
        sources={OrderStatus.PENDING},
        guard=lambda target: target.pending is plan,
        facts=facts,
    )


# -- jobs ---------------------------------------------------------------------------------------------------------


def _cancel_stale_jobs(state: SimulatorState, order: BankOrder) -> None:
    stale = []
    if order.order_status not in AWAITING_CUSTOMER:
        stale += state.scheduler.pending(md_order=order.md_order, **{JOB_TAG: SESSION_JOB})
    if order.order_status is not OrderStatus.PENDING:
        stale += state.scheduler.pending(md_order=order.md_order, **{JOB_TAG: PENDING_JOB})
    for job in stale:
        state.scheduler.cancel(job.seq)


def _run_job(action: Callable[[], object]) -> None:
    """A scheduled decision: an order forgotten meanwhile (reset) is no error."""
    try:
        action()
    except UnknownBankOrder:
        log.info("scheduled bank job for an order that no longer exists")
