"""Scanning a generated tree into the database, then rescanning after changes (both backends)."""

from __future__ import annotations

import os
import shutil

from sqlalchemy import select

from library.search.engine import search
from library.storage.models import MediaItem, Record
from media.scan import scan


def _tree(root, src):
    hist = root / "История" / "5-7 класс"
    music = root / "Музыка"
    hist.mkdir(parents=True)
    music.mkdir()
    shutil.copy(src / "video.mp4", hist / "rome.mp4")
    shutil.copy(src / "tone.mp3", music / "tone.mp3")
    shutil.copy(src / "pic.png", music / "pic.png")
    data = (src / "video.mp4").read_bytes()
    (root / "История" / "truncated.mp4").write_bytes(data[: len(data) // 2])
    (music / "random.mp4").write_bytes(os.urandom(40_000))
    (music / "doc.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n")
    (music / "tone.toml").write_text(
        'subject = "Музыка"\naccess = "teachers"\nlicence = "CC BY 4.0"\ntags = ["звук"]\n'
        'class = "1-4"\n', "utf-8")
    (music / "_media.toml").write_text('access = "onsite"\n', "utf-8")


def _items(db):
    with db.session() as s:
        return {os.path.relpath(i.path): i for i in s.scalars(select(MediaItem))}


def test_scan_then_rescan(db, tmp_path, media_src, monkeypatch):
    root = tmp_path / "lib"
    _tree(root, media_src)
    data_dir = tmp_path / "data"
    monkeypatch.chdir(root)
    rep = scan(db, [root], data_dir=data_dir)
    assert rep.added == 6 and rep.probed == 6
    broken = {os.path.basename(b["path"]): b["error"] for b in rep.broken}
    assert set(broken) == {"truncated.mp4", "random.mp4"}
    assert all(broken.values())
    items = _items(db)
    rome = items["История/5-7 класс/rome.mp4"]
    assert rome.title == "Древний Рим" and rome.kind == "video" and rome.status == "ok"
    assert (rome.width, rome.height) == (320, 240) and 2.5 < rome.duration_s < 3.5
    assert rome.codecs == "h264,aac" and rome.subject == "История"
    assert (rome.class_from, rome.class_to) == (5, 7) and rome.access == "everyone"
    assert rome.thumbnail and os.path.exists(rome.thumbnail)
    tone = items["Музыка/tone.mp3"]
    assert (tone.access, tone.licence, tone.tags, tone.class_from) == (
        "teachers", "CC BY 4.0", ["звук"], 1)
    assert items["Музыка/pic.png"].width == 64 and items["Музыка/pic.png"].access == "onsite"
    assert items["Музыка/doc.pdf"].status == "ok"
    assert items["Музыка/random.mp4"].status == "broken"
    with db.session() as s:
        rec = s.get(Record, rome.record_id)
        assert rec.key == f"media:{rome.id}" and rec.item_type == "media"
        hits = search(s, "древний рим")
        assert any(h.id == rome.record_id and h.type == "media" for h in hits.hits)

    again = scan(db, [root], data_dir=data_dir)
    assert (again.added, again.updated, again.probed, again.unchanged) == (0, 0, 0, 6)

    # 1 changed, 1 moved (renamed into another folder), 1 deleted
    with open(root / "Музыка" / "pic.png", "ab") as fh:
        fh.write(b"\0" * 10)
    os.rename(root / "История" / "5-7 класс" / "rome.mp4", root / "История" / "Рим_видео.mp4")
    os.remove(root / "Музыка" / "doc.pdf")
    third = scan(db, [root], data_dir=data_dir)
    assert (third.added, third.updated, third.moved, third.missing) == (0, 1, 1, 1)
    assert third.probed == 1
    items = _items(db)
    moved = items["История/Рим_видео.mp4"]
    assert moved.id == rome.id and moved.status == "ok" and moved.title == "Древний Рим"
    assert (moved.class_from, moved.class_to) == (None, None)  # no longer under "5-7 класс"
    assert items["Музыка/doc.pdf"].status == "missing"
    with db.session() as s:
        assert s.get(Record, items["Музыка/doc.pdf"].record_id).deleted
