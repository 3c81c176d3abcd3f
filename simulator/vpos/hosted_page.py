"""The bank's hosted card page (the ``formUrl``): ``/payment/merchants/sim/payment_{lang}.html?mdOrder=...``.

GET shows the order and the card form (desktop or mobile layout per the order's ``pageView``); POST to the same
URL (or to ``/payment/merchants/sim/pay``) pays through ``vpos.payment`` and redirects 302 to the merchant, or
to the issuer's ACS page (``vpos.threeds``) for a 3-D Secure challenge; while the order is at the ACS (orderStatus
5) both GET and POST send the browser back there, and a pending order (7) shows "still processing".
``/payment/merchants/sim/cancel?mdOrder=...`` returns without paying. HTML ids: ``pan``, ``expiry``,
``cardholder``, ``cvc``, ``pay``, ``cancel``; ``data-testid`` ``order-number``, ``amount``, ``message``.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response as WerkzeugResponse

from simulator.config import KNOWN_CURRENCIES
from simulator.errors import NotFound
from simulator.state import EXTENSION_KEY, current_state
from simulator.vpos import lifecycle
from simulator.vpos.cards import ACTION_SESSION_EXPIRED, TEST_CARDS, action_description
from simulator.vpos.orders import BankOrder
from simulator.vpos.payment import CardInput, CardInputError, cancel_payment, expire_if_due, next_url, submit_payment
from simulator.vpos.register import LANGUAGES
from simulator.vpos.states import OrderStatus
from simulator.vpos.texts import TEXTS
from simulator.web import client_ip, note

bp = Blueprint("vpos_page", __name__, url_prefix="/payment/merchants/sim")


@bp.record_once
def _install_bank_timers(setup: BlueprintSetupState) -> None:
    """The bank sessions these pages serve end by themselves on the virtual clock (``lifecycle.install``)."""
    lifecycle.install(setup.app.extensions[EXTENSION_KEY])


PageResponse = WerkzeugResponse | tuple[str, int] | str


def format_minor(amount: int, currency_numeric: str) -> str:
    """1500000, "051" -> "15 000.00 AMD" (integer arithmetic, no floats)."""
    major, minor = divmod(amount, 100)
    return f"{major:,}.{minor:02d}".replace(",", "\u00a0") + f" {KNOWN_CURRENCIES.get(currency_numeric, '')}"


def _message(lang: str, key: str, status: int, order: BankOrder | None = None, link: str | None = None) -> PageResponse:
    page_view = order.page_view if order else "DESKTOP"
    html = render_template(
        "vpos/message.html",
        t=TEXTS[lang],
        lang=lang,
        message=TEXTS[lang][key],
        message_key=key,
        page_view=page_view,
        return_link=link,
    )
    return html, status


def _form(lang: str, order: BankOrder, error_fields: tuple[str, ...] = (), status: int = 200) -> PageResponse:
    """The card form; after a malformed submit, every bad field's message (``errors``) and the typed values."""
    html = render_template(
        "vpos/payment.html",
        t=TEXTS[lang],
        lang=lang,
        order=order,
        amount=format_minor(order.amount, order.currency),
        page_view=order.page_view,
        action=url_for("vpos_page.payment_page", lang=lang, mdOrder=order.md_order),
        cancel_url=url_for("vpos_page.cancel", mdOrder=order.md_order),
        errors={field: TEXTS[lang][f"error_{field}"] for field in error_fields},
        form=request.form if error_fields else {},
        test_cards=TEST_CARDS,  # the simulator is always the bank's TEST environment
        describe_action=action_description,
    )
    return html, status


def _order_or_404(lang: str, md_order: str) -> BankOrder | PageResponse:
    state = current_state()
    order = state.bank.get(md_order) if md_order else None
    if order is None:
        return _message(lang, "not_found", 404)
    expire_if_due(state, md_order)
    return order


@bp.route("/payment_<lang>.html", methods=["GET", "POST"])
def payment_page(lang: str) -> PageResponse:
    if lang not in LANGUAGES:
        abort(404)
    md_order = request.args.get("mdOrder") or request.form.get("mdOrder", "")
    if request.method == "POST":
        return _pay(lang, md_order)
    note("payment page", f"mdOrder={md_order}")
    found = _order_or_404(lang, md_order)
    if not isinstance(found, BankOrder):
        return found
    if found.order_status is OrderStatus.ACS_AUTH:  # back from the ACS page: 3-D Secure is still waiting
        return redirect(next_url(current_state(), found), code=302)
    if not found.accepts_card:
        return _message(lang, _decided_key(found), 200, found, cancel_payment(current_state(), md_order))
    return _form(lang, found)


def _decided_key(order: BankOrder) -> str:
    """The message of an order that takes no card any more: expired, pending at the issuer, or decided."""
    if order.action_code == ACTION_SESSION_EXPIRED:
        return "session_expired"
    return "payment_pending" if order.order_status is OrderStatus.PENDING else "already_processed"


@bp.route("/pay", methods=["POST"])
def pay() -> PageResponse:
    lang = request.form.get("lang", "en")
    return _pay(lang if lang in LANGUAGES else "en", request.form.get("mdOrder", ""))


def _pay(lang: str, md_order: str) -> PageResponse:
    note("pay", f"mdOrder={md_order}")
    state = current_state()
    found = state.bank.get(md_order) if md_order else None
    if found is None:
        return _message(lang, "not_found", 404)
    card = CardInput(
        pan=request.form.get("pan", ""),
        expiry=request.form.get("expiry", ""),
        cardholder=request.form.get("cardholder", ""),
        cvc=request.form.get("cvc", ""),
    )
    try:
        result = submit_payment(state, md_order, card, ip=client_ip(), require_cvc=True)
    except CardInputError as exc:
        return _form(lang, found, exc.fields, 400)
    except NotFound:
        return _message(lang, "not_found", 404)
    if result.already_processed:
        note("pay", f"mdOrder={md_order} -> already processed")
        if result.order.order_status is OrderStatus.ACS_AUTH:
            return redirect(result.redirect_url, code=302)  # the ACS page is still waiting for an answer
        return _message(lang, _decided_key(result.order), 409, result.order, result.redirect_url)
    callback = result.callback.outcome if result.callback else "none"
    note(
        "pay",
        f"mdOrder={md_order} -> orderStatus {result.order.order_status} actionCode {result.order.action_code} "
        f"callback {callback}",
    )
    return redirect(result.redirect_url, code=302)


@bp.route("/cancel", methods=["GET", "POST"])
def cancel() -> PageResponse:
    md_order = request.values.get("mdOrder", "")
    note("cancel", f"mdOrder={md_order}")
    try:
        target = cancel_payment(current_state(), md_order)
    except NotFound:
        return _message("en", "not_found", 404)
    return redirect(target, code=302)
