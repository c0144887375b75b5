"""The kiosk ports over the library core in this process (`library.search`,
`library.circulation`): used by a terminal with a local database and by ``ibc kiosk --demo``.

Only translation of shapes happens here: search facets become chips; circulation is the
library's `CirculationService` unchanged. No rule is decided in this module.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from kiosk.services import CopyView, FacetValue, Hit, RecordView, SearchPage
from library.circulation.service import ReaderView
from library.errors import NotFound
from library.storage.models import Copy, Loan, Record

FACET_KEYS = ("available", "type", "bbk", "age")  # the chips a child can use; authors are many


def _filters(facets: dict[str, str] | None) -> dict:
    out: dict = {}
    for key, value in (facets or {}).items():
        if key == "available":
            out["available"] = True
        elif key == "type":
            out["types"] = [value]
        else:
            out[key] = value
    return out


class LocalCatalogue:
    """`CatalogueService` over `library.search` and the records table."""

    def __init__(self, db):  # noqa: ANN001 - library.storage.database.Database
        self.db = db

    def search(self, query: str, *, limit: int = 20, offset: int = 0,
               facets: dict[str, str] | None = None) -> SearchPage:
        """Ranked hits, the corrected query as the suggestion, facet chips."""
        from library.search import search

        with self.db.session() as s:
            res = search(s, query, limit=limit, offset=offset, facets=True,
                         filters=_filters(facets), audience="pupil")
        hits = tuple(Hit(h.id, h.title, tuple(h.authors or ()), h.year, h.isbn, h.available,
                         h.copies, h.shelf, h.type or "book") for h in res.hits)
        chips = []
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
            copies = tuple(CopyView(c.barcode or c.inventory_number or "", c.status,
                                    c.shelf_mark or rec.bbk, c.collection, dues.get(c.id))
                           for c in rec.copies)
            return RecordView(rec.id, rec.title, tuple(rec.authors or ()), rec.subtitle,
                              rec.annotation, rec.year, rec.publisher, rec.place, rec.bbk,
                              rec.isbn, rec.age_rating, rec.pages, copies)

    def new_arrivals(self, limit: int = 6) -> list[Hit]:
        """The most recently added titles that have copies."""
        with self.db.session() as s:
            recs = s.scalars(select(Record).where(Record.deleted.is_(False))
                             .order_by(Record.created_at.desc(), Record.id.desc()).limit(limit))
            out = []
            for r in recs:
                avail = sum(c.status == "available" for c in r.copies)
                out.append(Hit(r.id, r.title, tuple(r.authors or ()), r.year, r.isbn, avail,
                               len(r.copies), r.bbk, r.item_type))
            return out


class LocalVisits:
    """Counts reader sessions as 'visit' events (`library.reports.record_visit`)."""

    def __init__(self, db, sigla: str | None = None, terminal: str | None = None):  # noqa: ANN001
        self.db, self.sigla, self.terminal = db, sigla, terminal

    def record(self, reader: ReaderView) -> None:
        """One visit: only the class and category are stored, never who."""
        from library.reports import record_visit

        with self.db.transaction() as s:
            record_visit(s, sigla=self.sigla, terminal=self.terminal,
                         reader_category=reader.category, reader_class=reader.class_name)


def local_services(ctx, today=None):  # noqa: ANN001, ANN201
    """Catalogue, circulation and visit log over the configured database (the `ibc` Context).

    The circulation back end is `library.circulation.service.CirculationService` itself: the
    kiosk presenters drive it through `library.circulation.flows`.
    """
    from ibc.wiring import circulation

    st = ctx.settings
    return (LocalCatalogue(ctx.db), circulation(ctx, today=today or dt.date.today),
            LocalVisits(ctx.db, st.school.sigla, st.school.id))
