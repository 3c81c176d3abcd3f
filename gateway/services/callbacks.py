"""Bank callbacks: a verified hint, never proof. Checksum over the raw parameters first, then the status of record,
then the transition. The caller answers 200 only after this returns (the commit happened inside)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import or_, select

from gateway.domain.confirmation import callback_is_news
from gateway.domain.errors import BadChecksum, UnknownPayment
from gateway.domain.states import AttemptStatus
from gateway.logs import bind_payment
from gateway.provider.checksum import verify_checksum
from gateway.provider.identifiers import callback_ids_well_formed
from gateway.services.confirm import Confirmation, confirm_attempt
from gateway.services.context import GatewayContext
from gateway.services.journal import raise_exception
from gateway.services.outbox import relay
from gateway.store.models import Attempt

log = logging.getLogger(__name__)


def handle_callback(ctx: GatewayContext, params: Mapping[str, str]) -> Confirmation:
    key = ctx.settings.callback_key
    if key is not None and not verify_checksum(params, key.get_secret_value()):
        log.warning("callback_rejected reason=bad_checksum mdOrder=%s", params.get("mdOrder", "")[:64])
        raise BadChecksum("callback checksum missing or wrong")
    if not callback_ids_well_formed(params):
        log.warning("callback_unknown_order reason=malformed_id")
        raise UnknownPayment("callback with a malformed id")  # no lookup: junk never reaches a query
    md_order, order_number = params.get("mdOrder"), params.get("orderNumber")
    with ctx.db.session() as session:
        conditions = []
        if md_order:
            conditions.append(Attempt.provider_order_id == md_order)
        if order_number:
            conditions.append(Attempt.order_number == order_number)
        attempt = session.scalars(select(Attempt).where(or_(*conditions))).first() if conditions else None
        if attempt is None or attempt.provider_order_id is None or (md_order and attempt.provider_order_id != md_order):
            log.warning("callback_unknown_order mdOrder=%s", (md_order or "")[:64])
            if key is not None and params.get("status") == "1":
                _unknown_order_exception(ctx, params)
            raise UnknownPayment("callback for an unknown bank order")
        attempt_id, session_id = attempt.id, attempt.session_id
        provider_order_id, currency, language = attempt.provider_order_id, attempt.currency, attempt.language
        bind_payment(attempt.session.trace_id)
        current, ecwid_status = AttemptStatus(attempt.status), attempt.session.ecwid_status
    assert provider_order_id is not None  # checked above
    operation = params.get("operation", "")[:32]
    if not callback_is_news(operation, current):
        # A replay (or a duplicate) of what we already know: no bank call, so replays cost nothing.
        log.info("callback_already_known attempt_id=%s operation=%s state=%s", attempt_id, operation, current)
        return Confirmation(current, ecwid_status, changed=False)
    log.info("callback_received attempt_id=%s operation=%s", attempt_id, operation)
    status = ctx.provider.get_status(provider_order_id, currency, language)
    confirmation = confirm_attempt(ctx, attempt_id, status, source=f"callback:{operation}")
    try:
        relay(ctx, session_id=session_id)
    except Exception:  # the state is committed; the worker's relay will deliver it
        log.exception("relay_after_callback_failed session=%s", session_id)
    return confirmation


def _unknown_order_exception(ctx: GatewayContext, params: Mapping[str, str]) -> None:
    """A callback signed with our key about money on a bank order we never registered (another system sharing the
    credentials, a restored database...): never silently ignored, a person looks at it. One per bank order."""
    md_order, order_number = params.get("mdOrder", "")[:64], params.get("orderNumber", "")[:32]
    detail = (
        f"the bank reports {params.get('operation', '')[:32]} for mdOrder {md_order} orderNumber {order_number}, "
        "which this gateway never registered"
    )
    with ctx.db.session() as session, session.begin():
        raise_exception(session, "payment_for_unknown_order", detail, ctx.clock.now(), match_detail=True)
