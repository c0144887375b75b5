"""A reader's reading history — kept only when the reader turns it on (``readers.keep_history``,
migration 0025_opac; the OPAC's «My account», docs/OPAC.md).

By default a returned loan loses its reader link `anonymise_after_days` after the return
(`CirculationService.anonymise_returned`). A reader who turns the history on keeps the link of
their returned loans (anonymise_returned skips them) and can list them; turning it off unlinks
every returned loan of theirs at once (`set_keep_history`), as the anonymise step would have.
An anonymised leaver's history goes with the rest of their data (school_year.anonymise_archived).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from library.storage.database import Database
from library.storage.models import Copy, Loan, Reader, Record

HISTORY_MAX = 500  # the newest returned loans listed


@dataclass(frozen=True)
class ReadBook:
    """One returned loan of the reader's history."""

    title: str
    authors: str
    returned: dt.date


def keeps_history(db: Database, reader_id: int) -> bool:
    """True when the reader turned their reading history on."""
    with db.session() as s:
        return bool(s.scalar(select(Reader.keep_history).where(Reader.id == reader_id)))


def set_keep_history(db: Database, reader_id: int, on: bool) -> int:
    """Turn the reader's reading history on or off. Off unlinks every returned loan of theirs
    in the same transaction (the reader link goes, class and category stay for the statistics);
    returns how many loans were unlinked (0 when turned on)."""
    with db.transaction() as s:
        s.execute(update(Reader).where(Reader.id == reader_id).values(keep_history=on))
        if on:
            return 0
        res = cast(CursorResult[Any], s.execute(
            update(Loan).where(Loan.reader_id == reader_id, Loan.returned_at.is_not(None))
            .values(reader_id=None, anonymised=True)))
        return res.rowcount or 0


def reading_history(db: Database, reader_id: int, limit: int = HISTORY_MAX) -> list[ReadBook] | None:
    """The reader's returned loans, newest first — None when the history is off (then nothing
    of it is read, even links the anonymise step has not reached yet)."""
    with db.session() as s:
        if not s.scalar(select(Reader.keep_history).where(Reader.id == reader_id)):
            return None
        rows = s.execute(
            select(Record.title, Record.authors, Loan.returned_at)
            .join(Copy, Loan.copy_id == Copy.id).join(Record, Copy.record_id == Record.id)
            .where(Loan.reader_id == reader_id, Loan.returned_at.is_not(None))
            .order_by(Loan.returned_at.desc(), Loan.id.desc()).limit(limit)).all()
    return [ReadBook(r.title, ", ".join(a.split(",")[0].strip() for a in (r.authors or [])[:2]),
                     r.returned_at.date()) for r in rows]
