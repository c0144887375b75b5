"""Teachers' lessons and resume positions in the database (SQLite and PostgreSQL): they survive a
restart, concurrent writers lose nothing, the JSON files of older versions are imported once."""

from __future__ import annotations

import json
import threading

import pytest

from library.storage.database import open_database
from library.storage.models import MediaItem
from media.lessons import LessonStore, import_json


def _media(db, n: int = 3) -> list[int]:
    with db.transaction() as s:
        items = [MediaItem(path=f"/m/{i}.mp4", title=f"Фильм {i}", kind="video") for i in range(n)]
        s.add_all(items)
        s.flush()
        return [m.id for m in items]


def test_lessons_and_positions_survive_a_restart(db_url, tmp_path):
    db = open_database(db_url)
    a, b, c = _media(db)
    store = LessonStore(db, tmp_path)
    store.save_lesson("reader-1", "Рим, 5А", [b, a])
    store.save_lesson("reader-1", "Греция", [c])
    store.save_lesson("reader-2", "Рим, 5А", [a])
    store.save_lesson("reader-1", "Рим, 5А", [b, a, c])  # replaced, keeps its place
    store.set_resume_position("reader-1", a, 42.04)
    store.set_resume_position("reader-1", b, 10)
    store.set_resume_position("reader-1", b, 0)  # forgotten
    store.set_resume_position("reader-1", 999_999, 5)  # no such item: ignored
    assert store.delete_lesson("reader-2", "Рим, 5А") and not store.delete_lesson("reader-2", "x")
    with pytest.raises(ValueError):
        store.save_lesson("reader-1", "  ", [a])
    db.dispose()

    db = open_database(db_url)
    store = LessonStore(db, tmp_path)
    assert store.lessons("reader-1") == {"Рим, 5А": [b, a, c], "Греция": [c]}
    assert list(store.lessons("reader-1")) == ["Рим, 5А", "Греция"]
    assert store.lessons("reader-2") == {}
    assert store.lesson("reader-1", "Греция") == [c]
    with pytest.raises(KeyError):
        store.lesson("reader-2", "Рим, 5А")
    assert store.resume_position("reader-1", a) == 42.0
    assert store.resume_position("reader-1", b) == 0.0
    with db.transaction() as s:  # a deleted item takes its positions along
        s.delete(s.get(MediaItem, a))
    assert store.resume_position("reader-1", a) == 0.0
    db.dispose()


def test_concurrent_writers_lose_nothing(db_url, tmp_path):
    """Two connections (as the server and a kiosk) write lessons and positions at once."""
    dbs = [open_database(db_url), open_database(db_url)]
    ids = _media(dbs[0], 4)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        store = LessonStore(dbs[n % 2])
        try:
            for i in range(15):
                store.save_lesson("reader-1", f"урок {n}-{i}", [ids[i % 4]])
                store.set_resume_position(f"reader-{n}", ids[i % 4], i + 1)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    store = LessonStore(dbs[0])
    assert len(store.lessons("reader-1")) == 60
    for n in range(4):
        assert [store.resume_position(f"reader-{n}", m) for m in ids] == [13, 14, 15, 12]
    for d in dbs:
        d.dispose()


def test_json_files_are_imported_once(db, tmp_path):
    a, b, _ = _media(db)
    media = tmp_path / "media"
    media.mkdir()
    lessons = {"reader-1": {"Рим": [a, b], "": [a], "bad": ["x"]}, "reader-2": {"Греция": [b]}}
    resume = {"reader-1": {str(a): 12.5, "999999": 3, str(b): 0}}
    (media / "lessons.json").write_text(json.dumps(lessons, ensure_ascii=False), "utf-8")
    (media / "resume.json").write_text(json.dumps(resume), "utf-8")

    store = LessonStore(db, tmp_path)
    assert store.lessons("reader-1") == {"Рим": [a, b]}
    assert store.lessons("reader-2") == {"Греция": [b]}
    assert store.resume_position("reader-1", a) == 12.5
    assert not (media / "lessons.json").exists() and not (media / "resume.json").exists()
    assert (media / "lessons.json.imported").exists() and (media / "resume.json.imported").exists()

    store.delete_lesson("reader-2", "Греция")
    store.save_lesson("reader-1", "Рим", [b])
    assert LessonStore(db, tmp_path).lessons("reader-2") == {}  # not imported again
    # an import interrupted after its commit runs again: what the database has wins
    (media / "lessons.json").write_text(json.dumps(lessons, ensure_ascii=False), "utf-8")
    import_json(db, media)
    assert store.lessons("reader-1") == {"Рим": [b]}
    assert store.lessons("reader-2") == {"Греция": [b]}  # this one was missing: back


def test_an_unreadable_json_file_is_left_alone(db, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "lessons.json").write_text("{not json", "utf-8")
    assert LessonStore(db, tmp_path).lessons("reader-1") == {}
    assert (media / "lessons.json").exists()
