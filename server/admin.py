"""Librarian endpoints (librarian token from `ibc librarian token NAME`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from library.storage.models import Copy, Loan, Reader, Record
from server.app import Caller, librarian, state

router = APIRouter(prefix="/admin", tags=["librarian"])
Librarian = Annotated[Caller, Depends(librarian)]


@router.get("/overdue")
def overdue(request: Request, who: Librarian) -> list[dict]:
    """Open loans past their due date, most overdue first."""
    st = state(request)
    today = st.circulation.today()
    with st.db.session() as s:
        rows = s.execute(
            select(Loan, Copy, Record, Reader)
            .join(Copy, Loan.copy_id == Copy.id).join(Record, Copy.record_id == Record.id)
            .outerjoin(Reader, Loan.reader_id == Reader.id)
            .where(Loan.returned_at.is_(None), Loan.due_date < today)
            .order_by(Loan.due_date, Loan.id)
        ).all()
        return [{"loan_id": loan.id, "due_date": loan.due_date.isoformat(),
                 "days": (today - loan.due_date).days, "barcode": copy.barcode,
                 "title": rec.title, "card": r.card_number if r else None,
                 "reader": f"{r.last_name} {r.first_name}".strip() if r else None,
                 "class_name": r.class_name if r else None} for loan, copy, rec, r in rows]


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


