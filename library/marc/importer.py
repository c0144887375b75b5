"""Importing MARC files into the catalogue in atomic batches.

Flow per file: `reader.read_file` streams `Parsed` records; each is mapped to `RecordData`
(a record that cannot be read or mapped is skipped with ordinal, byte offset and reason before
anything is written); mapped records are written in batches of `batch_size`:

* one transaction per batch: one UPDATE of the "catalogue" counter gives the batch its change-
  feed version, one SELECT finds which keys exist, Core executemany INSERT/UPDATE writes the
  records, copies are merged per (record, sigla) and `on_batch(session, record_ids)` runs last
  (the search indexer hooks in there), so a batch is either wholly in the database or not at all;
* if the batch fails in the database, it is retried record by record so that one bad record
  cannot lose the others; the failing record is reported as skipped.

Copies of a re-imported record are merged per (record, sigla): matched by inventory number,
then barcode, then RFID, then position among copies without identifiers; matched rows keep their
id (loans point at it); unmatched new copies are inserted; old copies of that sigla that are no
longer in the file are deleted unless a loan refers to them. A copy with an open loan keeps the
status on_loan. Siglas the record does not mention in this file are never touched (union
catalogue). A barcode already used by another copy of the same sigla is dropped from the
incoming copy, which is kept, and a warning is added to the report.
"""

from __future__ import annotations

import os
from collections import Counter as Tally
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, insert, select, update

from library.errors import ImportFormatError
from library.marc.model import CopyData, RecordData
from library.marc.pipeline import mapped_records, should_parallelise
from library.marc.reader import detect_container
from library.storage.models import Copy, Counter, Event, Loan, Record, utcnow

R = Record.__table__
C = Copy.__table__
CATALOGUE_COUNTER = "catalogue"
MAX_LISTED = 1000  # errors/warnings kept in the report; counts stay exact

_RECORD_COLS = ("source_format", "title", "subtitle", "responsibility", "authors", "publisher",
                "place", "year", "isbn", "isbns", "subjects", "udc", "bbk", "annotation",
                "language", "age_rating", "age_min", "item_type", "pages", "marc",
                "marc_encoding")
_COPY_LIMITS = {"sigla": 32, "inventory_number": 64, "barcode": 64, "rfid": 64,
                "shelf_mark": 255, "collection": 255, "status_code": 4, "price": 32,
                "received": 16, "note": 500}

OnBatch = Callable[[object, list[int]], None]
Progress = Callable[[str, int, int, "ImportReport"], None]


@dataclass
class ImportReport:
    """What an import did; `as_dict()` is the `ibc import --json` output."""

    read: int = 0
    added: int = 0
    updated: int = 0
    skipped: int = 0
    encodings: Tally = field(default_factory=Tally)
    formats: Tally = field(default_factory=Tally)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    warning_count: int = 0
    files: list[str] = field(default_factory=list)
    unreadable_files: int = 0

    def skip(self, file: str, record: int | None, offset: int | None, reason: str) -> None:
        """Count a skipped record and keep its reason."""
        self.skipped += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append({"file": file, "record": record, "offset": offset,
                                "reason": reason})

    def warn(self, file: str, record: int | None, offset: int | None, reason: str) -> None:
        """Keep a warning about a record that was imported anyway."""
        self.warning_count += 1
        if len(self.warnings) < MAX_LISTED:
            self.warnings.append({"file": file, "record": record, "offset": offset,
                                  "reason": reason})

    def as_dict(self) -> dict:
        """The JSON report."""
        return {
            "files": self.files, "read": self.read, "added": self.added,
            "updated": self.updated, "skipped": self.skipped,
            "encodings": dict(self.encodings), "formats": dict(self.formats),
            "errors": self.errors, "warnings": self.warnings,
        }


@dataclass
class _Item:
    data: RecordData
    file: str
    ordinal: int
    offset: int | None
    repeats: int = 0  # later records with the same key folded into this one


