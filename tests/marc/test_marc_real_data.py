"""Every real MARC file under ../shared/testdata/marc, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from library.marc.importer import import_files
from library.storage.models import Copy, Record

pytestmark = pytest.mark.shared

# file → (read, imported, skipped, encodings)
EXPECTED = {
    "rusmarc/loge-gh_rusmarc/TEST1.ISO": (81, 81, 0, {"cp1251": 81}),
    "rusmarc/amironov73_ManagedIrbis/TEST1.ISO": (81, 81, 0, {"cp1251": 81}),
    "rusmarc/loge-gh_rusmarc/TEST2.ISO": (1, 1, 0, {"cp1251": 1}),
    "rusmarc/loge-gh_rusmarc/ur.iso": (1, 1, 0, {"utf-8": 1}),
    "rusmarc/afronkin_marcrecord/rusmarc_1.iso": (1, 1, 0, {"cp1251": 1}),
    "rusmarc/afronkin_marcrecord/rusmarc_2.iso": (1, 0, 1, {}),
    "rusmarc/afronkin_marcrecord/marcxml_1.xml": (12, 12, 0, {"utf-8": 12}),
    "irbis_text/amironov73_ManagedIrbis/records.txt": (3, 3, 0, {"utf-8": 3}),
    "irbis_text/amironov73_ManagedIrbis/broken_records.txt": (3, 0, 3, {}),
    "unimarc/edsu_pymarc/testunimarc.dat": (1, 1, 0, {"utf-8": 1}),
    "marc21/edsu_pymarc/test.dat": (10, 10, 0, {"marc-8": 10}),
    "marc21/edsu_pymarc/marc.dat": (20, 20, 0, {"marc-8": 20}),
    "marc21/edsu_pymarc/1251.dat": (6, 6, 0, {"cp1251": 6}),
    "marc21/edsu_pymarc/marc8.dat": (1, 1, 0, {"marc-8": 1}),
    "marc21/edsu_pymarc/utf8_with_leader_flag.dat": (1, 1, 0, {"utf-8": 1}),
    "marc21/edsu_pymarc/bad_records.mrc": (8, 2, 6, {"marc-8": 2}),
    "marc21/edsu_pymarc/batch.xml": (2, 2, 0, {"utf-8": 2}),
    "marc21/edsu_pymarc/utf8.xml": (1, 1, 0, {"utf-8": 1}),
    "marc21/marc4j_marc4j/cyrillic_capital_e.mrc": (2, 2, 0, {"marc-8": 2}),
}


def test_every_file_is_covered(marc_dir):
    present = {str(p.relative_to(marc_dir)) for p in marc_dir.rglob("*") if p.is_file()}
    assert present - set(EXPECTED) == {"rusmarc/loge-gh_rusmarc/TEST1.txt"}  # a text dump


def test_all_files(db, marc_dir):
    for name, (read, imported, skipped, encodings) in EXPECTED.items():
        report = import_files(db, [marc_dir / name], sigla="ИБЦ")
        got = (report.read, report.added + report.updated, report.skipped, dict(report.encodings))
        assert got == (read, imported, skipped, encodings), name


def _one(db, **where):
    with db.session() as s:
        q = select(Record)
        for k, v in where.items():
            q = q.where(getattr(Record, k) == v)
        rows = s.scalars(q).all()
        assert len(rows) == 1, where
        rows[0].copies  # noqa: B018 - load while the session is open
        return rows[0]


def test_test1_both_copies_of_the_file(db, marc_dir):
    for owner in ("loge-gh_rusmarc", "amironov73_ManagedIrbis"):
        report = import_files(db, [marc_dir / "rusmarc" / owner / "TEST1.ISO"], sigla="ИБЦ")
        assert (report.read, report.skipped, dict(report.encodings)) == (81, 0, {"cp1251": 81})
    assert report.updated == 81  # the two files hold the same records
    zadachi = _one(db, key="001:RU\\NLR\\bibl\\5996")
    assert zadachi.title == "Задачи и этюды" and zadachi.authors == ["Барсуков, В. Н."]
    assert zadachi.bbk == "Ч515.815я43" and zadachi.marc_encoding == "cp1251"
    gunny = _one(db, title="Гунны")
    assert gunny.isbn == "9785170152407" and "517015240X" in gunny.isbns
    assert gunny.authors == ["Костейн, Томас"] and gunny.year == 2002
    assert gunny.udc == "821.111(73)-31Костейн" and gunny.language == "rus"
    assert sorted((c.sigla, c.inventory_number) for c in gunny.copies) == [
        ("NLR", "381683"), ("NLR", "381684")]


def test_marc21_in_cp1251(db, marc_dir):
    report = import_files(db, [marc_dir / "marc21/edsu_pymarc/1251.dat"], sigla="ИБЦ")
    assert dict(report.encodings) == {"cp1251": 6}
    r = _one(db, title="Основы гидравлического расчета инженерных сетей")
    assert r.authors == ["Ильина, Татьяна Николаевна"] and r.year == 2005
    assert r.isbn == "9785930933420" and r.udc == "624.01:532.5(075.8)"


def test_marc8_keeps_880_cyrillic(db, marc_dir):
    import_files(db, [marc_dir / "marc21/marc4j_marc4j/cyrillic_capital_e.mrc"], sigla="ИБЦ")
    r = _one(db, title="Вор, шпион и убийца")
    assert r.authors == ["Буйда, Юрий"] and r.marc_encoding == "marc-8"
    assert _one(db, title="Синдром Петрушки").responsibility.startswith("Дина")


def test_bad_files_fail_record_by_record(db, marc_dir):
    report = import_files(db, [marc_dir / "marc21/edsu_pymarc/bad_records.mrc",
                               marc_dir / "rusmarc/afronkin_marcrecord/rusmarc_2.iso",
                               marc_dir / "irbis_text/amironov73_ManagedIrbis/broken_records.txt"],
                          sigla="ИБЦ")
    errors = [(e["record"], e["offset"], e["reason"]) for e in report.errors]
    assert errors[0] == (2, 127, "bad base address 99937: outside the record (length 127)")
    assert [e[0] for e in errors[:6]] == [2, 3, 4, 5, 6, 7]
    assert errors[6][2].startswith("bad leader: position 6 holds byte 0xE0 (Cyrillic 'а'")
    assert [e[2].split(":")[0] for e in errors[7:]] == ["line 5", "line 30", "line 48"]
    assert report.added == 1  # bad_records.mrc's two good records are the same book
    assert _one(db, title="The pragmatic programmer").subtitle == "from journeyman to master"


def test_utf8_xml_unimarc_and_irbis_text(db, marc_dir):
    import_files(db, [marc_dir / "rusmarc/loge-gh_rusmarc/ur.iso",
                      marc_dir / "rusmarc/afronkin_marcrecord/marcxml_1.xml",
                      marc_dir / "unimarc/edsu_pymarc/testunimarc.dat",
                      marc_dir / "marc21/edsu_pymarc/batch.xml",
                      marc_dir / "irbis_text/amironov73_ManagedIrbis/records.txt"], sigla="ИБЦ")
    ur = _one(db, title="ПЕДАГОГИКА И ПСИХОЛОГИЯ НЕНАСИЛИЯ В ОБРАЗОВАНИИ")
    assert ur.marc_encoding == "utf-8" and ur.isbn == "9785991616621"
    assert ur.item_type == "textbook"
    with db.session() as s:
        keys = s.scalars(select(Record.key).where(Record.source_format == "rusmarc")).all()
        assert len([k for k in keys if k.startswith(("001:TEST", "001:RU\\TOUNB\\BIBL"))]) == 12
    assert _one(db, source_format="unimarc").title == "L'altra faccia della spirale"
    assert _one(db, title="The Great Ray Charles").item_type == "media"
    shukshin = _one(db, title="Странные люди")
    assert shukshin.authors == ["Шукшин, Василий Макарович"]
    assert [(c.sigla, c.inventory_number, c.status) for c in shukshin.copies] == [
        ("Ф104", "1759089", "available")]
    focus = _one(db, title="Focus 5")
    assert [(c.rfid, c.status) for c in focus.copies] == [("E00401004E2F3C04", "not_for_loan")]
    with db.session() as s:
        assert s.scalar(select(Copy.sigla).where(Copy.inventory_number == "000017743")) \
            == "Тестовая библиотека"
