"""The fake Ecwid storefront: products, a cart, checkout, the payment page with the encrypted request, return pages.

Every page speaks the customer's language (``simulator.ecwid.texts``): the order's ``lang`` once an order exists;
before that the store language: ``?lang=hy|ru|en`` (the switcher, remembered in a cookie), else the cookie, else
the browser's ``Accept-Language``, else English.

- ``GET /store/{storeId}/``: products; each has a one-click buy form (``id="quantity-{sku}"``, ``"email-{sku}"``,
  ``"lang-{sku}"``, button ``id="buy-{sku}"``) whose button ``id="add-{sku}"`` puts it in the cart instead;
- ``POST /store/{storeId}/cart/add`` (product, quantity): adds to the cart (a cookie, one currency per cart) and
  goes back to the product (303); ``GET /store/{storeId}/cart``: the cart; ``POST /store/{storeId}/cart``
  (``qty-{sku}`` fields, or ``remove={sku}``): changes it (303 back to the cart);
- ``POST /store/{storeId}/checkout``: either one product (product, quantity, email, lang, currency) or the cart's
  lines (``qty-{sku}`` fields, email, lang; the cart is emptied); creates the order and renders the payment page:
  ``<form id="payment-form" method="post" action="{payment_url}">`` with hidden ``enc_data`` and ``data`` and the
  button ``id="pay-button"``;
- ``GET /store/{storeId}/orders/{orderId}/pay``: the same page for an existing order (fresh request, new key);
- ``GET /store/{storeId}/return/{orderId}?clientId&timestamp&key[&errorMsg]``: what Ecwid shows for the order's
  CURRENT paymentStatus (protocols.md 1.4): PAID / AWAITING_PAYMENT -> ``data-testid="thank-you"``; CANCELLED ->
  ``data-testid="payment-error"``; anything else (INCOMPLETE) -> checkout again with
  ``data-testid="checkout-error"`` showing ``errorMsg`` and the button ``id="pay-again"``. A ``key`` the store did
  not issue for this order -> 403 (``data-testid="return-rejected"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, make_response, redirect, render_template, request
from werkzeug.wrappers import Response

from simulator.ecwid.catalog import MAX_QUANTITY, PRODUCTS, Product, parse_quantity, product
from simulator.ecwid.orders import EcwidOrder, OrderItem
from simulator.ecwid.texts import DEFAULT_LANGUAGE, product_name, texts
from simulator.state import SimulatorState, current_state
from simulator.vpos.register import LANGUAGES
from simulator.web import client_ip, note

bp = Blueprint("storefront", __name__, url_prefix="/store")

THANK_YOU_STATUSES = ("PAID", "AWAITING_PAYMENT")
LANG_COOKIE = "vposlab_store_lang"
CART_COOKIE = "vposlab_cart_{store_id}"
_QTY_PREFIX = "qty-"


def format_total(total: float, currency: str) -> str:
    return f"{total:,.2f} {currency}"


# -- language ------------------------------------------------------------------------------------------------


def _chosen_language() -> str | None:
    chosen = request.args.get("lang", "")
    return chosen if chosen in LANGUAGES else None


def store_language() -> str:
    """The store language before an order exists: ``?lang``, the remembered choice, the browser's, English."""
    chosen = _chosen_language()
    if chosen:
        return chosen
    remembered = request.cookies.get(LANG_COOKIE, "")
    if remembered in LANGUAGES:
        return remembered
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def _remember_language(response: Response) -> Response:
    chosen = _chosen_language()
    if chosen:
        response.set_cookie(LANG_COOKIE, chosen, path="/store/", samesite="Lax", httponly=True)
    return response


# -- the cart (a cookie: "sku:qty.sku:qty", in the order the products were added) -----------------------------


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def total(self) -> float:
        return round(self.product.price * self.quantity, 2)


def read_cart(store_id: int) -> dict[str, int]:
    """The cart's quantities by sku; anything unreadable in the cookie is dropped, never an error."""
    lines: dict[str, int] = {}
    for part in request.cookies.get(CART_COOKIE.format(store_id=store_id), "").split("."):
        sku, _, raw = part.partition(":")
        quantity = parse_quantity(raw)
        if product(sku) is not None and quantity is not None and raw:
            lines[sku] = quantity
    return lines


def _save_cart(response: Response, store_id: int, lines: Mapping[str, int]) -> Response:
    name, path = CART_COOKIE.format(store_id=store_id), f"/store/{store_id}/"
    if lines:
        value = ".".join(f"{sku}:{quantity}" for sku, quantity in lines.items())
        response.set_cookie(name, value, path=path, samesite="Lax", httponly=True)
    else:
        response.delete_cookie(name, path=path, samesite="Lax", httponly=True)
    return response


def _cart_lines(lines: Mapping[str, int]) -> list[CartLine]:
    return [CartLine(item, quantity) for sku, quantity in lines.items() if (item := product(sku)) is not None]


# -- rendering -----------------------------------------------------------------------------------------------


