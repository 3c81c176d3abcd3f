"""Request guards that run before any view, on every path (known or not):

- the request size limit from ``Settings.max_request_bytes`` (413);
- parameter hygiene (``gateway.web.params``): a query or form parameter whose name or value holds a control
  character or a lone surrogate, or is too long, or too many parameters, is refused with 400 before any view, so
  no such value reaches a service, the database (PostgreSQL refuses NUL in text) or a log line;
- a query string that is not UTF-8 (raw bytes, not percent-encoded: werkzeug's development server passes them,
  gunicorn refuses them itself) is refused with 400. werkzeug's own ``request.args`` raises ``UnicodeDecodeError``
  on it, so the app's requests are ``GatewayRequest``s, whose query string never raises (such bytes stay
  percent-encoded, as werkzeug does for percent-encoded ones): the refusal's page can still read ``lang``.

``install_request_guards`` is called once per app by ``create_app``, after the gateway context is in
``app.extensions``. What a
guard refuses is raised as a werkzeug ``HTTPException`` and rendered by the one handler in ``gateway.web.errors``:
the generic page for customers, short plain text for the bank's callback.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from flask import Flask, Request, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.utils import cached_property

from gateway.services.context import GatewayContext
from gateway.web.params import BULK_PARAMETERS, MAX_PARAMETERS, MAX_VALUE_LENGTH, parameter_problem

log = logging.getLogger(__name__)


# werkzeug registers this codec error handler: undecodable bytes become %XX.
_PERCENT_ENCODE = "werkzeug.url_quote"


class GatewayRequest(Request):
    """Flask's request, except that reading the query string never raises ``UnicodeDecodeError``."""

    @cached_property
    def args(self) -> MultiDict[str, str]:
        query = self.query_string.decode(errors=_PERCENT_ENCODE)
        return self.parameter_storage_class(parse_qsl(query, keep_blank_values=True, errors=_PERCENT_ENCODE))

    @property
    def full_path(self) -> str:
        return f"{self.path}?{self.query_string.decode(errors=_PERCENT_ENCODE)}"


def install_request_guards(app: Flask) -> None:
    """Apply the settings' request limits and the parameter guard. Guarantees: a body larger than
    ``max_request_bytes`` is refused with 413 before any view reads it, whether it is a form
    (``MAX_FORM_MEMORY_SIZE``) or not (``MAX_CONTENT_LENGTH``); no view sees a parameter ``parameter_problem``
    objects to, nor a query string that is not UTF-8; reading the query string never raises."""
    context = app.extensions["vposlab_gateway"]
    assert isinstance(context, GatewayContext)
    app.request_class = GatewayRequest
    limit = context.settings.max_request_bytes
    app.config.update(MAX_CONTENT_LENGTH=limit, MAX_FORM_MEMORY_SIZE=limit)
    app.before_request(refuse_junk_parameters)


def refuse_junk_parameters() -> None:
    """Raise ``BadRequest`` for the first unacceptable query or form parameter (reading the form may raise 413)."""
    try:
        request.query_string.decode("utf-8")
    except UnicodeDecodeError:
        _refuse("query string is not UTF-8")
    bulk = BULK_PARAMETERS.get(request.path, frozenset())
    items = [*request.args.items(multi=True), *request.form.items(multi=True)]
    if len(items) > MAX_PARAMETERS:
        _refuse("too many parameters")
    for name, value in items:
        problem = parameter_problem(name, value, max_value_length=None if name in bulk else MAX_VALUE_LENGTH)
        if problem is not None:
            _refuse(problem)


def _refuse(reason: str) -> None:
    log.warning("request_rejected reason=%s", reason)  # the reason only: never the parameter or the path
    raise BadRequest()