@dataclass
class _Outcome:
    added: int = 0
    updated: int = 0
    warnings: list[tuple[_Item, str]] = field(default_factory=list)


def _write_many(session, table, rows: list[dict], *, by_id: bool = False) -> None:  # noqa: ANN001
    """INSERT (or UPDATE ... WHERE id = _id) many rows.

    On SQLite the rows go straight to the driver's executemany with values converted by the
    columns' own bind processors: SQLAlchemy's per-row parameter handling cost more than the
    writes themselves. Other back ends use SQLAlchemy's batched executemany (insertmanyvalues).
    """
    cols = [c for c in rows[0] if c != "_id"]
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        if by_id:
            session.execute(update(table).where(table.c.id == bindparam("_id"))
                            .values({c: bindparam(c) for c in cols}), rows)
        else:
            session.execute(insert(table), rows)
        return
    procs = [(i, p) for i, c in enumerate(cols)
             if (p := table.c[c].type.bind_processor(conn.dialect)) is not None]
    keys = cols + ["_id"] if by_id else cols
    params = []
    memo: dict[int, tuple[object, object]] = {}  # batch-wide values (timestamps) convert once
    for row in rows:
        values = [row[k] for k in keys]
        for i, p in procs:
            v = values[i]
            if v is None:
                continue
            seen = memo.get(i)
            if seen is not None and seen[0] is v:
                values[i] = seen[1]
            else:
                values[i] = p(v)
                memo[i] = (v, values[i])
        params.append(tuple(values))
    if by_id:
        sql = f"UPDATE {table.name} SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?"
    else:
        sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    conn.exec_driver_sql(sql, params)


def next_version(session) -> int:  # noqa: ANN001
    """Increment the change-feed counter and return the new version (one UPDATE)."""
    t = Counter.__table__
    value = session.execute(
        update(t).where(t.c.name == CATALOGUE_COUNTER).values(value=t.c.value + 1)
        .returning(t.c.value)).scalar()
    if value is None:
        session.execute(insert(t).values(name=CATALOGUE_COUNTER, value=1))
        value = 1
    return int(value)


def _record_row(d: RecordData, version: int, now) -> dict:  # noqa: ANN001
    row = {c: getattr(d, c) for c in _RECORD_COLS}
    row.update(version=version, updated_at=now, deleted=False)
    return row


def _copy_row(c: CopyData, record_id: int, sigla: str, version: int, now) -> dict:  # noqa: ANN001
    row = {
        "record_id": record_id, "sigla": sigla, "inventory_number": c.inventory_number,
        "barcode": c.barcode, "rfid": c.rfid, "shelf_mark": c.shelf_mark,
        "collection": c.collection, "status": c.status, "status_code": c.status_code,
        "price": c.price, "received": c.received, "note": c.note, "version": version,
        "updated_at": now,
    }
    for k, n in _COPY_LIMITS.items():
        if row[k] is not None and len(row[k]) > n:
            row[k] = row[k][:n]
    return row


def _match(old: list, new: list[dict]) -> list[tuple[dict, object | None]]:
    """Pair incoming copy rows with existing rows of the same (record, sigla)."""
    free = list(old)
    pairs: list[tuple[dict, object | None]] = []
    for row in new:
        hit = None
        for attr in ("inventory_number", "barcode", "rfid"):
            if row[attr]:
                hit = next((o for o in free if getattr(o, attr) == row[attr]), None)
                if hit is not None:
                    break
        if hit is None and not (row["inventory_number"] or row["barcode"] or row["rfid"]):
            hit = next((o for o in free
                        if not (o.inventory_number or o.barcode or o.rfid)), None)
        if hit is not None:
            free.remove(hit)
        pairs.append((row, hit))
    return pairs


