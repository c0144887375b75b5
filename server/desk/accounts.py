"""Desk accounts: who may sign in to the librarian's desk, with which role, and the login check.

One module for the rules: a name is 1–64 of ``a-z 0-9 _ . -`` (stored lower case); a password
is 10–256 characters without control characters and not the name itself; it is stored as a
salted scrypt hash (library/hashing.py, N=2**15: 32 MB and ~0.1 s, run on the server's hashing
pool). `login` takes a slot of the name's and the address's failure limits in one transaction
before the hash (server/desk/guard.py) and gives one answer for an unknown name, a disabled
account and a wrong password. Every change is audited (actor "cli" for the `ibc` command).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select, update

from library.hashing import hash_secret, verify_secret
from library.schools import check_sigla, require_school
from library.slot_guard import minutes_left
from library.storage.models import as_utc, utcnow
from library.text import has_controls
from server.desk import guard
from server.desk.audit import audit
from server.desk.errors import AccountError
from server.desk.i18n import N_
from server.models import DeskAccount, DeskSession

if TYPE_CHECKING:
    import datetime as dt

    from library.storage.database import Database

_T = TypeVar("_T")
Hashing = Callable[..., Any]  # runs fn(*args) on the server's hashing pool (CirculationService.hashing)

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
ROLES = ("librarian", "admin")
MIN_PASSWORD, MAX_PASSWORD = 10, 256
LOG_N = 15
# Verified for an unknown name so that it takes as long as a known one.
_DUMMY = "scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 43 + "="


def _run(fn: Callable[..., _T], *args: Any) -> _T:
    return fn(*args)


def hash_password(password: str) -> str:
    """The stored form of a desk password."""
    return hash_secret(password, log_n=LOG_N)


def check_name(name: str) -> str:
    """The account name as stored (lower case), else AccountError."""
    value = name.strip().lower()
    if not NAME.match(value):
        raise AccountError("account_name", N_("Name: 1 to 64 characters — Latin letters, digits, _ . -"))
    return value


def check_password(password: str, name: str) -> str:
    """The password as given, when it is long enough and plain text; else AccountError."""
    if len(password) < MIN_PASSWORD:
        raise AccountError("password_short", N_("The password must be at least %(n)s characters long"),
                           n=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD or has_controls(password):
        raise AccountError("password_format",
                           N_("Password: at most %(n)s characters, no control characters"), n=MAX_PASSWORD)
    if password.strip().lower() == name.strip().lower():
        raise AccountError("password_is_name", N_("The password must not be the name"))
    return password


def _school(s: Any, school: str | None) -> str | None:
    """The stored sigla of an account's school (None: every school); SchoolNotFound
    (library.schools, ``school_not_found``) for a sigla no school has, BadSchoolValue for one
    that cannot be a sigla (control characters, too long)."""
    if school is None or not school.strip():
        return None
    return require_school(s, check_sigla(school)).sigla  # bad_school_value before a lookup


def add_account(db: Database, name: str, password: str, role: str = "librarian", *,
                school: str | None = None, actor: str = "cli", hashing: Hashing = _run) -> None:
    """A new desk account; AccountError when the name is taken or a rule is not met.
    `school`: the sigla of the school it works for (None: every school, the city's
    administrator); SchoolNotFound when no school has it."""
    name = check_name(name)
    if role not in ROLES:
        raise AccountError("account_role", N_("Role: librarian or admin"))
    stored = hashing(hash_password, check_password(password, name))
    with db.transaction() as s:
        if s.scalar(select(DeskAccount.id).where(DeskAccount.name == name)) is not None:
            raise AccountError("account_exists", N_("The account %(name)s already exists"), name=name)
        sigla = _school(s, school)
        s.add(DeskAccount(name=name, role=role, password_hash=stored, sigla=sigla))
        audit(s, actor, "account_added", account=name, role=role, **({"school": sigla} if sigla else {}))


def set_school(db: Database, name: str, school: str | None, *, actor: str = "cli") -> bool:
    """The account now works for school `school` (None or '': every school); False when it
    did already. SchoolNotFound for a sigla no school has; the account's open sessions see
    the change at their next request (the session reads it from the account's row)."""
    name = check_name(name)
    with db.transaction() as s:
        acc = s.scalar(select(DeskAccount).where(DeskAccount.name == name))
        if acc is None:
            raise AccountError("account_unknown", N_("There is no account %(name)s"), name=name)
        sigla = _school(s, school)
        if acc.sigla == sigla:
            return False
        acc.sigla = sigla
        audit(s, actor, "account_school", account=name, school=sigla or "*")
        return True


def set_password(db: Database, name: str, password: str, *, actor: str = "cli",
                 hashing: Hashing = _run) -> None:
    """A new password for the account; its open sessions end (they were signed in with the old)."""
    name = check_name(name)
    stored = hashing(hash_password, check_password(password, name))
    now = utcnow()
    with db.transaction() as s:
        acc = s.scalar(select(DeskAccount).where(DeskAccount.name == name))
        if acc is None:
            raise AccountError("account_unknown", N_("There is no account %(name)s"), name=name)
        acc.password_hash, acc.password_changed_at = stored, now
        _end_sessions(s, acc.id, now, "password")
        guard.reset(s, guard.name_key(name))
        audit(s, actor, "password_changed", account=name)


def disable(db: Database, name: str, *, actor: str = "cli") -> bool:
    """Disable the account and end its sessions; False when it was disabled already."""
    name = check_name(name)
    now = utcnow()
    with db.transaction() as s:
        acc = s.scalar(select(DeskAccount).where(DeskAccount.name == name))
        if acc is None:
            raise AccountError("account_unknown", N_("There is no account %(name)s"), name=name)
        if acc.disabled_at is not None:
            return False
        acc.disabled_at = now
        _end_sessions(s, acc.id, now, "disabled")
        audit(s, actor, "account_disabled", account=name)
        return True


def _end_sessions(s: Any, account_id: int, now: dt.datetime, why: str) -> None:
    s.execute(update(DeskSession)
              .where(DeskSession.account_id == account_id, DeskSession.ended_at.is_(None))
              .values(ended_at=now, ended_why=why),
              execution_options={"synchronize_session": False})


def list_accounts(db: Database) -> list[dict[str, Any]]:
    """Every account (never the hash): name, role, school (sigla; None: every school),
    created_at, disabled_at (ISO, UTC)."""
    with db.session() as s:
        rows = s.scalars(select(DeskAccount).order_by(DeskAccount.name)).all()
        return [{"name": a.name, "role": a.role, "school": a.sigla,
                 "created_at": as_utc(a.created_at).isoformat(),
                 "disabled_at": as_utc(a.disabled_at).isoformat() if a.disabled_at else None}
                for a in rows]


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to: `account` (id, name, role) on success, else `locked_min`
    (minutes until the name or address may try again) or a plain failure."""

    account: tuple[int, str, str] | None = None
    locked_min: int = 0


def login(db: Database, name: str, password: str, ip: str, limits: guard.LoginLimits, *,
          hashing: Hashing = _run) -> LoginResult:
    """Check a login: the limits first (one transaction, before the hash), then the password.
    Unknown names, disabled accounts and wrong passwords fail alike (and take as long)."""
    typed = name.strip().lower()
    nkey, ikey = guard.name_key(typed), guard.ip_key(ip)
    shown = typed if NAME.match(typed) else "(invalid name)"
    with db.transaction() as s:
        until = guard.reserve(s, nkey, limits.name_max, limits.window_min)
        ip_until = guard.reserve(s, ikey, limits.ip_max, limits.window_min)
        if until is not None or ip_until is not None:
            for key, refused in ((nkey, until), (ikey, ip_until)):
                if refused is None:  # the other key refused: its slot is given back
                    guard.release(s, key)
            later = max(u for u in (until, ip_until) if u is not None)
            return LoginResult(locked_min=minutes_left(later))
    account = None
    if NAME.match(typed) and len(password) <= MAX_PASSWORD:
        with db.session() as s:
            acc = s.scalar(select(DeskAccount).where(DeskAccount.name == typed))
            if acc is not None:
                account = (acc.id, acc.name, acc.role, acc.password_hash, acc.disabled_at)
    ok = hashing(verify_secret, password[:MAX_PASSWORD + 1], account[3] if account else _DUMMY)
    ok = ok and account is not None and account[4] is None
    with db.transaction() as s:
        if ok and account is not None:
            guard.reset(s, nkey)
            guard.release(s, ikey)
            return LoginResult(account=(account[0], account[1], account[2]))
        why = "unknown" if account is None else ("disabled" if account[4] is not None else "password")
        audit(s, "-", "login_failed", ip=ip, name=shown, reason=why)
        # A lock is recorded when it is set, not at every refused attempt (no audit flood).
        if guard.failed(s, nkey, limits.name_max, limits.lock_min):
            audit(s, "-", "login_locked", ip=ip, name=shown, by="name")
        if guard.failed(s, ikey, limits.ip_max, limits.lock_min):
            audit(s, "-", "login_locked", ip=ip, by="address")
    return LoginResult()
