"""`ibc import` and `ibc export` from the command line, on both databases."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from marc_fixtures import rusmarc

from ibc.cli import main

TEST1 = "rusmarc/loge-gh_rusmarc/TEST1.ISO"


@pytest.mark.shared
def test_import_json_report(db_url, marc_dir, capsys):
    assert main(["--db", db_url, "import", str(marc_dir / TEST1), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["read"], report["added"], report["skipped"]) == (81, 81, 0)
    assert report["encodings"] == {"cp1251": 81} and report["errors"] == []
    assert main(["--db", db_url, "import", str(marc_dir / TEST1), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["updated"] == 81


@pytest.mark.shared
def test_partly_broken_file_exits_0_and_unreadable_exits_1(tmp_path, marc_dir, capsys):
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    assert main(["--db", url, "import", str(marc_dir / "marc21/edsu_pymarc/bad_records.mrc"),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["skipped"] == 6
    assert report["errors"][0] == {"file": str(marc_dir / "marc21/edsu_pymarc/bad_records.mrc"),
                                   "record": 2, "offset": 127,
                                   "reason": "bad base address 99937: outside the record "
                                             "(length 127)"}
    assert main(["--db", url, "import",
                 str(marc_dir / "rusmarc/afronkin_marcrecord/rusmarc_2.iso")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rusmarc_2.iso" in err and "bad leader" in err


def test_missing_file_is_one_line_not_a_traceback(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    run = subprocess.run([sys.executable, "-m", "ibc", "--db", url, "import",
                          str(tmp_path / "nope.iso")], capture_output=True, text=True)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr and "nope.iso" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_export_cli_and_reimport(tmp_path, capsys):
    src = tmp_path / "in.iso"
    src.write_bytes(b"".join(rusmarc(n) for n in range(3)))
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    assert main(["--db", url, "import", str(src), "--no-index"]) == 0
    assert "read 3, added 3" in capsys.readouterr().out
    out = tmp_path / "out.iso"
    assert main(["--db", url, "export", "-o", str(out), "--format", "rusmarc", "--encoding",
                 "utf-8", "--ids", "1,2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == 2
    assert main(["--db", url, "export", "-o", str(tmp_path / "x.xml"), "--format", "marcxml"]) == 0
    assert "3 records written" in capsys.readouterr().out
    assert main(["--db", url, "export", "-o", str(tmp_path / "no/such/dir.iso")]) == 1
    assert "ibc export:" in capsys.readouterr().err
    assert main(["--db", url, "export", "-o", str(out), "--format", "marc21",
                 "--encoding", "cp1251"]) == 1
    assert main(["--db", url, "export", "-o", str(out), "--ids", "x"]) == 1


def test_export_query_selects_by_search(tmp_path, capsys):
    src = tmp_path / "in.iso"
    titles = ["Приключения капитана", "Капитанская дочка", "Сказки народов мира"]
    src.write_bytes(b"".join(rusmarc(n, title=t) for n, t in enumerate(titles)))
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    assert main(["--db", url, "import", str(src)]) == 0  # with the search index
    capsys.readouterr()
    out = tmp_path / "out.iso"
    assert main(["--db", url, "export", "-o", str(out), "--query", "сказки", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == 1
    assert "Сказки народов мира".encode("cp1251") in out.read_bytes()
    assert main(["--db", url, "export", "-o", str(out), "--query", "zzzxxq", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == 0
    assert main(["--db", url, "export", "-o", str(out), "--query", "сказки", "--ids", "1",
                 "--json"]) == 0  # both must match: record 1 is not a tale
    assert json.loads(capsys.readouterr().out)["written"] == 0


def test_query_ids_pages_through_search(tmp_path):
    from library.marc.export import query_ids
    from library.marc.importer import import_files
    from library.search.indexer import index_records
    from library.storage.database import open_database

    src = tmp_path / "in.iso"
    src.write_bytes(b"".join(rusmarc(n, title=f"Сказки том {n}") for n in range(7))
                    + rusmarc(99, title="Задачник"))
    db = open_database(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    try:
        import_files(db, [src], sigla="S", on_batch=index_records)
        ids = query_ids(db, "сказки", page=3)  # three pages: 3 + 3 + 1
        assert sorted(ids) == list(range(1, 8)) and len(set(ids)) == 7
        assert query_ids(db, "сказки", page=3, max_ids=4) == ids[:4]
        assert query_ids(db, "задачник") == [8]
    finally:
        db.dispose()


def test_progress_bar_goes_to_stderr_only_on_a_terminal(tmp_path, capsys, monkeypatch):
    src = tmp_path / "in.iso"
    src.write_bytes(rusmarc(1))
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["--db", url, "import", str(src)]) == 0
    captured = capsys.readouterr()
    assert "100%" in captured.err and "100%" not in captured.out
