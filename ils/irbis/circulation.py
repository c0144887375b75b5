"""Circulation against ИРБИС64 (``[circulation] backend = "irbis"``, docs/IRBIS.md
«Circulation against ИРБИС»).

`IrbisCirculationService` is the local `CirculationService` (rules, exactly-once transactions,
events, holds, reports, the desk all stay in the local database) plus ИРБИС as the system of
record the librarian sees:

* a reader is looked up live in RDR by card (``RI=``) and the local reader row is kept in step
  (card, names, category and class as library.circulation.readers_rdr reads them from RDR
  10/11/12/50/51…); the reader's open RDR loans (field 40, ``^f ******``) the local database
  does not hold — lent at the librarian's ИРБИС «Книговыдача» — count for the loan limit and
  the overdue rule (`CirculationService._outside_loans`);
* a checkout first reads the copy live (``H=``, else ``IN=``): 910^a must be 0; then the local
  checkout writes an outbox row in its own transaction (ils/irbis/ledger.py) and the row is
  pushed at once: RDR field 40 added, 910^a = 1;
* a return closes the 40 and sets 910^a = 0 — also for a copy lent in ИРБИС only (the reader
  found by ``HIN=`` over 40^h), with the local return event;
* a renewal writes 40^e/^4/^l.

ИРБИС not answering during the live check: the refusal `IrbisAway` (code
``irbis_unavailable``), which the terminal API answers with 503, so a terminal keeps the
operation in its offline queue and forwards it later. A push that fails after the local write
leaves the row pending; ``ibc irbis push`` (a systemd timer) retries it, exactly once.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ils.irbis.errors import (
    N_,
    IrbisAuthError,
    IrbisDatabaseUnknown,
    IrbisError,
    IrbisNoRights,
)
from ils.irbis.ledger import (
    FREE,
    ISSUED,
    ON_LOAN,
    CopyFacts,
    IrbisConfig,
    IrbisLedger,
    card_of,
    matches,
    open_loans,
    stamp,
)
from ils.irbis.record import IrbisRecord
from library.circulation import errors as E
from library.circulation import hold_service as HS
from library.circulation.overrides import Override
from library.circulation.readers_rdr import category_of, class_of
from library.circulation.service import CirculationService, Recorder
from library.circulation.values import LoanOutcome, LoanView, ReaderView
from library.schools import Scope
from library.storage.database import Database
from library.storage.models import Copy, Event, Loan, Reader, Record, TransactionLog, utcnow

log = logging.getLogger(__name__)


class IrbisAway(E.CirculationError):
    """ИРБИС did not answer the live check: nothing was done (the terminal API answers 503 and
    a terminal queues the operation offline)."""

    code = "irbis_unavailable"
    template = N_("The ИРБИС server does not answer: try again in a minute or see the librarian")


class IrbisRefused(E.CirculationError):
    """ИРБИС refused our user (wrong password, no rights for the workstation, no database):
    a setting to fix, told to the librarian."""

    code = "irbis_refused"
    template = N_("The ИРБИС server refused the library's account ({reason}): "
                  "please see the librarian")


def _away(exc: IrbisError) -> E.CirculationError:
    if isinstance(exc, IrbisAuthError | IrbisNoRights | IrbisDatabaseUnknown):
        return IrbisRefused(reason=exc.code)
    return IrbisAway()


def _ymd(day: dt.date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def _parse_ymd(text: str | None) -> dt.date | None:
    try:
        return dt.datetime.strptime((text or "").strip()[:8], "%Y%m%d").date()
    except ValueError:
        return None


def reader_data(rec: IrbisRecord) -> dict[str, Any]:
    """The local reader row's fields from an RDR record: 10 surname, 11 first name, 12
    patronymic, 30 card; category and class by library.circulation.readers_rdr's rules (50:
    «учащийся» → pupil, «учитель» → teacher, «сотрудник» → staff, else pupil; the class «5А»
    looked for in 50, 51, 52, 53). A field RDR lacks is None (the local value is kept)."""
    fields: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for f in rec.fields:
        subs: dict[str, str] = {}
        for c, v in f.subfields:
            subs.setdefault(c.lower(), v.strip())
        fields.setdefault(str(f.tag), []).append((f.value.strip(), subs))

    def value(tag: int) -> str:
        return (rec.first(tag) or rec.first(tag, "a") or "").strip()

    category_text = " ".join([h for h, _ in fields.get("50", [])]
                             + [v for _, s in fields.get("50", []) for v in s.values()])
    return {"card_number": value(30), "last_name": value(10)[:100],
            "first_name": value(11)[:100], "middle_name": value(12)[:100] or None,
            "category": category_of(category_text) if category_text.strip() else None,
            "class_name": class_of(fields)}


class IrbisCirculationService(CirculationService):
    """CirculationService writing every loan into ИРБИС too (module docstring)."""

    ledger: IrbisLedger

    def __init__(self, db: Database, *args: Any, ledger: IrbisLedger | None = None,
                 **kwargs: Any):
        super().__init__(db, *args, **kwargs)
        if ledger is not None:
            self.ledger = ledger
        self._facts = threading.local()  # card → (open, overdue) of this request's live read

    @classmethod
    def from_app_settings(cls, db: Database, settings: Any, *,
                          today: Callable[[], dt.date] = dt.date.today,
                          pin_executor: Executor | None = None,
                          ledger: IrbisLedger | None = None) -> IrbisCirculationService:
        """The service of `settings` (config.settings.Settings): its [circulation], [holds] and
        the [irbis] server."""
        svc = cls.from_settings(db, settings.circulation, today=today, pin_executor=pin_executor,
                                holds_settings=settings.holds)
        assert isinstance(svc, IrbisCirculationService)
        if ledger is None:
            ledger = IrbisLedger(db, IrbisConfig.from_settings(settings.irbis))
            # unregister at exit: a real server counts registered clients against its licence
            atexit.register(ledger.close)
        svc.ledger = ledger
        return svc

    # --- live facts ----------------------------------------------------------------------
    def _outside_loans(self, card: str) -> tuple[int, int]:
        counts: dict[str, tuple[int, int]] = getattr(self._facts, "counts", {})
        return counts.get(card.strip().upper(), (0, 0))

    @contextlib.contextmanager
    def _counting(self, card: str, counts: tuple[int, int] | None) -> Iterator[None]:
        """The reader's ИРБИС-only loans count within this block (this thread only)."""
        if counts is None:
            yield
            return
        table: dict[str, tuple[int, int]] = getattr(self._facts, "counts", {})
        self._facts.counts = {**table, card.strip().upper(): counts}
        try:
            yield
        finally:
            self._facts.counts = table

    def _local_codes(self, card: str) -> list[tuple[str, str | None]]:
        """(barcode, inventory) of the reader's open local loans."""
        with self.db.session() as s:
            rows = s.execute(
                select(Copy.barcode, Copy.rfid, Copy.inventory_number)
                .join(Loan, Loan.copy_id == Copy.id).join(Reader, Loan.reader_id == Reader.id)
                .where(Reader.card_number == card.strip(), Loan.returned_at.is_(None))).all()
        out: list[tuple[str, str | None]] = []
        for barcode, rfid, inventory in rows:
            for code in (barcode, rfid):
                if code:
                    out.append((code, inventory))
            if inventory:
                out.append((inventory, inventory))
        return out

    def _outside_counts(self, card: str, rdr: IrbisRecord) -> tuple[int, int]:
        """The reader's open RDR loans that are not local ones, and how many are overdue."""
        local = self._local_codes(card)
        outside = [f for f in open_loans(rdr)
                   if not any(matches(f, code, inv) for code, inv in local)]
        today = self.today()
        overdue = sum(1 for f in outside if (due := _parse_ymd(f.get("e"))) and due < today)
        return len(outside), overdue

    def _live_reader(self, card: str) -> tuple[IrbisRecord, tuple[int, int]]:
        """The reader's RDR record (ReaderNotFound / BookNotCard when RDR has none), the local
        row brought in step, and the reader's ИРБИС-only (open, overdue) loans."""
        try:
            rdr = self.ledger.reader(card)
        except IrbisError as exc:
            raise _away(exc) from exc
        if rdr is None:
            with self.db.session() as s:
                if s.scalar(select(Copy.id).where(Copy.barcode == card.strip())) is not None:
                    raise E.BookNotCard()
            raise E.ReaderNotFound(card=card)
        # the card as scanned (RI= ignores case; the local lookups do not)
        self._upsert_reader({**reader_data(rdr), "card_number": card.strip()})
        return rdr, self._outside_counts(card, rdr)

    def _upsert_reader(self, data: dict[str, Any]) -> None:
        """The local reader row as RDR has it; written only when something differs. What RDR
        does not say (no class, no category, no name) keeps its local value — a class from the
        school's class list, say; a block and a PIN stay the library's."""
        card = data["card_number"]
        known = {k: v for k, v in data.items() if v}
        with self.db.session() as s:
            r = s.scalar(select(Reader).where(Reader.card_number == card))
            same = r is not None and r.active and all(getattr(r, k) == v for k, v in known.items())
        if same:
            return
        with self.db.transaction() as s:
            r = s.scalar(select(Reader).where(Reader.card_number == card))
            if r is None:
                s.add(Reader(sigla=self.sigla or "", **{"category": "pupil", **known}))
                return
            for key, value in known.items():
                setattr(r, key, value)
            r.active, r.archived_at = True, None

    def find_reader(self, card: str, *, session: Session | None = None) -> ReaderView:
        """The reader as RDR has them now (ИРБИС away: the local row, as last seen)."""
        try:
            _, counts = self._live_reader(card)
        except IrbisAway:
            log.warning("ИРБИС away: reader looked up locally")
            return super().find_reader(card, session=session)
        with self._counting(card, counts):
            return super().find_reader(card, session=session)

    def is_reader_card(self, code: str) -> bool:
        """A local card, else a card RDR knows (ИРБИС away: the local answer)."""
        if super().is_reader_card(code):
            return True
        try:
            return self.ledger.reader(code) is not None
        except IrbisError:
            return False

    def loans(self, card: str, *, session: Session | None = None) -> list[LoanView]:
        """The reader's local loans and, after them, the open RDR loans made in ИРБИС itself
        (``loan_id`` 0: they are renewed at the librarian's ИРБИС). ИРБИС away: local only."""
        own = super().loans(card, session=session)
        try:
            rdr = self.ledger.reader(card)
        except IrbisError:
            return own
        if rdr is None:
            return own
        local = self._local_codes(card)
        today = self.today()
        extra = []
        for f in open_loans(rdr):
            if any(matches(f, code, inv) for code, inv in local):
                continue
            due = _parse_ymd(f.get("e"))
            issued = _parse_ymd(f.get("d")) or today
            code = (f.get("h") or f.get("b") or "").strip()
            if due is None or not code:
                continue
            extra.append(LoanView(0, code, (f.get("c") or code).strip()[:200], "", issued, due,
                                  int(f.get("4") or 0) if (f.get("4") or "").isdigit() else 0,
                                  due < today))
        return own + sorted(extra, key=lambda v: v.due_date)

    # --- the writes ----------------------------------------------------------------------
    def _on_local_loan(self, barcode: str) -> bool:
        code = barcode.strip()
        with self.db.session() as s:
            return s.scalar(select(Loan.id).join(Copy, Loan.copy_id == Copy.id).where(
                Loan.returned_at.is_(None),
                (Copy.barcode == code) | (Copy.rfid == code) | (Copy.inventory_number == code))
                .limit(1)) is not None

    def _logged(self, txn_id: str) -> bool:
        with self.db.session() as s:
            return s.get(TransactionLog, txn_id) is not None

    def _copy(self, code: str) -> CopyFacts | None:
        try:
            return self.ledger.copy(code)
        except IrbisError as exc:
            raise _away(exc) from exc

    def _free_locally(self, barcode: str) -> None:
        """ИРБИС says the copy is on the shelf (910^a = 0): a local «on loan» without a local
        loan (copied from ИРБИС by the sync, returned at the librarian's ИРБИС since) is put
        right before the local rules look at it."""
        code = barcode.strip()
        with self.db.transaction() as s:
            q = select(Copy).where((Copy.barcode == code) | (Copy.rfid == code)
                                   | (Copy.inventory_number == code),
                                   Copy.status == "on_loan").order_by(Copy.id).limit(1)
            if self.db.backend == "postgresql":
                q = q.with_for_update()
            copy = s.scalar(q)
            if copy is None or s.scalar(select(Loan.id).where(
                    Loan.copy_id == copy.id, Loan.returned_at.is_(None))) is not None:
                return
            copy.status = "available"
            self._bump(s, copy)

    def _drain(self) -> None:
        """Rows left pending go first (a return pushed after the checkout it closes)."""
        if self.ledger.pending_count():
            self._push_now()

    def _push_now(self) -> None:
        """Push the outbox after a local write; whatever happens the loan stands locally and a
        row not done stays pending for ``ibc irbis push``."""
        try:
            self.ledger.push_pending(limit=50)
        except Exception:  # noqa: BLE001 - the loan is committed; the outbox retries
            log.exception("ИРБИС push after a loan failed; the outbox keeps it")

    @staticmethod
    def _operator(terminal: str | None) -> str:
        return (terminal or "ibc").removeprefix("desk:")

    def checkout(self, card: str, barcode: str, txn_id: str, *, terminal: str | None = None,
                 override: Override | None = None, record: Recorder | None = None,
                 school: Scope | None = None) -> LoanOutcome:
        """Live check in ИРБИС (the reader in RDR, the copy's 910^a = 0), the local checkout with
        its outbox row, then the push."""
        if self._logged(txn_id):  # a repeat: the first outcome, nothing asked of ИРБИС
            return super().checkout(card, barcode, txn_id, terminal=terminal, override=override,
                                    record=record, school=school)
        rdr, counts = self._live_reader(card)  # ИРБИС away: refused here, before anything else
        self._drain()
        facts = self._copy(barcode)
        if facts is None:
            with self.db.session() as s:
                if s.scalar(select(Reader.id).where(Reader.card_number == barcode.strip())):
                    raise E.FinishFirst()
            raise E.ItemNotFound(barcode=barcode.strip())
        code = facts.barcode or barcode.strip()
        if facts.status == ISSUED and self.ledger.pending_for(code, "return"):
            pass  # returned here, not yet in ИРБИС (a record locked): the local state decides
        elif facts.status != FREE:
            if facts.status == ISSUED:
                mine = any(matches(f, facts.barcode or barcode, facts.inventory)
                           for f in open_loans(rdr))
                raise E.ItemAlreadyYours(title=facts.title) if mine \
                    else E.ItemOnLoan(title=facts.title)
            raise E.ItemUnavailable(title=facts.title, irbis_status=facts.status)
        try:
            brief = self.ledger.brief(facts.mfn, facts.title)
        except IrbisError as exc:
            raise _away(exc) from exc
        if facts.status == FREE:
            self._free_locally(barcode)
        now = dt.datetime.now()

        def hook(s: Session, outcome: LoanOutcome) -> None:
            date, clock = _ymd(self.today()), stamp(now)[1]
            field40 = [(c, v) for c, v in (
                ("a", facts.shelf), ("b", facts.inventory), ("h", facts.barcode),
                ("k", facts.place), ("c", brief), ("d", date), ("e", _ymd(outcome.due_date)),
                ("f", ON_LOAN), ("g", self.ledger.config.database),
                ("v", (terminal or "ibc")[:64]), ("i", self._operator(terminal)[:64]),
                ("1", clock)) if v]
            self.ledger.enqueue(s, outcome.txn_id, "checkout", card=card.strip(), barcode=code,
                                inventory=facts.inventory, record_mfn=facts.mfn,
                                payload={"field40": field40})
            if record is not None:
                record(s, outcome)

        with self._counting(card, counts):
            outcome = super().checkout(card, barcode, txn_id, terminal=terminal,
                                       override=override, record=hook, school=school)
        if not outcome.replayed:
            self._push_now()
        return outcome

    def checkin(self, barcode: str, txn_id: str, *, terminal: str | None = None,
                record: Recorder | None = None, offline: bool = False,
                school: Scope | None = None) -> LoanOutcome:
        """The local return (or, for a copy lent in ИРБИС only, its return event) with an outbox
        row closing the RDR loan and setting 910^a = 0, then the push."""
        if self._logged(txn_id):
            return super().checkin(barcode, txn_id, terminal=terminal, record=record,
                                   offline=offline, school=school)
        facts = self._copy(barcode)  # ИРБИС away: refused here, before anything else
        if self.ledger.pending_count():  # a checkout of this copy still on its way first
            self._drain()
            facts = self._copy(barcode)
        if facts is None:  # not in ИРБИС (deleted there since the sync): the local return only
            return super().checkin(barcode, txn_id, terminal=terminal, record=record,
                                   offline=offline, school=school)
        code = facts.barcode or barcode.strip()
        with self.db.session() as s:
            local = s.execute(
                select(Reader.card_number).select_from(Loan)
                .join(Copy, Loan.copy_id == Copy.id).outerjoin(Reader, Loan.reader_id == Reader.id)
                .where(Loan.returned_at.is_(None),
                       (Copy.barcode == barcode.strip()) | (Copy.rfid == barcode.strip())
                       | (Copy.inventory_number == barcode.strip()))).first()
        now = dt.datetime.now()
        payload = {"date": _ymd(self.today()), "time": stamp(now)[1],
                   "place": (terminal or "ibc")[:64]}
        if local is None and facts.status == ISSUED:
            try:
                holder = self.ledger.reader_by_item(code, facts.inventory)
            except IrbisError as exc:
                raise _away(exc) from exc
            outcome = self._irbis_only_return(barcode, code, txn_id, terminal, facts, holder,
                                              payload, record, offline)
        else:
            card = local[0] if local is not None else None

            def hook(s: Session, outcome: LoanOutcome) -> None:
                self.ledger.enqueue(s, outcome.txn_id, "return", card=card, barcode=code,
                                    inventory=facts.inventory, record_mfn=facts.mfn,
                                    payload=payload)
                if record is not None:
                    record(s, outcome)

            outcome = super().checkin(barcode, txn_id, terminal=terminal, record=hook,
                                      offline=offline, school=school)
        if not outcome.replayed:
            self._push_now()
        return outcome

    def _irbis_only_return(self, barcode: str, code: str, txn_id: str, terminal: str | None,
                           facts: CopyFacts, holder: IrbisRecord | None, payload: dict[str, Any],
                           record: Recorder | None, offline: bool) -> LoanOutcome:
        """A copy lent at the librarian's ИРБИС, brought back to the kiosk: exactly once, the
        local return event (no local loan to close) and the outbox row that closes it in RDR."""
        card = (card_of(holder) or None) if holder is not None else None
        loan = next((f for f in open_loans(holder) if matches(f, code, facts.inventory)), None) \
            if holder is not None else None
        due = _parse_ymd(loan.get("e")) if loan is not None else None

        def work(s: Session) -> LoanOutcome:
            q = (select(Copy, Record).join(Record, Copy.record_id == Record.id)
                 .where((Copy.barcode == barcode.strip()) | (Copy.rfid == barcode.strip())
                        | (Copy.inventory_number == barcode.strip()))
                 .order_by(Copy.id).limit(1))
            if self.db.backend == "postgresql":
                q = q.with_for_update(of=Copy)
            row = s.execute(q).first()
            copy, rec = (row[0], row[1]) if row is not None else (None, None)
            reader = s.scalar(select(Reader).where(Reader.card_number == card)) if card else None
            overdue = bool(due and due < self.today())
            s.add(Event(ts=utcnow(), kind="return", terminal=terminal,
                        sigla=copy.sigla if copy else self.sigla,
                        reader_category=reader.category if reader else None,
                        reader_class=reader.class_name if reader else None,
                        record_id=copy.record_id if copy else None,
                        copy_id=copy.id if copy else None,
                        payload={"overdue": overdue, "irbis_only": True}))
            trapped = None
            if copy is not None:
                if copy.status == "on_loan":  # as the sync copied 910^a = 1: back on the shelf
                    copy.status = "available"
                trapped = HS.trap_returned(self, s, copy, terminal, offline)
                self._bump(s, copy)
            title = rec.title if rec is not None else facts.title
            authors = ", ".join(a.split(",")[0].strip() for a in (rec.authors or [])[:2] if a) \
                if rec is not None else ""
            shelf = (copy.shelf_mark or rec.bbk) if copy is not None and rec is not None else None
            return LoanOutcome("checkin", txn_id, 0, copy.barcode if copy and copy.barcode
                               else code, title, authors, due, shelf,
                               hold_id=trapped[0].id if trapped else 0,
                               hold_for=trapped[1] if trapped else None,
                               hold_until=trapped[0].pickup_until if trapped else None)

        def hook(s: Session, outcome: LoanOutcome) -> None:
            self.ledger.enqueue(s, outcome.txn_id, "return", card=card, barcode=code,
                                inventory=facts.inventory, record_mfn=facts.mfn, payload=payload)
            if record is not None:
                record(s, outcome)

        return self._once("checkin", txn_id, terminal, {"barcode": barcode}, work, hook)

    def renew(self, card: str, barcode: str, txn_id: str, *, terminal: str | None = None,
              override: Override | None = None, record: Recorder | None = None) -> LoanOutcome:
        """The local renewal (its rules see the reader's ИРБИС-only loans) and an outbox row
        writing the new due date into the RDR loan."""
        if self._logged(txn_id):
            return super().renew(card, barcode, txn_id, terminal=terminal, override=override,
                                 record=record)
        try:
            rdr, counts = self._live_reader(card)
            self._drain()
        except IrbisAway:  # the local loan is enough to renew; the outbox writes it later
            rdr, counts = None, None
        if rdr is not None and not self._on_local_loan(barcode):
            lent = next((f for f in open_loans(rdr) if matches(f, barcode.strip(), barcode.strip())),
                        None)
            if lent is not None:  # lent at the librarian's ИРБИС: renewed there
                raise E.RenewalNotAllowed(title=(lent.get("c") or barcode).strip())

        def hook(s: Session, outcome: LoanOutcome) -> None:
            row = s.execute(select(Copy.barcode, Copy.inventory_number).join(
                Loan, Loan.copy_id == Copy.id).where(Loan.id == outcome.loan_id)).first()
            self.ledger.enqueue(
                s, outcome.txn_id, "renew", card=card.strip(),
                barcode=(row[0] if row and row[0] else outcome.barcode),
                inventory=row[1] if row else None, record_mfn=None,
                payload={"due": _ymd(outcome.due_date), "renewals": outcome.renewals,
                         "date": _ymd(self.today())})
            if record is not None:
                record(s, outcome)

        with self._counting(card, counts):
            outcome = super().renew(card, barcode, txn_id, terminal=terminal, override=override,
                                    record=hook)
        if not outcome.replayed:
            self._push_now()
        return outcome


def circulation_service(db: Database, settings: Any, *,
                        today: Callable[[], dt.date] = dt.date.today,
                        pin_executor: Executor | None = None) -> CirculationService:
    """The one place the circulation back end is chosen by ``[circulation] backend``: the
    local CirculationService, or IrbisCirculationService for ``"irbis"`` (the server, the
    standalone kiosk and the CLI call this)."""
    if getattr(settings.circulation, "backend", "local") == "irbis":
        svc: CirculationService = IrbisCirculationService.from_app_settings(
            db, settings, today=today, pin_executor=pin_executor)
    else:
        svc = CirculationService.from_settings(db, settings.circulation, today=today,
                                               pin_executor=pin_executor,
                                               holds_settings=settings.holds)
    # whose a NULL pickup school, an empty sigla or a department code is (docs/HOLDS.md)
    svc.default_school = str(getattr(getattr(settings, "school", None), "sigla", "") or "")
    return svc
