"""The kiosk ports over the library core in this process (`library.search`,
`library.circulation`): used by a terminal with a local database and by ``ibc kiosk --demo``.

Only translation of shapes happens here: search facets become chips; circulation is the
library's `CirculationService` unchanged. No rule is decided in this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import func, select

from kiosk.services import CopyView, FacetValue, Hit, RecordView, SchoolCopies, SearchPage
from library.circulation.values import ReaderView
from library.errors import NotFound
from library.places import PlaceView
from library.places.match import PlaceCache
from library.places.store import record_places
from library.schools import holdings
from library.storage.models import Copy, Loan, Reader, Record, School

if TYPE_CHECKING:
    from config.settings import Settings
    from library.circulation.service import CirculationService
    from library.storage.database import Database
    from library.textbooks.issue import Collected

FACET_KEYS = ("available", "type", "bbk", "age")  # the chips a child can use; authors are many
SCHOOL_CHIP = "school"  # «Только наша школа»: shown when the catalogue holds several schools


def _filters(facets: dict[str, str] | None) -> dict:
    out: dict = {}
    for key, value in (facets or {}).items():
        if key == "available":
            out["available"] = True
        elif key == "type":
            out["types"] = [value]
        elif key != SCHOOL_CHIP:  # the school chip needs the session (LocalCatalogue.search)
            out[key] = value
    return out


def school_copies(rows: list[dict], own: str | None) -> tuple[SchoolCopies, ...]:
    """library.schools.holdings rows as the kiosk's SchoolCopies (`own`: the kiosk's school)."""
    return tuple(SchoolCopies(h["sigla"], h.get("name") or h["sigla"], int(h["available"]),
                              int(h["total"]), h["sigla"] == own) for h in rows)


class LocalCatalogue:
    """`CatalogueService` over `library.search`, the records table and the places
    (`library.places`, reloaded when the librarian changes them); covers from a folder."""

    def __init__(self, db: Database, sigla: str | None = None, covers_dir: Path | None = None,
                 covers_max_bytes: int | None = None):
        self.db = db
        self.sigla = sigla or None
        self.covers_dir = covers_dir
        self.covers_max_bytes = covers_max_bytes
        self.places = PlaceCache(self.sigla)

    def search(self, query: str, *, limit: int = 20, offset: int = 0,
               facets: dict[str, str] | None = None) -> SearchPage:
        """Ranked hits, the corrected query as the suggestion, facet chips."""
        from library.schools import scope
        from library.search import search

        filters = _filters(facets)
        with self.db.session() as s:
            sigla = self.sigla
            several = sigla is not None and (
                s.scalar(select(func.count()).select_from(School)) or 0) > 1
            mine = scope(s, sigla, sigla) if sigla is not None and several else None
            if mine is not None and (facets or {}).get(SCHOOL_CHIP):
                filters["school"] = mine
            res = search(s, query, limit=limit, offset=offset, facets=True, filters=filters,
                         audience="pupil", school=self.sigla, default_school=self.sigla)
            ours = None  # how many of the hits our school holds (the chip's count)
            if mine is not None:
                ours = res.total if "school" in filters else search(
                    s, query, limit=0, filters={**filters, "school": mine},
                    audience="pupil").total
            ids = [h.id for h in res.hits]
            places = record_places(s, self.places.get(s), ids)
            bbks = dict(s.execute(select(Record.id, Record.bbk).where(Record.id.in_(ids))).all()
                        ) if ids else {}
        hits = tuple(Hit(h.id, h.title, tuple(h.authors or ()), h.year, h.isbn, h.available,
                         h.copies, h.shelf, h.type or "book", places.get(h.id), bbks.get(h.id),
                         school_copies(h.schools, self.sigla) if several else ())
                     for h in res.hits)
        chips = []
        if ours is not None and self.sigla is not None:
            chips.append(FacetValue(SCHOOL_CHIP, self.sigla, ours))
        for key in FACET_KEYS:
            for v in (res.facets or {}).get(key, [])[:4]:
                if key == "available" and v["value"] != "yes":
                    continue
                chips.append(FacetValue(key, str(v["value"]), int(v["count"]), v.get("label", "")))
        return SearchPage(query, hits, res.total, res.corrected_query, tuple(chips))

    def record(self, record_id: int) -> RecordView:
        """One record with its copies and the due dates of copies on loan."""
        with self.db.session() as s:
            rec = s.get(Record, record_id)
            if rec is None or rec.deleted:
                raise NotFound(f"record {record_id}")
            dues = dict(s.execute(
                select(Loan.copy_id, Loan.due_date).join(Copy, Loan.copy_id == Copy.id)
                .where(Copy.record_id == record_id, Loan.returned_at.is_(None))).all())
            pm = self.places.get(s)
            copies = tuple(
                CopyView(c.barcode or c.inventory_number or "", c.status, c.shelf_mark or rec.bbk,
                         c.collection, dues.get(c.id),
                         pm.resolve(shelf_mark=c.shelf_mark, collection=c.collection,
                                    bbk=rec.bbk, sigla=c.sigla) if len(pm) else None)
                for c in rec.copies if not self.sigla or c.sigla in (self.sigla, ""))
            held = holdings(s, [rec.id], own=self.sigla, default_sigla=self.sigla).get(rec.id, [])
            schools = school_copies(held, self.sigla)
            return RecordView(rec.id, rec.title, tuple(rec.authors or ()), rec.subtitle,
                              rec.annotation, rec.year, rec.publisher, rec.place, rec.bbk,
                              rec.isbn, rec.age_rating, rec.pages, copies,
                              rec.item_type or "book", schools)

    def new_arrivals(self, limit: int = 6) -> list[Hit]:
        """The most recently added titles that have copies."""
        with self.db.session() as s:
            recs = s.scalars(select(Record).where(Record.deleted.is_(False))
                             .order_by(Record.created_at.desc(), Record.id.desc()).limit(limit))
            out = []
            for r in recs:
                avail = sum(c.status == "available" for c in r.copies)
                out.append(Hit(r.id, r.title, tuple(r.authors or ()), r.year, r.isbn, avail,
                               len(r.copies), r.bbk, r.item_type, bbk=r.bbk))
            return out

    def room(self, room: str | None) -> list[PlaceView]:
        """Every place of a room (for the plan)."""
        with self.db.session() as s:
            return self.places.get(s).room(room)

    def cover(self, isbns: tuple[str, ...], barcodes: tuple[str, ...] = ()) -> Path | None:
        """A cover from the covers folder, by ISBN then by copy barcode."""
        from library.covers import MAX_BYTES, find_cover

        return find_cover(self.covers_dir, isbns, barcodes,
                          max_bytes=self.covers_max_bytes or MAX_BYTES)


class LocalVisits:
    """Counts reader sessions as 'visit' events (`library.reports.record_visit`)."""

    def __init__(self, db: Database, sigla: str | None = None, terminal: str | None = None):
        self.db, self.sigla, self.terminal = db, sigla, terminal

    def record(self, reader: ReaderView) -> None:
        """One visit: only the class and category are stored, never who."""
        from library.reports import record_visit

        with self.db.transaction() as s:
            record_visit(s, sigla=self.sigla, terminal=self.terminal,
                         reader_category=reader.category, reader_class=reader.class_name)


class LocalCollection:
    """`CollectionPort` over `library.textbooks.issue.collect` in this process. The reader is
    looked up again by card: an active reader whose category runs the media station (teachers,
    staff), else ClassSetError ``staff_only``."""

    def __init__(self, service: CirculationService, terminal: str | None = None):
        self.service, self.terminal = service, terminal

    def collect(self, reader: ReaderView, barcode: str, *,
                class_name: str | None = None) -> Collected:
        """Take the copy back (transaction ``ret:{loan}``: once) and name its pupil."""
        from library.access import runs_station
        from library.textbooks.issue import ClassSetError, Collected, collect

        with self.service.db.session() as s:
            row = s.execute(select(Reader.active, Reader.category)
                            .where(Reader.card_number == reader.card)).first()
        if row is None or not row.active or not runs_station(row.category):
            raise ClassSetError("staff_only", "textbook collection needs a teacher's or staff card")
        try:
            return collect(self.service, barcode, class_name=class_name or None,
                           terminal=self.terminal)
        except ClassSetError as exc:
            return Collected.refused(exc)


class CommandContext(Protocol):
    """What `local_services` reads of the `ibc` command's context (ibc.context.Context)."""

    @property
    def settings(self) -> Settings:
        """The validated settings."""
        ...

    @property
    def db(self) -> Database:
        """The configured database, opened."""
        ...


def local_services(ctx: CommandContext, today: Callable[[], dt.date] | None = None,
                   ) -> tuple[LocalCatalogue, CirculationService, LocalVisits]:
    """Catalogue, circulation and visit log over the configured database (the `ibc` Context).

    The circulation back end is `library.circulation.service.CirculationService` itself: the
    kiosk presenters drive it through `library.circulation.flows`.
    """
    from library.circulation.service import CirculationService
    from library.covers import covers_folder

    st = ctx.settings
    covers = covers_folder(st.library.covers_dir, st.data_dir or None)
    return (LocalCatalogue(ctx.db, st.school.sigla, covers, st.library.covers_max_kb * 1024),
            CirculationService.from_settings(ctx.db, st.circulation,
                                             today=today or dt.date.today,
                                             holds_settings=st.holds),
            LocalVisits(ctx.db, st.school.sigla, st.school.id))
