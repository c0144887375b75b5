"""Holds against the database: place, cancel, trap at a return, fulfil at a checkout, expire.

The rules are library/circulation/holds.py; this module gathers their facts and writes the
rows, always inside the caller's transaction: `CirculationService` (service.py) runs
`place`/`cancel` exactly once per transaction id (like a checkout), and calls `trap_returned`,
`check_reserved`, `fulfil` and `check_renewal` from inside its checkin, checkout and renew
transactions, so a copy set aside and its hold change together or not at all.

Locking: on PostgreSQL the reader's row (placing: the hold limit) and the hold and copy rows
(cancel, expiry) are locked FOR UPDATE; SQLite transactions are serial (BEGIN IMMEDIATE). The
partial unique indexes (one active hold per reader and record, one waiting hold per copy) are
the backstop; a lost race is retried by `CirculationService._once`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.orm import Session

from library.circulation import errors as E
from library.circulation import holds as H
from library.circulation.overrides import Waiver
from library.circulation.values import ExpiryReport, HoldShelf, HoldView, QueueEntry, ShelfEntry
from library.schools import home_of
from library.storage.models import (
    Copy,
    Event,
    Hold,
    Loan,
    Reader,
    Record,
    School,
    Transfer,
    as_utc,
    utcnow,
)

if TYPE_CHECKING:
    from library.circulation.service import CirculationService

ACTIVE = tuple(H.ACTIVE)


def local_date(value: dt.datetime) -> dt.date:
    """A stored time as the library's (the machine's) calendar day."""
    return as_utc(value).astimezone().date()


def _day_start(day: dt.date) -> dt.datetime:
    """The first moment of a local calendar day, in UTC (as the database keeps times)."""
    return dt.datetime.combine(day, dt.time.min).astimezone().astimezone(dt.timezone.utc)


def _authors(rec: Record) -> str:
    names = [a.split(",")[0].strip() for a in (rec.authors or [])[:2]]
    return ", ".join(n for n in names if n)


def _name(reader: Reader | None) -> str:
    return H.short_name(reader.first_name, reader.last_name, reader.class_name) if reader else ""


def _pg(svc: CirculationService) -> bool:
    return svc.db.backend == "postgresql"


class Schools:
    """The service's schools as one transaction reads them: whose a sigla is
    (`library.schools.home_of`), a hold's pickup school (NULL: the default), their names."""

    def __init__(self, svc: CirculationService, s: Session):
        self.default = svc.default_school or ""
        self.names: dict[str, str] = {code: name for code, name in s.execute(
            select(School.sigla, School.name))}
        self.siglas = frozenset(self.names)
        self.multi = len(self.names) > 1

    def home(self, sigla: str | None) -> str:
        """The school a copy or reader with this sigla belongs to."""
        return home_of(sigla, self.default, self.siglas)

    def pickup(self, hold: Hold) -> str:
        """The hold's pickup school."""
        return self.home(hold.pickup_sigla) if hold.pickup_sigla else self.default

    def stored(self, school: str) -> str | None:
        """A pickup school as ``holds.pickup_sigla`` keeps it (NULL: the default school)."""
        return None if school == self.default else school

    def name(self, school: str | None) -> str:
        return self.names.get(school or "", school or "")

    def pickup_clause(self, school: str) -> Any:
        """The SQL form of `holds.fills` for holds picked up at `school` (None: no filter, one
        school: every copy fills every hold)."""
        if not self.multi:
            return None
        if school == self.default:
            others = [c for c in self.names if c != self.default]
            return Hold.pickup_sigla.is_(None) | Hold.pickup_sigla.not_in(others)
        return Hold.pickup_sigla == school


def _event(s: Session, kind: str, hold: Hold, terminal: str | None, *, sigla: str | None = None,
           copy_id: int | None = None, payload: dict[str, Any] | None = None) -> None:
    s.execute(insert(Event).values(
        ts=utcnow(), kind=kind, terminal=terminal, sigla=sigla,
        reader_category=hold.reader_category, reader_class=hold.reader_class,
        record_id=hold.record_id, copy_id=copy_id if copy_id is not None else hold.copy_id,
        payload=payload or {}))


