"""The change feed's wire format, shared by the server (server/feed.py builds pages) and the
terminal's replica (kiosk/terminal/replica.py applies them): the columns a page carries for
records and copies, and the ``after`` cursor ("r123", "c45") that resumes inside a version."""

from __future__ import annotations

import re

from library.errors import IbcError

RECORD_COLS = ("id", "key", "source_format", "title", "subtitle", "responsibility", "authors",
               "publisher", "place", "year", "isbn", "isbns", "subjects", "udc", "bbk", "annotation",
               "language", "age_rating", "age_min", "item_type", "pages", "popularity", "version",
               "deleted")
COPY_COLS = ("id", "record_id", "sigla", "inventory_number", "barcode", "rfid", "shelf_mark",
             "collection", "status", "status_code", "version")
AFTER = re.compile(r"^(?:([rc])(\d{1,18}))?$")
KIND = {"r": 0, "c": 1}


class BadCursor(IbcError, ValueError):
    """The `after` cursor is malformed."""

    code = "bad_cursor"


def parse_after(after: str) -> tuple[int, int] | None:
    """(kind, id) from "r123"/"c45"; None for an empty cursor."""
    m = AFTER.match(after or "")
    if not m:
        raise BadCursor(after)
    return (KIND[m.group(1)], int(m.group(2))) if m.group(1) else None
