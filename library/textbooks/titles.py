"""Textbook titles: the one home of a textbook's metadata (subject, grades, series/УМК, federal
list number) and of the rule which catalogue records are textbooks.

**The rule** (`is_textbook_clause`, `textbook_records`): a record that is not deleted is a
textbook when its item type is ``textbook`` (the MARC mapping sets it from 105$a / 008 form
codes and «учебник» in the subtitle or subjects) **or** it has a `TextbookTitle` row (the
librarian or the federal list made it one). The class issue and the provision import this
rule; nothing else decides it.

**Sources** of a title's data, in order of authority: ``desk`` (the librarian typed it: never
overwritten by anything automatic), ``fpu`` (the federal list import), ``marc`` (extracted
from the catalogue by `ibc textbooks extract`: refreshed by a later extraction).

**Extraction** (`extract_marc`, `extract_fields`): pure functions. RUSMARC: subject from 606
(a heading with «Учебники»/«Учебные издания» in $x/$j, else the first 606$a), the title's
«Математика. 5 класс», or the UDC in 675 (373.167.1:51 → «Математика»); grades from
«5 класс», «для 5-6 классов», «10-11 кл.» in 200$a/$e/$i, 320, 300 and 330; series from 225$a.
MARC21: 245$a/$b/$p, 521$a («5-6 класс», «Grades 5-6»), 650, 080, 490/830; a short title
followed by «учебник…» («Биология : учебник для 5-6 классов») names the subject. Records
without MARC use the same rules on their stored fields.

**The federal list** (ФПУ, `parse_fpu_csv`, `import_fpu`): a CSV the librarian downloads
(columns recognised by their names, docs/TEXTBOOKS.md), matched to records by ISBN, else by
the title without its grade words (and an author's surname when both name authors). The list
is kept as last imported (`fpu_entries`; `fpu_list` tells what of it the catalogue lacks).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from library.errors import IbcError, RuleError
from library.isbn import variants as isbn_variants
from library.marc.model import DataField, MarcRecord
from library.storage.models import Copy, CopyStatus, Record, TextbookTitle, utcnow
from library.storage.models import FpuEntry as FpuStored
from library.text import printable

N_ = str  # marks msgids; front ends translate by code (server/desk) or with library.i18n
Translate = Callable[[str], str]

GRADE_MIN, GRADE_MAX = 1, 11
SUBJECT_MAX, SERIES_MAX, FPU_MAX = 100, 255, 32
SOURCES = ("desk", "fpu", "marc")
FPU_MAX_ROWS = 20_000
TEXTBOOK_TYPE = "textbook"


# -- errors -----------------------------------------------------------------------------------

class TextbookError(RuleError):
    """A textbook title's data cannot be used; ``params`` fill the English template."""

    code = "textbook"
    template = N_("The textbook data are not valid")

    def message(self, translate: Translate | None = None) -> str:
        """The message, translated by `translate(msgid)` when given (these templates use the
        desk's ``%(name)s`` placeholders, not RuleError's ``{name}``)."""
        text = translate(self.template) if translate else self.template
        try:
            return text % self.params if self.params else text
        except (KeyError, TypeError, ValueError):
            return text


class BadGrades(TextbookError):
    code, template = "textbook_bad_grades", N_(
        "Grades must be one grade or a range from 1 to 11, such as 5 or 5-6, not «%(value)s»")


class BadSubject(TextbookError):
    code, template = "textbook_bad_subject", N_(
        "The subject must be plain text of at most %(max)s characters")


class BadSeries(TextbookError):
    code, template = "textbook_bad_series", N_(
        "The series must be plain text of at most %(max)s characters")


class BadFpuNumber(TextbookError):
    code, template = "textbook_bad_fpu", N_(
        "A federal list number is numbers with dots, such as 1.1.2.1.1.1, not «%(value)s»")


class RecordGone(TextbookError):
    code, template = "textbook_no_record", N_("There is no catalogue record %(id)s")


