"""The replica change feed: records and copies changed after a cursor, in version order.

Versions come from the `counters` row "catalogue"; one import batch stamps many rows with the
same version, so the cursor is (version, kind, id) with kind r(ecord) < c(opy): ``since`` alone
means "everything after this version", ``after`` ("r123", "c45") resumes inside a version.
A page also carries the current state of the parent record of every copy in it, so a replica
never holds a copy without its record.
"""

from __future__ import annotations

from sqlalchemy import literal, select, tuple_, union_all

from library.feed import COPY_COLS, RECORD_COLS, BadCursor, parse_after
from library.storage.models import Copy, Counter, Record

__all__ = ["BadCursor", "changes"]


def _row(obj, cols) -> dict:  # noqa: ANN001
    return {c: getattr(obj, c) for c in cols}


def changes(session, since: int, after: str = "", limit: int = 1000) -> dict:  # noqa: ANN001
    """One page of changes after the cursor (see the module docstring)."""
    pos = parse_after(after)
    lower = (since, *pos) if pos else (since, 2, 0)
    feed = union_all(
        select(Record.version.label("v"), literal(0).label("k"), Record.id.label("i"))
        .where(Record.version >= since),
        select(Copy.version.label("v"), literal(1).label("k"), Copy.id.label("i"))
        .where(Copy.version >= since),
    ).subquery()
    q = (select(feed.c.v, feed.c.k, feed.c.i)
         .where(tuple_(feed.c.v, feed.c.k, feed.c.i) > tuple_(*lower))
         .order_by(feed.c.v, feed.c.k, feed.c.i).limit(limit + 1))
    rows = session.execute(q).all()
    more = len(rows) > limit
    rows = rows[:limit]
    rec_ids = [i for _v, k, i in rows if k == 0]
    copy_ids = [i for _v, k, i in rows if k == 1]
    copies = _fetch(session, Copy, copy_ids)
    parents = {c.record_id for c in copies} - set(rec_ids)
    records = _fetch(session, Record, rec_ids + sorted(parents))
    version = session.scalar(select(Counter.value).where(Counter.name == "catalogue")) or 0
    if rows:
        v, k, i = rows[-1]
        next_since, next_after = int(v), f"{'rc'[k]}{i}"
    else:
        next_since, next_after = since, after or ""
    return {"version": int(version), "records": [_row(r, RECORD_COLS) for r in records],
            "copies": [_row(c, COPY_COLS) for c in copies], "next_since": next_since,
            "next_after": next_after, "more": more}


def _fetch(session, model, ids: list[int]) -> list:  # noqa: ANN001
    out = []
    for n in range(0, len(ids), 900):
        chunk = ids[n:n + 900]
        out.extend(session.scalars(select(model).where(model.id.in_(chunk))).all())
    return sorted(out, key=lambda o: o.id)
