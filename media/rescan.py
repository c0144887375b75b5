"""A rescan of the configured media folders started by a person (the desk's «Пересканировать»):
one at a time, in a background thread, its state in the database so every request (and every
server process) sees it.

The state is an Event(kind "media_scan") per run, changed in place: ``payload["state"]`` is
"running" (with ``started``, ``by``, a heartbeat ``beat`` and the scan's progress ``phase``,
``done``, ``total``, written at most every BEAT_S seconds), then "done" (with the report's
figures) or "failed" (with the error). Starting takes the row lock of the counter "media_scan"
(the run number, one more per run) before it looks for a running scan, so two presses at the
same moment cannot both start one (PostgreSQL's row lock; SQLite's write transaction). A run
whose heartbeat is older than STALE (the server stopped mid-scan) no longer blocks a new one.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from library.errors import IbcError
from library.storage.models import Counter, Event, as_utc, utcnow

if TYPE_CHECKING:
    from library.storage.database import Database
    from media.scan import ScanReport

KIND = "media_scan"
STALE = dt.timedelta(minutes=15)
BEAT_S = 5.0
PHASES = ("walk", "probe", "save")  # finding files, reading new or changed ones, saving
FIGURES = ("files", "added", "updated", "moved", "unchanged", "missing", "probed")


@dataclass(frozen=True)
class ScanRun:
    """One rescan as stored: its state and figures (``report`` when it finished)."""

    id: int
    run: int
    state: str  # running | done | failed | interrupted (running, no heartbeat for STALE)
    by: str
    started: dt.datetime
    finished: dt.datetime | None
    report: dict[str, Any]
    error: str | None
    phase: str = ""  # while running: the phase (one of PHASES), files done and total
    done: int = 0
    total: int = 0

    @property
    def running(self) -> bool:
        """True while the scan is going on."""
        return self.state == "running"


def _time(value: object) -> dt.datetime | None:
    return as_utc(dt.datetime.fromisoformat(value)) if isinstance(value, str) and value else None


def _run_of(ev: Event, now: dt.datetime) -> ScanRun:
    p = ev.payload or {}
    state = str(p.get("state", "failed"))
    beat = _time(p.get("beat")) or as_utc(ev.ts)
    if state == "running" and now - beat > STALE:
        state = "interrupted"
    phase, done, total = "", 0, 0
    if p.get("phase") in PHASES:
        phase, done, total = str(p["phase"]), int(p.get("done") or 0), int(p.get("total") or 0)
    return ScanRun(id=ev.id, run=int(p.get("run", 0)), state=state, by=str(p.get("by", "")),
                   started=_time(p.get("started")) or as_utc(ev.ts), finished=_time(p.get("finished")),
                   report=dict(p.get("report") or {}), error=p.get("error"),
                   phase=phase, done=done, total=total)


def _latest(s: Session, *, finished: bool = False) -> Event | None:
    q = select(Event).where(Event.kind == KIND).order_by(Event.id.desc()).limit(20)
    for ev in s.scalars(q):
        if not finished or (ev.payload or {}).get("state") in ("done", "failed"):
            return ev
    return None


def current(db: Database, now: dt.datetime | None = None) -> tuple[ScanRun | None, ScanRun | None]:
    """(the latest run, the latest finished run); either may be None."""
    now = now or utcnow()
    with db.session() as s:
        latest, done = _latest(s), _latest(s, finished=True)
        return (_run_of(latest, now) if latest else None, _run_of(done, now) if done else None)


def claim(db: Database, by: str, *, also: Callable[[Session], None] | None = None,
          now: dt.datetime | None = None) -> ScanRun | None:
    """Record a new running scan started by `by` (`also` runs in the same transaction: the
    desk's audit row); None when one is running already."""
    now = now or utcnow()
    try:
        return _claim(db, by, also, now)
    except _Busy:
        return None


class _Busy(IbcError):
    """Private: rolls back a refused claim (the run counter stays as it was)."""

    code = "media_scan_running"


def _claim(db: Database, by: str, also: Callable[[Session], None] | None,
           now: dt.datetime) -> ScanRun:
    with db.transaction() as s:
        insert = (postgresql if s.get_bind().dialect.name == "postgresql" else sqlite).insert
        s.execute(insert(Counter).values(name=KIND, value=0).on_conflict_do_nothing(
            index_elements=["name"]))
        run = s.execute(update(Counter).where(Counter.name == KIND)  # the row lock: one at a time
                        .values(value=Counter.value + 1).returning(Counter.value)).scalar_one()
        latest = _latest(s)
        if latest is not None and _run_of(latest, now).running:
            raise _Busy
        ev = Event(kind=KIND, ts=now, payload={"state": "running", "run": int(run), "by": by[:64],
                                               "started": now.isoformat(), "beat": now.isoformat()})
        s.add(ev)
        if also is not None:
            also(s)
        s.flush()
        return _run_of(ev, now)


def _update(db: Database, run_id: int, **values: object) -> None:
    with db.transaction() as s:
        ev = s.get(Event, run_id)
        if ev is not None:
            ev.payload = {**(ev.payload or {}), **values}


def summary(report: ScanReport) -> dict[str, Any]:
    """What the page shows of a report: the figures, broken files, warnings (a few of each)."""
    out: dict[str, Any] = {k: getattr(report, k) for k in FIGURES}
    out["broken"] = len(report.broken)
    out["broken_files"] = [{"path": b["path"][-300:], "error": str(b["error"] or "")[:300]}
                           for b in report.broken[:20]]
    out["warnings"] = [w[:300] for w in report.warnings[:20]]
    out["elapsed_s"] = report.elapsed_s
    return out


def run_scan(db: Database, run: ScanRun, roots: Iterable[str], *, data_dir: str | Path,
             media_roots: Iterable[str] = (), thumbnails: bool = True) -> None:
    """Scan `roots` for the claimed `run` and record the end (done or failed): never leaves a
    run marked running. The heartbeat is written while walking and probing (not while the
    scan's own write transaction is open)."""
    from media.scan import scan

    last = [utcnow()]

    def beat(phase: str, done: int, total: int) -> None:
        now = utcnow()
        if phase != "save" and (now - last[0]).total_seconds() >= BEAT_S:
            last[0] = now
            _update(db, run.id, beat=now.isoformat(), phase=phase, done=done, total=total)

    try:
        report = scan(db, list(roots), data_dir=data_dir, progress=beat, thumbnails=thumbnails,
                      media_roots=list(media_roots))
    except Exception as exc:  # noqa: BLE001 — any failure is recorded, the run must end
        _update(db, run.id, state="failed", finished=utcnow().isoformat(),
                error=f"{type(exc).__name__}: {exc}"[:500])
        return
    _update(db, run.id, state="done", finished=utcnow().isoformat(), report=summary(report))


def start(db: Database, by: str, roots: list[str], *, data_dir: str | Path,
          media_roots: Iterable[str] = (), also: Callable[[Session], None] | None = None,
          thumbnails: bool = True) -> tuple[ScanRun | None, threading.Thread | None]:
    """Claim a run and scan in a background thread: (the run, its thread), or (None, None)
    when a scan is running already."""
    run = claim(db, by, also=also)
    if run is None:
        return None, None
    thread = threading.Thread(target=run_scan, args=(db, run, roots), name=f"media-rescan-{run.run}",
                              kwargs={"data_dir": data_dir, "media_roots": list(media_roots),
                                      "thumbnails": thumbnails}, daemon=True)
    thread.start()
    return run, thread
