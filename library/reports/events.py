"""Visit events: the kiosk (or the server on its behalf) records one when a reader session starts.

A visit is counted once per reader session at a terminal: after the reader's card (and PIN, if
required) is accepted. Only the class and category are stored — never the reader's id or name —
so visits stay countable by class after loans are anonymised.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from library.storage.models import Event


def record_visit(session: Session, *, sigla: str | None = None, terminal: str | None = None,
                 reader_category: str | None = None, reader_class: str | None = None) -> Event:
    """Add a 'visit' event to the session (the caller commits)."""
    ev = Event(kind="visit", sigla=sigla, terminal=terminal, reader_category=reader_category,
               reader_class=reader_class, payload={})
    session.add(ev)
    return ev