class FpuFileError(TextbookError):
    code, template = "textbook_fpu_file", N_(
        "This is not a federal list CSV: it needs at least the columns number and title "
        "(found: %(found)s)")


# -- values -----------------------------------------------------------------------------------

_GRADES = re.compile(r"^\s*(\d{1,2})\s*(?:[-–—]\s*(\d{1,2})\s*)?$")
_FPU = re.compile(r"^\d{1,4}(?:\.\d{1,4}){1,9}$")


def parse_grades(text: str | None) -> tuple[int | None, int | None]:
    """«5» → (5, 5), «5-6» / «5–6» → (5, 6), «» → (None, None); BadGrades otherwise."""
    value = (text or "").strip()
    if not value:
        return None, None
    m = _GRADES.match(value)
    if not m:
        raise BadGrades(value=printable(value)[:40])
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) else lo
    if not (GRADE_MIN <= lo <= hi <= GRADE_MAX):
        raise BadGrades(value=printable(value)[:40])
    return lo, hi


def grades_text(lo: int | None, hi: int | None) -> str:
    """(5, 6) → «5-6», (5, 5) → «5», none → «»."""
    if lo is None:
        return ""
    return str(lo) if hi in (None, lo) else f"{lo}-{hi}"


def _plain(value: str | None, limit: int, error: type[TextbookError]) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if printable(text) != text or "\n" in text or "\t" in text or len(text) > limit:
        raise error(max=limit)
    return " ".join(text.split())


def normalise_fpu(value: str | None) -> str | None:
    """A federal list number as stored («1.1.2.1.1.1»; a trailing dot dropped); BadFpuNumber."""
    text = (value or "").strip().rstrip(".")
    if not text:
        return None
    if len(text) > FPU_MAX or not _FPU.match(text):
        raise BadFpuNumber(value=printable(text)[:40])
    return text


@dataclass(frozen=True)
class TitleData:
    """A textbook's metadata, validated."""

    subject: str = ""
    grade_from: int | None = None
    grade_to: int | None = None
    series: str | None = None
    fpu_number: str | None = None


def validate(subject: str | None = None, grades: str | None = None, series: str | None = None,
             fpu_number: str | None = None) -> TitleData:
    """Check typed values (the desk's form, the CLI): TextbookError subclasses name the field."""
    lo, hi = parse_grades(grades)
    return TitleData(_plain(subject, SUBJECT_MAX, BadSubject) or "", lo, hi,
                     _plain(series, SERIES_MAX, BadSeries), normalise_fpu(fpu_number))


# -- the rule and the list --------------------------------------------------------------------

def is_textbook_clause() -> ColumnElement[bool]:
    """SQL: the record is a textbook (item type ``textbook`` or a TextbookTitle row); join
    TextbookTitle with an outer join on Record.id for it."""
    return (Record.deleted.is_(False)
            & or_(Record.item_type == TEXTBOOK_TYPE, TextbookTitle.record_id.is_not(None)))


@dataclass
class TitleRow:
    """One textbook of the catalogue with its metadata and copies."""

    record_id: int
    title: str
    authors: list[str]
    year: int | None
    isbn: str | None
    subject: str = ""
    grade_from: int | None = None
    grade_to: int | None = None
    series: str | None = None
    fpu_number: str | None = None
    source: str | None = None  # None: a textbook by its item type, no metadata yet
    copies: int = 0
    available: int = 0

    @property
    def grades(self) -> str:
        return grades_text(self.grade_from, self.grade_to)

    def to_dict(self) -> dict:
        return {"record_id": self.record_id, "title": self.title, "authors": self.authors,
                "year": self.year, "isbn": self.isbn, "subject": self.subject,
                "grades": self.grades, "grade_from": self.grade_from, "grade_to": self.grade_to,
                "series": self.series, "fpu_number": self.fpu_number, "source": self.source,
                "copies": self.copies, "available": self.available}


def fold(text: str | None) -> str:
    """Case- and ё-insensitive form for comparing subjects and titles."""
    return " ".join((text or "").casefold().replace("ё", "е").split())