def _render(template: str, lang: str, store_id: int | None, http_status: int = 200, **context: Any) -> Response:
    t = texts(lang)
    cart = read_cart(store_id) if store_id is not None else {}
    html = render_template(
        template,
        t=t,
        lang=lang,
        languages=LANGUAGES,
        store_id=store_id,
        cart_count=sum(cart.values()),
        name_of=lambda sku, fallback: product_name(sku, lang, fallback),
        **context,
    )
    return make_response(html, http_status)


def _message(
    lang: str, title_key: str, text: str, status: int, *, testid: str = "message", store_id: int | None = None
) -> Response:
    return _render("store/message.html", lang, store_id, status, title=texts(lang)[title_key], text=text, testid=testid)


def _known(lang: str, key: str, status: int, store: int | None = None, **values: object) -> Response:
    """A message page (for ``store``) whose title is ``key`` and whose text is ``key_text`` with ``values``."""
    return _message(lang, key, texts(lang)[f"{key}_text"].format(**values), status, store_id=store)


def _store_or_404(state: SimulatorState, store_id: int, lang: str) -> Response | None:
    if state.config.store(store_id) is None:
        return _known(lang, "store_not_found", 404, store_id=store_id)
    return None


# -- storefront and cart -------------------------------------------------------------------------------------


@bp.route("/<int:store_id>/", methods=["GET"])
def index(store_id: int) -> Response:
    note("storefront", f"store={store_id}")
    lang = store_language()
    missing = _store_or_404(current_state(), store_id, lang)
    if missing:
        return missing
    response = _render("store/index.html", lang, store_id, products=PRODUCTS, in_cart=read_cart(store_id))
    return _remember_language(response)


@bp.route("/<int:store_id>/cart", methods=["GET"])
def cart(store_id: int) -> Response:
    note("cart", f"store={store_id}")
    lang = store_language()
    missing = _store_or_404(current_state(), store_id, lang)
    if missing:
        return missing
    lines = _cart_lines(read_cart(store_id))
    total = round(sum(line.total for line in lines), 2)
    currency = lines[0].product.currency if lines else ""
    response = _render(
        "store/cart.html",
        lang,
        store_id,
        lines=lines,
        total=format_total(total, currency) if lines else "",
        money=format_total,
    )
    return _remember_language(response)


@bp.route("/<int:store_id>/cart/add", methods=["POST"])
def cart_add(store_id: int) -> Response:
    note("cart add", f"store={store_id}")
    lang = store_language()
    missing = _store_or_404(current_state(), store_id, lang)
    if missing:
        return missing
    item = product(request.form.get("product", ""))
    if item is None:
        return _known(lang, "unknown_product", 400, store_id)
    lines = read_cart(store_id)
    quantity = parse_quantity(request.form.get("quantity"))
    if quantity is None or lines.get(item.sku, 0) + quantity > MAX_QUANTITY:
        return _known(lang, "wrong_quantity", 400, store_id)
    cart_currency = next((line.product.currency for line in _cart_lines(lines)), item.currency)
    if item.currency != cart_currency:
        text = texts(lang)["cart_mixed_currency"].format(
            name=product_name(item.sku, lang, item.name), currency=item.currency, cart_currency=cart_currency
        )
        return _message(lang, "wrong_currency", text, 409, store_id=store_id)
    lines[item.sku] = lines.get(item.sku, 0) + quantity
    note("cart add", f"store={store_id} {item.sku} +{quantity}")
    return _save_cart(redirect(f"/store/{store_id}/#product-{item.sku}", code=303), store_id, lines)


@bp.route("/<int:store_id>/cart", methods=["POST"])
def cart_update(store_id: int) -> Response:
    note("cart update", f"store={store_id}")
    lang = store_language()
    missing = _store_or_404(current_state(), store_id, lang)
    if missing:
        return missing
    lines = read_cart(store_id)
    removed = request.form.get("remove")
    if removed is not None:
        lines.pop(removed, None)
    else:
        for sku in list(lines):
            if f"{_QTY_PREFIX}{sku}" not in request.form:
                continue
            quantity = parse_quantity(request.form[f"{_QTY_PREFIX}{sku}"], allow_zero=True)
            if quantity is None:
                return _known(lang, "wrong_quantity", 400, store_id)
            if quantity:
                lines[sku] = quantity
            else:
                del lines[sku]
    return _save_cart(redirect(f"/store/{store_id}/cart", code=303), store_id, lines)


# -- checkout and the payment page ---------------------------------------------------------------------------


def _payment_page(state: SimulatorState, store_id: int, order: EcwidOrder) -> Response:
    payment_request = state.payment_request(store_id, order)
    return _render(
        "store/payment.html",
        order.lang,
        store_id,
        order=order,
        total=format_total(order.total, order.currency),
        payment=payment_request,
    )