def _position(s: Session, hold: Hold) -> int:
    """1-based place of a queued hold among the record's queued holds (0 when not queued)."""
    if hold.state != H.QUEUED:
        return 0
    ahead = s.scalar(select(func.count()).select_from(Hold).where(
        Hold.record_id == hold.record_id, Hold.state == H.QUEUED,
        (Hold.placed_at < hold.placed_at)
        | ((Hold.placed_at == hold.placed_at) & (Hold.id < hold.id))))
    return int(ahead or 0) + 1


def view(svc: CirculationService, s: Session, hold: Hold, rec: Record | None = None,
         w: Schools | None = None) -> HoldView:
    """A hold as its reader sees it."""
    w = w or Schools(svc, s)
    rec = rec or s.get(Record, hold.record_id)
    barcode = None
    copy = s.get(Copy, hold.copy_id) if hold.copy_id else None
    if hold.state == H.WAITING and copy is not None:
        barcode = copy.barcode or copy.inventory_number
    pickup = w.pickup(hold)
    source = None
    if w.multi:
        if hold.state in (H.WAITING, H.TRANSIT) and copy is not None:
            home = w.home(copy.sigla)
            source = w.name(home) if home != pickup else None
        elif hold.state == H.QUEUED and hold.request:
            source = _likely_source(s, w, hold.record_id, pickup)
    return HoldView(hold.id, hold.record_id, rec.title if rec else "", _authors(rec) if rec else "",
                    hold.state, _position(s, hold), as_utc(hold.placed_at),
                    hold.pickup_until if hold.state == H.WAITING else None, barcode,
                    (svc.hold_rules.shelf_note or None) if hold.state == H.WAITING else None,
                    pickup=pickup or None, pickup_name=w.name(pickup) or None,
                    request=bool(hold.request), from_school=source)


def _likely_source(s: Session, w: Schools, record_id: int, pickup: str) -> str | None:
    """The name of the school a request's copy will likely come from: one with a copy on its
    shelf, else one with a copy a hold could wait for."""
    best: tuple[bool, str] | None = None
    for sigla, status in s.execute(select(Copy.sigla, Copy.status).where(
            Copy.record_id == record_id, Copy.status.in_(H.HOLDABLE_STATUSES))):
        home = w.home(sigla)
        if home == pickup:
            continue
        key = (status != "available", w.name(home))
        best = key if best is None or key < best else best
    return best[1] if best else None


# --- place and cancel ----------------------------------------------------------------------------
def place(svc: CirculationService, s: Session, card: str, record_id: int, txn_id: str,
          terminal: str | None, by: str | None, pickup: str | None = None) -> HoldView:
    """Queue the reader with `card` for the record (the rules: holds.check_place), to be
    picked up at school `pickup` (None: the reader's school). With several schools the shelf
    rule counts the pickup school's shelf, and a hold whose pickup school has no copy on its
    shelf while another school has one is a request (holds.is_request)."""
    q = select(Reader).where(Reader.card_number == card.strip())
    if _pg(svc):
        q = q.with_for_update(key_share=True, of=Reader)  # FOR NO KEY UPDATE: places run in turn
    reader = s.scalar(q)
    if reader is None or not reader.active:
        raise E.ReaderNotFound(card=card)
    rec = s.get(Record, record_id) if 0 < record_id < 2**31 else None
    if rec is None:
        raise E.RecordNotFound()
    w = Schools(svc, s)
    if pickup is not None and pickup.strip() and pickup.strip() not in w.names \
            and pickup.strip() != w.default:
        raise E.BadPickup(sigla=pickup.strip()[:32])
    school = w.home(pickup.strip()) if pickup and pickup.strip() else w.home(reader.sigla)
    copies = select(Copy.status, Copy.sigla).where(Copy.record_id == rec.id)
    if svc.sigla:
        copies = copies.where(Copy.sigla == svc.sigla)
    rows = [(st, w.home(sg)) for st, sg in s.execute(copies)]
    statuses = [st for st, home in rows if home == school]
    elsewhere = sum(1 for st, home in rows if home != school and st in H.HOLDABLE_STATUSES)
    active = select(func.count()).select_from(Hold).where(
        Hold.reader_id == reader.id, Hold.state.in_(ACTIVE))
    queued = select(exists().where(Hold.reader_id == reader.id, Hold.record_id == rec.id,
                                   Hold.state.in_(ACTIVE)))
    has = select(exists().where(Loan.reader_id == reader.id, Loan.returned_at.is_(None),
                                Loan.copy_id == Copy.id, Copy.record_id == rec.id))
    facts = H.PlaceFacts(
        reader.category, reader.blocked, int(s.scalar(active) or 0), bool(s.scalar(queued)),
        bool(s.scalar(has)), rec.item_type or "book",
        sum(1 for st in statuses if st in H.HOLDABLE_STATUSES) + elsewhere,
        sum(1 for st in statuses if st == "available"), reader.class_name, rec.age_min)
    try:
        # a hold has no copy yet: the reader's school's limits (school_rules.py)
        H.check_place(svc.policy_for(s.connection(), reader.sigla), svc.hold_rules, facts)
    except E.CirculationError as exc:
        exc.params.setdefault("title", rec.title)
        raise
    hold = Hold(record_id=rec.id, reader_id=reader.id, reader_category=reader.category,
                reader_class=reader.class_name, state=H.hold_transition(H.NEW, "place"),
                placed_at=utcnow(), placed_txn=txn_id,
                placed_by=(by or terminal or "")[:80] or None, offline=False, anonymised=False,
                pickup_sigla=w.stored(school),
                request=H.is_request(facts.on_shelf_copies, elsewhere))
    s.add(hold)
    s.flush()
    _event(s, "hold_placed", hold, terminal, sigla=svc.sigla)
    return view(svc, s, hold, rec, w)


