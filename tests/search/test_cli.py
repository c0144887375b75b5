"""`ibc search` / `ibc reindex` end to end on an SQLite file, and migration 0002 round trip."""

from __future__ import annotations

import argparse
import json

from ibc.commands import search as search_cmd
from ibc.context import Context
from library.search import index_records
from library.storage.database import open_database
from library.storage.models import Copy, Record


def main(argv: list[str]) -> int:
    """Like `ibc --db URL …` with only the search subcommands (others' modules stay unloaded)."""
    parser = argparse.ArgumentParser(prog="ibc")
    parser.add_argument("--db")
    sub = parser.add_subparsers(dest="command")
    search_cmd.register(sub)
    args = parser.parse_args(argv)
    ctx = Context.from_args(args)
    try:
        return args.run(args, ctx)
    finally:
        ctx.close()


def test_search_is_registered():
    from ibc.cli import COMMANDS

    assert "search" in COMMANDS


def _seed(url: str) -> None:
    db = open_database(url)
    with db.transaction() as s:
        r = Record(key="k1", title="Мастер и Маргарита", authors=["Булгаков, Михаил Афанасьевич"],
                   year=2005, isbn="978-5-17-015240-7", bbk="84(2Рос=Рус)6")
        r.copies = [Copy(barcode="111", shelf_mark="84 Б")]
        s.add(r)
        s.flush()
        index_records(s, [r.id])
    db.dispose()


def test_search_json(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'ibc.sqlite3'}"
    _seed(url)
    assert main(["--db", url, "search", "Мастер и Маргорита", "--json", "--facets"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"] == 1
    assert out["suggestion"] == "Возможно, вы искали: «мастер и маргарита»"
    hit = out["hits"][0]
    assert {k: hit[k] for k in ("title", "year", "available", "copies", "shelf")} == {
        "title": "Мастер и Маргарита", "year": 2005, "available": 1, "copies": 1, "shelf": "84 Б"}
    assert out["facets"]["bbk"][0]["label"] == "84 Художественная литература"


def test_search_text_and_reindex(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'ibc.sqlite3'}"
    _seed(url)
    assert main(["--db", url, "reindex"]) == 0
    assert "reindexed 1 records" in capsys.readouterr().out
    assert main(["--db", url, "search", "vfcnth"]) == 0
    text = capsys.readouterr().out
    assert "[Мастер] и Маргарита" in text and "Возможно, вы искали" in text
    assert main(["--db", url, "search", "x", "--limit", "-1"]) == 2


def test_migration_downgrade_and_upgrade(tmp_path):
    from alembic import command

    from library.storage.migrate import alembic_config, head_revision

    url = f"sqlite:///{tmp_path / 'ibc.sqlite3'}"
    _seed(url)
    db = open_database(url)
    command.downgrade(alembic_config(db), "0001")
    assert db.schema_revision() == "0001"
    db.upgrade()
    assert db.schema_revision() == head_revision()
    db.dispose()


def test_search_audience(tmp_path, capsys):
    from library.storage.models import MediaItem
    from media.store import sync_records

    url = f"sqlite:///{tmp_path / 'ibc.sqlite3'}"
    db = open_database(url)
    with db.transaction() as s:
        items = [MediaItem(path="/m/1.mp4", title="Ответы к контрольной", kind="video",
                           access="teachers", tags=[], plays=0)]
        s.add_all(items)
        s.flush()
        index_records(s, sync_records(s, items))
    db.dispose()
    assert main(["--db", url, "search", "ответы", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 0
    assert main(["--db", url, "search", "ответы", "--json", "--audience", "teacher"]) == 0
    hit = json.loads(capsys.readouterr().out)["hits"][0]
    assert (hit["title"], hit["access"], hit["downloadable"]) == (
        "Ответы к контрольной", "teachers", True)