def _apply(session, items: list[_Item], sigla: str, on_batch: OnBatch | None) -> _Outcome:  # noqa: ANN001, C901
    """Write one batch inside the caller's transaction."""
    out = _Outcome()
    version = next_version(session)
    now = utcnow()
    keys = [it.data.key for it in items]
    existing = dict(session.execute(select(R.c.key, R.c.id).where(R.c.key.in_(keys))).all())
    new_items = [it for it in items if it.data.key not in existing]
    old_items = [it for it in items if it.data.key in existing]
    ids: dict[str, int] = dict(existing)
    if new_items:
        rows = []
        for it in new_items:
            row = _record_row(it.data, version, now)
            row.update(key=it.data.key, created_at=now, popularity=0)
            rows.append(row)
        # Plain executemany + one SELECT: RETURNING with parameter order is row-at-a-time on
        # SQLite, which made this step the slowest of the import.
        _write_many(session, R, rows)
        new_keys = [it.data.key for it in new_items]
        ids.update(session.execute(select(R.c.key, R.c.id).where(R.c.key.in_(new_keys))).all())
    if old_items:
        rows = []
        for it in old_items:
            row = _record_row(it.data, version, now)
            row["_id"] = existing[it.data.key]
            rows.append(row)
        _write_many(session, R, rows, by_id=True)
    out.added = len(new_items)  # a key repeated in the batch: first added, the rest updates
    out.updated = len(old_items) + sum(it.repeats for it in items)

    # ---- copies -------------------------------------------------------------------------
    old_copies: dict[tuple[int, str], list] = {}
    if old_items:
        rec_ids = [existing[it.data.key] for it in old_items]
        for row in session.execute(select(C.c.id, C.c.record_id, C.c.sigla, C.c.inventory_number,
                                          C.c.barcode, C.c.rfid).where(C.c.record_id.in_(rec_ids))):
            old_copies.setdefault((row.record_id, row.sigla), []).append(row)
    inserts: list[tuple[_Item, dict]] = []
    updates: list[tuple[_Item, dict]] = []
    doomed: set[int] = set()
    owner: dict[int, _Item] = {}
    for it in items:
        rid = ids[it.data.key]
        by_sigla: dict[str, list[dict]] = {}
        for c in it.data.copies:
            s = (c.sigla or sigla)[:32]
            by_sigla.setdefault(s, []).append(_copy_row(c, rid, s, version, now))
        for s, rows in by_sigla.items():
            old = old_copies.get((rid, s), [])
            pairs = _match(old, rows)
            matched = {o.id for _, o in pairs if o is not None}
            for o in old:
                if o.id not in matched:
                    doomed.add(o.id)
                    owner[o.id] = it
            for row, o in pairs:
                if o is None:
                    inserts.append((it, row))
                else:
                    row["_id"] = o.id
                    updates.append((it, row))
    touched = [row["_id"] for _, row in updates] + list(doomed)
    loaned: set[int] = set()
    open_loans: set[int] = set()
    if touched:
        for copy_id, returned in session.execute(
                select(Loan.copy_id, Loan.returned_at).where(Loan.copy_id.in_(touched))):
            loaned.add(copy_id)
            if returned is None:
                open_loans.add(copy_id)
    for it, row in updates:
        if row["_id"] in open_loans:
            row["status"] = "on_loan"
    for cid in sorted(doomed & loaned):
        out.warnings.append((owner[cid], f"copy id {cid} is no longer in the file but has loans;"
                                         " it is kept"))
    doomed -= loaned
    if doomed:
        session.execute(delete(C).where(C.c.id.in_(sorted(doomed))))
    # barcode uniqueness per sigla
    wanted = {row["barcode"] for _, row in inserts + updates if row["barcode"]}
    holders: dict[tuple[str, str], int] = {}
    if wanted:
        for cid, s, b in session.execute(select(C.c.id, C.c.sigla, C.c.barcode)
                                         .where(C.c.barcode.in_(sorted(wanted)))):
            if cid not in doomed:
                holders[(s, b)] = cid
    claimed: dict[tuple[str, str], int | None] = {}
    for it, row in updates + inserts:
        b = row["barcode"]
        if not b:
            continue
        k = (row["sigla"], b)
        holder = holders.get(k)
        mine = row.get("_id")
        if (holder is not None and holder != mine) or k in claimed:
            row["barcode"] = None
            out.warnings.append((it, f"barcode {b} is already used by another copy in {row['sigla']};"
                                     " the copy is kept without it"))
            continue
        claimed[k] = mine
    if updates:
        _write_many(session, C, [row for _, row in updates], by_id=True)
    if inserts:
        _write_many(session, C, [row for _, row in inserts])
    if on_batch is not None:
        on_batch(session, [ids[it.data.key] for it in items])
    return out