def cancel(svc: CirculationService, s: Session, hold_id: int, card: str | None,
           terminal: str | None, by: str | None) -> HoldView:
    """Cancel a hold: with `card` only that reader's own (NotYourHold), else the librarian's."""
    q = select(Hold).where(Hold.id == hold_id)
    if _pg(svc):
        q = q.with_for_update()
    hold = s.scalar(q) if 0 < hold_id < 2**31 else None
    if hold is None:
        raise E.HoldNotFound()
    if card is not None:
        reader = s.scalar(select(Reader).where(Reader.card_number == card.strip()))
        if reader is None:
            raise E.ReaderNotFound(card=card)
        if hold.reader_id != reader.id:
            raise E.NotYourHold()
    was = hold.state
    _close(s, hold, H.hold_transition(was, "cancel"), "reader" if card is not None else "librarian")
    _event(s, "hold_cancelled", hold, terminal, sigla=svc.sigla,
           payload={"was": was, "by": "reader" if card is not None else (by or "librarian")})
    if was == H.WAITING and hold.copy_id:
        _release(svc, s, hold.copy_id, svc.today(), terminal, at=hold)
    s.flush()
    return view(svc, s, hold)


def _close(s: Session, hold: Hold, state: str, reason: str) -> None:
    hold.state = state
    hold.closed_at = utcnow()
    hold.close_reason = reason


# --- the copy set aside ------------------------------------------------------------------------
def _first_queued(svc: CirculationService, s: Session, record_id: int,
                  w: Schools | None = None, school: str | None = None) -> Hold | None:
    """The record's first queued hold of a reader who may still borrow (active), picked up at
    `school` (holds.fills: a copy there fills only such holds). On PostgreSQL
    the hold is locked, skipping one another return is setting aside right now (two copies
    of a record returned at once go to the first two readers, not both to the first)."""
    q = (select(Hold).join(Reader, Hold.reader_id == Reader.id)
         .where(Hold.record_id == record_id, Hold.state == H.QUEUED, Reader.active.is_(True))
         .order_by(Hold.placed_at, Hold.id).limit(1))
    clause = w.pickup_clause(school) if w is not None and school is not None else None
    if clause is not None:
        q = q.where(clause)
    if _pg(svc):
        q = q.with_for_update(of=Hold, skip_locked=True)
    return s.scalar(q)


def _trap(svc: CirculationService, s: Session, hold: Hold, copy: Copy, today: dt.date,
          terminal: str | None, offline: bool, step: str = "trap", **payload: Any) -> None:
    """The copy waits on the hold shelf for this hold (`step`: ``trap`` at a return, ``arrive``
    when a transfer brings it), the pickup date counted from `today`."""
    hold.state = H.hold_transition(hold.state, step)
    hold.copy_id = copy.id
    hold.waiting_since = utcnow()
    hold.pickup_until = H.pickup_until(svc.policy.calendar, today, svc.hold_rules.pickup_days)
    hold.offline = offline
    copy.status = "reserved"
    s.flush()
    _event(s, "hold_waiting", hold, terminal, sigla=copy.sigla, copy_id=copy.id,
           payload={"wait_days": H.wait_days(local_date(hold.placed_at), today),
                    "offline": offline, **payload})


