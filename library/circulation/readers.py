"""Import readers from class lists (CSV or XLSX): ФИО, класс, номер билета.

Headers are matched loosely (Russian or English, any case): «ФИО» or «Фамилия»/«Имя»/«Отчество»,
«Класс», «Номер билета»/«Билет»/«card», optional «Категория» (ученик/учитель/сотрудник or
pupil/teacher/staff). A bad row is reported with its line number and skipped; the good rows are
written in one transaction (insert new cards, update existing ones).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from library.errors import IbcError, ImportFormatError
from library.storage.database import Database
from library.storage.models import Reader
from library.text import has_controls

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MAX_NAME = 100  # readers.last_name, first_name, middle_name
MAX_CARD = 64   # readers.card_number


class RowError(IbcError, ValueError):
    """A value of a reader that cannot be kept (a ValueError too: callers of `normalise_class`
    catch that): `code` and `params` for a translated message,
    `str()` the English text (the CLI's report)."""

    def __init__(self, code: str, text: str, **params: object):
        self.code, self.params = code, params
        super().__init__(text.format(**params))


HEADERS = {
    "fio": ("фио", "ф.и.о.", "name", "full name", "фамилия имя отчество"),
    "last": ("фамилия", "last name", "surname"),
    "first": ("имя", "first name"),
    "middle": ("отчество", "middle name", "patronymic"),
    "class": ("класс", "class"),
    "card": ("номер билета", "билет", "читательский билет", "card", "card number", "номер"),
    "category": ("категория", "category"),
}
CATEGORIES = {"ученик": "pupil", "учащийся": "pupil", "pupil": "pupil", "учитель": "teacher",
              "педагог": "teacher", "teacher": "teacher", "сотрудник": "staff", "staff": "staff"}
CLASS_RE = re.compile(r"^(1[01]|[1-9])\s*-?\s*([А-ЯЁA-Z])?$", re.IGNORECASE)


@dataclass
class ReaderImportReport:
    """What a class-list import did."""

    read: int = 0
    added: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # line, card, class, action (added/updated)


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        for i, row in enumerate(wb.active.iter_rows(values_only=True), 1):
            yield i, ["" if v is None else str(v).strip() for v in row]
        wb.close()
        return
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp1251"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    for i, row in enumerate(csv.reader(io.StringIO(text), dialect), 1):
        yield i, [c.strip() for c in row]


def _columns(header: list[str]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for idx, name in enumerate(header):
        key = name.strip().lower().rstrip(":")
        for field_name, names in HEADERS.items():
            if key in names and field_name not in cols:
                cols[field_name] = idx
    if "card" not in cols or not ({"fio"} <= cols.keys() or {"last", "first"} <= cols.keys()):
        raise ImportFormatError(
            "line 1: the header must name «ФИО» (or «Фамилия» and «Имя») and «Номер билета»; "
            f"found: {', '.join(h for h in header if h)}"
        )
    return cols


def normalise_class(value: str) -> str | None:
    """'5 а' → '5А'; empty → None; raises ValueError on nonsense."""
    value = value.strip().replace(" ", "")
    if not value:
        return None
    m = CLASS_RE.match(value)
    if not m:
        raise RowError("bad_class", "class «{value}» is not like 5А", value=value)
    return f"{m.group(1)}{(m.group(2) or '').upper()}"


def read_class_list(path: str | Path) -> tuple[list[dict], ReaderImportReport]:
    """Parse a class list into reader dicts plus a report of bad rows."""
    path = Path(path)
    report = ReaderImportReport()
    rows = _rows(path)
    try:
        _, header = next(rows)
    except StopIteration:
        raise ImportFormatError(f"{path}: empty file") from None
    cols = _columns(header)
    readers: list[dict] = []
    seen: dict[str, int] = {}

    def cell(row: list[str], name: str) -> str:
        i = cols.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    for line, row in rows:
        if not any(row):
            continue
        report.read += 1
        try:
            card = cell(row, "card")
            if not card:
                raise RowError("no_card", "no card number")
            if len(card) > MAX_CARD or has_controls(card) or any(c.isspace() for c in card) \
                    or card.startswith("~"):  # «~ID»: the card of an anonymised reader
                raise RowError("bad_card", "card number: at most {max} characters, no spaces or "
                                           "control characters, not starting with ~", max=MAX_CARD)
            if card in seen:
                raise RowError("card_repeats", "card {card} repeats line {line}", card=card,
                               line=seen[card])
            if "fio" in cols:
                parts = cell(row, "fio").split()
                last, first, middle = (parts + ["", "", ""])[:3] if len(parts) < 3 else (
                    parts[0], parts[1], " ".join(parts[2:]))
            else:
                last, first, middle = cell(row, "last"), cell(row, "first"), cell(row, "middle")
            if not last or not first:
                raise RowError("no_name", "a surname and a first name are needed")
            if any(len(x) > MAX_NAME or has_controls(x) for x in (last, first, middle)):
                raise RowError("bad_name", "a name: at most {max} characters, no control characters",
                               max=MAX_NAME)
            cat_raw = cell(row, "category").lower()
            category = CATEGORIES.get(cat_raw, "pupil" if not cat_raw else None)
            if category is None:
                raise RowError("bad_category", "unknown category «{category}»", category=cat_raw[:40])
            class_name = normalise_class(cell(row, "class")[:40])
            if category == "pupil" and class_name is None:
                raise RowError("no_class", "a pupil needs a class")
        except ValueError as exc:
            report.skipped += 1
            code, params = (exc.code, exc.params) if isinstance(exc, RowError) else ("error", {})
            report.errors.append({"line": line, "reason": str(exc), "code": code, "params": params})
            continue
        seen[card] = line
        report.rows.append({"line": line, "card": card, "class": class_name, "action": ""})
        readers.append({"card_number": card, "last_name": last, "first_name": first,
                        "middle_name": middle or None, "class_name": class_name, "category": category})
    return readers, report


def import_readers(db: Database, path: str | Path, *, sigla: str = "") -> ReaderImportReport:
    """Read a class list and write it: new cards added, known cards updated, in one transaction."""
    readers, report = read_class_list(path)
    return upsert_readers(db, readers, report, sigla=sigla)


def upsert_readers(db: Database, readers: list[dict], report: ReaderImportReport, *,
                   sigla: str = "") -> ReaderImportReport:
    """Write parsed readers in one transaction: new cards added, known cards updated and reactivated."""
    with db.transaction() as s:
        return write_readers(s, readers, report, sigla=sigla)


def write_readers(s: Session, readers: list[dict], report: ReaderImportReport, *,
                  sigla: str = "") -> ReaderImportReport:
    """`upsert_readers` in the caller's transaction (the desk writes its audit row in it too)."""
    known = {r.card_number: r for r in s.scalars(
        select(Reader).where(Reader.card_number.in_([x["card_number"] for x in readers])))}
    action: dict[str, str] = {}
    for data in readers:
        existing = known.get(data["card_number"])
        if existing is None:
            s.add(Reader(sigla=sigla, **data))
            report.added += 1
            action[data["card_number"]] = "added"
        else:
            for key, value in data.items():
                setattr(existing, key, value)
            existing.active = True
            existing.archived_at = None
            report.updated += 1
            action[data["card_number"]] = "updated"
    for row in report.rows:
        row["action"] = action.get(row["card"], row["action"])
    return report
