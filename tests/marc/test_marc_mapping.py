"""MARC → Record/Copy columns for RUSMARC, ИРБИС, UNIMARC and MARC21; holdings both ways."""

from __future__ import annotations

import io

import pytest
from marc_fixtures import M21_LEADER, rec, rusmarc

from library.marc.holdings import read_copy, status_of, write_copy
from library.marc.irbis_text import read_irbis_text
from library.marc.mapping import parse_age, to_record_data
from library.marc.model import CopyData, DataField, RecordError
from library.marc.reader import read_iso2709


def mapped(raw: bytes, scope: str = "ИБЦ"):
    return to_record_data(next(read_iso2709(io.BytesIO(raw))), scope)


def test_rusmarc_fields():
    d = mapped(rusmarc(7, extra=[
        ("200", "1 ", [("a", "Гунны"), ("e", "Ист. роман"), ("f", "Томас Костейн"),
                       ("g", "[Пер. с англ.]")]),
        ("330", "  ", [("a", "Аннотация.")]),
        ("606", "0 ", [("a", "Шахматные композиции"), ("j", "Сборники"), ("2", "nlr-sh")]),
        ("610", "0 ", [("a", "Гунны (х. л.)")]),
        ("675", "  ", [("a", "821.111(73)-31")]),
        ("686", "  ", [("a", "17.82"), ("2", "rugasnti")]),
        ("686", "  ", [("a", "84(7Сое)-44"), ("2", "rubbk")]),
        ("702", " 1", [("a", "Барсуков"), ("b", "В. Н."), ("4", "340")]),
        ("900", "  ", [("z", "16+")]),
        ("215", "  ", [("a", "455, [2] с.")]),
    ]))
    assert d.source_format == "rusmarc"
    assert d.title == "Книга номер 7"  # the first 200 wins
    assert d.authors == ["Иванов, Иван Иванович", "Барсуков, В. Н."]
    assert (d.place, d.publisher, d.year) == ("М.", "АСТ", 2002)
    assert d.isbn == "9785170152407" and d.isbns == ["517015240X", "9785170152407"]
    assert d.subjects == ["Шахматные композиции -- Сборники", "Гунны (х. л.)"]
    assert (d.udc, d.bbk) == ("821.111(73)-31", "84(7Сое)-44")
    assert d.annotation == "Аннотация."
    assert (d.language, d.age_rating, d.age_min, d.pages) == ("rus", "16+", 16, 455)
    assert d.key == "001:RU\\TEST\\7"
    assert d.marc_encoding == "cp1251" and d.marc.startswith(b"00")
    assert [(c.inventory_number, c.barcode, c.status) for c in d.copies] == [
        ("7-0", "200000700", "available")]


def test_volume_with_host_title_and_key_fallbacks():
    raw = rec("00000nam2 2200000 i 450 ",
              ("200", "0 ", [("a", "Вып. 13")]),
              ("461", " 0", [("1", "001RU\\NLR\\bibl\\5996"), ("1", "2001 "),
                             ("a", "Задачи и этюды"), ("v", "Вып. 13")]),
              ("903", "  ", [("a", "-051259089")]), encoding="cp1251")
    d = mapped(raw, "SCH")
    assert d.title == "Задачи и этюды. Вып. 13"
    assert d.key == "903:SCH:-051259089"
    no_ids = mapped(rec(M21_LEADER, ("020", "  ", [("a", "020161622X")]),
                        ("245", "10", [("a", "The pragmatic programmer :")]),
                        ("260", "  ", [("c", "2000.")])))
    assert no_ids.key.startswith("isbn:9780201616224:2000:")
    bare = mapped(rec(M21_LEADER, ("245", "10", [("a", "Untitled notes")])))
    assert bare.key.startswith("desc:")


def test_no_title_is_a_record_error():
    with pytest.raises(RecordError, match="no title"):
        mapped(rec(M21_LEADER, ("245", "10", [("c", "nobody")])))


def test_empty_610_is_left_out():
    # tidy() gives None for an empty or punctuation-only 610 $a; it used to reach the
    # item-type guess (" ".join of the subjects) and the record failed with a TypeError
    d = mapped(rusmarc(8, extra=[("610", "0 ", [("a", " / ")]), ("610", "0 ", [("a", "Гунны")])]))
    assert d.subjects == ["Гунны"]


