"""Librarian endpoints (librarian token from `ibc librarian token NAME`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from library.reports.overdue import open_overdue
from server.app import Caller, librarian, state

router = APIRouter(prefix="/admin", tags=["librarian"])
Librarian = Annotated[Caller, Depends(librarian)]


@router.get("/overdue")
def overdue(request: Request, who: Librarian) -> list[dict]:
    """Open loans past their due date, most overdue first."""
    st = state(request)
    with st.db.session() as s:
        rows = open_overdue(s, st.circulation.today())
    return [{"loan_id": x.loan_id, "due_date": x.due_date.isoformat(), "days": x.days,
             "barcode": x.barcode, "title": x.title, "card": x.card,
             "reader": x.full_name if x.card is not None else None,
             "class_name": x.class_name} for x in rows]


@router.get("/terminals")
def terminals(request: Request, who: Librarian) -> list[dict]:
    """Enrolled terminals and librarian credentials (no tokens)."""
    from server.security import list_credentials

    return list_credentials(state(request).db)


@router.get("/conflicts")
def conflicts(request: Request, who: Librarian, all: bool = False) -> list[dict]:  # noqa: A002
    """Queued terminal operations the server refused (copy on loan, reader blocked...)."""
    from server.conflicts import list_conflicts

    return list_conflicts(state(request).db, include_resolved=all)


