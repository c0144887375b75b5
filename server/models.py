"""Server-side storage: enrolled terminals (and librarian credentials), one-time enrolment codes,
reader sessions and the offline-conflict list (migration 0004); the cards each terminal probed and
identified (migration 0010). Tokens, codes and probed cards are stored only as SHA-256 hashes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from library.storage.models import Base, utcnow


class Terminal(Base):
    """An enrolled terminal (role "terminal") or a librarian credential (role "librarian")."""

    __tablename__ = "terminals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="terminal")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class EnrolCode(Base):
    """A one-time enrolment code printed by `ibc terminals enroll`."""

    __tablename__ = "enrol_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    used_by: Mapped[str | None] = mapped_column(String(64))


class ReaderSession(Base):
    """A reader's short-lived session, bound to the terminal that opened it."""

    __tablename__ = "reader_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id", ondelete="CASCADE"), index=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended: Mapped[bool] = mapped_column(Boolean, default=False)


class OfflineConflict(Base):
    """A queued terminal operation the server refused when it was forwarded (for the librarian)."""

    __tablename__ = "offline_conflicts"

    txn_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    terminal: Mapped[str] = mapped_column(String(64), index=True)
    op: Mapped[str] = mapped_column(String(16))
    card: Mapped[str | None] = mapped_column(String(64))
    barcode: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(String(500))
    queued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TerminalProbe(Base):
    """A card that failed on a terminal (unknown, wrong PIN, refused offline forward) within the
    last minute: the per-terminal limit counts these distinct cards (server/security.py)."""

    __tablename__ = "terminal_probes"

    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id", ondelete="CASCADE"),
                                             primary_key=True)
    card_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    probed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TerminalCard(Base):
    """A reader identified online at a terminal: what the offline policy ``seen_cards`` trusts."""

    __tablename__ = "terminal_cards"

    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id", ondelete="CASCADE"),
                                             primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"),
                                           primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
