"""Export: import → export → import gives the same fields, in every format and encoding."""

from __future__ import annotations

import io

import pytest
from marc_fixtures import isbn10, rusmarc
from sqlalchemy import select

from library.marc.export import export_records, stored_record
from library.marc.importer import import_files
from library.marc.model import ControlField
from library.marc.reader import read_file, read_iso2709
from library.storage.database import open_database
from library.storage.models import Copy, Record


def snapshot(db, mask_charset: bool = False) -> dict[str, list]:
    """key → comparable fields of the stored MARC (100$a/26-29 masked across encodings)."""
    out = {}
    with db.session() as s:
        for key, marc, enc in s.execute(select(Record.key, Record.marc, Record.marc_encoding)):
            fields = []
            for f in stored_record(marc, enc).fields:
                if isinstance(f, ControlField):
                    fields.append((f.tag, f.value))
                    continue
                subs = tuple((c, v[:26] + "????" + v[30:] if mask_charset and f.tag == "100"
                              and c == "a" else v) for c, v in f.subfields)
                fields.append((f.tag, f.ind1, f.ind2, subs))
            out[key] = fields
    return out


def round_trip(db, tmp_path, files, fmt, encoding):
    import_files(db, files, sigla="ИБЦ")
    out = tmp_path / f"out.{fmt}.{encoding}"
    with out.open("wb") as fh:
        report = export_records(db, fh, fmt=fmt, encoding=encoding)
    again = open_database(f"sqlite:///{tmp_path / 'again.sqlite3'}")
    try:
        rep = import_files(again, [out], sigla="ИБЦ")
        assert rep.skipped == 0
        mask = encoding == "utf-8" and fmt != "marc21"
        return report, snapshot(db, mask), snapshot(again, mask)
    finally:
        again.dispose()


@pytest.mark.shared
@pytest.mark.parametrize(("fmt", "encoding", "files"), [
    ("rusmarc", "cp1251", ["rusmarc/loge-gh_rusmarc/TEST1.ISO",
                           "rusmarc/afronkin_marcrecord/rusmarc_1.iso",
                           "irbis_text/amironov73_ManagedIrbis/records.txt"]),
    ("rusmarc", "utf-8", ["rusmarc/loge-gh_rusmarc/TEST1.ISO", "rusmarc/loge-gh_rusmarc/ur.iso",
                          "rusmarc/afronkin_marcrecord/marcxml_1.xml",
                          "unimarc/edsu_pymarc/testunimarc.dat"]),
    ("marc21", "utf-8", ["marc21/edsu_pymarc/1251.dat", "marc21/edsu_pymarc/marc.dat",
                         "marc21/marc4j_marc4j/cyrillic_capital_e.mrc",
                         "marc21/edsu_pymarc/batch.xml"]),
    ("marcxml", "utf-8", ["rusmarc/loge-gh_rusmarc/TEST1.ISO",
                          "marc21/edsu_pymarc/marc8.dat", "marc21/edsu_pymarc/utf8.xml",
                          "rusmarc/afronkin_marcrecord/marcxml_1.xml"]),
])
def test_round_trip_is_identical_field_for_field(db, tmp_path, marc_dir, fmt, encoding, files):
    report, before, after = round_trip(db, tmp_path, [marc_dir / f for f in files], fmt, encoding)
    assert report.written == len(before) and report.skipped == 0
    assert after == before


def test_round_trip_of_generated_records_with_copies(db, tmp_path):
    src = tmp_path / "in.iso"
    src.write_bytes(b"".join(rusmarc(n, copies=n % 3 + 1) for n in range(20)))
    report, before, after = round_trip(db, tmp_path, [src], "rusmarc", "cp1251")
    assert report.written == 20 and after == before


def _export_one(db, **kw) -> list:
    buf = io.BytesIO()
    export_records(db, buf, **kw)
    return [p.record for p in read_iso2709(io.BytesIO(buf.getvalue()))]


def test_holdings_follow_the_copy_rows(db, tmp_path):
    src = tmp_path / "in.iso"
    src.write_bytes(rusmarc(1, copies=2) + rusmarc(2, copies=1))
    import_files(db, [src], sigla="SCH")
    with db.transaction() as s:
        first, second = s.scalars(select(Copy).order_by(Copy.id).limit(2)).all()
        first.status = "on_loan"
        s.delete(second)
        rec_id = first.record_id
        s.add(Copy(record_id=rec_id, sigla="SCH", inventory_number="new-1", barcode="999"))
    [rec] = _export_one(db, fmt="rusmarc", encoding="cp1251", ids=iter([rec_id]))
    holdings = [f.subfields for f in rec.get_fields("910")]
    assert holdings[0] == [("a", "1"), ("b", "1-0"), ("h", "200000100")]
    assert holdings[1] == [("a", "0"), ("b", "new-1"), ("d", "SCH"), ("h", "999")]
    assert len(holdings) == 2


def test_selection_by_sigla_and_ids(db, tmp_path):
    a, b = tmp_path / "a.iso", tmp_path / "b.iso"
    book = [rusmarc(n, isbn=isbn10(n)) for n in range(4)]  # one ISBN would be one book
    a.write_bytes(book[1] + book[2])
    b.write_bytes(book[2] + book[3])
    import_files(db, [a], sigla="A")
    import_files(db, [b], sigla="B")
    only_b = _export_one(db, fmt="rusmarc", encoding="utf-8", sigla="B")
    assert [r.control("001") for r in only_b] == ["RU\\TEST\\2", "RU\\TEST\\3"]
    assert all(len(r.get_fields("910")) == 1 for r in only_b)
    with db.session() as s:
        some = s.scalars(select(Record.id).order_by(Record.id)).all()[:1]
    assert len(_export_one(db, fmt="rusmarc", ids=some)) == 1


def test_encoding_marks_and_bad_options(db, tmp_path):
    src = tmp_path / "a.iso"
    src.write_bytes(rusmarc(1))
    import_files(db, [src], sigla="S")
    for encoding, flag, sets in (("utf-8", "a", "50  "), ("cp1251", " ", "0189")):
        buf = io.BytesIO()
        export_records(db, buf, fmt="rusmarc", encoding=encoding)
        [p] = list(read_iso2709(io.BytesIO(buf.getvalue())))
        assert p.record.leader[9] == flag and p.encoding == encoding
        assert p.record.first("100").get("a")[26:30] == sets
    with pytest.raises(ValueError):
        export_records(db, io.BytesIO(), fmt="marc21", encoding="cp1251")
    with pytest.raises(ValueError):
        export_records(db, io.BytesIO(), fmt="pdf")


def test_records_without_marc_are_synthesised(db, tmp_path):
    with db.transaction() as s:
        s.add(Record(key="demo:1", title="Война и мир", authors=["Толстой, Лев Николаевич"],
                     year=1869, isbns=["9785170152407"], subjects=["Роман"], bbk="84(2)",
                     source_format="rusmarc", age_rating="12+"))
    out = tmp_path / "x.xml"
    with out.open("wb") as fh:
        export_records(db, fh, fmt="marcxml")
    [p] = list(read_file(out))
    assert p.record.first("200").get("a") == "Война и мир"
    assert p.record.first("700").subfields == [("a", "Толстой"), ("g", "Лев Николаевич")]
