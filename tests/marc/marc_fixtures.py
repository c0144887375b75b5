"""Helpers for the MARC tests: building ISO 2709 records from fields."""

from __future__ import annotations

from library.marc.iso2709 import encode_record
from library.marc.model import ControlField, DataField, MarcRecord


def rec(leader: str, *fields, encoding: str = "utf-8") -> bytes:
    """ISO 2709 bytes from ('001', 'value') and ('200', '1 ', [('a', 'x')]) tuples."""
    out = []
    for f in fields:
        if len(f) == 2:
            out.append(ControlField(f[0], f[1]))
        else:
            out.append(DataField(f[0], f[1][0], f[1][1], list(f[2])))
    return encode_record(MarcRecord(leader, out), encoding)


RUS_LEADER = "00000nam  2200000 i 450 "
M21_LEADER = "00000nam a2200000 i 4500"


def isbn10(n: int) -> str:
    """A valid ISBN-10 for book number `n` ("5-17-NNNNNN-C"): books of two schools that must
    stay apart need different ISBNs (the union import, library/marc/union.py)."""
    body = f"517{n:06d}"
    check = (11 - sum((10 - i) * int(d) for i, d in enumerate(body)) % 11) % 11
    return f"5-17-{n:06d}-{'X' if check == 10 else check}"


def rusmarc(n: int, *, title: str | None = None, copies: int = 1, extra=(), encoding="cp1251",
            ident: str | None = None, isbn: str = "5-17-015240-X") -> bytes:
    """A small ИРБИС-like RUSMARC record number `n` with `copies` 910 fields."""
    fields = [("001", ident or f"RU\\TEST\\{n}"),
              ("010", "  ", [("a", isbn)]),
              ("100", "  ", [("a", "20240101d2002    u  y0rusy0189    ca")]),
              ("101", "0 ", [("a", "rus")]),
              ("200", "1 ", [("a", title or f"Книга номер {n}"), ("f", "И. Иванов")]),
              ("210", "  ", [("a", "М."), ("c", "АСТ"), ("d", "2002")]),
              ("700", " 1", [("a", "Иванов"), ("g", "Иван Иванович")]),
              *extra]
    for k in range(copies):
        fields.append(("910", "  ", [("a", "0"), ("b", f"{n}-{k}"), ("h", f"2{n:06d}{k:02d}")]))
    return rec(RUS_LEADER, *fields, encoding=encoding)