def arrive(svc: CirculationService, s: Session, hold: Hold, copy: Copy,
           terminal: str | None) -> None:
    """A copy sent for an inter-school request reached the pickup school: the hold waits there
    (``transit`` → ``waiting``), pickup date counted from today as at a return."""
    _trap(svc, s, hold, copy, svc.today(), terminal, False, "arrive", transfer=True)


def _shelf_entry(s: Session, hold: Hold, copy: Copy, rec: Record | None = None) -> ShelfEntry:
    rec = rec or s.get(Record, copy.record_id)
    reader = s.get(Reader, hold.reader_id) if hold.reader_id else None
    return ShelfEntry(hold.id, copy.id, copy.barcode or copy.inventory_number or "",
                      rec.title if rec else "", _name(reader), reader.card_number if reader else None,
                      hold.pickup_until, hold.offline, hold.state)


def _release(svc: CirculationService, s: Session, copy_id: int, today: dt.date,
             terminal: str | None, at: Hold | None = None) -> tuple[str, ShelfEntry] | None:
    """A set-aside copy whose hold `at` ended: to the next queued reader of its school
    (``passed``, a new waiting hold from today) or back to the shelves (``shelf``, status
    available); a copy of another school waiting at `at`'s pickup school goes home (``shelf``,
    in transit with a transfer row). None when the copy is no longer set aside (lent, lost)."""
    s.flush()
    q = select(Copy).where(Copy.id == copy_id)
    if _pg(svc):
        q = q.with_for_update()
    copy = s.scalar(q)
    if copy is None or copy.status != "reserved":
        return None
    w = Schools(svc, s)
    home = w.home(copy.sigla)
    here = w.pickup(at) if at is not None else home
    if H.destination(home, here) is not None:
        send_home(svc, s, copy, here, home, terminal)
        return "shelf", _shelf_entry(s, at, copy) if at is not None else \
            ShelfEntry(0, copy.id, copy.barcode or "", "", "", None, None, False, "")
    nxt = _first_queued(svc, s, copy.record_id, w, home)
    if nxt is not None:
        _trap(svc, s, nxt, copy, today, terminal, offline=False)
        svc._bump(s, copy)
        return "passed", _shelf_entry(s, nxt, copy)
    old = s.scalar(select(Hold).where(Hold.copy_id == copy.id, Hold.state != H.WAITING)
                   .order_by(Hold.closed_at.desc(), Hold.id.desc()).limit(1))
    copy.status = "available"
    svc._bump(s, copy)
    return "shelf", (_shelf_entry(s, old, copy) if old is not None else
                     ShelfEntry(0, copy.id, copy.barcode or "", "", "", None, None, False, ""))


def send_home(svc: CirculationService, s: Session, copy: Copy, here: str, home: str,
              terminal: str | None, by: str | None = None) -> Transfer:
    """A copy of school `home` at school `here` goes home: status in transit, a transfer row
    (no hold), event ``transfer_sent``."""
    copy.status = "in_transit"
    row = Transfer(copy_id=copy.id, from_sigla=here, to_sigla=home, hold_id=None,
                   sent_at=utcnow(), sent_by=(by or terminal or "")[:80] or None)
    s.add(row)
    s.flush()
    svc._event(s, "transfer_sent", terminal, copy=copy,
               payload={"from": here, "to": home, "hold": None})
    return row


def trap_returned(svc: CirculationService, s: Session, copy: Copy, terminal: str | None,
                  offline: bool, here: str | None = None) -> tuple[Hold, str] | None:
    """A copy just returned (status available) at school `here` (None: not said — the desk,
    the CLI): set it aside for the record's first queued reader picked up at the copy's own
    school (holds.fills), if any. Returns the hold and «Анна К., 5А». A copy of another school
    returned at `here` is not set aside: `return_elsewhere` sends it home."""
    if copy.status != "available" or not svc.hold_rules.enabled:
        return None
    w = Schools(svc, s)
    hold = _first_queued(svc, s, copy.record_id, w, w.home(copy.sigla))
    if hold is None:
        return None
    _trap(svc, s, hold, copy, svc.today(), terminal, offline)
    return hold, _name(s.get(Reader, hold.reader_id) if hold.reader_id else None)


