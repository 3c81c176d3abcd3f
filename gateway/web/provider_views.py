"""The bank's side: the customer return (an unsigned hint) and server-to-server callbacks (GET and POST).

Ids that cannot be the bank's (``gateway.web.params``) are unknown before any lookup: the return shows the
not-found page; a callback keeps its contract (bad checksum -> 400 first, then unknown order -> 200)."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, request
from werkzeug.wrappers import Response

from gateway.domain.errors import BadChecksum, UnknownPayment
from gateway.provider.checksum import verify_checksum
from gateway.services.callbacks import handle_callback
from gateway.services.customer_return import handle_return
from gateway.services.messages import message
from gateway.web.errors import plain
from gateway.web.params import callback_ids_well_formed, is_order_number, is_provider_order_id
from gateway.web.wiring import context

log = logging.getLogger(__name__)
bp = Blueprint("provider", __name__)


@bp.get("/vpos/return")
def customer_return() -> Response | tuple[str, int]:
    order_id, attempt = request.args.get("orderId"), request.args.get("attempt")
    if not is_provider_order_id(order_id) or (attempt is not None and not is_order_number(attempt)):
        log.warning("return_unknown_order reason=malformed_id")
        raise UnknownPayment("return with a malformed id")
    outcome = handle_return(context(), order_id, attempt)
    if outcome.redirect_url is None:
        return render_template("processing.html", text=message("processing", outcome.lang), lang=outcome.lang), 202
    return redirect(outcome.redirect_url, code=303)


@bp.route("/vpos/callback", methods=["GET", "POST"])
def callback() -> Response:
    # The raw parameters, exactly as sent, are what the checksum covers: no parsing before verification.
    params = request.form.to_dict() if request.method == "POST" else {}
    params.update(request.args.to_dict())
    ctx = context()
    if not callback_ids_well_formed(params):
        # Same order as the service: the checksum first (so a forged junk id is still a 400), then unknown order.
        key = ctx.settings.callback_key
        if key is not None and not verify_checksum(params, key.get_secret_value()):
            log.warning("callback_rejected reason=bad_checksum")
            raise BadChecksum("callback checksum missing or wrong")
        log.warning("callback_unknown_order reason=malformed_id")
        raise UnknownPayment("callback with a malformed id")
    handle_callback(ctx, params)
    return plain("OK", 200)
