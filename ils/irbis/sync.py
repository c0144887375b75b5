"""The catalogue sync from ИРБИС64: an incremental pull of one catalogue database (IBIS) into
the local catalogue, which the kiosks keep searching (`ibc irbis sync`, ibc-irbis-sync.timer).

Each run reads `max_mfn()` and then every record 1 … max_mfn-1 in batches of `batch_size` with
`read_records` (G with the ALL format: the protocol has no cheaper way to learn a record's
version than reading it). Per (database, MFN) the table `irbis_sync_records` (migration
0017_irbis_sync) keeps the version last written and the local record it became, so:

* a record never seen, or whose version differs (`full`: every record), is mapped by
  library.marc exactly as `ibc import` maps an ИРБИС text export (`pipeline.map_marc`: the same
  fields, key rule — 903 scoped by the school's sigla — and copies from 910) and written by the
  same `Writer` with the same per-batch hooks (textbook data, then `on_batch`, the search
  index), so versions for the change feed, copies merged per sigla and loans kept behave alike;
* a record logically or physically deleted in ИРБИС, or beyond max MFN, loses its local record:
  deleted outright (the database triggers write the tombstone the terminals' replicas drop it
  by), or, when a copy of it has loan history (a loan row forbids deleting the copy), marked
  `deleted` with a new version and its other copies deleted; a local record that another live
  ИРБИС record also maps to (same key) stays;
* an unchanged record costs the read only.

Copies: with `holding` (settings `[irbis] sigla`) only 910 fields whose ^d is that holding
(case-insensitive) are kept, and they become copies of the school (`school_sigla`, what the
kiosk shows); without it every 910 is kept, each under its own ^d (none: the school's).
Statuses come from 910^a via library.marc.holdings (0 available, 1 on loan, 4 lost, 6 written
off, 9 reserved …).

One batch is one transaction: its records, their copies, the index and the sync state are
written together or not at all, and a batch's deletions likewise. A server that stops answering
mid-run raises `SyncInterrupted` carrying the report so far; what was committed stays, and the
next run goes on from the versions it recorded (nothing is written twice). Each run ends with
an `Event` (kind ``irbis_sync``) like the import's, and the run row in `irbis_sync_runs`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import delete, func, select, update

from ils.irbis.errors import IrbisError
from ils.irbis.record import IrbisRecord, to_marc
from library.errors import IbcError
from library.marc.importer import ImportReport, with_textbooks
from library.marc.model import DataField, MarcRecord, RecordError
from library.marc.pipeline import map_marc
from library.marc.rows import KEY
from library.marc.writer import Item, OnBatch, Writer, next_version
from library.storage.models import (
    Copy,
    Event,
    IrbisSyncRecord,
    IrbisSyncRun,
    Loan,
    Record,
    utcnow,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from config.settings import IrbisSettings
    from ils.irbis.client import IrbisClient
    from library.storage.database import Database

__all__ = ["SyncInterrupted", "SyncReport", "client_for", "last_run", "sync_catalogue"]

LIVE, DELETED, SKIPPED = "live", "deleted", "skipped"
MAX_LISTED = 1000  # errors kept in the report; the count stays exact
Progress = Callable[[int, int, "SyncReport"], None]


class SyncInterrupted(IbcError):
    """The ИРБИС server failed mid-run (`cause`); `report` says what was done before."""

    code = "irbis_sync_interrupted"

    def __init__(self, cause: IrbisError, report: SyncReport) -> None:
        super().__init__(str(cause))
        self.cause, self.report = cause, report


@dataclass
class SyncReport:
    """What one run did; `as_dict()` is the `ibc irbis sync --json` output."""

    database: str
    full: bool = False
    max_mfn: int = 0
    read: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    completed: bool = False
    error: dict[str, Any] | None = None

    def fail(self, mfn: int, reason: str) -> None:
        """Count a record that could not be written and keep its reason."""
        self.skipped += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append({"mfn": mfn, "reason": reason})

    def counts(self) -> dict[str, int]:
        """The numbers alone (the run row and the event)."""
        return {"max_mfn": self.max_mfn, "read": self.read, "added": self.added,
                "updated": self.updated, "deleted": self.deleted, "unchanged": self.unchanged,
                "skipped": self.skipped}

    def as_dict(self) -> dict[str, Any]:
        """The JSON report."""
        return {"database": self.database, "full": self.full, **self.counts(),
                "completed": self.completed, "error": self.error, "errors": self.errors,
                "warnings": self.warnings}


def client_for(conf: IrbisSettings) -> IrbisClient:
    """An IrbisClient (not yet connected) from the `[irbis]` settings."""
    from ils.irbis.client import IrbisClient

    return IrbisClient(conf.host, conf.port, conf.user, conf.password.get_secret_value(),
                       workstation=conf.workstation, timeout=conf.timeout_s)


def last_run(db: Database, database: str) -> dict[str, Any] | None:
    """The run row of `database` as a dict, or None before the first run."""
    with db.session() as s:
        run = s.get(IrbisSyncRun, database)
        if run is None:
            return None
        return {"database": run.database, "started_at": run.started_at,
                "finished_at": run.finished_at, "completed_at": run.completed_at,
                "max_mfn": run.max_mfn, "error": run.error, "counts": dict(run.counts or {})}


def holding_filter(record: MarcRecord, holding: str) -> MarcRecord:
    """`record` with only the 910 copies of `holding` (910^d, case-insensitive), their ^d
    removed so that they become the school's copies; other fields untouched."""
    want = holding.strip().casefold()
    fields: list[Any] = []
    for f in record.fields:
        if isinstance(f, DataField) and f.tag == "910":
            where = next((v for c, v in f.subfields if c == "d"), "")
            if where.strip().casefold() != want:
                continue
            f = DataField(f.tag, f.ind1, f.ind2, [(c, v) for c, v in f.subfields if c != "d"])
        fields.append(f)
    return MarcRecord(record.leader, fields)