def return_elsewhere(svc: CirculationService, s: Session, copy: Copy, here: str | None,
                     terminal: str | None) -> str | None:
    """A copy returned (status available) at school `here`: when it is another school's
    (holds.destination) it is set aside to be sent home — in transit, a transfer row — and
    the home school's name is returned («Эта книга из Гимназии № 5: отложи её для отправки»)."""
    if copy.status != "available" or here is None:
        return None
    w = Schools(svc, s)
    home = w.home(copy.sigla)
    if not w.multi or H.destination(home, w.home(here)) is None:
        return None
    send_home(svc, s, copy, w.home(here), home, terminal)
    return w.name(home)


def wanted_elsewhere(svc: CirculationService, s: Session, copy: Copy) -> str | None:
    """A copy back on its own school's shelf (nobody of that school queued for it): the name of
    the pickup school of the oldest queued request of another school for its record (holds.
    may_send), which the desk should send it to; None when none asks (or one school)."""
    if copy.status != "available" or not svc.hold_rules.enabled:
        return None
    w = Schools(svc, s)
    if not w.multi:
        return None
    home = w.home(copy.sigla)
    rows = s.scalars(select(Hold).join(Reader, Hold.reader_id == Reader.id).where(
        Hold.record_id == copy.record_id, Hold.state == H.QUEUED, Hold.request.is_(True),
        Reader.active.is_(True)).order_by(Hold.placed_at, Hold.id))
    first = next((h for h in rows if H.may_send(home, copy.status, w.pickup(h), h.state)), None)
    return w.name(w.pickup(first)) if first is not None else None


def in_transit_to(svc: CirculationService, s: Session, copy_id: int) -> str | None:
    """The name of the school an in-transit copy goes home to (its open transfer without a
    hold); None for a copy travelling for a request (its desk receives it, not a return)."""
    to = s.scalar(select(Transfer.to_sigla).where(Transfer.copy_id == copy_id,
                                                  Transfer.received_at.is_(None),
                                                  Transfer.hold_id.is_(None)))
    return Schools(svc, s).name(to) if to is not None else None


def waiting_here(svc: CirculationService, s: Session, code: str, school: str,
                 reader_id: int) -> str | None:
    """The sigla of another school's copy with this code that waits on `school`'s hold shelf
    for `reader_id` (holds.lend_across: the one exception to ``other_school``); raises
    ReservedForAnother when it waits there for another reader; None otherwise."""
    w = Schools(svc, s)
    rows = s.execute(select(Copy.sigla, Hold).join(Hold, Hold.copy_id == Copy.id).where(
        (Copy.barcode == code) | (Copy.rfid == code) | (Copy.inventory_number == code),
        Copy.status == "reserved", Hold.state == H.WAITING)).all()
    for sigla, hold in rows:
        try:
            if H.lend_across(w.home(school), w.home(sigla), w.pickup(hold), hold.reader_id,
                             reader_id):
                return str(sigla)
        except E.ReservedForAnother as exc:
            rec = s.get(Record, hold.record_id)
            exc.params.setdefault("title", rec.title if rec else "")
            raise
    return None


def waiting_for(s: Session, copy_id: int) -> tuple[Hold, str] | None:
    """The waiting hold a copy is set aside for, and the reader's short name."""
    hold = s.scalar(select(Hold).where(Hold.copy_id == copy_id, Hold.state == H.WAITING))
    if hold is None:
        return None
    return hold, _name(s.get(Reader, hold.reader_id) if hold.reader_id else None)


def check_reserved(s: Session, copy_id: int, reader_id: int, title: str) -> None:
    """A checkout of a ``reserved`` copy: only its hold's reader may take it."""
    held = s.connection().execute(select(Hold.reader_id).where(
        Hold.copy_id == copy_id, Hold.state == H.WAITING)).first()
    if held is not None and held.reader_id != reader_id:
        raise E.ReservedForAnother(title=title)


