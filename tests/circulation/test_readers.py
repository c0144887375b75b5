"""Class-list import: CSV in UTF-8 and cp1251, XLSX, bad rows with line numbers."""

import pytest
from sqlalchemy import select

from library.circulation.readers import import_readers, normalise_class
from library.errors import ImportFormatError
from library.storage import Reader

CSV = """ФИО;Класс;Номер билета
Петрова Анна Сергеевна;5 а;3001
Сидоров Иван;5А;3002
;5А;3003
Орлов Пётр Ильич;15Ж;3004
Иванова Мария Петровна;;3005
Козлов Олег;6Б;3001
"""


def test_csv_with_bad_rows(db, tmp_path):
    f = tmp_path / "5a.csv"
    f.write_bytes(CSV.encode("cp1251"))
    report = import_readers(db, f)
    assert (report.read, report.added, report.skipped) == (6, 2, 4)
    assert [e["line"] for e in report.errors] == [4, 5, 6, 7]
    assert "repeats line 2" in report.errors[-1]["reason"]
    with db.session() as s:
        anna = s.scalar(select(Reader).where(Reader.card_number == "3001"))
        assert (anna.first_name, anna.class_name, anna.middle_name) == ("Анна", "5А", "Сергеевна")
    f.write_text("ФИО;Класс;Номер билета\nПетрова Анна;6А;3001\n", encoding="utf-8")
    report = import_readers(db, f)
    assert report.updated == 1
    with db.session() as s:
        assert s.scalar(select(Reader.class_name).where(Reader.card_number == "3001")) == "6А"


def test_xlsx(db, tmp_path):
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is in the reports extra")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Фамилия", "Имя", "Отчество", "Класс", "Билет", "Категория"])
    ws.append(["Смирнова", "Ольга", "Ивановна", None, "T1", "учитель"])
    ws.append(["Лебедев", "Саша", None, "1Б", 4001, None])
    wb.save(tmp_path / "list.xlsx")
    report = import_readers(db, tmp_path / "list.xlsx")
    assert (report.added, report.skipped) == (2, 0)
    with db.session() as s:
        assert s.scalar(select(Reader.category).where(Reader.card_number == "T1")) == "teacher"


def test_bad_header(db, tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="line 1"):
        import_readers(db, f)


def test_normalise_class():
    assert normalise_class("11 б") == "11Б"
    assert normalise_class("") is None
    with pytest.raises(ValueError):
        normalise_class("12Я")
