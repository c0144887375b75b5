"""The school-year move (the September job) and the later anonymisation of leavers.

`plan` says what the move would do; `promote` does it once per school year:

- every active pupil's class goes up one grade keeping its letter (5А → 6А, 10Б → 11Б), the
  class rule being library/circulation/readers.py's (`CLASS_RE`, `normalise_class`);
- pupils of the last grade (`[school] last_grade`, 11 by default; a grade above it too) leave:
  ``active`` false and ``archived_at`` now. Their class stays as it was and their open loans stay
  open (a debt the librarian still sees on the reader's page); an inactive reader gets no loan
  and opens no kiosk session;
- teachers, staff and pupils whose class is not like «5А» are not touched (the plan lists those
  classes so the librarian can fix them);
- the move is recorded in ``school_year_moves`` under the school year (the calendar year its
  autumn falls in: a day after `[circulation] school_year_end`, 31 May by default, belongs to the
  year starting that autumn). The year is the row's primary key, inserted in the same transaction
  as the move, so a second run in the same school year — even a parallel one — moves nobody.

`anonymise_archived` erases the names (and PIN, block reason) of leavers archived more than
`[circulation] archived_keep_days` ago who have no open loan, and unlinks their returned loans;
class, category and the loans' own class/category copies stay for the anonymous statistics.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from library.circulation.readers import CLASS_RE
from library.errors import IbcError
from library.storage.models import Loan, Reader, SchoolYearMove, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from library.storage.database import Database


class SchoolYearDone(IbcError):
    """The classes of this school year were already moved."""

    code = "school_year_done"

    def __init__(self, year: int, moved_at: dt.datetime | None = None):
        self.year = year
        self.moved_at = moved_at
        super().__init__(f"school year {year}/{year + 1}: the classes were already moved")


def school_year(day: dt.date, year_end: str = "05-31") -> int:
    """The school year `day` belongs to, named by the year of its September: a day after
    `year_end` ("MM-DD") starts the next one (1 June 2026 → 2026, 31 May 2027 → 2026)."""
    month, mday = (int(x) for x in year_end.split("-"))
    return day.year if (day.month, day.day) > (month, mday) else day.year - 1


def grade_of(class_name: str | None) -> tuple[int, str] | None:
    """(grade, letter) of a class like «5А» (as stored by `normalise_class`), else None."""
    if not class_name:
        return None
    m = CLASS_RE.match(class_name.strip())
    if not m:
        return None
    return int(m.group(1)), (m.group(2) or "").upper()


def next_class(class_name: str) -> str | None:
    """The class one grade up keeping the letter (5А → 6А), None for a class not like «5А»."""
    parsed = grade_of(class_name)
    return None if parsed is None else f"{parsed[0] + 1}{parsed[1]}"


@dataclass
class ClassMove:
    """One class going up: from, to, how many pupils."""

    old: str
    new: str
    pupils: int


@dataclass
class SchoolYearPlan:
    """What the move does (or did): classes going up, classes leaving, classes left alone."""

    year: int
    last_grade: int
    moves: list[ClassMove] = field(default_factory=list)
    leaving: dict[str, int] = field(default_factory=dict)
    leavers_with_loans: int = 0
    unknown: dict[str, int] = field(default_factory=dict)
    done_at: dt.datetime | None = None
    done_by: str | None = None

    @property
    def pupils_moved(self) -> int:
        """Pupils going up a grade."""
        return sum(m.pupils for m in self.moves)

    @property
    def leavers(self) -> int:
        """Pupils leaving the school."""
        return sum(self.leaving.values())

    def as_dict(self) -> dict[str, Any]:
        """For JSON (the CLI) and the audit row."""
        data = asdict(self)
        data["done_at"] = self.done_at.isoformat() if self.done_at else None
        data["pupils_moved"], data["leavers"] = self.pupils_moved, self.leavers
        return data


def _class_key(name: str) -> tuple[int, str]:
    parsed = grade_of(name)
    return parsed if parsed else (99, name)


def plan(s: Session, day: dt.date, *, last_grade: int = 11, year_end: str = "05-31") -> SchoolYearPlan:
    """What `promote` would do on `day` (nothing is written); `done_at` is set when this school
    year's move was already done."""
    year = school_year(day, year_end)
    result = SchoolYearPlan(year, last_grade)
    done = s.get(SchoolYearMove, year)
    if done is not None:
        result.done_at, result.done_by = done.moved_at, done.moved_by
    counts = s.execute(select(Reader.class_name, func.count()).where(
        Reader.category == "pupil", Reader.active.is_(True), Reader.class_name.is_not(None))
        .group_by(Reader.class_name)).all()
    leaving: list[str] = []
    for name, n in sorted(((str(c), int(k)) for c, k in counts), key=lambda row: _class_key(row[0])):
        parsed = grade_of(name)
        if parsed is None:
            result.unknown[name] = n
        elif parsed[0] >= last_grade:
            result.leaving[name] = n
            leaving.append(name)
        else:
            result.moves.append(ClassMove(name, f"{parsed[0] + 1}{parsed[1]}", n))
    if leaving:
        has_loan = exists().where(Loan.reader_id == Reader.id, Loan.returned_at.is_(None))
        result.leavers_with_loans = s.scalar(select(func.count()).select_from(Reader).where(
            Reader.category == "pupil", Reader.active.is_(True),
            Reader.class_name.in_(leaving), has_loan)) or 0
    return result


