"""Circulation against the database: checkout, checkin, renew, loans — each exactly once.

Every call carries a client transaction id. The first call's outcome (success or refusal) is
stored in the `transactions` table in the same database transaction as its writes, so a repeat
returns the first outcome and writes nothing. Two terminals taking the same copy at once: the
copy row is locked (SELECT ... FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite) and the
partial unique index on open loans is the backstop; the loser gets ItemOnLoan.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar, cast

from sqlalchemy import Connection, CursorResult, Row, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from library.circulation import errors as E
from library.circulation import hold_service as HS
from library.circulation import sql as Q
from library.circulation import transfer_service as TS
from library.circulation.holds import HoldRules, HoldsSettingsLike
from library.circulation.overrides import CHECKOUT_OVERRIDABLE, RENEW_OVERRIDABLE, Override, Waiver
from library.circulation.pin_guard import GuessLimits
from library.circulation.rules import (
    CirculationSettingsLike,
    ItemFacts,
    Policy,
    ReaderFacts,
    check_reader,
    checkout_due,
    renew_due,
    transition,
)
from library.circulation.school_rules import SchoolPolicies
from library.circulation.values import (
    ADULTS,
    ExpiryReport,
    HoldShelf,
    HoldView,
    LoanOutcome,
    LoanView,
    QueueEntry,
    ReaderView,
    RequestEntry,
    TransferView,
)
from library.errors import IbcError
from library.places.match import PlaceCache
from library.schools import Scope
from library.storage.database import Database
from library.storage.models import Copy, Counter, Event, Loan, Reader, Record, TransactionLog, utcnow

if TYPE_CHECKING:
    from typing import Unpack  # Python 3.11+; annotations only

_T = TypeVar("_T")


class _Outcome(Protocol):
    """What an exactly-once write answers (LoanOutcome, HoldView): stored as its dict."""

    def to_dict(self) -> dict[str, Any]: ...


_O = TypeVar("_O", bound=_Outcome)


def _reader_view(r: Reader, facts: ReaderFacts | None = None, policy: Policy | None = None) -> ReaderView:
    initial = (r.last_name[:1] + ".") if r.last_name else ""
    patronymic = (r.middle_name or "") if r.category in ADULTS else ""
    restriction = note = None
    if facts is not None and policy is not None:
        try:
            check_reader(policy, facts)
        except E.CirculationError as exc:
            restriction = exc.code
            note = (r.block_reason or None) if exc.code == "reader_blocked" else None
    return ReaderView(r.id, r.card_number, r.first_name, initial, r.class_name, r.category,
                      patronymic, restriction, note, pin_set=bool(r.pin_hash))


def _authors(rec: Record) -> str:
    names = [a.split(",")[0].strip() for a in (rec.authors or [])[:2]]
    return ", ".join(n for n in names if n)


def _shelf(copy: Copy, rec: Record) -> str | None:
    return copy.shelf_mark or rec.bbk


_NO_SYNC = {"synchronize_session": False}


def _place(places: PlaceCache, s: Session, shelf: str | None, collection: str | None,
           bbk: str | None, sigla: str | None) -> str | None:
    """The copy's place label, or None when the library has set no places (or none matches)."""
    pm = places.get(s)
    if not len(pm):
        return None
    view = pm.resolve(shelf_mark=shelf, collection=collection, bbk=bbk, sigla=sigla)
    return view.label if view else None


Recorder = Callable[[Session, LoanOutcome], None]


def _args(override: Override | None, **args: str) -> dict[str, str]:
    """A write's arguments as its transaction stores them (an override's reason included: the
    same id sent again with another reason is another action)."""
    if override is not None:
        args["override"] = override.reason
    return args


def _override_payload(action: str, waiver: Waiver, override: Override) -> dict[str, str]:
    """The Event ``override`` payload (the reports count overrides by ``refusal``): the first
    refusal the override skipped — the one the librarian saw."""
    return {"action": action, "refusal": waiver.skipped[0], "reason": override.reason,
            "by": override.by}


class _ReplayedRefusal(IbcError):
    """Carries a stored refusal out of the transaction without re-recording it."""

    def __init__(self, error: E.CirculationError):
        super().__init__(str(error))
        self.error = error


