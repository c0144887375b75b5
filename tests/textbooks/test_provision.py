"""Textbook provision, next year's needs, the order list and the report's files on a scripted
school (tests/textbooks/provision_school.py has the hand-computed figures), SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tests.textbooks.provision_school import HOME, YEAR, script_school


def _figures(db):
    from library.textbooks.provision import next_year, order_list, provision

    with db.session() as s:
        prov = provision(s, YEAR, home=HOME)
        nxt = next_year(s, YEAR, home=HOME, last_grade=11)
        order = order_list(s, nxt)
    return prov, nxt, order


def test_provision_per_class_subject_grade_and_school(db):
    script_school(db)
    prov, _nxt, _order = _figures(db)
    got = {(n.class_name, n.subject): (n.pupils, n.copies, n.percent, n.shortfall) for n in prov.needs}
    assert got == {
        ("10А", "Математика"): (3, 3, 100, 0),
        ("10А", "Русский язык"): (3, 3, 100, 0),
        ("10А", "История"): (3, 2, 66, 1),
        ("11А", "Математика"): (2, 1, 50, 1),
        ("11А", "Русский язык"): (2, 1, 50, 1),
    }
    assert {n.class_name: n.from_class_sets for n in prov.needs} == {"10А": False, "11А": True}
    grades = {g: (t.needed, t.provided, t.shortfall, t.percent) for (_s, g), t in prov.by_grade().items()}
    assert grades == {10: (9, 8, 1, 88), 11: (4, 2, 2, 50)}
    assert list(prov.by_school()) == [HOME]
    total = prov.total()
    assert (total.needed, total.provided, total.shortfall, total.percent) == (13, 10, 3, 76)
    assert prov.classes == {(HOME, "10А"): 3, (HOME, "11А"): 2}
    assert prov.no_textbooks == []


def test_copies_a_class_holds_count_for_it_first(db):
    """After the September issue 11А's two pupils hold two «Русский язык 10–11»; a pupil who left
    holds a third, and a fourth was returned (neither is any class's). 11А keeps its two
    (2/2 = 100 %), 10А gets the other two (2/3 = 66 %, short 1); the school's figure stays 10 of
    13 (holding moves the shortfall between classes, not its size)."""
    from sqlalchemy import select

    from library.storage.models import Copy, Loan, Reader
    from library.textbooks.provision import provision

    script_school(db)
    with db.transaction() as s:
        copies = {c.barcode: c for c in s.scalars(select(Copy).where(Copy.barcode.like("TB-r1011-%")))}
        readers = {r.card_number: r for r in s.scalars(select(Reader))}
        due = dt.date(2027, 5, 31)
        s.add(Loan(copy_id=copies["TB-r1011-1"].id, reader_id=readers["P11-1"].id, due_date=due))
        s.add(Loan(copy_id=copies["TB-r1011-0"].id, reader_id=readers["P11-2"].id, due_date=due))
        s.add(Loan(copy_id=copies["TB-r1011-3"].id, reader_id=readers["P10-4"].id, due_date=due))  # left
        s.add(Loan(copy_id=copies["TB-r1011-2"].id, reader_id=readers["P10-1"].id, due_date=due,
                   returned_at=dt.datetime(2026, 9, 20, tzinfo=dt.timezone.utc)))
        copies["TB-r1011-0"].status = "on_loan"
    with db.session() as s:
        prov = provision(s, YEAR, home=HOME)
    got = {n.class_name: (n.pupils, n.copies, n.percent) for n in prov.needs if n.subject == "Русский язык"}
    assert got == {"10А": (3, 2, 66), "11А": (2, 2, 100)}
    assert (prov.total().needed, prov.total().provided) == (13, 10)


def test_a_school_filter_and_copies_of_another_school(db):
    from library.storage.models import Reader
    from library.textbooks.provision import provision

    script_school(db)
    with db.transaction() as s:
        s.add(Reader(card_number="X-1", last_name="З", first_name="Зоя", class_name="11Б", sigla="ШК2"))
    with db.session() as s:
        union = provision(s, YEAR, home=HOME)
        other = provision(s, YEAR, home=HOME, sigla="ШК2")
    assert union.schools == [HOME, "ШК2"]
    # 11Б of ШК2 has no class sets: grade 11 titles; ШК2 holds one «Математика 11», no Russian
    mine = {(n.sigla, n.class_name, n.subject): (n.pupils, n.copies) for n in other.needs}
    assert mine == {("ШК2", "11Б", "Математика"): (1, 1), ("ШК2", "11Б", "Русский язык"): (1, 0)}
    assert other.total().percent == 50
    assert (union.total().needed, union.total().provided) == (15, 11)
    assert union.by_school()[HOME].percent == 76


def test_next_year_moves_the_classes_up_and_orders_the_shortfall(db):
    script_school(db)
    _prov, nxt, order = _figures(db)
    assert nxt.year == YEAR + 1 and nxt.projected
    assert nxt.classes == {(HOME, "11А"): 3}  # 10А moved up, 11А left, no first grade
    got = {(g, subj): (t.needed, t.copies, t.shortfall) for (_s, g, subj), t in nxt.by_subject_grade().items()}
    assert got == {(11, "Математика"): (3, 1, 2), (11, "Русский язык"): (3, 4, 0)}
    rus = next(n for n in nxt.needs if n.subject == "Русский язык")
    assert rus.percent == 133 and rus.shortfall == 0  # spare copies: shown capped, exact kept
    assert [(x.subject, x.grades, x.title, x.copies, x.classes, x.fpu_number) for x in order] == [
        ("Математика", "11", "Математика 11", 2, ["11А"], "1.1.m11")]


def test_next_year_with_a_first_grade_and_its_class_sets(db):
    from library.storage.models import ClassSet, Reader
    from library.textbooks.provision import ProvisionInvalid, next_year, order_list

    ids = script_school(db)
    with db.session() as s:
        nxt = next_year(s, YEAR, home=HOME, first_grade=25)
    assert nxt.classes == {(HOME, "1А"): 25, (HOME, "11А"): 3}
    assert nxt.no_textbooks == [(HOME, "1А")]
    with db.transaction() as s:  # next year's class sets win over the grades: only Russian
        s.add(ClassSet(school_year=YEAR + 1, class_name="11А", record_id=ids["r1011"]))
        s.add_all([Reader(card_number=f"F{i}", last_name="Ф", first_name="Фая", class_name=c)
                   for i, c in enumerate(["1А", "1А", "1Б"])])
    with db.session() as s:
        nxt = next_year(s, YEAR, home=HOME)
        assert order_list(s, nxt) == []
        split = next_year(s, YEAR, home=HOME, first_grade=10)
        with pytest.raises(ProvisionInvalid):
            next_year(s, YEAR, home=HOME, first_grade=-1)
    assert {c: n for (_s, c), n in nxt.classes.items()} == {"1А": 2, "1Б": 1, "2А": 2, "2Б": 1, "11А": 3}
    assert [(n.class_name, n.subject) for n in nxt.needs] == [("11А", "Русский язык")]
    assert {c: n for (_s, c), n in split.classes.items() if c.startswith("1") and len(c) == 2} == \
        {"1А": 6, "1Б": 4}


def test_report_files_carry_the_hand_values(db, tmp_path):
    from openpyxl import load_workbook

    from library.textbooks.provision_report import order_file, provision_file

    script_school(db)
    prov, nxt, order = _figures(db)
    day = dt.date(2026, 10, 5)
    pdf = provision_file(prov, nxt, order, "pdf", school="Школа №1", day=day)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    data = provision_file(prov, nxt, order, "xlsx", school="Школа №1", day=day)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames[0] == "Определения"
    defs = [r[0] for r in wb["Определения"].iter_rows(values_only=True) if r[0]]
    assert defs[0] == "Обеспеченность учебниками"
    assert any(str(x).startswith("Обеспеченность = годные экземпляры ÷ ученики × 100 %") for x in defs)
    assert any("кроме утерянных и списанных" in str(x) for x in defs)
    rows = {ws.title: [r for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    classes = next(v for k, v in rows.items() if "По классам" in k)
    assert ("ИБЦ", "10А", "История", 3, 2, 1, "66 %") in classes
    assert ("ИБЦ", "11А", "Математика", 2, 1, 1, "50 %") in classes
    schools = next(v for k, v in rows.items() if "Итого" in k)
    assert ("Сводный каталог", 13, 10, 3, "76 %") in schools
    grades = next(v for k, v in rows.items() if "параллелям" in k)
    assert ("ИБЦ", 10, 9, 8, 1, "88 %") in grades
    needs = next(v for k, v in rows.items() if "Потребность" in k)
    assert ("ИБЦ", 11, "Математика", 3, 1, 2) in needs
    orders = next(v for k, v in rows.items() if "Заказ" in k)
    assert any(r[:7] == ("ИБЦ", "Математика", "11", "Математика 11", "Автор, А. А.", "1.1.m11", 2)
               for r in orders)
    text = provision_file(prov, nxt, order, "csv", school="Школа №1", day=day).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert table[0] == ["Обеспеченность учебниками"]
    assert ["ИБЦ", "11А", "Русский язык", "2", "1", "1", "50 %"] in table
    order_csv = list(csv.reader(io.StringIO(order_file(order, nxt.year, "csv", school="Ш", day=day)
                                            .decode("utf-8-sig")), delimiter=";"))
    assert ["ИБЦ", "Математика", "11", "Математика 11", "Автор, А. А.", "1.1.m11", "2", "11А"] in order_csv
    assert order_file(order, nxt.year, "pdf", school="Ш", day=day).startswith(b"%PDF")


def test_a_title_starting_with_a_formula_stays_text(db):
    from openpyxl import load_workbook

    from library.storage.models import Record
    from library.textbooks.provision_report import order_file

    ids = script_school(db)
    with db.transaction() as s:
        s.get(Record, ids["m11"]).title = "=HYPERLINK(\"x\")"
    _prov, nxt, order = _figures(db)
    day = dt.date(2026, 10, 5)
    text = order_file(order, nxt.year, "csv", school="Ш", day=day).decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    ws = load_workbook(io.BytesIO(order_file(order, nxt.year, "xlsx", school="Ш", day=day))).worksheets[0]
    cells = [c for row in ws.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value)]
    assert cells and all(c.data_type == "s" for c in cells)


def test_cli_provision_and_order(tmp_path, capsys):
    import json

    from ibc.cli import main
    from library.storage.database import open_database

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    db = open_database(url)
    script_school(db)
    db.dispose()
    assert main(["--db", url, "textbooks", "provision", "--year", str(YEAR), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == {"needed": 13, "provided": 10, "copies": 10, "shortfall": 3, "percent": 76}
    for ext, magic in (("xlsx", b"PK"), ("pdf", b"%PDF"), ("csv", "\ufeff".encode())):
        out = tmp_path / f"p.{ext}"
        assert main(["--db", url, "textbooks", "provision", "--year", str(YEAR), "-o", str(out)]) == 0
        assert out.read_bytes().startswith(magic)
    assert "76 %" in capsys.readouterr().out
    assert main(["--db", url, "textbooks", "order", "--year", str(YEAR), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["year"] == YEAR + 1
    assert [(x["title"], x["copies"]) for x in data["order"]] == [("Математика 11", 2)]
    out = tmp_path / "o.csv"
    assert main(["--db", url, "textbooks", "order", "--year", str(YEAR), "-o", str(out)]) == 0
    assert "Математика 11" in out.read_text(encoding="utf-8-sig")
    assert main(["--db", url, "textbooks", "order", "-o", str(tmp_path / "o.txt")]) == 2
    assert main(["--db", url, "textbooks", "provision", "--year", "1900", "--json"]) == 2
    assert main(["--db", url, "textbooks", "order", "--first-grade", "-3", "--json"]) == 2
