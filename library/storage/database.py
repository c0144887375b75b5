"""Opening the database: SQLite (embedded default, WAL) or PostgreSQL, chosen by URL alone.

SQLite quirks handled here: pysqlite's own transaction handling is switched off so that
SQLAlchemy's BEGIN is real, and write transactions can ask for ``BEGIN IMMEDIATE`` with the
execution option ``sqlite_begin="IMMEDIATE"`` (a deferred transaction that later upgrades to a
writer gets SQLITE_BUSY at once instead of waiting on busy_timeout).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from library.errors import StorageError

SQLITE_FILE = "ibc.sqlite3"
SYSTEM_DATA_DIR = Path("/var/lib/ibc")


def default_data_dir() -> Path:
    """/var/lib/ibc when it exists and is writable, else the user's platform data dir."""
    if SYSTEM_DATA_DIR.is_dir() and os.access(SYSTEM_DATA_DIR, os.W_OK):
        return SYSTEM_DATA_DIR
    from platformdirs import user_data_dir

    return Path(user_data_dir("ibc", appauthor=False))


def default_sqlite_path(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the embedded SQLite database lives."""
    base = Path(data_dir) if data_dir else default_data_dir()
    return base / SQLITE_FILE


def normalise_url(url: str | URL | None, data_dir: str | os.PathLike[str] | None = None) -> URL:
    """An SQLAlchemy URL: empty means the default SQLite file; bare postgresql uses psycopg 3."""
    if not url:
        return make_url(f"sqlite:///{default_sqlite_path(data_dir)}")
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=15000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """An engine plus a session factory for one database URL."""

    def __init__(self, url: str | URL | None = None, *, echo: bool = False,
                 data_dir: str | os.PathLike[str] | None = None):
        self.url = normalise_url(url, data_dir)
        self.backend = self.url.get_backend_name()
        if self.backend == "sqlite" and self.url.database not in (None, "", ":memory:"):
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.backend == "postgresql":
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine = create_engine(self.url, **kwargs)
        if self.backend == "sqlite":
            _setup_sqlite(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite backend."""
        return self.backend == "sqlite"

    def session(self) -> Session:
        """A new ORM session (use as a context manager)."""
        return self._sessions()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A session inside one transaction, committed on success and rolled back on error.

        Write transactions on SQLite take the write lock at BEGIN (BEGIN IMMEDIATE).
        """
        with self._sessions() as session, session.begin():
            if write and self.is_sqlite:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            yield session

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from library.storage.migrate import upgrade

        upgrade(self)

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None for an empty database)."""
        from library.storage.migrate import current_revision

        return current_revision(self)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def describe(self) -> str:
        """The URL without the password, for messages."""
        return self.url.render_as_string(hide_password=True)


def open_database(url: str | URL | None = None, *, data_dir: str | os.PathLike[str] | None = None,
                  echo: bool = False, migrate: bool = True) -> Database:
    """Open a database and migrate it to the newest schema; errors become StorageError. With
    ``migrate=False`` only connect (a read-only server checks the schema instead,
    server/readonly.py)."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    db = Database(url, echo=echo, data_dir=data_dir)
    try:
        if migrate:
            db.upgrade()
        else:
            with db.engine.connect():
                pass
    except OperationalError as exc:
        db.dispose()
        raise StorageError(f"cannot open database {db.describe()}: {exc.orig}") from exc
    except SQLAlchemyError as exc:
        db.dispose()
        raise StorageError(f"database {db.describe()}: {exc}") from exc
    return db
