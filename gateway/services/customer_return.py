"""The customer's return from the bank page. Never trusted: the bank's status of record decides, Ecwid is updated,
and only then is the customer sent to Ecwid's ``returnUrl`` (exactly as received, plus ``errorMsg`` on failure).

"Ecwid is updated" means the session's current Ecwid status has been delivered, whoever delivers it: this request,
a callback's request that got there first, or a worker. The return waits for that (bounded by ``return_wait_s``)
and otherwise shows the self-refreshing processing page, which comes back here.

While the bank still decides (3-D Secure in progress, pending) the customer waits on that page, which refreshes
back here, asking the bank each time; after ``pending_wait_s`` they are released to the store with Ecwid
AWAITING_PAYMENT (never PAID before the bank says paid); the final status follows without them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import select, update

from gateway.domain.errors import ProviderUnavailable, UnknownPayment
from gateway.domain.states import WAITING_STATES, AttemptStatus, EcwidStatus
from gateway.logs import bind_payment
from gateway.provider.identifiers import is_order_number, is_provider_order_id
from gateway.services.confirm import aware, confirm_attempt
from gateway.services.context import GatewayContext
from gateway.services.lifecycle import release_waiting_customer
from gateway.services.messages import decline_message, message
from gateway.services.outbox import ecwid_lacks_status, wait_until_delivered
from gateway.store.models import Attempt

log = logging.getLogger(__name__)

FAILED_MESSAGE_KEYS = {
    AttemptStatus.REGISTERED: "not_completed",
    AttemptStatus.EXPIRED: "timeout",
}


@dataclass(frozen=True)
class ReturnOutcome:
    redirect_url: str | None  # None: show the processing page (or, with ``received``, the payment-received page)
    lang: str
    ecwid_status: str
    received: bool = False  # verified money that Ecwid could not be told about: our own page, never the store's


def handle_return(ctx: GatewayContext, provider_order_id: str | None, attempt_hint: str | None) -> ReturnOutcome:
    if not is_provider_order_id(provider_order_id) or (attempt_hint is not None and not is_order_number(attempt_hint)):
        log.warning("return_unknown_order reason=malformed_or_missing_id")
        raise UnknownPayment("return without a well-formed orderId")  # no lookup: junk never reaches a query
    assert provider_order_id is not None
    with ctx.db.session() as session:
        attempt = session.scalars(select(Attempt).where(Attempt.provider_order_id == provider_order_id)).first()
        if attempt is None or (attempt_hint is not None and attempt_hint != attempt.order_number):
            log.warning("return_unknown_order hint=%s", attempt_hint)
            raise UnknownPayment("return for an unknown bank order")
        attempt_id, session_id = attempt.id, attempt.session_id
        currency, language = attempt.currency, attempt.language
        bind_payment(attempt.session.trace_id)
        lang, current_status = attempt.session.lang, attempt.session.ecwid_status
    try:
        status = ctx.provider.get_status(provider_order_id, currency, language)
    except ProviderUnavailable as exc:
        # No status of record yet: keep the customer on a self-refreshing page rather than guess.
        log.warning("return_status_unavailable attempt_id=%s error=%s", attempt_id, exc)
        return ReturnOutcome(None, lang, current_status)
    confirmation = confirm_attempt(ctx, attempt_id, status, source="return")
    if confirmation.attempt_status in WAITING_STATES and confirmation.ecwid_status == EcwidStatus.INCOMPLETE:
        if not _waited_long_enough(ctx, attempt_id):
            # The bank has not decided: the processing page refreshes back here; Ecwid hears nothing yet.
            return ReturnOutcome(None, lang, confirmation.ecwid_status)
        confirmation = replace(confirmation, ecwid_status=_release(ctx, attempt_id))
    if not wait_until_delivered(ctx, session_id, ctx.settings.return_wait_s):  # Ecwid first, then the customer
        log.warning("return_waits_for_ecwid attempt_id=%s status=%s", attempt_id, confirmation.ecwid_status)
        return ReturnOutcome(None, lang, confirmation.ecwid_status)
    with ctx.db.session() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        return_url, lang = attempt.session.return_url, attempt.session.lang
        action_code = attempt.action_code
    ecwid_status = confirmation.ecwid_status
    if ecwid_status in ("PAID", "AWAITING_PAYMENT") and ecwid_lacks_status(ctx, session_id):
        # Ecwid refused the update for good (an operator exception is open): its page would say "not paid" and
        # invite a second payment. The customer sees that the money arrived; the operators finish the update.
        log.warning("return_payment_received_ecwid_not_updated attempt_id=%s", attempt_id)
        return ReturnOutcome(None, lang, ecwid_status, received=True)
    if ecwid_status in ("PAID", "AWAITING_PAYMENT", "CANCELLED", "REFUNDED", "PARTIALLY_REFUNDED"):
        return ReturnOutcome(return_url, lang, ecwid_status)
    attempt_status = confirmation.attempt_status
    if attempt_status is AttemptStatus.DECLINED:
        text = decline_message(action_code, lang)
    else:
        text = message(FAILED_MESSAGE_KEYS.get(attempt_status, "not_completed"), lang)
    return ReturnOutcome(with_error_message(return_url, text), lang, ecwid_status)


def _waited_long_enough(ctx: GatewayContext, attempt_id: int) -> bool:
    """Remember when the customer first came back while the bank was deciding; True once they have waited
    ``pending_wait_s`` since."""
    now = ctx.clock.now()
    with ctx.db.session() as session, session.begin():
        session.execute(
            update(Attempt)
            .where(Attempt.id == attempt_id, Attempt.customer_returned_at.is_(None))
            .values(customer_returned_at=now)
            .execution_options(synchronize_session=False)
        )
        first_seen = session.scalar(select(Attempt.customer_returned_at).where(Attempt.id == attempt_id))
    assert first_seen is not None
    return now - aware(first_seen) >= timedelta(seconds=ctx.settings.pending_wait_s)


def _release(ctx: GatewayContext, attempt_id: int) -> str:
    """Send the waiting customer on to the store: Ecwid AWAITING_PAYMENT (cart cleared, "thank you"), never PAID;
    the bank's final word reaches Ecwid later through callbacks or the poller."""
    with ctx.db.session() as session, session.begin():
        return release_waiting_customer(session, attempt_id, now=ctx.clock.now())


def with_error_message(return_url: str, text: str) -> str:
    """Ecwid's returnUrl exactly as received, plus ``errorMsg`` (protocols.md 1.4)."""
    separator = "&" if "?" in return_url else "?"
    return f"{return_url}{separator}errorMsg={quote(text, safe='')}"
