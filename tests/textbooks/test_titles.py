"""library.textbooks.titles: values, the one rule of which records are textbooks, extraction
from RUSMARC/MARC21 records and from a record's fields, the federal list CSV (columns,
encodings, a malformed row, matching by ISBN, title, author and grade), and `ibc textbooks`."""

from __future__ import annotations

import json

import pytest

from library.marc.model import ControlField, DataField, MarcRecord
from library.textbooks import titles as t


def rusmarc(*fields: DataField) -> MarcRecord:
    return MarcRecord("00000nam0 2200000   450 ", [ControlField("001", "RU/IBC/1"), *fields])


def marc21(*fields: DataField) -> MarcRecord:
    return MarcRecord("00000nam a2200000 i 4500", [ControlField("001", "1"), *fields])


def df(tag: str, *subs: str, ind1: str = " ", ind2: str = " ") -> DataField:
    return DataField(tag, ind1, ind2, [(s[0], s[1:]) for s in subs])


# -- values -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, grades", [("5", (5, 5)), ("5-6", (5, 6)), ("10–11", (10, 11)),
                                          (" 1 - 4 ", (1, 4)), ("", (None, None)), (None, (None, None))])
def test_grades_are_parsed(text, grades):
    assert t.parse_grades(text) == grades


@pytest.mark.parametrize("text", ["0", "12", "6-5", "5-12", "пятый", "5,6", "5-", "-5", "1" * 50])
def test_bad_grades_are_refused_with_a_code(text):
    with pytest.raises(t.BadGrades) as e:
        t.parse_grades(text)
    assert e.value.code == "textbook_bad_grades" and e.value.params["value"] == text.strip()[:40]


def test_validate_names_the_field():
    assert t.validate(" Математика ", "5-6", "Школа  России", "1.1.2.1.1.1.") == t.TitleData(
        "Математика", 5, 6, "Школа России", "1.1.2.1.1.1")
    with pytest.raises(t.BadSubject):
        t.validate("x" * 101)
    with pytest.raises(t.BadSubject):
        t.validate("Мат\x07ематика")
    with pytest.raises(t.BadSeries):
        t.validate("Математика", series="a\nb")
    for bad in ("1", "1..2", "1.1.a", "1.1.2.1.1.1.1.1.1.1.1", "9" * 40):
        with pytest.raises(t.BadFpuNumber) as e:
            t.validate("Математика", fpu_number=bad)
        assert e.value.code == "textbook_bad_fpu"
    assert issubclass(t.TextbookError, t.IbcError)
    assert "from 1 to 11" in t.BadGrades(value="12").message()
    assert t.BadGrades(value="12").message(lambda m: "Классы: %(value)s") == "Классы: 12"


# -- extraction -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, grades", [
    ("Математика. 5 класс", (5, 5)), ("учебник для 5-6 классов", (5, 6)), ("10-11 кл.", (10, 11)),
    ("для 5–6-х классов общеобразоват. организаций", (5, 6)), ("7-й класс", (7, 7)),
    ("для 1-4 классов", (1, 4)), ("учебник для 10 класса : базовый уровень", (10, 10)),
    ("Алгебра : 9 кл. : учебник", (9, 9)), ("Grades 5-6", (5, 6)), ("класс 3", (3, 3)),
    ("в 2 ч. Ч. 1", (None, None)), ("12 класс", (None, None)), ("2020 г.", (None, None)),
    ("5 класс. В 2 частях", (5, 5)),
])
def test_grade_phrases(text, grades):
    assert t.find_grades([text]) == grades


def test_rusmarc_textbook():
    rec = rusmarc(
        df("010", "a978-5-09-102547-3"),
        df("200", "aМатематика", "eучебник для 5 класса общеобразовательных организаций",
           "eбазовый уровень", "fН. Я. Виленкин [и др.]", ind1="1"),
        df("225", "aМГУ - школе", ind1="1"),
        df("606", "aМатематика", "jУчебные издания для средней школы", ind1="1"),
        df("675", "a373.167.1:51"),
    )
    assert t.extract_marc(rec) == t.Extracted("Математика", 5, 5, "МГУ - школе")


