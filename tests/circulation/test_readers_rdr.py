"""ИРБИС RDR import: cp1251 and UTF-8 records, categories, classes, skipped and broken records."""

import json

import pymarc
import pytest
from sqlalchemy import select

from ibc.cli import main
from library.circulation.readers_rdr import category_of, import_rdr, is_rdr_file
from library.errors import ImportFormatError
from library.marc.iso2709 import encode_record
from library.marc.model import DataField, MarcRecord
from library.storage import Reader

LEADER = "00000nw   2200000   4500"  # leader/09 blank: no UTF-8 declared


def irbis(fields: dict[str, str], encoding: str = "cp1251") -> bytes:
    """An ИРБИС-style record: plain values after two blank indicators, written by our own writer."""
    # ИРБИС keeps plain field values where MARC has subfields; ind2 carries the text after " ".
    return encode_record(MarcRecord(LEADER, [DataField(t.zfill(3), " ", " " + v) for t, v in fields.items()]),
                         encoding)


def with_subfields() -> bytes:
    """A UTF-8 record written by pymarc with the values in subfields (^A), class in 52^A."""
    rec = pymarc.Record(leader=pymarc.Leader("00000nw  a2200000   4500"), force_utf8=True)
    for tag, subs in (("010", [("a", "Смирнова")]), ("011", [("a", "Ольга")]), ("030", [("a", "П-7")]),
                      ("050", [("a", "учащийся")]), ("052", [("a", "7 б класс")])):
        rec.add_field(pymarc.Field(tag=tag, indicators=pymarc.Indicators(" ", " "),
                                   subfields=[pymarc.Subfield(c, v) for c, v in subs]))
    return rec.as_marc()


@pytest.fixture
def rdr(tmp_path):
    records = [
        irbis({"10": "Петрова", "11": "Анна", "12": "Сергеевна", "30": "3001", "50": "учащийся 5А"}),
        irbis({"10": "Иванова", "11": "Мария", "12": "Петровна", "30": "T1", "50": "педагог"}),
        irbis({"10": "Без", "11": "Билета", "50": "учащийся 6А"}),
        irbis({"10": "Козлов", "11": "Олег", "30": "S9", "50": "сотрудник"}),
        with_subfields(),
    ]
    broken = bytearray(irbis({"10": "Орлов", "11": "Пётр", "30": "3004"}))
    broken[27] = ord("X")  # a letter in the first directory entry's length
    records.insert(4, bytes(broken))
    offsets = [sum(len(r) for r in records[:i]) for i in range(len(records))]
    path = tmp_path / "rdr.iso"
    path.write_bytes(b"".join(records))
    return path, offsets


def test_import_rdr(db, rdr):
    path, offsets = rdr
    report = import_rdr(db, path, sigla="ИБЦ")
    assert (report.read, report.added, report.updated, report.skipped) == (6, 4, 0, 2)
    assert [(e["record"], e["offset"]) for e in report.errors] == [(3, offsets[2]), (5, offsets[4])]
    assert "field 30" in report.errors[0]["reason"]
    assert "directory entry 1" in report.errors[1]["reason"]
    with db.session() as s:
        got = {r.card_number: (r.last_name, r.first_name, r.middle_name, r.class_name, r.category, r.sigla)
               for r in s.scalars(select(Reader))}
    assert got == {
        "3001": ("Петрова", "Анна", "Сергеевна", "5А", "pupil", "ИБЦ"),
        "T1": ("Иванова", "Мария", "Петровна", None, "teacher", "ИБЦ"),
        "S9": ("Козлов", "Олег", None, None, "staff", "ИБЦ"),
        "П-7": ("Смирнова", "Ольга", None, "7Б", "pupil", "ИБЦ"),
    }
    again = import_rdr(db, path)
    assert (again.added, again.updated, again.skipped) == (0, 4, 2)


def test_cli_dispatches_on_content(db_url, rdr, tmp_path, monkeypatch, capsys):
    path, _ = rdr
    odd = tmp_path / "export.dat"  # no telling suffix: the 5-digit record length decides
    odd.write_bytes(path.read_bytes())
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    monkeypatch.setenv("IBC_CONFIG", str(tmp_path / "none.toml"))
    assert is_rdr_file(odd) and not is_rdr_file(tmp_path / "none.toml")
    assert main(["--db", db_url, "readers", "import", str(odd), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["added"], out["skipped"]) == (4, 2) and out["errors"][0]["record"] == 3
    csv = tmp_path / "list.csv"
    csv.write_text("ФИО;Класс;Номер билета\nЛебедев Саша;1Б;4001\n", encoding="utf-8")
    assert main(["--db", db_url, "readers", "import", str(csv)]) == 0
    assert "added 1" in capsys.readouterr().out


def test_not_iso(db, tmp_path):
    f = tmp_path / "x.iso"
    f.write_bytes(b"")
    with pytest.raises(ImportFormatError):
        import_rdr(db, f)


def test_categories():
    assert [category_of(x) for x in ("Учащийся", "школьник", "Учитель", "сотрудник", "гость", "")] == [
        "pupil", "pupil", "teacher", "staff", "pupil", "pupil"]
