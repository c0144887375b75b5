"""Catalogue records as MARCXML (MARC21 slim syntax) for a page of record ids: what SRU answers.

Two record schemas, one per MARC family:

- ``rusmarc``: a record imported as RUSMARC/UNIMARC/ИРБИС is the stored MARC as it was imported
  (Record.marc), its holdings fields (910) regenerated from the copies as `ibc export` does; a
  record imported as MARC21 is built as RUSMARC from its stored columns (title, authors, ...).
- ``marc21``: a record imported as MARC21 is the stored MARC (holdings 852/952 from the copies);
  a RUSMARC record is built as MARC21 from its stored columns (library.marc.export.synthesise):
  no field-by-field RUSMARC→MARC21 conversion is attempted, so fields the columns do not keep
  (notes, series, links, classification beyond УДК/ББК) are not in it.

The same code paths as the export (library.marc.export): one way to turn a record into MARC.

What is published (SRU, the Z39.50 register: library/marc/zebra.py) is `public(rec, family)`: no
holdings fields (the copies are told per school beside the record), no local fields and no notes
that name people — the one list of private fields, PRIVATE_TAGS. `xml_text` serialises a record
without the characters XML 1.0 forbids (a stray control character in one title must not make a
whole answer unreadable).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any, cast
from xml.etree import ElementTree

from sqlalchemy import select
from sqlalchemy.orm import Session

from library.marc.export import mark_encoding, rebuild, stored_record, synthesise, to_pymarc
from library.marc.model import DataField, MarcRecord, RecordError
from library.storage.models import Copy, Record

FAMILIES = ("rusmarc", "marc21")
R = Record.__table__
C = Copy.__table__
_COLS = ("id", "key", "source_format", "marc", "marc_encoding", "title", "subtitle",
         "responsibility", "authors", "publisher", "place", "year", "isbns", "subjects", "udc",
         "bbk", "annotation", "language", "age_rating")


# Fields never published: holdings (MARC21 852, RUSMARC 899; ИРБИС 910 and Koha 952 are 9XX) and
# local fields (MARC21 59X notes, 9XX in both: ИРБИС 907 cataloguers, 910 copies, …), and the
# notes that name people by design — MARC21 541 source of acquisition (a donor, a parent), 561
# ownership history, 583 action note (who checked, repaired, wrote off); RUSMARC 316 copy note,
# 317 provenance, 318 action note.
PRIVATE_TAGS = {"marc21": frozenset({"541", "561", "583", "852"}),
                "rusmarc": frozenset({"316", "317", "318", "899"})}
# Characters XML 1.0 forbids (C0 controls but tab, LF, CR; U+FFFE, U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def is_private(f: object, family: str) -> bool:
    """True for a field of `family` that is never published (PRIVATE_TAGS, 9XX, MARC21 59X)."""
    return isinstance(f, DataField) and (f.tag in PRIVATE_TAGS[family] or f.tag[:1] == "9"
                                         or (family == "marc21" and f.tag[:2] == "59"))


def public(rec: MarcRecord, family: str) -> MarcRecord:
    """The record of `family` without the fields never published."""
    return MarcRecord(rec.leader, [f for f in rec.fields if not is_private(f, family)])


def xml_text(node: ElementTree.Element) -> str:
    """A MARCXML element as text without the characters XML 1.0 forbids."""
    return _NOT_XML.sub("", ElementTree.tostring(node, encoding="unicode"))


def family_of(source_format: str | None) -> str:
    """The MARC family of a record's source format (as the export counts it)."""
    return "marc21" if source_format == "marc21" else "rusmarc"


def records_marc(session: Session, record_ids: Iterable[int],
                 family: str) -> dict[int, MarcRecord | None]:
    """``{record_id: MarcRecord}`` in `family` (rusmarc or marc21, UTF-8 marks) for the live (not
    deleted) records among `record_ids`, holdings regenerated from the copies as the export does;
    None for a record whose stored MARC cannot be read (the caller reports it per record)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown MARC family {family!r}")
    ids = sorted({int(i) for i in record_ids})
    if not ids:
        return {}
    rows = session.execute(select(*(R.c[c] for c in _COLS))
                           .where(R.c.id.in_(ids), R.c.deleted.is_(False))).all()
    copies: dict[int, list[Any]] = {}
    for c in session.execute(select(C).where(C.c.record_id.in_(ids)).order_by(C.c.id)):
        copies.setdefault(c.record_id, []).append(c)
    out: dict[int, MarcRecord | None] = {}
    for row in rows:
        try:
            if row.marc and family_of(row.source_format) == family:
                rec = stored_record(row.marc, row.marc_encoding)
            else:  # built from the stored columns, in the family asked for
                values = {c: getattr(row, c) for c in _COLS}
                values["source_format"] = family
                rec = synthesise(cast(Any, SimpleNamespace(**values)))
            rec = rebuild(rec, row.source_format if family_of(row.source_format) == family
                          else family, copies.get(row.id, []))
            out[row.id] = mark_encoding(rec, family, "utf-8")
        except (RecordError, ValueError):
            out[row.id] = None
    return out


def records_xml(session: Session, record_ids: Iterable[int], family: str) -> dict[int, str | None]:
    """``{record_id: <record xmlns="http://www.loc.gov/MARC21/slim">…</record>}`` in `family`
    (rusmarc or marc21) for the live (not deleted) records among `record_ids`, as published
    (`public`, `xml_text`); None for a record whose stored MARC cannot be read (the caller
    reports it per record)."""
    import pymarc

    out: dict[int, str | None] = {}
    for rid, rec in records_marc(session, record_ids, family).items():
        if rec is None:
            out[rid] = None
            continue
        try:
            node = pymarc.record_to_xml_node(to_pymarc(public(rec, family)), namespace=True)
        except (RecordError, ValueError):
            out[rid] = None
            continue
        out[rid] = xml_text(node)
    return out
