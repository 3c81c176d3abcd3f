"""Ecwid's paymentUrl: the customer's browser POSTs the encrypted request here; we answer with a redirect to the
bank page (or the store when already paid) or with one generic error page. Nothing from the request is logged."""

from __future__ import annotations

import re

from flask import Blueprint, make_response, redirect, render_template, request
from werkzeug.wrappers import Response

from gateway.domain.money import CURRENCIES
from gateway.ecwid.payment_request import parse_payment_request
from gateway.services.messages import language_of, message
from gateway.services.start_payment import start_payment
from gateway.web.wiring import context

bp = Blueprint("ecwid", __name__)

MOBILE_UA = re.compile(r"Mobi|Android|iPhone|iPad|iPod|Windows Phone", re.IGNORECASE)


def page_view_for(user_agent: str | None) -> str:
    return "MOBILE" if user_agent and MOBILE_UA.search(user_agent) else "DESKTOP"


@bp.post("/ecwid/payment")
def payment_url() -> Response:
    ctx = context()
    supported = frozenset(c for c in ctx.settings.provider_credentials if c in CURRENCIES)
    form = {k: v for k, v in request.form.items() if k in ("enc_data", "data")}
    payment_request = parse_payment_request(
        form, ctx.settings.ecwid_client_secrets, supported, return_hosts=ctx.settings.ecwid_return_hosts
    )
    outcome = start_payment(ctx, payment_request, page_view=page_view_for(request.user_agent.string))
    if outcome.received:  # paid already; Ecwid still says otherwise because its update failed for good
        lang = language_of(payment_request.lang)
        return make_response(render_template("received.html", text=message("payment_received", lang), lang=lang))
    return redirect(outcome.redirect_url, code=303)
