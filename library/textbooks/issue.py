"""Class sets: the September issue of a class's textbooks and the May collection.

* A class's set for a school year (the year of its September, library/circulation/school_year.py)
  is a list of textbook records (`ClassSet` rows). `copy_set` copies last year's set of the
  class below (this year's 6А takes last year's 5А list).
* `issue_class` gives every pupil of the class (active readers with that class) one copy of
  each title of the set: the library's available copies in inventory-number order, each lent
  through the same `CirculationService.checkout` as any loan (the ``textbook`` item type's rule
  makes it due at the school year's end). Every loan has a deterministic transaction id
  ``cls:{year}:{record}:{reader}:{copy}``: a pupil who holds the title, or got it this school
  year already (a transaction of this year, for this title and pupil, that lent), is skipped,
  so a re-run or a run after a crash lends nothing twice and goes on where it stopped. Too few
  copies: what could be lent is lent, and the shortage per title is told. A class issue is the
  librarian's decision, so it goes with an `Override` (a pupil's loan limit and blocks do not
  stop a set; the waived rule is recorded as an ``override`` event as for any override).
* `scan_issue` does the same one copy at a time, in the order the librarian scans them: the
  copy goes to the first pupil (by name) of the class without that title.
* `collect` takes a copy back (`CirculationService.checkin`, transaction id ``ret:{loan}``:
  exactly once) and names the pupil; `owing` lists who still holds which textbook, per class,
  leavers (archived by the school-year move) and pupils gone to another school included.
* Schools (docs/SCHOOLS.md «The desk per school»): a set belongs to a school (``class_sets.sigla``,
  NULL = the default school), so «5А» of school A and «5А» of school B are two sets. Every
  function takes `school`, a library.schools.Scope: its sets, its pupils (readers) and, for an
  issue, its copies. None (or the default school of a single-school install, whose Scope
  filters nothing) keeps what a single school always did.
* Lost or damaged (`mark_lost`, `mark_damaged`): the circulation rules say a lost copy keeps
  its loan open — the pupil owes it (``has_lost`` at the next checkout) until it is found and
  returned or replaced; a damaged copy is returned and goes to repair (``bindery``) through
  library/copies.py's rules, with a note.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, or_, select, true

from library.circulation import errors as E
from library.circulation.overrides import Override
from library.circulation.school_year import grade_of, school_year
from library.errors import IbcError, NotFound
from library.storage.models import (
    ClassSet,
    Copy,
    CopyStatus,
    Loan,
    Reader,
    Record,
    TextbookTitle,
    TransactionLog,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from sqlalchemy.sql.elements import ColumnElement

    from library.circulation.service import CirculationService, Recorder
    from library.circulation.values import LoanOutcome
    from library.schools import Scope
    from library.storage.database import Database

MAX_NOTE = 500
ISSUE_PREFIX = "cls"
RETURN_PREFIX = "ret"


class ClassSetError(IbcError):
    """A class-set action cannot be done; `code` names why, `params` the values."""

    code = "class_set"

    def __init__(self, code: str, message: str, **params: object):  # noqa: D107
        super().__init__(message)
        self.code = code
        self.params = params


# --- which records are textbooks --------------------------------------------------------------
def textbook_condition() -> ColumnElement[bool]:
    """«This record is a textbook» for a query on Record: library/textbooks/titles.py's rule."""
    from library.textbooks.titles import is_textbook_clause

    return Record.id.in_(select(Record.id)
                         .outerjoin(TextbookTitle, TextbookTitle.record_id == Record.id)
                         .where(is_textbook_clause()).correlate(None).scalar_subquery())


def current_year(today: dt.date, year_end: str = "05-31") -> int:
    """The school year today is in (the school-year move's rule)."""
    return school_year(today, year_end)


def class_below(class_name: str) -> str | None:
    """Last year's name of this year's class (6А → 5А), None for a first grade or a class not
    like «5А»."""
    parsed = grade_of(class_name)
    if parsed is None or parsed[0] <= 1:
        return None
    return f"{parsed[0] - 1}{parsed[1]}"


