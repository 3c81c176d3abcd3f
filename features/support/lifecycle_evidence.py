"""Per scenario example, the two histories a reviewer reads first (``reports.evidence`` kinds ``ecwid_history`` and
``timeline``): every status update each of the scenario's Ecwid orders received (accepted or refused, from the
simulator's control API: any gateway), and each payment's state timeline at the gateway (its own records, through
its console's JSON view: our gateway only, in the lab or started elsewhere).

Called by the after-scenario hook; never raises (evidence must not fail a scenario): what cannot be read becomes a
note saying why.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from features.support.evidence import ScenarioEvidence
from features.support.gateway_api import ConsoleApi

STORES = (1003, 1004)
_CONSOLES: dict[int, ConsoleApi | None] = {}  # by target: one operator session for the run
MAX_IDS = 12  # ids named by one scenario (Ecwid ids, mdOrders, orderNumbers); more is a scenario of many orders


def record_lifecycles(own: ScenarioEvidence, target: Any, simulator_url: str | None, ids: Iterable[str]) -> None:
    wanted = sorted(set(ids))[:MAX_IDS]
    if simulator_url is not None:
        try:
            _ecwid_histories(own, simulator_url, wanted)
        except Exception as exc:
            own.note("Ecwid status history", f"not read: {type(exc).__name__}: {exc}")
    console = _console(target)
    if console is not None:
        try:
            _timelines(own, console, wanted)
        except Exception as exc:
            own.note("payment timeline", f"not read: {type(exc).__name__}: {exc}")


def _ecwid_histories(own: ScenarioEvidence, simulator_url: str, ids: list[str]) -> None:
    seen: set[tuple[int, str]] = set()
    with httpx.Client(base_url=simulator_url, timeout=10) as http:
        for store in STORES:
            for ref in ids:
                answer = http.get(f"/_control/ecwid/orders/{store}/{quote(ref, safe='')}/history")
                if answer.status_code != 200:
                    continue
                body = answer.json()
                key = (store, str(body["orderId"]))
                if key in seen:
                    continue
                seen.add(key)
                entries = [_put_entry(put) for put in body["history"]]
                if entries:
                    own.structured(
                        "ecwid_history", f"Ecwid order {store}/{body['orderId']} (now {body['paymentStatus']})", entries
                    )


def _put_entry(put: dict[str, Any]) -> dict[str, Any]:
    accepted = bool(put.get("accepted"))
    note = f"HTTP {put.get('httpStatus')}"
    if put.get("errorCode"):
        note += f" {put['errorCode']}"
    return {
        "at": _zoned(str(put["at"])),
        "state": put.get("newPaymentStatus") or f"(refused) {put.get('fields', {}).get('paymentStatus', '')}".strip(),
        "from": put.get("oldPaymentStatus"),
        "accepted": accepted,
        "note": note,
    }


def _console(target: Any) -> ConsoleApi | None:
    """One console session per target for the whole run; None for a target whose console is not ours to read."""
    if target is None:
        return None
    key = id(target)
    if key not in _CONSOLES:
        try:
            target.require_ours("its payment timelines")
            _CONSOLES[key] = ConsoleApi(target.console_url, *target.console_credentials)
        except pytest.skip.Exception:  # another gateway, or no operator named: NOT APPLICABLE / NOT RUN
            _CONSOLES[key] = None
    return _CONSOLES[key]


def _timelines(own: ScenarioEvidence, console: ConsoleApi, ids: list[str]) -> None:
    found = {int(summary["id"]): summary for ref in ids for summary in console.search(ref)}
    for session_id, summary in sorted(found.items()):
        page = console.payment(session_id)
        if not page["timeline"]:
            continue
        numbers = ", ".join(attempt["order_number"] for attempt in page["attempts"])
        entries = [
            {
                "at": _zoned(str(entry["at"])),
                "state": entry["kind"],
                "source": entry["source"],
                "note": " ".join(part for part in (entry["detail"], entry["outcome"]) if part),
            }
            for entry in page["timeline"]
        ]
        own.structured(
            "timeline",
            f"payment {summary['store_id']}/{summary['ecwid_order_id']} (orderNumber {numbers}; {summary['amount']})",
            entries,
        )


def _zoned(value: str) -> str:
    """The simulator's virtual time as ISO 8601 with a zone (UTC when it has none)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()
