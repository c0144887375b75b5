"""Desk sessions in the database (table ``desk_sessions``) and the form token (CSRF).

The cookie ``ibc_desk`` (HttpOnly, SameSite=Strict, Path=/desk, Secure over HTTPS) holds a
random token; only its SHA-256 is stored, so a copy of the database opens no session. A session
ends on logout, after ``[desk] idle_minutes`` without a request, ``max_hours`` after the login,
when the account is disabled or its password changed; an expired session is recorded as ended
(with why) when it is next presented.

Every POST form carries the hidden field ``csrf``: an HMAC of the session token, so it differs
per session, is never stored and cannot be computed without the cookie. The login form has no
session yet: it uses a double-submit token, a random ``ibc_desk_login`` cookie that the form
must repeat. Both are compared in constant time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from library.storage.models import as_utc, utcnow
from server import html
from server.desk.audit import audit
from server.desk.errors import DeskCsrf, DeskLoginRequired
from server.html import digest, new_token, well_formed
from server.models import DeskAccount, DeskSession

if TYPE_CHECKING:
    from config.settings import DeskSettings
    from library.storage.database import Database

COOKIE = "ibc_desk"
LOGIN_COOKIE = "ibc_desk_login"
TOUCH_S = 15  # last_seen is written at most this often


@dataclass(frozen=True)
class DeskUser:
    """The account behind a live desk session."""

    account_id: int
    name: str
    role: str
    token: str
    school: str | None = None  # the sigla of the account's school; None: every school

    @property
    def city_wide(self) -> bool:
        """True for an account of every school (the city's administrator, a single school's
        every account): it chooses a school where a page is per school."""
        return self.school is None

    @property
    def csrf(self) -> str:
        """The form token of this session."""
        return csrf_of(self.token)


def csrf_of(token: str) -> str:
    """The form token of a session token."""
    return html.csrf_of(token, b"ibc-desk-csrf")


def check_csrf(expected: str | None, given: str | None) -> None:
    """DeskCsrf unless `given` equals `expected` (constant time)."""
    if not html.same(expected, given):
        raise DeskCsrf()


def open_session(db: Database, account: tuple[int, str, str], ip: str) -> str:
    """A new session for a checked login (recorded in the audit log); returns its token."""
    token = new_token()
    with db.transaction() as s:
        s.add(DeskSession(token_hash=digest(token), account_id=account[0], client_ip=ip[:64]))
        audit(s, account[1], "login", ip=ip, role=account[2])
    return token


def current(db: Database, token: str | None, desk: DeskSettings, ip: str | None = None) -> DeskUser:
    """The account of the live session with this token, else DeskLoginRequired. A session past
    its idle or total time, or of a disabled account, is recorded as ended first."""
    if not well_formed(token):
        raise DeskLoginRequired()
    assert token is not None
    now = utcnow()
    with db.transaction(write=False) as s:
        row = s.execute(select(DeskSession.id, DeskSession.created_at, DeskSession.last_seen,
                               DeskSession.ended_at, DeskAccount.name, DeskAccount.role,
                               DeskAccount.disabled_at, DeskAccount.id.label("account_id"),
                               DeskAccount.sigla)
                        .join(DeskAccount, DeskAccount.id == DeskSession.account_id)
                        .where(DeskSession.token_hash == digest(token))).first()
    if row is None or row.ended_at is not None:
        raise DeskLoginRequired()
    why = None
    if row.disabled_at is not None:
        why = "disabled"
    elif now - as_utc(row.last_seen) > dt.timedelta(minutes=desk.idle_minutes):
        why = "idle"
    elif now - as_utc(row.created_at) > dt.timedelta(hours=desk.max_hours):
        why = "max_age"
    if why is not None:
        with db.transaction() as s:
            sess = s.get(DeskSession, row.id)
            if sess is not None and sess.ended_at is None:
                sess.ended_at, sess.ended_why = now, why
                audit(s, row.name, "session_expired", ip=ip, why=why)
        raise DeskLoginRequired()
    if now - as_utc(row.last_seen) > dt.timedelta(seconds=TOUCH_S):
        with db.transaction() as s:
            sess = s.get(DeskSession, row.id)
            if sess is not None and sess.ended_at is None:
                sess.last_seen = now
    return DeskUser(row.account_id, row.name, row.role, token, row.sigla)


def end(db: Database, user: DeskUser, why: str, ip: str | None = None) -> None:
    """End the session (logout), recorded in the audit log."""
    with db.transaction() as s:
        sess = s.scalar(select(DeskSession).where(DeskSession.token_hash == digest(user.token)))
        if sess is not None and sess.ended_at is None:
            sess.ended_at, sess.ended_why = utcnow(), why
            audit(s, user.name, why, ip=ip)