def test_rusmarc_grades_from_a_note_and_subject_from_the_udc():
    rec = rusmarc(df("200", "aФизика", "eучебник", ind1="1"), df("320", "aДля 7-9 классов"),
                  df("675", "a373.167.1:53"))
    assert t.extract_marc(rec) == t.Extracted("Физика", 7, 9, None)


def test_rusmarc_subject_from_the_title_and_a_textbook_heading_first():
    rec = rusmarc(df("200", "aРусский язык. 8 класс", "eучебник", ind1="1"),
                  df("606", "aОрфография"), df("606", "aРусский язык", "xУчебники"))
    assert t.extract_marc(rec) == t.Extracted("Русский язык", 8, 8, None)
    rec = rusmarc(df("200", "aЛитература. 9 класс", ind1="1"))
    assert t.extract_marc(rec).subject == "Литература"


def test_marc21_textbook():
    rec = marc21(df("245", "aChemistry :", "bgrade 8 textbook", ind1="1", ind2="0"),
                 df("521", "aGrades 8-9", ind1="0"), df("650", "aChemistry", "vTextbooks", ind2="0"),
                 df("490", "aЛиния УМК Габриеляна"))
    assert t.extract_marc(rec) == t.Extracted("Chemistry", 8, 8, "Линия УМК Габриеляна")
    rec = marc21(df("245", "aГеография", ind1="1"), df("521", "a6 класс"), df("080", "a373.167.1:91"))
    assert t.extract_marc(rec) == t.Extracted("География", 6, 6, None)


def test_nothing_to_extract_is_falsy():
    rec = rusmarc(df("200", "aВойна и мир", "eроман", ind1="1"))
    assert not t.extract_marc(rec)
    assert not t.extract_fields("Денискины рассказы")


def test_fields_of_a_record_without_marc():
    found = t.extract_fields("Окружающий мир. 2 класс", "Учебник : в 2 ч. Ч. 1",
                             ["Окружающий мир -- Учебники"], "373.167.1:502")
    assert found == t.Extracted("Окружающий мир", 2, 2, None)


# -- the rule, set, clear, extract --------------------------------------------------------------

def _records(db):
    from library.storage.models import Copy, Record

    with db.transaction() as s:
        a = Record(key="a", title="Алгебра. 7 класс", subjects=["Алгебра -- Учебники"], item_type="textbook")
        a.copies = [Copy(barcode="1", status="available"), Copy(barcode="2", status="on_loan"),
                    Copy(barcode="3", status="lost")]
        b = Record(key="b", title="Война и мир", item_type="book")
        c = Record(key="c", title="Геометрия. 7-9 классы", item_type="textbook", deleted=True)
        d = Record(key="d", title="Биология", subtitle="учебник для 5-6 классов", item_type="textbook")
        s.add_all([a, b, c, d])
        s.flush()
        return {"a": a.id, "b": b.id, "c": c.id, "d": d.id}


