"""Leaving tables ready for queries after a bulk write (an import, a reindex).

PostgreSQL: `VACUUM (ANALYZE)` of the tables the bulk write filled. ANALYZE gives the planner
statistics for the new rows (without them the first minutes after an import plan for an empty
table: autovacuum's analyse comes later); VACUUM sets the visibility map, so index-only scans
and bitmap heap scans skip the heap check, and it removes the dead rows an update left. VACUUM
cannot run inside a transaction block: it runs on its own autocommit connection, after the
import's transactions are committed.

SQLite: `ANALYZE` of the same tables (sqlite_stat1 for its planner) then `PRAGMA optimize`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import text

from library.storage.database import Database

# The search index's tables (library/search/schema.py); every import/reindex writes them.
SEARCH_TABLES = ("search_docs", "search_codes", "search_vocab", "search_vocab_keys")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass
class Maintenance:
    """What `after_bulk_write` did: the statement kind, the tables, seconds taken."""

    action: str
    tables: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready form (for an import's --json report)."""
        return {"action": self.action, "tables": self.tables, "seconds": round(self.seconds, 2)}


def after_bulk_write(db: Database, tables: Iterable[str], *, search: bool = True) -> Maintenance:
    """VACUUM (ANALYZE) (PostgreSQL) or ANALYZE + PRAGMA optimize (SQLite) of `tables` and,
    with `search`, the search index tables; call after the bulk write's transactions commit."""
    names = list(dict.fromkeys([*tables, *(SEARCH_TABLES if search else ())]))
    bad = [n for n in names if not _NAME.match(n)]
    if bad:
        raise ValueError(f"not a table name: {bad}")
    start = time.perf_counter()
    if db.is_sqlite:
        with db.engine.connect() as conn:
            present = set(conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type IN ('table')").scalars())
            done = [n for n in names if n in present]
            for n in done:
                conn.exec_driver_sql(f'ANALYZE "{n}"')
            conn.exec_driver_sql("PRAGMA optimize")
            conn.commit()
        return Maintenance("ANALYZE", done, time.perf_counter() - start)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        present = set(conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars())
        done = [n for n in names if n in present]
        if done:
            conn.execute(text("VACUUM (ANALYZE) " + ", ".join(f'"{n}"' for n in done)))
    return Maintenance("VACUUM (ANALYZE)", done, time.perf_counter() - start)
