"""The fake Ecwid storefront: products, checkout, the payment page with the encrypted request, return pages.

- ``GET /store/{storeId}/``: products with quantity and a buy button (``id="buy-{sku}"``);
- ``POST /store/{storeId}/checkout`` (product, quantity, email, lang, currency): creates the order and renders the
  payment page: ``<form id="payment-form" method="post" action="{payment_url}">`` with hidden ``enc_data`` and
  ``data`` and the button ``id="pay-button"``;
- ``GET /store/{storeId}/orders/{orderId}/pay``: the same page for an existing order (fresh request, new key);
- ``GET /store/{storeId}/return/{orderId}?clientId&timestamp&key[&errorMsg]``: what Ecwid shows for the order's
  CURRENT paymentStatus (protocols.md 1.4): PAID / AWAITING_PAYMENT -> ``data-testid="thank-you"``; CANCELLED ->
  ``data-testid="payment-error"``; anything else (INCOMPLETE) -> checkout again with
  ``data-testid="checkout-error"`` showing ``errorMsg`` and the button ``id="pay-again"``. A ``key`` the store did
  not issue for this order -> 403 (``data-testid="return-rejected"``).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from simulator.ecwid.catalog import PRODUCTS, product
from simulator.ecwid.orders import EcwidOrder, OrderItem
from simulator.state import SimulatorState, current_state
from simulator.vpos.register import LANGUAGES
from simulator.web import client_ip, note

bp = Blueprint("storefront", __name__, url_prefix="/store")

Page = tuple[str, int]
THANK_YOU_STATUSES = ("PAID", "AWAITING_PAYMENT")


def format_total(total: float, currency: str) -> str:
    return f"{total:,.2f} {currency}"


def _message(title: str, text: str, status: int, testid: str = "message", store_id: int | None = None) -> Page:
    html = render_template("store/message.html", title=title, text=text, testid=testid, store_id=store_id)
    return html, status


def _store_or_404(state: SimulatorState, store_id: int) -> Page | None:
    if state.config.store(store_id) is None:
        return _message("Store not found", f"There is no store {store_id}.", 404)
    return None


@bp.route("/<int:store_id>/", methods=["GET"])
def index(store_id: int) -> Page:
    note("storefront", f"store={store_id}")
    state = current_state()
    missing = _store_or_404(state, store_id)
    if missing:
        return missing
    html = render_template("store/index.html", store_id=store_id, products=PRODUCTS, languages=LANGUAGES)
    return html, 200


def _payment_page(state: SimulatorState, store_id: int, order: EcwidOrder) -> Page:
    payment_request = state.payment_request(store_id, order)
    html = render_template(
        "store/payment.html",
        store_id=store_id,
        order=order,
        total=format_total(order.total, order.currency),
        payment=payment_request,
    )
    return html, 200


@bp.route("/<int:store_id>/checkout", methods=["POST"])
def checkout(store_id: int) -> Page:
    note("checkout", f"store={store_id}")
    state = current_state()
    missing = _store_or_404(state, store_id)
    if missing:
        return missing
    item = product(request.form.get("product", ""))
    if item is None:
        return _message("Unknown product", "Choose a product from the store.", 400, store_id=store_id)
    quantity_raw = request.form.get("quantity", "1").strip() or "1"
    if not quantity_raw.isdigit() or not 1 <= int(quantity_raw) <= 99:
        return _message("Wrong quantity", "The quantity must be between 1 and 99.", 400, store_id=store_id)
    currency = request.form.get("currency") or item.currency
    if currency != item.currency:
        return _message("Wrong currency", f"{item.name} is sold in {item.currency}.", 400, store_id=store_id)
    lang = request.form.get("lang", "en")
    quantity = int(quantity_raw)
    order = state.ecwid.create(
        store_id=store_id,
        total=round(item.price * quantity, 2),
        currency=currency,
        email=request.form.get("email", "").strip() or "buyer@example.com",
        lang=lang if lang in LANGUAGES else "en",
        items=[OrderItem(name=item.name, price=item.price, quantity=quantity, sku=item.sku)],
        now=state.clock.now(),
        ip_address=client_ip(),
        payment_module=f"CUSTOM_PAYMENT_APP-{_client_id(state, store_id)}",
    )
    note("checkout", f"store={store_id} -> order {order.id} total={order.total} {order.currency}")
    return _payment_page(state, store_id, order)


def _client_id(state: SimulatorState, store_id: int) -> str:
    store = state.config.store(store_id)
    return store.app_client_id if store else ""


@bp.route("/<int:store_id>/orders/<order_id>/pay", methods=["GET"])
def pay_again(store_id: int, order_id: str) -> Page:
    note("pay page", f"store={store_id} order={order_id}")
    state = current_state()
    missing = _store_or_404(state, store_id)
    if missing:
        return missing
    order = state.ecwid.find(store_id, order_id)
    if order is None:
        return _message("Order not found", f"There is no order {order_id}.", 404, store_id=store_id)
    return _payment_page(state, store_id, order)


@bp.route("/<int:store_id>/return/<order_id>", methods=["GET"])
def customer_return(store_id: int, order_id: str) -> Page:
    note("return", f"store={store_id} order={order_id}")
    state = current_state()
    missing = _store_or_404(state, store_id)
    if missing:
        return missing
    order = state.ecwid.find(store_id, order_id)
    if order is None or order.id != order_id:
        return _message("Order not found", f"There is no order {order_id}.", 404, store_id=store_id)
    if not state.ecwid.knows_return_key(order, request.args.get("key", "")):
        note("return", f"store={store_id} order={order_id} -> 403 unknown key")
        return _message(
            "Link not recognised",
            "This return link was not issued by the store: the thank-you page is lost.",
            403,
            testid="return-rejected",
            store_id=store_id,
        )
    status = order.payment_status
    note("return", f"store={store_id} order={order_id} paymentStatus={status}")
    context = {
        "store_id": store_id,
        "order": order,
        "total": format_total(order.total, order.currency),
        "status": status,
    }
    if status in THANK_YOU_STATUSES:
        return render_template("store/thank_you.html", **context), 200
    if status == "CANCELLED":
        return render_template("store/payment_error.html", **context), 200
    return render_template("store/checkout.html", error_msg=request.args.get("errorMsg"), **context), 200
