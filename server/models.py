"""Server-side storage: enrolled terminals (and librarian credentials), one-time enrolment codes,
reader sessions and the offline-conflict list (migration 0004); the cards each terminal probed and
identified (migration 0010); the librarian's desk: accounts, sessions, login guards and the audit
log (migration 0011, server/desk); MARC imports uploaded at the desk (migration 0013); the
desk's background jobs (migration 0015); the OPAC's reader sessions and sign-in guard (migration
0025). Tokens, codes and probed cards are stored only as
SHA-256 hashes, desk passwords as salted scrypt hashes (library/hashing.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String
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
    # the school it lends for (library/schools.py; migration 0019): None = the default school
    sigla: Mapped[str | None] = mapped_column(String(32))


class EnrolCode(Base):
    """A one-time enrolment code printed by `ibc terminals enroll`."""

    __tablename__ = "enrol_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    used_by: Mapped[str | None] = mapped_column(String(64))
    sigla: Mapped[str | None] = mapped_column(String(32))  # the school the terminal joins


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


class DeskAccount(Base):
    """A person who signs in to the librarian's desk (role "librarian" or "admin")."""

    __tablename__ = "desk_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="librarian")
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # the school the account works for (migration 0022_school_staff); NULL = every school
    sigla: Mapped[str | None] = mapped_column(String(32))


class DeskSession(Base):
    """A signed-in desk session; the cookie holds the token, this row only its SHA-256 hash.
    The form token (CSRF) is derived from the session token (server/desk/sessions.py)."""

    __tablename__ = "desk_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("desk_accounts.id", ondelete="CASCADE"),
                                            index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_why: Mapped[str | None] = mapped_column(String(16))
    client_ip: Mapped[str | None] = mapped_column(String(64))


class DeskLoginGuard(Base):
    """Failed desk logins per account name ("name:" + SHA-256 of the name) or per client address
    ("ip:" + address) in the current window, and the lock they caused (server/desk/guard.py)."""

    __tablename__ = "desk_login_guards"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class DeskAudit(Base):
    """Who did what at the desk or to its accounts (actor "cli" for the `ibc` command)."""

    __tablename__ = "desk_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_ip: Mapped[str | None] = mapped_column(String(64))


class DeskImport(Base):
    """A MARC file uploaded at the desk and imported in the background (server/desk/imports.py):
    its progress and report live here, so a page reload or another desk sees them. ``boot`` is
    the server process that runs it: a ``running`` job of another process was cut off by a stop
    and is shown ``interrupted`` (the import is idempotent: the same file again finishes it)."""

    __tablename__ = "desk_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    actor: Mapped[str] = mapped_column(String(64))
    container: Mapped[str | None] = mapped_column(String(16))
    encoding: Mapped[str | None] = mapped_column(String(16))  # forced; None: detected per record
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), default="running", index=True)
    boot: Mapped[str] = mapped_column(String(32))
    bytes_total: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    records_total: Mapped[int | None] = mapped_column(Integer)
    records_done: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(String(500))
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    merged: Mapped[int] = mapped_column(Integer, default=0)  # joined other schools' records


class DeskJob(Base):
    """A background job started at the desk (server/desk/jobs.py; migration 0015): the
    automatic class issue of a class or a grade (``kind`` ``class_issue``, ``target`` the year
    and classes). Progress, estimated total and the report live here, so a reload or another
    desk sees them; ``boot`` is the server process that runs it: a ``running`` job of another
    process was cut off by a stop and is shown ``interrupted``."""

    __tablename__ = "desk_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(255))
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), default="running", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(String(500))
    report: Mapped[Any] = mapped_column(JSON, default=dict)
    boot: Mapped[str] = mapped_column(String(32))


class OpacSession(Base):
    """A reader signed in to the OPAC with card + PIN (server/opac/sessions.py; migration
    0025_opac): the cookie holds the token, this row its SHA-256 hash; ``pin_tag`` is a SHA-256
    of the reader's stored PIN hash at sign-in (a PIN changed or cleared since ends it)."""

    __tablename__ = "opac_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"), index=True)
    pin_tag: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_why: Mapped[str | None] = mapped_column(String(16))
    client_ip: Mapped[str | None] = mapped_column(String(64))


class OpacLoginGuard(Base):
    """Failed OPAC sign-ins per client address ("ip:" + address) in the current window and the
    lock they caused (server/opac/sessions.py, library/slot_guard.py)."""

    __tablename__ = "opac_login_guards"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
