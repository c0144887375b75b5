"""Media lists for a reader category, and play statistics.

Who may see, play and download what is library.access's table (docs/MEDIA.md): "everyone";
"teachers" (teachers and staff only); "onsite" (seen and played in the ИБЦ by everyone, never
downloaded: ``downloadable`` is False and the API does not serve the file).

An item's level comes from its description files (media/sidecar.py, at every scan) unless a
person set it (`set_access`, the desk's «Медиатека»): that choice is an Event(kind
"media_access") and wins over the description files at later scans (`access_overrides`).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, or_, select, true, update
from sqlalchemy.orm import Session

from library import access
from library.storage.models import Event, MediaItem


def school_clause(school: str | None) -> ColumnElement[bool]:
    """The media items a school's terminals and teachers see: the school's own (``sigla``) and
    those shared by the whole city (``sigla`` NULL, every item scanned without ``--school``).
    None: every school's (the CLI, the desk, the station's own list)."""
    if school is None:
        return true()
    return or_(MediaItem.sigla.is_(None), MediaItem.sigla == school)


def seen_by_school(item_sigla: str | None, school: str | None) -> bool:
    """`school_clause` for one item: shared (None) or the school's own (school None: every)."""
    return school is None or item_sigla is None or item_sigla == school


def other_schools_item(session: Session, ids: list[int], school: str | None) -> int | None:
    """The first of `ids` that is another school's (`seen_by_school` false), else None: a
    school's teacher plays and saves in lessons only the school's own and the shared items."""
    if school is None or not ids:
        return None
    rows = {mid: sigla for mid, sigla in session.execute(
        select(MediaItem.id, MediaItem.sigla).where(MediaItem.id.in_(ids)))}
    return next((m for m in ids if m in rows and not seen_by_school(rows[m], school)), None)


def visible_query(role: str | None, *, include_unavailable: bool = False,
                  school: str | None = None) -> Select:
    """A SELECT of the media items a reader of this category may see (of `school` and the
    shared ones when given: `school_clause`)."""
    q = select(MediaItem).where(access.permitted(MediaItem.access, role, access.Action.SEE))
    if not include_unavailable:
        q = q.where(MediaItem.status == "ok")
    if school is not None:
        q = q.where(school_clause(school))
    return q.order_by(MediaItem.subject, MediaItem.title, MediaItem.id)


def visible_media(session: Session, role: str | None, *, include_unavailable: bool = False,
                  school: str | None = None) -> list[MediaItem]:
    """Media items this category may see (ok status only unless asked; `school`: its own and
    the shared ones)."""
    return list(session.scalars(visible_query(role, include_unavailable=include_unavailable,
                                              school=school)))


def downloadable(item: MediaItem) -> bool:
    """False for on-site-only items and anything not playable now: the API must not serve them."""
    return access.downloadable(item.access) and item.status == "ok"


def media_dict(item: MediaItem) -> dict:
    """A JSON-ready view of an item for the CLI and the API."""
    return {
        "id": item.id, "title": item.title, "kind": item.kind, "path": item.path,
        "duration_s": item.duration_s, "width": item.width, "height": item.height,
        "codecs": item.codecs, "thumbnail": item.thumbnail, "subject": item.subject,
        "class_from": item.class_from, "class_to": item.class_to, "tags": list(item.tags or []),
        "access": item.access, "licence": item.licence, "status": item.status,
        "error": item.error, "plays": item.plays, "record_id": item.record_id,
        "downloadable": downloadable(item), "school": item.sigla,
    }


ACCESS_EVENT = "media_access"


def set_access(session: Session, item: MediaItem, level: access.Level, *, by: str) -> str:
    """Give `item` the access level `level` (one of library.access.Level), set by the person
    `by`; kept over later scans, and the search index follows at once. Returns the level it
    had."""
    from library.search import index_access_changed

    before = item.access
    item.access = level.value
    session.add(Event(kind=ACCESS_EVENT, media_id=item.id,
                      payload={"access": level.value, "before": before, "by": by[:64]}))
    if item.record_id is not None:  # the search index decides who finds its record
        session.flush()
        index_access_changed(session, [item.record_id])
    return before


def access_overrides(session: Session) -> dict[int, str]:
    """media id → the level a person set last (`set_access`); scans keep it."""
    rows = session.execute(select(Event.media_id, Event.payload).where(
        Event.kind == ACCESS_EVENT, Event.media_id.is_not(None)).order_by(Event.id))
    return {mid: access.level_of((payload or {}).get("access")).value for mid, payload in rows}


def record_play(session: Session, media_id: int, *, terminal: str | None = None,
                reader_category: str | None = None, payload: dict | None = None) -> None:
    """Count one play: plays += 1 (in SQL, race-free) and an Event(kind="play")."""
    session.execute(update(MediaItem).where(MediaItem.id == media_id)
                    .values(plays=MediaItem.plays + 1))
    session.add(Event(kind="play", media_id=media_id, terminal=terminal,
                      reader_category=reader_category, payload=payload or {}))