def short_name(reader: Reader) -> str:
    """«Иванов А.»: the surname and the first name's initial."""
    initial = f" {reader.first_name[:1]}." if reader.first_name else ""
    return (reader.last_name or reader.card_number) + initial


def full_name(reader: Reader) -> str:
    """«Иванов Алексей» (the printed list's form)."""
    return " ".join(x for x in (reader.last_name, reader.first_name) if x) or reader.card_number


def copy_code(copy: Copy) -> str:
    """What a scanner reads off the copy: its barcode, else its inventory number."""
    return copy.barcode or copy.inventory_number or ""


# --- the set ----------------------------------------------------------------------------------
def set_sigla(school: Scope | None) -> str | None:
    """The ``class_sets.sigla`` of a school's sets: None for the default school (a Scope of
    the default school lists the other schools to exclude, another school's names it)."""
    return school.school if school is not None and school.only else None


def _of_school(school: Scope | None) -> ColumnElement[bool]:
    sigla = set_sigla(school)
    return ClassSet.sigla.is_(None) if sigla is None else ClassSet.sigla == sigla


def _readers_of(school: Scope | None) -> ColumnElement[bool]:
    return school.clause(Reader.sigla) if school is not None else true()


@dataclass
class Title:
    """One textbook of a class's set."""

    record_id: int
    title: str
    authors: str
    item_type: str = "textbook"

    @property
    def year_loan(self) -> bool:
        """False when the record's item type is not ``textbook``: circulation's loan rule for
        its type applies (a «book» lends for 14 days, not until the school year's end)."""
        return self.item_type == "textbook"


def _title(rec: Record) -> Title:
    names = [a.split(",")[0].strip() for a in (rec.authors or [])[:2]]
    return Title(rec.id, rec.title, ", ".join(n for n in names if n), rec.item_type or "book")


def set_titles(s: Session, year: int, class_name: str, *, school: Scope | None = None) -> list[Title]:
    """The class's textbooks for the year (the class of `school`), by title."""
    rows = s.scalars(select(Record).join(ClassSet, ClassSet.record_id == Record.id)
                     .where(ClassSet.school_year == year, ClassSet.class_name == class_name,
                            _of_school(school))
                     .order_by(Record.title, Record.id))
    return [_title(r) for r in rows]


def textbook_choices(s: Session, limit: int = 2000) -> list[Title]:
    """Every textbook of the catalogue (the set editor's list), by title."""
    rows = s.scalars(select(Record).where(textbook_condition(), Record.deleted.is_(False))
                     .order_by(Record.title, Record.id).limit(limit))
    return [_title(r) for r in rows]


def add_to_set(s: Session, year: int, class_name: str, record_id: int, by: str, *,
               school: Scope | None = None) -> bool:
    """Put a textbook into the class's set; False when it was there. ClassSetError
    ``not_textbook`` for a record that is not a textbook (or is missing or deleted)."""
    ok = s.scalar(select(Record.id).where(Record.id == record_id, Record.deleted.is_(False),
                                          textbook_condition()))
    if ok is None:
        raise ClassSetError("not_textbook", f"record {record_id} is not a textbook",
                            record_id=record_id)
    if s.scalar(select(ClassSet.id).where(ClassSet.school_year == year,
                                          ClassSet.class_name == class_name,
                                          ClassSet.record_id == record_id,
                                          _of_school(school))) is not None:
        return False
    s.add(ClassSet(school_year=year, class_name=class_name, record_id=record_id,
                   created_by=by[:64], sigla=set_sigla(school)))
    s.flush()
    return True


def remove_from_set(s: Session, year: int, class_name: str, record_id: int, *,
                    school: Scope | None = None) -> bool:
    """Take a textbook out of the set (its loans stay as they are); False when it was not there."""
    res = s.execute(delete(ClassSet).where(ClassSet.school_year == year,
                                           ClassSet.class_name == class_name,
                                           ClassSet.record_id == record_id, _of_school(school)))
    return bool(getattr(res, "rowcount", 0))


