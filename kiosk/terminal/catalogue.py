"""A terminal's catalogue: the local replica once it holds the catalogue, the server's API
until then (`RemoteCatalogue`), and covers fetched from the server in the background
(`CoverFetcher`, on the connection monitor's rounds)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kiosk.services import RecordView, SearchPage
from kiosk.terminal.circulation import OfflineRefused

if TYPE_CHECKING:
    from kiosk.local import LocalCatalogue
    from kiosk.terminal.api import ApiClient
    from library.places import PlaceView

_T = TypeVar("_T")


class RemoteCatalogue:
    """`CatalogueService` through the server's API: a terminal's first minutes, before its
    replica holds the catalogue (no facets but «на полке», no room plans, no covers)."""

    def __init__(self, client: ApiClient, school: str | None = None) -> None:
        self.client = client
        self.school = school  # the terminal's school (its enrolment's, else the settings')

    def search(self, query: str, *, limit: int = 20, offset: int = 0,
               facets: dict[str, str] | None = None) -> SearchPage:
        """The server's search; ``available`` and «только наша школа» are the filters it takes
        (the school chip itself needs a count: the replica shows it)."""
        from kiosk.local import school_copies
        from kiosk.services import FacetValue, Hit

        own = bool((facets or {}).get("school"))
        body = self._call(lambda: self.client.search(
            query, limit=limit, offset=offset, facets=True,
            available=bool((facets or {}).get("available")), **({"own_school": True} if own else {})))
        hits = []
        for h in body.get("hits", []):
            held = h.get("schools") or []
            hits.append(Hit(h["id"], h["title"], tuple(h.get("authors") or ()), h.get("year"),
                            h.get("isbn"), int(h.get("available") or 0), int(h.get("copies") or 0),
                            h.get("shelf"), h.get("type") or "book", _place(h),
                            schools=school_copies(held, self.school) if self.school and any(
                                x["sigla"] != self.school for x in held) else ()))
        chips = []
        for v in (body.get("facets") or {}).get("available", []):
            if v.get("value") == "yes":
                chips.append(FacetValue("available", "yes", int(v.get("count") or 0)))
        return SearchPage(query, tuple(hits), int(body.get("total") or 0),
                          body.get("corrected_query"), tuple(chips))

    def record(self, record_id: int) -> RecordView:
        """One record with its copies' status and place."""
        from kiosk.services import CopyView, SchoolCopies
        from kiosk.terminal import ApiRefused
        from library.errors import NotFound

        try:
            r = self._call(lambda: self.client.record(record_id))
        except ApiRefused as exc:
            if exc.status == 404:
                raise NotFound(f"record {record_id}") from exc
            raise
        copies = tuple(CopyView(c.get("barcode") or "", c.get("status") or "available",
                                c.get("shelf"), None, None, _place(c))
                       for c in r.get("copies", []))
        # every school's copies, the terminal's own school named by the server (docs/SCHOOLS.md)
        schools = tuple(SchoolCopies(h["sigla"], h.get("name") or h["sigla"],
                                     int(h.get("available") or 0), int(h.get("total") or 0),
                                     h["sigla"] == r.get("school")) for h in r.get("schools") or ())
        return RecordView(r["id"], r["title"], tuple(r.get("authors") or ()), r.get("subtitle"),
                          r.get("annotation"), r.get("year"), r.get("publisher"), None, None,
                          r.get("isbn"), r.get("age_rating"), None, copies,
                          r.get("item_type") or "book", schools)

    def new_arrivals(self, limit: int = 6) -> list:
        """None before the replica is here (the home screen just shows fewer things)."""
        return []

    def room(self, room: str | None) -> list:
        """No plans without the replica."""
        return []

    def cover(self, isbns: tuple[str, ...], barcodes: tuple[str, ...] = ()) -> None:
        """Generated covers only, until the replica is here."""
        return None

    @staticmethod
    def _call(fn: Callable[[], _T]) -> _T:
        from kiosk.terminal import ServerUnreachable

        try:
            return fn()
        except ServerUnreachable as exc:
            raise OfflineRefused() from exc


def _place(item: dict) -> PlaceView | None:
    from library.places import PlaceView

    if not item.get("place"):
        return None
    name, _sep, note = str(item["place"]).partition(" — ")
    return PlaceView(int(item.get("place_id") or 0), name, note or None, None, None)


class CoverFetcher:
    """Covers for a terminal: the librarian drops them on the server (`GET /covers/{key}`); the
    kiosk asks for the ones it wanted to show, on the connection thread, a few per round, and
    keeps them in its own folder, where the catalogue finds them next time. The UI never waits
    for a cover: a row shows its generated cover until the file is here."""

    PER_ROUND = 20
    MAX_WANTED = 200
    RETRY_S = 3600.0  # a key the server has no cover for is asked again after an hour

    def __init__(self, folder: Path, client: ApiClient) -> None:
        self.folder = Path(folder)
        self.client = client
        self._wanted: dict[str, None] = {}  # insertion-ordered set
        self._missing: dict[str, float] = {}
        self._lock = threading.Lock()

    def want(self, keys: list[str]) -> None:
        """Ask for these keys (any thread); a full list drops the request, not the UI."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                if len(self._wanted) >= self.MAX_WANTED:
                    break
                if now - self._missing.get(key, -self.RETRY_S) >= self.RETRY_S:
                    self._wanted.setdefault(key, None)

    def fetch_some(self) -> int:
        """Fetch up to PER_ROUND wanted covers (the connection thread); returns how many came."""
        from library.covers import media_type

        with self._lock:
            keys = list(self._wanted)[: self.PER_ROUND]
        got = 0
        for key in keys:
            data = self.client.cover(key)  # ServerUnreachable: the round stops, keys stay
            with self._lock:
                self._wanted.pop(key, None)
                if data is None or media_type(data) is None:
                    self._missing[key] = time.monotonic()
                    continue
            ext = ".png" if media_type(data) == "image/png" else ".jpg"
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{key}{ext}.part"
            tmp.write_bytes(data)
            os.replace(tmp, self.folder / f"{key}{ext}")  # atomic: never a half-written cover
            got += 1
        return got


class TerminalCatalogue:
    """The local replica once it holds the catalogue, the server's API until then: a terminal
    starts at once and its first search never waits for the first sync. Covers come from the
    terminal's cover folder; missing ones are asked of the server in the background."""

    def __init__(self, local: LocalCatalogue, remote: RemoteCatalogue, ready: Callable[[], bool],
                 covers: CoverFetcher | None = None) -> None:
        self.local, self.remote, self.ready, self.covers = local, remote, ready, covers

    def _pick(self) -> LocalCatalogue | RemoteCatalogue:
        return self.local if self.ready() else self.remote

    def search(self, query: str, **kwargs: Any) -> SearchPage:
        """Search where the catalogue is."""
        return self._pick().search(query, **kwargs)

    def record(self, record_id: int) -> RecordView:
        """One record."""
        return self._pick().record(record_id)

    def new_arrivals(self, limit: int = 6) -> list:
        """The newest titles (the replica's)."""
        return self._pick().new_arrivals(limit)

    def room(self, room: str | None) -> list:
        """The places of a room."""
        return self._pick().room(room)

    def cover(self, isbns: tuple[str, ...], barcodes: tuple[str, ...] = ()) -> Path | None:
        """A cover file from the terminal's folder; else the server is asked for it later."""
        found = self.local.cover(isbns, barcodes)
        if found is None and self.covers is not None:
            from library.covers import isbn_keys, valid_key

            self.covers.want(isbn_keys(isbns)[:1] + [b for b in barcodes[:1] if valid_key(b)])
        return found
