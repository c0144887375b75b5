"""Adding and editing a copy (экземпляр) by hand: the one place of the rules the desk's
catalogue editor follows (server/desk/catalogue_pages.py).

* A copy needs a barcode or an inventory number; a barcode is unique in the whole database
  (a scanner at any desk must find one copy), refused otherwise (`BarcodeTaken`).
* By hand a copy may be set available, in repair (``bindery``), lost or written off; another
  status it already has (ordered, reserved…) may be kept. ``on_loan`` is circulation's: a copy
  with an open loan keeps it, and cannot be written off, lost or put back on the shelf before
  it is returned (`CopyOnLoan`).
* Every change takes a new change-feed version from the counter "catalogue" (the way the MARC
  writer and circulation do), so the terminals' replicas pick the copy up, and re-indexes the
  record in the same transaction (availability and the barcode/inventory codes search finds).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from library.errors import IbcError, NotFound
from library.marc.writer import next_version
from library.storage.models import Copy, CopyStatus, Loan, Record
from library.text import has_controls

# Statuses a librarian sets by hand; BINDERY is «в ремонте / в переплёте».
HAND_STATUSES = (CopyStatus.AVAILABLE.value, CopyStatus.BINDERY.value, CopyStatus.LOST.value,
                 CopyStatus.WRITTEN_OFF.value)
LIMITS = {"barcode": 64, "inventory_number": 64, "shelf_mark": 255, "collection": 255}
_CODE = re.compile(r"^\S+$")


class CopyEditError(IbcError):
    """A copy cannot be added or changed; `field` names the form field it is about."""

    code = "copy_edit"

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


class CopyValueError(CopyEditError):
    """A value is empty where it may not be, too long, or has control characters or spaces."""

    code = "copy_value"


class BarcodeTaken(CopyEditError):
    """Another copy has this barcode."""

    code = "barcode_taken"

    def __init__(self, barcode: str, record_id: int):
        super().__init__(f"barcode {barcode} belongs to a copy of record {record_id}", "barcode")
        self.barcode, self.record_id = barcode, record_id


class CopyOnLoan(CopyEditError):
    """The copy is on loan: its status cannot change until it is returned."""

    code = "copy_on_loan"

    def __init__(self, due: dt.date, wanted: str):
        super().__init__(f"the copy is on loan until {due.isoformat()}; return it first", "status")
        self.due, self.wanted = due, wanted


@dataclass
class CopyFields:
    """What the editor sets; '' means empty (stored as NULL)."""

    barcode: str = ""
    inventory_number: str = ""
    shelf_mark: str = ""
    collection: str = ""
    status: str = CopyStatus.AVAILABLE.value


def clean(values: CopyFields) -> CopyFields:
    """Trimmed values, checked (CopyValueError names the field)."""
    out = CopyFields(**{f.name: (getattr(values, f.name) or "").strip() for f in fields(CopyFields)})
    for name, limit in LIMITS.items():
        value = getattr(out, name)
        if len(value) > limit:
            raise CopyValueError(f"{name} is longer than {limit} characters", name)
        if has_controls(value):
            raise CopyValueError(f"{name} has control characters", name)
    for name in ("barcode", "inventory_number"):
        value = getattr(out, name)
        if value and not _CODE.match(value):
            raise CopyValueError(f"{name} may not contain spaces", name)
    if not out.barcode and not out.inventory_number:
        raise CopyValueError("a copy needs a barcode or an inventory number", "barcode")
    return out


def open_loan_due(session: Session, copy_id: int) -> dt.date | None:
    """The due date of the copy's open loan, None when it is not on loan."""
    return session.scalar(select(Loan.due_date).where(Loan.copy_id == copy_id,
                                                      Loan.returned_at.is_(None)))


def _check_barcode(session: Session, barcode: str, copy_id: int | None) -> None:
    if not barcode:
        return
    q = select(Copy.id, Copy.record_id).where(Copy.barcode == barcode)
    if copy_id is not None:
        q = q.where(Copy.id != copy_id)
    other = session.execute(q.limit(1)).first()
    if other is not None:
        raise BarcodeTaken(barcode, other.record_id)


def _touch(session: Session, copy: Copy) -> None:
    """A new change-feed version for the copy and its record's search document refreshed."""
    from library.search import index_records

    copy.version = next_version(session)
    session.flush()
    index_records(session, [copy.record_id])


def add_copy(session: Session, record_id: int, values: CopyFields, *, sigla: str) -> Copy:
    """A new copy of the record (NotFound for a missing or deleted record)."""
    rec = session.get(Record, record_id)
    if rec is None or rec.deleted:
        raise NotFound(f"record {record_id}")
    v = clean(values)
    if v.status not in HAND_STATUSES:
        raise CopyValueError(f"status {v.status!r} cannot be set by hand", "status")
    _check_barcode(session, v.barcode, None)
    copy = Copy(record_id=rec.id, sigla=sigla, barcode=v.barcode or None,
                inventory_number=v.inventory_number or None, shelf_mark=v.shelf_mark or None,
                collection=v.collection or None, status=v.status)
    session.add(copy)
    session.flush()
    _touch(session, copy)
    return copy


def update_copy(session: Session, copy_id: int, values: CopyFields) -> tuple[Copy, dict[str, tuple]]:
    """Change a copy; returns it and {field: (old, new)} of what changed (nothing written
    when nothing changed)."""
    copy = session.get(Copy, copy_id, with_for_update=True)
    if copy is None:
        raise NotFound(f"copy {copy_id}")
    v = clean(values)
    if v.status != copy.status:
        due = open_loan_due(session, copy.id)
        if due is not None:
            raise CopyOnLoan(due, v.status)
        if v.status not in HAND_STATUSES:
            raise CopyValueError(f"status {v.status!r} cannot be set by hand", "status")
    _check_barcode(session, v.barcode, copy.id)
    changes: dict[str, tuple] = {}
    for name in ("barcode", "inventory_number", "shelf_mark", "collection", "status"):
        new = getattr(v, name) or None if name != "status" else v.status
        old = getattr(copy, name)
        if (old or None) != new:
            changes[name] = (old, new)
            setattr(copy, name, new)
    if changes:
        _touch(session, copy)
    return copy, changes
