"""The issuer's 3-D Secure ACS page: the challenge of an order in orderStatus 5, and its answers.

A challenge card (``cards.Flow.CHALLENGE``) or ``POST /_control/vpos/orders/{mdOrder}/outcome`` with ``hold3ds``
moves the order to 5 and the browser to ``GET /payment/acs/challenge?mdOrder=...``: the scheme's programme (Visa
Secure, Mastercard Identity Check, ArCa 3-D Secure, Mir Accept), the amount, the masked card, an OTP field
(``id="otp"``) and three buttons, in the order's language and ``pageView`` layout. ``POST`` to the same URL with
``action``:

- ``pass`` with the OTP ``123456`` (``MAGIC_OTP``): the card's passed-challenge outcome (success cards: deposited
  2, actionCode 0, eci 05 / Mastercard 02, approval code; ``4000000000003238``: -2006; ``4000000000003246``: 999);
  a wrong code shows the page again (HTTP 400, attempts left) and the third wrong code declines with -2006;
- ``fail``: the cardholder fails authentication: declined 6, actionCode -2006;
- ``cancel``: the cardholder cancels at the ACS: declined 6, actionCode -2006 (as BPC reports an abandoned
  authentication).

Each answer decides once through ``lifecycle.decide`` (the one writer, then the callback) and redirects 302 to
returnUrl / failUrl with ``orderId`` and ``lang``. An answer for an order no longer in 5 changes nothing (409 page).
A page left open ends with the bank session (``lifecycle``'s session job: -2007, ``declinedByTimeout``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from simulator.errors import NotFound
from simulator.state import SimulatorState, current_state
from simulator.vpos.callbacks import DispatchResult
from simulator.vpos.cards import ACTION_3DS_DECLINED, ACTION_SESSION_EXPIRED, THREE_DS_PROTOCOL_VERSION
from simulator.vpos.hosted_page import format_minor
from simulator.vpos.lifecycle import approval_code, decide, expire, expire_if_due
from simulator.vpos.orders import BankOrder
from simulator.vpos.payment import return_redirect
from simulator.vpos.states import OrderStatus
from simulator.vpos.texts import ACS_BRANDS, ACS_TEXTS, TEXTS
from simulator.web import note, note_orders

bp = Blueprint("vpos_acs", __name__, url_prefix="/payment/acs")

PageResponse = WerkzeugResponse | tuple[str, int] | str
AcsAction = Literal["pass", "fail", "cancel"]
ACS_ACTIONS: tuple[str, ...] = get_args(AcsAction)
MAGIC_OTP = "123456"
MAX_OTP_ATTEMPTS = 3


@dataclass(frozen=True)
class AcsAnswer:
    """What an answer did: ``redirect_url`` None means "show the page again" (a wrong code, attempts left)."""

    order: BankOrder
    changed: bool
    redirect_url: str | None
    attempts_left: int = 0
    callback: DispatchResult | None = None


def answer_challenge(state: SimulatorState, md_order: str, action: AcsAction, otp: str = "") -> AcsAnswer:
    """Decide an order in 3-D Secure from the ACS page's answer (see the module doc). Raises NotFound."""
    order = state.bank.get(md_order)
    if order is None:
        raise NotFound(f"unknown mdOrder {md_order}")
    now = state.clock.now()
    if order.order_status is OrderStatus.ACS_AUTH and order.session_over(now):
        expired = expire(state, md_order)
        return AcsAnswer(expired.order, expired.changed, return_redirect(expired.order), callback=expired.callback)
    if action == "pass" and otp.strip() == MAGIC_OTP:
        return _passed(state, md_order, now)
    if action == "pass":
        wrong = _count_wrong_code(state, md_order)
        if wrong is None:
            return AcsAnswer(order, False, return_redirect(order))
        if wrong < MAX_OTP_ATTEMPTS:
            return AcsAnswer(order, False, None, attempts_left=MAX_OTP_ATTEMPTS - wrong)
        return _declined(state, md_order, "3ds wrong code", now)
    return _declined(state, md_order, f"3ds {action}", now)


def _count_wrong_code(state: SimulatorState, md_order: str) -> int | None:
    """One more wrong code for an order still at the ACS; None when it has moved on."""

    def count(order: BankOrder) -> bool:
        if order.order_status is not OrderStatus.ACS_AUTH or order.challenge is None:
            return False
        order.challenge.wrong_otp += 1
        return True

    order, counted = state.bank.update(md_order, count)
    return order.challenge.wrong_otp if counted and order is not None and order.challenge is not None else None


