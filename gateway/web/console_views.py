"""Console pages for finding payments and working the operator exceptions queue (routes on the ``ops`` blueprint
of ``gateway.web.console_auth``, which requires the login and the CSRF token).

- ``GET /ops/payments?q=``: search by Ecwid order id, referenceTransactionId, orderNumber or mdOrder;
- ``GET /ops/payments/<id>``: the session, its attempts and its one merged timeline;
- ``GET /ops/exceptions?state=open|resolved|all``: the queue, open ones first;
- ``POST /ops/exceptions/<id>/resolve|note|retry``: the actions, each recorded with who did it;
- ``GET /ops/reconcile`` (+ ``/report``): the day's reconciliation, as HTML or CSV.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from gateway.services import exceptions_queue, timeline
from gateway.web.console_auth import bp, current_operator, t
from gateway.web.wiring import context


@bp.get("/payments")
def payments() -> str:
    query = request.args.get("q", "").strip()
    results: list[timeline.PaymentSummary] = []
    if query:
        with context().db.session() as session:
            results = timeline.search_payments(session, query)
    return render_template("ops/search.html", query=query, results=results)


@bp.get("/payments/<int:session_id>")
def payment(session_id: int) -> str:
    with context().db.session() as session:
        page = timeline.payment_page(session, session_id)
        exceptions = exceptions_queue.list_exceptions(session, "all", session_id=session_id)
    if page is None:
        abort(404)
    return render_template("ops/payment.html", page=page, exceptions=exceptions)


@bp.get("/exceptions")
def exceptions() -> str:
    state = request.args.get("state", "open")
    if state not in exceptions_queue.STATES:
        state = "open"
    with context().db.session() as session:
        rows = exceptions_queue.list_exceptions(session, state)
    return render_template("ops/exceptions.html", rows=rows, state=state)


def _back(exception_id: int) -> Response:
    target = request.form.get("next", "")
    if target.startswith("/ops/") and not target.startswith("//") and "\\" not in target:
        return redirect(target)
    return redirect(url_for("ops.exceptions") + f"#exception-{exception_id}")


_RESULT_TEXTS = {
    "not_found": "exc_not_found",
    "note_required": "exc_note_required",
    "already_resolved": "exc_already_resolved",
}


@bp.post("/exceptions/<int:exception_id>/resolve")
def resolve_exception(exception_id: int) -> Response:
    result = exceptions_queue.resolve(
        context(), exception_id, request.form.get("note", ""), actor=current_operator().username
    )
    flash(t("exc_resolved_ok") if result.outcome == "ok" else t(_RESULT_TEXTS.get(result.reason, "exc_not_found")))
    return _back(exception_id)


@bp.post("/exceptions/<int:exception_id>/note")
def note_exception(exception_id: int) -> Response:
    result = exceptions_queue.add_note(
        context(), exception_id, request.form.get("note", ""), actor=current_operator().username
    )
    flash(t("exc_note_ok") if result.outcome == "ok" else t(_RESULT_TEXTS.get(result.reason, "exc_not_found")))
    return _back(exception_id)


@bp.post("/exceptions/<int:exception_id>/retry")
def retry_exception(exception_id: int) -> Response:
    result = exceptions_queue.retry(context(), exception_id, actor=current_operator().username)
    if result.reason in _RESULT_TEXTS:
        flash(t(_RESULT_TEXTS[result.reason]))
    else:
        flash(t("retry_" + result.reason, detail=result.detail))
    return _back(exception_id)


# --- reconciliation (gateway.services.reconcile) -----------------------------------------------------------------


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@bp.get("/reconcile")
def reconcile() -> str:
    today = context().clock.now().date()
    return render_template("ops/reconcile.html", day=today.isoformat())


@bp.get("/reconcile/report")
def reconcile_report() -> Response:
    from gateway.services.reconcile import reconcile_day
    from gateway.services.reconcile_report import render_csv, render_html

    day = _day(request.args.get("day"))
    if day is None:
        flash(t("reconcile_bad_day"))
        return redirect(url_for("ops.reconcile"))
    result = reconcile_day(context(), day)
    if request.args.get("format") == "csv":
        response = make_response(render_csv(result))
        response.mimetype = "text/csv"
        response.headers["Content-Disposition"] = f'attachment; filename="reconcile-{day.isoformat()}.csv"'
        return response
    response = make_response(render_html(result))
    # The report is one self-contained page with its own inline style, and nothing else.
    g.csp = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    return response
