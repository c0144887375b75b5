"""Reader sessions of the OPAC (card + PIN), kept in the database — see docs/OPAC.md «My account».

`signed_in(request)` is what every OPAC page calls to know whether a reader is signed in (the
header's «Мой кабинет» / «Выйти», the record page's hold form); it never raises. `OpacReader`
is all a page may know of that reader. The account pages depend on `account_reader`, which
raises OpacLoginRequired (303 to the sign-in form).

Modelled on the desk's sessions (server/desk/sessions.py): the cookie ``ibc_opac`` holds a
random token and the table ``opac_sessions`` only its SHA-256; a new token at every sign-in (no
session fixation); the form token (CSRF) is an HMAC of the session token; the sign-in form has a
double-submit token (cookie ``ibc_opac_login``). A session ends on sign-out, after ``[opac]
idle_minutes`` without a request, ``max_hours`` after the sign-in, and when the reader is
archived or anonymised or their PIN was changed or cleared since (``pin_tag``, a SHA-256 of the
stored PIN hash at sign-in) — except the session in which the reader changed it themselves
(`keep_after_pin_change`). An expired session is recorded as ended (with why) when it is next
presented; a read-only server records nothing and only refuses it. A sign-in deletes every
session row unused for ``KEEP_DAYS`` (30) and the address guards a day past their window: who
signed in from where is not kept longer.

Guess limits: the PIN is checked by the circulation service (`check_pin`: the card's guess
slots in ``pin_guards``, shared with the kiosks: a card locked on a kiosk is locked here), and
every failed sign-in also counts against the client address (``opac_login_guards``, the one
SlotGuard mechanism of library/slot_guard.py), so trying many cards from one place locks the
place. A sign-in records no visit: the reports count visits to the library (a kiosk session),
and reading one's account at home is not one.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import SQLAlchemyError

from library.circulation import errors as E
from library.errors import IbcError
from library.slot_guard import SlotGuard, minutes_left
from library.storage.models import Reader, as_utc, utcnow
from server import html
from server.html import digest, new_token, well_formed
from server.models import OpacLoginGuard, OpacSession
from server.opac.errors import OpacCsrf, OpacLoginRequired
from server.opac.web import client_ip, state

if TYPE_CHECKING:
    from config.settings import OpacSettings
    from library.storage.database import Database
    from server.app import ServerState

log = logging.getLogger("ibc.opac")

COOKIE = "ibc_opac"
LOGIN_COOKIE = "ibc_opac_login"
CARD = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")  # a card number as a reader may type it
PIN_MAX = 32  # longer is no PIN (the rules allow 4..8 digits): refused without hashing
TOUCH_S = 15  # last_seen is written at most this often
KEEP_DAYS = 30  # a session row (reader, address, times) is deleted this long after its last use
_GUARD = SlotGuard(OpacLoginGuard, OpacLoginGuard.key)


@dataclass(frozen=True)
class OpacReader:
    """The reader of a live OPAC session: only what the pages show (first name, class) and need."""

    reader_id: int
    first_name: str
    category: str
    sigla: str
    token: str
    class_name: str | None = None

    @property
    def csrf(self) -> str:
        """The form token of this session (every POST form carries it)."""
        return csrf_of(self.token)


def pin_tag(pin_hash: str | None) -> str:
    """What a session remembers of the reader's PIN: a SHA-256 of its stored hash (or of '')."""
    return hashlib.sha256(("opac-pin:" + (pin_hash or "")).encode("utf-8")).hexdigest()


def csrf_of(token: str) -> str:
    """The form token of a session token."""
    return html.csrf_of(token, b"ibc-opac-csrf")


def check_csrf(expected: str | None, given: str | None) -> None:
    """OpacCsrf unless `given` equals `expected` (constant time)."""
    if not html.same(expected, given):
        raise OpacCsrf()


def ip_key(ip: str) -> str:
    """The guard key of a client address."""
    return "ip:" + ip[:64]


@dataclass(frozen=True)
class SignIn:
    """What a sign-in came to: a session token, or why not (``wrong``: unknown card, archived
    reader or wrong PIN — one answer; ``no_pin``; ``locked`` with the minutes to wait)."""

    token: str | None = None
    refusal: str | None = None
    minutes: int = 0


def sign_in(st: ServerState, card: str, pin: str, ip: str) -> SignIn:
    """Check card + PIN: the address takes a slot first (SlotGuard, before any lookup or hash),
    then the service checks the PIN (the card's own slots). A success gives the address its slot
    back and opens a session; a failure keeps it counted and locks the address when its slots
    are used up."""
    limits = st.settings.opac
    card = card.strip()
    with st.db.transaction() as s:
        until = _GUARD.reserve(s, ip_key(ip), limits.ip_max_failures, limits.login_window_min)
    if until is not None:
        return SignIn(refusal="locked", minutes=minutes_left(until))
    result = _check(st, card, pin)
    if result.refusal is None:
        with st.db.transaction() as s:
            _GUARD.release(s, ip_key(ip))
            row = s.scalar(select(Reader).where(Reader.card_number == card))
            assert row is not None
            s.execute(delete(OpacSession).where(  # old rows go: minimal data about minors
                OpacSession.last_seen < utcnow() - dt.timedelta(days=KEEP_DAYS)))
            s.execute(delete(OpacLoginGuard).where(  # and addresses whose window and lock are over
                OpacLoginGuard.window_start < utcnow() - dt.timedelta(days=1),
                or_(OpacLoginGuard.locked_until.is_(None), OpacLoginGuard.locked_until < utcnow())))
            token = new_token()
            s.add(OpacSession(token_hash=digest(token), reader_id=row.id, pin_tag=pin_tag(row.pin_hash),
                              client_ip=ip[:64]))
        return SignIn(token=token)
    with st.db.transaction() as s:
        _GUARD.failed(s, ip_key(ip), limits.ip_max_failures, limits.login_lock_min)
    return result


