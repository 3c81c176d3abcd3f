"""Server-side truth for the money features (refunds, reversals, two-phase captures, the operator console):

- ``MoneyControl``: the simulator's control API beyond ``control.py``: a bank order with its amounts and
  ``refunds[]``, the bank's refund.do calls in the journal, bank faults and settings (``failNextRefund``), an Ecwid
  order's PUT history in any of the lab's stores, Ecwid faults, and a change made by hand in Ecwid's admin (a PUT
  with the store's own token, as the shop's staff would make it, never through the gateway);
- ``GatewayRecords``: the gateway's own records as data, through its console's JSON view (the lab's gateway and
  ours started elsewhere alike): the attempt, its refund records and its operator exceptions.

Every fault or bank setting a scenario changes is remembered, so ``cleanup`` restores the bank and Ecwid when the
scenario ends: the lab is shared by the whole session, and the next scenario must find them healthy.

Nothing in ``GatewayRecords`` writes; rows come back as frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from features.support.control import SimulatorControl
from features.support.gateway_api import ConsoleApi


class MoneyControl:
    def __init__(self, control: SimulatorControl) -> None:
        self.http: httpx.Client = control.http
        self.bank_fault_ids: list[int] = []
        self.ecwid_fault_ids: list[int] = []
        self.bank_settings_before: dict[str, Any] = {}

    # --- the bank ----------------------------------------------------------------------------------------------

    def bank_order(self, md_order: str) -> dict[str, Any]:
        """The bank's order: ``orderStatus``, ``amount``, ``paymentAmountInfo`` (approved, deposited, refunded
        amounts) and ``refunds[]`` (every refund the bank accepted, with its ``externalRefundId``)."""
        found: dict[str, Any] = _ok(self.http.get(f"/_control/vpos/orders/{md_order}"))
        return found

    def bank_calls(self, operation: str, md_order: str, since: int = 0) -> list[dict[str, Any]]:
        """The bank's journal entries of ``operation`` (e.g. ``refund.do``) for the order, oldest first."""
        entries = _ok(self.http.get("/_control/journal", params={"since": since, "service": "vpos"}))["entries"]
        return [e for e in entries if e["operation"] == operation and e["params"].get("orderId") == md_order]

    def add_bank_fault(self, **fault: Any) -> dict[str, Any]:
        created: dict[str, Any] = _ok(self.http.post("/_control/vpos/faults", json=fault))
        self.bank_fault_ids.append(int(created["id"]))
        return created

    def bank_fault(self, fault_id: int) -> dict[str, Any]:
        found: dict[str, Any] = _ok(self.http.get(f"/_control/vpos/faults/{fault_id}"))
        return found

    def set_bank(self, **settings: Any) -> dict[str, Any]:
        """Change the bank's settings; the values they had are put back by ``cleanup``."""
        before = _ok(self.http.get("/_control/vpos/bank"))
        for name in settings:
            self.bank_settings_before.setdefault(name, before[name])
        changed: dict[str, Any] = _ok(self.http.put("/_control/vpos/bank", json=settings))
        return changed

    def bank_settings(self) -> dict[str, Any]:
        found: dict[str, Any] = _ok(self.http.get("/_control/vpos/bank"))
        return found

    # --- Ecwid -------------------------------------------------------------------------------------------------

    def ecwid_order(self, store_id: int, order_id: str) -> dict[str, Any]:
        found: dict[str, Any] = _ok(self.http.get(f"/_control/ecwid/orders/{store_id}/{_ref(order_id)}"))
        return found

    def ecwid_history(self, store_id: int, order_id: str) -> list[dict[str, Any]]:
        """Every PUT that named the order, accepted or refused, oldest first (``accepted``, ``httpStatus``,
        ``fields``, ``newPaymentStatus``, ``fault``...)."""
        found = _ok(self.http.get(f"/_control/ecwid/orders/{store_id}/{_ref(order_id)}/history"))
        history: list[dict[str, Any]] = found["history"]
        return history

    def add_ecwid_fault(self, **fault: Any) -> dict[str, Any]:
        created: dict[str, Any] = _ok(self.http.post("/_control/ecwid/faults", json=fault))
        self.ecwid_fault_ids.append(int(created["id"]))
        return created

    def clear_ecwid_fault(self, fault_id: int) -> None:
        self.http.delete(f"/_control/ecwid/faults/{fault_id}")
        self.ecwid_fault_ids = [known for known in self.ecwid_fault_ids if known != fault_id]

    def change_in_ecwid_admin(self, store_id: int, order_id: str, token: str, **fields: str) -> None:
        """What the shop's staff do in Ecwid's admin: a PUT on Ecwid's orders API with the store's token."""
        response = self.http.put(
            f"/api/v3/{store_id}/orders/{_ref(order_id)}", json=fields, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.is_success, f"Ecwid refused the change by hand: {response.status_code} {response.text}"

    # --- cleanup -----------------------------------------------------------------------------------------------

    def cleanup(self) -> None:
        """Delete this scenario's faults and put back the bank settings it changed."""
        for fault_id in self.bank_fault_ids:
            self.http.delete(f"/_control/vpos/faults/{fault_id}")
        for fault_id in self.ecwid_fault_ids:
            self.http.delete(f"/_control/ecwid/faults/{fault_id}")
        if self.bank_settings_before:
            self.http.put("/_control/vpos/bank", json=self.bank_settings_before)
        self.bank_fault_ids.clear()
        self.ecwid_fault_ids.clear()
        self.bank_settings_before = {}


def amounts(bank_order: Mapping[str, Any]) -> dict[str, int]:
    """The bank order's ``paymentAmountInfo`` amounts: approved, deposited and refunded, in minor units."""
    info = bank_order.get("paymentAmountInfo") or {}
    return {name: int(info.get(f"{name}Amount") or 0) for name in ("approved", "deposited", "refunded")}


def accepted_statuses(history: list[dict[str, Any]]) -> list[str]:
    """The payment statuses Ecwid accepted for the order, in order."""
    return [str(e["newPaymentStatus"]) for e in history if e["accepted"] and e.get("newPaymentStatus")]


def statuses_ever_sent(history: list[dict[str, Any]]) -> set[str]:
    """Every payment status any PUT carried, accepted or refused."""
    return {str(e["fields"]["paymentStatus"]) for e in history if "paymentStatus" in (e.get("fields") or {})}


def _ok(response: httpx.Response) -> Any:
    assert response.is_success, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json()


def _ref(order_id: str) -> str:
    return quote(order_id, safe="")


# --- the gateway's records (read only) -------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptRecord:
    """One payment attempt as the gateway recorded it, with its payment session (the Ecwid order)."""

    attempt_id: int
    session_id: int
    store_id: int
    ecwid_order_id: str
    order_number: str
    md_order: str | None
    status: str
    amount_minor: int
    currency: str
    deposited_minor: int | None
    refunded_minor: int | None
    session_ecwid_status: str


@dataclass(frozen=True)
class RefundRecord:
    external_refund_id: str
    amount_minor: int
    status: str
    requested_by: str


@dataclass(frozen=True)
class ExceptionRecord:
    exception_id: int
    code: str
    detail: str
    open: bool
    resolved_by: str | None


class GatewayRecords:
    """Read-only access to the gateway's records of one bank order (its attempt, refunds and exceptions), through
    the console's JSON view (``features/support/gateway_api.py``)."""

    def __init__(self, api: ConsoleApi) -> None:
        self._api = api
        self._session_of_attempt: dict[int, int] = {}

    def attempt(self, md_order: str) -> AttemptRecord:
        for summary in self._api.search(md_order):
            page = self._api.payment(int(summary["id"]))
            owner = page["payment"]
            for attempt in page["attempts"]:
                if attempt["md_order"] != md_order:
                    continue
                self._session_of_attempt[int(attempt["id"])] = int(owner["id"])
                return AttemptRecord(
                    attempt_id=int(attempt["id"]),
                    session_id=int(owner["id"]),
                    store_id=int(owner["store_id"]),
                    ecwid_order_id=owner["ecwid_order_id"],
                    order_number=attempt["order_number"],
                    md_order=attempt["md_order"],
                    status=attempt["status"],
                    amount_minor=int(attempt["amount_minor"]),
                    currency=attempt["currency"],
                    deposited_minor=attempt["deposited_minor"],
                    refunded_minor=attempt["refunded_minor"],
                    session_ecwid_status=owner["ecwid_status"],
                )
        raise AssertionError(f"the gateway has no attempt for bank order {md_order}")

    def refunds(self, attempt_id: int) -> list[RefundRecord]:
        """The attempt's refund records, oldest first (the attempt is one ``attempt`` returned)."""
        session_id = self._session_of_attempt.get(attempt_id)
        assert session_id is not None, f"attempt {attempt_id} was not read through attempt() first"
        for attempt in self._api.payment(session_id)["attempts"]:
            if int(attempt["id"]) == attempt_id:
                return [
                    RefundRecord(r["external_refund_id"], int(r["amount_minor"]), r["status"], r["requested_by"])
                    for r in sorted(attempt["refunds"], key=lambda refund: int(refund["id"]))
                ]
        raise AssertionError(f"the gateway's payment {session_id} has no attempt {attempt_id}")

    def exceptions(self, session_id: int) -> list[ExceptionRecord]:
        """The payment's operator exceptions (open or resolved), oldest first."""
        rows = sorted(self._api.payment(session_id)["exceptions"], key=lambda row: int(row["id"]))
        return [
            ExceptionRecord(int(row["id"]), row["code"], row["detail"], bool(row["open"]), row["resolved_by"])
            for row in rows
        ]