def fulfil(svc: CirculationService, s: Session, reader_id: int, copy_id: int, record_id: int,
           terminal: str | None, sigla: str | None) -> None:
    """After a checkout: the reader's active hold on the record is fulfilled; a copy set aside
    for it that was not the one lent passes on (or back to the shelf)."""
    hold = s.scalar(select(Hold).where(Hold.reader_id == reader_id, Hold.record_id == record_id,
                                       Hold.state.in_(ACTIVE)))
    if hold is None:
        return
    other = hold.copy_id if hold.state == H.WAITING and hold.copy_id != copy_id else None
    today = svc.today()
    _close(s, hold, H.hold_transition(hold.state, "fulfil"), "checkout")
    hold.copy_id = copy_id
    s.flush()
    _event(s, "hold_fulfilled", hold, terminal, sigla=sigla, copy_id=copy_id,
           payload={"wait_days": H.wait_days(local_date(hold.placed_at), today)})
    if other is not None:
        _release(svc, s, other, today, terminal, at=hold)


def check_renewal(svc: CirculationService, s: Session, reader_id: int, record_id: int,
                  waiver: Waiver | None) -> None:
    """A renewal while other (active) readers queue for the record: RenewalHeld."""
    if not svc.hold_rules.enabled:
        return
    others = s.scalar(select(func.count()).select_from(Hold).join(Reader, Hold.reader_id == Reader.id)
                      .where(Hold.record_id == record_id, Hold.state == H.QUEUED,
                             Hold.reader_id != reader_id, Reader.active.is_(True)))
    if not others:
        return
    shelf = select(func.count()).select_from(Copy).where(Copy.record_id == record_id,
                                                         Copy.status == "available")
    if svc.sigla:
        shelf = shelf.where(Copy.sigla == svc.sigla)
    H.check_renewal(int(others), int(s.scalar(shelf) or 0), waiver)


# --- lists -----------------------------------------------------------------------------------------
def reader_holds(svc: CirculationService, s: Session, card: str) -> list[HoldView]:
    """The reader's active holds: waiting first (soonest end), then queued (oldest first)."""
    reader = s.scalar(select(Reader).where(Reader.card_number == card.strip()))
    if reader is None:
        raise E.ReaderNotFound(card=card)
    rows = s.scalars(select(Hold).where(Hold.reader_id == reader.id, Hold.state.in_(ACTIVE))
                     .order_by((Hold.state == H.WAITING).desc(), Hold.pickup_until,
                               Hold.placed_at, Hold.id)).all()
    return [view(svc, s, h) for h in rows]


def all_active(svc: CirculationService, s: Session) -> list[tuple[HoldView, str, str | None]]:
    """Every active hold with its reader's short name and card (the librarian's list)."""
    rows = s.execute(select(Hold, Reader).outerjoin(Reader, Hold.reader_id == Reader.id)
                     .where(Hold.state.in_(ACTIVE))
                     .order_by(Hold.record_id, Hold.placed_at, Hold.id)).all()
    return [(view(svc, s, h), _name(r), r.card_number if r else None) for h, r in rows]


def queue(s: Session, record_id: int) -> list[QueueEntry]:
    """A record's active holds for the librarian: the waiting ones, then the queue in order."""
    rows = s.execute(select(Hold, Reader, Copy).outerjoin(Reader, Hold.reader_id == Reader.id)
                     .outerjoin(Copy, Hold.copy_id == Copy.id)
                     .where(Hold.record_id == record_id, Hold.state.in_(ACTIVE))
                     .order_by((Hold.state == H.WAITING).desc(), Hold.placed_at, Hold.id)).all()
    out, n = [], 0
    for hold, reader, copy in rows:
        if hold.state == H.QUEUED:
            n += 1
        out.append(QueueEntry(n if hold.state == H.QUEUED else 0, hold.id, hold.reader_id,
                              reader.card_number if reader else None, _name(reader),
                              as_utc(hold.placed_at), hold.state,
                              hold.pickup_until if hold.state == H.WAITING else None,
                              (copy.barcode or copy.inventory_number) if copy is not None
                              and hold.state == H.WAITING else None))
    return out


