"""The bank's side: the customer return (an unsigned hint) and server-to-server callbacks (GET and POST)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from werkzeug.wrappers import Response

from gateway.domain.errors import BadChecksum, ProviderError, UnknownPayment
from gateway.metrics import CALLBACKS
from gateway.services.callbacks import handle_callback
from gateway.services.customer_return import handle_return
from gateway.services.messages import message
from gateway.web.errors import plain
from gateway.web.wiring import context

bp = Blueprint("provider", __name__)


@bp.get("/vpos/return")
def customer_return() -> Response | tuple[str, int]:
    outcome = handle_return(context(), request.args.get("orderId"), request.args.get("attempt"))
    if outcome.received:
        text = message("payment_received", outcome.lang)
        return render_template("received.html", text=text, lang=outcome.lang), 200
    if outcome.redirect_url is None:
        return render_template("processing.html", text=message("processing", outcome.lang), lang=outcome.lang), 202
    return redirect(outcome.redirect_url, code=303)


@bp.route("/vpos/callback", methods=["GET", "POST"])
def callback() -> Response:
    # The raw parameters, exactly as sent, are what the checksum covers: no parsing before verification.
    params = request.form.to_dict() if request.method == "POST" else {}
    params.update(request.args.to_dict())
    try:
        confirmation = handle_callback(context(), params)
    except BadChecksum:
        CALLBACKS.labels("bad_checksum").inc()
        raise
    except UnknownPayment:
        CALLBACKS.labels("unknown_order").inc()
        raise
    except ProviderError:
        CALLBACKS.labels("bank_unavailable").inc()
        raise
    except Exception:
        CALLBACKS.labels("error").inc()
        raise
    CALLBACKS.labels("changed" if confirmation.changed else "no_change").inc()
    return plain("OK", 200)
