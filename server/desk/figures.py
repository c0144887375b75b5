"""The figures of the desk's home page, counted from the tables each time (never typed in)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, distinct, func, select

from library.storage.models import Copy, Loan, Reader, utcnow
from server.models import Terminal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from library.schools import Scope

SEEN_MIN = 10


def seen_since(now: dt.datetime) -> dt.datetime:
    """A terminal whose last_seen is at or after this is on line (the home page and the
    terminals page count alike)."""
    return now - dt.timedelta(minutes=SEEN_MIN)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The server's local day as [start, end) in UTC (stored times are UTC)."""
    tz = dt.datetime.now().astimezone().tzinfo
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.timezone.utc)
    return start, start + dt.timedelta(days=1)


def home_figures(s: Session, today: dt.date, now: dt.datetime | None = None, *,
                 school: Scope | None = None) -> dict[str, int]:
    """Loans issued and returned today, open loans past due, their readers, terminals seen in
    the last SEEN_MIN minutes and all enrolled (not revoked) terminals. `school` (a school's
    librarian): loans of its copies, overdue loans of its readers (as its overdue list), its
    terminals."""
    now = now or utcnow()
    start, end = day_bounds(today)
    count = func.count()
    readers: list[ColumnElement[bool]] = []
    copies: list[ColumnElement[bool]] = []
    if school is not None:
        readers.append(Loan.reader_id.in_(select(Reader.id).where(school.clause(Reader.sigla))))
        copies.append(Loan.copy_id.in_(select(Copy.id).where(school.clause(Copy.sigla))))
    overdue = (Loan.returned_at.is_(None), Loan.due_date < today, *readers)
    live = (Terminal.role == "terminal", Terminal.revoked_at.is_(None),
            *(() if school is None else (school.clause(Terminal.sigla),)))
    return {
        "issued_today": s.scalar(select(count).select_from(Loan)
                                 .where(Loan.issued_at >= start, Loan.issued_at < end, *copies)) or 0,
        "returned_today": s.scalar(select(count).select_from(Loan)
                                   .where(Loan.returned_at >= start, Loan.returned_at < end, *copies)) or 0,
        "overdue": s.scalar(select(count).select_from(Loan).where(*overdue)) or 0,
        "overdue_readers": s.scalar(select(func.count(distinct(Loan.reader_id)))
                                    .where(*overdue, Loan.reader_id.is_not(None))) or 0,
        "terminals_seen": s.scalar(select(count).select_from(Terminal).where(
            *live, Terminal.last_seen >= seen_since(now))) or 0,
        "terminals": s.scalar(select(count).select_from(Terminal).where(*live)) or 0,
    }
