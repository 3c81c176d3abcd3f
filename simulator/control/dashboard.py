"""The simulator's dashboard: HTML pages under ``/_control/dashboard`` for a developer clicking through.

- ``GET /_control/dashboard``: the virtual clock and its pending jobs, every bank order next to the Ecwid order it
  belongs to (when known), Ecwid orders without a bank order, injected bank faults, callback settings and
  callbacks waiting to be sent;
- ``GET /_control/dashboard/orders/{mdOrder}``: one bank order, its Ecwid order (with the history of PUTs) and
  the journal of both, newest last;
- ``GET /_control/dashboard/ecwid/{storeId}/{orderId}``: one Ecwid order (every PUT it received, accepted or
  refused), its bank orders and their journal.

The main page also has an Ecwid section: injected Ecwid API faults, the rate limit and its use per token, and the
``order.updated`` webhook setting with its latest deliveries.

Reading is server-rendered and works without JavaScript; it changes nothing (no lazy session expiry, no
journal entry). The buttons are JavaScript ``fetch`` calls to the JSON control API (POST, PUT or DELETE, never
GET) followed by a refresh of the page's live parts: this module adds no action of its own.

A bank order belongs to an Ecwid order when one of the Ecwid order's identifiers (``id``, ``internalId``,
``referenceTransactionId``) is linked to the bank order in the journal (seen together in one entry, e.g. an
orderNumber equal to the Ecwid id), or appears as a word in the bank order's orderNumber, description,
jsonParams, returnUrl or failUrl (a gateway that registers ``description="Order XJ12H"``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, render_template

from simulator.control.journal import Journal, redact
from simulator.ecwid.faults import ECWID_FAULT_KINDS
from simulator.ecwid.orders import EcwidOrder
from simulator.errors import NotFound
from simulator.state import SimulatorState, current_state
from simulator.vpos.api import form_url
from simulator.vpos.callbacks import CALLBACK_MODES, PENDING_STATES, rules_json
from simulator.vpos.cards import ACTION_DESCRIPTIONS, TEST_CARDS, action_description
from simulator.vpos.faults import ANY_METHOD, FAULT_KINDS, MALFORMED_VARIANTS
from simulator.vpos.hosted_page import format_minor
from simulator.vpos.orders import ORDER_REGISTERED, BankOrder
from simulator.vpos.outcomes import SOURCES as OUTCOME_SOURCES
from simulator.vpos.payment import next_url
from simulator.vpos.states import OrderStatus

bp = Blueprint("dashboard", __name__, url_prefix="/_control/dashboard")

STATUS_NAMES: dict[int, str] = {
    0: "registered",
    1: "pre-authorised",
    2: "deposited",
    3: "reversed",
    4: "refunded",
    5: "3-D Secure in progress",
    6: "declined",
    7: "pending",
    8: "partly completed",
}
"""orderStatus names (protocols.md 2.5 and 2.9)."""
_STATUS_TONES = {0: "open", 1: "ok", 2: "ok", 3: "muted", 4: "muted", 5: "wait", 6: "bad", 7: "wait", 8: "wait"}
_ECWID_TONES = {"PAID": "ok", "AWAITING_PAYMENT": "wait", "CANCELLED": "bad", "INCOMPLETE": "open"}
BANK_METHODS = ("register.do", "getOrderStatusExtended.do", "getOrderStatus.do", ANY_METHOD)
_WORD = re.compile(r"[A-Za-z0-9_.-]+")
_MAX_JOBS_SHOWN = 10
_NOT_DECLINES = (0, -100)  # approved, no payment yet: not codes to decline with
_MAX_CALLBACKS_SHOWN = 10
_LINK_FIELDS = ("orderNumber", "description", "jsonParams", "returnUrl", "failUrl")


def status_name(order_status: int) -> str:
    """``2`` -> ``"deposited"``; unknown values are named by their number."""
    return STATUS_NAMES.get(int(order_status), f"status {int(order_status)}")


# -- linking bank and Ecwid orders ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLink:
    """The Ecwid order a bank order belongs to, and how that was found (``journal`` or a bank order field)."""

    ecwid: EcwidOrder | None
    via: str = ""


def ecwid_keys(order: EcwidOrder) -> tuple[str, ...]:
    """The identifiers Ecwid and the journal know an order by."""
    return (order.id, str(order.internal_id), order.reference_transaction_id)


def _words(text: str) -> set[str]:
    return {word.strip(".-") for word in _WORD.findall(text)} - {""}


def _field_texts(order: BankOrder) -> Iterable[tuple[str, str]]:
    yield "orderNumber", order.order_number
    yield "description", order.description
    yield "jsonParams", " ".join(f"{name} {value}" for name, value in order.json_params.items())
    yield "returnUrl", order.return_url
    yield "failUrl", order.fail_url or ""


def link_orders(
    bank_orders: Iterable[BankOrder], ecwid_orders: Iterable[EcwidOrder], journal: Journal
) -> dict[str, OrderLink]:
    """For each bank order (by mdOrder), its Ecwid order: journal links first, then the bank order's own fields
    in the order of ``_LINK_FIELDS``; ``OrderLink(None)`` when nothing names one."""
    index: dict[str, EcwidOrder] = {}
    for ecwid in ecwid_orders:
        for key in ecwid_keys(ecwid):
            index.setdefault(key, ecwid)
    links: dict[str, OrderLink] = {}
    for order in bank_orders:
        links[order.md_order] = _link(order, index, journal.linked)
    return links


def _link(order: BankOrder, index: dict[str, EcwidOrder], linked: Callable[[str], frozenset[str]]) -> OrderLink:
    if not index:
        return OrderLink(None)
    for key in sorted(linked(order.md_order) | linked(order.order_number)):
        if key in index:
            return OrderLink(index[key], "journal")
    for name, text in _field_texts(order):
        for word in sorted(_words(text)):
            if word in index:
                return OrderLink(index[word], name)
    return OrderLink(None)


# -- view models ----------------------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    whole = int(abs(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def when(moment: datetime, now: datetime) -> dict[str, str]:
    """A time for the page: ``text`` (HH:MM:SS UTC, with the date when it is not today's), ``iso`` and
    ``relative`` to the virtual ``now`` ("in 19m 40s", "3m 05s ago")."""
    delta = (moment - now).total_seconds()
    text = moment.strftime("%H:%M:%S") if moment.date() == now.date() else moment.strftime("%Y-%m-%d %H:%M:%S")
    relative = "now" if abs(delta) < 1 else (f"in {_duration(delta)}" if delta > 0 else f"{_duration(delta)} ago")
    return {"text": text, "iso": moment.isoformat(timespec="seconds"), "relative": relative}


def _from_ms(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value / 1000, UTC)


def _operation_view(operation: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One entry of the order's ``operations`` record, whatever fields it carries."""
    at = _from_ms(operation.get("at"))
    before, after = operation.get("from"), operation.get("orderStatus")
    shown = {"operation", "at", "from", "orderStatus"}
    return {
        "name": str(operation.get("operation", "")),
        "at": when(at, now) if at else None,
        "change": f"{before} → {after}" if before is not None and after is not None else "",
        "extra": {name: value for name, value in operation.items() if name not in shown},
    }


def _fields_text(fields: dict[str, Any], now: datetime) -> list[tuple[str, str]]:
    """``{"due": <ms>, "eci": None, ...}`` as readable pairs: times as times, None as "none"."""
    pairs = []
    for name, value in fields.items():
        moment = _from_ms(value) if name in ("due", "at") else None
        if moment is not None:
            text = when(moment, now)
            pairs.append((name, f"{text['text']} ({text['relative']})"))
        else:
            pairs.append((name, "none" if value is None else str(value)))
    return pairs


def _bank_view(order: BankOrder, link: OrderLink, now: datetime) -> dict[str, Any]:
    registered = int(order.order_status) == ORDER_REGISTERED
    session_over = registered and now > order.expires_at
    json_view = order.to_json()
    return {
        "order": order,
        "json": json_view,
        "extras": {
            name: _fields_text(json_view[name], now) for name in ("challenge", "pending") if json_view.get(name)
        },
        "operations": [_operation_view(dict(op), now) for op in list(order.operations)],
        "amount": format_minor(order.amount, order.currency),
        "status": f"{int(order.order_status)} {status_name(order.order_status)}",
        "tone": _STATUS_TONES.get(int(order.order_status), "muted"),
        "action": action_description(order.action_code, "en"),
        "created": when(order.created_at, now),
        "expires": when(order.expires_at, now),
        "registered": registered,
        "waiting": int(order.order_status) in (OrderStatus.ACS_AUTH, OrderStatus.PENDING),
        "open": registered and not session_over,
        "session_over": session_over,
        "ecwid": _ecwid_view(link.ecwid, now) if link.ecwid else None,
        "via": link.via,
    }


def _ecwid_view(order: EcwidOrder, now: datetime) -> dict[str, Any]:
    return {
        "order": order,
        "tone": _ECWID_TONES.get(order.payment_status, "muted"),
        "created": when(order.create_date, now),
        "total": f"{order.total:,.2f} {order.currency}".replace(",", "\N{NO-BREAK SPACE}"),
        "history": [
            {"at": entry.get("at", ""), "fields": dict(entry.get("fields", {}))} for entry in list(order.history)
        ],
        "puts": [dict(entry) for entry in list(order.puts)],
    }


def _ecwid_settings_view(state: SimulatorState, now: datetime) -> dict[str, Any]:
    """Ecwid faults, rate limit and webhooks (tokens are masked by their own ``to_json``)."""
    hooks = state.ecwid_webhooks
    deliveries = hooks.deliveries()
    return {
        "faults": [fault.to_json() for fault in state.ecwid_faults.all()],
        "fault_kinds": ECWID_FAULT_KINDS,
        "max_sleep": state.ecwid_faults.max_sleep_seconds,
        "rate": state.ecwid_rate.to_json(now),
        "webhooks": hooks.settings(),
        "deliveries": list(reversed(deliveries))[:_MAX_CALLBACKS_SHOWN],
    }


def _clock_view(state: SimulatorState, now: datetime) -> dict[str, Any]:
    jobs = []
    for job in state.scheduler.pending():
        jobs.append({"id": job.seq, "name": job.name, "tags": dict(job.tags), "due": when(job.due, now)})
    offset = state.clock.offset_seconds
    return {
        "now": when(now, now),
        "now_date": now.strftime("%Y-%m-%d"),
        "offset": offset,
        "offset_text": f"+{offset:g} s" + (f" ({_duration(offset)})" if offset >= 60 else ""),
        "mode": state.scheduler.mode,
        "jobs": jobs[:_MAX_JOBS_SHOWN],
        "more_jobs": max(0, len(jobs) - _MAX_JOBS_SHOWN),
    }


def _faults_view(state: SimulatorState, md_order: str | None = None, order_number: str | None = None) -> list[Any]:
    faults = [fault.to_json() for fault in state.faults.all()]
    if md_order is None:
        return faults
    return [
        fault
        for fault in faults
        if fault["mdOrder"] in (None, md_order) and fault["orderNumber"] in (None, order_number)
    ]


def _from_iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _callback_view(callback: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A callback of the dispatcher, with its checksum masked as the journal masks it."""
    due = _from_iso(callback.get("due"))
    attempts = list(callback.get("attempts") or [])
    flags = []
    if callback.get("badChecksum"):
        flags.append("bad checksum")
    if callback.get("includeAmount") is False:
        flags.append("no amount")
    if callback.get("duplicateOf") is not None:
        flags.append(f"copy of #{callback['duplicateOf']}")
    if callback.get("replayOf") is not None:
        flags.append(f"replay of #{callback['replayOf']}")
    return {
        **callback,
        "params": redact(callback.get("params") or {}),
        "due_at": when(due, now) if due else None,
        "last": attempts[-1] if attempts else None,
        "flags": flags,
    }


def _callbacks_view(state: SimulatorState, now: datetime, md_order: str | None = None) -> dict[str, Any]:
    """Defaults, pending callbacks per order (queue order) and the others, newest first."""
    dispatcher = state.callbacks
    pending = [
        {**group, "callbacks": [_callback_view(callback, now) for callback in group["callbacks"]]}
        for group in dispatcher.pending(md_order=md_order)
    ]
    done = [
        _callback_view(callback, now)
        for callback in reversed(dispatcher.callbacks(md_order=md_order))
        if callback["state"] not in PENDING_STATES
    ]
    view: dict[str, Any] = {
        "settings": dispatcher.settings(),
        "modes": CALLBACK_MODES,
        "pending": pending,
        "done": done[:_MAX_CALLBACKS_SHOWN],
        "more_done": max(0, len(done) - _MAX_CALLBACKS_SHOWN),
    }
    if md_order is not None:
        view["rules"] = rules_json(dispatcher.rules(md_order))
        view["effective"] = dispatcher.effective(md_order).to_json()
    return view


def _journal(state: SimulatorState, keys: Iterable[str]) -> list[dict[str, Any]]:
    wanted = tuple(dict.fromkeys(key for key in keys if key))
    if not wanted:
        return []
    entries = []
    for entry in state.journal.entries(orders=wanted):
        view = entry.to_json()
        view["params_text"] = json.dumps(entry.params, indent=2, ensure_ascii=False, default=str)
        entries.append(view)
    return entries


def _journal_url(keys: Iterable[str]) -> str:
    return "/_control/journal?" + urlencode([("order", key) for key in dict.fromkeys(keys)])


def _cards() -> list[dict[str, str]]:
    """The test cards for the Pay buttons' select: grouped number, what it does, where it comes from."""
    cards = []
    for card in TEST_CARDS:
        grouped = " ".join(card.pan[i : i + 4] for i in range(0, len(card.pan), 4))
        source = "" if card.source == "simulator" else f" ({card.source})"
        cards.append({"pan": card.pan, "text": f"{grouped} · {card.label}{source}"})
    cards.append({"pan": "4111111111111112", "text": "4111 1111 1111 1112 · Luhn-invalid: wrong card number"})
    return cards


def _customer_page(state: SimulatorState, order: BankOrder) -> dict[str, str] | None:
    """The bank page a customer would be on now: the card page, or the ACS page during 3-D Secure."""
    if int(order.order_status) == ORDER_REGISTERED:
        return {"name": "card page", "url": form_url(state.config.public_url, order)}
    if int(order.order_status) == OrderStatus.ACS_AUTH:
        return {"name": "3-D Secure (ACS) page", "url": next_url(state, order)}
    return None


def _common(state: SimulatorState, now: datetime) -> dict[str, Any]:
    year = (now.year + 5) % 100
    return {
        "clock": _clock_view(state, now),
        "cards": _cards(),
        "expiry": f"12/{year:02d}",
        "config": state.config,
    }


# -- pages ----------------------------------------------------------------------------------------------------


@bp.route("", methods=["GET"])
def dashboard() -> str:
    state = current_state()
    now = state.clock.now()
    bank_orders = state.bank.all()
    ecwid_orders = state.ecwid.all()
    links = link_orders(bank_orders, ecwid_orders, state.journal)
    linked_ecwid = {id(link.ecwid) for link in links.values() if link.ecwid is not None}
    faults = state.faults
    return render_template(
        "dashboard.html",
        page="dashboard",
        orders=[_bank_view(order, links[order.md_order], now) for order in reversed(bank_orders)],
        ecwid_only=[
            _ecwid_view(order, now)
            for order in sorted(ecwid_orders, key=lambda o: o.create_date, reverse=True)
            if id(order) not in linked_ecwid
        ],
        faults=_faults_view(state),
        max_sleep=faults.max_sleep_seconds,
        fault_kinds=FAULT_KINDS,
        malformed_variants=MALFORMED_VARIANTS,
        bank_methods=BANK_METHODS,
        callbacks=_callbacks_view(state, now),
        ecwid_settings=_ecwid_settings_view(state, now),
        **_common(state, now),
    )


@bp.route("/orders/<md_order>", methods=["GET"])
def bank_order(md_order: str) -> str:
    state = current_state()
    order = state.bank.get(md_order)
    if order is None:
        raise NotFound(f"unknown mdOrder {md_order}")
    now = state.clock.now()
    link = link_orders([order], state.ecwid.all(), state.journal)[md_order]
    keys = [order.md_order, order.order_number, *(ecwid_keys(link.ecwid) if link.ecwid else ())]
    return render_template(
        "dashboard_order.html",
        page="order",
        view=_bank_view(order, link, now),
        faults=_faults_view(state, order.md_order, order.order_number),
        jobs=[
            {"id": job.seq, "name": job.name, "due": when(job.due, now)}
            for job in state.scheduler.pending()
            if md_order in job.tags.values()
        ],
        outcomes=[name for name, sources in OUTCOME_SOURCES.items() if order.order_status in sources],
        decline_codes=[
            (code, action_description(code, "en")) for code in sorted(ACTION_DESCRIPTIONS) if code not in _NOT_DECLINES
        ],
        customer_page=_customer_page(state, order),
        callbacks=_callbacks_view(state, now, md_order),
        journal=_journal(state, keys),
        journal_url=_journal_url(keys),
        **_common(state, now),
    )


@bp.route("/ecwid/<int:store_id>/<path:order_id>", methods=["GET"])
def ecwid_order(store_id: int, order_id: str) -> str:
    state = current_state()
    order = state.ecwid.find(store_id, order_id)
    if order is None:
        raise NotFound(f"unknown Ecwid order {order_id} in store {store_id}")
    now = state.clock.now()
    links = link_orders(state.bank.all(), [order], state.journal)
    bank_orders = [bank for bank in state.bank.all() if links[bank.md_order].ecwid is order]
    keys = [*ecwid_keys(order), *(key for bank in bank_orders for key in (bank.md_order, bank.order_number))]
    return render_template(
        "dashboard_ecwid.html",
        page="ecwid",
        ecwid=_ecwid_view(order, now),
        orders=[_bank_view(bank, links[bank.md_order], now) for bank in bank_orders],
        journal=_journal(state, keys),
        journal_url=_journal_url(keys),
        **_common(state, now),
    )


@bp.errorhandler(NotFound)
def not_found(exc: NotFound) -> tuple[str, int]:
    """An HTML page, not the control API's JSON: a person followed a link."""
    state = current_state()
    now = state.clock.now()
    return render_template("dashboard_missing.html", page="missing", message=exc.message, **_common(state, now)), 404
