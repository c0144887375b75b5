"""Media rows beyond the ORM model: content fingerprints and the catalogue Record of each item.

Every MediaItem has a Record (item_type "media", key ``media:<id>``) so that catalogue search
finds it; the Record is marked deleted while the file is missing or broken, which removes it
from the search index.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table, delete, insert, select
from sqlalchemy.orm import Session

from library.storage.models import Base, MediaItem, Record
from media.kinds import KIND_RU

fingerprints = Table(
    "media_fingerprints", Base.metadata,
    Column("media_id", Integer, ForeignKey("media_items.id", ondelete="CASCADE"),
           primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("digest", String(64), nullable=False),
    extend_existing=True,
)


def record_key(media_id: int) -> str:
    """The catalogue key of a media item's Record."""
    return f"media:{media_id}"


def classes_label(lo: int | None, hi: int | None) -> str | None:
    """"5–7 класс" / "5 класс" / None."""
    if lo is None:
        return None
    return f"{lo} класс" if hi in (None, lo) else f"{lo}–{hi} класс"


def record_values(item: MediaItem) -> dict:
    """Record columns describing a media item for the catalogue."""
    parts = [KIND_RU.get(item.kind, item.kind), classes_label(item.class_from, item.class_to),
             item.licence]
    subjects = [s for s in [item.subject, *(item.tags or [])] if s]
    return {
        "title": item.title[:2000], "item_type": "media", "source_format": "media",
        "subjects": subjects, "annotation": "; ".join(p for p in parts if p) or None,
        "age_min": item.class_from + 6 if item.class_from is not None else None,
        "deleted": item.status != "ok", "popularity": item.plays or 0,
    }


def sync_records(session: Session, items: Iterable[MediaItem]) -> list[int]:
    """Create or update the Record of each item (items must have ids); returns record ids."""
    items = list(items)
    existing = {}
    ids = [i.record_id for i in items if i.record_id]
    if ids:
        existing = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(ids)))}
    fresh = []
    recs: list[Record] = []  # one per item
    for item in items:
        rec = existing.get(item.record_id) if item.record_id is not None else None
        if rec is None:
            rec = Record(key=record_key(item.id), marc=None)
            session.add(rec)
            fresh.append((item, rec))
        for key, value in record_values(item).items():
            setattr(rec, key, value)
        existing[item.record_id or -item.id] = rec
        recs.append(rec)
    if recs:  # a change-feed version, so terminal replicas receive media records too
        from library.marc.writer import next_version

        version = next_version(session)
        for rec in recs:
            rec.version = version
    if fresh:
        session.flush()
        for item, rec in fresh:
            item.record_id = rec.id
    session.flush()
    return [rec.id for rec in recs]  # each item's record_id


def set_fingerprints(session: Session, rows: list[tuple[int, int, str]]) -> None:
    """Store (media_id, size, digest) rows, replacing older ones."""
    if not rows:
        return
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), 500):
        session.execute(delete(fingerprints).where(fingerprints.c.media_id.in_(ids[start:start + 500])))
    session.execute(insert(fingerprints),
                    [{"media_id": m, "size": s, "digest": d} for m, s, d in rows])


def fingerprint_map(session: Session, media_ids: list[int]) -> dict[tuple[int, str], list[int]]:
    """(size, digest) → media ids, for the given items."""
    out: dict[tuple[int, str], list[int]] = {}
    for start in range(0, len(media_ids), 500):
        part = media_ids[start:start + 500]
        for mid, size, digest in session.execute(
                select(fingerprints.c.media_id, fingerprints.c.size, fingerprints.c.digest)
                .where(fingerprints.c.media_id.in_(part))):
            out.setdefault((size, digest), []).append(mid)
    return out
