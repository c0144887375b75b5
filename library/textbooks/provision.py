"""Textbook provision (обеспеченность учебниками), next year's needs and the order list.

Definitions (the report writes them out, docs/TEXTBOOKS.md «Обеспеченность и заказ»):

- **pupils**: active readers of the category ``pupil`` whose class is like «5А»
  (library/circulation/school_year.py `grade_of`); the grade is the class's number.
- **the textbooks a class needs**: its class sets for the school year (``class_sets`` of the
  class's school: NULL is the default school's) when the class has any, else every textbook
  title (``textbook_titles``) whose grades cover the class's grade. They are grouped by subject;
  the titles of one subject count as interchangeable (one copy of any of them provides a pupil).
- **usable copy**: a copy of such a title whose status is neither ``lost`` nor ``written_off``.
  A copy on loan, in repair (``bindery``), ordered or being processed still counts: it belongs
  to the fund and serves the year.
- **the copies of a class**: the usable copies of the subject's titles held by the class's
  school (Copy.sigla) are shared out: first each class gets the copies its pupils hold now (on
  loan, up to its pupils; this year only), then the rest goes class by class in class order (5А
  before 5Б), each class taking what its pupils still need; the last class of the list keeps what
  is left over, so spare copies show and no copy is counted twice.
- **provision** (обеспеченность) = copies ÷ pupils × 100 %, per class and subject; rounded
  down to a whole per cent (99.6 % stays 99 %: a shortfall never shows as 100 %); the display
  is capped at 100 % while the exact numbers are shown beside it. For a grade, a school or the
  union catalogue: provided ÷ needed, where needed sums the pupils over every class and subject
  and provided sums min(pupils, copies).
- **next year**: every class goes up one grade keeping its letter (5А → 6А, the rule of
  `next_class`), the last grade (`[school] last_grade`) leaves, and a first grade arrives: the
  size the librarian gives (`first_grade`), else the size of this year's first grade (the same
  classes with the same pupils); the textbooks are next year's class sets when present, else
  the titles for the new grade.
- **the order list**: for every group of titles with a shortfall next year, the number of copies
  to buy; the title named is the one of the group with the most usable copies (the one in use),
  else the first by title.

Readers and copies without a sigla belong to the school of the settings (`home`). Everything is
read from the tables; nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from library.circulation.school_year import grade_of, school_year
from library.errors import IbcError
from library.storage.models import ClassSet, Copy, CopyStatus, Loan, Reader, Record, TextbookTitle
from library.textbooks.titles import fold, textbook_records

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

NOT_USABLE = (CopyStatus.LOST.value, CopyStatus.WRITTEN_OFF.value)
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_FIRST_GRADE = 2000


class ProvisionInvalid(IbcError):
    """A figure asked for cannot be computed (a year or a first grade out of range)."""

    code = "provision_invalid"


def percent(copies: int, pupils: int) -> int | None:
    """copies ÷ pupils × 100, rounded down (None for no pupils)."""
    return None if pupils <= 0 else copies * 100 // pupils


@dataclass
class Need:
    """One class and one subject: its pupils and the copies that fall to it."""

    sigla: str
    class_name: str
    grade: int
    subject: str
    pupils: int
    copies: int = 0
    titles: list[int] = field(default_factory=list)
    from_class_sets: bool = False

    @property
    def provided(self) -> int:
        """Pupils who get a copy."""
        return min(self.pupils, self.copies)

    @property
    def shortfall(self) -> int:
        """Pupils without a copy."""
        return self.pupils - self.provided

    @property
    def percent(self) -> int | None:
        """Provision in whole per cent (may exceed 100: spare copies)."""
        return percent(self.copies, self.pupils)

    def as_dict(self) -> dict[str, Any]:
        """For JSON."""
        return asdict(self) | {"provided": self.provided, "shortfall": self.shortfall,
                               "percent": self.percent}


@dataclass
class Total:
    """Sums over needs (a grade, a school, the union catalogue)."""

    needed: int = 0
    provided: int = 0
    copies: int = 0

    @property
    def shortfall(self) -> int:
        """Pupil-subject pairs without a copy."""
        return self.needed - self.provided

    @property
    def percent(self) -> int | None:
        """provided ÷ needed in whole per cent (never above 100)."""
        return percent(self.provided, self.needed)

    def add(self, need: Need) -> None:
        """Count one class-subject."""
        self.needed += need.pupils
        self.provided += need.provided
        self.copies += need.copies

    def as_dict(self) -> dict[str, Any]:
        """For JSON."""
        return asdict(self) | {"shortfall": self.shortfall, "percent": self.percent}


@dataclass
class OrderLine:
    """What to buy for one group of titles."""

    sigla: str
    subject: str
    grades: str
    record_id: int | None
    title: str
    authors: str
    fpu_number: str
    copies: int
    classes: list[str]

    def as_dict(self) -> dict[str, Any]:
        """For JSON."""
        return asdict(self)


@dataclass
class Provision:
    """The provision of a school year (this one, or next year's projection)."""

    year: int
    projected: bool
    needs: list[Need]
    classes: dict[tuple[str, str], int]  # (sigla, class) → pupils
    no_textbooks: list[tuple[str, str]]  # classes with pupils and no textbook known
    pools: list[tuple[str, tuple[int, ...], str, list[Need], int]]  # sigla, titles, subject, needs, copies
    first_grade: int | None = None
    home: str = ""

    @property
    def schools(self) -> list[str]:
        """The schools (sigla) with pupils or needs, in order."""
        return sorted({s for s, _ in self.classes})

    def by_grade(self) -> dict[tuple[str, int], Total]:
        """(sigla, grade) → totals."""
        out: dict[tuple[str, int], Total] = defaultdict(Total)
        for n in self.needs:
            out[(n.sigla, n.grade)].add(n)
        return dict(sorted(out.items()))

    def by_subject_grade(self) -> dict[tuple[str, int, str], Total]:
        """(sigla, grade, subject) → totals (next year's needs)."""
        out: dict[tuple[str, int, str], Total] = defaultdict(Total)
        for n in self.needs:
            out[(n.sigla, n.grade, n.subject)].add(n)
        return dict(sorted(out.items()))

    def by_school(self) -> dict[str, Total]:
        """sigla → totals."""
        out: dict[str, Total] = {s: Total() for s in self.schools}
        for n in self.needs:
            out[n.sigla].add(n)
        return out

    def total(self) -> Total:
        """The union catalogue's totals."""
        t = Total()
        for n in self.needs:
            t.add(n)
        return t

    def as_dict(self) -> dict[str, Any]:
        """For JSON (`ibc textbooks provision --json`)."""
        return {
            "year": self.year, "projected": self.projected, "first_grade": self.first_grade,
            "needs": [n.as_dict() for n in self.needs],
            "by_grade": [{"sigla": s, "grade": g, **t.as_dict()} for (s, g), t in self.by_grade().items()],
            "by_school": [{"sigla": s, **t.as_dict()} for s, t in self.by_school().items()],
            "total": self.total().as_dict(),
            "no_textbooks": [{"sigla": s, "class": c} for s, c in self.no_textbooks],
        }


def class_key(name: str) -> tuple[int, str]:
    """Sort classes by grade, then letter (5А, 5Б, 10А)."""
    parsed = grade_of(name)
    return parsed if parsed else (99, name)


def check_year(year: int) -> int:
    """A school year the figures may be asked for."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ProvisionInvalid(f"school year {year}: between {FIRST_YEAR} and {LAST_YEAR}")
    return year


def current_year(day: dt.date, year_end: str = "05-31") -> int:
    """The school year of `day` (library/circulation/school_year.py's rule)."""
    return school_year(day, year_end)


def pupils_by_class(s: Session, home: str, sigla: str | None = None) -> dict[tuple[str, str], int]:
    """(sigla, class) → active pupils, for classes like «5А»."""
    rows = s.execute(select(Reader.sigla, Reader.class_name, func.count()).where(
        Reader.category == "pupil", Reader.active.is_(True), Reader.class_name.is_not(None))
        .group_by(Reader.sigla, Reader.class_name)).all()
    out: dict[tuple[str, str], int] = defaultdict(int)
    for school, name, n in rows:
        school = school or home
        if grade_of(name) is None or (sigla is not None and school != sigla):
            continue
        out[(school, str(name))] += int(n)
    return dict(sorted(out.items(), key=lambda kv: (kv[0][0], class_key(kv[0][1]))))


def _titles(s: Session) -> dict[int, tuple[str, int | None, int | None]]:
    """record id → (subject, grade_from, grade_to) of every textbook (library.textbooks.titles'
    rule: the one place that decides which records are textbooks)."""
    return {r.record_id: (r.subject, r.grade_from, r.grade_to) for r in textbook_records(s)}


def _covers(grade: int, lo: int | None, hi: int | None) -> bool:
    """The grades of a title include `grade` (textbook_records' rule: no lower grade, no grade)."""
    return lo is not None and lo <= grade <= (hi if hi is not None else lo)


def _record_subjects(s: Session, ids: set[int]) -> dict[int, str]:
    """A record of a class set that is not (yet) a textbook title: its own title as the subject."""
    if not ids:
        return {}
    return {int(i): str(t) for i, t in s.execute(select(Record.id, Record.title).where(Record.id.in_(ids)))}


def _usable(s: Session, home: str, ids: set[int]) -> dict[tuple[str, int], int]:
    """(sigla, record id) → usable copies of the records `ids`."""
    out: dict[tuple[str, int], int] = defaultdict(int)
    chunk = sorted(ids)
    for start in range(0, len(chunk), 500):
        rows = s.execute(select(Copy.sigla, Copy.record_id, func.count())
                         .where(Copy.record_id.in_(chunk[start:start + 500]),
                                Copy.status.not_in(NOT_USABLE))
                         .group_by(Copy.sigla, Copy.record_id)).all()
        for sigla, rec, n in rows:
            out[(sigla or home, int(rec))] += int(n)
    return dict(out)


def _held(s: Session, home: str, ids: set[int]) -> dict[tuple[str, str, int], int]:
    """(sigla of the copy, class, record id) → usable copies of `ids` on loan to active pupils."""
    out: dict[tuple[str, str, int], int] = defaultdict(int)
    chunk = sorted(ids)
    for start in range(0, len(chunk), 500):
        rows = s.execute(select(Copy.sigla, Reader.class_name, Copy.record_id, func.count())
                         .join(Loan, Loan.copy_id == Copy.id).join(Reader, Reader.id == Loan.reader_id)
                         .where(Copy.record_id.in_(chunk[start:start + 500]), Loan.returned_at.is_(None),
                                Copy.status.not_in(NOT_USABLE), Reader.category == "pupil",
                                Reader.active.is_(True), Reader.class_name.is_not(None))
                         .group_by(Copy.sigla, Reader.class_name, Copy.record_id)).all()
        for sigla, name, rec, n in rows:
            out[(sigla or home, str(name), int(rec))] += int(n)
    return dict(out)


def _needs(s: Session, year: int, classes: dict[tuple[str, str], int], home: str,
           projected: bool, first_grade: int | None = None) -> Provision:
    titles = _titles(s)
    # a class's set is its school's (class_sets.sigla, NULL = the default school `home`):
    # «5А» of two schools has two sets
    sets: dict[tuple[str, str], set[int]] = defaultdict(set)
    for set_sigla, name, rec in s.execute(select(ClassSet.sigla, ClassSet.class_name, ClassSet.record_id)
                                          .where(ClassSet.school_year == year)):
        sets[(set_sigla or home, str(name))].add(int(rec))
    other = _record_subjects(s, {r for recs in sets.values() for r in recs} - set(titles))
    # (sigla, titles) → (subject, [needs])
    pools: dict[tuple[str, tuple[int, ...]], tuple[str, list[Need]]] = {}
    no_textbooks: list[tuple[str, str]] = []
    names: dict[str, str] = {}  # a subject's folded form → the first spelling seen
    for (sigla, name), pupils in classes.items():
        parsed = grade_of(name)
        assert parsed is not None
        grade = parsed[0]
        by_subject: dict[str, set[int]] = defaultdict(set)
        chosen = sets.get((sigla, name))
        if chosen:
            for rec in chosen:
                subject = titles[rec][0] if rec in titles else ""
                by_subject[names.setdefault(fold(subject), subject) if subject
                           else other.get(rec, "") or "—"].add(rec)
        else:
            for rec, (subject, lo, hi) in titles.items():
                if _covers(grade, lo, hi):
                    by_subject[names.setdefault(fold(subject), subject) if subject else "—"].add(rec)
        if not by_subject:
            no_textbooks.append((sigla, name))
        for subject, recs in sorted(by_subject.items()):
            key = (sigla, tuple(sorted(recs)))
            need = Need(sigla, name, grade, subject, pupils, titles=list(key[1]),
                        from_class_sets=bool(chosen))
            pools.setdefault(key, (subject, []))[1].append(need)
    usable = _usable(s, home, {r for _, ids in pools for r in ids})
    held = {} if projected else _held(s, home, {r for _, ids in pools for r in ids})
    pool_list: list[tuple[str, tuple[int, ...], str, list[Need], int]] = []
    for (sigla, ids), (subject, needs) in pools.items():
        left = sum(usable.get((sigla, r), 0) for r in ids)
        total = left
        needs.sort(key=lambda n: class_key(n.class_name))
        for need in needs:  # first what the class's pupils hold now (this year only)
            mine = sum(held.get((sigla, need.class_name, r), 0) for r in ids)
            need.copies = min(need.pupils, mine, left)
            left -= need.copies
        for i, need in enumerate(needs):  # then the rest, class by class; the last keeps the spare
            more = left if i == len(needs) - 1 else min(need.pupils - need.copies, left)
            need.copies += more
            left -= more
        pool_list.append((sigla, ids, subject, needs, total))
    all_needs = sorted((n for _, _, _, ns, _ in pool_list for n in ns),
                       key=lambda n: (n.sigla, class_key(n.class_name), n.subject))
    return Provision(year, projected, all_needs, classes, no_textbooks, pool_list, first_grade, home)


def provision(s: Session, year: int, *, home: str, sigla: str | None = None) -> Provision:
    """The provision of school year `year` per class and subject (see the module's text)."""
    check_year(year)
    return _needs(s, year, pupils_by_class(s, home, sigla), home, projected=False)


def next_year_classes(classes: dict[tuple[str, str], int], last_grade: int,
                      first_grade: int | None = None) -> dict[tuple[str, str], int]:
    """Next year's classes: each class one grade up (5А → 6А), the last grade gone, a first grade
    arriving with `first_grade` pupils in all (in one class «1А» of another school…: split over
    this year's first-grade classes in proportion, else one class «1А»), or as this year's."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    firsts: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (sigla, name), pupils in classes.items():
        parsed = grade_of(name)
        if parsed is None:
            continue
        grade, letter = parsed
        if grade == 1:
            firsts[sigla].append((name, pupils))
        if grade < last_grade:
            out[(sigla, f"{grade + 1}{letter}")] += pupils
    for sigla in sorted({s for s, _ in classes}):
        now = firsts.get(sigla, [])
        if first_grade is None:
            for name, pupils in now:
                out[(sigla, name)] += pupils
        elif first_grade > 0:
            if not now:
                out[(sigla, "1А")] += first_grade  # not UI text: a class name
                continue
            size = sum(p for _, p in now)
            given = 0
            for i, (name, pupils) in enumerate(now):
                share = first_grade - given if i == len(now) - 1 else first_grade * pupils // size
                out[(sigla, name)] += share
                given += share
    return dict(sorted(((k, v) for k, v in out.items() if v > 0),
                       key=lambda kv: (kv[0][0], class_key(kv[0][1]))))


def next_year(s: Session, year: int, *, home: str, last_grade: int = 11, first_grade: int | None = None,
              sigla: str | None = None) -> Provision:
    """Next school year's (`year` + 1) provision with the classes moved up (see the module's text)."""
    check_year(year)
    if first_grade is not None and not 0 <= first_grade <= MAX_FIRST_GRADE:
        raise ProvisionInvalid(f"first grade: 0 to {MAX_FIRST_GRADE} pupils")
    classes = next_year_classes(pupils_by_class(s, home, sigla), last_grade, first_grade)
    return _needs(s, year + 1, classes, home, projected=True, first_grade=first_grade)


def order_list(s: Session, plan: Provision) -> list[OrderLine]:
    """What to buy to cover `plan`'s shortfall (normally next year's), one line per group of titles."""
    wanted = [(sigla, recs, subject, needs, total) for sigla, recs, subject, needs, total in plan.pools
              if sum(n.pupils for n in needs) > total]
    ids = {r for _, recs, _, _, _ in wanted for r in recs}
    usable = _usable(s, plan.home, ids)
    info: dict[int, tuple[str, list[str], str]] = {}
    if ids:
        for rid, title, authors, fpu in s.execute(
                select(Record.id, Record.title, Record.authors, TextbookTitle.fpu_number)
                .join(TextbookTitle, TextbookTitle.record_id == Record.id).where(Record.id.in_(ids))):
            info[int(rid)] = (str(title), list(authors or []), fpu or "")
        missing = ids - set(info)
        for rid, title, authors in s.execute(select(Record.id, Record.title, Record.authors)
                                             .where(Record.id.in_(missing))):
            info[int(rid)] = (str(title), list(authors or []), "")
    lines = []
    for sigla, recs, subject, needs, total in wanted:
        known = [r for r in recs if r in info]
        known.sort(key=lambda r: (-usable.get((sigla, r), 0), info[r][0].casefold(), r))
        best = known[0] if known else None
        title, authors, fpu = info[best] if best is not None else ("", [], "")
        grades = sorted({n.grade for n in needs})
        lines.append(OrderLine(sigla, subject, grade_span(grades), best, title, "; ".join(authors), fpu,
                               sum(n.pupils for n in needs) - total,
                               [n.class_name for n in needs]))
    lines.sort(key=lambda x: (x.sigla, x.grades.zfill(5), x.subject, x.title))
    return lines


def grade_span(grades: list[int]) -> str:
    """[5] → '5', [5, 6, 7] → '5–7', [5, 7] → '5, 7'."""
    if not grades:
        return ""
    if grades == list(range(grades[0], grades[-1] + 1)) and len(grades) > 1:
        return f"{grades[0]}–{grades[-1]}"
    return ", ".join(str(g) for g in grades)
