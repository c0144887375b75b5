"""Encoding detection, format detection, ISBN helpers, MARCXML and ИРБИС text readers."""

from __future__ import annotations

import io

import pytest
from marc_fixtures import M21_LEADER, rusmarc

from library import isbn
from library.marc import encoding as enc
from library.marc.formats import family, flavour, sniff
from library.marc.irbis_text import read_irbis_text
from library.marc.marcxml import read_marcxml
from library.marc.reader import read_iso2709


def test_leader_09_a_means_utf8():
    assert enc.detect("Кириллица".encode(), M21_LEADER, "marc21") == "utf-8"


@pytest.mark.parametrize(("raw", "fam", "want"), [
    ("Задачи и этюды".encode("cp1251"), "unimarc", "cp1251"),
    ("Задачи и этюды".encode(), "unimarc", "utf-8"),
    (b"plain ascii", "unimarc", "utf-8"),
    (b"plain ascii", "marc21", "marc-8"),
    (b"Esc \x1b(NmOSKWA\x1b(B", "marc21", "marc-8"),
    ("Основы расчета".encode("cp1251"), "marc21", "cp1251"),
    (b"Caf\xe2e", "marc21", "marc-8"),  # ANSEL combining acute before the letter
    ("Café".encode(), "marc21", "utf-8"),
])
def test_detect(raw, fam, want):
    assert enc.detect(raw, "00000nam  2200000 i 4500", fam) == want


def test_family_and_flavour():
    assert family({"001", "245"}) == "marc21"
    assert family({"001", "200", "801"}) == "unimarc"
    assert family({"001", "008"}) == "marc21"
    assert family({"010", "700"}) == "unimarc"
    r = next(read_iso2709(io.BytesIO(rusmarc(1)))).record
    assert flavour(r) == "rusmarc"


def test_sniff():
    assert sniff(b"\xef\xbb\xbf<?xml") == "marcxml"
    assert sniff(b"01234nam") == "iso2709"
    assert sniff(b"#200: ^AX") == "irbis-text"
    assert sniff(b"hello") is None


def test_isbn_helpers():
    assert isbn.normalise("ISBN 5-17-015240-x (в пер.)") == "517015240X"
    assert isbn.to_isbn13("517015240X") == "9785170152407"
    assert isbn.to_isbn10("9785170152407") == "517015240X"
    assert isbn.variants("5-17-015240-X") == ["517015240X", "9785170152407"]
    assert isbn.is_valid("9785170152407") and not isbn.is_valid("9785170152408")
    assert isbn.preferred(["5170152408", "517015240X"]) == "9785170152407"
    assert isbn.normalise("no isbn here") is None
    assert isbn.variants("5-7443-00-20-1") == ["5744300201", "9785744300203"]


XML = """<?xml version="1.0" encoding="UTF-8"?>
<collection xmlns="http://www.loc.gov/MARC21/slim">
 <record><leader>00000nam a2200000 i 4500</leader>
  <controlfield tag="001">x1</controlfield>
  <datafield tag="245" ind1="1" ind2="0"><subfield code="a">Вор &amp; шпион</subfield></datafield>
 </record>
 <record><leader>short</leader><datafield tag="245" ind1=" " ind2=" "/></record>
 <record><leader>00000nam  2200000 i 450 </leader>
  <datafield tag="200" ind1="1" ind2=" "><subfield code="a">Гунны</subfield></datafield>
 </record>
</collection>"""


def test_marcxml_streams_records_with_offsets_and_errors():
    data = XML.encode("utf-8")
    got = list(read_marcxml(io.BytesIO(data), chunk_size=50))
    assert [p.ordinal for p in got] == [1, 2, 3]
    assert got[0].record.first("245").get("a") == "Вор & шпион"
    assert data[got[0].offset:].startswith(b"<record>")
    assert "bad leader" in got[1].error
    assert got[2].record.first("200").get("a") == "Гунны"
    assert got[2].raw.startswith(b"0")  # stored as ISO 2709


def test_marcxml_without_namespace_and_broken_xml():
    plain = XML.replace(' xmlns="http://www.loc.gov/MARC21/slim"', "")
    assert len([p for p in read_marcxml(io.BytesIO(plain.encode())) if p.record]) == 2
    broken = XML.replace("</collection>", "<record><leader>")[:-3]
    got = list(read_marcxml(io.BytesIO(broken.encode())))
    assert "XML error at line" in got[-1].error
    assert len([p for p in got if p.record]) == 2


IRBIS = """#200: ^VКн. 3^AСтранные люди
#10: ^A5-86150-048-7^D80
#610: РУССКАЯ ЛИТЕРАТУРА
#1119: 7ef4c9af
#910: ^A0^B1759089^DФ104^U2018/45^Y45^C20180607
*****
#200: ^AВторая
#700 ^AБез двоеточия
*****
#200: ^AТретья

#101: rus
*****
"""


def test_irbis_text_records_and_line_numbered_errors():
    for encoding in ("utf-8", "cp1251"):
        got = list(read_irbis_text(io.BytesIO(IRBIS.encode(encoding))))
        assert [p.ordinal for p in got] == [1, 2, 3]
        first = got[0].record
        assert got[0].encoding == encoding
        assert first.first("200").subfields == [("v", "Кн. 3"), ("a", "Странные люди")]
        assert first.first("010").get("a") == "5-86150-048-7"
        assert first.first("610").get("a") == "РУССКАЯ ЛИТЕРАТУРА"
        assert "111" not in first.tags() and "1119" not in first.tags()
        assert got[1].error == "line 8: no ':' after the tag in '#700 ^AБез двоеточия'"
        assert got[2].error == "line 11: empty line inside the record"
        assert got[1].offset == IRBIS.encode(encoding).index("#200: ^AВторая".encode(encoding))