def test_the_rule_set_clear_and_extract(db):
    ids = _records(db)
    with db.session() as s:
        rows = t.textbook_records(s)
    assert [r.record_id for r in rows] == [ids["a"], ids["d"]]  # no book, no deleted record
    assert (rows[0].copies, rows[0].available) == (2, 1)
    with db.transaction() as s:
        report = t.extract(s, dry_run=True)
    assert (report.checked, report.filled) == (2, 2)
    with db.session() as s:
        assert t.get_title(s, ids["a"]) is None
    with db.transaction() as s:
        t.set_title(s, ids["b"], t.validate("Литература", "10"))  # a book made a textbook
        t.set_title(s, ids["a"], t.validate("Алгебра", "7", fpu_number="1.1.2.4.2.1.1"), source="fpu")
        report = t.extract(s)
    assert (report.checked, report.filled, report.kept) == (3, 1, 2)
    with db.session() as s:
        assert [(r.subject, r.grades, r.source) for r in t.textbook_records(s)] == [
            ("Алгебра", "7", "fpu"), ("Биология", "5-6", "marc"), ("Литература", "10", "desk")]
        assert [r.record_id for r in t.textbook_records(s, grade=6)] == [ids["d"]]
        assert [r.record_id for r in t.textbook_records(s, subject="АЛГЕБРА")] == [ids["a"]]
        assert t.subjects(s) == ["Алгебра", "Биология", "Литература"]
    from library.storage.models import Record

    with db.session() as s:  # made a textbook: lent to the school year's end, seen by replicas
        book = s.get(Record, ids["b"])
        assert book is not None and book.item_type == "textbook"
        version = book.version
    with db.transaction() as s:
        assert t.clear_title(s, ids["b"]) is True
        assert t.clear_title(s, ids["b"]) is False
    with db.session() as s:  # and back to the book it was, with a newer version
        book = s.get(Record, ids["b"])
        assert book is not None and book.item_type == "book" and book.version > version
    with db.session() as s:
        assert ids["b"] not in [r.record_id for r in t.textbook_records(s)]
    with db.transaction() as s, pytest.raises(t.RecordGone):
        t.set_title(s, ids["c"], t.TitleData("Геометрия"))


# -- the federal list -------------------------------------------------------------------------

def test_fpu_columns_encodings_and_bad_rows():
    text = ("Порядковый номер учебника,Наименование учебного предмета,Автор/авторский коллектив,"
            "Наименование учебника,Класс,Наименование издателя(ей) учебника\n"
            '1.1.2.1.1.1.1,Русский язык,"Ладыженская Т.А., Баранов М.Т.",Русский язык (в 2 частях),5,'
            "Просвещение\n"
            "\n"
            "1.1.2.1.1.1.2,Русский язык,Ладыженская Т.А.,Русский язык,6-7 классы,Просвещение\n"
            "1.1.2.9,Музыка,Сергеева Г.П.,Музыка,13,Просвещение\n"
            "1.1.2.9.1,,Сергеева Г.П.,,5,Просвещение\n")
    for data in (text.encode("utf-8-sig"), text.encode("cp1251")):
        entries, bad = t.parse_fpu_csv(data)
        assert [(e.line, e.number, e.title, e.subject, e.grade_from, e.grade_to) for e in entries] == [
            (2, "1.1.2.1.1.1.1", "Русский язык (в 2 частях)", "Русский язык", 5, 5),
            (4, "1.1.2.1.1.1.2", "Русский язык", "Русский язык", 6, 7)]
        assert entries[0].authors == "Ладыженская Т.А., Баранов М.Т." and entries[0].publisher == "Просвещение"
        assert [(r.line, r.status, r.error.code) for r in bad] == [
            (5, "error", "textbook_bad_grades"), (6, "error", "textbook_fpu_row")]
    with pytest.raises(t.FpuFileError) as e:
        t.parse_fpu_csv("Автор;Класс\nИванов;5\n".encode())
    assert "Автор, Класс" in e.value.params["found"]
    with pytest.raises(t.FpuFileError):
        t.parse_fpu_csv(b"\xff\xfe\x00garbage")


