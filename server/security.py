"""Credentials: terminal enrolment and tokens, librarian tokens, reader sessions, the
per-terminal probe limit and the cards each terminal identified (offline policy).

Tokens and one-time codes are random (``secrets``) and stored only as SHA-256 hashes, so a copy
of the database does not let anyone act as a terminal. A reader session is a separate random
token that is only valid together with the token of the terminal that opened it, and it ends
after ``session_idle_s`` seconds without a request. Wrong PINs are limited per card in
library/circulation/pin_guard.py; here a terminal is limited in how many distinct cards may fail
on it in a minute. Both live in the database: across server processes and restarts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from library.errors import IbcError
from library.storage.models import Reader, as_utc, utcnow
from server.models import EnrolCode, ReaderSession, Terminal, TerminalCard, TerminalProbe

if TYPE_CHECKING:
    from pathlib import Path

    from config.settings import Settings
    from library.storage.database import Database

# Called inside the transaction of a change, so its audit row commits (or rolls back) with it.
InTransaction = Callable[[Session], None]

NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


class AuthError(IbcError):
    """A credential is missing, unknown, revoked or expired (HTTP 401)."""

    def __init__(self, code: str, message_en: str):
        super().__init__(message_en)
        self.code = code


class EnrolError(IbcError):
    """An enrolment code is wrong, used or expired, or the name is taken."""

    def __init__(self, code: str, message_en: str):
        super().__init__(message_en)
        self.code = code


def digest(secret: str) -> str:
    """The stored form of a token or code."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# --- administration (CLI side) ----------------------------------------------------------------
def create_enrol_code(db: Database, minutes: int, *, also: InTransaction | None = None,
                      expires_at: dt.datetime | None = None, sigla: str | None = None) -> str:
    """A new one-time enrolment code, valid `minutes` minutes (or until `expires_at`), printed
    once and stored hashed; `sigla`: the school the terminal will lend for (None: the default
    school; an unknown sigla is SchoolNotFound)."""
    from library.schools import require_school

    code = "-".join(secrets.token_hex(2).upper() for _ in range(3))
    with db.transaction() as s:
        if sigla is not None:
            sigla = require_school(s, sigla).sigla
        s.add(EnrolCode(code_hash=digest(code), sigla=sigla,
                        expires_at=expires_at or utcnow() + dt.timedelta(minutes=minutes)))
        if also is not None:
            also(s)
    return code


@dataclass(frozen=True)
class Enrolment:
    """A new enrolment code as the technician types it (library/tls.py: the secret, then the
    check of the server's certificate when TLS is on), how long it lives, the certificate."""

    code: str
    minutes: int
    expires_at: dt.datetime
    fingerprint: str | None  # None: TLS is off (development only)


def new_enrolment(db: Database, settings: Settings, data_dir: str | Path, minutes: int | None = None,
                  *, also: InTransaction | None = None, sigla: str | None = None) -> Enrolment:
    """A one-time code for a new terminal (`ibc terminals enroll` and the desk's «Подключить
    терминал»): valid `minutes` (default ``[server] enrol_code_minutes``). With TLS on the
    server's certificate must exist (TlsError otherwise): the code carries its check.
    `sigla`: the school the terminal lends for (None: the default school, ``[school]``)."""
    from library.tls import enrolment_code
    from server import tls

    fp = None
    if settings.server.tls == "on":
        cert = tls.load(settings, data_dir)
        if cert is None:
            raise tls.TlsError("у сервера ещё нет сертификата — запустите сервер "
                               "(systemctl start ibc-server) или `sudo -u ibc ibc tls create` "
                               "(no server certificate yet)")
        fp = cert.fingerprint
    minutes = minutes or settings.server.enrol_code_minutes
    expires_at = utcnow() + dt.timedelta(minutes=minutes)
    if sigla is not None:
        from library.schools import ensure_default

        with db.transaction() as s:  # the default school may be named before it was used
            ensure_default(s, settings.school.sigla, settings.school.name)
    secret = create_enrol_code(db, minutes, also=also, expires_at=expires_at, sigla=sigla)
    return Enrolment(enrolment_code(secret, fp), minutes, expires_at, fp)


def create_librarian_token(db: Database, name: str) -> str:
    """A new librarian credential named `name`; the token is shown once."""
    token = secrets.token_urlsafe(32)
    with db.transaction() as s:
        if s.scalar(select(Terminal).where(Terminal.name == name)) is not None:
            raise EnrolError("name_taken", f"the name {name!r} is already in use")
        s.add(Terminal(name=name, role="librarian", token_hash=digest(token)))
    return token


