"""Search statistics: one Event per search ("search", or "search_zero" when nothing was found)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from library.storage.models import Event


def record_search_event(session: Session, query: str, total: int,
                        terminal: str | None = None) -> Event:
    """Add a search event to the session (the caller commits)."""
    ev = Event(kind="search" if total else "search_zero", query=(query or "")[:500],
               count=int(total), terminal=terminal, payload={})
    session.add(ev)
    return ev
