"""Prebuilt Core statements for the checkout hot path.

Built once at import with bind parameters, so a checkout spends its time in the database and
not in building and caching SQL expressions; executed on the session's connection, bypassing
the ORM unit of work. Measured in bench/circulation_bench.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import BindParameter, Select, bindparam, case, func, insert, or_, select, update

from library.storage.models import Copy, Counter, Event, Loan, Reader, Record, TransactionLog, table_of

if TYPE_CHECKING:
    from typing import Unpack  # Python 3.11+; annotations only

C, R, L, RD = table_of(Copy), table_of(Record), table_of(Loan), table_of(Reader)
CT, EV, TXN = table_of(Counter), table_of(Event), table_of(TransactionLog)

READER_BY_CARD = select(
    RD.c.id, RD.c.category, RD.c.class_name, RD.c.blocked, RD.c.active, RD.c.sigla
).where(RD.c.card_number == bindparam("card"))

_COPY_COLUMNS = (
    C.c.id, C.c.record_id, C.c.sigla, C.c.barcode, C.c.status, C.c.shelf_mark,
    R.c.title, R.c.authors, R.c.item_type, R.c.age_min, R.c.bbk,
)


def copy_by_code(sigla: bool, lock: bool, exclude: bool = False) -> Select[Unpack[tuple[Any, ...]]]:
    """The copy with a barcode, RFID or inventory number, joined with its record's fields;
    `sigla`: only of the siglas ``siglas``, `exclude`: of none of the siglas ``others`` (a
    school's copies, library.schools.Scope)."""
    code: BindParameter[str] = bindparam("code")
    q = (select(*_COPY_COLUMNS).join(R, C.c.record_id == R.c.id)
         .where(or_(C.c.barcode == code, C.c.rfid == code, C.c.inventory_number == code)))
    if sigla:
        q = q.where(C.c.sigla.in_(bindparam("siglas", expanding=True)))
    if exclude:
        q = q.where(C.c.sigla.not_in(bindparam("others", expanding=True)))
    q = q.order_by((C.c.barcode == code).desc(), C.c.id).limit(1)
    return q.with_for_update(of=C) if lock else q


COPY_BY_CODE = {(s, k): copy_by_code(s, k) for s in (False, True) for k in (False, True)}
COPY_NOT_OF = {k: copy_by_code(False, k, exclude=True) for k in (False, True)}

# Any school's copy with the code: told apart from an unknown barcode (OtherSchool)
COPY_ELSEWHERE = select(C.c.id).where(
    or_(C.c.barcode == bindparam("code"), C.c.rfid == bindparam("code"),
        C.c.inventory_number == bindparam("code"))).limit(1)

MY_OPEN_LOAN = select(L.c.id).where(
    L.c.copy_id == bindparam("copy_id"), L.c.returned_at.is_(None), L.c.reader_id == bindparam("reader_id")
)

READER_FACTS = (
    select(
        func.count(),
        func.coalesce(func.sum(case((L.c.due_date < bindparam("today"), 1), else_=0)), 0),
        func.coalesce(func.sum(case((C.c.status == "lost", 1), else_=0)), 0),
    )
    .select_from(L).join(C, L.c.copy_id == C.c.id)
    .where(L.c.reader_id == bindparam("reader_id"), L.c.returned_at.is_(None))
)

INSERT_LOAN = insert(L).returning(L.c.id)
NEXT_VERSION = (
    update(CT).where(CT.c.name == "catalogue").values(value=CT.c.value + 1).returning(CT.c.value)
)
SET_COPY_STATUS = (
    update(C).where(C.c.id == bindparam("copy_id"))
    .values(status=bindparam("new_status"), version=bindparam("new_version"))
)
BUMP_POPULARITY = update(R).where(R.c.id == bindparam("rid")).values(popularity=R.c.popularity + 1)
INSERT_EVENT = insert(EV)
INSERT_TXN = insert(TXN)
TXN_BY_ID = select(TXN).where(TXN.c.txn_id == bindparam("txn"))
