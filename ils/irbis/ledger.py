"""Loans written into ИРБИС64: the reader's RDR field 40 and the copy's 910^a, exactly once.

The local database stays the place of the loan rules; a checkout, return or renewal made with
``[circulation] backend = "irbis"`` leaves one row in the outbox table ``irbis_outbox`` in the
same transaction as the local loan (ils/irbis/circulation.py). `IrbisLedger.push_pending` then
writes the rows into ИРБИС in order, each record read with a lock, changed, written (which
releases the lock):

* checkout — RDR: a new field 40 (``^f ******`` while out), unless an open 40 with this copy is
  there already (the write reached the server but its answer was lost: read back, nothing
  added); IBIS: the copy's 910^a = 1;
* return — RDR: the open 40 of this copy gets ``^f`` the return date, ``^2`` the time, ``^r``
  the place; IBIS: 910^a = 0;
* renew — RDR: the open 40 gets ``^e`` the new due date, ``^4`` the renewal count, ``^l`` the
  renewal date.

Each step checks the state before it changes it, so a row pushed twice (a lost answer, a
process killed before the row was marked done, two pushers at once) changes ИРБИС once. A
locked record (another ИРБИС workstation edits it) is tried `lock_tries` times `lock_wait`
seconds apart, then the row stays pending with the error; ИРБИС away leaves every row pending.
A row that can never succeed (the reader is not in RDR, the copy not in the catalogue database)
is marked ``failed`` with its reason; `ibc irbis push --json` lists both.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, func, insert, select, update
from sqlalchemy.orm import Session

from ils.irbis.client import IrbisClient
from ils.irbis.errors import (
    N_,
    IrbisAuthError,
    IrbisError,
    IrbisNoRights,
    IrbisRecordDeleted,
    IrbisRecordLocked,
    IrbisRecordNotFound,
    IrbisUnavailable,
)
from ils.irbis.record import Field, IrbisRecord
from library.storage.database import Database
from library.storage.models import utcnow

log = logging.getLogger(__name__)
_T = TypeVar("_T")

ON_LOAN = "******"  # 40^f while the copy is out (PlusIrbis Visit.cpp; PROTOCOLS.md (c))
FREE, ISSUED = "0", "1"  # 910^a (ManagedIrbis5 ExemplarStatus.cs)

PENDING, PUSHING, DONE, FAILED = "pending", "pushing", "done", "failed"
WAITING = (PENDING, PUSHING)  # not written yet
LEASE = dt.timedelta(minutes=5)  # a row «pushing» longer than this: its pusher died, try again

# migration 0018_irbis_outbox; its own MetaData: library's models never know of ils.
OUTBOX = Table(
    "irbis_outbox", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("txn_id", String(64), nullable=False, unique=True),
    Column("action", String(16), nullable=False),       # checkout | return | renew
    Column("card", String(64)),                         # the reader (None: found by HIN=)
    Column("barcode", String(64), nullable=False),
    Column("inventory", String(64)),
    Column("record_mfn", Integer),                      # the copy's catalogue record
    Column("payload", JSON, nullable=False),            # the subfields to write
    Column("created", DateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False),        # pending | pushing | done | failed
    Column("claimed_at", DateTime(timezone=True)),      # when a pusher took it («pushing»)
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(500)),
    Column("done_at", DateTime(timezone=True)),
)


class IrbisNotInIrbis(IrbisError):
    """The reader or the copy a pending row names is not in ИРБИС: the row cannot be written."""

    code = "irbis_not_in_irbis"
    template = N_("Not in the ИРБИС database {database}: {what} {key}")


@dataclass(frozen=True)
class IrbisConfig:
    """The ``[irbis]`` settings the ledger needs (config.settings.IrbisSettings)."""

    host: str
    port: int = 6666
    user: str = ""
    password: str = ""
    database: str = "IBIS"
    readers_database: str = "RDR"
    sigla: str = ""
    workstation: str = "C"
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, irbis: Any) -> IrbisConfig:
        password = irbis.password
        if hasattr(password, "get_secret_value"):
            password = password.get_secret_value()
        return cls(irbis.host, irbis.port, irbis.user, str(password), irbis.database,
                   irbis.readers_database, irbis.sigla, irbis.workstation, irbis.timeout_s)


@dataclass(frozen=True)
class CopyFacts:
    """A copy as ИРБИС holds it: its catalogue record and the 910 repeat of the code."""

    mfn: int
    status: str          # 910^a
    barcode: str         # 910^h (or the code asked for)
    inventory: str       # 910^b
    place: str           # 910^d
    shelf: str           # 903: the record key, written as 40^a
    title: str           # 200^a


@dataclass
class PushReport:
    """What a push did: rows done, left pending and failed (with their errors)."""

    done: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # txn → the error's code

    def to_dict(self) -> dict[str, Any]:
        return {"done": self.done, "pending": self.pending, "failed": self.failed,
                "errors": self.errors, "codes": self.codes}


def _quote(code: str) -> str:
    """A code inside a quoted search term (a quote or control character cannot break out)."""
    return "".join(ch for ch in code.strip() if ch != '"' and ch >= " ")


def is_open(loan: Field) -> bool:
    """An RDR field 40 whose copy is still out (^f ``******``)."""
    return (loan.get("f") or "").strip() == ON_LOAN


def matches(loan: Field, barcode: str, inventory: str | None = None) -> bool:
    """True when field 40 names this copy (^h the barcode/RFID, else ^b the inventory number)."""
    h = (loan.get("h") or "").strip().upper()
    if h:
        return h == barcode.strip().upper()
    b = (loan.get("b") or "").strip().upper()
    return bool(b) and b in {barcode.strip().upper(), (inventory or "").strip().upper()}


def card_of(reader: IrbisRecord) -> str:
    """The reader's card: RDR field 30 (a plain value; ^a in some exports)."""
    return (reader.first(30) or reader.first(30, "a") or "").strip()