def copy_set(s: Session, year: int, class_name: str, by: str, *, school: Scope | None = None) -> int:
    """Add last year's set of the class below (6А of 2026 takes 5А of 2025); how many added."""
    below = class_below(class_name)
    if below is None:
        raise ClassSetError("no_class_below", f"{class_name} has no class below",
                            class_name=class_name)
    added = 0
    for t in set_titles(s, year - 1, below, school=school):
        try:
            added += add_to_set(s, year, class_name, t.record_id, by, school=school)
        except ClassSetError:
            continue  # no longer a textbook (or deleted): not copied
    return added


# --- the class's sheet: pupils × titles --------------------------------------------------------
@dataclass
class Held:
    """A textbook a pupil holds: the copy's codes, the loan."""

    loan_id: int
    copy_id: int
    barcode: str
    inventory: str
    due: dt.date
    lost: bool


@dataclass
class Pupil:
    """A pupil of the class (active) or a former one still owing."""

    reader_id: int
    card: str
    name: str
    short: str
    active: bool


@dataclass
class ClassSheet:
    """The class's pupils, its set's titles and who holds what."""

    year: int
    class_name: str
    pupils: list[Pupil]
    titles: list[Title]
    held: dict[tuple[int, int], Held] = field(default_factory=dict)

    @property
    def issued(self) -> int:
        """Pupil × title pairs with an open loan."""
        return sum(1 for p in self.pupils for t in self.titles if (p.reader_id, t.record_id) in self.held)

    @property
    def needed(self) -> int:
        """Pupil × title pairs of the set."""
        return len(self.pupils) * len(self.titles)

    def lacking(self, record_id: int) -> list[Pupil]:
        """The pupils without this title, in list order."""
        return [p for p in self.pupils if (p.reader_id, record_id) not in self.held]


def _pupil(r: Reader) -> Pupil:
    return Pupil(r.id, r.card_number, full_name(r), short_name(r), bool(r.active))


def class_pupils(s: Session, class_name: str, *, school: Scope | None = None) -> list[Reader]:
    """The active readers of the class (of `school`), by name."""
    return list(s.scalars(select(Reader).where(Reader.class_name == class_name, Reader.active.is_(True),
                                               _readers_of(school))
                          .order_by(Reader.last_name, Reader.first_name, Reader.id)))


def _open_holdings(s: Session, reader_ids: list[int], record_ids: list[int]) -> dict[tuple[int, int], Held]:
    if not reader_ids or not record_ids:
        return {}
    rows = s.execute(select(Loan, Copy).join(Copy, Loan.copy_id == Copy.id)
                     .where(Loan.returned_at.is_(None), Loan.reader_id.in_(reader_ids),
                            Copy.record_id.in_(record_ids)).order_by(Loan.id))
    out: dict[tuple[int, int], Held] = {}
    for loan, copy in rows:
        assert loan.reader_id is not None
        out.setdefault((loan.reader_id, copy.record_id),
                       Held(loan.id, copy.id, copy.barcode or "", copy.inventory_number or "",
                            loan.due_date, copy.status == CopyStatus.LOST.value))
    return out


def class_sheet(s: Session, year: int, class_name: str, *, school: Scope | None = None) -> ClassSheet:
    """Who of the class (of `school`) holds which title of the year's set."""
    pupils = [_pupil(r) for r in class_pupils(s, class_name, school=school)]
    titles = set_titles(s, year, class_name, school=school)
    held = _open_holdings(s, [p.reader_id for p in pupils], [t.record_id for t in titles])
    return ClassSheet(year, class_name, pupils, titles, held)


@dataclass
class ClassStatus:
    """One line of the class list."""

    class_name: str
    pupils: int
    titles: int
    issued: int
    needed: int
    owing: int  # open textbook loans of the class's readers (leavers included)