def promote(db: Database, day: dt.date, *, actor: str, last_grade: int = 11, year_end: str = "05-31",
            now: dt.datetime | None = None,
            audit: Any = None) -> SchoolYearPlan:
    """Move the classes for the school year of `day` (see the module's text) in one transaction
    and return what was done; SchoolYearDone when this year's move was already done.
    `audit(session, plan)`, when given, writes its own row in the same transaction."""
    now = now or utcnow()
    try:
        with db.transaction() as s:
            done = plan(s, day, last_grade=last_grade, year_end=year_end)
            if done.done_at is not None:
                raise SchoolYearDone(done.year, done.done_at)
            s.add(SchoolYearMove(year=done.year, moved_at=now, moved_by=actor[:64],
                                 pupils_moved=done.pupils_moved, leavers=done.leavers,
                                 detail={"moves": {m.old: m.new for m in done.moves},
                                         "leaving": done.leaving}))
            s.flush()  # a parallel move of the same year stops here (primary key)
            pupils = (Reader.category == "pupil", Reader.active.is_(True))
            if done.leaving:
                s.execute(update(Reader).where(*pupils, Reader.class_name.in_(list(done.leaving)))
                          .values(active=False, archived_at=now, updated_at=now))
            # the highest grade first: a class renamed now is never matched again below
            for move in sorted(done.moves, key=lambda m: _class_key(m.old), reverse=True):
                s.execute(update(Reader).where(*pupils, Reader.class_name == move.old)
                          .values(class_name=move.new, updated_at=now))
            done.done_at, done.done_by = now, actor[:64]
            if audit is not None:
                audit(s, done)
            return done
    except IntegrityError:
        raise SchoolYearDone(school_year(day, year_end)) from None


def anonymise_archived(db: Database, keep_days: int, now: dt.datetime | None = None) -> int:
    """Erase leavers archived more than `keep_days` ago who have no open loan: names, PIN and
    block reason go, the card number becomes «~ID»; their returned loans lose the reader link.
    Class and category stay (anonymous statistics). Returns how many readers were anonymised."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=keep_days)
    open_loan = exists().where(Loan.reader_id == Reader.id, Loan.returned_at.is_(None))
    with db.transaction() as s:
        ids = list(s.scalars(select(Reader.id).where(
            Reader.active.is_(False), Reader.archived_at.is_not(None), Reader.archived_at < cutoff,
            Reader.anonymised_at.is_(None), ~open_loan)))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            s.execute(update(Loan).where(Loan.reader_id.in_(chunk), Loan.returned_at.is_not(None))
                      .values(reader_id=None, anonymised=True))
            for reader_id in chunk:
                s.execute(update(Reader).where(Reader.id == reader_id).values(
                    card_number=f"~{reader_id}", last_name="", first_name="", middle_name=None,
                    pin_hash=None, block_reason=None, keep_history=False, anonymised_at=now,
                    updated_at=now))
        return len(ids)