def textbook_records(session: Session, grade: int | None = None, subject: str | None = None,
                     record_ids: Iterable[int] | None = None) -> list[TitleRow]:
    """The catalogue's textbooks (the rule above), by subject, grade and title; `grade` keeps
    the titles whose grades include it, `subject` compares case- and ё-insensitively."""
    q = (select(Record.id, Record.title, Record.authors, Record.year, Record.isbn,
                TextbookTitle.subject, TextbookTitle.grade_from, TextbookTitle.grade_to,
                TextbookTitle.series, TextbookTitle.fpu_number, TextbookTitle.source)
         .outerjoin(TextbookTitle, TextbookTitle.record_id == Record.id)
         .where(is_textbook_clause()))
    if grade is not None:
        q = q.where(TextbookTitle.grade_from <= grade,
                    func.coalesce(TextbookTitle.grade_to, TextbookTitle.grade_from) >= grade)
    if record_ids is not None:
        q = q.where(Record.id.in_(list(record_ids)))
    rows = [TitleRow(r[0], r[1], list(r[2] or []), r[3], r[4], r[5] or "", r[6], r[7], r[8], r[9],
                     r[10]) for r in session.execute(q)]
    if subject:
        want = fold(subject)
        rows = [r for r in rows if fold(r.subject) == want]
    if rows:
        ids = [r.record_id for r in rows]
        counts: dict[int, list[int]] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            for rid, status, n in session.execute(
                    select(Copy.record_id, Copy.status, func.count()).where(Copy.record_id.in_(part))
                    .group_by(Copy.record_id, Copy.status)):
                c = counts.setdefault(rid, [0, 0])
                if status not in (CopyStatus.WRITTEN_OFF.value, CopyStatus.LOST.value):
                    c[0] += n
                if status == CopyStatus.AVAILABLE.value:
                    c[1] += n
        for r in rows:
            r.copies, r.available = counts.get(r.record_id, [0, 0])
    rows.sort(key=lambda r: (fold(r.subject) or "\uffff", r.grade_from or 99, fold(r.title), r.record_id))
    return rows


def subjects(session: Session) -> list[str]:
    """The subjects in use (for a filter), sorted."""
    seen: dict[str, str] = {}
    for s in session.scalars(select(TextbookTitle.subject).where(TextbookTitle.subject != "").distinct()):
        seen.setdefault(fold(s), s)
    return sorted(seen.values(), key=fold)


def get_title(session: Session, record_id: int) -> TextbookTitle | None:
    """The metadata row of a record, if any."""
    return session.get(TextbookTitle, record_id)


def _record(session: Session, record_id: int) -> Record:
    if not 1 <= record_id <= 2**31 - 1:  # records.id is a 32-bit integer
        raise RecordGone(id=record_id)
    rec = session.get(Record, record_id)
    if rec is None or rec.deleted:
        raise RecordGone(id=record_id)
    return rec


def _set_item_type(session: Session, rec: Record, item_type: str) -> None:
    """A record's item type changed with a new change-feed version and its search entry
    re-indexed (the terminals' replicas and the facets follow)."""
    from library.marc.writer import next_version
    from library.search import index_records

    rec.item_type = item_type
    rec.version = next_version(session)
    session.flush()
    index_records(session, [rec.id])


def set_title(session: Session, record_id: int, data: TitleData, source: str = "desk") -> TextbookTitle:
    """Give a record its textbook metadata (the record becomes a textbook by the rule). A record
    of another item type becomes of type ``textbook`` too — its loans then run to the end of the
    school year like every textbook's — with a new change-feed version and its search entry
    re-indexed, so the terminals' replicas and the catalogue's facets follow."""
    if source not in SOURCES:
        raise ValueError(source)
    rec = _record(session, record_id)
    row = session.get(TextbookTitle, record_id)
    if row is None:
        row = TextbookTitle(record_id=record_id)
        session.add(row)
    if rec.item_type != "textbook":
        row.former_item_type = rec.item_type
        _set_item_type(session, rec, "textbook")
    row.subject, row.grade_from, row.grade_to = data.subject, data.grade_from, data.grade_to
    row.series, row.fpu_number, row.source = data.series, data.fpu_number, source
    row.updated_at = utcnow()
    session.flush()
    return row


