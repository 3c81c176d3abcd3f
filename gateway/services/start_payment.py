"""Start (or resume) the payment for an Ecwid order: one session per order, one open attempt per session.

Guarantees: a repeated request while an attempt is open returns that attempt's bank page and never registers a
second bank order (a partial UNIQUE index, not only this code); a paid order is never sent to the bank again;
after a declined, expired or failed attempt a new attempt gets a new compact ``orderNumber``.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gateway.domain.errors import InvalidPaymentRequest, ProviderError, ProviderUnavailable
from gateway.domain.money import Money
from gateway.domain.states import OPEN_STATES, SETTLED_PAID_STATES, AttemptStatus
from gateway.ecwid.payment_request import PaymentRequest
from gateway.logs import bind_payment, current_request_id
from gateway.provider.port import Registration
from gateway.services.bank_cancel import DECLINABLE_ORDER_STATUSES, decline_at_bank
from gateway.services.confirm import aware, confirm_attempt
from gateway.services.context import GatewayContext
from gateway.services.journal import record_event
from gateway.services.lifecycle import transition
from gateway.services.outbox import ecwid_lacks_status, wait_until_delivered
from gateway.services.recovery import is_stale_registering, recover_registering
from gateway.store.models import Attempt, PaymentSession

log = logging.getLogger(__name__)

ORDER_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
ORDER_NUMBER_LEN = 12
REGISTERING_WAIT_S = 8.0


@dataclass(frozen=True)
class StartOutcome:
    redirect_url: str
    attempt_order_number: str | None
    reused: bool
    received: bool = False  # already paid, but Ecwid could not be told: show "payment received", never pay again


class RegistrationFailed(Exception):
    """The bank did not register the order; the attempt is closed and the customer may retry."""

    def __init__(self, return_url: str, lang: str, cause: ProviderError) -> None:
        super().__init__(str(cause))
        self.return_url = return_url
        self.lang = lang
        self.cause = cause


def new_order_number() -> str:
    """A compact bank reference (12 chars, ~60 bits): fits every RBS orderNumber limit, safe in URLs."""
    return "V" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(ORDER_NUMBER_LEN - 1))


def start_payment(ctx: GatewayContext, request: PaymentRequest, *, page_view: str) -> StartOutcome:
    session_id = _get_or_create_session(ctx, request)
    for _ in range(5):
        outcome = _resume(ctx, session_id, page_view)
        if outcome is not None:
            return outcome
        attempt_id = _insert_attempt(ctx, session_id, request, page_view)
        if attempt_id is not None:
            return _register(ctx, attempt_id)
    raise RuntimeError("could not settle on an attempt")  # only under pathological contention


def _get_or_create_session(ctx: GatewayContext, request: PaymentRequest) -> int:
    now = ctx.clock.now()
    sealed = ctx.tokens.seal(request.token.get_secret_value())
    lookup = select(PaymentSession).where(
        PaymentSession.store_id == request.store_id,
        PaymentSession.reference_transaction_id == request.reference_transaction_id,
    )
    for _ in range(2):
        with ctx.db.session() as session, session.begin():
            existing = session.scalars(lookup).first()
            if existing is not None:
                if (existing.amount_minor, existing.currency) != (request.amount.minor, request.amount.currency):
                    raise InvalidPaymentRequest("amount or currency differ from the existing payment session")
                # The latest request's returnUrl is the one Ecwid honours (per-request timestamp and key).
                existing.return_url, existing.lang = request.return_url, request.lang
                existing.token_encrypted, existing.updated_at = sealed, now
                bind_payment(existing.trace_id)
                return existing.id
        try:
            with ctx.db.session() as session, session.begin():
                created = PaymentSession(
                    store_id=request.store_id,
                    reference_transaction_id=request.reference_transaction_id,
                    ecwid_order_id=request.ecwid_order_id,
                    ecwid_internal_id=request.ecwid_internal_id,
                    amount_minor=request.amount.minor,
                    currency=request.amount.currency,
                    return_url=request.return_url,
                    lang=request.lang,
                    token_encrypted=sealed,
                    ecwid_status="INCOMPLETE",  # what Ecwid sends with the request
                    trace_id=current_request_id() or uuid.uuid4().hex,
                    created_at=now,
                    updated_at=now,
                )
                session.add(created)
                session.flush()
                record_event(
                    session, created.id, "session_created", now, detail=f"ecwid order {request.ecwid_order_id}"
                )
                bind_payment(created.trace_id)
                log.info("session_created store=%s ecwid_order=%s", request.store_id, request.ecwid_order_id)
                return created.id
        except IntegrityError:
            continue  # a concurrent request created it: read it
    raise RuntimeError("payment session neither found nor created")


def _resume(ctx: GatewayContext, session_id: int, page_view: str) -> StartOutcome | None:
    """The existing state's answer, or None when a new attempt is needed."""
    deadline = time.monotonic() + REGISTERING_WAIT_S
    while True:
        with ctx.db.session() as session:
            payment_session = session.get(PaymentSession, session_id)
            assert payment_session is not None
            attempts = list(
                session.scalars(select(Attempt).where(Attempt.session_id == session_id).order_by(Attempt.attempt_no))
            )
        # Money taken or held ends the payment: never register another bank order (no double charge).
        paid = [a for a in attempts if AttemptStatus(a.status) in SETTLED_PAID_STATES | {AttemptStatus.AUTHORIZED}]
        if paid:
            return _already_paid(ctx, session_id, payment_session.return_url, paid[-1])
        open_attempt = next((a for a in attempts if AttemptStatus(a.status) in OPEN_STATES), None)
        if open_attempt is None:
            return None
        if open_attempt.status == AttemptStatus.REGISTERING:
            if is_stale_registering(ctx, open_attempt):
                _recover_for_customer(ctx, open_attempt, payment_session)
                continue
            if time.monotonic() > deadline:
                raise RegistrationFailed(
                    payment_session.return_url,
                    payment_session.lang,
                    ProviderError("another registration for this order is still in progress"),
                )
            time.sleep(0.1)  # a concurrent request is talking to the bank right now
            continue
        if ctx.clock.now() < aware(open_attempt.expires_at) and open_attempt.form_url:
            log.info("attempt_reused attempt=%s", open_attempt.order_number)
            return StartOutcome(open_attempt.form_url, open_attempt.order_number, reused=True)
        _close_stale_attempt(ctx, open_attempt)