def class_list(s: Session, year: int, *, school: Scope | None = None) -> list[ClassStatus]:
    """Every class (of `school`) with pupils or a set this year, by grade and letter."""
    names = set(s.scalars(select(Reader.class_name).where(Reader.active.is_(True),
                                                          Reader.class_name.is_not(None),
                                                          _readers_of(school)).distinct()))
    names |= set(s.scalars(select(ClassSet.class_name).where(ClassSet.school_year == year,
                                                             _of_school(school)).distinct()))
    owing_by_class: dict[str, int] = {}
    for row in owing(s, school=school):
        owing_by_class[row.class_name] = owing_by_class.get(row.class_name, 0) + 1
    out = []
    for name in names:
        if not name or grade_of(name) is None:
            continue
        sheet = class_sheet(s, year, name, school=school)
        out.append(ClassStatus(name, len(sheet.pupils), len(sheet.titles), sheet.issued,
                               sheet.needed, owing_by_class.get(name, 0)))
    return sorted(out, key=lambda c: (grade_of(c.class_name) or (0, ""), c.class_name))


# --- issue -----------------------------------------------------------------------------------
def issue_txn(year: int, record_id: int, reader_id: int, copy_id: int) -> str:
    """The class issue's transaction id of one loan (at most 64 characters)."""
    return f"{ISSUE_PREFIX}:{year}:{record_id}:{reader_id}:{copy_id}"


def _issued_before(s: Session, year: int, record_id: int, reader_id: int) -> bool:
    """A class issue of this year already lent this title to this pupil (maybe returned since)."""
    prefix = f"{ISSUE_PREFIX}:{year}:{record_id}:{reader_id}:"
    rows = s.execute(select(TransactionLog.result).where(TransactionLog.txn_id.startswith(prefix),
                                                         TransactionLog.kind == "checkout"))
    return any((r.result or {}).get("ok") for r in rows)


def override_for(year: int, class_name: str, by: str) -> Override:
    """The override a class issue lends with (its reason names the year and class)."""
    return Override.make(f"class set {year}/{year + 1} {class_name}", by)


@dataclass
class Lent:
    """One loan of a class issue."""

    reader_id: int
    pupil: str
    record_id: int
    title: str
    barcode: str


@dataclass
class IssueReport:
    """What `issue_class` did (or would do, `dry_run`)."""

    year: int
    class_name: str
    pupils: int
    titles: int
    lent: list[Lent] = field(default_factory=list)
    held_before: int = 0                                   # pupil × title pairs already held
    issued_before: int = 0                                 # lent this year already, returned since
    missing: dict[int, int] = field(default_factory=dict)  # record id → copies short
    # (pupil, title, the refusal's code, its params): `E.error_from_dict` rebuilds it for words
    refused: list[tuple[str, str, str, dict[str, str]]] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict:
        """For --json."""
        return {"year": self.year, "class": self.class_name, "pupils": self.pupils,
                "titles": self.titles, "dry_run": self.dry_run,
                "lent": [vars(x) for x in self.lent], "held_before": self.held_before,
                "issued_before": self.issued_before,
                "missing": {str(k): v for k, v in self.missing.items()},
                "refused": [list(r) for r in self.refused]}


def _available_copies(s: Session, record_id: int, school: Scope | None = None) -> list[Copy]:
    """The title's copies on the shelf (of `school`), in inventory-number order (then barcode,
    id); numbers compare as numbers (№ 9 before № 10)."""
    rows = s.scalars(select(Copy).where(Copy.record_id == record_id,
                                        Copy.status == CopyStatus.AVAILABLE.value,
                                        school.clause(Copy.sigla) if school is not None else true(),
                                        or_(Copy.barcode.is_not(None),
                                            Copy.inventory_number.is_not(None))))
    return sorted(rows, key=lambda c: (c.inventory_number is None, _natural(c.inventory_number),
                                       _natural(c.barcode), c.id))


def _natural(code: str | None) -> list[tuple[int, int | str]]:
    """«INV-10» → [(1, 'INV-'), (0, 10)]: digits as numbers, for sorting."""
    return [(0, int(part)) if part.isdigit() else (1, part)
            for part in re.split(r"(\d+)", code or "") if part]


