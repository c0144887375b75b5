"""Keeping the search index up to date: per-batch indexing inside the caller's transaction,
copy-status refreshes, and the bulk rebuild behind `ibc reindex`.

Each record's document keeps its docid when re-indexed; new records get the next docid. A full
rebuild numbers documents in static-rank order (popularity, then newer years first), which is
the order candidate sets are cut in at query time (see docs/SEARCH.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, cast

from sqlalchemy import CursorResult, Integer, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from library.search import schema as s
from library.search.access import OPEN, TEACHERS, level_of
from library.search.backends import backend_for, executemany
from library.search.documents import build_document, doc_terms
from library.search.typo import deletion_keys, indexable
from library.storage.models import Copy, CopyStatus, MediaItem, Record

CHUNK = 500
_INSERT_CODES = "INSERT INTO search_codes (code, record_id) VALUES (?, ?)"
GONE = (CopyStatus.WRITTEN_OFF.value, CopyStatus.LOST.value)
REC = Record.__table__
COPY = Copy.__table__
_REC_COLS = [REC.c[n] for n in (
    "id", "title", "subtitle", "responsibility", "authors", "publisher", "place", "year", "isbn",
    "isbns", "subjects", "bbk", "annotation", "language", "age_rating", "age_min", "item_type",
    "popularity", "deleted")]


def _chunks(seq: list, n: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def copy_stats(session: Session, record_ids: list[int]) -> dict[int, dict]:
    """{record_id: {"copies": n, "available": n}} counting copies not lost or written off."""
    avail = func.sum(func.coalesce((COPY.c.status == CopyStatus.AVAILABLE.value).cast(Integer), 0))
    q = (select(COPY.c.record_id, func.count(), avail)
         .where(COPY.c.record_id.in_(record_ids), COPY.c.status.not_in(GONE))
         .group_by(COPY.c.record_id))
    return {rid: {"copies": n, "available": int(a or 0)} for rid, n, a in session.execute(q)}


def _copy_codes(session: Session, record_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    q = select(COPY.c.record_id, COPY.c.barcode, COPY.c.inventory_number).where(
        COPY.c.record_id.in_(record_ids))
    for rid, bc, inv in session.execute(q):
        out.setdefault(rid, []).extend(c for c in (bc, inv) if c)
    return out


def media_access(session: Session, recs: dict) -> dict[int, str]:
    """{record_id: MediaItem.access} for the media records among `recs` (no query without any)."""
    ids = [rid for rid, r in recs.items() if r["item_type"] == "media"]
    if not ids:
        return {}
    q = select(MediaItem.record_id, MediaItem.access).where(MediaItem.record_id.in_(ids))
    # record_id is nullable in the model; IN (ids) never matches NULL
    return {rid: acc for rid, acc in session.execute(q) if rid is not None}


def next_docids(session: Session, n: int) -> int:
    """Reserve n docids; returns the first."""
    row = session.execute(text(
        "UPDATE search_meta SET value = value + :n WHERE name = 'next_docid' RETURNING value"),
        {"n": n}).first()
    if row is None:
        top = session.execute(select(func.max(s.docs.c.docid))).scalar() or 0
        session.execute(insert(s.meta).values(name="next_docid", value=top + 1 + n))
        return top + 1
    return row[0] - n


def _bump_meta(session: Session, name: str, delta: int) -> None:
    if not delta:
        return
    # Session.execute() is typed Result; an UPDATE gives a CursorResult (with rowcount)
    res = cast(CursorResult[Any], session.execute(update(s.meta).where(s.meta.c.name == name)
                                                  .values(value=s.meta.c.value + delta)))
    if res.rowcount == 0:
        session.execute(insert(s.meta).values(name=name, value=max(delta, 0)))


def apply_vocab(session: Session, delta: Counter, surface: dict[str, str]) -> None:
    """Add document-frequency deltas to the vocabulary; new terms get their typo keys."""
    changed = [t for t, d in delta.items() if d and len(t) <= 100]
    if not changed:
        return
    existing: set[str] = set()
    for part in _chunks(changed, 900):
        existing.update(session.execute(select(s.vocab.c.term).where(s.vocab.c.term.in_(part))).scalars())
    executemany(session, "UPDATE search_vocab SET df = df + ? WHERE term = ?",
                [(delta[t], t) for t in changed if t in existing])
    new = [t for t in changed if t not in existing and delta[t] > 0]
    if not new:
        return
    # a concurrent batch may have added the term since: its df is added to
    executemany(session, "INSERT INTO search_vocab (term, word, df) VALUES (?, ?, ?) "
                "ON CONFLICT (term) DO UPDATE SET df = search_vocab.df + excluded.df",
                [(t, surface.get(t, t)[:100], delta[t]) for t in new])
    ids: dict[str, int] = {}
    for part in _chunks(new, 900):
        ids.update(session.execute(select(s.vocab.c.term, s.vocab.c.term_id)
                                   .where(s.vocab.c.term.in_(part))).all())
    executemany(session, "INSERT INTO search_vocab_keys (key, term_id) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                [(k, ids[t]) for t in new if indexable(t) for k in deletion_keys(t)])


def index_records(session: Session, record_ids: Iterable[int]) -> int:
    """(Re)index these records inside the caller's transaction; deleted/missing ones are removed."""
    ids = sorted(set(int(i) for i in record_ids))
    be = backend_for(session)
    done = 0
    for part in _chunks(ids):
        recs = {r["id"]: r for r in session.execute(select(*_REC_COLS).where(REC.c.id.in_(part)))
                .mappings()}
        old = {r["record_id"]: dict(r) for r in session.execute(
            select(s.docs).where(s.docs.c.record_id.in_(part))).mappings()}
        stats = copy_stats(session, part)
        ccodes = _copy_codes(session, part)
        access = media_access(session, recs)
        delta: Counter = Counter()
        surface: dict[str, str] = {}
        for row in old.values():
            delta.subtract(doc_terms(row))
        be.delete_docs(session, list(old.values()))
        session.execute(delete(s.codes).where(s.codes.c.record_id.in_(part)))
        live = [rid for rid in part if rid in recs and not recs[rid]["deleted"]]
        fresh = [rid for rid in live if rid not in old]
        first = next_docids(session, len(fresh)) if fresh else 0
        new_ids = {rid: first + i for i, rid in enumerate(fresh)}
        rows: list[dict] = []
        code_rows: list[tuple[str, int]] = []
        for rid in live:
            doc = build_document(recs[rid], stats.get(rid), ccodes.get(rid, ()), access.get(rid))
            doc.row["docid"] = old[rid]["docid"] if rid in old else new_ids[rid]
            rows.append(doc.row)
            code_rows.extend((c, rid) for c in doc.codes)
            delta.update(doc.terms())
            for t, w in doc.surface.items():
                surface.setdefault(t, w)
        be.insert_docs(session, rows)
        executemany(session, _INSERT_CODES, code_rows)
        apply_vocab(session, delta, surface)
        _bump_meta(session, "docs", len(rows) - len(old))
        done += len(rows)
    return done


