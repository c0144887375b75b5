"""Issue 21 item 6: an import ends with VACUUM (ANALYZE) (PostgreSQL) / ANALYZE (SQLite) of the
tables it filled, the search index's too when it indexed, and says so in its report."""

from __future__ import annotations

from marc_fixtures import rusmarc
from sqlalchemy import text

from library.marc.importer import IMPORT_TABLES, import_files
from library.search.indexer import index_records
from library.storage.maintenance import SEARCH_TABLES


def _maintained(db) -> set[str]:
    """Tables with planner statistics (SQLite) / vacuumed and analysed by hand (PostgreSQL)."""
    with db.engine.connect() as c:
        if db.is_sqlite:
            return set(c.execute(text("SELECT tbl FROM sqlite_stat1")).scalars())
        c.execute(text("SELECT pg_stat_clear_snapshot()"))
        return set(c.execute(text(
            "SELECT relname FROM pg_stat_user_tables "
            "WHERE last_vacuum IS NOT NULL AND last_analyze IS NOT NULL")).scalars())


def test_indexed_import_vacuums_and_analyses_what_it_filled(db, tmp_path):
    path = tmp_path / "a.iso"
    path.write_bytes(b"".join(rusmarc(n, copies=2) for n in range(30)))
    report = import_files(db, [path], sigla="S", on_batch=index_records)
    assert report.added == 30
    m = report.as_dict()["maintenance"]
    assert m["action"] == ("ANALYZE" if db.is_sqlite else "VACUUM (ANALYZE)")
    assert m["tables"] == [*IMPORT_TABLES, *SEARCH_TABLES]
    assert report.maintenance_seconds > 0
    done = _maintained(db)
    assert {"records", "copies", "search_docs", "search_codes", "search_vocab"} <= done, done


def test_unindexed_import_leaves_the_index_tables_and_nothing_written_does_nothing(db, tmp_path):
    path = tmp_path / "a.iso"
    path.write_bytes(b"".join(rusmarc(n) for n in range(5)))
    report = import_files(db, [path], sigla="S")
    assert report.maintenance == {"action": report.maintenance["action"],
                                  "tables": list(IMPORT_TABLES)}
    assert not set(SEARCH_TABLES) & _maintained(db)
    empty = tmp_path / "empty.iso"
    empty.write_bytes(b"")
    assert import_files(db, [empty], sigla="S").maintenance is None
    assert import_files(db, [path], sigla="S", maintain=False).maintenance is None


def test_cli_import_and_reindex_say_so(tmp_path, capsys):
    import argparse

    from ibc.commands import import_ as import_cmd
    from ibc.commands import search as search_cmd
    from ibc.context import Context

    def main(argv: list[str]) -> int:
        parser = argparse.ArgumentParser(prog="ibc")
        parser.add_argument("--db")
        sub = parser.add_subparsers(dest="command")
        import_cmd.register(sub)
        search_cmd.register(sub)
        args = parser.parse_args(argv)
        ctx = Context.from_args(args)
        try:
            return args.run(args, ctx)
        finally:
            ctx.close()

    path = tmp_path / "a.iso"
    path.write_bytes(b"".join(rusmarc(n) for n in range(3)))
    url = f"sqlite:///{tmp_path / 'ibc.sqlite3'}"
    assert main(["--db", url, "import", str(path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "planner statistics: ANALYZE of records, copies" in out and "search_docs" in out
    assert main(["--db", url, "reindex", "--json"]) == 0
    import json

    got = json.loads(capsys.readouterr().out)
    assert got["records"] == 3 and got["maintenance"]["action"] == "ANALYZE"
    assert "search_docs" in got["maintenance"]["tables"]
