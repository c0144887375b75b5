"""Who may see and download which media items, and play statistics.

Access levels: "everyone"; "teachers" (never shown to pupils); "onsite" (shown to everyone,
but only played in the ИБЦ: ``downloadable`` is False and the API must not serve the file).
"""

from __future__ import annotations

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from library.storage.models import Event, MediaItem

STAFF_ROLES = frozenset({"teacher", "librarian", "admin"})


def allowed_levels(role: str) -> tuple[str, ...]:
    """Access levels a role may see; unknown roles are treated as pupils."""
    if role in STAFF_ROLES:
        return ("everyone", "teachers", "onsite")
    return ("everyone", "onsite")


def visible_query(role: str, *, include_unavailable: bool = False) -> Select:
    """A SELECT of the media items this role may see."""
    q = select(MediaItem).where(MediaItem.access.in_(allowed_levels(role)))
    if not include_unavailable:
        q = q.where(MediaItem.status == "ok")
    return q.order_by(MediaItem.subject, MediaItem.title, MediaItem.id)


def visible_media(session: Session, role: str, *, include_unavailable: bool = False) -> list[MediaItem]:
    """Media items this role may see (ok status only unless asked)."""
    return list(session.scalars(visible_query(role, include_unavailable=include_unavailable)))


def can_see(item: MediaItem, role: str) -> bool:
    """True when ``role`` may see this item."""
    return item.access in allowed_levels(role)


def downloadable(item: MediaItem) -> bool:
    """False for on-site-only items and anything not playable now: the API must not serve them."""
    return item.access != "onsite" and item.status == "ok"


def media_dict(item: MediaItem) -> dict:
    """A JSON-ready view of an item for the CLI and the API."""
    return {
        "id": item.id, "title": item.title, "kind": item.kind, "path": item.path,
        "duration_s": item.duration_s, "width": item.width, "height": item.height,
        "codecs": item.codecs, "thumbnail": item.thumbnail, "subject": item.subject,
        "class_from": item.class_from, "class_to": item.class_to, "tags": list(item.tags or []),
        "access": item.access, "licence": item.licence, "status": item.status,
        "error": item.error, "plays": item.plays, "record_id": item.record_id,
        "downloadable": downloadable(item),
    }


def record_play(session: Session, media_id: int, *, terminal: str | None = None,
                reader_category: str | None = None, payload: dict | None = None) -> None:
    """Count one play: plays += 1 (in SQL, race-free) and an Event(kind="play")."""
    session.execute(update(MediaItem).where(MediaItem.id == media_id)
                    .values(plays=MediaItem.plays + 1))
    session.add(Event(kind="play", media_id=media_id, terminal=terminal,
                      reader_category=reader_category, payload=payload or {}))