def issue_needed(s: Session, year: int, class_name: str, *, school: Scope | None = None) -> int:
    """Pupil × title pairs of the class's set without an open loan: about how many loans
    `issue_class` will try (those lent earlier this year and returned are not lent again)."""
    sheet = class_sheet(s, year, class_name, school=school)
    return sheet.needed - sheet.issued


Progress = Callable[[IssueReport, int, int], None]
PROGRESS_EVERY = 10


def issue_class(service: CirculationService, year: int, class_name: str, by: str, *,
                dry_run: bool = False, terminal: str | None = "desk",
                record: Recorder | None = None, progress: Progress | None = None,
                every: int = PROGRESS_EVERY, school: Scope | None = None) -> IssueReport:
    """Lend every pupil of the class one copy of each title of the year's set (see the module's
    text). `record(session, outcome)` runs in each loan's transaction (the desk's audit row);
    `progress(report, done, planned)` after every `every` planned loans and at the end (done:
    pupil × title pairs tried so far, planned: those to try). `school`: the class of that school,
    lent that school's copies (the checkout's own school rule too)."""
    db = service.db
    plan: list[tuple[Pupil, Title, list[Copy]]] = []
    with db.session() as s:
        sheet = class_sheet(s, year, class_name, school=school)
        report = IssueReport(year, class_name, len(sheet.pupils), len(sheet.titles), dry_run=dry_run)
        for t in sheet.titles:
            copies = _available_copies(s, t.record_id, school)
            for p in sheet.pupils:
                if (p.reader_id, t.record_id) in sheet.held:
                    report.held_before += 1
                elif _issued_before(s, year, t.record_id, p.reader_id):
                    report.issued_before += 1
                else:
                    plan.append((p, t, copies))
        cards = {p.reader_id: p.card for p in sheet.pupils}
    override = override_for(year, class_name, by)
    used: set[int] = set()
    for done, (p, t, copies) in enumerate(plan, 1):
        _issue_one(service, year, p, cards[p.reader_id], t, copies, used, override, terminal, record,
                   report, dry_run, school)
        if progress is not None and (done % max(every, 1) == 0 or done == len(plan)):
            progress(report, done, len(plan))
    if progress is not None and not plan:
        progress(report, 0, 0)
    return report


def _issue_one(service: CirculationService, year: int, p: Pupil, card: str, t: Title,
               copies: list[Copy], used: set[int], override: Override, terminal: str | None,
               record: Recorder | None, report: IssueReport, dry_run: bool,
               school: Scope | None = None) -> None:
    copy = next((c for c in copies if c.id not in used), None)
    if copy is None:
        report.missing[t.record_id] = report.missing.get(t.record_id, 0) + 1
        return
    used.add(copy.id)
    if dry_run:
        report.lent.append(Lent(p.reader_id, p.name, t.record_id, t.title, copy_code(copy)))
        return
    lent = _lend(service, year, p, card, t, copy, override, terminal, record, report, copies, used,
                 school)
    if lent is not None:
        report.lent.append(lent)


class AlreadyHolds(ClassSetError):
    """The pupil got the title meanwhile (a parallel issue): this loan is rolled back."""

    def __init__(self, title: str = ""):
        super().__init__("already_holds", "the pupil already holds this title", title=title)


def _one_each(service: CirculationService, reader_id: int, record_id: int,
              record: Recorder | None) -> Recorder:
    """The loan's hook: in the loan's own transaction, the pupil's row is locked (PostgreSQL;
    SQLite writes one at a time anyway) and a second open loan of the title — lent meanwhile by a
    parallel class issue or scan — rolls this loan back (AlreadyHolds); then `record`."""
    def hook(s: Session, outcome: LoanOutcome) -> None:
        q = select(Reader.id).where(Reader.id == reader_id)
        if service.db.backend == "postgresql":
            # NO KEY UPDATE: the loan's own foreign key holds a KEY SHARE lock on the row
            q = q.with_for_update(key_share=True)
        s.execute(q)
        n = s.scalar(select(func.count()).select_from(Loan).join(Copy, Loan.copy_id == Copy.id)
                     .where(Loan.reader_id == reader_id, Loan.returned_at.is_(None),
                            Copy.record_id == record_id))
        if (n or 0) > 1:
            raise AlreadyHolds(outcome.title)
        if record is not None:
            record(s, outcome)
    return hook


