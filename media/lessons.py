"""Teachers' playlists («уроки») and resume positions, kept as JSON files in the data dir.

``<data_dir>/media/lessons.json``: {teacher: {lesson name: [media ids]}};
``<data_dir>/media/resume.json``: {teacher: {media id: seconds}}. Writes are atomic (temp file +
rename) and serialised by a lock, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path


class LessonStore:
    """Named ordered media lists and resume positions per teacher."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(data_dir) / "media"
        self._lock = threading.Lock()

    def _read(self, name: str) -> dict:
        try:
            return json.loads((self.dir / name).read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            return {}

    def _write(self, name: str, data: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=f".{name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
        os.replace(tmp, self.dir / name)

    def lessons(self, teacher: str) -> dict[str, list[int]]:
        """All lessons of a teacher."""
        with self._lock:
            return dict(self._read("lessons.json").get(teacher, {}))

    def lesson(self, teacher: str, name: str) -> list[int]:
        """One lesson's media ids (KeyError when there is none)."""
        return list(self.lessons(teacher)[name])

    def save_lesson(self, teacher: str, name: str, media_ids: list[int]) -> None:
        """Create or replace a lesson."""
        if not name.strip():
            raise ValueError("у урока должно быть название")
        with self._lock:
            data = self._read("lessons.json")
            data.setdefault(teacher, {})[name] = [int(i) for i in media_ids]
            self._write("lessons.json", data)

    def delete_lesson(self, teacher: str, name: str) -> bool:
        """Remove a lesson; False when it did not exist."""
        with self._lock:
            data = self._read("lessons.json")
            found = data.get(teacher, {}).pop(name, None) is not None
            if found:
                self._write("lessons.json", data)
            return found

    def resume_position(self, teacher: str, media_id: int) -> float:
        """Where this teacher stopped this item (0 when never)."""
        with self._lock:
            return float(self._read("resume.json").get(teacher, {}).get(str(media_id), 0.0))

    def set_resume_position(self, teacher: str, media_id: int, seconds: float) -> None:
        """Remember a position; 0 forgets it."""
        with self._lock:
            data = self._read("resume.json")
            mine = data.setdefault(teacher, {})
            if seconds > 0:
                mine[str(media_id)] = round(float(seconds), 1)
            else:
                mine.pop(str(media_id), None)
            self._write("resume.json", data)
