"""The flat form of a mapped record: what the reader process hands to the writer.

A `RecordData` is flattened into one tuple whose slots 1-21 are the Record columns in
`RECORD_COLS` order, ready for the database driver: the three JSON columns are already
serialised (exactly as SQLAlchemy's JSON type would: `json.dumps` with its defaults) and the
MARC bytes are kept as they are. Copies become tuples in `COPY_COLS` order, already cut to the
column widths. Plain tuples of str/int/bytes pickle and unpickle several times faster than
dataclasses with slots (the reader process sends every record through a pipe), and the writer
builds its executemany parameters from them with tuple slicing instead of per-column Python.

    (key, source_format, title, ..., marc, marc_encoding, copies, union_key)
"""

from __future__ import annotations

import json

from library.marc.model import RecordData

RECORD_COLS = ("source_format", "title", "subtitle", "responsibility", "authors", "publisher",
               "place", "year", "isbn", "isbns", "subjects", "udc", "bbk", "annotation",
               "language", "age_rating", "age_min", "item_type", "pages", "marc",
               "marc_encoding")
JSON_COLS = frozenset({"authors", "isbns", "subjects"})
# Positions inside the flat tuple.
KEY = 0
FORMAT = 1
COLS = slice(1, 1 + len(RECORD_COLS))
COPIES = 1 + len(RECORD_COLS)
UNION = COPIES + 1  # the union key (library.marc.union), or None
JSON_POS = tuple(1 + RECORD_COLS.index(c) for c in sorted(JSON_COLS))

COPY_COLS = ("sigla", "inventory_number", "barcode", "rfid", "shelf_mark", "collection",
             "status", "status_code", "price", "received", "note")
COPY_LIMITS = (32, 64, 64, 64, 255, 255, 16, 4, 32, 16, 500)
# Positions inside a copy tuple.
C_SIGLA, C_INV, C_BARCODE, C_RFID, C_STATUS = 0, 1, 2, 3, 6

FlatRecord = tuple

_dumps = json.dumps
_quote = json.encoder.encode_basestring_ascii  # what json.dumps uses for str (ensure_ascii)


def _json_strs(values: list) -> str:
    """json.dumps(values) for a list of str, without json.dumps' per-call encoder set-up."""
    if not values:
        return "[]"
    try:
        return "[" + ", ".join(map(_quote, values)) + "]"
    except TypeError:  # not all str: the general path
        return _dumps(values)


def flatten(d: RecordData) -> FlatRecord:
    """The flat tuple of a mapped record (see the module docstring)."""
    copies = []
    for c in d.copies:
        values = [c.sigla, c.inventory_number, c.barcode, c.rfid, c.shelf_mark, c.collection,
                  c.status, c.status_code, c.price, c.received, c.note]
        for i, n in enumerate(COPY_LIMITS):
            v = values[i]
            if v is not None and len(v) > n:
                values[i] = v[:n]
        copies.append(tuple(values))
    return (d.key, d.source_format, d.title, d.subtitle, d.responsibility, _json_strs(d.authors),
            d.publisher, d.place, d.year, d.isbn, _json_strs(d.isbns), _json_strs(d.subjects), d.udc,
            d.bbk, d.annotation, d.language, d.age_rating, d.age_min, d.item_type, d.pages,
            d.marc, d.marc_encoding, tuple(copies), d.union_key)


def record_dict(flat: FlatRecord) -> dict:
    """The Record columns of a flat record as Python values (JSON columns parsed back)."""
    row = dict(zip(RECORD_COLS, flat[COLS]))
    for c in JSON_COLS:
        row[c] = json.loads(row[c])
    return row
