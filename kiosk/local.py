"""The kiosk ports over the library core in this process (`library.search`,
`library.circulation`): used by a terminal with a local database and by ``ibc kiosk --demo``.

Only translation of shapes happens here: domain refusals (`CirculationError.code`) become
result codes, search facets become chips. No rule is decided in this module.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from kiosk.services import (
    CheckinResult, CheckoutResult, CopyView, FacetValue, Hit, LoanView, ReaderView, RecordView,
    RenewResult, SearchPage,
)
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


class LocalCirculation:
    """`CirculationPort` over `library.circulation.service.CirculationService`."""

    def __init__(self, service, terminal: str | None = None):  # noqa: ANN001
        self.service = service
        self.terminal = terminal

    @staticmethod
    def _txn() -> str:
        return uuid.uuid4().hex

    def reader_by_card(self, card: str) -> ReaderView:
        """The reader, or NotFound for an unknown card."""
        from library.circulation.errors import ReaderNotFound

        try:
            r = self.service.find_reader(card)
        except ReaderNotFound as exc:
            raise NotFound(f"card {card}") from exc
        return ReaderView(r.id, r.card, r.first_name, r.initial, r.class_name)

    def checkout(self, card: str, barcode: str) -> CheckoutResult:
        """Lend; a refusal carries the domain code."""
        from library.circulation.errors import CirculationError

        try:
            out = self.service.checkout(card, barcode, self._txn(), terminal=self.terminal)
        except CirculationError as exc:
            return CheckoutResult(barcode, False, str(exc.params.get("title", "")), code=exc.code)
        return CheckoutResult(barcode, True, out.title, out.due_date)

    def checkin(self, barcode: str) -> CheckinResult:
        """Take back; the shelf mark says where the copy goes."""
        from library.circulation.errors import CirculationError

        try:
            out = self.service.checkin(barcode, self._txn(), terminal=self.terminal)
        except CirculationError as exc:
            return CheckinResult(barcode, False, str(exc.params.get("title", "")), code=exc.code,
                                 to_cart=True)
        return CheckinResult(barcode, True, out.title, out.shelf)

    def loans(self, card: str) -> list[LoanView]:
        """Open loans, soonest due first."""
        return [LoanView(ln.loan_id, ln.barcode, ln.title, ln.due_date,
                         tuple(a for a in ln.authors.split(", ") if a), ln.renewals)
                for ln in self.service.loans(card)]

    def renew(self, card: str, barcode: str) -> RenewResult:
        """Extend one loan."""
        from library.circulation.errors import CirculationError

        try:
            out = self.service.renew(card, barcode, self._txn(), terminal=self.terminal)
        except CirculationError as exc:
            return RenewResult(0, False, code=exc.code)
        return RenewResult(out.loan_id, True, out.due_date)


def local_services(ctx, today=None):  # noqa: ANN001, ANN201
    """Catalogue and circulation over the configured database (the `ibc` Context)."""
    from ibc.wiring import circulation

    return LocalCatalogue(ctx.db), LocalCirculation(circulation(ctx, today=today or dt.date.today),
                                                    terminal=ctx.settings.school.id)
