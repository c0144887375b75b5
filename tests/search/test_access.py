"""Teachers-only media never reach pupils through catalogue search (both backends)."""

from __future__ import annotations

from sqlalchemy import select

from library.search import index_access_changed, index_records, reindex_all, search
from library.search import schema as s
from library.storage.models import MediaItem, Record

MEDIA = [("Фотосинтез: видеоурок", "everyone"), ("Фотосинтез: контрольная с ответами", "teachers"),
         ("Фотосинтез: фильм для показа в ИБЦ", "onsite"), ("Фотосинтез: гимн", "strange-level")]


def _load(db) -> dict[str, int]:
    from media.store import sync_records

    with db.transaction() as s_:
        s_.add(Record(key="b:1", title="Фотосинтез у растений", authors=["Иванов, И. И."]))
        items = [MediaItem(path=f"/m/{i}.mp4", title=t, kind="video", access=a, tags=[], plays=0)
                 for i, (t, a) in enumerate(MEDIA)]
        s_.add_all(items)
        s_.flush()
        index_records(s_, sync_records(s_, items) + [
            s_.scalar(select(Record.id).where(Record.key == "b:1"))])
        return {a: i.id for (_, a), i in zip(MEDIA, items)}


def _titles(db, q, **kw):
    with db.transaction(write=False) as s_:
        return {h.title for h in search(s_, q, **kw).hits}


def test_pupil_never_sees_teachers_only_media(db):
    _load(db)
    for audience in (None, "pupil", "guest", ""):
        titles = _titles(db, "фотосинтез", audience=audience)
        assert titles == {"Фотосинтез у растений", "Фотосинтез: видеоурок",
                          "Фотосинтез: фильм для показа в ИБЦ"}, audience
        assert not _titles(db, "контрольная ответы", audience=audience)
        assert not _titles(db, "гимн", audience=audience)  # unknown level: fails closed
    with db.transaction(write=False) as s_:
        res = search(s_, "фотосинтез", audience="pupil", facets=True)
        assert res.total == 3
        assert sum(v["count"] for v in res.facets["type"]) == 3
        # a filter-only search (no words) is restricted too
        assert {h.title for h in search(s_, "type:media", audience="pupil").hits} <= {
            "Фотосинтез: видеоурок", "Фотосинтез: фильм для показа в ИБЦ"}


def test_teacher_and_staff_see_everything(db):
    _load(db)
    for audience in ("teacher", "staff", "librarian"):
        assert _titles(db, "фотосинтез", audience=audience) == {
            "Фотосинтез у растений", *(t for t, _ in MEDIA)}
        assert _titles(db, "контрольная ответы", audience=audience) == {
            "Фотосинтез: контрольная с ответами"}


def test_onsite_media_found_but_not_downloadable(db):
    _load(db)
    with db.transaction(write=False) as s_:
        hits = {h.title: h for h in search(s_, "фотосинтез", audience="pupil").hits}
    onsite = hits["Фотосинтез: фильм для показа в ИБЦ"]
    assert (onsite.type, onsite.access, onsite.downloadable) == ("media", "onsite", False)
    open_ = hits["Фотосинтез: видеоурок"]
    assert (open_.access, open_.downloadable) == ("everyone", True)
    book = hits["Фотосинтез у растений"]
    assert (book.access, book.downloadable) == (None, None)


def test_access_change_reindexes(db):
    ids = _load(db)
    with db.transaction() as s_:
        item = s_.get(MediaItem, ids["everyone"])
        item.access = "teachers"
        index_access_changed(s_, [item.record_id])
    assert "Фотосинтез: видеоурок" not in _titles(db, "фотосинтез", audience="pupil")
    with db.transaction() as s_:
        item = s_.get(MediaItem, ids["teachers"])
        item.access = "everyone"
        index_records(s_, [item.record_id])  # a full re-index picks the level up as well
    assert "Фотосинтез: контрольная с ответами" in _titles(db, "фотосинтез", audience="pupil")
    with db.transaction() as s_:
        reindex_all(s_)
        levels = dict(s_.execute(select(s.docs.c.record_id, s.docs.c.access)).all())
        rid = s_.get(MediaItem, ids["everyone"]).record_id
        assert levels[rid] == 2
    assert "Фотосинтез: видеоурок" not in _titles(db, "фотосинтез")
    assert "Фотосинтез: видеоурок" in _titles(db, "фотосинтез", audience="teacher")


def test_media_scan_reindexes_access(db, tmp_path):
    from media.scan import scan

    root = tmp_path / "lib"
    (root / "Биология").mkdir(parents=True)
    (root / "Биология" / "Фотосинтез_схема.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(30))
    scan(db, [root], data_dir=tmp_path / "data", thumbnails=False)
    assert _titles(db, "фотосинтез схема") == {"Фотосинтез схема"}
    (root / "Биология" / "_media.toml").write_text('access = "teachers"\n', encoding="utf-8")
    scan(db, [root], data_dir=tmp_path / "data", thumbnails=False)
    assert not _titles(db, "фотосинтез схема")
    assert _titles(db, "фотосинтез схема", audience="teacher") == {"Фотосинтез схема"}