def test_fpu_matching(db):
    from library.storage.models import Record

    with db.transaction() as s:
        recs = {
            "isbn": Record(key="1", title="Совсем другое название", isbn="9785090881234",
                           isbns=["9785090881234"], item_type="book"),
            "ru5": Record(key="2", title="Русский язык. 5 класс", subtitle="в 2 ч. Ч. 1",
                          authors=["Ладыженская, Таиса Алексеевна"], item_type="textbook"),
            "ru5b": Record(key="3", title="Русский язык. 5 класс", subtitle="в 2 ч. Ч. 2",
                           authors=["Ладыженская, Таиса Алексеевна"], item_type="textbook"),
            "other": Record(key="4", title="Русский язык. 5 класс", authors=["Рыбченкова, Лариса"],
                            item_type="textbook"),
            "desk": Record(key="5", title="История России. 6 класс", authors=["Арсентьев, Николай"]),
        }
        s.add_all(recs.values())
        s.flush()
        ids = {k: r.id for k, r in recs.items()}
        t.set_title(s, ids["desk"], t.validate("История", "6", "Как у нас принято"))
    csv = ("номер;название;авторы;классы;предмет;ISBN\n"
           "1.1.1.1;Учебник по ISBN;Кто-то;8;Химия;978-5-09-088123-4\n"
           "1.1.2.1.1.1.1;Русский язык. 5 класс. В 2 частях;Ладыженская Т.А., Баранов М.Т.;5;Русский язык;\n"
           "1.1.3.1;История России;Арсентьев Н.М.;6;История;\n"
           "1.1.4.1;Астрономия;Воронцов-Вельяминов Б.А.;11;Астрономия;\n"
           "1.x;Сломанная строка;;5;;\n").encode()
    with db.transaction() as s:
        report = t.import_fpu(s, csv)
    body = report.to_dict()
    assert [(i["line"], i["status"], i["records"]) for i in body["items"]] == [
        (2, "matched", [ids["isbn"]]), (3, "matched", sorted([ids["ru5"], ids["ru5b"]])),
        (4, "kept", [ids["desk"]]), (5, "unmatched", []), (6, "error", [])]
    assert body["items"][4]["code"] == "textbook_bad_fpu"
    assert (body["matched"], body["unmatched"], body["kept"], body["errors"], body["records"]) == (2, 1, 1, 1, 3)
    with db.session() as s:
        got = {k: t.get_title(s, i) for k, i in ids.items()}
        assert (got["isbn"].fpu_number, got["isbn"].subject, got["isbn"].grade_from) == ("1.1.1.1", "Химия", 8)
        assert got["ru5"].source == "fpu" and got["ru5b"].fpu_number == "1.1.2.1.1.1.1"
        assert got["other"] is None  # another author's textbook of the same name
        assert (got["desk"].source, got["desk"].fpu_number, got["desk"].series) == ("desk", None, "Как у нас принято")
        # now a textbook by the rule (a TextbookTitle row), though catalogued as a book
        assert ids["isbn"] in [r.record_id for r in t.textbook_records(s)]
        # the list as imported: what of it the catalogue lacks (a desk title without the number too)
        summary, rows = t.fpu_list(s, missing_only=True)
        assert (summary.entries, summary.missing) == (4, 2)
        assert [(r.number, r.title, r.grades) for r in rows] == [("1.1.3.1", "История России", "6"),
                                                                 ("1.1.4.1", "Астрономия", "11")]
        assert [r.number for r in t.fpu_list(s, grade=11, missing_only=True)[1]] == ["1.1.4.1"]
        assert len(t.fpu_list(s)[1]) == 4
    with db.transaction() as s:  # a dry run keeps the list on file
        t.import_fpu(s, "номер;название\n9.9;Другое\n".encode(), dry_run=True)
        assert t.fpu_list(s)[0].entries == 4
        t.import_fpu(s, "номер;название\n9.9;Другое\n".encode())  # a new list replaces it
        assert [r.number for r in t.fpu_list(s)[1]] == ["9.9"]


# -- the command --------------------------------------------------------------------------------

