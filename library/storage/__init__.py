"""Storage: SQLAlchemy 2 models, engine set-up for SQLite and PostgreSQL, Alembic migrations."""

from library.storage.database import Database, default_sqlite_path, normalise_url
from library.storage.models import (
    Base,
    Copy,
    CopyStatus,
    Event,
    Hold,
    Loan,
    MediaItem,
    Reader,
    Record,
    TransactionLog,
)

__all__ = [
    "Base",
    "Copy",
    "CopyStatus",
    "Database",
    "Event",
    "Hold",
    "Loan",
    "MediaItem",
    "Reader",
    "Record",
    "TransactionLog",
    "default_sqlite_path",
    "normalise_url",
]
