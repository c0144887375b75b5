"""`ibc report` end to end on the scripted term's SQLite file."""

from __future__ import annotations

import json

import pytest

from ibc import cli


@pytest.fixture(scope="module")
def url(sqlite_term):
    """The scripted term's database URL."""
    return sqlite_term.db.url.render_as_string(hide_password=False)


def test_report_is_registered():
    assert "report" in cli.COMMANDS


@pytest.mark.parametrize("ext", ["pdf", "xlsx", "csv"])
def test_writes_each_format(url, tmp_path, capsys, ext):
    out = tmp_path / f"report.{ext}"
    argv = ["--db", url, "report", "--period", "2026Q3", "--tz", "Europe/Moscow", "-o", str(out)]
    assert cli.main(argv) == 0
    assert out.stat().st_size > 500
    text = capsys.readouterr().out
    assert "выдано 8" in text
    # the summary line ends with two relative indicators (8 ÷ 47 and 9 ÷ 47)
    assert text.rstrip().endswith("читаемость 0,17, посещаемость 0,19")


def test_json(url, capsys):
    assert cli.main(["--db", url, "report", "--period", "2026Q3", "--tz", "Europe/Moscow",
                     "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["loans"] == 8 and data["searches"]["zero"] == 4
    assert (data["indicators"]["loans_per_reader"], data["indicators"]["pupils"]) == (0.17, 41)


@pytest.mark.parametrize("argv, err", [
    (["--period", "2026Q9", "--json"], "unknown period"),
    (["--period", "2026Q3", "-o", "x.docx"], ".pdf, .xlsx or .csv"),
    (["--period", "2026Q3"], "-o FILE"),
])
def test_bad_options_are_one_line(url, capsys, argv, err):
    assert cli.main(["--db", url, "report", *argv]) == 2
    assert err in capsys.readouterr().err


def test_empty_library_still_renders(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    for ext in ("pdf", "xlsx", "csv"):
        assert cli.main(["--db", url, "report", "--period", "2026", "-o",
                         str(tmp_path / f"r.{ext}")]) == 0
    assert "выдано 0" in capsys.readouterr().out