def revoke(db: Database, name: str, *, also: InTransaction | None = None) -> bool:
    """Revoke a terminal or librarian credential (its reader sessions end); False when there is
    no such name. `also` runs in the same transaction (the desk's audit row)."""
    with db.transaction() as s:
        row = s.scalar(select(Terminal).where(Terminal.name == name))
        if row is None:
            return False
        if also is not None:
            also(s)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        for sess in s.scalars(select(ReaderSession).where(ReaderSession.terminal_id == row.id)):
            sess.ended = True
        return True


def list_credentials(db: Database) -> list[dict]:
    """Every terminal and librarian credential (never the token)."""
    with db.session() as s:
        rows = s.scalars(select(Terminal).order_by(Terminal.role.desc(), Terminal.name)).all()
        return [{"id": t.id, "name": t.name, "role": t.role, "sigla": t.sigla,
                 "created_at": as_utc(t.created_at).isoformat(),
                 "last_seen": as_utc(t.last_seen).isoformat() if t.last_seen else None,
                 "revoked": t.revoked_at is not None} for t in rows]


# --- the API side -----------------------------------------------------------------------------
def enrol(db: Database, code: str, name: str) -> str:
    """Trade a one-time code for a new terminal token. The name of a revoked terminal may be
    enrolled again (a terminal re-joins after a new server certificate or a repair): its row
    gets the new token, the old token stays refused."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    with db.transaction() as s:
        row = s.get(EnrolCode, digest(code.strip().upper()))
        if row is None or row.used_at is not None or as_utc(row.expires_at) < now:
            raise EnrolError("bad_enrol_code", "the enrolment code is wrong, used or expired")
        old = s.scalar(select(Terminal).where(Terminal.name == name))
        if old is not None and (old.revoked_at is None or old.role != "terminal"):
            raise EnrolError("name_taken", f"the name {name!r} is already in use")
        row.used_at, row.used_by = now, name
        if old is not None:  # re-enrolled: for the school of the new code
            old.token_hash, old.revoked_at, old.created_at, old.last_seen, old.sigla = \
                digest(token), None, now, None, row.sigla
        else:
            s.add(Terminal(name=name, role="terminal", token_hash=digest(token), sigla=row.sigla))
    return token


def enrolled_school(db: Database, name: str) -> str | None:
    """The sigla of the school the terminal `name` was enrolled for (None: the default school)."""
    with db.session() as s:
        return s.scalar(select(Terminal.sigla).where(Terminal.name == name))


def terminal_school(db: Database, terminal_id: int) -> str | None:
    """The sigla of the school a terminal was enrolled for (None: the default school)."""
    with db.session() as s:
        return s.scalar(select(Terminal.sigla).where(Terminal.id == terminal_id))


def authenticate(db: Database, token: str | None, role: str = "terminal", *,
                 touch: bool = True) -> tuple[int, str]:
    """(id, name) of the live credential with this token and role, else AuthError."""
    if not token:
        raise AuthError("no_token", "a bearer token is required")
    # Every request passes here: read in a read transaction (on SQLite a write transaction
    # takes the database write lock and queues behind checkouts), write only when needed.
    with db.transaction(write=False) as s:
        row = s.execute(select(Terminal.id, Terminal.name, Terminal.role, Terminal.revoked_at,
                               Terminal.last_seen)
                        .where(Terminal.token_hash == digest(token))).first()
    if row is None or row.revoked_at is not None or row.role != role:
        raise AuthError("bad_token", "unknown or revoked credential")
    now = utcnow()
    # Touch last_seen at most once a minute: no write per request.
    # A read-only server (server/readonly.py) writes nothing: touch=False.
    if touch and (row.last_seen is None or now - as_utc(row.last_seen) > dt.timedelta(seconds=60)):
        with db.transaction() as s:
            s.execute(update(Terminal).where(Terminal.id == row.id).values(last_seen=now))
    return row.id, row.name


def open_session(db: Database, terminal_id: int, reader_id: int) -> str:
    """A new reader session token bound to the terminal."""
    token = secrets.token_urlsafe(24)
    with db.transaction() as s:
        # One reader session per terminal: opening a new one ends the previous reader's. The
        # terminal's row is locked first (PostgreSQL; SQLite has one writer), so two opens at
        # once, even in two worker processes, end each other's in order and one stays live.
        if db.backend == "postgresql":
            s.execute(select(Terminal.id).where(Terminal.id == terminal_id).with_for_update())
        for old in s.scalars(select(ReaderSession).where(
                ReaderSession.terminal_id == terminal_id, ReaderSession.ended.is_(False))):
            old.ended = True
        s.add(ReaderSession(token_hash=digest(token), terminal_id=terminal_id, reader_id=reader_id))
        # The offline policy seen_cards trusts this reader at this terminal from now on.
        stmt = _insert(s)(TerminalCard).values(terminal_id=terminal_id, reader_id=reader_id,
                                              seen_at=utcnow())
        s.execute(stmt.on_conflict_do_update(index_elements=["terminal_id", "reader_id"],
                                             set_={"seen_at": stmt.excluded.seen_at}))
    return token


def session_reader(db: Database, token: str | None, terminal_id: int, idle_s: int, *,
                   touch: bool = True) -> Reader:
    """The reader of a live session opened on this terminal; refreshes the idle timer. With
    ``touch=False`` (a read-only server, server/readonly.py) nothing is written: the idle timer
    is not refreshed and an expired session is refused without being ended."""
    if not token:
        raise AuthError("no_session", "a reader session is required")
    now = utcnow()
    refusal: AuthError | None = None
    with db.transaction(write=touch) as s:
        sess = s.get(ReaderSession, digest(token))
        if sess is None or sess.ended or sess.terminal_id != terminal_id:
            raise AuthError("bad_session", "unknown or ended reader session")
        reader = s.get(Reader, sess.reader_id)
        if now - as_utc(sess.last_seen) > dt.timedelta(seconds=idle_s):
            refusal = AuthError("session_expired", "the reader session expired")
        elif reader is None or not reader.active:
            refusal = AuthError("bad_session", "unknown or ended reader session")
        if not touch:
            if reader is not None:
                s.expunge(reader)
        elif refusal is not None or reader is None:
            # Ended in this transaction, which commits: the refusal is raised after the commit
            # (raised inside, it would roll the end back and the session would stay live).
            sess.ended = True
        else:
            sess.last_seen = now
            s.expunge(reader)
    if refusal is not None or reader is None:
        raise refusal or AuthError("bad_session", "unknown or ended reader session")
    return reader


def end_session(db: Database, token: str | None, terminal_id: int) -> None:
    """End a reader session (Done button, idle timeout on the terminal)."""
    if not token:
        return
    with db.transaction() as s:
        sess = s.get(ReaderSession, digest(token))
        if sess is not None and sess.terminal_id == terminal_id:
            sess.ended = True


# --- the per-terminal probe limit ------------------------------------------------------------
PROBE_WINDOW = dt.timedelta(minutes=1)


def _insert(s: Session) -> Any:
    """INSERT … ON CONFLICT for the session's dialect (SQLite and PostgreSQL spell it alike)."""
    return (postgresql if s.get_bind().dialect.name == "postgresql" else sqlite).insert


