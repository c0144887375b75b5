"""This server process's identity (`BOOT`) and its heartbeat in the database.

Desk jobs and MARC imports run on threads of the process that started them, and their rows name
that process (``boot``). With several worker processes on one database a ``running`` row of
another boot may belong to a live sibling, not to a server that was killed. So a process that
runs jobs keeps the lease ``boot:<BOOT>`` (library/leases.py) alive: taken in the transaction
that writes a job's row, renewed every `BEAT_S` seconds by one daemon thread while the process
has jobs running, and left to expire (`STALE_S`) when it has none or dies. A ``running`` row is
interrupted when its boot is not this process and its boot's lease is not live (`orphaned`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from library import leases

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from library.storage.database import Database

BOOT = secrets.token_hex(8)  # this server process
BEAT_S = 20.0   # the heartbeat renews the lease this often
STALE_S = 90.0  # a process silent this long is gone (several beats missed)
_log = logging.getLogger("ibc.server.boots")
_lock = threading.Lock()
_beats: dict[str, tuple[threading.Thread, threading.Event]] = {}  # database URL → its heartbeat
_busy: dict[str, set[Callable[[], bool]]] = {}  # database URL → "jobs of mine run" checks


def lease_name(boot: str = BOOT) -> str:
    """The lease of a server process."""
    return f"boot:{boot}"


def holder() -> str:
    """Who holds this process's lease: host and process id (for a person reading the table)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}"


def beat(s: Session) -> None:
    """Renew this process's lease in the caller's transaction (a job's row and the proof that its
    process lives commit together)."""
    leases.take(s, lease_name(), holder(), STALE_S)


def orphaned(boot_column: Any) -> Any:
    """SQL condition on a job table: its ``boot`` is not this process and not a live one."""
    from sqlalchemy import literal, not_

    return (boot_column != BOOT) & not_(leases.live(literal("boot:") + boot_column))


def keep_alive(db: Database, busy: Callable[[], bool]) -> None:
    """Renew this process's lease every BEAT_S seconds while `busy()` (jobs of this process
    run, or any other check passed here for the same database: pass a module-level function,
    the checks are kept in a set); one daemon thread per database, started here when none
    runs."""
    key = str(db.engine.url)
    with _lock:
        _busy.setdefault(key, set()).add(busy)
        running = _beats.get(key)
        if running is not None and running[0].is_alive() and not running[1].is_set():
            return
        stop = threading.Event()
        thread = threading.Thread(target=_loop, args=(db, stop, key), daemon=True,
                                  name="ibc-boot-heartbeat")
        _beats[key] = (thread, stop)
    thread.start()


def _loop(db: Database, stop: threading.Event, key: str) -> None:
    while not stop.wait(BEAT_S):
        with _lock:
            # decided under the lock keep_alive takes: no job slips in between
            if not any(check() for check in _busy.get(key, ())):
                stop.set()
                _beats.pop(key, None)
                return
        try:
            with db.transaction() as s:
                beat(s)
        except Exception:  # noqa: BLE001 - the database is away: try again next beat
            _log.warning("heartbeat of %s not written", BOOT, exc_info=True)