class _Run:
    """One sync run: the state of a batch of MFNs, the writer hook, the deletions."""

    def __init__(self, db: Database, database: str, school_sigla: str, holding: str,
                 full: bool, on_batch: OnBatch | None, report: SyncReport) -> None:
        self.db, self.database = db, database
        self.school_sigla, self.holding, self.full = school_sigla, holding, full
        self.on_batch = on_batch
        self.batch_hook = with_textbooks(on_batch)
        self.report = report
        self.imp = ImportReport()  # the Writer's own report: refused records, warnings
        self.known: dict[int, tuple[int, str, int | None]] = {}  # mfn → (version, state, record)
        self.pending: dict[str, list[tuple[int, int]]] = {}  # key → [(mfn, version)]

    # ---------------------------------------------------------------- state of a batch
    def load_known(self, lo: int, hi: int) -> None:
        """The sync state of MFNs lo … hi-1."""
        sr = IrbisSyncRecord
        with self.db.session() as s:
            rows = s.execute(select(sr.mfn, sr.version, sr.state, sr.record_id)
                             .where(sr.database == self.database, sr.mfn >= lo, sr.mfn < hi))
            self.known = {int(m): (int(v), str(st), rid) for m, v, st, rid in rows}

    # ---------------------------------------------------------------- writing
    def map(self, rec: IrbisRecord) -> Item | None:
        """The mapped record as a Writer item, or None (reported) when it cannot be mapped."""
        marc = to_marc(rec)
        if self.holding:
            marc = holding_filter(marc, self.holding)
        try:
            flat = map_marc(marc, self.school_sigla, rec.mfn)
        except RecordError as exc:
            self.report.fail(rec.mfn, exc.reason)
            return None
        except Exception as exc:  # noqa: BLE001 - a mapping bug must not stop the sync
            self.report.fail(rec.mfn, f"cannot map: {exc!r}")
            return None
        self.pending.setdefault(flat[KEY], []).append((rec.mfn, rec.version))
        return Item(flat, self.database, rec.mfn, None)

    def hook(self, session: object, record_ids: list[int]) -> None:
        """Inside a written batch's transaction: textbooks and index, then the sync state of
        the batch's MFNs; a record an MFN no longer maps to (its key changed) is dropped."""
        s = cast("Session", session)
        self.batch_hook(s, record_ids)
        written: list[tuple[int, int, int, str]] = []
        for rid, key in s.execute(select(Record.id, Record.key).where(Record.id.in_(record_ids))):
            for mfn, version in self.pending.get(key, ()):
                written.append((mfn, version, int(rid), key))
        if not written:
            return
        sr = IrbisSyncRecord
        mfns = [w[0] for w in written]
        rows = {r.mfn: r for r in s.scalars(select(sr).where(sr.database == self.database,
                                                              sr.mfn.in_(mfns)))}
        now = utcnow()
        former: set[int] = set()
        for mfn, version, rid, key in written:
            row = rows.get(mfn)
            if row is None:
                s.add(sr(database=self.database, mfn=mfn, version=version, state=LIVE,
                         record_id=rid, key=key, synced_at=now))
                continue
            if row.record_id is not None and row.record_id != rid and row.state == LIVE:
                former.add(row.record_id)
            row.version, row.state, row.record_id, row.key, row.synced_at = (
                version, LIVE, rid, key, now)
        s.flush()
        if former:
            self.drop_records(s, former)

    def tally(self, done: list[tuple[int, int, str, int | None]]) -> None:
        """Count the MFNs of a flushed batch that got their state row (added or updated)."""
        if not done:
            return
        sr = IrbisSyncRecord
        with self.db.session() as s:
            now_live = dict(s.execute(select(sr.mfn, sr.version).where(
                sr.database == self.database, sr.mfn.in_([d[0] for d in done]),
                sr.state == LIVE)).all())
        for mfn, version, before, _rid in done:
            if now_live.get(mfn) == version:
                if before == LIVE:
                    self.report.updated += 1
                else:
                    self.report.added += 1

    # ---------------------------------------------------------------- deleting
    def drop_records(self, s: Session, record_ids: Iterable[int]) -> int:
        """Delete local records no live ИРБИС record maps to; returns how many went."""
        sr = IrbisSyncRecord
        ids = sorted(set(record_ids))
        if not ids:
            return 0
        still = set(s.scalars(select(sr.record_id).where(sr.record_id.in_(ids), sr.state == LIVE)))
        ids = [i for i in ids if i not in still]
        if not ids:
            return 0
        loaned = set(s.scalars(select(Copy.record_id).join(Loan, Loan.copy_id == Copy.id)
                               .where(Copy.record_id.in_(ids)).distinct()))
        hard = [i for i in ids if i not in loaned]
        if hard:  # the tombstones are written by the database triggers (migration 0008)
            s.execute(delete(Record).where(Record.id.in_(hard)))
        soft = sorted(loaned)
        if soft:  # loan history keeps the copy rows: hide the record with a new version
            kept = select(Loan.copy_id).distinct()
            s.execute(delete(Copy).where(Copy.record_id.in_(soft), Copy.id.not_in(kept)))
            s.execute(update(Record).where(Record.id.in_(soft))
                      .values(deleted=True, version=next_version(s), updated_at=utcnow()))
        if self.on_batch is not None:
            self.on_batch(s, ids)  # the index drops them
        return len(ids)

    def delete_mfns(self, gone: dict[int, int]) -> None:
        """MFN → version of ИРБИС records deleted (or gone): their local records go, in one
        transaction with their state rows."""
        if not gone:
            return
        sr = IrbisSyncRecord
        with self.db.transaction() as s:
            rows = list(s.scalars(select(sr).where(sr.database == self.database,
                                                   sr.mfn.in_(sorted(gone)))))
            targets = {r.record_id for r in rows if r.record_id is not None and r.state == LIVE}
            now = utcnow()
            for r in rows:
                r.version, r.state, r.record_id, r.synced_at = gone[r.mfn], DELETED, None, now
            for mfn in sorted(set(gone) - {r.mfn for r in rows}):  # deleted before we saw it
                s.add(sr(database=self.database, mfn=mfn, version=gone[mfn], state=DELETED,
                         record_id=None, key=None, synced_at=now))
            s.flush()
            dropped = self.drop_records(s, targets)
        self.report.deleted += dropped


