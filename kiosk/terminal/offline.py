"""The terminal's durable offline queue (plain SQLite, ``PRAGMA synchronous=FULL``).

Checkouts and returns made while the server is unreachable are written here with their
transaction id before the reader is told "accepted"; ``Terminal.flush`` forwards them once the
server is back. Refusals (copy already on loan, reader blocked) stay here as conflicts and are
also listed on the server for the librarian: nothing is dropped silently. Reader cards are kept
only as SHA-256 hashes (for the "cards seen before" policy), with whether the card needed a PIN
online: a reader with a PIN is never lent to offline (the server refuses such forwards too).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import threading
import uuid
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS ops (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    txn_id TEXT NOT NULL UNIQUE,
    op TEXT NOT NULL CHECK (op IN ('checkout', 'checkin')),
    card TEXT,
    barcode TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'conflict')),
    attempts INTEGER NOT NULL DEFAULT 0,
    result TEXT
);
CREATE TABLE IF NOT EXISTS seen_cards (hash TEXT PRIMARY KEY, seen_at TEXT NOT NULL,
                                       pin INTEGER NOT NULL DEFAULT 1);
"""


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def _card_hash(card: str) -> str:
    return hashlib.sha256(card.strip().encode("utf-8")).hexdigest()


def new_txn_id(terminal: str) -> str:
    """A globally unique transaction id naming its terminal."""
    return f"{terminal[:24]}:{uuid.uuid4().hex}"


class OfflineQueue:
    """A durable FIFO of queued circulation operations plus the hashes of cards seen online."""

    def __init__(self, path: str | Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")  # an accepted loan survives a power cut
        self._conn.executescript(SCHEMA)
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(seen_cards)")}
        if "pin" not in columns:  # a queue from before 0.10: whether a card needs a PIN is unknown
            self._conn.execute("ALTER TABLE seen_cards ADD COLUMN pin INTEGER NOT NULL DEFAULT 1")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()

    def add(self, op: str, card: str | None, barcode: str, txn_id: str) -> None:
        """Queue an operation (idempotent for the same txn id)."""
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO ops (txn_id, op, card, barcode, queued_at) VALUES (?,?,?,?,?)",
                (txn_id, op, card, barcode, _now()))

    def pending(self) -> list[dict]:
        """Operations not yet accepted or refused by the server, oldest first."""
        return self._rows("state = 'pending'")

    def conflicts(self) -> list[dict]:
        """Operations the server refused."""
        return self._rows("state = 'conflict'")

    def all(self) -> list[dict]:
        """Every operation."""
        return self._rows("1 = 1")

    def _rows(self, where: str) -> list[dict]:
        with self._lock:
            cur = self._conn.execute(f"SELECT * FROM ops WHERE {where} ORDER BY seq")  # noqa: S608
            names = [c[0] for c in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def finish(self, txn_id: str, state: str, result: dict) -> None:
        """Record the server's answer: state 'done' or 'conflict'."""
        with self._lock:
            self._conn.execute(
                "UPDATE ops SET state = ?, attempts = attempts + 1, result = ? WHERE txn_id = ?",
                (state, json.dumps(result, ensure_ascii=False), txn_id))

    def attempted(self, txn_id: str) -> None:
        """Count a forwarding attempt that got no answer."""
        with self._lock:
            self._conn.execute("UPDATE ops SET attempts = attempts + 1 WHERE txn_id = ?", (txn_id,))

    def remember_card(self, card: str, pin: bool = False) -> None:
        """Note a card the server accepted (hash only) and whether it needed a PIN."""
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO seen_cards (hash, seen_at, pin) VALUES (?, ?, ?)",
                               (_card_hash(card), _now(), int(pin)))

    def seen(self, card: str) -> bool:
        """True when this card was accepted online before."""
        with self._lock:
            return self._conn.execute("SELECT 1 FROM seen_cards WHERE hash = ?",
                                      (_card_hash(card),)).fetchone() is not None

    def offline_trusted(self, card: str) -> bool:
        """True when this card was accepted online before without a PIN (the last time): the
        only cards a terminal lends to while the server is away. A card seen before this
        column existed counts as needing a PIN until it is seen online again."""
        with self._lock:
            row = self._conn.execute("SELECT pin FROM seen_cards WHERE hash = ?",
                                     (_card_hash(card),)).fetchone()
        return row is not None and not row[0]
