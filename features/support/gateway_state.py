"""Read-only queries on the gateway's own records (the lab's in-process ``GatewayContext`` database): the attempts of
an Ecwid order (status, our compact ``orderNumber``, the bank's ``mdOrder``, amounts) and the operator exceptions
opened about it. The integrity features (RC-15, RC-18, RC-27, RC-33, RC-36) check server-side truth here as well as
at the bank and at Ecwid: what the gateway concluded, and what it told its operators.

Nothing here writes: every query runs in a session that is only read from and then closed (rolled back). Rows come
back as frozen dataclasses, so no ORM object leaves this module and no step can change the gateway through them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from gateway.store.database import Database
from gateway.store.models import Attempt, OperatorException, PaymentSession
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
    """Read-only access to the gateway's records of the lab's stores."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def attempts(self, ecwid_order_id: str, store_id: int = STORE_ID) -> list[AttemptRow]:
        """The attempts of the Ecwid order, first attempt first (empty when the gateway never saw the order)."""
        query = (
            select(Attempt, PaymentSession)
            .join(PaymentSession, Attempt.session_id == PaymentSession.id)
            .where(PaymentSession.store_id == store_id, PaymentSession.ecwid_order_id == ecwid_order_id)
            .order_by(Attempt.attempt_no)
        )
        with self._db.session() as session:
            return [_attempt_row(attempt, owner) for attempt, owner in session.execute(query).all()]

    def attempt_by_order_number(self, order_number: str) -> AttemptRow | None:
        """The attempt the gateway registered at the bank under ``order_number`` (the bank order's own reference)."""
        query = (
            select(Attempt, PaymentSession)
            .join(PaymentSession, Attempt.session_id == PaymentSession.id)
            .where(Attempt.order_number == order_number)
        )
        with self._db.session() as session:
            found = session.execute(query).first()
            return _attempt_row(found[0], found[1]) if found is not None else None

    def exceptions(self, ecwid_order_id: str, store_id: int = STORE_ID) -> list[ExceptionRow]:
        """Every operator exception about the Ecwid order (open or resolved), oldest first."""
        query = (
            select(OperatorException, Attempt.order_number)
            .join(PaymentSession, OperatorException.session_id == PaymentSession.id)
            .outerjoin(Attempt, OperatorException.attempt_id == Attempt.id)
            .where(PaymentSession.store_id == store_id, PaymentSession.ecwid_order_id == ecwid_order_id)
            .order_by(OperatorException.id)
        )
        with self._db.session() as session:
            return [
                ExceptionRow(row.code, row.detail, order_number, row.resolved_at is None)
                for row, order_number in session.execute(query).all()
            ]

    def open_exceptions(self, ecwid_order_id: str, store_id: int = STORE_ID) -> list[ExceptionRow]:
        return [row for row in self.exceptions(ecwid_order_id, store_id) if row.open]


def _attempt_row(attempt: Attempt, owner: PaymentSession) -> AttemptRow:
    return AttemptRow(
        attempt_no=attempt.attempt_no,
        order_number=attempt.order_number,
        provider_order_id=attempt.provider_order_id,
        status=attempt.status,
        amount_minor=attempt.amount_minor,
        currency=attempt.currency,
        deposited_minor=attempt.deposited_minor,
        store_id=owner.store_id,
        ecwid_order_id=owner.ecwid_order_id,
        session_ecwid_status=owner.ecwid_status,
    )