class _Writer:
    """Collects mapped records and writes them batch by batch."""

    def __init__(self, db, report: ImportReport, sigla: str, on_batch: OnBatch | None,  # noqa: ANN001
                 batch_size: int):
        self.db, self.report, self.sigla = db, report, sigla
        self.on_batch, self.batch_size = on_batch, batch_size
        self.items: list[_Item] = []
        self.index: dict[str, int] = {}

    def add(self, item: _Item) -> None:
        pos = self.index.get(item.data.key)
        if pos is not None:  # same key twice in one batch: the later record wins
            item.repeats = self.items[pos].repeats + 1
            self.items[pos] = item
            return
        self.index[item.data.key] = len(self.items)
        self.items.append(item)
        if len(self.items) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        items, self.items, self.index = self.items, [], {}
        if items:
            self._write(items)

    def _write(self, items: list[_Item]) -> None:
        try:
            with self.db.transaction() as session:
                out = _apply(session, items, self.sigla, self.on_batch)
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


def import_files(db, paths: Iterable[str | os.PathLike[str]], *, sigla: str,  # noqa: ANN001
                 on_batch: OnBatch | None = None, progress: Progress | None = None,
                 batch_size: int = 1000, event: bool = True,
                 parallel: bool | None = None) -> ImportReport:
    """Import MARC files (ISO 2709, MARCXML, ИРБИС text) into `db`; returns the report.

    `sigla` is the holding school for copies whose field names no library (910^d / 899$a /
    852$a / 952$a empty) and scopes ИРБИС 903 keys. A file that cannot be opened or recognised
    is reported as an error and the other files go on. `parallel` reads and maps in a second
    process (None: automatically for files of 8 MB and more on multi-core machines).
    """
    report = ImportReport()
    writer = _Writer(db, report, sigla, on_batch, batch_size)
    for path in paths:
        name = os.fspath(path)
        report.files.append(name)
        size = 0
        try:
            size = os.path.getsize(name)
            detect_container(name)  # unreadable or unknown files fail here, in this process
            if parallel is None:
                use_worker = should_parallelise(name)
            else:
                use_worker = parallel
            first = True
            for ordinal, offset, encoding, data, reason in mapped_records(name, sigla, use_worker):
                first = False
                report.read += 1
                if encoding is not None:  # the record was decoded (even if mapping refused it)
                    report.encodings[encoding] += 1
                if reason is not None:
                    report.skip(name, ordinal, offset, reason)
                    continue
                report.formats[data.source_format] += 1
                writer.add(_Item(data, name, ordinal, offset))
                if progress is not None and report.read % 500 == 0:
                    progress(name, offset or 0, size, report)
            writer.flush()
            if first:
                report.unreadable_files += 1
                report.errors.append({"file": name, "record": None, "offset": None,
                                      "reason": "no MARC records found"})
        except (ImportFormatError, OSError) as exc:
            writer.flush()
            report.unreadable_files += 1
            reason = f"cannot read: {exc.strerror}" if isinstance(exc, OSError) else str(exc)
            report.errors.append({"file": name, "record": None, "offset": None,
                                  "reason": reason})
        if progress is not None:
            progress(name, size, size, report)
    if event:
        with db.transaction() as session:
            summary = {k: v for k, v in report.as_dict().items() if k not in ("errors", "warnings")}
            summary["errors"] = report.errors[:20]
            session.add(Event(kind="import", sigla=sigla, count=report.added + report.updated,
                              payload=summary))
    return report
