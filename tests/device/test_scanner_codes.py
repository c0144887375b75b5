"""Pure tests of barcode value types: check digits, ISBN, Code 39 mod 43, format names."""

from __future__ import annotations

import pytest

from device.scanner.codes import (
    DEFAULT_FORMATS,
    Barcode,
    Format,
    code39_mod43_valid,
    infer_format,
    is_isbn13,
    is_valid_ean8,
    is_valid_ean13,
    is_valid_upca,
    isbn10_to_isbn13,
    isbn13_to_isbn10,
    mod10_check_digit,
    parse_format,
    parse_formats,
    validate,
)


@pytest.mark.parametrize("value", ["9785170910656", "4607001771418", "9780735200449",
                                   "1920081045006", "8413000065504"])
def test_valid_ean13(value):
    assert is_valid_ean13(value)
    assert mod10_check_digit(value[:12]) == int(value[-1])


@pytest.mark.parametrize("value", ["9785170910657", "978517091065", "97851709106560",
                                   "97851709106a6", "", "９７８５１７０９１０６５６"])
def test_invalid_ean13(value):
    assert not is_valid_ean13(value)


def test_ean8_and_upca():
    assert is_valid_ean8("46009333")
    assert not is_valid_ean8("46009334")
    assert is_valid_upca("036000291452")
    assert not is_valid_upca("036000291453")


def test_isbn_detection_and_conversion():
    assert is_isbn13("9785170910656")
    assert is_isbn13("9791032300824")
    assert not is_isbn13("4607001771418")  # a grocery EAN
    assert not is_isbn13("9785170910657")  # bad check digit
    assert isbn13_to_isbn10("9780140013993") == "0140013997"
    assert isbn13_to_isbn10("9780804816632") == "0804816638"
    assert isbn13_to_isbn10("9780804429573") == "080442957X"
    assert isbn13_to_isbn10("9791032300824") is None  # 979 has no ISBN-10
    assert isbn10_to_isbn13("0-14-001399-7") == "9780140013993"
    assert isbn10_to_isbn13("080442957x") == "9780804429573"
    assert isbn10_to_isbn13("0140013998") is None


def test_barcode_isbn_properties_and_key():
    book = Barcode(Format.EAN13, "9780140013993", points=((10, 20), (110, 20), (110, 60)))
    assert book.is_isbn and book.isbn10 == "0140013997"
    assert book.box == (10, 20, 100, 40)
    assert Barcode(Format.UPCA, "036000291452").key == Barcode(Format.EAN13, "0036000291452").key
    assert Barcode(Format.CODE128, "123").box is None
    assert book.to_dict()["isbn"] is True


def test_code39_mod43():
    # "CODE39" + check: sum of values 12+24+13+14+3+9 = 75 -> 75 % 43 = 32 -> 'W'
    assert code39_mod43_valid("CODE39W")
    assert not code39_mod43_valid("CODE39X")
    assert not code39_mod43_valid("code39W")


def test_validate_rejects_bad_check_digits():
    assert validate(Barcode(Format.EAN13, "9785170910657")) is None
    assert validate(Barcode(Format.EAN8, "46009334")) is None
    assert validate(Barcode(Format.UPCA, "036000291453")) is None
    ok = validate(Barcode(Format.EAN13, "9785170910656", addon="12a"))
    assert ok is not None and ok.addon == ""  # a malformed add-on is dropped, not the code
    assert validate(Barcode(Format.QR, "")) is None


def test_validate_code39_check_only_when_configured():
    plain = Barcode(Format.CODE39, "165627")
    assert validate(plain) == plain
    assert validate(plain, code39_check=True) is None
    checked = validate(Barcode(Format.CODE39, "CODE39W"), code39_check=True)
    assert checked is not None and checked.value == "CODE39"
    assert validate(Barcode(Format.CODE39, "abc")) is None  # not in the Code 39 charset


def test_parse_formats():
    assert parse_formats(None) == DEFAULT_FORMATS
    assert parse_formats("ean-13, qrcode,Code_128") == (Format.EAN13, Format.QR, Format.CODE128)
    assert parse_format("isbn") is Format.EAN13
    with pytest.raises(ValueError, match="неизвестный формат"):
        parse_formats("ean13,foo")
    with pytest.raises(ValueError):
        parse_formats(" , ")


def test_infer_format():
    assert infer_format("9785170910656") is Format.EAN13
    assert infer_format("036000291452") is Format.UPCA
    assert infer_format("46009333") is Format.EAN8
    assert infer_format("R-000123") is Format.UNKNOWN