def clear_title(session: Session, record_id: int) -> bool:
    """Remove a record's textbook metadata (True if it had some). A record that set_title made
    a textbook gets its former item type back; one catalogued as ``textbook`` stays a
    textbook, without subject and grades."""
    rec = _record(session, record_id)
    row = session.get(TextbookTitle, record_id)
    if row is None:
        return False
    if row.former_item_type and rec.item_type == "textbook":
        _set_item_type(session, rec, row.former_item_type)
    session.delete(row)
    session.flush()
    return True


# -- extraction -------------------------------------------------------------------------------

_NUM = r"(1[01]|[1-9])"
_RANGE_KL = re.compile(r"(?<![\d.,])" + _NUM + r"\s*(?:-?[хй]|-?ых)?\s*[-–—]\s*" + _NUM
                       + r"\s*(?:-?[хй]|-?ы[хй]|-?ого)?\s*кл(?:асс[а-я]*|\.|\b)", re.I)
_ONE_KL = re.compile(r"(?<![\d.,\-–—])" + _NUM + r"\s*(?:-?[йгм]о?|-?ого)?\s*кл(?:асс[а-я]*|\.|\b)", re.I)
_KL_ONE = re.compile(r"\bкласс\s*" + _NUM + r"(?:\s*[-–—]\s*" + _NUM + r")?(?!\d)", re.I)
_GRADE_EN = re.compile(r"\bgrades?\s*" + _NUM + r"(?:\s*(?:[-–—]|to)\s*" + _NUM + r")?(?!\d)", re.I)
_TITLE_SUBJECT = re.compile(r"^\s*([^.:;\d]{3,60}?)\s*[.:,]\s*(?:\d{1,2}\s*[-–—]?\s*\d{0,2}\s*"
                            r"(?:-?[йх])?\s*кл|учебник)", re.I)
_TEXTBOOK_WORDS = re.compile(r"учебн|textbook", re.I)
# the UDC of school textbooks: 373.167.1:<subject's UDC>
UDC_SUBJECTS = (
    ("811.161.1", "Русский язык"), ("821.161.1", "Литература"), ("811.111", "Английский язык"),
    ("811.112.2", "Немецкий язык"), ("811.133.1", "Французский язык"), ("512", "Алгебра"),
    ("514", "Геометрия"), ("519.2", "Вероятность и статистика"), ("51", "Математика"),
    ("004", "Информатика"), ("53", "Физика"), ("54", "Химия"), ("57", "Биология"),
    ("502", "Окружающий мир"), ("91", "География"), ("94", "История"), ("93", "История"),
    ("32", "Обществознание"), ("3", "Обществознание"), ("614", "ОБЗР"), ("796", "Физическая культура"),
    ("78", "Музыка"), ("7", "Изобразительное искусство"), ("62", "Труд (технология)"),
)


def find_grades(texts: Iterable[str | None]) -> tuple[int | None, int | None]:
    """The first grade phrase in `texts`: «5 класс», «для 5-6 классов», «10-11 кл.»,
    «5-й класс», «класс 7», «Grades 5-6»; (None, None) when none."""
    for text in texts:
        if not text:
            continue
        for rx in (_RANGE_KL, _ONE_KL, _KL_ONE, _GRADE_EN):
            m = rx.search(text)
            if m:
                lo = int(m.group(1))
                hi = int(m.group(2)) if m.lastindex and m.lastindex >= 2 and m.group(2) else lo
                if lo <= hi:
                    return lo, hi
    return None, None


def _subject_of_heading(heading: str) -> str | None:
    text = " ".join(heading.split(" -- ")[0].split()).strip(" .")
    return text[:SUBJECT_MAX] or None


