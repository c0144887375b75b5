"""Writing mapped records (flat tuples, see rows.py) into the catalogue in atomic batches.

* one transaction per batch: one UPDATE of the "catalogue" counter gives the batch its change-
  feed version, one SELECT finds which keys exist, one executemany INSERT and one UPDATE write
  the records, copies are merged per (record, sigla) and written with one executemany each for
  inserts and updates, and `on_batch(session, record_ids)` runs last (the search indexer hooks
  in there), so a batch is either wholly in the database or not at all;
* if the batch fails in the database, it is retried record by record so that one bad record
  cannot lose the others; the failing record is reported as skipped.

Copies of a re-imported record are merged per (record, sigla): matched by inventory number,
then barcode, then RFID, then position among copies without identifiers; matched rows keep their
id (loans point at it); unmatched new copies are inserted; old copies of that sigla that are no
longer in the file are deleted unless a loan refers to them. A copy with an open loan keeps the
status on_loan. Siglas the record does not mention in this file are never touched (union
catalogue). A barcode already used by another copy of the same sigla is dropped from the
incoming copy, which is kept, and a warning is added to the report.

With ``union=True`` (`ibc import`) a record's key is looked up per importing school in
record_keys and the same book from another school joins the existing record (links.py): its
copies are added there, the record's fields stay the first importer's, and the merge is
reported. Without it (the ИРБИС sync) records are found by records.key alone, as before.

On SQLite the parameters go straight to the driver's executemany as plain tuples (SQLAlchemy's
per-row parameter handling cost more than the writes themselves); other back ends use
SQLAlchemy's batched executemany (insertmanyvalues) with dict rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, Select, Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from library.marc.holdings import CopyIds
from library.marc.links import Merge, plan_batch, record_key_for, school_of, write_rows
from library.marc.rows import (
    C_BARCODE,
    C_INV,
    C_RFID,
    C_SIGLA,
    C_STATUS,
    COLS,
    COPIES,
    COPY_COLS,
    KEY,
    RECORD_COLS,
    UNION,
    FlatRecord,
    record_dict,
)
from library.storage.models import Copy, Counter, Loan, Record, table_of, utcnow

if TYPE_CHECKING:
    from typing import Unpack  # Python 3.11+; annotations only

    from library.marc.importer import ImportReport
    from library.storage.database import Database

R = table_of(Record)
C = table_of(Copy)
CATALOGUE_COUNTER = "catalogue"

OnBatch = Callable[[object, list[int]], None]
# SQLite page cache of the import connection (default 2 MiB): the key, barcode and inventory
# indexes are inserted in random order, and with a small cache most of those inserts re-read
# pages from the OS. Counted in the import's peak memory (target < 300 MB at 1M records).
IMPORT_CACHE_KIB = 64 * 1024
# WAL pages before an automatic checkpoint (default 1000, i.e. about every batch): index pages
# changed by many batches are copied into the database once per 40 MB instead of every batch.
IMPORT_CHECKPOINT_PAGES = 10_000
_PRAGMAS = ("cache_size", "wal_autocheckpoint")

# A copy row is a list: record_id followed by the COPY_COLS values.
_ROW_COLS = ("record_id",) + COPY_COLS
_SIG, _INV, _BC, _RF, _ST = (1 + C_SIGLA, 1 + C_INV, 1 + C_BARCODE, 1 + C_RFID, 1 + C_STATUS)
_REC_TAIL = ("version", "updated_at", "deleted")
_NEW_TAIL = ("key", "created_at", "popularity")
_COPY_TAIL = ("version", "updated_at")
# Expanding IN parameters: compiled once and cached (a literal IN list of 1000 keys was compiled
# anew for every batch, which cost about as much as the SELECT).
_IDS_BY_KEY = select(R.c.key, R.c.id).where(R.c.key.in_(bindparam("keys", expanding=True)))
_COPIES_OF = (select(C.c.id, C.c.record_id, C.c.sigla, C.c.inventory_number, C.c.barcode,
                     C.c.rfid).where(C.c.record_id.in_(bindparam("ids", expanding=True))))
_RAW_IN: dict = {}
_BARCODE_HOLDERS = (select(C.c.id, C.c.sigla, C.c.barcode)
                    .where(C.c.barcode.in_(bindparam("barcodes", expanding=True))))


@dataclass(slots=True)
class Item:
    """One mapped record waiting in a batch, with where it came from."""

    rec: FlatRecord
    file: str
    ordinal: int
    offset: int | None
    repeats: int = 0  # later records with the same key folded into this one


@dataclass
class _Outcome:
    added: int = 0
    updated: int = 0
    warnings: list[tuple[Item, str]] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)


def next_version(session: Session) -> int:
    """Increment the change-feed counter and return the new version (one UPDATE)."""
    t = table_of(Counter)
    value = session.execute(
        update(t).where(t.c.name == CATALOGUE_COUNTER).values(value=t.c.value + 1)
        .returning(t.c.value)).scalar()
    if value is None:
        session.execute(insert(t).values(name=CATALOGUE_COUNTER, value=1))
        value = 1
    return int(value)


class _Out:
    """Executemany of one batch: raw DBAPI tuples on SQLite, SQLAlchemy dict rows elsewhere."""

    def __init__(self, session: Session, version: int, now: dt.datetime) -> None:
        self.session = session
        self.conn = session.connection()
        self.sqlite = self.conn.dialect.name == "sqlite"
        self.version, self.now = version, now
        if self.sqlite:  # batch-wide values through the columns' own converters, once
            self.rec_tail = self._bind(R, _REC_TAIL, (version, now, False))
            self.new_tail = self._bind(R, ("created_at", "popularity"), (now, 0))
            self.copy_tail = self._bind(C, _COPY_TAIL, (version, now))

    def _bind(self, table: Table, cols: tuple[str, ...], values: tuple[object, ...]) -> tuple:
        # dialect_impl: the SQLite type's own converter, so a DateTime is stored in SQLAlchemy's
        # string form, as the ORM writes it (the generic type has none, and sqlite3's default
        # adapter, deprecated since Python 3.12, added "+00:00" and ran once per row)
        dialect = self.conn.dialect
        out = []
        for c, v in zip(cols, values):
            p = table.c[c].type.dialect_impl(dialect).bind_processor(dialect)
            out.append(p(v) if p is not None else v)
        return tuple(out)

    def select_in(self, stmt: Select[Unpack[tuple[Any, ...]]], name: str,
                  values: list) -> Sequence[tuple[Any, ...]]:
        """Rows of a cached `... IN (:name)` select; on SQLite as plain SQL with `?` marks:
        rendering 1000 expanding parameters through SQLAlchemy cost more than the query."""
        if not self.sqlite:
            return [tuple(r) for r in self.session.execute(stmt, {name: values})]
        sql = _RAW_IN.get(stmt)
        if sql is None:
            sql = _RAW_IN[stmt] = str(stmt.compile(dialect=self.conn.dialect))
        marks = ",".join("?" * len(values))
        return self.conn.exec_driver_sql(sql.replace(f"__[POSTCOMPILE_{name}]", marks),
                                         tuple(values)).fetchall()

    def insert_records(self, items: list[Item], keys: list[str]) -> None:
        if self.sqlite:
            cols = RECORD_COLS + _REC_TAIL + _NEW_TAIL
            rt, nt = self.rec_tail, self.new_tail
            params = [it.rec[COLS] + rt + (k,) + nt for it, k in zip(items, keys)]
            self.conn.exec_driver_sql(
                f"INSERT INTO {R.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                params)
            return
        rows = []
        for it, k in zip(items, keys):
            row = record_dict(it.rec)
            row.update(version=self.version, updated_at=self.now, deleted=False,
                       key=k, created_at=self.now, popularity=0)
            rows.append(row)
        self.session.execute(insert(R), rows)

    def update_records(self, pairs: list[tuple[Item, int]]) -> None:
        cols = RECORD_COLS + _REC_TAIL
        if self.sqlite:
            rt = self.rec_tail
            params = [it.rec[COLS] + rt + (rid,) for it, rid in pairs]
            self.conn.exec_driver_sql(
                f"UPDATE {R.name} SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?", params)
            return
        rows = []
        for it, rid in pairs:
            row = record_dict(it.rec)
            row.update(version=self.version, updated_at=self.now, deleted=False, _id=rid)
            rows.append(row)
        self.session.execute(update(R).where(R.c.id == bindparam("_id"))
                             .values({c: bindparam(c) for c in cols}), rows)

    def insert_copies(self, rows: list[list]) -> None:
        cols = _ROW_COLS + _COPY_TAIL
        if self.sqlite:
            ct = self.copy_tail
            self.conn.exec_driver_sql(
                f"INSERT INTO {C.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [tuple(r) + ct for r in rows])
            return
        self.session.execute(insert(C), [dict(zip(cols, r + [self.version, self.now]))
                                         for r in rows])

    def update_copies(self, pairs: list[tuple[list, int]]) -> None:
        cols = _ROW_COLS + _COPY_TAIL
        if self.sqlite:
            ct = self.copy_tail
            self.conn.exec_driver_sql(
                f"UPDATE {C.name} SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
                [tuple(r) + ct + (cid,) for r, cid in pairs])
            return
        self.session.execute(
            update(C).where(C.c.id == bindparam("_id")).values({c: bindparam(c) for c in cols}),
            [dict(zip(cols, r + [self.version, self.now]), _id=cid) for r, cid in pairs])


class _OldCopy(CopyIds, Protocol):
    """A row of _COPIES_OF: a copy already in the database."""

    @property
    def id(self) -> int: ...


def _match(old: list[_OldCopy], new: list[list]) -> list[tuple[list, _OldCopy | None]]:
    """Pair incoming copy rows with existing rows of the same (record, sigla)."""
    free = list(old)
    pairs: list[tuple[list, _OldCopy | None]] = []
    for row in new:
        hit = None
        for pos, attr in ((_INV, "inventory_number"), (_BC, "barcode"), (_RF, "rfid")):
            if row[pos]:
                hit = next((o for o in free if getattr(o, attr) == row[pos]), None)
                if hit is not None:
                    break
        if hit is None and not (row[_INV] or row[_BC] or row[_RF]):
            hit = next((o for o in free
                        if not (o.inventory_number or o.barcode or o.rfid)), None)
        if hit is not None:
            free.remove(hit)
        pairs.append((row, hit))
    return pairs


def apply_batch(session: Session, items: list[Item], sigla: str,  # noqa: C901
                on_batch: OnBatch | None, union: bool = False) -> _Outcome:
    """Write one batch inside the caller's transaction (`union`: see the module docstring)."""
    out = _Outcome()
    version = next_version(session)
    w = _Out(session, version, utcnow())
    keys = [it.rec[KEY] for it in items]
    existing = dict(w.select_in(_IDS_BY_KEY, "keys", keys))
    plan = plan_batch(w, items, sigla, existing) if union else None
    found = plan.found if plan is not None else existing
    new_items = [it for it in items if it.rec[KEY] not in found]
    old_items = [it for it in items if it.rec[KEY] in found]
    ids: dict[str, int] = dict(found)
    if new_items:
        # Plain executemany + one SELECT: RETURNING with parameter order is row-at-a-time on
        # SQLite, which made this step the slowest of the import.
        taken = plan.taken if plan is not None else set()
        rkeys = [record_key_for(it.rec[KEY], sigla, taken) for it in new_items]
        w.insert_records(new_items, rkeys)
        got = dict(w.select_in(_IDS_BY_KEY, "keys", rkeys))
        ids.update((it.rec[KEY], got[k]) for it, k in zip(new_items, rkeys))
    if plan is not None:
        school = school_of(sigla)
        write_rows(w, plan.rows + [(it.rec[KEY], school, ids[it.rec[KEY]], it.rec[UNION], True)
                                   for it in new_items], plan.changed, sigla)
        out.merges = plan.merges
        fields = [it for it in old_items if it.rec[KEY] in plan.fields]
        copies_only = sorted({found[it.rec[KEY]] for it in old_items
                              if it.rec[KEY] not in plan.fields})
        if copies_only:  # the change feed sends the record again with its new copies
            session.execute(update(R).where(R.c.id.in_(copies_only))
                            .values(version=version, updated_at=w.now))
    else:
        fields = old_items
    if fields:
        w.update_records([(it, found[it.rec[KEY]]) for it in fields])
    out.added = len(new_items)  # a key repeated in the batch: first added, the rest updates
    out.updated = len(old_items) - len(out.merges) + sum(it.repeats for it in items)

    # ---- copies -------------------------------------------------------------------------
    old_copies: dict[tuple[int, str], list] = {}
    old_rids: set[int] = set()
    if old_items:
        rec_ids = [found[it.rec[KEY]] for it in old_items]
        for old_row in session.execute(_COPIES_OF, {"ids": rec_ids}):  # re-imports only
            old_copies.setdefault((old_row.record_id, old_row.sigla), []).append(old_row)
            old_rids.add(old_row.record_id)
    inserts: list[tuple[Item, list, None]] = []
    updates: list[tuple[Item, list, int]] = []
    doomed: set[int] = set()
    owner: dict[int, Item] = {}
    for it in items:
        rid = ids[it.rec[KEY]]
        rows = [[rid, (c[C_SIGLA] or sigla)[:32], *c[1:]] for c in it.rec[COPIES]]
        if rid not in old_rids:  # no copies in the database yet: all of them are new
            inserts.extend((it, row, None) for row in rows)
            continue
        by_sigla: dict[str, list[list]] = {}
        for row in rows:
            by_sigla.setdefault(row[_SIG], []).append(row)
        for s, group in by_sigla.items():
            old = old_copies.get((rid, s), [])
            pairs = _match(old, group)
            matched = {o.id for _, o in pairs if o is not None}
            for o in old:
                if o.id not in matched:
                    doomed.add(o.id)
                    owner[o.id] = it
            for row, o in pairs:
                if o is None:
                    inserts.append((it, row, None))
                else:
                    updates.append((it, row, o.id))
    touched = [cid for _, _, cid in updates] + list(doomed)
    loaned: set[int] = set()
    open_loans: set[int] = set()
    if touched:
        for copy_id, returned in session.execute(
                select(Loan.copy_id, Loan.returned_at).where(Loan.copy_id.in_(touched))):
            loaned.add(copy_id)
            if returned is None:
                open_loans.add(copy_id)
    for _, row, cid in updates:
        if cid in open_loans:
            row[_ST] = "on_loan"
    for cid in sorted(doomed & loaned):
        out.warnings.append((owner[cid], f"copy id {cid} is no longer in the file but has loans;"
                                         " it is kept"))
    doomed -= loaned
    if doomed:
        session.execute(delete(C).where(C.c.id.in_(sorted(doomed))))
    # barcode uniqueness per sigla
    wanted = {row[_BC] for _, row, _ in inserts if row[_BC]}
    wanted.update(row[_BC] for _, row, _ in updates if row[_BC])
    holders: dict[tuple[str, str], int] = {}
    if wanted:
        for cid, s, b in w.select_in(_BARCODE_HOLDERS, "barcodes", sorted(wanted)):
            if cid not in doomed:
                holders[(s, b)] = cid
    claimed: dict[tuple[str, str], int | None] = {}
    for it, row, mine in updates + inserts:
        b = row[_BC]
        if not b:
            continue
        k = (row[_SIG], b)
        holder = holders.get(k)
        if (holder is not None and holder != mine) or k in claimed:
            row[_BC] = None
            out.warnings.append((it, f"barcode {b} is already used by another copy in {row[_SIG]};"
                                     " the copy is kept without it"))
            continue
        claimed[k] = mine
    if updates:
        w.update_copies([(row, cid) for _, row, cid in updates])
    if inserts:
        w.insert_copies([row for _, row, _ in inserts])
    if on_batch is not None:
        on_batch(session, list(dict.fromkeys(ids[it.rec[KEY]] for it in items)))
    return out


