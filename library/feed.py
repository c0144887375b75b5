"""The change feed's wire format, shared by the server (server/feed.py builds pages) and the
terminal's replica (kiosk/terminal/replica.py applies them): the columns a page carries for
records and copies, the ``after`` cursor ("r123", "c45") that resumes inside a version, and how
long deletions (tombstones) stay in the feed.

Besides ``records`` and ``copies`` a page carries ``deleted_records`` and ``deleted_copies``
(ids deleted outright on the server) and ``pruned``: the newest version of the tombstones
already dropped. A replica whose cursor is before that (`missed_deletions`) may hold rows
deleted since, so it drops its catalogue and starts again from 0 — unless the cursor is a step
of a full pass from 0 (it then holds only rows live at the time of reading).
A tombstone takes the position (version, kind, id) of the row it replaces, so one cursor covers
both; a tombstone whose id is in use again is left out (the live row supersedes it).
"""

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
# Tombstones older than this are pruned (server start); a replica whose cursor is older than the
# newest pruned one gets ``resync``. Long enough for a terminal switched off over the summer.
TOMBSTONE_DAYS = 180


class BadCursor(IbcError, ValueError):
    """The `after` cursor is malformed."""

    code = "bad_cursor"


def missed_deletions(since: int, after: str, pruned: int) -> bool:
    """True when the cursor (since, after) has not passed every version up to `pruned`."""
    pos = parse_after(after)
    return bool(pruned) and (since, *(pos or (len(KIND), 0))) < (pruned, len(KIND), 0)


def parse_after(after: str) -> tuple[int, int] | None:
    """(kind, id) from "r123"/"c45"; None for an empty cursor."""
    m = AFTER.match(after or "")
    if not m:
        raise BadCursor(after)
    return (KIND[m.group(1)], int(m.group(2))) if m.group(1) else None
