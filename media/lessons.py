"""Teachers' playlists («уроки») and resume positions, in the database (tables ``lessons`` and
``resume_positions``, migration 0009): inside transactions, migrations and backups.

A lesson is (teacher key, name, ordered media ids); a resume position (teacher key, media id,
seconds). Every change is one upsert of one row, so concurrent writers (the server's station, a
kiosk, the CLI) never lose each other's updates.

Until 0009 they were JSON files beside the database: ``<data_dir>/media/lessons.json``
({teacher: {lesson name: [media ids]}}) and ``resume.json`` ({teacher: {media id: seconds}}).
On first use a store given the data dir imports them once, in one transaction, keeping rows the
database already has (an import interrupted after its commit simply runs again), then renames
them ``*.imported``. Positions of media items that no longer exist are left out.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from library.storage.models import Base, Lesson, MediaItem, ResumePosition, utcnow

if TYPE_CHECKING:
    from library.storage.database import Database

log = logging.getLogger(__name__)
LESSONS_JSON, RESUME_JSON = "lessons.json", "resume.json"
NAME_MAX = 200


def _insert(session: Session, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """INSERT … ON CONFLICT for the session's dialect (SQLite and PostgreSQL spell it alike)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


class LessonStore:
    """Named ordered media lists and resume positions per teacher."""

    def __init__(self, db: Database, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.db = db
        self.dir = Path(data_dir) / "media" if data_dir is not None else None
        self._imported = self.dir is None
        self._lock = threading.Lock()

    def _ready(self) -> None:
        """Import the JSON files of older versions, once per store."""
        if self._imported:
            return
        with self._lock:
            if not self._imported and self.dir is not None:
                import_json(self.db, self.dir)
                self._imported = True

    def lessons(self, teacher: str) -> dict[str, list[int]]:
        """All lessons of a teacher, oldest first."""
        self._ready()
        with self.db.session() as s:
            rows = s.execute(select(Lesson.name, Lesson.media_ids)
                             .where(Lesson.teacher == teacher).order_by(Lesson.id)).all()
        return {name: [int(i) for i in ids] for name, ids in rows}

    def lesson(self, teacher: str, name: str) -> list[int]:
        """One lesson's media ids (KeyError when there is none)."""
        self._ready()
        with self.db.session() as s:
            ids = s.scalar(select(Lesson.media_ids)
                           .where(Lesson.teacher == teacher, Lesson.name == name))
        if ids is None:
            raise KeyError(name)
        return [int(i) for i in ids]

    def save_lesson(self, teacher: str, name: str, media_ids: list[int]) -> None:
        """Create or replace a lesson (a replaced lesson keeps its place in the list)."""
        if not name.strip():
            raise ValueError("у урока должно быть название")
        if len(name) > NAME_MAX:
            raise ValueError(f"название урока длиннее {NAME_MAX} знаков")
        self._ready()
        ids = [int(i) for i in media_ids]
        with self.db.transaction() as s:
            stmt = _insert(s, Lesson).values(teacher=teacher, name=name, media_ids=ids,
                                             updated_at=utcnow())
            s.execute(stmt.on_conflict_do_update(
                index_elements=["teacher", "name"],
                set_={"media_ids": stmt.excluded.media_ids, "updated_at": stmt.excluded.updated_at}))

    def delete_lesson(self, teacher: str, name: str) -> bool:
        """Remove a lesson; False when it did not exist."""
        self._ready()
        with self.db.transaction() as s:
            gone = s.scalars(delete(Lesson).where(Lesson.teacher == teacher, Lesson.name == name)
                             .returning(Lesson.id)).all()
        return bool(gone)

    def resume_position(self, teacher: str, media_id: int) -> float:
        """Where this teacher stopped this item (0 when never)."""
        self._ready()
        with self.db.session() as s:
            pos = s.scalar(select(ResumePosition.position).where(
                ResumePosition.teacher == teacher, ResumePosition.media_id == int(media_id)))
        return float(pos or 0.0)

    def set_resume_position(self, teacher: str, media_id: int, seconds: float) -> None:
        """Remember a position; 0 forgets it. An item that no longer exists is ignored."""
        self._ready()
        with self.db.transaction() as s:
            where = (ResumePosition.teacher == teacher, ResumePosition.media_id == int(media_id))
            if seconds <= 0:
                s.execute(delete(ResumePosition).where(*where))
                return
            if s.get(MediaItem, int(media_id)) is None:
                return
            stmt = _insert(s, ResumePosition).values(
                teacher=teacher, media_id=int(media_id), position=round(float(seconds), 1),
                updated_at=utcnow())
            s.execute(stmt.on_conflict_do_update(
                index_elements=["teacher", "media_id"],
                set_={"position": stmt.excluded.position, "updated_at": stmt.excluded.updated_at}))


def _read_json(path: Path) -> dict | None:
    """The file's object; None when absent or unreadable (left in place, logged)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("%s not imported: %s", path, exc)
        return None
    if not isinstance(data, dict):
        log.warning("%s not imported: not a JSON object", path)
        return None
    return data


def import_json(db: Database, directory: str | os.PathLike[str]) -> tuple[int, int]:
    """Import lessons.json and resume.json from `directory` once (see the module docstring);
    returns (lessons, positions) read from them."""
    directory = Path(directory)
    lessons = _read_json(directory / LESSONS_JSON)
    resume = _read_json(directory / RESUME_JSON)
    if lessons is None and resume is None:
        return 0, 0
    now = utcnow()
    lesson_rows = [
        {"teacher": str(teacher)[:64], "name": str(name)[:NAME_MAX],
         "media_ids": [int(i) for i in ids], "updated_at": now}
        for teacher, named in (lessons or {}).items() if isinstance(named, dict)
        for name, ids in named.items()
        if str(name).strip() and isinstance(ids, list) and all(isinstance(i, int) for i in ids)]
    wanted = [
        {"teacher": str(teacher)[:64], "media_id": int(mid), "position": float(pos),
         "updated_at": now}
        for teacher, spots in (resume or {}).items() if isinstance(spots, dict)
        for mid, pos in spots.items()
        if str(mid).isdigit() and isinstance(pos, (int, float)) and pos > 0]
    with db.transaction() as s:
        known = set(s.scalars(select(MediaItem.id).where(
            MediaItem.id.in_(sorted({r["media_id"] for r in wanted})))))
        spot_rows = [r for r in wanted if r["media_id"] in known]
        for model, rows, keys in ((Lesson, lesson_rows, ["teacher", "name"]),
                                  (ResumePosition, spot_rows, ["teacher", "media_id"])):
            if rows:
                s.execute(_insert(s, model).on_conflict_do_nothing(index_elements=keys), rows)
    for name, data in ((LESSONS_JSON, lessons), (RESUME_JSON, resume)):
        if data is not None:
            try:
                os.replace(directory / name, directory / f"{name}.imported")
            except FileNotFoundError:  # another process imported it at the same time
                pass
    log.info("imported %d lessons and %d resume positions from %s",
             len(lesson_rows), len(spot_rows), directory)
    return len(lesson_rows), len(spot_rows)
