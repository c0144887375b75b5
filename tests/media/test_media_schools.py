"""Media per school (docs/SCHOOLS.md «Media per school»): an item belongs to a school or is
shared by the whole city (NULL, every item scanned without --school); a school's terminals list
its own items and the shared ones; `ibc media scan --school` and `ibc media list --school` —
on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from library import schools as S
from library.storage.models import MediaItem
from media.access import seen_by_school, visible_media
from media.scan import scan

PDF = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n"


def _items(db) -> None:
    with db.transaction() as s:
        S.ensure_default(s, "ИБЦ", "Школа № 1")
        S.add_school(s, "ГИМН5", "Гимназия № 5")
        s.add_all([
            MediaItem(path="/m/shared.mp4", title="Общий", kind="video", access="everyone"),
            MediaItem(path="/m/home.mp4", title="Наш", kind="video", access="everyone", sigla="ИБЦ"),
            MediaItem(path="/m/gym.mp4", title="Гимназии", kind="video", access="everyone",
                      sigla="ГИМН5"),
            MediaItem(path="/m/gymt.mp4", title="Гимназии, учителям", kind="video",
                      access="teachers", sigla="ГИМН5"),
        ])


def test_a_school_sees_its_own_and_the_shared_items(db):
    _items(db)
    with db.session() as s:
        def titles(role, school):
            return sorted(i.title for i in visible_media(s, role, school=school))

        assert titles("pupil", "ИБЦ") == ["Наш", "Общий"]
        assert titles("pupil", "ГИМН5") == ["Гимназии", "Общий"]
        assert titles("teacher", "ГИМН5") == ["Гимназии", "Гимназии, учителям", "Общий"]
        assert titles("pupil", "ЛИЦ2") == ["Общий"]  # a school with nothing of its own
        assert titles("pupil", None) == ["Гимназии", "Наш", "Общий"]  # every school's (the CLI)
    assert seen_by_school(None, "ГИМН5") and seen_by_school("ГИМН5", "ГИМН5")
    assert not seen_by_school("ИБЦ", "ГИМН5") and seen_by_school("ИБЦ", None)


def test_scan_with_a_school_and_without(db, tmp_path):
    with db.transaction() as s:
        S.add_school(s, "ГИМН5", "Гимназия № 5")
    gym, city = tmp_path / "gym", tmp_path / "city"
    gym.mkdir()
    city.mkdir()
    (gym / "a.pdf").write_bytes(PDF)
    (city / "b.pdf").write_bytes(PDF + b"%b\n")

    def siglas():
        with db.session() as s:
            return {i.path.rsplit("/", 1)[-1]: i.sigla for i in s.scalars(select(MediaItem))}

    assert scan(db, [gym], data_dir=tmp_path / "d", thumbnails=False, school="ГИМН5").added == 1
    assert scan(db, [city], data_dir=tmp_path / "d", thumbnails=False).added == 1
    assert siglas() == {"a.pdf": "ГИМН5", "b.pdf": None}
    # a rescan of everything without --school keeps each item's school (the desk's rescan)
    rep = scan(db, [gym, city], data_dir=tmp_path / "d", thumbnails=False)
    assert rep.unchanged == 2 and siglas() == {"a.pdf": "ГИМН5", "b.pdf": None}
    # with --school the items found become that school's
    scan(db, [city], data_dir=tmp_path / "d", thumbnails=False, school="ГИМН5")
    assert siglas() == {"a.pdf": "ГИМН5", "b.pdf": "ГИМН5"}


@pytest.fixture
def cli(db_url, tmp_path, monkeypatch):
    from ibc.cli import main

    monkeypatch.setenv("IBC_DATABASE_URL", db_url)
    monkeypatch.setenv("IBC_CONFIG", str(tmp_path / "ibc.toml"))
    (tmp_path / "ibc.toml").write_text(
        f'data_dir = "{tmp_path / "data"}"\n[school]\nsigla = "ИБЦ"\nname = "Школа № 1"\n',
        encoding="utf-8")

    def run(capsys, *argv):
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_cli_media_scan_and_list_for_a_school(cli, capsys, tmp_path):
    folder = tmp_path / "gym"
    folder.mkdir()
    (folder / "урок.pdf").write_bytes(PDF)
    code, _, err = cli(capsys, "media", "scan", str(folder), "--school", "НЕТ", "--no-thumbnails")
    assert code == 1 and "НЕТ" in err and "ibc schools list" in err
    assert cli(capsys, "schools", "add", "ГИМН5", "Гимназия № 5")[0] == 0
    code, out, _ = cli(capsys, "media", "scan", str(folder), "--school", "ГИМН5",
                       "--no-thumbnails", "--json")
    assert code == 0 and json.loads(out)["added"] == 1
    code, out, _ = cli(capsys, "media", "list", "--school", "ГИМН5", "--json")
    assert code == 0 and [(m["title"], m["school"]) for m in json.loads(out)] == [("урок", "ГИМН5")]
    code, out, _ = cli(capsys, "media", "list", "--school", "ИБЦ", "--json")
    assert code == 0 and json.loads(out) == []  # the default school does not see ГИМН5's
    code, out, _ = cli(capsys, "media", "list")
    assert code == 0 and "ГИМН5" in out.splitlines()[0]