def _lend(service: CirculationService, year: int, p: Pupil, card: str, t: Title, copy: Copy,
          override: Override, terminal: str | None, record: Recorder | None,
          report: IssueReport, copies: list[Copy], used: set[int],
          school: Scope | None = None) -> Lent | None:
    """Lend `copy`; a copy taken meanwhile (another desk) is passed over for the next free one."""
    while True:
        try:
            out = service.checkout(card, copy_code(copy), issue_txn(year, t.record_id, p.reader_id, copy.id),
                                   terminal=terminal, override=override, school=school,
                                   record=_one_each(service, p.reader_id, t.record_id, record))
            if out.replayed:  # a parallel run lent this very loan
                report.held_before += 1
                return None
            return Lent(p.reader_id, p.name, t.record_id, t.title, out.barcode)
        except AlreadyHolds:
            used.discard(copy.id)
            report.held_before += 1
            return None
        except (E.ItemOnLoan, E.ItemUnavailable, E.ItemNotFound):
            nxt = next((c for c in copies if c.id not in used), None)
            if nxt is None:
                report.missing[t.record_id] = report.missing.get(t.record_id, 0) + 1
                return None
            used.add(nxt.id)
            copy = nxt
        except E.CirculationError as exc:
            used.discard(copy.id)
            report.refused.append((p.name, t.title, exc.code, exc.to_dict()["params"]))
            return None


@dataclass
class ScanIssue:
    """A copy scanned at the class issue: who got it."""

    outcome: LoanOutcome
    pupil: str
    title: str


def find_copy(s: Session, code: str) -> Copy | None:
    """The copy with this barcode, RFID or inventory number (a barcode first)."""
    code = code.strip()
    if not code:
        return None
    return s.scalars(select(Copy).where(or_(Copy.barcode == code, Copy.rfid == code,
                                            Copy.inventory_number == code))
                     .order_by((Copy.barcode == code).desc(), Copy.id).limit(1)).first()


def scan_issue(service: CirculationService, year: int, class_name: str, code: str, by: str, *,
               terminal: str | None = "desk", record: Recorder | None = None,
               school: Scope | None = None) -> ScanIssue:
    """Lend the scanned copy to the first pupil of the class without its title. ClassSetError:
    ``unknown_copy``, ``not_in_set``, ``on_loan`` (params: title, and `pupil` when a pupil of
    this class has it), ``all_have`` (every pupil has the title)."""
    with service.db.session() as s:
        copy = find_copy(s, code)
        if copy is None:
            raise ClassSetError("unknown_copy", "no copy has this code", scanned=code.strip()[:64])
        rec = s.get(Record, copy.record_id)
        assert rec is not None
        titles = {t.record_id: t for t in set_titles(s, year, class_name, school=school)}
        if copy.record_id not in titles:
            raise ClassSetError("not_in_set", "the copy's title is not in the class's set",
                                title=rec.title)
        sheet = class_sheet(s, year, class_name, school=school)
        loan = s.scalar(select(Loan).where(Loan.copy_id == copy.id, Loan.returned_at.is_(None)))
        if loan is not None:
            mine = next((p for p in sheet.pupils if p.reader_id == loan.reader_id), None)
            raise ClassSetError("on_loan", "the copy is on loan", title=rec.title,
                                pupil=mine.short if mine else "")
        pupil = next((p for p in sheet.lacking(copy.record_id)
                      if not _issued_before(s, year, copy.record_id, p.reader_id)), None)
        if pupil is None:
            raise ClassSetError("all_have", "every pupil of the class has this title", title=rec.title)
        title = titles[copy.record_id]
    out = service.checkout(pupil.card, copy_code(copy),
                           issue_txn(year, copy.record_id, pupil.reader_id, copy.id),
                           terminal=terminal, override=override_for(year, class_name, by),
                           school=school,
                           record=_one_each(service, pupil.reader_id, copy.record_id, record))
    return ScanIssue(out, pupil.short, title.title)


