"""The replica change feed: records and copies changed, or deleted, after a cursor, in version order.

Versions come from the `counters` row "catalogue"; one import batch stamps many rows with the
same version, so the cursor is (version, kind, id) with kind r(ecord) < c(opy): ``since`` alone
means "everything after this version", ``after`` ("r123", "c45") resumes inside a version. The
first cursor (0, "") means "from the start", rows still at version 0 included.
A page also carries the current state of the parent record of every copy in it, so a replica
never holds a copy without its record.

Deletions travel as tombstones (table ``tombstones``, written by the database triggers of
migration 0008 in the deleting transaction with their own version): they sit in the same order at
the position of the row they replace and come out as ``deleted_records``/``deleted_copies``.
`prune_tombstones` drops those older than ``library.feed.TOMBSTONE_DAYS`` and remembers the
newest version it dropped in the counter "tombstones_pruned", sent as ``pruned`` with every page:
a replica whose cursor is older (and which is not in a full pass from version 0) starts again
from an empty catalogue. The replica decides, because only it knows whether its cursor is an old
one or a step of a full pass that began after the prune.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Select, delete, exists, literal, select, tuple_, union_all

from library.feed import COPY_COLS, KIND, RECORD_COLS, TOMBSTONE_DAYS, BadCursor, parse_after
from library.storage.models import Copy, Counter, Record, Tombstone, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from sqlalchemy.sql import Subquery

__all__ = ["BadCursor", "changes", "prune_tombstones"]
PRUNED = "tombstones_pruned"
_END = len(KIND)  # a kind after every real kind: (v, _END, 0) is "after all of version v"
_Row = TypeVar("_Row", Record, Copy)


def _row(obj: Record | Copy, cols: Iterable[str]) -> dict:
    return {c: getattr(obj, c) for c in cols}


def _counter(session: Session, name: str) -> int:
    return int(session.scalar(select(Counter.value).where(Counter.name == name)) or 0)


def _feed(since: int) -> Subquery:
    """(v, k, i, dead) of every live row and every tombstone at version >= since."""
    def dead(kind: str, k: int, model: type[Record] | type[Copy]) -> Select:
        return (select(Tombstone.version.label("v"), literal(k).label("k"),
                       Tombstone.row_id.label("i"), literal(1).label("d"))
                .where(Tombstone.kind == kind, Tombstone.version >= since,
                       ~exists().where(model.id == Tombstone.row_id)))

    return union_all(
        select(Record.version.label("v"), literal(0).label("k"), Record.id.label("i"),
               literal(0).label("d")).where(Record.version >= since),
        select(Copy.version.label("v"), literal(1).label("k"), Copy.id.label("i"),
               literal(0).label("d")).where(Copy.version >= since),
        dead("r", 0, Record),
        dead("c", 1, Copy),
    ).subquery()


def changes(session: Session, since: int, after: str = "", limit: int = 1000) -> dict:
    """One page of changes after the cursor (see the module docstring)."""
    pos = parse_after(after)
    version = _counter(session, "catalogue")
    lower = (since, *pos) if pos else ((since, _END, 0) if since else (-1, 0, 0))
    feed = _feed(since)
    q = (select(feed.c.v, feed.c.k, feed.c.i, feed.c.d)
         .where(tuple_(feed.c.v, feed.c.k, feed.c.i) > tuple_(*lower))
         .order_by(feed.c.v, feed.c.k, feed.c.i).limit(limit + 1))
    rows = session.execute(q).all()
    more = len(rows) > limit
    rows = rows[:limit]
    rec_ids = [i for _v, k, i, d in rows if k == 0 and not d]
    copy_ids = [i for _v, k, i, d in rows if k == 1 and not d]
    copies = _fetch(session, Copy, copy_ids)
    parents = {c.record_id for c in copies} - set(rec_ids)
    records = _fetch(session, Record, rec_ids + sorted(parents))
    if rows:
        v, k, i, _d = rows[-1]
        next_since, next_after = int(v), f"{'rc'[k]}{i}"
    else:
        next_since, next_after = since, after or ""
    if not more and version > next_since:
        # Caught up: every version up to the counter read before the rows is in this answer
        # (versions are taken under the counter's row lock and committed with their rows), so
        # the cursor moves past versions that left nothing behind (pruned tombstones).
        next_since, next_after = version, ""
    return {"version": version, "records": [_row(r, RECORD_COLS) for r in records],
            "copies": [_row(c, COPY_COLS) for c in copies],
            "deleted_records": [int(i) for _v, k, i, d in rows if k == 0 and d],
            "deleted_copies": [int(i) for _v, k, i, d in rows if k == 1 and d],
            "next_since": next_since, "next_after": next_after, "more": more,
            "pruned": _counter(session, PRUNED)}


def prune_tombstones(session: Session, *, days: int = TOMBSTONE_DAYS,
                     now: dt.datetime | None = None) -> int:
    """Drop tombstones older than `days`; replicas behind the newest dropped one will resync."""
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    top = session.scalar(select(Tombstone.version).where(Tombstone.deleted_at < cutoff)
                         .order_by(Tombstone.version.desc()).limit(1))
    if top is None:
        return 0
    gone = len(session.execute(delete(Tombstone).where(Tombstone.version <= top)
                               .returning(Tombstone.row_id)).all())
    row = session.get(Counter, PRUNED)
    if row is None:
        session.add(Counter(name=PRUNED, value=int(top)))
    elif row.value < top:
        row.value = int(top)
    return gone


def _fetch(session: Session, model: type[_Row], ids: list[int]) -> list[_Row]:
    out: list[_Row] = []
    for n in range(0, len(ids), 900):
        chunk = ids[n:n + 900]
        out.extend(session.scalars(select(model).where(model.id.in_(chunk))).all())
    return sorted(out, key=lambda o: o.id)
