"""The terminal's local catalogue replica: pulls the server's change feed into a local database
(library.storage, normally SQLite) and re-indexes search, so searches run locally and keep
working while the server is unreachable. The places (library.places) come along: each sync asks
`GET /places` with the replica's places version and replaces them all, atomically, only when
the server's version differs, so `PlaceMap.load(session)` works on the replica as on the server.

The cursor lives in the replica's own `counters` table ("replica_since", "replica_after"); the
places version in the counter "places". Deletions come as ids (`deleted_records`,
`deleted_copies`): the rows and their search documents go in the page's transaction. When a
page says the server already dropped tombstones the cursor has not passed (`pruned`, after
library.feed.TOMBSTONE_DAYS), the replica empties its catalogue and search index and pulls
everything again from version 0. A pass from version 0 is marked in the counter "replica_full"
until it catches up, so its own steps (older than `pruned`) never count as an old cursor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from library.feed import COPY_COLS, RECORD_COLS, missed_deletions, parse_after
from library.storage.models import Copy, Counter, Record, Tombstone

if TYPE_CHECKING:
    from kiosk.terminal.api import ApiClient
    from library.storage.database import Database

SINCE, AFTER, FULL = "replica_since", "replica_after", "replica_full"
log = logging.getLogger("ibc.replica")
_KIND_BITS = 1 << 60


@dataclass
class SyncReport:
    """What one sync did."""

    pages: int = 0
    records: int = 0
    copies: int = 0
    deleted: int = 0  # records and copies removed
    resynced: bool = False  # started again from version 0 (the cursor missed pruned deletions)
    seconds: float = 0.0
    version: int = 0
    places: int | None = None  # places received (None: unchanged, or the server has no /places)
    places_version: int = 0
    schools: int = 0  # school rows the sync changed (names for the record page)


def _encode_after(after: str) -> int:
    pos = parse_after(after)
    return 0 if pos is None else pos[0] * _KIND_BITS + pos[1] + 1


def _decode_after(value: int) -> str:
    if not value:
        return ""
    value -= 1
    return f"{'rc'[value // _KIND_BITS]}{value % _KIND_BITS}"


class Replica:
    """Keeps `db` (the terminal's local database) in step with the server through `client`."""

    def __init__(self, db: Database, client: ApiClient, *, page: int = 2000):
        self.db, self.client, self.page = db, client, page

    def cursor(self) -> tuple[int, str]:
        """(since, after) of the last applied change."""
        return self._cursor()[:2]

    def _cursor(self) -> tuple[int, str, bool]:
        """(since, after, in a full pass from version 0)."""
        with self.db.session() as s:
            vals = dict(s.execute(select(Counter.name, Counter.value)
                                  .where(Counter.name.in_((SINCE, AFTER, FULL)))).all())
        since, after = int(vals.get(SINCE, 0)), _decode_after(int(vals.get(AFTER, 0)))
        return since, after, bool(vals.get(FULL)) or (since, after) == (0, "")

    def sync(self, progress: Callable[[SyncReport], None] | None = None) -> SyncReport:
        """Pull every change since the cursor; raises ServerUnreachable/ApiRefused from the
        client. ``progress(report)`` is called after each page (a first sync takes seconds)."""
        report = SyncReport()
        t0 = time.perf_counter()
        since, after, full = self._cursor()
        while True:
            page = self.client.changes(since, after, self.page)
            if not full and missed_deletions(since, after, int(page.get("pruned") or 0)):
                log.warning("replica: cursor %s/%s is older than the server's tombstones: "
                            "full resync", since, after)
                self._wipe()
                report.resynced = full = True
                since, after = 0, ""
                continue
            self._apply(page, full)
            report.pages += 1
            report.records += len(page["records"])
            report.copies += len(page["copies"])
            report.deleted += len(page.get("deleted_records", ())) + len(page.get("deleted_copies", ()))
            report.version = page["version"]
            since, after = page["next_since"], page["next_after"]
            if not page["more"]:
                break
            if progress is not None:
                progress(report)
        self._sync_places(report)
        self._sync_schools(report)
        report.seconds = time.perf_counter() - t0
        return report

    def _sync_schools(self, report: SyncReport) -> None:
        """Keep the server's schools (sigla, name): the record page names who else holds a
        book (library.schools.holdings on the replica; docs/SCHOOLS.md)."""
        from kiosk.terminal.api import ApiRefused
        from library.schools import mirror_schools

        fetch = getattr(self.client, "schools", None)
        if fetch is None:  # a client without schools (scripted test clients)
            return
        try:
            page = fetch()
        except ApiRefused as exc:
            if exc.status == 404:  # an older server without schools: names stay siglas
                return
            raise
        try:
            rows = [(str(r["sigla"]), str(r["name"])) for r in page.get("schools", [])]
        except (KeyError, TypeError, AttributeError) as exc:
            log.warning("replica: schools from the server not applied: %s", exc)
            return
        with self.db.transaction() as s:
            report.schools = mirror_schools(s, rows)

    def _sync_places(self, report: SyncReport) -> None:
        """Replace the replica's places when the server's version differs from ours."""
        from kiosk.terminal.api import ApiRefused
        from library.places.errors import PlacesError
        from library.places.match import RuleSpec
        from library.places.spec import PlaceSpec
        from library.places.store import mirror_places, places_version

        fetch = getattr(self.client, "places", None)
        if fetch is None:  # a client without places (scripted test clients)
            return
        with self.db.session() as s:
            known = places_version(s)
        try:
            page = fetch(known)
        except ApiRefused as exc:
            if exc.status == 404:  # an older server without places: keep what we have
                return
            raise
        report.places_version = int(page.get("version", known))
        if not page.get("changed"):
            return
        try:
            rows = [(int(p["id"]), str(p["sigla"]), PlaceSpec(
                p["name"], p.get("note"), p.get("room"),
                tuple(p["box"]) if p.get("box") else None, int(p.get("sort") or 0),
                tuple(RuleSpec(r.get("collection"), r.get("shelf"), r.get("bbk"),
                               r.get("letters"), bool(r.get("fallback")))
                      for r in p.get("rules", []))))
                for p in page.get("places", [])]
            with self.db.transaction() as s:
                report.places = mirror_places(s, rows, report.places_version)
        except (PlacesError, KeyError, TypeError, ValueError, AttributeError) as exc:
            # A places list we cannot use must not stop the catalogue sync: keep the old one.
            log.warning("replica: places from the server not applied: %s", exc)
            report.places = None

    def _wipe(self) -> None:
        """Empty the catalogue, its search index and the cursor (before a full resync)."""
        from library.search import reindex_all

        with self.db.transaction() as s:
            s.execute(delete(Copy))
            s.execute(delete(Record))
            s.execute(delete(Tombstone))
            reindex_all(s)  # of no records: an empty index
            _set(s, SINCE, 0)
            _set(s, AFTER, 0)
            _set(s, FULL, 1)

    def _apply(self, page: dict, full: bool) -> None:
        from library.search import index_records

        recs = [{c: r[c] for c in RECORD_COLS} for r in page["records"]]
        copies = [{c: r[c] for c in COPY_COLS} for r in page["copies"]]
        gone_recs = [int(i) for i in page.get("deleted_records", ())]
        gone_copies = [int(i) for i in page.get("deleted_copies", ())]
        with self.db.transaction() as s:
            # deletions first: a new copy may take the barcode of one deleted in the same page
            touched = _delete(s, gone_recs, gone_copies)
            _upsert(s, Record, recs)
            _upsert(s, Copy, copies)
            ids = sorted({r["id"] for r in recs} | touched)
            if ids:
                index_records(s, ids)  # deleted records leave the index, parents get new counts
            _set(s, SINCE, page["next_since"])
            _set(s, AFTER, _encode_after(page["next_after"]))
            _set(s, FULL, int(full and bool(page["more"])))  # a full pass ends when caught up


def _delete(s: Session, record_ids: list[int], copy_ids: list[int]) -> set[int]:
    """Delete these records (with their copies) and copies; returns the records to re-index."""
    if not (record_ids or copy_ids):
        return set()
    touched = set(record_ids)
    for n in range(0, len(copy_ids), 900):
        part = copy_ids[n:n + 900]
        touched.update(s.scalars(select(Copy.record_id).where(Copy.id.in_(part))))
        s.execute(delete(Copy).where(Copy.id.in_(part)))
    for n in range(0, len(record_ids), 900):
        part = record_ids[n:n + 900]
        s.execute(delete(Copy).where(Copy.record_id.in_(part)))
        s.execute(delete(Record).where(Record.id.in_(part)))
    # the replica's own delete triggers wrote tombstones: a replica serves no feed
    s.execute(delete(Tombstone))
    return touched


def _upsert(s: Session, model: type[Record] | type[Copy], rows: list[dict]) -> None:
    if not rows:
        return
    ids = [r["id"] for r in rows]
    have: set[int] = set()
    for n in range(0, len(ids), 900):
        have.update(s.scalars(select(model.id).where(model.id.in_(ids[n:n + 900]))))
    new = [r for r in rows if r["id"] not in have]
    old = [r for r in rows if r["id"] in have]
    if new:
        s.execute(insert(model), new)
    if old:
        s.execute(update(model), old)


def _set(s: Session, name: str, value: int) -> None:
    row = s.get(Counter, name)
    if row is None:
        s.add(Counter(name=name, value=value))
    else:
        row.value = value