def _ordered_lines(lang: str, store_id: int) -> list[CartLine] | Response:
    """The lines a checkout form asks for: one product, or the cart's ``qty-{sku}`` fields; an error page else."""
    form = request.form
    if "product" in form or not any(key.startswith(_QTY_PREFIX) for key in form):
        item = product(form.get("product", ""))
        if item is None:
            return _known(lang, "unknown_product", 400, store_id)
        quantity = parse_quantity(form.get("quantity"))
        if quantity is None:
            return _known(lang, "wrong_quantity", 400, store_id)
        currency = form.get("currency") or item.currency
        if currency != item.currency:
            name = product_name(item.sku, lang, item.name)
            return _known(lang, "wrong_currency", 400, store_id, name=name, currency=item.currency)
        return [CartLine(item, quantity)]
    lines: list[CartLine] = []
    for key, raw in form.items():
        if not key.startswith(_QTY_PREFIX):
            continue
        item = product(key.removeprefix(_QTY_PREFIX))
        if item is None:
            return _known(lang, "unknown_product", 400, store_id)
        quantity = parse_quantity(raw, allow_zero=True)
        if quantity is None:
            return _known(lang, "wrong_quantity", 400, store_id)
        if quantity:
            lines.append(CartLine(item, quantity))
    if not lines:
        return _known(lang, "wrong_quantity", 400, store_id)
    odd = next((line.product for line in lines if line.product.currency != lines[0].product.currency), None)
    if odd is not None:
        name = product_name(odd.sku, lang, odd.name)
        return _known(lang, "wrong_currency", 400, store_id, name=name, currency=odd.currency)
    return lines


@bp.route("/<int:store_id>/checkout", methods=["POST"])
def checkout(store_id: int) -> Response:
    note("checkout", f"store={store_id}")
    state = current_state()
    chosen = request.form.get("lang", "")
    lang = chosen if chosen in LANGUAGES else store_language()
    missing = _store_or_404(state, store_id, lang)
    if missing:
        return missing
    lines = _ordered_lines(lang, store_id)
    if isinstance(lines, Response):
        return lines
    from_cart = "product" not in request.form
    order = state.ecwid.create(
        store_id=store_id,
        total=round(sum(line.total for line in lines), 2),
        currency=lines[0].product.currency,
        email=request.form.get("email", "").strip() or "buyer@example.com",
        lang=lang,
        items=[
            OrderItem(name=line.product.name, price=line.product.price, quantity=line.quantity, sku=line.product.sku)
            for line in lines
        ],
        now=state.clock.now(),
        ip_address=client_ip(),
        payment_module=f"CUSTOM_PAYMENT_APP-{_client_id(state, store_id)}",
    )
    note("checkout", f"store={store_id} -> order {order.id} total={order.total} {order.currency}")
    response = _payment_page(state, store_id, order)
    return _save_cart(response, store_id, {}) if from_cart else response


def _client_id(state: SimulatorState, store_id: int) -> str:
    store = state.config.store(store_id)
    return store.app_client_id if store else ""


@bp.route("/<int:store_id>/orders/<path:order_id>/pay", methods=["GET"])
def pay_again(store_id: int, order_id: str) -> Response:
    note("pay page", f"store={store_id} order={order_id}")
    state = current_state()
    lang = store_language()
    missing = _store_or_404(state, store_id, lang)
    if missing:
        return missing
    order = state.ecwid.find(store_id, order_id)
    if order is None:
        return _known(lang, "order_not_found", 404, store_id, order_id=order_id)
    return _payment_page(state, store_id, order)


# -- the customer's return -----------------------------------------------------------------------------------


@bp.route("/<int:store_id>/return/<path:order_id>", methods=["GET"])
def customer_return(store_id: int, order_id: str) -> Response:
    note("return", f"store={store_id} order={order_id}")
    state = current_state()
    missing = _store_or_404(state, store_id, store_language())
    if missing:
        return missing
    order = state.ecwid.find(store_id, order_id)
    if order is None or order.id != order_id:
        return _known(store_language(), "order_not_found", 404, store_id, order_id=order_id)
    lang = order.lang if order.lang in LANGUAGES else DEFAULT_LANGUAGE
    if not state.ecwid.knows_return_key(order, request.args.get("key", "")):
        note("return", f"store={store_id} order={order_id} -> 403 unknown key")
        t = texts(lang)
        return _message(
            lang, "link_rejected", t["link_rejected_text"], 403, testid="return-rejected", store_id=store_id
        )
    status = order.payment_status
    note("return", f"store={store_id} order={order_id} paymentStatus={status}")
    context: dict[str, Any] = {
        "order": order,
        "total": format_total(order.total, order.currency),
        "status": status,
        "status_label": texts(lang).get(f"status_{status}", status),
    }
    if status in THANK_YOU_STATUSES:
        return _render("store/thank_you.html", lang, store_id, **context)
    if status == "CANCELLED":
        return _render("store/payment_error.html", lang, store_id, **context)
    # As Ecwid's checkout does: one click on "pay again" posts a fresh payment request straight to the app.
    payment = state.payment_request(store_id, order)
    return _render(
        "store/checkout.html", lang, store_id, error_msg=request.args.get("errorMsg"), payment=payment, **context
    )
