"""A reader's record as the librarian keeps it: the rules of a typed reader (names, class,
category, card number), adding, changing, blocking and finding readers.

The class rule and the categories are the class-list importer's (library/circulation/readers.py:
`normalise_class`, `CATEGORIES`): one rule however a reader arrives.

A card number left empty is generated the way Koha's autoMemberNum does: the largest card
number made of digits only, plus one, keeping its width (zeros in front), at least 6 digits;
«000001» in a library with no such number. Card numbers are unique (a database constraint):
a taken one is refused, never overwritten.

Search (`find_readers`) matches the start of the surname, first name, patronymic, card number or
class, ignoring case, and «ё» as «е»; it folds in Python (SQLite's lower() knows no Cyrillic),
over the readers' short columns only: a school has a few thousand readers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from library.circulation.readers import CATEGORIES, MAX_CARD, MAX_NAME, normalise_class
from library.errors import IbcError
from library.storage.models import Loan, PinGuard, Reader, utcnow
from library.text import has_controls

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from library.schools import Scope

CATEGORY_NAMES = {"pupil": "ученик", "teacher": "учитель", "staff": "сотрудник"}
MAX_REASON = 255
CARD_WIDTH = 6


class ReaderInvalid(IbcError):
    """Typed reader data that cannot be kept: `errors` maps a field to the code of its reason
    (see ERRORS: the English text; the desk maps the codes to its translated messages), `params`
    fill the texts (`card` of a taken card number)."""

    code = "reader_invalid"

    def __init__(self, errors: dict[str, str], **params: object):
        self.errors, self.params = errors, params
        super().__init__("; ".join(f"{k}: {error_text(v, params)}" for k, v in errors.items()))


ERRORS = {  # ReaderData.errors / ReaderInvalid codes → English (the desk shows its own words)
    "bad_chars": "control characters",
    "name_too_long": f"at most {MAX_NAME} characters",
    "required": "required",
    "bad_category": "unknown category",
    "bad_class": "a class is written like 5A",
    "no_class": "a pupil needs a class",
    "card_spaces": "no spaces or control characters",
    "card_too_long": f"at most {MAX_CARD} characters",
    "card_tilde": "a card number cannot start with ~",
    "card_taken": "card {card} belongs to another reader",
    "no_reason": "a reason of at least 3 letters is needed",
    "reason_too_long": f"at most {MAX_REASON} characters",
}


def error_text(code: str, params: dict[str, object] | None = None) -> str:
    """The English text of an error code (the code itself when unknown)."""
    text = ERRORS.get(code, code)
    try:
        return text.format(**(params or {}))
    except (KeyError, IndexError):
        return text


@dataclass
class ReaderData:
    """What the librarian types for a reader (already stripped)."""

    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    class_name: str = ""
    category: str = "pupil"
    card_number: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # field → code (ERRORS)


def fold(text: str) -> str:
    """Text as search compares it: lower case, «ё» as «е»."""
    return text.casefold().replace("ё", "е")


def _name(data: ReaderData, key: str, value: str, required: bool) -> str:
    value = " ".join(value.split()) if not has_controls(value.replace("\t", " ")) else value
    if has_controls(value):
        data.errors[key] = "bad_chars"
    elif len(value) > MAX_NAME:
        data.errors[key] = "name_too_long"
    elif required and not value:
        data.errors[key] = "required"
    return value


def check_reader(last_name: str, first_name: str, middle_name: str = "", class_name: str = "",
                 category: str = "pupil", card_number: str = "") -> ReaderData:
    """The typed values, cleaned, with `errors` per field (empty when they can be kept):
    a surname and a first name are needed; a pupil needs a class like «5А» (normalised:
    «5 а» → «5А»); the category is one of pupil/teacher/staff (or its Russian word); the card
    number (may be empty: generated) is printable, without spaces, at most 64 characters."""
    data = ReaderData()
    data.last_name = _name(data, "last_name", last_name, True)
    data.first_name = _name(data, "first_name", first_name, True)
    data.middle_name = _name(data, "middle_name", middle_name, False)
    cat = CATEGORIES.get(category.strip().lower())
    if cat is None:
        data.errors["category"] = "bad_category"
        cat = "pupil"
    data.category = cat
    raw_class = class_name.strip()
    if has_controls(raw_class) or len(raw_class) > 16:
        data.errors["class_name"] = "bad_class"
    else:
        try:
            data.class_name = normalise_class(raw_class) or ""
        except ValueError:
            data.class_name = raw_class
            data.errors["class_name"] = "bad_class"
        if cat == "pupil" and not data.class_name and "class_name" not in data.errors:
            data.errors["class_name"] = "no_class"
    card = card_number.strip()
    data.card_number = card
    if has_controls(card) or any(c.isspace() for c in card):
        data.errors["card_number"] = "card_spaces"
    elif len(card) > MAX_CARD:
        data.errors["card_number"] = "card_too_long"
    elif card.startswith("~"):
        data.errors["card_number"] = "card_tilde"
    return data


def new_card_number(s: Session) -> str:
    """The next card number (module text): the largest all-digit number plus one, same width."""
    best, width = 0, CARD_WIDTH
    for card in s.scalars(select(Reader.card_number)):
        if card.isascii() and card.isdigit():
            value = int(card)
            if value >= best:
                best, width = value, max(width, len(card))
    return str(best + 1).zfill(width)


def card_taken(s: Session, card: str, but: int | None = None) -> bool:
    """True when another reader holds `card`."""
    q = select(Reader.id).where(Reader.card_number == card)
    if but is not None:
        q = q.where(Reader.id != but)
    return s.scalar(q) is not None


def same_reader(s: Session, data: ReaderData) -> Reader | None:
    """An active reader with the same surname, first name, patronymic, class and category (Koha
    asks before adding such a «duplicate patron»; it also catches a form sent twice)."""
    return s.scalars(select(Reader).where(
        Reader.active.is_(True), Reader.last_name == data.last_name,
        Reader.first_name == data.first_name, Reader.category == data.category,
        (Reader.middle_name == data.middle_name) if data.middle_name else Reader.middle_name.is_(None),
        (Reader.class_name == data.class_name) if data.class_name else Reader.class_name.is_(None),
    ).order_by(Reader.id).limit(1)).first()


def add_reader(s: Session, data: ReaderData, *, sigla: str = "") -> Reader:
    """A new reader from checked data (`check_reader`); the card generated when empty.
    ReaderInvalid for errors or a card that is taken."""
    if data.errors:
        raise ReaderInvalid(data.errors)
    card = data.card_number or new_card_number(s)
    if card_taken(s, card):
        raise ReaderInvalid({"card_number": "card_taken"}, card=card)
    reader = Reader(card_number=card, last_name=data.last_name, first_name=data.first_name,
                    middle_name=data.middle_name or None, class_name=data.class_name or None,
                    category=data.category, sigla=sigla)
    s.add(reader)
    s.flush()  # a parallel add of the same card: IntegrityError (the caller's transaction ends)
    return reader


def update_reader(s: Session, reader: Reader, data: ReaderData) -> dict[str, tuple[Any, Any]]:
    """Change a reader to checked data (an empty card keeps the old one); returns what changed
    (field → (old, new)). ReaderInvalid for errors or a taken card."""
    if data.errors:
        raise ReaderInvalid(data.errors)
    card = data.card_number or reader.card_number
    if card != reader.card_number and card_taken(s, card, reader.id):
        raise ReaderInvalid({"card_number": "card_taken"}, card=card)
    new = {"card_number": card, "last_name": data.last_name, "first_name": data.first_name,
           "middle_name": data.middle_name or None, "class_name": data.class_name or None,
           "category": data.category}
    changed = {k: (getattr(reader, k), v) for k, v in new.items() if getattr(reader, k) != v}
    for key, (_old, value) in changed.items():
        setattr(reader, key, value)
    s.flush()
    return changed


def check_reason(reason: str) -> str:
    """A block or unblock reason: 3..255 printable characters (ReaderInvalid `reason`)."""
    reason = " ".join(reason.split()) if not has_controls(reason.replace("\t", " ")) else reason
    if has_controls(reason):
        raise ReaderInvalid({"reason": "bad_chars"})
    if len(reason) < 3:
        raise ReaderInvalid({"reason": "no_reason"})
    if len(reason) > MAX_REASON:
        raise ReaderInvalid({"reason": "reason_too_long"})
    return reason


def set_blocked(reader: Reader, blocked: bool, reason: str) -> str:
    """Block (the reason is stored and shown at the kiosk) or unblock (the reason is only for the
    log) a reader; returns the checked reason. ReaderInvalid for a bad reason."""
    reason = check_reason(reason)
    reader.blocked = blocked
    reader.block_reason = reason if blocked else None
    return reason


def restore(reader: Reader) -> bool:
    """Bring an archived reader back (a leaver who stays, an archive by mistake): active again,
    not archived; the class stays as it was. False when the reader was not archived."""
    if reader.active and reader.archived_at is None:
        return False
    reader.active = True
    reader.archived_at = None
    return True


@dataclass
class ReaderRow:
    """One line of a reader list."""

    id: int
    card_number: str
    last_name: str
    first_name: str
    middle_name: str
    class_name: str
    category: str
    blocked: bool
    active: bool
    archived_at: dt.datetime | None
    locked: bool = False
    open_loans: int = 0


def find_readers(s: Session, query: str = "", *, class_name: str | None = None,
                 archived: bool = False, now: dt.datetime | None = None,
                 school: Scope | None = None) -> list[ReaderRow]:
    """Readers whose surname, first name, patronymic, card or class starts with each word of
    `query` (module text), in `class_name` when given; archived readers (not active) only when
    `archived`; one school's readers when `school` is given (library.schools.Scope). Sorted by
    class, surname, first name; anonymised readers never."""
    now = now or utcnow()
    q = select(Reader.id, Reader.card_number, Reader.last_name, Reader.first_name,
               Reader.middle_name, Reader.class_name, Reader.category, Reader.blocked,
               Reader.active, Reader.archived_at).where(Reader.anonymised_at.is_(None))
    if not archived:
        q = q.where(Reader.active.is_(True))
    if class_name:
        q = q.where(Reader.class_name == class_name)
    if school is not None:
        q = q.where(school.clause(Reader.sigla))
    words = [fold(w) for w in query.split()]
    rows = []
    for r in s.execute(q):
        if words:
            fields = [fold(v) for v in (r.last_name, r.first_name, r.middle_name or "",
                                        r.card_number, r.class_name or "")]
            if not all(any(f.startswith(w) for f in fields) for w in words):
                continue
        rows.append(ReaderRow(r.id, r.card_number, r.last_name, r.first_name, r.middle_name or "",
                              r.class_name or "", r.category, r.blocked, r.active, r.archived_at))
    rows.sort(key=lambda r: (r.class_name == "", _class_sort(r.class_name), fold(r.last_name),
                             fold(r.first_name), r.card_number))
    return rows


def _class_sort(name: str) -> tuple[int, str]:
    head = name[:-1] if name and not name[-1].isdigit() else name
    return (int(head) if head.isdigit() else 99, name)


def mark_rows(s: Session, rows: list[ReaderRow], now: dt.datetime | None = None) -> None:
    """Fill `locked` (wrong PINs) and `open_loans` of the rows shown (one query each)."""
    if not rows:
        return
    now = now or utcnow()
    ids = [r.id for r in rows]
    locked = set(s.scalars(select(PinGuard.reader_id).where(
        PinGuard.reader_id.in_(ids), PinGuard.locked_until.is_not(None), PinGuard.locked_until > now)))
    loans = dict(s.execute(select(Loan.reader_id, func.count()).where(
        Loan.reader_id.in_(ids), Loan.returned_at.is_(None)).group_by(Loan.reader_id)).all())
    for r in rows:
        r.locked = r.id in locked
        r.open_loans = int(loans.get(r.id, 0))


def classes(s: Session, *, school: Scope | None = None) -> list[str]:
    """Every class of an active reader (of one school when `school` is given), in school order
    (1А … 11Б)."""
    stmt = select(Reader.class_name).where(Reader.active.is_(True), Reader.class_name.is_not(None))
    if school is not None:
        stmt = stmt.where(school.clause(Reader.sigla))
    names = s.scalars(stmt.distinct())
    return sorted((n for n in names if n), key=_class_sort)