def _already_paid(ctx: GatewayContext, session_id: int, return_url: str, paid: Attempt) -> StartOutcome:
    """Where a customer goes whose order is paid already: to the store only once Ecwid shows the verified status
    (one delivery try now, never a wait: the paymentUrl answers fast). While Ecwid still lacks it (its update is
    being retried), the store would show the order unpaid and invite a second payment, so the customer goes where
    the bank sends a returning customer: our return, which waits for Ecwid on the processing page. An update that
    failed for good: our "payment received" page."""
    delivered = wait_until_delivered(ctx, session_id, 0.0)
    if ecwid_lacks_status(ctx, session_id):
        return StartOutcome(return_url, paid.order_number, reused=True, received=True)
    if not delivered:
        log.info("already_paid_ecwid_pending attempt=%s", paid.order_number)
        back = _gateway_return_url(ctx, paid.order_number) + "&" + urlencode({"orderId": paid.provider_order_id or ""})
        return StartOutcome(back, paid.order_number, reused=True)
    return StartOutcome(return_url, paid.order_number, reused=True)


def _recover_for_customer(ctx: GatewayContext, attempt: Attempt, payment_session: PaymentSession) -> None:
    """A registration that died half-way blocks the order: settle it with the bank before a new attempt."""
    try:
        recover_registering(ctx, attempt.id)
    except ProviderError as exc:
        log.warning("registering_recovery_failed attempt=%s error=%s", attempt.order_number, exc)
        raise RegistrationFailed(payment_session.return_url, payment_session.lang, exc) from exc


def _close_stale_attempt(ctx: GatewayContext, attempt: Attempt) -> None:
    """The bank session is over by our clock (or we never got its page): ask the bank (it may have been paid!)
    before moving on; an order it still reports as unpaid expires. One the bank still shows at the 3-D Secure step
    after its own timeout expires too: a payment that lands later becomes an operator exception, never lost."""
    if attempt.provider_order_id is None:
        raise RuntimeError(f"open attempt {attempt.order_number} has no bank order id")
    status = ctx.provider.get_status(attempt.provider_order_id, attempt.currency, attempt.language)
    if status.order_status in DECLINABLE_ORDER_STATUSES and not decline_at_bank(
        ctx,
        attempt_id=attempt.id,
        session_id=attempt.session_id,
        provider_order_id=attempt.provider_order_id,
        order_number=attempt.order_number,
        currency=attempt.currency,
        reason="the customer starts a new attempt",
    ):
        # The bank would not decline it: it completed meanwhile (perhaps paid). Its status of record decides.
        status = ctx.provider.get_status(attempt.provider_order_id, attempt.currency, attempt.language)
    confirmation = confirm_attempt(ctx, attempt.id, status, source="resume", expire_unpaid=True)
    if confirmation.attempt_status in OPEN_STATES:
        with ctx.db.session() as session, session.begin():
            transition(
                session,
                attempt.id,
                AttemptStatus.EXPIRED,
                now=ctx.clock.now(),
                source="resume",
                detail=f"session timeout passed, bank reports orderStatus {status.order_status}",
            )