# --- collection ------------------------------------------------------------------------------
@dataclass
class Owing:
    """A textbook a reader still holds."""

    class_name: str
    reader_id: int
    card: str
    pupil: str
    active: bool
    loan_id: int
    copy_id: int
    title: str
    barcode: str
    inventory: str
    due: dt.date
    lost: bool
    issued_at: dt.datetime | None = None


def owing(s: Session, class_name: str | None = None, *, school: Scope | None = None) -> list[Owing]:
    """Open textbook loans by class (the reader's class: a leaver keeps the one they left
    from), pupil and title, of `school`'s readers. Readers without a class are under ''."""
    q = (select(Loan, Copy, Record, Reader).join(Copy, Loan.copy_id == Copy.id)
         .join(Record, Copy.record_id == Record.id).join(Reader, Loan.reader_id == Reader.id)
         .where(Loan.returned_at.is_(None), textbook_condition(), _readers_of(school)))
    if class_name is not None:
        q = q.where(Reader.class_name == class_name)
    rows = [Owing(r.class_name or "", r.id, r.card_number, full_name(r), bool(r.active), loan.id,
                  c.id, rec.title, c.barcode or "", c.inventory_number or "", loan.due_date,
                  c.status == CopyStatus.LOST.value, loan.issued_at)
            for loan, c, rec, r in s.execute(q)]
    return sorted(rows, key=lambda o: (grade_of(o.class_name) or (99, o.class_name), o.class_name,
                                       o.pupil, o.reader_id, o.title, o.loan_id))


@dataclass
class Collected:
    """A copy handed in: the title and who had it. `refused` makes one of a refusal (kind
    ``not_on_loan`` or ``unknown_copy``) for a front end that lists every scan (the kiosk)."""

    kind: str  # accepted | already (| not_on_loan | unknown_copy: see `refused`)
    title: str
    pupil: str
    class_name: str
    other_class: bool
    textbook: bool
    active: bool
    lost_found: bool

    TOLD = ("unknown_copy", "not_on_loan")  # the refusals `refused` turns into a value

    @classmethod
    def refused(cls, exc: ClassSetError) -> Collected:
        """A scan `collect` refused with a code of `TOLD` (re-raises any other): nobody is
        named; `textbook` is True (not told, so not flagged)."""
        if exc.code not in cls.TOLD:
            raise exc
        return cls(exc.code, str(exc.params.get("title", "")), "", "", False, True, True, False)

    @property
    def returned(self) -> bool:
        """The copy is back (now, or by an earlier scan of this collection)."""
        return self.kind in ("accepted", "already")

    @property
    def loud(self) -> bool:
        """Worth the librarian's look: another class, a leaver, not a textbook, not on loan."""
        return (not self.returned or self.other_class or not self.textbook
                or (not self.active and bool(self.pupil)))

    def to_dict(self) -> dict:
        """For the wire (the terminal API) and --json."""
        return {"kind": self.kind, "title": self.title, "pupil": self.pupil,
                "class_name": self.class_name, "other_class": self.other_class,
                "textbook": self.textbook, "active": self.active, "lost_found": self.lost_found}

    @classmethod
    def from_dict(cls, data: dict) -> Collected:
        """The value `to_dict` wrote."""
        return cls(str(data["kind"]), str(data.get("title", "")), str(data.get("pupil", "")),
                   str(data.get("class_name", "")), bool(data.get("other_class")),
                   bool(data.get("textbook", True)), bool(data.get("active", True)),
                   bool(data.get("lost_found")))


def return_txn(loan_id: int) -> str:
    """The collection's transaction id of a loan's return."""
    return f"{RETURN_PREFIX}:{loan_id}"


