"""Overdue loans for class teachers: who holds what past its due date, grouped by class.

One query (`overdue_loans`) serves the desk's printable list and its exports. A pupil is
named «Фамилия И.» (`short_name`): enough for a class teacher, less than the full name.
Pupils are grouped by their class (the reader's current class); teachers and staff form one
group of their own; a pupil without a class is grouped under «без класса».
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from library.reports.report import NO_CLASS, class_key
from library.schools import Scope
from library.storage.models import Copy, Loan, Reader, Record

STAFF = "teachers"  # the group key of teachers and staff (not a class name: class names are short)
STAFF_LABEL = "Педагоги и сотрудники"


@dataclass(frozen=True)
class OverdueLoan:
    """One open loan past its due date."""

    group: str  # the class, NO_CLASS, or STAFF
    reader: str  # «Фамилия И.»
    card: str
    title: str
    barcode: str
    due_date: dt.date
    days: int


@dataclass
class OverdueGroup:
    """The overdue loans of one class (or of the teachers and staff)."""

    key: str
    label: str
    loans: list[OverdueLoan] = field(default_factory=list)

    @property
    def readers(self) -> int:
        """How many readers of the group are in the list."""
        return len({x.card for x in self.loans})


def short_name(last: str | None, first: str | None) -> str:
    """«Петрова А.» from the last and first names."""
    last, first = (last or "").strip(), (first or "").strip()
    return f"{last} {first[0]}." if last and first else last or first


def _group(category: str | None, class_name: str | None) -> str:
    if category in ("teacher", "staff"):
        return STAFF
    return (class_name or "").strip() or NO_CLASS


@dataclass(frozen=True)
class OpenOverdue:
    """One open loan past its due date, as stored (for `ibc overdue` and GET /admin/overdue)."""

    loan_id: int
    due_date: dt.date
    days: int
    barcode: str | None
    title: str | None
    card: str | None  # None: the loan has lost its reader
    last_name: str | None
    first_name: str | None
    class_name: str | None
    category: str | None

    @property
    def full_name(self) -> str:
        """«Фамилия Имя» ('' without a reader)."""
        return f"{self.last_name or ''} {self.first_name or ''}".strip()


def open_overdue(s: Session, today: dt.date, *, school: Scope | None = None) -> list[OpenOverdue]:
    """Every open loan due before `today`, most overdue first (then by loan id). The one query
    of what "overdue" means for the lists; the report's figure is figures.loans_at_end.
    `school`: the loans of that school's readers only (library.schools.Scope)."""
    stmt = (select(Loan.id, Loan.due_date, Copy.barcode, Record.title, Reader.card_number,
                   Reader.last_name, Reader.first_name, Reader.class_name, Reader.category)
            .join(Copy, Loan.copy_id == Copy.id).join(Record, Copy.record_id == Record.id)
            .outerjoin(Reader, Loan.reader_id == Reader.id)
            .where(Loan.returned_at.is_(None), Loan.due_date < today)
            .order_by(Loan.due_date, Loan.id))
    if school is not None:
        stmt = stmt.where(school.clause(Reader.sigla))
    rows = s.execute(stmt).all()
    return [OpenOverdue(loan_id, due, (today - due).days, barcode, title, card, last, first, cls, cat)
            for loan_id, due, barcode, title, card, last, first, cls, cat in rows]


def overdue_loans(s: Session, today: dt.date, *, group: str | None = None,
                  school: Scope | None = None) -> list[OverdueLoan]:
    """Open loans due before `today` with a reader, by class, reader and due date; `group`
    keeps one class (or STAFF, or NO_CLASS) only; `school` one school's readers."""
    out = [OverdueLoan(_group(x.category, x.class_name), short_name(x.last_name, x.first_name),
                       x.card, x.title or "", x.barcode or "", x.due_date, x.days)
           for x in open_overdue(s, today, school=school) if x.card is not None]
    if group is not None:
        out = [x for x in out if x.group == group]
    out.sort(key=lambda x: (_order(x.group), x.reader.casefold(), x.card, x.due_date, x.title))
    return out


def _order(key: str) -> tuple:
    return (key == STAFF, class_key(key) if key != NO_CLASS else (2, 0, ""))


def group_label(key: str) -> str:
    """«7А», «без класса» or «Педагоги и сотрудники»."""
    return STAFF_LABEL if key == STAFF else key


def by_group(loans: list[OverdueLoan]) -> list[OverdueGroup]:
    """The loans (already ordered by overdue_loans) as one group per class, staff last."""
    groups: dict[str, OverdueGroup] = {}
    for x in loans:
        groups.setdefault(x.group, OverdueGroup(x.group, group_label(x.group))).loans.append(x)
    return list(groups.values())

