"""Inter-school requests against the database: a desk sends a copy for another school's hold,
the pickup school's desk receives it, copies travel home again; the lists each desk sees.

The rules are library/circulation/holds.py (`may_send`, `fills`, `destination`, the request
states); hold_service.py sets copies aside and sends a copy home after a return elsewhere. Every
write runs inside `CirculationService`'s exactly-once transaction (kinds ``xfer_send``,
``xfer_receive``), like a checkout. Locking: the copy and the hold rows are locked FOR UPDATE on
PostgreSQL; the partial unique index «one open transfer per copy» is the backstop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from library.circulation import errors as E
from library.circulation import hold_service as HS
from library.circulation import holds as H
from library.circulation.values import RequestEntry, TransferView
from library.storage.models import Copy, Hold, Reader, Record, Transfer, as_utc, utcnow

if TYPE_CHECKING:
    from library.circulation.service import CirculationService

GONE = ("lost", "written_off")


def _copies_by_code(svc: CirculationService, s: Session, code: str) -> list[Copy]:
    q = select(Copy).where(or_(Copy.barcode == code, Copy.rfid == code,
                               Copy.inventory_number == code)).order_by(
        (Copy.barcode == code).desc(), Copy.id)
    if HS._pg(svc):
        q = q.with_for_update(of=Copy)
    return list(s.scalars(q))


def _view(s: Session, w: HS.Schools, t: Transfer, outcome: str = "listed",
          hold: Hold | None = None) -> TransferView:
    copy = s.get(Copy, t.copy_id)
    rec = s.get(Record, copy.record_id) if copy is not None else None
    hold = hold if hold is not None else (s.get(Hold, t.hold_id) if t.hold_id else None)
    reader = None
    if hold is not None and hold.reader_id and hold.state in H.ACTIVE:
        reader = HS._name(s.get(Reader, hold.reader_id))
    return TransferView(
        t.id, t.copy_id, (copy.barcode or copy.inventory_number or "") if copy else "",
        rec.title if rec else "", t.from_sigla, w.name(t.from_sigla), t.to_sigla,
        w.name(t.to_sigla), t.hold_id, as_utc(t.sent_at),
        as_utc(t.received_at) if t.received_at else None, outcome, reader,
        hold.pickup_until if hold is not None and hold.state == H.WAITING else None)


def send(svc: CirculationService, s: Session, barcode: str, school: str, terminal: str | None,
         by: str | None) -> TransferView:
    """School `school`'s desk scans a copy of its shelf: it is sent for the oldest queued
    request of another school for its record (hold ``transit``, copy ``in_transit``, a
    transfer row). NotOurCopy for a copy not of this school or not on its shelf (ItemNotFound
    for an unknown code), NoRequest when no other school asks for the book."""
    w = HS.Schools(svc, s)
    here = w.home(school)
    code = barcode.strip()
    found = _copies_by_code(svc, s, code)
    if not found:
        raise E.ItemNotFound(barcode=code)
    copy = next((c for c in found if w.home(c.sigla) == here), None)
    if copy is None or copy.status != "available":
        raise E.NotOurCopy(barcode=code)
    rec = s.get(Record, copy.record_id)
    q = (select(Hold).join(Reader, Hold.reader_id == Reader.id)
         .where(Hold.record_id == copy.record_id, Hold.state == H.QUEUED,
                Hold.request.is_(True), Reader.active.is_(True))
         .order_by(Hold.placed_at, Hold.id))
    if HS._pg(svc):
        q = q.with_for_update(of=Hold, skip_locked=True)
    hold = next((h for h in s.scalars(q)
                 if H.may_send(here, copy.status, w.pickup(h), h.state)), None)
    if hold is None:
        raise E.NoRequest(title=rec.title if rec else "")
    hold.state = H.hold_transition(hold.state, "send")
    hold.copy_id = copy.id
    copy.status = "in_transit"
    row = Transfer(copy_id=copy.id, from_sigla=here, to_sigla=w.pickup(hold), hold_id=hold.id,
                   sent_at=utcnow(), sent_by=(by or terminal or "")[:80] or None)
    s.add(row)
    s.flush()
    svc._bump(s, copy)
    svc._event(s, "transfer_sent", terminal, copy=copy,
               payload={"from": here, "to": row.to_sigla, "hold": hold.id})
    return _view(s, w, row, "sent", hold)


def receive(svc: CirculationService, s: Session, barcode: str, school: str,
            terminal: str | None, by: str | None) -> TransferView:
    """School `school`'s desk scans a copy that arrived: its open transfer to this school is
    received. For a hold still travelling here the copy waits on this school's hold shelf
    (``waiting``, pickup date as at a return); a copy home again goes back on the shelf or to a
    hold of this school (``shelf``); a copy whose hold ended on the way goes home by a new
    transfer (``send_back``). NotInTransit when no copy with this code travels here."""
    w = HS.Schools(svc, s)
    here = w.home(school)
    code = barcode.strip()
    pairs = [(c, s.scalar(select(Transfer).where(Transfer.copy_id == c.id,
                                                  Transfer.received_at.is_(None))))
             for c in _copies_by_code(svc, s, code)]
    copy, row = next(((c, t) for c, t in pairs if t is not None and t.to_sigla == here),
                     (None, None))
    if copy is None or row is None:
        raise E.NotInTransit(barcode=code)
    row.received_at = utcnow()
    row.received_by = (by or terminal or "")[:80] or None
    hold = s.get(Hold, row.hold_id) if row.hold_id else None
    if HS._pg(svc) and hold is not None:
        hold = s.scalar(select(Hold).where(Hold.id == hold.id).with_for_update())
    home = w.home(copy.sigla)
    s.flush()
    svc._event(s, "transfer_received", terminal, copy=copy,
               payload={"from": row.from_sigla, "to": here, "hold": row.hold_id})
    if hold is not None and hold.state == H.TRANSIT and w.pickup(hold) == here:
        copy.status = "reserved"
        HS.arrive(svc, s, hold, copy, terminal)
        svc._bump(s, copy)
        return _view(s, w, row, "waiting", hold)
    if here == home:
        copy.status = "available"
        trapped = HS.trap_returned(svc, s, copy, terminal, offline=False, here=here)
        svc._bump(s, copy)
        return _view(s, w, row, "waiting" if trapped else "shelf",
                     trapped[0] if trapped else None)
    back = HS.send_home(svc, s, copy, here, home, terminal, by)
    svc._bump(s, copy)
    return _view(s, w, back, "send_back")


def transfers(svc: CirculationService, s: Session, school: str | None = None,
              open_only: bool = True, limit: int = 500) -> list[TransferView]:
    """Transfers to or from `school` (None: every school), open ones (not received) unless
    `open_only` is false; newest first."""
    w = HS.Schools(svc, s)
    q = select(Transfer).order_by(Transfer.sent_at.desc(), Transfer.id.desc()).limit(limit)
    if open_only:
        q = q.where(Transfer.received_at.is_(None))
    if school is not None:
        here = w.home(school)
        q = q.where(or_(Transfer.to_sigla == here, Transfer.from_sigla == here))
    return [_view(s, w, t) for t in s.scalars(q)]


def requests_for(svc: CirculationService, s: Session, school: str) -> list[RequestEntry]:
    """Queued requests of other schools for records `school` has copies of (not lost or written
    off): the oldest first, with the number of this school's copies on its shelf."""
    w = HS.Schools(svc, s)
    here = w.home(school)
    if not w.multi:
        return []
    rows = s.execute(
        select(Hold, Record).join(Record, Hold.record_id == Record.id)
        .join(Reader, Hold.reader_id == Reader.id)
        .where(Hold.state == H.QUEUED, Hold.request.is_(True), Reader.active.is_(True),
               exists().where(Copy.record_id == Hold.record_id, Copy.status.not_in(GONE)))
        .order_by(Hold.placed_at, Hold.id)).all()
    out: list[RequestEntry] = []
    for hold, rec in rows:
        pickup = w.pickup(hold)
        if pickup == here:
            continue
        mine = [(c.status, c.shelf_mark) for c in s.scalars(
            select(Copy).where(Copy.record_id == rec.id, Copy.status.not_in(GONE)))
            if w.home(c.sigla) == here]
        if not mine:
            continue
        shelf = next((m for st, m in mine if st == "available" and m), None) or rec.bbk
        out.append(RequestEntry(hold.id, rec.id, rec.title, HS._authors(rec), pickup,
                                w.name(pickup), as_utc(hold.placed_at),
                                sum(1 for st, _ in mine if st == "available"), shelf))
    return out


def counts(svc: CirculationService, s: Session, school: str) -> dict[str, int]:
    """How many open transfers go to and from `school` (the desk's menu badge)."""
    w = HS.Schools(svc, s)
    here = w.home(school)
    q = select(func.count()).select_from(Transfer).where(Transfer.received_at.is_(None))
    return {"incoming": int(s.scalar(q.where(Transfer.to_sigla == here)) or 0),
            "outgoing": int(s.scalar(q.where(Transfer.from_sigla == here)) or 0)}