def reserve_probe(db: Database, terminal_id: int, card: str, limit: int) -> bool:
    """Count `card` among the cards this terminal is trying (before anything is looked up); False
    when the terminal has more than `limit` distinct cards failing in the last minute.

    A card stays counted until it succeeds (`clear_probe`): unknown cards, wrong PINs and refused
    offline forwards keep counting, the same card typed again counts once (one reader's wrong
    PINs never lock a terminal for the others; `pin_guard` limits that card). The terminal's row
    is locked first (PostgreSQL; SQLite has one writer), so a parallel burst counts exactly."""
    now = utcnow()
    with db.transaction() as s:
        if db.backend == "postgresql":
            s.execute(select(Terminal.id).where(Terminal.id == terminal_id).with_for_update())
        s.execute(delete(TerminalProbe).where(TerminalProbe.terminal_id == terminal_id,
                                              TerminalProbe.probed_at < now - PROBE_WINDOW))
        stmt = _insert(s)(TerminalProbe).values(terminal_id=terminal_id, card_hash=digest(card),
                                               probed_at=now)
        s.execute(stmt.on_conflict_do_update(index_elements=["terminal_id", "card_hash"],
                                             set_={"probed_at": stmt.excluded.probed_at}))
        count = s.scalar(select(func.count()).select_from(TerminalProbe)
                         .where(TerminalProbe.terminal_id == terminal_id)) or 0
    return count <= limit


def clear_probe(db: Database, terminal_id: int, card: str) -> None:
    """The card succeeded on this terminal: it no longer counts as a probe."""
    with db.transaction() as s:
        s.execute(delete(TerminalProbe).where(TerminalProbe.terminal_id == terminal_id,
                                              TerminalProbe.card_hash == digest(card)))


def seen_at_terminal(db: Database, terminal_id: int, reader_id: int) -> bool:
    """True when this reader opened a session at this terminal before (offline `seen_cards`)."""
    with db.session() as s:
        return s.get(TerminalCard, (terminal_id, reader_id)) is not None
