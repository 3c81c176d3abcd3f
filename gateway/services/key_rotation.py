"""Re-encrypt every stored secret (Ecwid tokens, operators' TOTP secrets) under the newest token key.

Row by row, each in its own transaction with a compare-and-set on the old ciphertext, so it can run while the
gateway serves (a request that stored a fresh token meanwhile wins) and can be interrupted and run again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from gateway.domain.errors import ConfigurationError
from gateway.services.context import GatewayContext
from gateway.store.models import Operator, PaymentSession


@dataclass(frozen=True)
class RotationResult:
    rotated: int
    unreadable: int  # rows no configured key opens: reported, left as they are


def rotate_stored_secrets(ctx: GatewayContext) -> RotationResult:
    rotated = unreadable = 0
    targets = (
        (PaymentSession, PaymentSession.token_encrypted),
        (Operator, Operator.totp_secret_encrypted),
    )
    for model, column in targets:
        with ctx.db.session() as session:
            rows = session.execute(select(model.id, column).where(column.is_not(None))).all()
        for row_id, sealed in rows:
            if sealed is None:
                continue
            try:
                fresh = ctx.tokens.rotate(sealed)
            except ConfigurationError:
                unreadable += 1
                continue
            if fresh == sealed:
                continue
            with ctx.db.session() as session, session.begin():
                changed = session.execute(
                    update(model)
                    .where(model.id == row_id, column == sealed)
                    .values({column.key: fresh})
                    .execution_options(synchronize_session=False)
                )
                rotated += changed.rowcount  # type: ignore[attr-defined]
    return RotationResult(rotated, unreadable)