def _check(st: ServerState, card: str, pin: str) -> SignIn:
    """The card and PIN, by the circulation service; SignIn() when right."""
    if not CARD.match(card) or not pin or len(pin) > PIN_MAX or "\x00" in pin:
        return SignIn(refusal="wrong")
    try:
        try:
            reader = st.circulation.find_reader(card)  # unknown, archived: ReaderNotFound
        except E.CirculationError:
            _as_slow_as_a_pin(st, pin)  # an unknown card answers no sooner than a wrong PIN
            raise
        if not reader.pin_set:
            return SignIn(refusal="no_pin")
        if not st.circulation.check_pin(card, pin):
            return SignIn(refusal="wrong")
    except E.CardLocked as exc:
        return SignIn(refusal="locked", minutes=int(exc.params.get("minutes", 1)))
    except E.CirculationError:
        return SignIn(refusal="wrong")
    return SignIn()


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    from library.circulation.pins import hash_pin

    return hash_pin(secrets.token_hex(8))


def _as_slow_as_a_pin(st: ServerState, pin: str) -> None:
    """Spend a PIN check's time (the desk does the same for an unknown name)."""
    from library.circulation.pins import verify_pin

    st.circulation.hashing(verify_pin, pin, _dummy_hash())


def current(db: Database, token: str | None, opac: OpacSettings, *, write: bool = True) -> OpacReader:
    """The reader of the live session with this token, else OpacLoginRequired. A session past
    its idle or total time, of a reader archived or anonymised, or whose PIN changed since, is
    recorded as ended first (`write`: false on a read-only server, which only refuses it)."""
    if not well_formed(token):
        raise OpacLoginRequired()
    assert token is not None
    now = utcnow()
    with db.transaction(write=False) as s:
        row = s.execute(select(OpacSession.id, OpacSession.created_at, OpacSession.last_seen,
                               OpacSession.ended_at, OpacSession.pin_tag, Reader.id.label("reader_id"),
                               Reader.first_name, Reader.class_name, Reader.category, Reader.sigla,
                               Reader.active, Reader.archived_at, Reader.anonymised_at,
                               Reader.pin_hash)
                        .join(Reader, Reader.id == OpacSession.reader_id)
                        .where(OpacSession.token_hash == digest(token))).first()
    if row is None or row.ended_at is not None:
        raise OpacLoginRequired()
    why = None
    if not row.active or row.archived_at is not None or row.anonymised_at is not None:
        why = "reader"
    elif not hmac.compare_digest(row.pin_tag, pin_tag(row.pin_hash)):
        why = "pin"
    elif now - as_utc(row.last_seen) > dt.timedelta(minutes=opac.idle_minutes):
        why = "idle"
    elif now - as_utc(row.created_at) > dt.timedelta(hours=opac.max_hours):
        why = "max_age"
    if why is not None:
        if write:
            _end(db, row.id, why, now)
        raise OpacLoginRequired()
    if write and now - as_utc(row.last_seen) > dt.timedelta(seconds=TOUCH_S):
        with db.transaction() as s:
            sess = s.get(OpacSession, row.id)
            if sess is not None and sess.ended_at is None:
                sess.last_seen = now
    return OpacReader(row.reader_id, row.first_name, row.category, row.sigla or "", token,
                      row.class_name)


def _end(db: Database, session_id: int, why: str, now: dt.datetime) -> None:
    with db.transaction() as s:
        sess = s.get(OpacSession, session_id)
        if sess is not None and sess.ended_at is None:
            sess.ended_at, sess.ended_why = now, why


def end(db: Database, token: str, why: str = "logout") -> None:
    """End the session with this token (sign-out)."""
    with db.transaction() as s:
        sess = s.scalar(select(OpacSession).where(OpacSession.token_hash == digest(token)))
        if sess is not None and sess.ended_at is None:
            sess.ended_at, sess.ended_why = utcnow(), why


def keep_after_pin_change(db: Database, token: str) -> None:
    """After the reader changed their PIN in this session: this session keeps going (its
    ``pin_tag`` becomes the new hash's); the reader's other sessions still carry the old tag and
    end when they are next presented (`current`, ended_why ``pin``)."""
    with db.transaction() as s:
        sess = s.scalar(select(OpacSession).where(OpacSession.token_hash == digest(token)))
        if sess is None or sess.ended_at is not None:
            return
        stored = s.scalar(select(Reader.pin_hash).where(Reader.id == sess.reader_id))
        sess.pin_tag = pin_tag(stored)


def account_reader(request: Request) -> OpacReader:
    """FastAPI dependency of the account pages: the session's reader, else OpacLoginRequired."""
    cached = getattr(request.state, "opac_reader", None)
    if isinstance(cached, OpacReader):
        return cached
    st = state(request)
    reader = current(st.db, request.cookies.get(COOKIE), st.settings.opac, write=not st.read_only)
    request.state.opac_reader = reader
    return reader


def signed_in(request: Request) -> OpacReader | None:
    """The reader of the request's live OPAC session, or None (anonymous). Never raises: a
    database that cannot answer leaves the page anonymous (logged)."""
    if not well_formed(request.cookies.get(COOKIE)):
        return None
    try:
        return account_reader(request)
    except OpacLoginRequired:
        return None
    except (IbcError, SQLAlchemyError):
        log.exception("the OPAC session of %s could not be read", client_ip(request))
        return None