def test_marc21_fields_and_880_vernacular():
    d = mapped(rec(M21_LEADER,
                   ("001", "u1"), ("003", "SIRSI"),
                   ("008", "130517s2013    ru            000 1 rus d"),
                   ("020", "  ", [("a", "9785699626076 (hbk.)")]),
                   ("041", "0 ", [("a", "rus")]),
                   ("080", "  ", [("a", "624.01")]),
                   ("084", "  ", [("a", "38.1я73"), ("2", "rubbkm")]),
                   ("100", "1 ", [("6", "880-01"), ("a", "Buĭda, I︠U︡riĭ.")]),
                   ("245", "10", [("6", "880-02"), ("a", "Vor, shpion i ubiĭt︠s︡a /"),
                                  ("c", "I︠U︡riĭ Buĭda.")]),
                   ("260", "  ", [("a", "Moskva :"), ("b", "Ėksmo,"), ("c", "2013.")]),
                   ("300", "  ", [("a", "314 p. ;")]),
                   ("520", "  ", [("a", "A novel.")]),
                   ("521", "1 ", [("a", "12")]),
                   ("650", " 0", [("a", "Authorship"), ("v", "Fiction.")]),
                   ("880", "1 ", [("6", "100-01/(N"), ("a", "Буйда, Юрий.")]),
                   ("880", "10", [("6", "245-02/(N"), ("a", "Вор, шпион и убийца /"),
                                  ("c", "Юрий Буйда.")]),
                   ("952", "  ", [("a", "SCH1"), ("p", "300000001"), ("i", "inv1"),
                                  ("1", "1")])))
    assert d.title == "Вор, шпион и убийца" and d.responsibility == "Юрий Буйда"
    assert d.authors == ["Буйда, Юрий"]
    assert (d.place, d.publisher, d.year) == ("Moskva", "Ėksmo", 2013)
    assert d.isbn == "9785699626076" and d.udc == "624.01" and d.bbk == "38.1я73"
    assert d.subjects == ["Authorship -- Fiction"]
    assert (d.language, d.pages, d.age_min, d.annotation) == ("rus", 314, 12, "A novel.")
    assert d.key == "001:SIRSI/u1"
    c = d.copies[0]
    assert (c.sigla, c.barcode, c.inventory_number, c.status) == ("SCH1", "300000001", "inv1",
                                                                  "lost")


@pytest.mark.parametrize(("leader", "extra", "kind"), [
    ("00000nas  2200000 i 450 ", [], "periodical"),
    ("00000ngm  2200000 i 450 ", [], "media"),
    ("00000nam  2200000 i 450 ", [("105", "  ", [("a", "y   j   000yy")])], "textbook"),
    ("00000nam  2200000 i 450 ", [("105", "  ", [("a", "y   e   000yy")])], "reference"),
    ("00000nam  2200000 i 450 ", [("606", "  ", [("a", "Математика"),
                                                  ("9", "Учебные издания")])], "textbook"),
    ("00000nam  2200000 i 450 ", [], "book"),
])
def test_item_type(leader, extra, kind):
    raw = rec(leader, ("200", "1 ", [("a", "X")]), ("801", " 0", [("a", "RU")]), *extra)
    assert mapped(raw).item_type == kind


def test_age_parsing():
    assert parse_age("12+") == 12 and parse_age("(6+)") == 6 and parse_age("16") == 16
    assert parse_age("Ages 9-12.") == 9 and parse_age(None) is None
    assert parse_age("Grade 40") is None


@pytest.mark.parametrize(("code", "status"), [
    ("0", "available"), ("1", "on_loan"), ("2", "ordered"), ("3", "bindery"), ("4", "lost"),
    ("5", "not_for_loan"), ("6", "written_off"), ("8", "in_process"), ("9", "reserved"),
    ("C", "not_for_loan"), ("P", "not_for_loan"), ("R", "in_process"), ("U", "not_for_loan"),
    ("", "available"), ("Z", "in_process"),
])
def test_910_status_codes(code, status):
    assert status_of(code) == status


def test_910_rfid_versus_barcode_and_write_back():
    f = DataField("910", " ", " ", [("a", "5"), ("c", "20180613"), ("d", "Ф404"),
                                    ("h", "E00401004E2F3C04")])
    c = read_copy(f)
    assert (c.rfid, c.barcode, c.status, c.status_code, c.sigla) == (
        "E00401004E2F3C04", None, "not_for_loan", "5", "Ф404")
    assert write_copy("910", c, f).subfields == f.subfields  # unchanged → identical
    c.status = "on_loan"
    assert write_copy("910", c, f).get("a") == "1"
    fresh = write_copy("910", CopyData(sigla="S", inventory_number="12", barcode="2000",
                                       status="available"))
    assert fresh.subfields[0] == ("a", "0") and fresh.get("b") == "12" and fresh.get("h") == "2000"


def test_irbis_native_tags_map():
    text = ("#200: ^AПередовые охотники^FИ. Ведерников\n#700: ^AВедерников^BИ.\n"
            "#621: 63.3(2)622\n#331: Охотники выполнили план.\n#900: ^Ta^B12^Z6+\n"
            "#903: 63.3(2)622/В 26-637115870\n#910: ^A1^B42^DФ1^H2000000000015\n*****\n")
    parsed = next(read_irbis_text(io.BytesIO(text.encode())))
    d = to_record_data(parsed, "SCH")
    assert d.bbk == "63.3(2)622" and d.annotation == "Охотники выполнили план."
    assert d.age_rating == "6+" and d.authors == ["Ведерников, И."]
    assert d.key == "903:SCH:63.3(2)622/В 26-637115870"
    assert [(c.sigla, c.inventory_number, c.barcode, c.status) for c in d.copies] == [
        ("Ф1", "42", "2000000000015", "on_loan")]
