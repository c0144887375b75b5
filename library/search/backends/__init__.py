"""The two storage backends of the index; each is small: DDL-free writes and one match query."""

from __future__ import annotations

from types import ModuleType

from sqlalchemy.orm import Session


def backend_for(session: Session) -> ModuleType:
    """The backend module for the session's database dialect."""
    name = session.get_bind().dialect.name
    if name == "sqlite":
        from library.search.backends import sqlite

        return sqlite
    if name == "postgresql":
        from library.search.backends import postgres

        return postgres
    from library.errors import StorageError

    raise StorageError(f"search index: unsupported database {name} (use SQLite or PostgreSQL)")