def _insert_attempt(ctx: GatewayContext, session_id: int, request: PaymentRequest, page_view: str) -> int | None:
    now = ctx.clock.now()
    try:
        with ctx.db.session() as session, session.begin():
            number = session.scalar(select(func.max(Attempt.attempt_no)).where(Attempt.session_id == session_id))
            attempt = Attempt(
                session_id=session_id,
                attempt_no=(number or 0) + 1,
                order_number=new_order_number(),
                status=AttemptStatus.REGISTERING.value,
                amount_minor=request.amount.minor,
                currency=request.amount.currency,
                language=bank_language(request.lang),
                page_view=page_view,
                two_phase=request.store_id in ctx.settings.two_phase_stores,
                created_at=now,
                updated_at=now,
                expires_at=now + timedelta(seconds=ctx.settings.session_timeout_s),
                next_poll_at=now + timedelta(seconds=ctx.settings.registering_stale_s),
                poll_count=0,
                poll_errors=0,
            )
            session.add(attempt)
            session.flush()
            return attempt.id
    except IntegrityError:
        return None  # a concurrent request opened an attempt first: resume it


def _register(ctx: GatewayContext, attempt_id: int) -> StartOutcome:
    with ctx.db.session() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        payment_session = attempt.session
        return_url = payment_session.return_url
        lang = payment_session.lang
        registration = Registration(
            order_number=attempt.order_number,
            amount=_money(attempt),
            return_url=_gateway_return_url(ctx, attempt.order_number),
            fail_url=_gateway_return_url(ctx, attempt.order_number),
            description=f"Order {payment_session.ecwid_order_id}"[:99],
            language=attempt.language,
            page_view=attempt.page_view,
            session_timeout_s=ctx.settings.session_timeout_s,
            callback_url=f"{ctx.settings.public_url}/vpos/callback" if ctx.settings.send_dynamic_callback_url else None,
            two_phase=attempt.two_phase,
        )
    try:
        registered = ctx.provider.register(registration)
    except ProviderUnavailable as exc:
        # No clear answer: the bank may have registered it and the answer was lost. Find it by our orderNumber
        # rather than guess (its page never reached us, so an order found is adopted and closed, never reused).
        log.warning("register_unanswered attempt=%s error=%s", registration.order_number, exc)
        _settle_unanswered(ctx, attempt_id, exc)
        raise RegistrationFailed(return_url, lang, exc) from exc
    except ProviderError as exc:
        _leave_registering(ctx, attempt_id, AttemptStatus.REGISTER_FAILED, detail=f"{exc.code}: {exc}")
        log.warning("register_failed attempt=%s error=%s", registration.order_number, exc)
        raise RegistrationFailed(return_url, lang, exc) from exc
    now = ctx.clock.now()
    left = _leave_registering(
        ctx,
        attempt_id,
        AttemptStatus.REGISTERED,
        detail=f"orderNumber={registration.order_number} mdOrder={registered.provider_order_id}",
        provider_order_id=registered.provider_order_id,
        form_url=registered.form_url,
        next_poll_at=now + timedelta(seconds=ctx.settings.poll_after_s),
    )
    if not left:
        # Someone settled this attempt while the bank was answering (a stale-registration recovery): its page is
        # not ours to hand out any more; the customer retries and gets a consistent attempt.
        raise RegistrationFailed(
            return_url, lang, ProviderError("the registration was settled elsewhere while the bank answered")
        )
    log.info("attempt_registered attempt=%s", registration.order_number)
    return StartOutcome(registered.form_url, registration.order_number, reused=False)


def _settle_unanswered(ctx: GatewayContext, attempt_id: int, cause: ProviderError) -> None:
    """Close an attempt whose register.do got no clear answer, so no open attempt is left behind: the bank is
    asked by orderNumber; when it cannot tell either, the attempt fails (an order it may hold has no page anyone
    received, so nobody can pay it)."""
    try:
        recover_registering(ctx, attempt_id)
    except ProviderError as exc:
        log.warning("register_lookup_failed attempt_id=%s error=%s", attempt_id, exc)
        _leave_registering(
            ctx,
            attempt_id,
            AttemptStatus.REGISTER_FAILED,
            detail=f"{cause.code}: {cause}; lookup by orderNumber failed too: {exc.code}",
        )


def _leave_registering(
    ctx: GatewayContext, attempt_id: int, target: AttemptStatus, *, detail: str, **values: object
) -> bool:
    """Leave ``registering`` through the lifecycle writer; False when the attempt had already left it."""
    with ctx.db.session() as session, session.begin():
        result = transition(
            session, attempt_id, target, now=ctx.clock.now(), source="register", detail=detail, values=values
        )
    return result.changed


def _gateway_return_url(ctx: GatewayContext, order_number: str) -> str:
    return f"{ctx.settings.public_url}/vpos/return?" + urlencode({"attempt": order_number})


def bank_language(lang: str) -> str:
    lang = lang.lower()[:2]
    return {"hy": "hy", "am": "hy", "ru": "ru"}.get(lang, "en")


def _money(attempt: Attempt) -> Money:
    return Money(attempt.amount_minor, attempt.currency)
