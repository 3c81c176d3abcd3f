"""Bank API faults a test injects (``/_control/vpos/faults``): what goes wrong between a gateway and the bank.

A fault names a bank method (``register.do``, ``getOrderStatusExtended.do``, any ``*.do``, or ``*`` for all of
them), optionally one order (``mdOrder`` and/or ``orderNumber``), and how many calls it spoils (``times``; none:
every call until it is deleted). Kinds:

=================  ===========================================================================================
``http_500/503``   that HTTP status with an HTML error page, as a proxy or a crashed bank answers
``hang``           no answer: a real sleep of ``seconds`` (default and upper bound ``max_sleep_seconds``), then
                   the connection is closed without a response
``malformed_json`` HTTP 200 with a truncated JSON body (``variant="truncated"``) or an HTML page (``"not_json"``)
``error_7``        HTTP 200 ``{"errorCode": "7", "errorMessage": "System error"}``
``slow``           the normal answer after ``seconds``
``drop``           the connection is closed without a response
=================  ===========================================================================================

A fault acts BEFORE the bank runs the method (nothing is registered), unless ``after_apply``: then the method
runs and only its answer is lost or spoiled (``malformed_json`` cuts the real answer in half).

Every sleep waits on the fault's own event, so deleting the fault, clearing the book or ``POST /_control/reset``
ends it at once; an interrupted call is dropped and never runs the method. The book is thread-safe: a fault for
N calls fires exactly N times however the calls race. The HTTP side (hooks, journal summaries) is in
``simulator.vpos.api``; this module knows no Flask request.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import httpx
from flask import Response

from simulator.fault_book import DEFAULT_MAX_SLEEP_SECONDS as DEFAULT_MAX_SLEEP_SECONDS  # re-exported
from simulator.fault_book import MAX_SLEEP_LIMIT_SECONDS as MAX_SLEEP_LIMIT_SECONDS  # re-exported
from simulator.fault_book import FaultBook as InjectedFaults

FaultKind = Literal["http_500", "http_503", "hang", "malformed_json", "error_7", "slow", "drop"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
MalformedVariant = Literal["truncated", "not_json"]
MALFORMED_VARIANTS: tuple[str, ...] = get_args(MalformedVariant)
SLEEPING_KINDS = ("hang", "slow")
ANY_METHOD = "*"

DEFAULT_SLOW_SECONDS = 2.0
NO_RESPONSE_STATUS = 444
"""What the journal records for a call that got no HTTP answer at all (nginx's "no response" code)."""


@dataclass(frozen=True)
class FaultSpec:
    """What to inject; validated by the control API before it reaches the book."""

    method: str
    kind: FaultKind
    times: int | None = None
    md_order: str | None = None
    order_number: str | None = None
    seconds: float | None = None
    after_apply: bool = False
    variant: MalformedVariant | None = None


@dataclass
class Fault:
    """One injected fault and how often it has fired."""

    id: int
    spec: FaultSpec
    seconds: float | None
    remaining: int | None
    fired: int = 0
    _cancelled: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def kind(self) -> FaultKind:
        return self.spec.kind

    @property
    def active(self) -> bool:
        return self.remaining is None or self.remaining > 0

    def label(self) -> str:
        """``fault #3 http_503`` (``... after apply``): how journal summaries name it."""
        return f"fault #{self.id} {self.kind}" + (" after apply" if self.spec.after_apply else "")

    def matches(self, method: str, md_orders: set[str], order_numbers: set[str]) -> bool:
        spec = self.spec
        if spec.method not in (ANY_METHOD, method):
            return False
        if spec.md_order is not None and spec.md_order not in md_orders:
            return False
        return spec.order_number is None or spec.order_number in order_numbers

    def sleep(self, seconds: float) -> bool:
        """Sleep for real; False when the fault was deleted or the simulator reset meanwhile (or before)."""
        return not self._cancelled.wait(max(0.0, seconds))

    def cancel(self) -> None:
        self._cancelled.set()

    def to_json(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "id": self.id,
            "method": spec.method,
            "fault": spec.kind,
            "times": spec.times,
            "remaining": self.remaining,
            "fired": self.fired,
            "active": self.active,
            "mdOrder": spec.md_order,
            "orderNumber": spec.order_number,
            "seconds": self.seconds,
            "afterApply": spec.after_apply,
            "variant": spec.variant,
        }


class FaultBook(InjectedFaults[Fault]):
    """The injected bank faults, oldest first; spent ones stay listed (``active: false``) until deleted or reset."""

    def add(self, spec: FaultSpec) -> Fault:
        """Store a fault; a sleeping kind without ``seconds`` gets its default (hang: the maximum)."""
        seconds = spec.seconds
        if spec.kind == "hang" and seconds is None:
            seconds = self.max_sleep_seconds
        elif spec.kind == "slow" and seconds is None:
            seconds = min(DEFAULT_SLOW_SECONDS, self.max_sleep_seconds)
        return self._keep(lambda fault_id: Fault(id=fault_id, spec=spec, seconds=seconds, remaining=spec.times))

    def take(self, method: str, *, md_orders: set[str], order_numbers: set[str]) -> Fault | None:
        """The oldest active fault for this call, counted as fired (atomically), or None."""
        return self._take_first(lambda fault: fault.matches(method, md_orders, order_numbers))

    def sleep(self, fault: Fault, seconds: float) -> bool:
        """``fault.sleep`` bounded by the current maximum; False when interrupted."""
        return fault.sleep(min(seconds, self.max_sleep_seconds))


# -- the answers a fault gives ------------------------------------------------------------------------------------

_HTML_PAGES = {
    500: "500 Internal Server Error",
    503: "503 Service Temporarily Unavailable",
}
NOT_JSON_PAGE = "<html><head><title>Error</title></head><body><h1>Request could not be processed</h1></body></html>\n"
TRUNCATED_JSON = '{"errorCode":"0","errorMessage":"Succ'
JSON_MIMETYPE = "application/json"


def http_error_response(status: int) -> Response:
    """An HTML error page like a proxy in front of the bank sends."""
    title = _HTML_PAGES[status]
    page = f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center></body></html>\n"
    return Response(page, status=status, mimetype="text/html")


def malformed_response(variant: MalformedVariant, real_body: bytes | None = None) -> Response:
    """HTTP 200 whose body no JSON parser accepts: the first half of ``real_body`` (or a made-up truncated
    answer) with a JSON content type, or an HTML page."""
    if variant == "not_json":
        return Response(NOT_JSON_PAGE, status=200, mimetype="text/html")
    body = real_body[: len(real_body) // 2] if real_body and len(real_body) > 1 else TRUNCATED_JSON.encode()
    return Response(body, status=200, mimetype=JSON_MIMETYPE)


def no_response(environ: Mapping[str, Any], wait: Callable[[], bool] | None = None) -> Response:
    """A response that is never sent: the connection is closed instead, after ``wait()`` when given (a hang).

    The wait runs while the server iterates the body, so the call is journaled when it arrives, not when it ends.
    On werkzeug's server the socket (``environ["werkzeug.socket"]``) is then shut down and a
    ``ConnectionAbortedError`` tells the server the client is gone, so it neither answers 500 nor keeps the
    connection alive. In process (Flask's test client, ``httpx.WSGITransport``) there is no socket: the body raises
    what an httpx client would see over a network: ``httpx.ReadTimeout`` after a hang that ran its full time,
    ``httpx.RemoteProtocolError`` otherwise.
    """

    def body() -> Iterator[bytes]:
        timed_out = wait() if wait is not None else False
        sock = environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):  # the client may already have left
                sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("simulated fault: connection closed without a response")
        if timed_out:
            raise httpx.ReadTimeout("simulated fault: the bank did not answer")
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        yield b""  # pragma: no cover  (makes this a generator: nothing runs before the server iterates)

    return Response(body(), status=NO_RESPONSE_STATUS, mimetype="text/plain")
