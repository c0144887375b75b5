"""The librarian's list of queued terminal operations the server refused when forwarded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from library.i18n import translator
from server.models import OfflineConflict

if TYPE_CHECKING:
    from library.circulation.errors import CirculationError
    from library.storage.database import Database
    from server.schemas import OfflineIn


def record_conflict(db: Database, terminal: str, op: OfflineIn, exc: CirculationError) -> None:
    """Store (or count again) a refused offline operation; nothing is dropped silently."""
    with db.transaction() as s:
        row = s.get(OfflineConflict, op.txn_id)
        if row is not None:
            row.attempts += 1
            return
        s.add(OfflineConflict(
            txn_id=op.txn_id, terminal=terminal, op=op.op, card=op.card, barcode=op.barcode,
            code=exc.code, message=exc.message(translator("ru"))[:500], queued_at=op.queued_at,
            params=exc.to_dict()["params"]))


def list_conflicts(db: Database, *, include_resolved: bool = False) -> list[dict]:
    """Conflicts, oldest first."""
    with db.session() as s:
        q = select(OfflineConflict).order_by(OfflineConflict.received_at, OfflineConflict.txn_id)
        if not include_resolved:
            q = q.where(OfflineConflict.resolved.is_(False))
        return [{"txn_id": c.txn_id, "terminal": c.terminal, "op": c.op, "card": c.card,
                 "barcode": c.barcode, "code": c.code, "message": c.message,
                 "queued_at": c.queued_at.isoformat() if c.queued_at else None,
                 "received_at": c.received_at.isoformat(), "attempts": c.attempts,
                 "resolved": c.resolved} for c in s.scalars(q)]


def resolve(db: Database, txn_id: str) -> bool:
    """Mark a conflict as dealt with; False when unknown."""
    with db.transaction() as s:
        row = s.get(OfflineConflict, txn_id)
        if row is None:
            return False
        row.resolved = True
        return True
