"""Facts about a database as one member of a PostgreSQL streaming-replication pair.

A hot standby (``pg_basebackup -R``, docs/SERVER.md «A read-only server on a PostgreSQL
standby») answers reads and refuses every write; `in_recovery` tells it from a primary,
`replay_lag_s` says how far behind the primary it is, `make_read_only` makes every connection of
a Database refuse writes (so a read-only server writes nothing even on a primary or on SQLite),
and `is_read_only_error` recognises the refusal of a write on such a connection.
SQLite has no replication: it is never in recovery and has no replay lag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text

if TYPE_CHECKING:
    from library.storage.database import Database

READ_ONLY_SQLSTATE = "25006"  # read_only_sql_transaction: a write on a standby or a read-only session


def in_recovery(db: Database) -> bool:
    """True when `db` is a PostgreSQL hot standby (it replays the primary's WAL)."""
    if db.is_sqlite:
        return False
    with db.engine.connect() as conn:
        return bool(conn.execute(text("SELECT pg_is_in_recovery()")).scalar())


def replay_lag_s(db: Database) -> float | None:
    """How far a standby is behind its primary, in seconds: 0 when it replayed everything it
    received, else ``now() - pg_last_xact_replay_timestamp()`` (the age of the newest change it
    replayed). None on a primary, on SQLite, or before the standby replayed any transaction.
    A standby cut off from its primary receives nothing and so reads 0: the lag says how stale
    what it received is, not whether it still receives (docs/SERVER.md)."""
    if db.is_sqlite:
        return None
    with db.engine.connect() as conn:
        value = conn.execute(text(
            "SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL "
            "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
            "ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END")).scalar()
    return None if value is None else max(0.0, float(value))


def make_read_only(db: Database) -> None:
    """Every connection `db` opens from now on refuses writes: PostgreSQL sessions are
    ``default_transaction_read_only``, SQLite connections ``PRAGMA query_only``. The pool is
    emptied so no connection opened before stays writable."""

    @event.listens_for(db.engine, "connect")
    def _read_only(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        if db.is_sqlite:
            cur.execute("PRAGMA query_only = ON")
        else:
            cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            dbapi_conn.commit()
        cur.close()

    db.engine.dispose()


def is_read_only_error(exc: BaseException) -> bool:
    """True for a database's refusal of a write on a read-only connection or a standby."""
    orig = getattr(exc, "orig", None)
    if orig is None:
        return False
    if getattr(orig, "sqlstate", None) == READ_ONLY_SQLSTATE or \
            getattr(orig, "pgcode", None) == READ_ONLY_SQLSTATE:
        return True
    return "readonly database" in str(orig)  # SQLite: attempt to write a readonly database


def current_lsn(db: Database) -> str:
    """The primary's current WAL write position (``pg_current_wal_lsn()``)."""
    with db.engine.connect() as conn:
        return str(conn.execute(text("SELECT pg_current_wal_lsn()")).scalar())


def caught_up(standby: Database, lsn: str) -> bool:
    """True once `standby` has replayed the primary's WAL up to `lsn` (`current_lsn`): what
    was committed on the primary before that position is visible on the standby."""
    with standby.engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), CAST(:lsn AS pg_lsn)) >= 0, "
            "false)"), {"lsn": lsn}).scalar())