def _passed(state: SimulatorState, md_order: str, now: datetime) -> AcsAnswer:
    order = state.bank.get(md_order)
    challenge = order.challenge if order is not None else None
    if challenge is None:
        return _declined(state, md_order, "3ds pass", now)  # only an order in 3-D Secure has a challenge
    paid = challenge.pass_status.is_paid

    def facts(target: BankOrder) -> None:
        target.auth_at = now
        if target.card is not None:
            target.card.eci = challenge.pass_eci
            target.card.approval_code = approval_code() if paid else ""
            target.card.three_ds_protocol_version = THREE_DS_PROTOCOL_VERSION

    decision = decide(
        state,
        md_order,
        challenge.pass_status,
        operation="3ds pass",
        now=now,
        action_code=challenge.pass_action_code,
        sources={OrderStatus.ACS_AUTH},
        facts=facts,
    )
    return AcsAnswer(decision.order, decision.changed, return_redirect(decision.order), callback=decision.callback)


def _declined(state: SimulatorState, md_order: str, operation: str, now: datetime) -> AcsAnswer:
    def facts(target: BankOrder) -> None:
        target.auth_at = now
        if target.card is not None:
            target.card.eci = None
            target.card.three_ds_protocol_version = THREE_DS_PROTOCOL_VERSION

    decision = decide(
        state,
        md_order,
        OrderStatus.DECLINED,
        operation=operation,
        now=now,
        action_code=ACTION_3DS_DECLINED,
        sources={OrderStatus.ACS_AUTH},
        facts=facts,
    )
    return AcsAnswer(decision.order, decision.changed, return_redirect(decision.order), callback=decision.callback)


# -- the page -----------------------------------------------------------------------------------------------------


def _page(order: BankOrder, *, error: str | None = None, status: int = 200) -> PageResponse:
    lang = order.language
    card = order.card
    scheme = card.payment_system if card is not None else "VISA"
    html = render_template(
        "vpos/acs.html",
        t=ACS_TEXTS[lang],
        lang=lang,
        order=order,
        brand=ACS_BRANDS.get(scheme, "3-D Secure"),
        scheme=scheme.lower(),
        masked_pan=card.masked_pan if card is not None else "",
        amount=format_minor(order.amount, order.currency),
        page_view=order.page_view,
        action=url_for("vpos_acs.challenge", mdOrder=order.md_order),
        error=error,
    )
    return html, status


def _message(order: BankOrder | None, key: str, status: int) -> PageResponse:
    lang = order.language if order is not None else "en"
    html = render_template(
        "vpos/message.html",
        t=TEXTS[lang],
        lang=lang,
        message=TEXTS[lang][key],
        message_key=key,
        page_view=order.page_view if order is not None else "DESKTOP",
        return_link=return_redirect(order) if order is not None else None,
    )
    return html, status


def _moved_on(order: BankOrder, status: int) -> PageResponse:
    """The page of an order no longer at the ACS: expired, pending, or decided."""
    if order.action_code == ACTION_SESSION_EXPIRED:
        return _message(order, "session_expired", status)
    if order.order_status is OrderStatus.PENDING:
        return _message(order, "payment_pending", status)
    return _message(order, "already_processed", status)


@bp.route("/challenge", methods=["GET", "POST"])
def challenge() -> PageResponse:
    md_order = request.args.get("mdOrder") or request.form.get("mdOrder", "")
    operation = "3ds answer" if request.method == "POST" else "3ds page"
    note(operation, f"mdOrder={md_order}")
    if md_order:
        note_orders(mdOrder=md_order)
    state = current_state()
    order = state.bank.get(md_order) if md_order else None
    if order is None:
        return _message(None, "not_found", 404)
    if request.method == "GET":
        expire_if_due(state, md_order)
        if order.order_status is OrderStatus.REGISTERED:
            return redirect(url_for("vpos_page.payment_page", lang=order.language, mdOrder=md_order), code=302)
        if order.order_status is not OrderStatus.ACS_AUTH:
            return _moved_on(order, 200)
        return _page(order)
    action = request.form.get("action", "")
    if action not in ACS_ACTIONS:
        if order.order_status is not OrderStatus.ACS_AUTH:
            return _moved_on(order, 409)
        return _page(order, error=ACS_TEXTS[order.language]["bad_answer"], status=400)
    result = answer_challenge(state, md_order, action, request.form.get("otp", ""))  # type: ignore[arg-type]
    if result.redirect_url is None:
        note(operation, f"mdOrder={md_order} action={action} -> wrong code, {result.attempts_left} left")
        error = ACS_TEXTS[order.language]["wrong_otp"].format(left=result.attempts_left)
        return _page(result.order, error=error, status=400)
    if not result.changed:
        note(operation, f"mdOrder={md_order} action={action} -> orderStatus {result.order.order_status}, unchanged")
        return _moved_on(result.order, 409)
    callback = result.callback.outcome if result.callback else "none"
    note(
        operation,
        f"mdOrder={md_order} action={action} -> orderStatus {result.order.order_status} "
        f"actionCode {result.order.action_code} callback {callback}",
    )
    return redirect(result.redirect_url, code=302)
