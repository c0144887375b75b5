"""The values that cross the circulation port (library.circulation.ports): what a front end may
know about a reader, a loan outcome, an open loan. Frozen dataclasses, no SQLAlchemy; the
server's JSON schemas (server/schemas.py) mirror them for the wire."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

# Readers a school addresses formally and by name and patronymic (pupils: first name, «ты»).
ADULTS = frozenset({"teacher", "staff"})


@dataclass(frozen=True)
class ReaderView:
    """What a kiosk may show about the reader at the terminal: first name and initial only."""

    id: int
    card: str
    first_name: str
    initial: str
    class_name: str | None
    category: str
    patronymic: str = ""  # teachers and staff only: a school greets them by name and patronymic
    # Why this reader cannot borrow now (a check_reader refusal code: reader_blocked,
    # has_overdue, has_lost), told at the card rather than at the first book; the librarian's
    # block reason goes in `restriction_note` (shown to the card's owner only).
    restriction: str | None = None
    restriction_note: str | None = None
    # The reader set a PIN of their own (Policy.pin_required reads it: no second lookup).
    pin_set: bool = False

    @property
    def greeting_name(self) -> str:
        """«Аня П.»"""
        return f"{self.first_name} {self.initial}".strip()

    @property
    def formal(self) -> bool:
        """Teachers and staff are addressed formally («Вы»), pupils informally («ты»)."""
        return self.category in ADULTS


@dataclass(frozen=True)
class LoanOutcome:
    """A successful checkout, renewal or return."""

    action: str
    txn_id: str
    loan_id: int
    barcode: str
    title: str
    authors: str
    due_date: dt.date | None
    shelf: str | None = None
    renewals: int = 0
    replayed: bool = False
    # The copy's place in plain words (library.places): «Стеллаж 5 — зарубежная проза, буква К».
    place: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        data = asdict(self)
        data["due_date"] = self.due_date.isoformat() if self.due_date else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoanOutcome:
        """Inverse of to_dict (replay); keys it does not know (a newer version's) are dropped."""
        data = {k: v for k, v in data.items() if k in _OUTCOME_FIELDS}
        due = data.get("due_date")
        data["due_date"] = dt.date.fromisoformat(due) if due else None
        return cls(**data)


_OUTCOME_FIELDS = frozenset(LoanOutcome.__dataclass_fields__)


@dataclass(frozen=True)
class LoanView:
    """One of a reader's open loans."""

    loan_id: int
    barcode: str
    title: str
    authors: str
    issued: dt.date
    due_date: dt.date
    renewals: int
    overdue: bool