class Writer:
    """Collects mapped records and writes them batch by batch (use as a context manager).

    On SQLite the whole import runs on one connection with a bigger page cache
    (IMPORT_CACHE_KIB) and less frequent checkpoints (IMPORT_CHECKPOINT_PAGES), restored before
    the connection goes back to the pool. `synchronous` stays at the database's NORMAL: in WAL
    mode that already skips the fsync at each commit (only checkpoints sync), while OFF would
    also skip the checkpoint syncs and let a power cut on a school server corrupt the catalogue
    file, not just lose the last batches.
    """

    def __init__(self, db: Database, report: ImportReport, sigla: str, on_batch: OnBatch | None,
                 batch_size: int, union: bool = False):
        self.db, self.report, self.sigla = db, report, sigla
        self.on_batch, self.batch_size, self.union = on_batch, batch_size, union
        self.items: list[Item] = []
        self.index: dict[str, int] = {}
        self.conn: Connection | None = None
        self._restore: tuple[int, ...] = ()

    def __enter__(self) -> Writer:
        if self.db.is_sqlite:
            conn = self.db.engine.connect().execution_options(sqlite_begin="IMMEDIATE")
            raw = conn.connection.dbapi_connection  # autocommit: no transaction is opened
            if raw is None:  # only a pool connection that was invalidated has none
                raise RuntimeError("the import connection has no DB-API connection")
            self._restore = tuple(int(raw.execute(f"PRAGMA {name}").fetchone()[0])
                                  for name in _PRAGMAS)
            raw.execute(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
            raw.execute(f"PRAGMA wal_autocheckpoint={IMPORT_CHECKPOINT_PAGES}")
            self.conn = conn
        return self

    def __exit__(self, *exc: object) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                if conn.in_transaction():  # cannot happen (batches roll back on any error)
                    conn.invalidate()  # but never pool a connection with these settings
                else:
                    raw = conn.connection.dbapi_connection
                    if raw is None:  # invalidated meanwhile: dropped below
                        raise RuntimeError("the import connection has no DB-API connection")
                    for name, value in zip(_PRAGMAS, self._restore):
                        raw.execute(f"PRAGMA {name}={value}")
            except Exception:  # noqa: BLE001 - e.g. the database vanished: drop the connection
                conn.invalidate()
            finally:
                conn.close()

    def add(self, item: Item) -> None:
        key = item.rec[KEY]
        pos = self.index.get(key)
        if pos is not None:  # same key twice in one batch: the later record wins
            item.repeats = self.items[pos].repeats + 1
            self.items[pos] = item
            return
        self.index[key] = len(self.items)
        self.items.append(item)
        if len(self.items) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        items, self.items, self.index = self.items, [], {}
        if items:
            self._write(items)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        if self.conn is None:
            with self.db.transaction() as session:
                yield session
            return
        with self.conn.begin(), Session(bind=self.conn) as session:
            yield session  # the session joins the connection's transaction
            session.flush()

    def _write(self, items: list[Item]) -> None:
        try:
            with self._transaction() as session:
                out = apply_batch(session, items, self.sigla, self.on_batch, self.union)
        except Exception as exc:  # noqa: BLE001 - database or on_batch: retry record by record
            if len(items) > 1:
                for it in items:
                    self._write([it])
                return
            it = items[0]
            reason = getattr(exc, "orig", None) or exc
            self.report.skip(it.file, it.ordinal, it.offset,
                             f"database refused the record: {str(reason).splitlines()[0]}")
            self.report.skipped += it.repeats
            return
        self.report.added += out.added
        self.report.updated += out.updated
        for it, reason in out.warnings:
            self.report.warn(it.file, it.ordinal, it.offset, reason)
        for m in out.merges:
            self.report.merge(m.item.file, m.item.ordinal, m.record_id, m.union_key, m.schools)