def test_cli(db_url, db, tmp_path, capsys):
    from ibc import cli

    ids = _records(db)
    assert cli.main(["--db", db_url, "textbooks", "extract", "--dry-run", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dry_run"] is True and out["filled"] == 2
    assert cli.main(["--db", db_url, "textbooks", "list", "--json"]) == 0
    assert all(r["subject"] == "" for r in json.loads(capsys.readouterr().out))
    assert cli.main(["--db", db_url, "textbooks", "extract"]) == 0
    capsys.readouterr()
    assert cli.main(["--db", db_url, "textbooks", "set", str(ids["a"]), "--series", "Алгебра 7-9",
                     "--fpu", "1.1.2.4.2.1.1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["subject"], out["grades"], out["series"], out["source"]) == ("Алгебра", "7", "Алгебра 7-9", "desk")
    assert cli.main(["--db", db_url, "textbooks", "set", str(ids["a"]), "--grades", "12", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["code"] == "textbook_bad_grades"
    for missing in ("999999", "99999999999999", "0"):
        assert cli.main(["--db", db_url, "textbooks", "set", missing, "--subject", "X"]) == 1
        assert missing in capsys.readouterr().err
    assert cli.main(["--db", db_url, "textbooks", "list", "--grade", "6", "--json"]) == 0
    assert [r["title"] for r in json.loads(capsys.readouterr().out)] == ["Биология"]
    f = tmp_path / "fpu.csv"
    f.write_text("номер;название;классы\n1.1.9;Биология;5-6\nплохо;Биология;5\n", encoding="utf-8")
    assert cli.main(["--db", db_url, "textbooks", "fpu-import", str(f), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["matched"], out["errors"]) == (1, 1)
    assert cli.main(["--db", db_url, "textbooks", "list"]) == 0
    text = capsys.readouterr().out
    assert "ФПУ 1.1.9" in text and "Алгебра 7-9" in text
    assert cli.main(["--db", db_url, "textbooks", "fpu-import", str(tmp_path / "none.csv")]) == 1
    assert "none.csv" in capsys.readouterr().err
    assert cli.main(["--db", db_url, "textbooks", "fpu-missing", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["entries"], out["missing"], out["items"]) == (1, 0, [])


def test_every_refusal_has_its_russian_text():
    from library.i18n import translator

    tr = translator("ru")

    def classes(c):
        for sub in c.__subclasses__():
            yield sub
            yield from classes(sub)

    for cls in [t.TextbookError, *classes(t.TextbookError)]:
        assert tr(cls.template) != cls.template, cls.__name__
    assert t.FpuNoTitle().message(tr) == "В строке нет названия"


def test_an_import_fills_the_textbooks_data(db, tmp_path):
    """A MARC import extracts each imported textbook's subject, grades and series in the batch
    (no `ibc textbooks extract` needed); a book gets none; data set at the desk survive a
    re-import."""
    import pymarc
    from sqlalchemy import select

    from library.marc.importer import import_files
    from library.storage.models import Record, TextbookTitle

    def record(ident: str, *fields: tuple[str, list[str]]) -> pymarc.Record:
        rec = pymarc.Record(leader="00000nam0 2200000   450 ", force_utf8=True)
        rec.add_field(pymarc.Field(tag="001", data=ident))
        for tag, subs in fields:
            rec.add_field(pymarc.Field(tag=tag, indicators=pymarc.Indicators("1", " "),
                                       subfields=[pymarc.Subfield(s[0], s[1:]) for s in subs]))
        return rec

    path = tmp_path / "school.iso"
    with open(path, "wb") as fh:
        fh.write(record("T1", ("200", ["aМатематика", "eучебник для 5 класса"]),
                        ("225", ["aМГУ - школе"]), ("606", ["aМатематика", "jУчебные издания"]),
                        ("675", ["a373.167.1:51"])).as_marc())
        fh.write(record("B1", ("200", ["aВойна и мир", "eроман"])).as_marc())
    report = import_files(db, [path], sigla="ИБЦ")
    assert report.added == 2
    with db.session() as s:
        rows = s.execute(select(Record.title, Record.item_type, TextbookTitle.subject,
                                TextbookTitle.grade_from, TextbookTitle.grade_to,
                                TextbookTitle.series, TextbookTitle.source)
                         .outerjoin(TextbookTitle, TextbookTitle.record_id == Record.id)
                         .order_by(Record.title)).all()
    assert [tuple(r) for r in rows] == [
        ("Война и мир", "book", None, None, None, None, None),
        ("Математика", "textbook", "Математика", 5, 5, "МГУ - школе", "marc")]
    math = next(r for r in rows if r[0] == "Математика")
    with db.transaction() as s:
        rid = s.scalar(select(Record.id).where(Record.title == math[0]))
        t.set_title(s, rid, t.TitleData("Алгебра", 5, 6, None, None), source="desk")
    import_files(db, [path], sigla="ИБЦ")
    with db.session() as s:
        row = s.get(TextbookTitle, rid)
        assert (row.subject, row.grade_to, row.source) == ("Алгебра", 6, "desk")
