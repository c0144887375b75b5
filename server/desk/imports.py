"""MARC files uploaded at the desk, imported in the background (table ``desk_imports``).

`start` writes the job's row and runs `library.marc.importer.import_files` on a thread of the
server (the import is the same as `ibc import`: batches, per-record errors, re-imports update
in place); the thread writes the progress into the row every few hundred records and the
report at the end, then removes the uploaded file. The row names the process that runs it
(`BOOT`, server/boots.py); a row left ``running`` by a process that is gone (a killed or
restarted server: its heartbeat lease ran out) is marked ``interrupted`` by `mark_interrupted`,
which the desk's import pages call; a row of a live sibling worker process stays ``running``. What its
batches wrote stays: importing the same file again updates those records and adds the rest.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import TYPE_CHECKING, cast

from sqlalchemy import update

from library.errors import IbcError
from library.marc.formats import IRBIS_TEXT, ISO2709, MARCXML
from library.marc.reader import detect_container
from library.storage.models import utcnow
from server import boots
from server.boots import BOOT
from server.models import DeskImport

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session

    from library.marc.importer import ImportReport
    from library.storage.database import Database

LISTED = 1000  # errors and warnings kept per job (the counts stay exact)
_log = logging.getLogger("ibc.desk.import")
_XML_RECORD = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?record[\s>]")
_threads: dict[int, threading.Thread] = {}


def count_records(path: str, container: str) -> int | None:
    """How many records the file holds, counted fast by their marks (ISO 2709 record ends,
    MARCXML ``<record>`` tags, ИРБИС ``*****`` lines); None for an unknown container."""
    marks = {ISO2709: re.compile(rb"\x1d"), MARCXML: _XML_RECORD,
             IRBIS_TEXT: re.compile(rb"\n\*{5}")}.get(container)
    if marks is None:
        return None
    keep = 0 if container == ISO2709 else 32  # a mark cut by a chunk's end is found in the next
    n, carry, last = 0, b"\n", b""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            data = carry + chunk
            limit = len(data) - keep
            n += sum(1 for m in marks.finditer(data) if m.start() < limit)
            carry = data[limit:]
            last = data[-64:]
    n += sum(1 for _ in marks.finditer(carry))
    if container == IRBIS_TEXT and not last.rstrip().endswith(b"*****"):
        n += 1  # the last record needs no separator after it
    return n


def mark_interrupted(db: Database) -> int:
    """Jobs still ``running`` in the table whose process is gone (not this one, no live
    heartbeat): interrupted."""
    with db.transaction() as s:
        done = s.execute(update(DeskImport).where(DeskImport.state == "running",
                                                   boots.orphaned(DeskImport.boot))
                         .values(state="interrupted", finished_at=utcnow()),
                         execution_options={"synchronize_session": False})
        return int(getattr(done, "rowcount", 0) or 0)


def start(db: Database, path: str, *, file_name: str, actor: str, sigla: str,
          encoding: str | None = None,
          on_created: Callable[[Session, int], None] | None = None) -> int:
    """Record the job (and `on_created(session, job_id)`, the audit row, in the same
    transaction) and import `path` on a thread; the file is removed when it ends.
    ImportFormatError (nothing recorded, the file removed) when it is no MARC file at all."""
    try:
        container = detect_container(path)
        total = count_records(path, container)
        size = os.path.getsize(path)
    except (IbcError, OSError):
        _remove(path)
        raise
    with db.transaction() as s:
        job = DeskImport(file_name=file_name[:255], actor=actor[:64], container=container,
                         encoding=encoding,
                         state="running", boot=BOOT, bytes_total=size, bytes_done=0,
                         records_total=total, records_done=0, added=0, updated=0, failed=0,
                         errors=[], warnings=[])
        s.add(job)
        s.flush()
        job_id = job.id
        if on_created is not None:
            on_created(s, job_id)
        boots.beat(s)  # the row and the proof that its process lives commit together
    thread = threading.Thread(target=_run, args=(db, job_id, path, sigla, encoding), daemon=True,
                              name=f"ibc-desk-import-{job_id}")
    _threads[job_id] = thread
    thread.start()
    boots.keep_alive(db, running)
    return job_id


def running() -> bool:
    """True while an import of this process runs (its heartbeat goes on)."""
    return any(t.is_alive() for t in list(_threads.values()))


def wait(job_id: int, timeout: float | None = None) -> bool:
    """Wait for a job of this process to end (tests, shutdown); True when it has."""
    thread = _threads.get(job_id)
    if thread is None:
        return True
    thread.join(timeout)
    return not thread.is_alive()


def _counts(report: ImportReport) -> dict:
    return {"records_done": report.read, "added": report.added, "updated": report.updated,
            "failed": report.skipped, "merged": report.merged}


def _listed(items: list[dict]) -> list[dict]:
    return [{"record": e.get("record"), "offset": e.get("offset"), "reason": str(e.get("reason"))[:500]}
            for e in items[:LISTED]]


def _save(db: Database, job_id: int, **values: object) -> None:
    with db.transaction() as s:
        s.execute(update(DeskImport).where(DeskImport.id == job_id).values(**values))


def _run(db: Database, job_id: int, path: str, sigla: str, encoding: str | None) -> None:
    from library.marc.importer import import_files
    from library.search import index_records

    def on_batch(session: object, record_ids: list[int]) -> None:
        index_records(cast("Session", session), record_ids)

    def progress(_name: str, offset: int, _size: int, report: ImportReport) -> None:
        _save(db, job_id, bytes_done=offset, **_counts(report))

    try:
        report = import_files(db, [path], sigla=sigla, on_batch=on_batch, progress=progress,
                              encoding=encoding)
    except Exception as exc:  # noqa: BLE001 - the job says why; the server goes on
        _log.warning("desk import %s failed: %s", job_id, exc)
        try:
            _save(db, job_id, state="failed", finished_at=utcnow(),
                  message=str(exc).replace(path, "")[:500] or type(exc).__name__)
        except Exception:  # noqa: BLE001 - the database itself is gone: next start says interrupted
            _log.exception("desk import %s: the failure could not be recorded", job_id)
    else:
        file_errors = [e for e in report.errors if e.get("record") is None]
        nothing = report.added + report.updated == 0 and bool(file_errors)
        _save(db, job_id, state="failed" if nothing else "done", finished_at=utcnow(),
              bytes_done=os.path.getsize(path) if os.path.exists(path) else 0,
              records_total=report.read if not nothing else None,
              message=str(file_errors[0]["reason"]).replace(path, "")[:500] if file_errors else None,
              errors=_listed([e for e in report.errors if e.get("record") is not None]),
              warnings=_listed(report.warnings), **_counts(report))
    finally:
        _remove(path)
        _threads.pop(job_id, None)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
