"""Per scenario example, the two histories a reviewer reads first (``reports.evidence`` kinds ``ecwid_history`` and
``timeline``): every status update each of the scenario's Ecwid orders received (accepted or refused, from the
simulator's control API: any gateway), and each payment's state timeline at the gateway (its own records: the lab
only).

Called by the after-scenario hook; never raises (evidence must not fail a scenario): what cannot be read becomes a
note saying why.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from features.support.evidence import ScenarioEvidence
from lab import Lab

STORES = (1003, 1004)
MAX_IDS = 12  # ids named by one scenario (Ecwid ids, mdOrders, orderNumbers); more is a scenario of many orders


def record_lifecycles(own: ScenarioEvidence, target: Any, simulator_url: str | None, ids: Iterable[str]) -> None:
    wanted = sorted(set(ids))[:MAX_IDS]
    if simulator_url is not None:
        try:
            _ecwid_histories(own, simulator_url, wanted)
        except Exception as exc:
            own.note("Ecwid status history", f"not read: {type(exc).__name__}: {exc}")
    if isinstance(target, Lab):
        try:
            _timelines(own, target, wanted)
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


def _timelines(own: ScenarioEvidence, lab: Lab, ids: list[str]) -> None:
    from gateway.services.timeline import payment_page, search_payments

    gateway = lab.internals("the payment's timeline")
    with gateway.db.session() as session:
        found = {summary.id: summary for ref in ids for summary in search_payments(session, ref)}
        for session_id, summary in sorted(found.items()):
            page = payment_page(session, session_id)
            if page is None or not page.timeline:
                continue
            numbers = ", ".join(attempt.order_number for attempt in page.attempts)
            entries = [
                {
                    "at": entry.at.astimezone(UTC).isoformat(),
                    "state": entry.kind,
                    "source": entry.source,
                    "note": " ".join(part for part in (entry.detail, entry.outcome) if part),
                }
                for entry in page.timeline
            ]
            own.structured(
                "timeline",
                f"payment {summary.store_id}/{summary.ecwid_order_id} (orderNumber {numbers}; {summary.amount})",
                entries,
            )


def _zoned(value: str) -> str:
    """The simulator's virtual time as ISO 8601 with a zone (UTC when it has none)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()