def index_copies_changed(session: Session, record_ids: Iterable[int]) -> None:
    """Refresh "available now" and copy counts after copy status changes (cheap; no re-tokenising)."""
    ids = sorted(set(int(i) for i in record_ids))
    for part in _chunks(ids):
        stats = copy_stats(session, part)
        session.execute(
            update(s.docs).where(s.docs.c.record_id == bindparam("rid"))
            .values(available=bindparam("av"), copies=bindparam("cp")),
            [{"rid": rid, "av": stats.get(rid, {}).get("available", 0),
              "cp": stats.get(rid, {}).get("copies", 0)} for rid in part])


def index_access_changed(session: Session, record_ids: Iterable[int]) -> None:
    """Refresh the access level of media records after MediaItem.access changed (no re-tokenising).

    `media.scan` re-indexes every item whose metadata (access included) changed, so it needs
    no extra call; other writers of MediaItem.access call this in the same transaction.
    """
    ids = sorted(set(int(i) for i in record_ids))
    for part in _chunks(ids):
        levels = {rid: level_of(a) for rid, a in session.execute(
            select(MediaItem.record_id, MediaItem.access).where(MediaItem.record_id.in_(part)))}
        kinds = dict(session.execute(select(REC.c.id, REC.c.item_type).where(REC.c.id.in_(part))).all())
        session.execute(
            update(s.docs).where(s.docs.c.record_id == bindparam("rid"))
            .values(access=bindparam("acc")),
            [{"rid": rid, "acc": levels.get(rid, TEACHERS) if kinds.get(rid) == "media" else OPEN}
             for rid in part])


def reindex_all(session: Session, progress: Callable[[int, int], None] | None = None,
                chunk: int = 2000) -> int:
    """Rebuild the whole index in static-rank order (bulk: FTS rebuild / GIN built once)."""
    be = backend_for(session)
    be.bulk_begin(session)
    for table in (s.codes, s.vocab_keys, s.vocab, s.meta, s.docs):
        session.execute(delete(table))
    order = (REC.c.popularity.desc(), (REC.c.year.is_(None)).cast(Integer), REC.c.year.desc(),
             REC.c.id)
    ids = list(session.execute(select(REC.c.id).where(REC.c.deleted.is_(False)).order_by(*order))
               .scalars())
    df: Counter = Counter()
    surface: dict[str, str] = {}
    docid = 0
    for part in _chunks(ids, chunk):
        recs = {r["id"]: r for r in session.execute(select(*_REC_COLS).where(REC.c.id.in_(part)))
                .mappings()}
        stats = copy_stats(session, part)
        ccodes = _copy_codes(session, part)
        access = media_access(session, recs)
        rows: list[dict] = []
        code_rows: list[dict[str, object]] = []
        for rid in part:
            docid += 1
            doc = build_document(recs[rid], stats.get(rid), ccodes.get(rid, ()), access.get(rid))
            doc.row["docid"] = docid
            rows.append(doc.row)
            code_rows.extend({"code": c, "record_id": rid} for c in doc.codes)
            df.update(doc.terms())
            for t, w in doc.surface.items():
                surface.setdefault(t, w)
        be.insert_docs(session, rows, bulk=True)
        if code_rows:
            session.execute(insert(s.codes), code_rows)
        if progress:
            progress(docid, len(ids))
    apply_vocab(session, df, surface)
    session.execute(insert(s.meta), [{"name": "docs", "value": docid},
                                     {"name": "next_docid", "value": docid + 1}])
    be.bulk_end(session)
    return docid