class CirculationService:
    """Checkout, checkin and renew with named refusals and exactly-once transaction ids."""

    def __init__(
        self,
        db: Database,
        policy: Policy,
        *,
        sigla: str | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        on_copies_changed: Callable[[Session, list[int]], None] | None = None,
        guesses: GuessLimits | None = None,
        pin_executor: Executor | None = None,
        pin_settings: object | None = None,
        hold_rules: HoldRules | None = None,
    ):
        self.db = db
        self.policy = policy
        self.sigla = sigla
        self.today = today
        self.on_copies_changed = on_copies_changed
        self.guesses = guesses or GuessLimits()  # wrong PINs per card (circulation/pin_guard.py)
        # Where PIN hashes run (scrypt: 16 MB each). The server passes a pool of 2 threads: a
        # bound on hashes at once, and only those threads' malloc arenas ever hold the 16 MB
        # (a semaphore alone still left one arena per request thread: 40 threads, +300 MB).
        self.pin_executor = pin_executor
        # [circulation] pin_min_digits, pin_max_digits, pin_self_set: read at each PIN change,
        # so a server's settings object is followed as it is (None: the defaults, 4..8, allowed).
        self.pin_settings = pin_settings
        self._places = PlaceCache(sigla)
        # [holds] (library/circulation/holds.py); the per-category limits are in `policy`.
        self.hold_rules = hold_rules or HoldRules()
        # [school] sigla: the school a NULL pickup, an empty sigla or a department code means
        # (library.schools.home_of); set by ils.irbis.circulation.circulation_service
        self.default_school = ""
        self._school_policies = SchoolPolicies()

    def policy_for(self, conn: Connection, sigla: str | None) -> Policy:
        """The rules that lend for school `sigla` (a copy's, a hold's reader's): `policy` with
        the school's overrides from the database (library/circulation/school_rules.py; the
        default school and a sigla naming no school: `policy` itself). Asked once per request."""
        return self._school_policies.get(conn, self.policy, sigla)

    @classmethod
    def from_settings(cls, db: Database, circulation_settings: CirculationSettingsLike,
                      *, today: Callable[[], dt.date] = dt.date.today,
                      pin_executor: Executor | None = None,
                      holds_settings: HoldsSettingsLike | None = None) -> CirculationService:
        """The service every role runs (the server, a standalone kiosk, the CLI): the settings'
        policy and PIN guess limits, every school's copies, the search index kept up to date
        after each change; `holds_settings` is the ``[holds]`` section (None: its defaults)."""
        from library.search.indexer import index_copies_changed

        return cls(db, Policy.from_settings(circulation_settings), sigla=None, today=today,
                   on_copies_changed=index_copies_changed,
                   guesses=GuessLimits.from_settings(circulation_settings),
                   pin_executor=pin_executor, pin_settings=circulation_settings,
                   hold_rules=HoldRules.from_settings(holds_settings))

    def end_session(self) -> None:
        """Nothing to forget here: the database keeps no reader session (the port's contract)."""

    # --- lookups -----------------------------------------------------------------------
    def _reading(self, session: Session | None) -> contextlib.AbstractContextManager[Session]:
        """The caller's session (several lookups in one transaction), else a new one."""
        return contextlib.nullcontext(session) if session is not None else self.db.session()

    def find_reader(self, card: str, *, session: Session | None = None) -> ReaderView:
        """The reader with this card, or ReaderNotFound (`session`: read in the caller's)."""
        with self._reading(session) as s:
            r = s.scalar(select(Reader).where(Reader.card_number == card.strip()))
            if r is None or not r.active:
                if r is None and s.scalar(select(Copy.id).where(Copy.barcode == card.strip())):
                    raise E.BookNotCard()
                raise E.ReaderNotFound(card=card)
            return _reader_view(r, self._reader_facts(s, r), self.policy)

    def is_reader_card(self, code: str) -> bool:
        """True when `code` is a registered reader card."""
        with self.db.session() as s:
            return s.scalar(select(Reader.id).where(Reader.card_number == code.strip())) is not None

    def pin_required(self, reader: ReaderView) -> bool:
        """True when this reader must type a PIN (Policy.pin_required; ``find_reader`` already
        read whether the reader set one: no second lookup)."""
        return self.policy.pin_required(reader.pin_set)

    def identified_reader(self, reader: ReaderView) -> ReaderView:
        """The reader as known once fully identified (a remote back end learns more after the PIN)."""
        return reader

    def check_pin(self, card: str, pin: str) -> bool:
        """Verify a reader's PIN (readers without a PIN pass when PINs are not required).

        Each guess first takes a slot of the card's guess limit in the database (one atomic
        statement, `pin_guard.reserve`), then the hash runs on `pin_executor`; CardLocked when
        no slot is free: the card was locked by wrong PINs (on any terminal) or a burst is
        already being checked. A wrong PIN that used the last slot locks the card."""
        from library.circulation import pin_guard
        from library.circulation.pins import verify_pin

        with self.db.session() as s:
            r = s.scalar(select(Reader).where(Reader.card_number == card.strip()))
            if r is None:
                raise E.ReaderNotFound(card=card)
            reader_id, stored = r.id, r.pin_hash
        if not stored:
            return not self.policy.require_pin
        with self.db.transaction() as s:
            until = pin_guard.reserve(s, reader_id, self.guesses)
        if until is not None:
            raise E.CardLocked(minutes=pin_guard.minutes_left(until))
        ok = self.hashing(verify_pin, pin, stored)
        with self.db.transaction() as s:
            if ok:
                pin_guard.reset(s, reader_id)
            else:
                pin_guard.failed(s, reader_id, self.guesses)
        return ok

    def may_set_first_pin(self) -> bool:
        """True when a reader without a PIN may set one at a kiosk (``[circulation] pin_self_set``)."""
        return bool(getattr(self.pin_settings, "pin_self_set", True))

    def change_pin(self, card: str, current: str | None, new: str) -> None:
        """The reader sets their own PIN — the one rule behind ``POST /session/pin`` and a
        standalone kiosk. The new PIN is checked first (PinFormat, PinTrivial: no guess used);
        a reader with a PIN gives the current one (checked like any guess: WrongPin, CardLocked;
        None is WrongPin without a guess), a reader without one sets a first PIN when
        `may_set_first_pin` (else PinSelfSetOff). The card's guess count starts again."""
        from library.circulation.pins import PinRules, check_new_pin, hash_pin, set_pin

        rules = PinRules.from_settings(self.pin_settings) if self.pin_settings is not None \
            else PinRules()
        new = check_new_pin(new, rules)
        with self.db.session() as s:
            r = s.scalar(select(Reader).where(Reader.card_number == card.strip()))
            if r is None or not r.active:
                raise E.ReaderNotFound(card=card)
            has_pin = bool(r.pin_hash)
        if has_pin:
            if current is None or not self.check_pin(card, current):
                raise E.WrongPin()
        elif not self.may_set_first_pin():
            raise E.PinSelfSetOff()
        set_pin(self.db, card, new, rules, hasher=lambda pin: self.hashing(hash_pin, pin))

    def hashing(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run a PIN hash (`pins.hash_pin`, `pins.verify_pin`) on `pin_executor`, else here."""
        if self.pin_executor is None:
            return fn(*args)
        return self.pin_executor.submit(fn, *args).result()

    def loans(self, card: str, *, session: Session | None = None) -> list[LoanView]:
        """The reader's open loans, soonest due first (`session`: read in the caller's)."""
        today = self.today()
        with self._reading(session) as s:
            reader = s.scalar(select(Reader).where(Reader.card_number == card.strip()))
            if reader is None:
                raise E.ReaderNotFound(card=card)
            rows = s.execute(
                select(Loan, Copy, Record)
                .join(Copy, Loan.copy_id == Copy.id)
                .join(Record, Copy.record_id == Record.id)
                .where(Loan.reader_id == reader.id, Loan.returned_at.is_(None))
                .order_by(Loan.due_date, Loan.id)
            ).all()
            return [
                LoanView(
                    loan.id, copy.barcode or copy.inventory_number or "", rec.title, _authors(rec),
                    loan.issued_at.date(), loan.due_date, loan.renewals, loan.due_date < today,
                )
                for loan, copy, rec in rows
            ]

    # --- the three writes ----------------------------------------------------------------
    # `override` (the librarian's desk only): lend or renew although a rule that may be waived
    # refused (library/circulation/overrides.py); the waived refusal is recorded as an Event
    # ``override``. `record(session, outcome)` runs inside the write's transaction when the
    # write is done (not on a replay): the desk's audit row commits with the loan.
    def checkout(self, card: str, barcode: str, txn_id: str, *, terminal: str | None = None,
                 override: Override | None = None, record: Recorder | None = None,
                 school: Scope | None = None) -> LoanOutcome:
        """Lend the copy with `barcode` to the reader with `card`. `school`: the school this
        checkout lends for (a terminal's, library.schools.scope) instead of the service's own
        `sigla`: another school's copy is refused with OtherSchool, another school's reader
        with OtherSchoolReader."""
        return self._once("checkout", txn_id, terminal, _args(override, card=card, barcode=barcode),
                          lambda s: self._checkout(s, card, barcode, txn_id, terminal, override,
                                                   school), record)

    def checkin(self, barcode: str, txn_id: str, *, terminal: str | None = None,
                record: Recorder | None = None, offline: bool = False,
                school: Scope | None = None) -> LoanOutcome:
        """Take back the copy with `barcode`. When its record has a queued hold the copy is set
        aside for the first reader (``hold_id``, ``hold_for``, ``hold_until`` in the outcome);
        `offline`: a return forwarded from a terminal's offline queue (the copy is on the return
        cart, not on the hold shelf: the hold is flagged so). `school`: where it came back (a
        terminal's school): another school's copy is set aside to go home (``send_to``, a
        transfer); a copy fills only holds picked up at its own school (holds.fills)."""
        return self._once("checkin", txn_id, terminal, {"barcode": barcode},
                          lambda s: self._checkin(s, barcode, txn_id, terminal, offline, school),
                          record)

    def renew(self, card: str, barcode: str, txn_id: str, *, terminal: str | None = None,
              override: Override | None = None, record: Recorder | None = None) -> LoanOutcome:
        """Extend the reader's loan of the copy with `barcode`."""
        return self._once("renew", txn_id, terminal, _args(override, card=card, barcode=barcode),
                          lambda s: self._renew(s, card, barcode, txn_id, terminal, override),
                          record)

    # --- holds (library/circulation/holds.py, hold_service.py) -----------------------------
    def place_hold(self, card: str, record_id: int, txn_id: str, *, terminal: str | None = None,
                   by: str | None = None,
                   record: Callable[[Session, HoldView], None] | None = None,
                   pickup: str | None = None) -> HoldView:
        """Queue the reader with `card` for a record (any copy), exactly once per `txn_id`.
        `by`: who placed it for the reader (``desk:<account>``); else the terminal's name.
        `pickup`: the school to pick it up at (None: the reader's; BadPickup for an unknown).
        `record(session, hold)` runs inside the write's transaction (the desk's audit row)."""
        args = {"card": card, "record_id": str(record_id)}
        if pickup:
            args["pickup"] = pickup
        return self._once("hold_place", txn_id, terminal, args,
                          lambda s: HS.place(self, s, card, record_id, txn_id, terminal, by,
                                             pickup),
                          record, decode=HoldView.from_dict)

    # --- inter-school requests (transfer_service.py) --------------------------------------
    def send_copy(self, barcode: str, school: str, txn_id: str, *, by: str | None = None,
                  terminal: str | None = None,
                  record: Callable[[Session, TransferView], None] | None = None) -> TransferView:
        """School `school`'s desk sends a copy of its shelf for another school's request,
        exactly once per `txn_id` (NotOurCopy, NoRequest, ItemNotFound)."""
        return self._once("xfer_send", txn_id, terminal, {"barcode": barcode, "school": school},
                          lambda s: TS.send(self, s, barcode, school, terminal, by),
                          record, decode=TransferView.from_dict)

    def receive_copy(self, barcode: str, school: str, txn_id: str, *, by: str | None = None,
                     terminal: str | None = None,
                     record: Callable[[Session, TransferView], None] | None = None
                     ) -> TransferView:
        """School `school`'s desk receives a copy travelling to it, exactly once per `txn_id`
        (NotInTransit)."""
        return self._once("xfer_receive", txn_id, terminal,
                          {"barcode": barcode, "school": school},
                          lambda s: TS.receive(self, s, barcode, school, terminal, by),
                          record, decode=TransferView.from_dict)

    def transfers(self, school: str | None = None, *, open_only: bool = True) -> list[TransferView]:
        """Transfers to or from `school` (None: all), open ones unless `open_only` is false."""
        with self.db.session() as s:
            return TS.transfers(self, s, school, open_only)

    def school_requests(self, school: str) -> list[RequestEntry]:
        """Other schools' queued requests that `school` holds copies of (its desk's list)."""
        with self.db.session() as s:
            return TS.requests_for(self, s, school)

    def cancel_hold(self, hold_id: int, txn_id: str, *, card: str | None = None,
                    terminal: str | None = None, by: str | None = None,
                    record: Callable[[Session, HoldView], None] | None = None) -> HoldView:
        """Cancel a hold, exactly once per `txn_id`: with `card` only that reader's own
        (NotYourHold), without it as the librarian (`by`). A copy waiting for it passes on.
        `record(session, hold)` runs inside the write's transaction (the desk's audit row)."""
        args = {"hold_id": str(hold_id)}
        if card is not None:
            args["card"] = card
        return self._once("hold_cancel", txn_id, terminal, args,
                          lambda s: HS.cancel(self, s, hold_id, card, terminal, by),
                          record, decode=HoldView.from_dict)

    def holds(self, card: str) -> list[HoldView]:
        """The reader's active holds (waiting first, then queued with the place in the queue)."""
        with self.db.session() as s:
            return HS.reader_holds(self, s, card)

    def all_holds(self) -> list[tuple[HoldView, str, str | None]]:
        """Every active hold with the reader's short name and card (the librarian's list)."""
        with self.db.session() as s:
            return HS.all_active(self, s)

    def hold_queue(self, record_id: int) -> list[QueueEntry]:
        """A record's active holds for the librarian: waiting, then the queue in order."""
        with self.db.session() as s:
            return HS.queue(s, record_id)

    def hold_shelf(self, today: dt.date | None = None) -> HoldShelf:
        """The hold shelf list: copies waiting, and those to take off today."""
        with self.db.session() as s:
            return HS.shelf(s, today or self.today())

    def expire_holds(self, today: dt.date | None = None, *,
                     record: Callable[[Session, ExpiryReport], None] | None = None) -> ExpiryReport:
        """The daily job (``ibc holds expire``): one transaction; idempotent per day.
        `record(session, report)` runs inside it (the desk's audit row)."""
        day = today or self.today()
        for attempt in range(3):
            try:
                with self.db.transaction() as s:
                    report = HS.expire(self, s, day)
                    if record is not None:
                        record(s, report)
                    return report
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # --- internals -----------------------------------------------------------------------
    def _once(self, kind: str, txn_id: str, terminal: str | None, args: dict[str, str],
              work: Callable[[Session], _O], record: Callable[[Session, _O], None] | None = None,
              decode: Callable[[dict[str, Any]], _O] | None = None) -> _O:
        """Run `work` exactly once for `txn_id`: its outcome (a LoanOutcome, or what `decode`
        reads back, e.g. HoldView.from_dict) or refusal is stored with the writes, and a repeat
        answers the stored one."""
        if not txn_id or len(txn_id) > 64:
            raise ValueError("a transaction id of 1..64 characters is required")
        read = decode or cast(Callable[[dict[str, Any]], _O], LoanOutcome.from_dict)
        for attempt in range(3):
            try:
                return self._once_attempt(kind, txn_id, terminal, args, work, record, read)
            except IntegrityError:
                # Lost a race: either the same txn id was stored by a twin request, or the copy
                # got an open loan first. Retry: the replay or the status check answers now.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _once_attempt(self, kind: str, txn_id: str, terminal: str | None, args: dict[str, str],
                      work: Callable[[Session], _O], record: Callable[[Session, _O], None] | None,
                      decode: Callable[[dict[str, Any]], _O]) -> _O:
        try:
            return self._apply(kind, txn_id, terminal, args, work, record, decode)
        except _ReplayedRefusal as replayed:
            raise replayed.error from None

    def _apply(self, kind: str, txn_id: str, terminal: str | None, args: dict[str, str],
               work: Callable[[Session], _O], record: Callable[[Session, _O], None] | None,
               decode: Callable[[dict[str, Any]], _O]) -> _O:
        # Rules are checked before anything is written, and a refusal rolls the whole
        # transaction back anyway; the refusal is then recorded in a second, small one.
        try:
            with self.db.transaction() as s:
                done = s.connection().execute(Q.TXN_BY_ID, {"txn": txn_id}).first()
                if done is not None:
                    return self._replay(done, kind, args, decode)
                with s.no_autoflush:  # one flush for all the writes, not one per query
                    outcome = work(s)
                s.connection().execute(Q.INSERT_TXN, {
                    "txn_id": txn_id, "kind": kind, "terminal": terminal, "created_at": utcnow(),
                    "result": {"ok": True, "args": args, "outcome": outcome.to_dict()}})
                if record is not None:
                    record(s, outcome)
            return outcome
        except E.CirculationError as exc:
            with self.db.transaction() as s:
                logged = s.get(TransactionLog, txn_id)
                if logged is not None:  # a twin request got there first: answer as it did
                    return self._replay(logged, kind, args, decode)
                s.add(TransactionLog(txn_id=txn_id, kind=kind, terminal=terminal,
                                     result={"ok": False, "args": args, "error": exc.to_dict()}))
                self._event(s, f"{kind}_refused", terminal, payload={"code": exc.code})
            raise

    @staticmethod
    def _replay(done: TransactionLog | Row[Unpack[tuple[Any, ...]]], kind: str, args: dict,
                decode: Callable[[dict[str, Any]], _O]) -> _O:
        result = done.result or {}
        if done.kind != kind or result.get("args") != args:
            raise _ReplayedRefusal(E.TransactionMismatch(txn=done.txn_id))
        if not result.get("ok"):
            raise _ReplayedRefusal(E.error_from_dict(result.get("error", {})))
        data = dict(result["outcome"])
        data["replayed"] = True
        return decode(data)

    def _lock_copy(self, s: Session, barcode: str, *, moving: tuple[str, ...] = (),
                   reader_id: int | None = None,
                   school: Scope | None = None) -> tuple[Copy, Record]:
        """The copy with this barcode (or RFID, or inventory number) and its record, locked.

        Two schools of a city may use the same barcode (`copies` is unique per sigla and
        barcode). Which one a scan means: a barcode before an RFID or inventory number; then
        the copy on loan to `reader_id` (a renewal); then one in a `moving` status (a return
        means a copy that is out: on loan, travelling, on the hold shelf); then `school`'s own
        (where it was scanned); then the oldest row."""
        code = barcode.strip()
        q = (select(Copy, Record).join(Record, Copy.record_id == Record.id)
             .where(or_(Copy.barcode == code, Copy.rfid == code, Copy.inventory_number == code)))
        if self.sigla:
            q = q.where(Copy.sigla == self.sigla)
        order: list[Any] = [(Copy.barcode == code).desc()]
        if reader_id is not None:
            order.append(Copy.id.in_(select(Loan.copy_id).where(
                Loan.reader_id == reader_id, Loan.returned_at.is_(None))).desc())
        if moving:
            order.append(Copy.status.in_(moving).desc())
        if school is not None and (school.only or school.exclude):  # else: every copy is its
            order.append(school.clause(Copy.sigla).desc())
        q = q.order_by(*order, Copy.id).limit(1)
        if self.db.backend == "postgresql":
            q = q.with_for_update(of=Copy)
        row = s.execute(q).first()
        if row is None:
            self._not_a_copy(s, code, E.ReaderCardShown)
        return row[0], row[1]

    @staticmethod
    def _not_a_copy(s: Session, code: str, if_card: type[E.CirculationError]) -> NoReturn:
        """No copy has this code: a reader card shown instead of a book gets its own refusal
        (a terminal cannot tell cards from unknown books by itself)."""
        if s.scalar(select(Reader.id).where(Reader.card_number == code)) is not None:
            raise if_card()
        raise E.ItemNotFound(barcode=code)

    def _reader_facts(self, s: Session, reader: Reader) -> ReaderFacts:
        today = self.today()
        n_open, n_overdue, n_lost = s.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((Loan.due_date < today, 1), else_=0)), 0),
                func.coalesce(func.sum(case((Copy.status == "lost", 1), else_=0)), 0),
            )
            .select_from(Loan).join(Copy, Loan.copy_id == Copy.id)
            .where(Loan.reader_id == reader.id, Loan.returned_at.is_(None))
        ).one()
        out_open, out_overdue = self._outside_loans(reader.card_number)
        return ReaderFacts(reader.category, reader.class_name, reader.blocked,
                           int(n_open) + out_open, int(n_overdue) + out_overdue, int(n_lost))

    def _outside_loans(self, card: str) -> tuple[int, int]:
        """(open, overdue) loans of the reader with `card` that this database does not hold but
        the loan limit and the overdue rule count: a system of record where the librarian lends
        too (ils.irbis: open RDR field 40 entries). None here."""
        return 0, 0

    def _reader(self, s: Session, card: str) -> Reader:
        r = s.scalar(select(Reader).where(Reader.card_number == card.strip()))
        if r is None or not r.active:
            raise E.ReaderNotFound(card=card)
        return r

    @staticmethod
    def _next_version(s: Session) -> int:
        """Bump the catalogue change counter and return the new version."""
        return s.execute(
            update(Counter).where(Counter.name == "catalogue").values(value=Counter.value + 1)
            .returning(Counter.value),
            execution_options=_NO_SYNC,
        ).scalar() or 0

    def _bump(self, s: Session, copy: Copy) -> None:
        copy.version = self._next_version(s)
        if self.on_copies_changed:
            s.flush()
            self.on_copies_changed(s, [copy.record_id])

    def _event(self, s: Session, kind: str, terminal: str | None, reader: Reader | None = None,
               copy: Copy | None = None, payload: dict | None = None) -> None:
        s.execute(insert(Event).values(
            ts=utcnow(), kind=kind, terminal=terminal, sigla=copy.sigla if copy else self.sigla,
            reader_category=reader.category if reader else None,
            reader_class=reader.class_name if reader else None,
            record_id=copy.record_id if copy else None, copy_id=copy.id if copy else None,
            payload=payload or {},
        ))

    def _checkout(self, s: Session, card: str, barcode: str, txn_id: str,
                  terminal: str | None, override: Override | None = None,
                  school: Scope | None = None) -> LoanOutcome:
        # The hot path: prebuilt Core statements on the session's connection (library/circulation/sql.py).
        conn = s.connection()
        reader = conn.execute(Q.READER_BY_CARD, {"card": card.strip()}).first()
        if reader is None or not reader.active:
            raise E.ReaderNotFound(card=card)
        if school is not None and not school.owns(reader.sigla):
            raise E.OtherSchoolReader(card=card)
        code = barcode.strip()
        lock = self.db.backend == "postgresql"
        if school is not None and school.only:
            q, params = Q.COPY_BY_CODE[(True, lock)], {"code": code, "siglas": school.only}
        elif school is not None and school.exclude:
            q, params = Q.COPY_NOT_OF[lock], {"code": code, "others": school.exclude}
        elif school is None and self.sigla:
            q, params = Q.COPY_BY_CODE[(True, lock)], {"code": code, "siglas": (self.sigla,)}
        else:
            q, params = Q.COPY_BY_CODE[(False, lock)], {"code": code}
        copy = conn.execute(q, params).first()
        if copy is None and school is not None and conn.execute(
                Q.COPY_ELSEWHERE, {"code": code}).first():
            # the one exception (holds.lend_across): waiting on this school's hold shelf for
            # this reader; for another reader ReservedForAnother
            theirs = HS.waiting_here(self, s, code, school.school, reader.id)
            if theirs is None:
                raise E.OtherSchool(barcode=code)
            copy = conn.execute(Q.COPY_BY_CODE[(True, lock)],
                                {"code": code, "siglas": (theirs,)}).first()
        if copy is None:
            self._not_a_copy(s, code, E.FinishFirst)
        if copy.status == "on_loan" and conn.execute(
                Q.MY_OPEN_LOAN, {"copy_id": copy.id, "reader_id": reader.id}).first():
            raise E.ItemAlreadyYours(title=copy.title)
        if copy.status == "reserved":  # on the hold shelf: its reader's only (never overridden)
            HS.check_reserved(s, copy.id, reader.id, copy.title)
        today = self.today()
        n_open, n_overdue, n_lost = conn.execute(
            Q.READER_FACTS, {"today": today, "reader_id": reader.id}).one()
        out_open, out_overdue = self._outside_loans(card.strip())
        facts = ReaderFacts(reader.category, reader.class_name, reader.blocked,
                            int(n_open) + out_open, int(n_overdue) + out_overdue, int(n_lost))
        item = ItemFacts(copy.status, copy.item_type or "book", copy.age_min, copy.title)
        waiver = Waiver(CHECKOUT_OVERRIDABLE) if override is not None else None
        try:
            # the copy's school's rules (Koha: the item's home library)
            due = checkout_due(self.policy_for(conn, copy.sigla), facts, item, today, waiver)
        except E.CirculationError as exc:
            exc.params.setdefault("title", copy.title)  # the kiosk names the refused book
            raise
        new_status = transition(copy.status, "checkout")
        now = utcnow()
        loan_id = conn.execute(Q.INSERT_LOAN, {
            "copy_id": copy.id, "reader_id": reader.id, "reader_category": reader.category,
            "reader_class": reader.class_name, "issued_at": now, "due_date": due, "renewals": 0,
            "checkout_txn": txn_id, "terminal": terminal, "anonymised": False}).scalar_one()
        version = conn.execute(Q.NEXT_VERSION).scalar() or 0
        conn.execute(Q.SET_COPY_STATUS, {"copy_id": copy.id, "new_status": new_status,
                                         "new_version": version})
        conn.execute(Q.BUMP_POPULARITY, {"rid": copy.record_id})
        conn.execute(Q.INSERT_EVENT, {
            "ts": now, "kind": "checkout", "terminal": terminal, "sigla": copy.sigla,
            "reader_category": reader.category, "reader_class": reader.class_name,
            "record_id": copy.record_id, "copy_id": copy.id, "payload": {}})
        if waiver is not None and waiver.skipped and override is not None:
            conn.execute(Q.INSERT_EVENT, {
                "ts": now, "kind": "override", "terminal": terminal, "sigla": copy.sigla,
                "reader_category": reader.category, "reader_class": reader.class_name,
                "record_id": copy.record_id, "copy_id": copy.id,
                "payload": _override_payload("checkout", waiver, override)})
        HS.fulfil(self, s, reader.id, copy.id, copy.record_id, terminal, copy.sigla)
        if self.on_copies_changed:
            self.on_copies_changed(s, [copy.record_id])
        authors = ", ".join(a.split(",")[0].strip() for a in (copy.authors or [])[:2] if a)
        place = None
        if len(self._places.get(s)):  # the hot path's row has no collection: ask only when needed
            collection = conn.execute(select(Copy.collection).where(Copy.id == copy.id)).scalar()
            place = _place(self._places, s, copy.shelf_mark, collection, copy.bbk, copy.sigla)
        return LoanOutcome("checkout", txn_id, loan_id, copy.barcode or code, copy.title,
                           authors, due, copy.shelf_mark or copy.bbk, place=place)

    def _checkin(self, s: Session, barcode: str, txn_id: str, terminal: str | None,
                 offline: bool = False, school: Scope | None = None) -> LoanOutcome:
        copy, rec = self._lock_copy(s, barcode, moving=("on_loan", "in_transit", "reserved"),
                                    school=school)
        loan = s.scalar(select(Loan).where(Loan.copy_id == copy.id, Loan.returned_at.is_(None)))
        if loan is None and copy.status == "in_transit":
            # Scanned again after a return elsewhere set it aside to go home: the same notice.
            going = HS.in_transit_to(self, s, copy.id)
            if going is not None:
                return LoanOutcome("checkin", txn_id, 0, copy.barcode or barcode, rec.title,
                                   _authors(rec), None, _shelf(copy, rec), send_to=going)
        if loan is None and copy.status == "reserved":
            # Scanned again while on the hold shelf: the same notice, nothing changes.
            held = HS.waiting_for(s, copy.id)
            if held is not None:
                return LoanOutcome("checkin", txn_id, 0, copy.barcode or barcode, rec.title,
                                   _authors(rec), None, _shelf(copy, rec), hold_id=held[0].id,
                                   hold_for=held[1], hold_until=held[0].pickup_until)
        if loan is None and copy.status != "lost":
            raise E.NotOnLoan(title=rec.title)
        copy.status = transition(copy.status, "checkin")
        reader = None
        if loan is not None:
            loan.returned_at = utcnow()
            loan.return_txn = txn_id
            reader = s.get(Reader, loan.reader_id) if loan.reader_id else None
        self._event(s, "return", terminal, reader, copy,
                    payload={"overdue": bool(loan and loan.due_date < self.today())})
        here = school.school if school is not None else None
        going = HS.return_elsewhere(self, s, copy, here, terminal)
        trapped = None if going else HS.trap_returned(self, s, copy, terminal, offline, here)
        wanted = None if going or trapped else HS.wanted_elsewhere(self, s, copy)
        self._bump(s, copy)
        s.flush()
        # The due date of the closed loan: the kiosk tells a pupil the book came back late.
        return LoanOutcome("checkin", txn_id, loan.id if loan else 0, copy.barcode or barcode,
                           rec.title, _authors(rec), loan.due_date if loan else None,
                           _shelf(copy, rec), place=_place(self._places, s, copy.shelf_mark,
                                                           copy.collection, rec.bbk, copy.sigla),
                           hold_id=trapped[0].id if trapped else 0,
                           hold_for=trapped[1] if trapped else None,
                           hold_until=trapped[0].pickup_until if trapped else None,
                           send_to=going, wanted_by=wanted)

    def _renew(self, s: Session, card: str, barcode: str, txn_id: str,
               terminal: str | None, override: Override | None = None) -> LoanOutcome:
        reader = self._reader(s, card)
        copy, rec = self._lock_copy(s, barcode, reader_id=reader.id, moving=("on_loan",))
        loan = s.scalar(select(Loan).where(Loan.copy_id == copy.id, Loan.returned_at.is_(None)))
        if loan is None:
            raise E.NotOnLoan(title=rec.title)
        if loan.reader_id != reader.id:
            raise E.NotYourLoan()
        facts = ItemFacts(copy.status, rec.item_type or "book", rec.age_min, rec.title)
        waiver = Waiver(RENEW_OVERRIDABLE) if override is not None else None
        due = renew_due(self.policy_for(s.connection(), copy.sigla),  # the copy's school's
                        self._reader_facts(s, reader), facts, loan.due_date, loan.renewals,
                        self.today(), waiver)
        HS.check_renewal(self, s, reader.id, rec.id, waiver)
        loan.due_date = due
        loan.renewals += 1
        self._bump(s, copy)
        self._event(s, "renew", terminal, reader, copy)
        if waiver is not None and waiver.skipped and override is not None:
            self._event(s, "override", terminal, reader, copy,
                        payload=_override_payload("renew", waiver, override))
        s.flush()
        return LoanOutcome("renew", txn_id, loan.id, copy.barcode or barcode, rec.title,
                           _authors(rec), due, _shelf(copy, rec), loan.renewals,
                           place=_place(self._places, s, copy.shelf_mark, copy.collection,
                                        rec.bbk, copy.sigla))

    # --- privacy ---------------------------------------------------------------------------
    def anonymise_holds(self, now: dt.datetime | None = None) -> int:
        """Remove the reader link from holds closed more than N days ago (``anonymise_after_days``,
        like loans); the category and class stay. Returns the count."""
        cutoff = (now or utcnow()) - dt.timedelta(days=self.policy.anonymise_after_days)
        with self.db.transaction() as s:
            return HS.anonymise(s, cutoff)

    def anonymise_returned(self, now: dt.datetime | None = None) -> int:
        """Remove the reader link from loans returned more than N days ago, and from holds closed
        as long ago (`anonymise_holds`); returns the count of loans. The loans of readers who
        turned their reading history on keep the link (library/circulation/history.py)."""
        now = now or utcnow()
        cutoff = now - dt.timedelta(days=self.policy.anonymise_after_days)
        self.anonymise_holds(now)
        with self.db.transaction() as s:
            # Session.execute() is typed Result; an UPDATE gives a CursorResult (with rowcount)
            res = cast(CursorResult[Any], s.execute(
                update(Loan)
                .where(Loan.returned_at.is_not(None), Loan.returned_at < cutoff, Loan.reader_id.is_not(None),
                       Loan.reader_id.not_in(select(Reader.id).where(Reader.keep_history.is_(True))))
                .values(reader_id=None, anonymised=True)
            ))
            return res.rowcount or 0