def _read_batch(client: IrbisClient, database: str, mfns: list[int]) -> dict[int, IrbisRecord]:
    """The records of `mfns` by MFN (one round trip); a physically deleted or missing one is
    left out (`read_records` reads a lone MFN with C, whose -601/-140 it takes as absent)."""
    wanted = set(mfns)
    return {r.mfn: r for r in client.read_records(database, mfns, batch=len(mfns))
            if r.mfn in wanted}


def sync_catalogue(db: Database, client: IrbisClient, database: str, *, school_sigla: str,
                   holding: str = "", full: bool = False, batch_size: int = 100,
                   on_batch: OnBatch | None = None, progress: Progress | None = None,
                   event: bool = True) -> SyncReport:
    """Pull the ИРБИС catalogue `database` through the connected `client` into `db`.

    `school_sigla` scopes the record keys (as `ibc import --sigla`) and is the sigla of copies
    whose 910 names none; `holding` keeps only 910^d = holding copies (as the school's);
    `full` rewrites every live record whatever its version. The client is connected here when
    it is not yet (the caller disconnects it). `on_batch(session, record_ids)`
    runs in each batch's transaction (the search indexer). Raises SyncInterrupted when the
    server fails mid-run, IrbisError when it fails before anything was read.
    """
    report = SyncReport(database=database, full=full)
    started = utcnow()
    _mark_run(db, database, started=started)
    try:
        if not client.connected:
            client.connect()
        report.max_mfn = client.max_mfn(database)
    except IrbisError as exc:
        _finish(db, report, started, exc, event)
        raise
    run = _Run(db, database, school_sigla, holding.strip(), full, on_batch, report)
    top = report.max_mfn - 1  # records are 1 … max_mfn-1
    step = max(1, batch_size)
    try:
        with Writer(db, run.imp, school_sigla, run.hook, batch_size=1 << 30) as writer:
            for lo in range(1, top + 1, step):
                hi = min(lo + step, top + 1)
                mfns = list(range(lo, hi))
                got = _read_batch(client, database, mfns)
                run.load_known(lo, hi)
                gone: dict[int, int] = {}
                done: list[tuple[int, int, str, int | None]] = []
                for mfn in mfns:
                    rec = got.get(mfn)
                    seen = run.known.get(mfn)
                    if rec is None or rec.deleted:
                        if rec is not None:
                            report.read += 1
                        if seen is None or seen[1] != DELETED:
                            gone[mfn] = rec.version if rec is not None else 0
                        else:
                            report.unchanged += 1
                        continue
                    report.read += 1
                    if seen is not None and seen[0] == rec.version and not full:
                        report.unchanged += 1
                        continue
                    item = run.map(rec)
                    if item is None:
                        _remember_skip(db, database, mfn, rec.version)
                        continue
                    writer.add(item)
                    done.append((mfn, rec.version, seen[1] if seen else "", None))
                writer.flush()
                run.pending.clear()
                run.tally(done)
                run.delete_mfns(gone)
                if progress is not None:
                    progress(hi - 1, top, report)
            if top > 0 or full or not live_count(db, database):
                _delete_beyond(run, report.max_mfn)
            else:  # an emptied or re-created database deletes the catalogue only when asked
                report.warnings.append({"mfn": None, "reason": (
                    f"the server reports {database} empty while records were synced from it: "
                    "nothing deleted; run with full=True (--full) to delete them")})
    except IrbisError as exc:
        _collect(run)
        _finish(db, report, started, exc, event)
        raise SyncInterrupted(exc, report) from exc
    _collect(run)
    report.completed = True
    _finish(db, report, started, None, event)
    return report


