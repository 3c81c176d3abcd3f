"""Read-only views of our gateway's own records, through its console's JSON view (``features/support/gateway_api.py``,
behind the operator login): the attempts of an Ecwid order (status, our compact ``orderNumber``, the bank's
``mdOrder``, amounts) and the operator exceptions opened about it. The integrity features (RC-15, RC-18, RC-27,
RC-33, RC-36) check server-side truth here as well as at the bank and at Ecwid: what the gateway concluded, and what
it told its operators. The same answers in the lab and from our gateway started elsewhere.

Rows come back as frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from features.support.gateway_api import ConsoleApi
from lab.lab import STORE_ID


@dataclass(frozen=True)
class AttemptRow:
    """One payment attempt as the gateway recorded it, with the Ecwid order it belongs to."""

    attempt_no: int
    order_number: str
    provider_order_id: str | None
    status: str
    amount_minor: int
    currency: str
    deposited_minor: int | None
    store_id: int
    ecwid_order_id: str
    session_ecwid_status: str

    def evidence_values(self) -> Mapping[str, Any]:
        return {"orderNumber": self.order_number, "mdOrder": self.provider_order_id}


@dataclass(frozen=True)
class ExceptionRow:
    """An operator exception: its code, what it says, the attempt it is about (by ``orderNumber``), and whether it
    is still open."""

    code: str
    detail: str
    attempt_order_number: str | None
    open: bool


class GatewayState:
    """Read-only access to the gateway's records of the target's stores."""

    def __init__(self, api: ConsoleApi) -> None:
        self._api = api

    def attempts(self, ecwid_order_id: str, store_id: int = STORE_ID) -> list[AttemptRow]:
        """The attempts of the Ecwid order, first attempt first (empty when the gateway never saw the order)."""
        rows = [
            _attempt_row(attempt, page["payment"])
            for page in self._pages(ecwid_order_id, store_id)
            for attempt in page["attempts"]
        ]
        return sorted(rows, key=lambda row: row.attempt_no)

    def attempt_by_order_number(self, order_number: str) -> AttemptRow | None:
        """The attempt the gateway registered at the bank under ``order_number`` (the bank order's own reference)."""
        for summary in self._api.search(order_number):
            page = self._api.payment(int(summary["id"]))
            for attempt in page["attempts"]:
                if attempt["order_number"] == order_number:
                    return _attempt_row(attempt, page["payment"])
        return None

    def exceptions(self, ecwid_order_id: str, store_id: int = STORE_ID) -> list[ExceptionRow]:
        """Every operator exception about the Ecwid order (open or resolved), oldest first."""
        found = [
            (int(row["id"]), ExceptionRow(row["code"], row["detail"], row["attempt_order_number"], bool(row["open"])))
            for page in self._pages(ecwid_order_id, store_id)
            for row in page["exceptions"]
        ]
        return [row for _, row in sorted(found, key=lambda pair: pair[0])]

    def open_exceptions(self, ecwid_order_id: str, store_id: int = STORE_ID) -> list[ExceptionRow]:
        return [row for row in self.exceptions(ecwid_order_id, store_id) if row.open]

    def _pages(self, ecwid_order_id: str, store_id: int) -> list[dict[str, Any]]:
        """The payment sessions of exactly this Ecwid order in this store (the search also matches other ids)."""
        return [
            self._api.payment(int(summary["id"]))
            for summary in self._api.search(ecwid_order_id)
            if int(summary["store_id"]) == store_id and summary["ecwid_order_id"] == ecwid_order_id
        ]


def _attempt_row(attempt: Mapping[str, Any], owner: Mapping[str, Any]) -> AttemptRow:
    return AttemptRow(
        attempt_no=int(attempt["attempt_no"]),
        order_number=attempt["order_number"],
        provider_order_id=attempt["md_order"],
        status=attempt["status"],
        amount_minor=int(attempt["amount_minor"]),
        currency=attempt["currency"],
        deposited_minor=attempt["deposited_minor"],
        store_id=int(owner["store_id"]),
        ecwid_order_id=owner["ecwid_order_id"],
        session_ecwid_status=owner["ecwid_status"],
    )
