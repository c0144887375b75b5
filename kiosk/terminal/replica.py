"""The terminal's local catalogue replica: pulls the server's change feed into a local database
(library.storage, normally SQLite) and re-indexes search, so searches run locally and keep
working while the server is unreachable. The places (library.places) come along: each sync asks
`GET /places` with the replica's places version and replaces them all, atomically, only when
the server's version differs, so `PlaceMap.load(session)` works on the replica as on the server.

The cursor lives in the replica's own `counters` table ("replica_since", "replica_after"); the
places version in the counter "places".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from library.feed import COPY_COLS, RECORD_COLS, parse_after
from library.storage.models import Copy, Counter, Record

SINCE, AFTER = "replica_since", "replica_after"
log = logging.getLogger("ibc.replica")
_KIND_BITS = 1 << 60


@dataclass
class SyncReport:
    """What one sync did."""

    pages: int = 0
    records: int = 0
    copies: int = 0
    seconds: float = 0.0
    version: int = 0
    places: int | None = None  # places received (None: unchanged, or the server has no /places)
    places_version: int = 0


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

    def __init__(self, db, client, *, page: int = 2000):  # noqa: ANN001
        self.db, self.client, self.page = db, client, page

    def cursor(self) -> tuple[int, str]:
        """(since, after) of the last applied change."""
        with self.db.session() as s:
            vals = dict(s.execute(select(Counter.name, Counter.value)
                                  .where(Counter.name.in_((SINCE, AFTER)))).all())
        return int(vals.get(SINCE, 0)), _decode_after(int(vals.get(AFTER, 0)))

    def sync(self, progress: Callable[[SyncReport], None] | None = None) -> SyncReport:
        """Pull every change since the cursor; raises ServerUnreachable/ApiRefused from the
        client. ``progress(report)`` is called after each page (a first sync takes seconds)."""
        report = SyncReport()
        t0 = time.perf_counter()
        since, after = self.cursor()
        while True:
            page = self.client.changes(since, after, self.page)
            self._apply(page)
            report.pages += 1
            report.records += len(page["records"])
            report.copies += len(page["copies"])
            report.version = page["version"]
            since, after = page["next_since"], page["next_after"]
            if not page["more"]:
                break
            if progress is not None:
                progress(report)
        self._sync_places(report)
        report.seconds = time.perf_counter() - t0
        return report

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

    def _apply(self, page: dict) -> None:
        from library.search import index_records

        recs = [{c: r[c] for c in RECORD_COLS} for r in page["records"]]
        copies = [{c: r[c] for c in COPY_COLS} for r in page["copies"]]
        with self.db.transaction() as s:
            _upsert(s, Record, recs)
            _upsert(s, Copy, copies)
            ids = sorted({r["id"] for r in recs})
            if ids:
                index_records(s, ids)
            _set(s, SINCE, page["next_since"])
            _set(s, AFTER, _encode_after(page["next_after"]))


def _upsert(s, model, rows: list[dict]) -> None:  # noqa: ANN001
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


def _set(s, name: str, value: int) -> None:  # noqa: ANN001
    row = s.get(Counter, name)
    if row is None:
        s.add(Counter(name=name, value=value))
    else:
        row.value = value