def open_loans(reader: IrbisRecord) -> list[Field]:
    """The reader's open loans in RDR (field 40 with ^f ``******``)."""
    return [f for f in reader.fields_of(40) if is_open(f)]


def _transient(exc: IrbisError) -> bool:
    return not isinstance(exc, IrbisNotInIrbis | IrbisRecordNotFound | IrbisRecordDeleted)


class IrbisLedger:
    """Facts read live from ИРБИС (readers, copies) and the outbox written into it."""

    def __init__(self, db: Database, config: IrbisConfig, *, client: IrbisClient | None = None,
                 lock_tries: int = 3, lock_wait: float = 0.3,
                 sleep: Callable[[float], None] = time.sleep, away_for: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.db = db
        self.config = config
        self.client = client or IrbisClient(config.host, config.port, config.user,
                                            config.password, workstation=config.workstation,
                                            timeout=config.timeout)
        self.lock_tries = max(1, lock_tries)
        self.lock_wait = lock_wait
        self.sleep = sleep
        # A server that let a request time out is taken as away for `away_for` seconds: the
        # next live checks answer at once instead of each waiting `timeout` (a refused
        # connection costs nothing and is not remembered).
        self.away_for = away_for
        self.clock = clock
        self._away_until = 0.0
        self._push_lock = threading.Lock()

    # --- the connection ------------------------------------------------------------------
    def _irbis(self) -> IrbisClient:
        if not self.client.connected:
            self.client.connect()
        return self.client

    def _live(self, ask: Callable[[IrbisClient], _T]) -> _T:
        """One live question to ИРБИС, remembering a server that did not answer in time."""
        started = self.clock()
        if started < self._away_until:
            raise IrbisUnavailable(address=f"{self.config.host}:{self.config.port}",
                                   reason="it did not answer a moment ago")
        try:
            return ask(self._irbis())
        except IrbisUnavailable:
            if self.clock() - started >= min(1.0, self.config.timeout / 2):
                self._away_until = self.clock() + self.away_for
            raise

    def close(self) -> None:
        self.client.disconnect()

    # --- live facts ----------------------------------------------------------------------
    def reader(self, card: str) -> IrbisRecord | None:
        """The RDR record with this card (field 30, searched as RI=), None when there is none."""
        key = _quote(card)
        if not key:
            return None

        def ask(irbis: IrbisClient) -> IrbisRecord | None:
            for mfn in irbis.search(self.config.readers_database, f'"RI={key}"', limit=5):
                rec = irbis.read_record(self.config.readers_database, mfn)
                if not rec.deleted and card_of(rec).upper() == key.upper():
                    return rec
            return None

        return self._live(ask)

    def reader_by_item(self, barcode: str, inventory: str | None = None) -> IrbisRecord | None:
        """The reader who has this copy on loan in ИРБИС: the RDR search HIN= over 40^h (an
        RFID stations' dictionary, unverified against a real RDR FST), then the open 40."""
        key = _quote(barcode)
        if not key:
            return None

        def ask(irbis: IrbisClient) -> IrbisRecord | None:
            for mfn in irbis.search(self.config.readers_database, f'"HIN={key}"', limit=20):
                rec = irbis.read_record(self.config.readers_database, mfn)
                if not rec.deleted and any(matches(f, key, inventory) for f in open_loans(rec)):
                    return rec
            return None

        return self._live(ask)

    def copy(self, code: str) -> CopyFacts | None:
        """The copy with this barcode/RFID (H=, 910^h) or inventory number (IN=, 910^b) in the
        catalogue database, of the school's sigla (910^d) when one is set; None if none."""
        key = _quote(code)
        if not key:
            return None
        db = self.config.database

        def ask(irbis: IrbisClient) -> CopyFacts | None:
            mfns = irbis.search(db, f'"H={key}"', limit=10) \
                or irbis.search(db, f'"IN={key}"', limit=10)
            for mfn in mfns:
                rec = irbis.read_record(db, mfn)
                if rec.deleted:
                    continue
                found = self._exemplar(rec, key)
                if found is not None:
                    return CopyFacts(rec.mfn, (found.get("a") or "").strip(),
                                     (found.get("h") or key).strip(),
                                     (found.get("b") or "").strip(),
                                     (found.get("d") or "").strip(),
                                     (rec.first(903) or "").strip(),
                                     (rec.first(200, "a") or "").strip())
            return None

        return self._live(ask)

    def _exemplar(self, rec: IrbisRecord, code: str) -> Field | None:
        code = code.strip().upper()
        for f in rec.fields_of(910):
            if self.config.sigla and (f.get("d") or "").strip() != self.config.sigla:
                continue
            if code in {(f.get("h") or "").strip().upper(), (f.get("b") or "").strip().upper()}:
                return f
        return None

    def brief(self, mfn: int, fallback: str) -> str:
        """The catalogue's brief description (@brief) for 40^c, else `fallback` (the title)."""
        try:
            text = self._live(lambda irbis: irbis.format(self.config.database, mfn, "@brief"))
            text = text.strip()
        except IrbisError as exc:
            if isinstance(exc, IrbisUnavailable):
                raise
            text = ""
        return " ".join(text.split())[:500] or fallback

    # --- the outbox ----------------------------------------------------------------------
    @staticmethod
    def enqueue(session: Session, txn_id: str, action: str, *, card: str | None, barcode: str,
                inventory: str | None, record_mfn: int | None, payload: dict[str, Any]) -> None:
        """One outbox row, in the caller's transaction (the local loan's)."""
        session.execute(insert(OUTBOX).values(
            txn_id=txn_id, action=action, card=card, barcode=barcode, inventory=inventory or None,
            record_mfn=record_mfn, payload=payload, created=utcnow(), state=PENDING, attempts=0))

    def rows(self, states: Iterable[str] = (PENDING,), limit: int = 1000) -> list[dict[str, Any]]:
        """Outbox rows in these states, oldest first."""
        with self.db.session() as s:
            found = s.execute(select(OUTBOX).where(OUTBOX.c.state.in_(list(states)))
                              .order_by(OUTBOX.c.id).limit(limit)).mappings().all()
            return [dict(r) for r in found]

    def pending_for(self, barcode: str, action: str) -> bool:
        """True when a row of `action` for this copy is still pending."""
        with self.db.session() as s:
            return s.scalar(select(OUTBOX.c.id).where(
                OUTBOX.c.state.in_(WAITING), OUTBOX.c.action == action,
                func.upper(OUTBOX.c.barcode) == barcode.strip().upper()).limit(1)) is not None

    def pending_count(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(OUTBOX)
                                .where(OUTBOX.c.state.in_(WAITING))) or 0)

    def push_pending(self, limit: int = 200) -> PushReport:
        """Write the pending rows into ИРБИС in order. A row left pending (locked record) holds
        back the later rows of the same copy and reader; ИРБИС away or refusing our user stops
        the push (every row stays pending for the next one)."""
        report = PushReport()
        with self._push_lock:
            held_codes: set[str] = set()
            held_cards: set[str] = set()
            for row in self.rows(WAITING, limit):
                code, card = row["barcode"].upper(), (row["card"] or "").upper()
                if code in held_codes or (card and card in held_cards):
                    report.pending.append(row["txn_id"])
                    held_codes.add(code)  # what waits holds back what comes after it too
                    if card:
                        held_cards.add(card)
                    continue
                if not self._claim(row):
                    # another process pushed or is pushing it since we listed it: what comes
                    # after it waits for the next pass
                    report.pending.append(row["txn_id"])
                    held_codes.add(code)
                    if card:
                        held_cards.add(card)
                    continue
                try:
                    self._push(row)
                except IrbisError as exc:
                    text = str(exc)[:500]
                    report.errors[row["txn_id"]] = text
                    report.codes[row["txn_id"]] = exc.code
                    if _transient(exc):
                        self._mark(row["id"], PENDING, text)
                        report.pending.append(row["txn_id"])
                        held_codes.add(code)
                        if card:
                            held_cards.add(card)
                        if isinstance(exc, IrbisUnavailable | IrbisAuthError | IrbisNoRights):
                            report.pending.extend(r["txn_id"] for r in self.rows(WAITING, limit)
                                                  if r["id"] > row["id"])
                            break
                    else:
                        self._mark(row["id"], FAILED, text)
                        report.failed.append(row["txn_id"])
                    log.warning("ИРБИС outbox %s %s: %s", row["action"], row["txn_id"], text)
                    continue
                self._mark(row["id"], DONE, None)
                report.done.append(row["txn_id"])
        return report

    def _claim(self, row: dict[str, Any]) -> bool:
        """Take the row («pushing», the attempt counted) only if nobody touched it since it was
        listed and no live pusher holds it: the timer's `ibc irbis push` and the server may push
        at once, and a row pushed by both — or listed as pending by one after the other pushed
        it, a checkout already returned — could lend a returned book again in RDR. A pusher
        that died mid-push frees its rows after LEASE."""
        now = utcnow()
        free = OUTBOX.c.state == PENDING
        if row["state"] == PUSHING:
            free = (OUTBOX.c.state == PUSHING) & (OUTBOX.c.claimed_at < now - LEASE)
        with self.db.transaction() as s:
            done = s.execute(update(OUTBOX).where(
                OUTBOX.c.id == row["id"], free, OUTBOX.c.attempts == row["attempts"])
                .values(state=PUSHING, claimed_at=now, attempts=OUTBOX.c.attempts + 1))
            return bool(getattr(done, "rowcount", 0))

    def _mark(self, row_id: int, state: str, error: str | None) -> None:
        with self.db.transaction() as s:
            s.execute(update(OUTBOX).where(OUTBOX.c.id == row_id).values(
                state=state, last_error=error, done_at=utcnow() if state == DONE else None))

    # --- one row -------------------------------------------------------------------------
    def _push(self, row: dict[str, Any]) -> None:
        action, barcode, inventory = row["action"], row["barcode"], row["inventory"]
        payload = row["payload"] or {}
        rdr = self.config.readers_database
        reader = self.reader(row["card"]) if row["card"] else None
        if reader is None and action == "return":  # whoever has it in RDR; else 910^a only
            reader = self.reader_by_item(barcode, inventory)
        elif reader is None:
            raise IrbisNotInIrbis(what="reader", key=row["card"] or "", database=rdr)
        if action == "checkout" and reader is not None:
            subfields = [(str(c), str(v)) for c, v in payload.get("field40", [])]

            def lend(rec: IrbisRecord) -> bool:
                if any(matches(f, barcode, inventory) for f in open_loans(rec)):
                    return False  # written before (a lost answer, a killed process): once only
                rec.add_field(40, subfields=subfields)
                return True

            self._change(rdr, reader.mfn, lend)
            self._set_status(row, ISSUED)
        elif action == "return":
            if reader is not None:
                def close(rec: IrbisRecord) -> bool:
                    loans = [f for f in open_loans(rec) if matches(f, barcode, inventory)]
                    for loan in loans:
                        loan.set("f", payload["date"])
                        loan.set("2", payload["time"])
                        if payload.get("place"):
                            loan.set("r", payload["place"])
                    return bool(loans)

                self._change(rdr, reader.mfn, close)
            self._set_status(row, FREE)
        elif action == "renew" and reader is not None:

            def extend(rec: IrbisRecord) -> bool:
                changed = False
                for loan in open_loans(rec):
                    if matches(loan, barcode, inventory) and loan.get("e") != payload["due"]:
                        loan.set("e", payload["due"])
                        loan.set("4", str(payload["renewals"]))
                        loan.set("l", payload["date"])
                        changed = True
                return changed

            self._change(rdr, reader.mfn, extend)
        else:
            raise IrbisNotInIrbis(what="action", key=action, database=rdr)

    def _set_status(self, row: dict[str, Any], status: str) -> None:
        mfn = row["record_mfn"]
        if not mfn:
            facts = self.copy(row["barcode"])
            if facts is None:
                raise IrbisNotInIrbis(what="copy", key=row["barcode"], database=self.config.database)
            mfn = facts.mfn

        def mark(rec: IrbisRecord) -> bool:
            found = self._exemplar(rec, row["barcode"])
            if found is None and row["inventory"]:
                found = self._exemplar(rec, row["inventory"])
            if found is None:
                raise IrbisNotInIrbis(what="copy", key=row["barcode"], database=self.config.database)
            if (found.get("a") or "").strip() == status:
                return False
            found.set("a", status)
            return True

        self._change(self.config.database, mfn, mark)

    def _change(self, database: str, mfn: int, change: Callable[[IrbisRecord], bool]) -> None:
        """Read `mfn` with a lock, apply `change`, write it back when it changed (the write
        releases the lock), else unlock. A lock held by another client: retried."""
        irbis = self._irbis()
        for attempt in range(self.lock_tries):
            try:
                rec = irbis.read_record(database, mfn, lock=True)
            except IrbisRecordLocked:
                if attempt == self.lock_tries - 1:
                    raise
                self.sleep(self.lock_wait * (attempt + 1))
                continue
            try:
                changed = change(rec)
                if changed:
                    irbis.write_record(database, rec)
                    return
            except BaseException:
                self._unlock(database, mfn)
                raise
            self._unlock(database, mfn)
            return

    def _unlock(self, database: str, mfn: int) -> None:
        try:
            self.client.unlock(database, [mfn])
        except IrbisError as exc:  # the lock dies with our registration anyway
            log.warning("ИРБИС unlock %s %s: %s", database, mfn, exc)


def stamp(now: dt.datetime) -> tuple[str, str]:
    """(YYYYMMDD, HHMMSS) as ИРБИС writes dates and times."""
    return now.strftime("%Y%m%d"), now.strftime("%H%M%S")