def _udc_subject(udc: str | None) -> str | None:
    if not udc or "373.167.1" not in udc:
        return None
    tail = udc.split("373.167.1", 1)[1].lstrip(":")
    for prefix, name in UDC_SUBJECTS:
        if tail.startswith(prefix):
            return name
    return None


@dataclass(frozen=True)
class Extracted:
    """What the catalogue says about a textbook (any part may be missing)."""

    subject: str = ""
    grade_from: int | None = None
    grade_to: int | None = None
    series: str | None = None

    def __bool__(self) -> bool:
        return bool(self.subject or self.grade_from or self.series)

    def data(self) -> TitleData:
        return TitleData(self.subject, self.grade_from, self.grade_to, self.series)


def extract_fields(title: str | None, subtitle: str | None = None, subjects: Iterable[str] = (),
                   udc: str | None = None, notes: Iterable[str | None] = (),
                   series: str | None = None) -> Extracted:
    """The textbook data in a record's plain fields (the same rules as for MARC)."""
    headings = [s for s in subjects if s]
    lo, hi = find_grades([title, subtitle, *notes])
    subject = None
    marked = [h for h in headings if _TEXTBOOK_WORDS.search(h)]
    for h in marked or headings[:1]:
        subject = _subject_of_heading(h)
        if subject:
            break
    if not subject and title:
        m = _TITLE_SUBJECT.match(title)
        if m:
            subject = m.group(1).strip()
    if not subject:
        subject = _udc_subject(udc)
    if not subject and title and subtitle and _TEXTBOOK_WORDS.search(subtitle):
        # «Биология : учебник для 5-6 классов»: a short title without digits names the subject
        words = title.strip(" .").split()
        if 0 < len(words) <= 3 and not any(ch.isdigit() for ch in title):
            subject = " ".join(words)[:SUBJECT_MAX]
    ser = " ".join((series or "").split()).strip(" .;")[:SERIES_MAX] or None
    return Extracted(subject or "", lo, hi, ser)


def _sub(rec: MarcRecord, tags: tuple[str, ...], codes: str) -> list[str]:
    out: list[str] = []
    for f in rec.get_fields(*tags):
        if isinstance(f, DataField):
            out.extend(v for c, v in f.subfields if c in codes and v)
    return out


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def _headings(rec: MarcRecord, tag: str, ends: str) -> list[str]:
    out = []
    for f in rec.get_fields(tag):
        if isinstance(f, DataField) and f.get("a"):
            rest = [v for c, v in f.subfields if c in ends and v]
            out.append(" -- ".join([f.get("a") or "", *rest]))
    return out


def extract_marc(rec: MarcRecord) -> Extracted:
    """The textbook data in a RUSMARC (field 200) or MARC21 (field 245) record."""
    if rec.first("200") is not None:
        title = " ".join(_sub(rec, ("200",), "a")) or None
        return extract_fields(
            title, " ".join(_sub(rec, ("200",), "ehi")) or None, _headings(rec, "606", "xjyz"),
            _first(_sub(rec, ("675",), "a")),
            [*_sub(rec, ("320", "300", "330"), "a"), *_sub(rec, ("686",), "a")],
            _first(_sub(rec, ("225",), "a")))
    title = " ".join(_sub(rec, ("245",), "anp")) or None
    return extract_fields(
        title, " ".join(_sub(rec, ("245",), "b")) or None, _headings(rec, "650", "xvyz"),
        _first(_sub(rec, ("080",), "a")), [*_sub(rec, ("521",), "a"), *_sub(rec, ("500",), "a")],
        _first(_sub(rec, ("490", "830"), "a")))


def extract_record(rec: Record) -> Extracted:
    """The textbook data of a catalogue record: from its MARC when stored, else its fields."""
    if rec.marc:
        from library.marc.export import stored_record

        try:
            found = extract_marc(stored_record(rec.marc, rec.marc_encoding or "utf-8"))
        except IbcError:
            found = Extracted()
        if found:
            return found
    return extract_fields(rec.title, rec.subtitle, rec.subjects or [], rec.udc, [rec.annotation])