def collect(service: CirculationService, code: str, *, class_name: str | None = None,
            terminal: str | None = "desk", record: Recorder | None = None) -> Collected:
    """Take back a scanned copy (exactly once). ClassSetError ``unknown_copy``,
    ``not_on_loan`` (title). A copy scanned again after its return here: kind ``already``."""
    with service.db.session() as s:
        copy = find_copy(s, code)
        if copy is None:
            raise ClassSetError("unknown_copy", "no copy has this code", scanned=code.strip()[:64])
        rec = s.get(Record, copy.record_id)
        assert rec is not None
        textbook = s.scalar(select(Record.id).where(Record.id == rec.id, textbook_condition())) is not None
        loan = s.scalar(select(Loan).where(Loan.copy_id == copy.id, Loan.returned_at.is_(None)))
        kind = "accepted"
        if loan is None:
            loan = s.scalar(select(Loan).where(Loan.copy_id == copy.id).order_by(Loan.id.desc()).limit(1))
            if loan is None or loan.return_txn != return_txn(loan.id):
                raise ClassSetError("not_on_loan", "the copy is not on loan", title=rec.title)
            kind = "already"
        reader = s.get(Reader, loan.reader_id) if loan.reader_id else None
        lost = copy.status == CopyStatus.LOST.value
        loan_id = loan.id
        pupil = short_name(reader) if reader else ""
        rclass = (reader.class_name or "") if reader else (loan.reader_class or "")
        active = bool(reader.active) if reader else False
    if kind == "accepted":
        service.checkin(copy_code(copy), return_txn(loan_id), terminal=terminal, record=record)
    return Collected(kind, rec.title, pupil, rclass,
                     bool(class_name) and rclass != class_name, textbook, active, lost)


def _note(note: str) -> str:
    text = " ".join((note or "").split())
    if len(text) > MAX_NOTE:
        raise ClassSetError("note_too_long", f"a note is at most {MAX_NOTE} characters")
    return text


def _open_loan(s: Session, copy_id: int) -> tuple[Copy, Loan]:
    copy = s.get(Copy, copy_id)
    if copy is None:
        raise NotFound(f"copy {copy_id}")
    loan = s.scalar(select(Loan).where(Loan.copy_id == copy.id, Loan.returned_at.is_(None)))
    if loan is None:
        raise ClassSetError("not_on_loan", "the copy is not on loan", title=copy.record.title)
    return copy, loan


def mark_lost(db: Database, copy_id: int, note: str,
              record: Callable[[Session, Copy], None] | None = None) -> Copy:
    """The pupil lost the copy: the copy is ``lost`` with the note, its loan stays open (the
    pupil owes it; circulation's ``has_lost`` rule) until it is found and checked in."""
    from library.marc.writer import next_version
    from library.search import index_records

    text = _note(note)
    with db.transaction() as s:
        copy, _loan = _open_loan(s, copy_id)
        copy.status = CopyStatus.LOST.value
        copy.note = text or copy.note
        copy.version = next_version(s)
        s.flush()
        index_records(s, [copy.record_id])
        if record is not None:
            record(s, copy)
        return copy


def mark_damaged(service: CirculationService, copy_id: int, note: str, *,
                 terminal: str | None = "desk",
                 record: Callable[[Session, Copy], None] | None = None) -> LoanOutcome:
    """The pupil returns a damaged copy: checked in (exactly once) and put in repair
    (``bindery``, library/copies.py's rule) with the note, in one transaction."""
    from library.copies import CopyFields, update_copy

    text = _note(note)
    with service.db.session() as s:
        copy, loan = _open_loan(s, copy_id)
        code, loan_id = copy_code(copy), loan.id

    def repair(s: Session, outcome: LoanOutcome) -> None:
        c = s.get(Copy, copy_id)
        assert c is not None
        c, _ = update_copy(s, copy_id, CopyFields(c.barcode or "", c.inventory_number or "",
                                                  c.shelf_mark or "", c.collection or "",
                                                  CopyStatus.BINDERY.value))
        if text:
            c.note = text
        if record is not None:
            record(s, c)

    return service.checkin(code, return_txn(loan_id), terminal=terminal, record=repair)