def _remember_skip(db: Database, database: str, mfn: int, version: int) -> None:
    """Remember a record that cannot be mapped at this version (retried when it changes)."""
    sr = IrbisSyncRecord
    with db.transaction() as s:
        row = s.get(sr, (database, mfn))
        if row is None:
            s.add(sr(database=database, mfn=mfn, version=version, state=SKIPPED, record_id=None,
                     key=None, synced_at=utcnow()))
        elif row.state != LIVE:  # a live record keeps its local copy until it maps again
            row.version, row.state, row.synced_at = version, SKIPPED, utcnow()


def _delete_beyond(run: _Run, max_mfn: int) -> None:
    """Records the sync knew at MFNs the server no longer has (the database was cut back)."""
    sr = IrbisSyncRecord
    while True:
        with run.db.session() as s:
            mfns = list(s.scalars(select(sr.mfn).where(sr.database == run.database,
                                                       sr.mfn >= max_mfn, sr.state != DELETED)
                                  .order_by(sr.mfn).limit(500)))
        if not mfns:
            return
        run.delete_mfns({m: 0 for m in mfns})


def _collect(run: _Run) -> None:
    """The Writer's refusals and warnings into the sync report, by MFN."""
    for e in run.imp.errors:
        run.report.fail(int(e["record"] or 0), str(e["reason"]))
    for w in run.imp.warnings[:MAX_LISTED]:
        run.report.warnings.append({"mfn": w["record"], "reason": w["reason"]})
    run.imp.errors.clear()
    run.imp.warnings.clear()


def _mark_run(db: Database, database: str, *, started: Any) -> None:
    with db.transaction() as s:
        row = s.get(IrbisSyncRun, database)
        if row is None:
            s.add(IrbisSyncRun(database=database, started_at=started, max_mfn=0, counts={}))
        else:
            row.started_at = started


def _finish(db: Database, report: SyncReport, started: Any, exc: IrbisError | None,
            event: bool) -> None:
    """The run row and the event; `exc` is what stopped the run."""
    if exc is not None:
        report.error = {**exc.to_dict(), "message": exc.message()}
    now = utcnow()
    with db.transaction() as s:
        row = s.get(IrbisSyncRun, report.database)
        if row is None:
            row = IrbisSyncRun(database=report.database, started_at=started, max_mfn=0,
                               counts={})
            s.add(row)
        row.finished_at = now
        row.max_mfn = report.max_mfn or row.max_mfn
        row.counts = report.counts()
        row.error = None if exc is None else exc.message()[:500]
        if exc is None:
            row.completed_at = now
        if event:
            payload = {**report.counts(), "database": report.database, "full": report.full,
                       "completed": report.completed, "error": report.error,
                       "errors": report.errors[:20]}
            s.add(Event(kind="irbis_sync", count=report.added + report.updated + report.deleted,
                        payload=payload))


def live_count(db: Database, database: str) -> int:
    """ИРБИС records of `database` that have a local record now."""
    sr = IrbisSyncRecord
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(sr).where(
            sr.database == database, sr.state == LIVE, sr.record_id.is_not(None))) or 0)
