"""The librarian's list of queued terminal operations the server refused when forwarded.

A conflict is resolved by a person (`ibc queue resolve`, the desk's «Конфликты без сети»), with
an optional note of what was done; who, when and the note are kept with the conflict
(``params["resolution"]``), so the list of resolved ones says it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from library.i18n import translator
from library.storage.models import utcnow
from library.text import printable
from server.models import OfflineConflict

NOTE_MAX = 500

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


def list_conflicts(db: Database, *, include_resolved: bool = False, with_params: bool = False) -> list[dict]:
    """Conflicts, oldest first; `with_params` adds the refusal's parameters (to say it again in
    another language: the desk's English pages)."""
    with db.session() as s:
        q = select(OfflineConflict).order_by(OfflineConflict.received_at, OfflineConflict.txn_id)
        if not include_resolved:
            q = q.where(OfflineConflict.resolved.is_(False))
        return [{"txn_id": c.txn_id, "terminal": c.terminal, "op": c.op, "card": c.card,
                 "barcode": c.barcode, "code": c.code, "message": c.message,
                 "queued_at": c.queued_at.isoformat() if c.queued_at else None,
                 "received_at": c.received_at.isoformat(), "attempts": c.attempts,
                 "resolved": c.resolved, "resolution": (c.params or {}).get("resolution"),
                 **({"params": {k: v for k, v in (c.params or {}).items() if k != "resolution"}}
                    if with_params else {})}
                for c in s.scalars(q)]


def resolve(db: Database, txn_id: str, *, note: str = "", by: str = "cli",
            also: Callable[[Session], None] | None = None) -> bool:
    """Mark a conflict as dealt with, keeping who did it, when and the note (printable, at most
    NOTE_MAX characters); False when unknown or already resolved. `also` runs in the same
    transaction (the desk's audit row)."""
    with db.transaction() as s:
        row = s.get(OfflineConflict, txn_id)
        if row is None or row.resolved:
            return False
        row.resolved = True
        row.params = {**(row.params or {}), "resolution": {
            "note": printable(note).strip()[:NOTE_MAX], "by": by[:64], "at": utcnow().isoformat()}}
        if also is not None:
            also(s)
        return True
