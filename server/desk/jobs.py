"""Background jobs started at the desk (table ``desk_jobs``, migration 0015).

`start` writes the job's row (with the caller's audit row, in the same transaction) and runs
`work(progress)` on a thread of the server; `work` reports its progress through the callback
(written into the row) and returns the report (JSON), stored when it ends. The row names the
process that runs it (`BOOT`, server/boots.py); a row left ``running`` by a process that is gone
(a killed or restarted server: its heartbeat lease ran out) is marked ``interrupted`` by
`mark_interrupted`, which the pages that show jobs call; one of a live sibling worker process
stays ``running``. A job of a kind and target that overlaps one still running in any process is
not started: `start` gives the running one's id instead (the check and the new row are one step
under the lease lock ``lock:desk_jobs``, so two workers never start the same class twice). What
a job does must be safe to run again after an interruption (the class issue is: it goes on
where it stopped).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from library import leases
from library.errors import IbcError
from library.storage.models import utcnow
from server import boots
from server.boots import BOOT
from server.models import DeskJob

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from library.storage.database import Database

_log = logging.getLogger("ibc.desk.jobs")
_threads: dict[int, threading.Thread] = {}
_lock = threading.Lock()

Progress = Callable[[int, int | None], None]


def mark_interrupted(db: Database) -> int:
    """Jobs still ``running`` in the table whose process is gone (not this one, no live
    heartbeat): interrupted."""
    with db.transaction() as s:
        done = s.execute(update(DeskJob).where(DeskJob.state == "running", boots.orphaned(DeskJob.boot))
                         .values(state="interrupted", finished_at=utcnow()),
                         execution_options={"synchronize_session": False})
        return int(getattr(done, "rowcount", 0) or 0)


def target_parts(target: str) -> set[str]:
    """``2026:7А,7Б`` → {``2026:7А``, ``2026:7Б``}: what a job works on, part by part."""
    head, _, rest = target.partition(":")
    return {f"{head}:{p}" for p in rest.split(",") if p} if rest else {target}


def running_overlap(db: Database, kind: str, target: str) -> int | None:
    """A job of this kind still running (in any live process) whose target shares a part with
    `target` (the newest), else None."""
    with db.session() as s:
        return _overlap(s, kind, target)


def _overlap(s: Session, kind: str, target: str) -> int | None:
    mine = target_parts(target)
    rows = s.execute(select(DeskJob.id, DeskJob.target)
                     .where(DeskJob.kind == kind, DeskJob.state == "running",
                            ~boots.orphaned(DeskJob.boot))
                     .order_by(DeskJob.id.desc()))
    for job_id, other in rows:
        if target_parts(other) & mine:
            return int(job_id)
    return None


def start(db: Database, kind: str, target: str, actor: str, work: Callable[[Progress], Any], *,
          total: int | None = None, report: dict | None = None,
          on_created: Callable[[Session, int], None] | None = None) -> tuple[int, bool]:
    """(job id, True) for a job started now; (id, False) for one of the same kind and an
    overlapping target still running here (nothing started, no audit row). `report`: what the
    row's report holds until the job's own replaces it."""
    with _lock:
        mark_interrupted(db)
        with db.transaction() as s:
            leases.hold_lock(s, "lock:desk_jobs")  # the check and the row: one step in all processes
            running = _overlap(s, kind, target)
            if running is not None:
                return running, False
            job = DeskJob(kind=kind[:32], target=target[:255], started_by=actor[:64], state="running",
                          boot=BOOT, progress=0, total=total, report=report or {})
            s.add(job)
            s.flush()
            job_id = job.id
            if on_created is not None:
                on_created(s, job_id)
            boots.beat(s)  # the row and the proof that its process lives commit together
        thread = threading.Thread(target=_run, args=(db, job_id, work), daemon=True,
                                  name=f"ibc-desk-job-{job_id}")
        _threads[job_id] = thread
        thread.start()
    boots.keep_alive(db, busy)
    return job_id, True


def wait(job_id: int, timeout: float | None = None) -> bool:
    """Wait for a job of this process to end (tests, shutdown); True when it has."""
    thread = _threads.get(job_id)
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()


def running_ids() -> Iterable[int]:
    """The jobs this process runs now."""
    return [i for i, t in list(_threads.items()) if t.is_alive()]


def busy() -> bool:
    """True while a job of this process runs (its heartbeat goes on)."""
    return bool(running_ids())


def _save(db: Database, job_id: int, **values: object) -> None:
    with db.transaction() as s:
        s.execute(update(DeskJob).where(DeskJob.id == job_id).values(**values))


def _run(db: Database, job_id: int, work: Callable[[Progress], Any]) -> None:
    def progress(done: int, total: int | None) -> None:
        values: dict[str, object] = {"progress": done}
        if total is not None:
            values["total"] = total
        _save(db, job_id, **values)

    try:
        report = work(progress)
    except Exception as exc:  # noqa: BLE001 - the job says why; the server goes on
        _log.warning("desk job %s failed: %s", job_id, type(exc).__name__)
        try:
            # a project error says why; anything else (a database error with its SQL and
            # values) only its kind
            why = str(exc) if isinstance(exc, IbcError) else ""
            _save(db, job_id, state="failed", finished_at=utcnow(), message=(why or type(exc).__name__)[:500])
        except Exception:  # noqa: BLE001 - the database itself is gone: next start says interrupted
            _log.exception("desk job %s: the failure could not be recorded", job_id)
    else:
        try:
            _save(db, job_id, state="done", finished_at=utcnow(), report=report)
        except Exception:  # noqa: BLE001
            _log.exception("desk job %s: the report could not be recorded", job_id)
    finally:
        _threads.pop(job_id, None)
