"""The relative indicators (читаемость, посещаемость, обращаемость, книгообеспеченность, охват)
of a small scripted September, checked against values computed by hand, on SQLite and
PostgreSQL; division by zero; the `[school] pupils` setting; the three files and `ibc report`.

The September of 2026 (Moscow time) holds, at its end:
* readers: 5 pupils registered in August, 1 pupil in September, 2 teachers — 8 registered
  readers, 6 of them pupils. Not counted: a pupil registered in October, an archived pupil.
* copies: «А» 4 (one written off), «Б» 3 (one lost: still in the fund), «В» 3 — 9 copies. Not
  counted: a record created in October (2 copies), a deleted record (2 copies).
* 10 checkouts and 9 visits in September; one of each on 31 August and on 1 October (Moscow),
  which do not count.

By hand: читаемость 10 ÷ 8 = 1.25; посещаемость 9 ÷ 8 = 1.125 → 1.13 (half up, not 1.12);
обращаемость 10 ÷ 9 = 1.111… → 1.11; книгообеспеченность 9 ÷ 8 = 1.125 → 1.1 per reader, and
9 ÷ 6 = 1.5 per pupil; охват 6 ÷ 6 × 100 = 100.0 %. With 16 pupils set: 9 ÷ 16 = 0.5625 → 0.6,
охват 6 ÷ 16 × 100 = 37.5 %; with 7: 9 ÷ 7 = 1.2857… → 1.3, 6 ÷ 7 × 100 = 85.714… → 85.7 %.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import subprocess

import pytest
from scripted_term import MSK, instant

from config.settings import SettingsError, load_settings
from library.reports import build_report, key_figures, parse_period
from library.reports.indicators import INDICATORS, KEYS, number_text, ratio
from library.reports.tables import INDICATORS_TITLE, Ratio, sections
from library.storage.models import Copy, Event, Reader, Record

D = dt.date
SEPT = "2026-09"
BY_HAND = {"loans_per_reader": 1.25, "visits_per_reader": 1.13, "loans_per_copy": 1.11,
           "copies_per_reader": 1.1, "copies_per_pupil": 1.5, "coverage": 100.0}
COUNTS = {"loans": 10, "visits": 9, "readers": 8, "copies": 9, "pupil_readers": 6, "pupils": 6}


def script_september(db) -> None:
    """The scripted September (see the module's docstring)."""
    aug, sept, octo = instant(D(2026, 8, 20)), instant(D(2026, 9, 15)), instant(D(2026, 10, 10))
    with db.transaction() as s:
        def record(key: str, created: dt.datetime, statuses: list[str], deleted: bool = False) -> None:
            r = Record(key=key, title=f"Книга {key}", created_at=created, deleted=deleted)
            r.copies.extend(Copy(sigla="ИБЦ", barcode=f"{key}-{i}", status=st)
                            for i, st in enumerate(statuses))
            s.add(r)
        record("А", aug, ["available", "available", "on_loan", "written_off"])
        record("Б", aug, ["available", "lost", "available"])
        record("В", aug, ["available", "available", "available"])
        record("Г", octo, ["available", "available"])                  # after the period
        record("Д", aug, ["available", "available"], deleted=True)     # deleted

        def reader(card: str, created: dt.datetime, category: str = "pupil",
                   active: bool = True) -> None:
            s.add(Reader(card_number=card, last_name="Читатель", first_name=card,
                         class_name="5А" if category == "pupil" else None, category=category,
                         active=active, sigla="ИБЦ", created_at=created))
        for i in range(5):
            reader(f"P{i}", aug)
        reader("P-new", sept)
        reader("P-october", octo)                                      # after the period
        reader("P-left", aug, active=False)                            # archived
        reader("T1", aug, "teacher")
        reader("T2", aug, "teacher")

        def events(kind: str, n: int, when: dt.datetime) -> None:
            s.add_all(Event(kind=kind, ts=when, sigla="ИБЦ", reader_class="5А",
                            reader_category="pupil", payload={}) for _ in range(n))
        for kind, n in (("checkout", 10), ("visit", 9)):
            events(kind, n - 4, sept)
            events(kind, 4, instant(D(2026, 9, 30), 23, 30))           # still September in Moscow
            events(kind, 1, instant(D(2026, 8, 31), 23, 0))            # August
            events(kind, 1, instant(D(2026, 10, 1), 0, 30))            # October (30 Sep in UTC)


@pytest.fixture
def september(db):
    script_september(db)
    return db


@pytest.fixture(scope="module")
def sqlite_september(tmp_path_factory):
    from library.storage.database import open_database

    db = open_database(f"sqlite:///{tmp_path_factory.mktemp('ind') / 'ibc.sqlite3'}")
    script_september(db)
    yield db
    db.dispose()


def period():
    return parse_period(SEPT, tz=MSK)


def test_rounding_is_half_up_and_zero_gives_none():
    assert ratio(9, 8, 2) == 1.13 and ratio(1, 8, 2) == 0.13  # half up (round() would give 1.12)
    assert ratio(9, 8, 1) == 1.1 and ratio(10, 9, 2) == 1.11 and ratio(2, 3, 1) == 0.7
    assert ratio(6, 7, 1, percent=True) == 85.7 and ratio(6, 6, 1, percent=True) == 100.0
    assert ratio(5, 0, 2) is None and ratio(0, 0, 1, percent=True) is None
    assert ratio(0, 5, 2) == 0.0
    assert number_text(1.1, 2) == "1,10" and number_text(None, 1) == "—"
    assert number_text(0.5, 1, comma=False) == "0.5"
    assert str(Ratio(37.5, 1, percent=True)) == "37,5 %" and str(Ratio(None, 1, True)) == "—"


def test_the_scripted_september_by_hand(september):
    r = build_report(september, period())
    assert (r["summary"]["loans"], r["summary"]["visits"], r["summary"]["readers"],
            r["summary"]["copies"]) == (10, 9, 8, 9)
    ind = r["indicators"]
    assert {k: ind[k] for k in KEYS} == BY_HAND
    assert {k: ind[k] for k in COUNTS} == COUNTS and ind["pupils_source"] == "readers"
    k = key_figures(september, period())
    assert {x: k[x] for x in [*KEYS, *COUNTS]} == {**BY_HAND, **COUNTS}


def test_the_pupils_setting(september):
    set16 = build_report(september, period(), pupils=16)["indicators"]
    assert (set16["copies_per_pupil"], set16["coverage"]) == (0.6, 37.5)
    assert (set16["pupils"], set16["pupil_readers"], set16["pupils_source"]) == (16, 6, "setting")
    assert {k: set16[k] for k in KEYS[:4]} == {k: BY_HAND[k] for k in KEYS[:4]}  # no pupils there
    set7 = key_figures(september, period(), pupils=7)
    assert (set7["copies_per_pupil"], set7["coverage"]) == (1.3, 85.7)


def test_division_by_zero_is_none_and_a_dash(db):
    """An empty library: nothing to divide by; the files say «—» and why."""
    r = build_report(db, period())
    assert all(r["indicators"][k] is None for k in KEYS)
    table = next(t for t in sections(r)[0].tables if t.title == INDICATORS_TITLE)
    assert [str(row[1]) for row in table.rows] == ["—"] * len(INDICATORS)
    assert all("делить не на что" in row[2] for row in table.rows)
    # loans but no readers and no copies: still «—», and a set pupil count gives 0 coverage
    with db.transaction() as s:
        s.add(Event(kind="checkout", ts=instant(D(2026, 9, 10)), payload={}))
    k = key_figures(db, period(), pupils=30)
    assert k["loans"] == 1 and k["loans_per_reader"] is None and k["loans_per_copy"] is None
    assert (k["coverage"], k["copies_per_pupil"]) == (0.0, 0.0)


def test_setting_pupils_is_read_and_checked(tmp_path):
    assert load_settings(environ={}).school.pupils == 0
    f = tmp_path / "ibc.toml"
    f.write_text("[school]\npupils = 520\n", encoding="utf-8")
    assert load_settings(f, environ={}).school.pupils == 520
    f.write_text("[school]\npupils = -3\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="pupils"):
        load_settings(f, environ={})


# --- the files --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(sqlite_september, tmp_path_factory):
    from library.reports.render_csv import render_csv
    from library.reports.render_pdf import render_pdf
    from library.reports.render_xlsx import render_xlsx

    r = build_report(sqlite_september, period(), school_name="Школа", pupils=16)
    d = tmp_path_factory.mktemp("files")
    return {"pdf": render_pdf(r, d / "r.pdf"), "xlsx": render_xlsx(r, d / "r.xlsx"),
            "csv": render_csv(r, d / "r.csv")}


NAMES = {"loans_per_reader": ("Читаемость", "1,25"), "visits_per_reader": ("Посещаемость", "1,13"),
         "loans_per_copy": ("Обращаемость фонда", "1,11"),
         "copies_per_reader": ("Книгообеспеченность на одного читателя", "1,1"),
         "copies_per_pupil": ("Книгообеспеченность на одного учащегося", "0,6"),
         "coverage": ("Охват учащихся библиотечным обслуживанием", "37,5 %")}


def test_csv_has_the_values_and_definitions(files):
    with open(files["csv"], encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    cells = {(r[0], r[1], r[2], r[3]): r[4] for r in rows}
    where = ("Основные показатели", INDICATORS_TITLE)
    for name, value in NAMES.values():
        assert cells[(*where, name, "Значение")] == value, name
    how = {name: cells[(*where, name, "Как считается")] for name, _ in NAMES.values()}
    assert how["Читаемость"] == ("выдачи (книговыдачи) за период ÷ зарегистрированные читатели "
                                 "на конец периода: 10 ÷ 8")
    assert how["Обращаемость фонда"].endswith("экземпляры в фонде на конец периода (не списанные): 10 ÷ 9")
    assert how["Охват учащихся библиотечным обслуживанием"].startswith(
        "читатели-учащиеся на конец периода ÷ учащиеся школы × 100: 6 ÷ 16 × 100; учащихся 16 — "
        "из настройки [school] pupils")


def test_xlsx_stores_numbers(files):
    from openpyxl import load_workbook

    ws = load_workbook(files["xlsx"])["Основные показатели"]
    rows = {row[0].value: row for row in ws.iter_rows() if row[0].value}
    assert INDICATORS_TITLE in rows
    expect = {"Читаемость": (1.25, "0.00"), "Посещаемость": (1.13, "0.00"),
              "Книгообеспеченность на одного учащегося": (0.6, "0.0"),
              "Охват учащихся библиотечным обслуживанием": (37.5, '0.0" %"')}
    for name, (value, fmt) in expect.items():
        cell = rows[name][1]
        assert (cell.value, cell.number_format, cell.data_type) == (value, fmt, "n"), name
    assert "10 ÷ 8" in rows["Читаемость"][2].value


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils missing")
def test_pdf_has_the_indicators_on_page_one(files):
    out = subprocess.run(["pdftotext", "-layout", str(files["pdf"]), "-"], capture_output=True,
                         text=True, check=True).stdout
    first = " ".join(out.split("\f")[0].split())
    assert "Относительные показатели" in first and "Как считается" in first
    for name, value in NAMES.values():  # a long name wraps: its first words stand before the value
        words = name.split()
        assert any(re.search(rf"{re.escape(' '.join(words[:k]))}\s+{re.escape(value)}(\s|$)", first)
                   for k in range(len(words), 0, -1)), name
    assert "10 ÷ 8" in first and "делить не на что" in first  # the note on «—»


def test_ibc_report_json(sqlite_september, capsys, tmp_path):
    from ibc import cli

    url = sqlite_september.url.render_as_string(hide_password=False)
    cfg = tmp_path / "ibc.toml"
    cfg.write_text("[school]\npupils = 16\n", encoding="utf-8")
    assert cli.main(["--config", str(cfg), "--db", url, "report", "--period", SEPT, "--tz",
                     "Europe/Moscow", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {k: data["indicators"][k] for k in KEYS} == {**BY_HAND, "copies_per_pupil": 0.6,
                                                         "coverage": 37.5}
    out = tmp_path / "r.csv"
    assert cli.main(["--db", url, "report", "--period", SEPT, "--tz", "Europe/Moscow", "-o",
                     str(out), "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["loans"] == 10 and line["indicators"]["coverage"] == 100.0  # no setting: 6 ÷ 6
    # another school of a union catalogue does not take this school's pupil count
    assert cli.main(["--config", str(cfg), "--db", url, "report", "--period", SEPT, "--tz",
                     "Europe/Moscow", "--school", "Ш2", "--json"]) == 0
    other = json.loads(capsys.readouterr().out)["indicators"]
    assert (other["pupils"], other["coverage"]) == (0, None)