def shelf(s: Session, today: dt.date) -> HoldShelf:
    """The hold shelf: copies waiting (soonest end first), and the copies whose hold ended
    today and which are back to ``available``: take them off the hold shelf."""
    waiting = [_shelf_entry(s, h, c, r) for h, c, r in s.execute(
        select(Hold, Copy, Record).join(Copy, Hold.copy_id == Copy.id)
        .join(Record, Hold.record_id == Record.id).where(Hold.state == H.WAITING)
        .order_by(Hold.pickup_until, Hold.id)).all()]
    ended = s.execute(
        select(Hold, Copy, Record).join(Copy, Hold.copy_id == Copy.id)
        .join(Record, Hold.record_id == Record.id)
        .where(Hold.state.in_((H.EXPIRED, H.CANCELLED)), Hold.closed_at >= _day_start(today),
               Copy.status == "available")
        .order_by(Hold.closed_at.desc(), Hold.id.desc())).all()
    seen: set[int] = set()
    take_off = []
    for h, c, r in ended:
        if c.id not in seen:
            seen.add(c.id)
            take_off.append(_shelf_entry(s, h, c, r))
    return HoldShelf(today, waiting, take_off)


# --- the daily job -------------------------------------------------------------------------------
def expire(svc: CirculationService, s: Session, today: dt.date) -> ExpiryReport:
    """Cancel the holds of readers who left; expire queued holds older than ``queue_days`` and
    waiting holds past ``pickup_until`` (their copy goes to the next reader or back to the
    shelves). A second run the same day finds nothing to do."""
    lock: dict[str, Any] = {"of": Hold} if _pg(svc) else {}
    cancelled: list[int] = []
    expired_q: list[int] = []
    expired_w: list[int] = []
    passed: list[ShelfEntry] = []
    take_off: list[ShelfEntry] = []

    def released(copy_id: int | None, hold: Hold) -> None:
        if copy_id is None:
            return
        res = _release(svc, s, copy_id, today, "expire", at=hold)
        if res is not None:
            (passed if res[0] == "passed" else take_off).append(res[1])

    gone = select(Hold).outerjoin(Reader, Hold.reader_id == Reader.id).where(
        Hold.state.in_(ACTIVE), (Reader.id.is_(None)) | (Reader.active.is_(False))
    ).order_by(Hold.id)
    for hold in s.scalars(gone.with_for_update(**lock) if lock else gone).all():
        was = hold.state
        _close(s, hold, H.hold_transition(was, "cancel"), "reader_inactive")
        _event(s, "hold_cancelled", hold, "expire", sigla=svc.sigla,
               payload={"was": was, "by": "system"})
        cancelled.append(hold.id)
        if was == H.WAITING:
            released(hold.copy_id, hold)
    if svc.hold_rules.queue_days > 0:
        q = select(Hold).where(Hold.state == H.QUEUED).order_by(Hold.id)
        for hold in s.scalars(q.with_for_update(**lock) if lock else q).all():
            if H.queued_expired(local_date(hold.placed_at), today, svc.hold_rules.queue_days):
                _close(s, hold, H.hold_transition(hold.state, "expire"), "queue_days")
                _event(s, "hold_expired", hold, "expire", sigla=svc.sigla,
                       payload={"was": H.QUEUED})
                expired_q.append(hold.id)
    q = select(Hold).where(Hold.state == H.WAITING, Hold.pickup_until < today).order_by(
        Hold.pickup_until, Hold.id)
    for hold in s.scalars(q.with_for_update(**lock) if lock else q).all():
        if not H.waiting_expired(hold.pickup_until, today):
            continue
        _close(s, hold, H.hold_transition(hold.state, "expire"), "not_picked_up")
        _event(s, "hold_expired", hold, "expire", sigla=svc.sigla, payload={"was": H.WAITING})
        expired_w.append(hold.id)
        released(hold.copy_id, hold)
    s.flush()
    return ExpiryReport(today, expired_w, expired_q, cancelled, passed, take_off)


def anonymise(s: Session, cutoff: dt.datetime) -> int:
    """Unlink readers from holds closed before `cutoff` (category and class stay)."""
    res = s.execute(update(Hold).where(Hold.closed_at.is_not(None), Hold.closed_at < cutoff,
                                       Hold.state.not_in(ACTIVE), Hold.reader_id.is_not(None))
                    .values(reader_id=None, anonymised=True)
                    .execution_options(synchronize_session=False))
    return int(getattr(res, "rowcount", 0) or 0)
