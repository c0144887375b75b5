"""The desk's audit log (table ``desk_audit``): one helper, called inside the transaction whose
change it records, so a change and its row commit (or roll back) together."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from library.text import printable
from server.models import DeskAudit

MAX_TEXT = 200


def _clean(value: object) -> Any:
    """A detail value as stored: strings made printable and cut to MAX_TEXT characters."""
    if isinstance(value, str):
        text = printable(value).replace("\n", "\\n").replace("\t", "\\t")
        return text[:MAX_TEXT] + ("…" if len(text) > MAX_TEXT else "")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return _clean(str(value))


def audit(session: Session, actor: str, action: str, *, ip: str | None = None, **detail: object) -> None:
    """Record that `actor` (an account name, "cli", or "-" for an unknown caller) did `action`."""
    session.add(DeskAudit(actor=_clean(actor)[:64], action=action[:32],
                          detail={k: _clean(v) for k, v in detail.items()},
                          client_ip=ip[:64] if ip else None))


PAGE = 100


def recent(session: Session, *, actor: str = "", action: str = "", before: int | None = None,
           limit: int = PAGE) -> list[DeskAudit]:
    """The newest rows first (`before`: only rows with a smaller id, for the next page),
    optionally of one actor and/or one action."""
    from sqlalchemy import select

    stmt = select(DeskAudit).order_by(DeskAudit.id.desc()).limit(limit)
    if actor:
        stmt = stmt.where(DeskAudit.actor == actor)
    if action:
        stmt = stmt.where(DeskAudit.action == action)
    if before is not None:
        stmt = stmt.where(DeskAudit.id < before)
    return list(session.scalars(stmt))


def actions(session: Session) -> list[str]:
    """Every action name recorded so far (for the filter)."""
    from sqlalchemy import select

    return sorted(session.scalars(select(DeskAudit.action).distinct()))