@dataclass
class ExtractReport:
    """What `extract` found and did."""

    checked: int = 0
    filled: int = 0
    kept: int = 0  # desk or fpu data left alone
    nothing: int = 0
    items: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"checked": self.checked, "filled": self.filled, "kept": self.kept,
                "nothing": self.nothing, "items": self.items}


def extract(session: Session, dry_run: bool = False,
            record_ids: Iterable[int] | None = None) -> ExtractReport:
    """Fill the textbooks' metadata from the catalogue (source ``marc``); titles set at the desk
    or by the federal list are never touched, earlier ``marc`` data are refreshed."""
    report = ExtractReport()
    q = (select(Record, TextbookTitle).outerjoin(TextbookTitle, TextbookTitle.record_id == Record.id)
         .where(is_textbook_clause()).order_by(Record.id))
    if record_ids is not None:
        q = q.where(Record.id.in_(list(record_ids)))
    for rec, row in session.execute(q).all():
        report.checked += 1
        if row is not None and row.source != "marc":
            report.kept += 1
            continue
        found = extract_record(rec)
        if not found:
            report.nothing += 1
            continue
        report.filled += 1
        report.items.append({"record_id": rec.id, "title": rec.title, "subject": found.subject,
                             "grades": grades_text(found.grade_from, found.grade_to),
                             "series": found.series})
        if not dry_run:
            data = found.data()
            if row is not None:  # keep a number the list gave before
                data = TitleData(data.subject, data.grade_from, data.grade_to, data.series, row.fpu_number)
            set_title(session, rec.id, data, source="marc")
    return report


# -- the federal list (ФПУ) -------------------------------------------------------------------

# column → words its header may contain (checked in this order: «наименование издателя» is the
# publisher, not the title)
FPU_COLUMNS = (
    ("isbn", ("isbn",)),
    ("publisher", ("издат", "publisher")),
    ("number", ("номер", "№", "number", "fpu", "фпу")),
    ("subject", ("предмет", "subject")),
    ("grades", ("класс", "grade")),
    ("authors", ("автор", "author")),
    ("title", ("назван", "наименов", "title")),
)


@dataclass
class FpuEntry:
    """One row of the federal list."""

    line: int
    number: str
    title: str
    subject: str = ""
    grade_from: int | None = None
    grade_to: int | None = None
    authors: str = ""
    publisher: str = ""
    isbn: str = ""


@dataclass
class FpuRow:
    """One row's outcome: matched, unmatched, kept (desk data left alone) or error."""

    line: int
    number: str
    title: str
    status: str
    record_ids: list[int] = field(default_factory=list)
    error: TextbookError | None = None

    def to_dict(self, translate: Translate | None = None) -> dict:
        out: dict[str, Any] = {"line": self.line, "number": self.number, "title": self.title,
                               "status": self.status, "records": self.record_ids}
        if self.error is not None:
            out["code"] = self.error.code
            out["message"] = self.error.message(translate)
        return out


@dataclass
class FpuReport:
    """The import's figures and its rows."""

    rows: list[FpuRow] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def records(self) -> int:
        return len({i for r in self.rows if r.status == "matched" for i in r.record_ids})

    def to_dict(self, translate: Translate | None = None) -> dict:
        return {"rows": len(self.rows), "matched": self.count("matched"),
                "unmatched": self.count("unmatched"), "kept": self.count("kept"),
                "errors": self.count("error"), "records": self.records,
                "items": [r.to_dict(translate) for r in self.rows]}


class FpuRowError(TextbookError):
    code, template = "textbook_fpu_row", N_("The row cannot be read")


class FpuNoTitle(FpuRowError):
    template = N_("The row has no title")

    def __init__(self) -> None:
        super().__init__(what="title")


class FpuNoNumber(FpuRowError):
    template = N_("The row has no number")

    def __init__(self) -> None:
        super().__init__(what="number")


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


def _columns(header: list[str]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for i, name in enumerate(header):
        low = fold(name)
        for key, words in FPU_COLUMNS:
            if any(w in low for w in words):
                cols.setdefault(key, i)
                break
    return cols


def parse_fpu_csv(data: bytes) -> tuple[list[FpuEntry], list[FpuRow]]:
    """The entries of a federal list CSV (UTF-8 or Windows-1251; «;», «,» or tab) and its bad
    rows; FpuFileError when it has no number and title columns."""
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delim = max(";,\t", key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    header: list[str] = []
    for header in reader:
        if any(c.strip() for c in header):
            break
    cols = _columns(header)
    if "number" not in cols or "title" not in cols:
        found = ", ".join(printable(h).strip()[:40] for h in header if h.strip())[:300]
        raise FpuFileError(found=found or "—")
    entries: list[FpuEntry] = []
    bad: list[FpuRow] = []
    for row in reader:
        line = reader.line_num
        if len(entries) + len(bad) >= FPU_MAX_ROWS:
            break
        if not any(c.strip() for c in row):
            continue

        def cell(key: str, limit: int = 500, row: list[str] = row) -> str:
            i = cols.get(key)
            value = row[i] if i is not None and i < len(row) else ""
            return " ".join(printable(value).split())[:limit]

        number, title = cell("number", 64), cell("title")
        try:
            if not title:
                raise FpuNoTitle()
            if not number:
                raise FpuNoNumber()
            fpu = normalise_fpu(number) or ""
            grades = cell("grades", 40).replace(" ", "")
            lo, hi = parse_grades(grades.replace("классы", "").replace("класс", "").rstrip("."))
            subject = _plain(cell("subject", SUBJECT_MAX + 50), SUBJECT_MAX, BadSubject) or ""
        except TextbookError as exc:
            bad.append(FpuRow(line, number, title, "error", error=exc))
            continue
        entries.append(FpuEntry(line, fpu, title, subject, lo, hi, cell("authors"), cell("publisher"),
                                cell("isbn", 200)))
    return entries, bad


_GRADE_WORDS = re.compile(r"\b(?:1[01]|[1-9])\s*(?:[-–—]\s*(?:1[01]|[1-9])\s*)?(?:-?[йх]\s*)?"
                          r"кл(?:асс[а-я]*|\.|\b)|\bв\s+\d\s+ч(?:аст[а-я]*|\.|\b)", re.I)


def title_key(title: str | None) -> str:
    """A title for matching: without grade words and «в 2 ч.», lower case, ё as е, letters and
    digits only."""
    text = _GRADE_WORDS.sub(" ", title or "")
    return " ".join(re.sub(r"[^\w]+", " ", fold(text)).split())


def _surnames(text: str) -> set[str]:
    out = set()
    for part in re.split(r"[,;]", text):
        words = [w for w in re.split(r"[\s.]+", fold(part)) if len(w) > 2]
        if words:
            out.add(words[0])
    return out


def _overlap(e: FpuEntry, lo: int | None, hi: int | None) -> bool:
    if e.grade_from is None or lo is None:
        return True
    return e.grade_from <= (hi or lo) and lo <= (e.grade_to or e.grade_from)


def import_fpu(session: Session, data: bytes, dry_run: bool = False) -> FpuReport:
    """Match a federal list CSV to the catalogue and fill the matched records' federal list
    number, subject and grades (source ``fpu``; desk data are kept, row status «kept»)."""
    entries, bad = parse_fpu_csv(data)
    report = FpuReport(rows=list(bad))
    by_isbn: dict[str, set[int]] = {}
    by_title: dict[str, list[tuple[int, set[str], int | None, int | None]]] = {}
    q = select(Record.id, Record.title, Record.subtitle, Record.authors, Record.responsibility,
               Record.isbn, Record.isbns).where(Record.deleted.is_(False))
    for rid, title, subtitle, authors, resp, isbn, isbns in session.execute(q):
        for code in {c for x in [isbn, *(isbns or [])] if x for c in isbn_variants(x)}:
            by_isbn.setdefault(code, set()).add(rid)
        names = _surnames("; ".join(authors or [])) | _surnames(resp or "")
        lo, hi = find_grades([title, subtitle])
        by_title.setdefault(title_key(title), []).append((rid, names, lo, hi))
    titles = {t.record_id: t for t in session.scalars(select(TextbookTitle))}
    if not dry_run:  # the list as last imported replaces the one before
        session.execute(delete(FpuStored))
        now = utcnow()
        session.add_all(FpuStored(number=e.number, subject=e.subject, grade_from=e.grade_from,
                                 grade_to=e.grade_to, title=e.title, authors=e.authors,
                                 publisher=e.publisher, isbn=e.isbn, imported_at=now) for e in entries)
    for e in entries:
        ids: set[int] = set()
        for code in re.split(r"[,;\s]+", e.isbn):
            for v in isbn_variants(code) if code else []:
                ids |= by_isbn.get(v, set())
        if not ids:
            want = _surnames(e.authors)
            for rid, names, lo, hi in by_title.get(title_key(e.title), []):
                if (not want or not names or want & names) and _overlap(e, lo, hi):
                    ids.add(rid)
        row = FpuRow(e.line, e.number, e.title, "unmatched", sorted(ids))
        report.rows.append(row)
        if not ids:
            continue
        kept = [i for i in row.record_ids if i in titles and titles[i].source == "desk"]
        fill = [i for i in row.record_ids if i not in kept]
        row.status = "matched" if fill else "kept"
        row.record_ids = fill or kept
        if dry_run:
            continue
        for rid in fill:
            old = titles.get(rid)
            filled = TitleData(
                e.subject or (old.subject if old else ""),
                e.grade_from if e.grade_from is not None else (old.grade_from if old else None),
                e.grade_to if e.grade_from is not None else (old.grade_to if old else None),
                old.series if old else None, e.number)
            titles[rid] = set_title(session, rid, filled, source="fpu")
    report.rows.sort(key=lambda r: r.line)
    return report


@dataclass
class FpuListRow:
    """A textbook of the imported federal list and whether the catalogue has it."""

    number: str
    title: str
    subject: str
    grades: str
    authors: str
    publisher: str
    in_catalogue: bool

    def to_dict(self) -> dict:
        return {"number": self.number, "title": self.title, "subject": self.subject,
                "grades": self.grades, "authors": self.authors, "publisher": self.publisher,
                "in_catalogue": self.in_catalogue}


@dataclass
class FpuSummary:
    """The imported federal list: its size, when, and how many of its textbooks the catalogue
    lacks (no record carries their number)."""

    entries: int = 0
    missing: int = 0
    imported_at: Any = None


def fpu_list(session: Session, grade: int | None = None, missing_only: bool = False,
             limit: int | None = None) -> tuple[FpuSummary, list[FpuListRow]]:
    """The imported federal list (by number), each entry marked if some record carries its
    number; `grade` keeps the entries for that grade, `missing_only` those the catalogue lacks."""
    have = set(session.scalars(select(TextbookTitle.fpu_number)
                               .where(TextbookTitle.fpu_number.is_not(None))))
    summary = FpuSummary()
    rows: list[FpuListRow] = []
    for e in session.scalars(select(FpuStored).order_by(FpuStored.id)):
        summary.entries += 1
        summary.imported_at = summary.imported_at or e.imported_at
        found = e.number in have
        summary.missing += not found
        if missing_only and found:
            continue
        if grade is not None and not (e.grade_from is not None
                                      and e.grade_from <= grade <= (e.grade_to or e.grade_from)):
            continue
        if limit is None or len(rows) < limit:
            rows.append(FpuListRow(e.number, e.title, e.subject, grades_text(e.grade_from, e.grade_to),
                                   e.authors, e.publisher, found))
    return summary, rows
