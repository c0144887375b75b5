"""Failed desk logins per key, in the database (table ``desk_login_guards``), the pattern of
library/circulation/pin_guard.py: a login first takes a slot in ONE atomic statement, before the
slow password hash runs::

    UPDATE desk_login_guards SET attempts = attempts + 1 (or 1 in a new window)
    WHERE key = :k AND not locked AND (attempts < :max OR the window is over)
    RETURNING attempts

No row comes back when the key is locked or all its slots of the window are taken, so a burst of
parallel guesses evaluates at most `max` of them, across server processes and restarts. Keys are
``name:<SHA-256 of the account name>`` (any string, even a 10 kB one, makes a short key) and
``ip:<client address>``. A failure that used up the window locks the key (`failed`); a right
password frees the name's slots (`reset`) and gives the address back its one slot (`release`),
so a login that succeeds never counts against the address and cannot wipe its failures either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from library.storage.models import utcnow
from server.models import DeskLoginGuard as G


@dataclass(frozen=True)
class LoginLimits:
    """Settings `[desk] login_max_failures`, `ip_max_failures`, `login_window_min`, `login_lock_min`."""

    name_max: int = 5
    ip_max: int = 20
    window_min: int = 15
    lock_min: int = 15

    @classmethod
    def from_settings(cls, desk: object) -> LoginLimits:
        """From config.settings.DeskSettings."""
        return cls(int(getattr(desk, "login_max_failures", 5)), int(getattr(desk, "ip_max_failures", 20)),
                   int(getattr(desk, "login_window_min", 15)), int(getattr(desk, "login_lock_min", 15)))


def name_key(name: str) -> str:
    """The guard key of an account name as typed (normalised: stripped, lower case)."""
    return "name:" + hashlib.sha256(name.strip().lower().encode("utf-8", "replace")).hexdigest()


def ip_key(ip: str) -> str:
    """The guard key of a client address."""
    return "ip:" + ip[:64]


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite gives naive datetimes back even for timezone=True columns: they are UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def minutes_left(until: dt.datetime, now: dt.datetime | None = None) -> int:
    """Whole minutes (at least 1) until `until`."""
    return max(1, math.ceil((_aware(until) - (now or utcnow())).total_seconds() / 60))


def reserve(s: Session, key: str, limit: int, window_min: int,
            now: dt.datetime | None = None) -> dt.datetime | None:
    """Take a login slot for `key`: None when taken, else when it may be tried again."""
    now = now or utcnow()
    dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    s.execute(dialect.insert(G).values(key=key, attempts=0, window_start=now)
              .on_conflict_do_nothing(index_elements=["key"]))
    free = or_(G.locked_until.is_(None), G.locked_until <= now)
    fresh = or_(G.window_start < now - dt.timedelta(minutes=window_min), G.locked_until.is_not(None))
    taken = s.execute(
        update(G).where(G.key == key, free, or_(G.attempts < limit, fresh))
        .values(attempts=case((fresh, 1), else_=G.attempts + 1),
                window_start=case((fresh, now), else_=G.window_start), locked_until=None)
        .returning(G.attempts),
        execution_options={"synchronize_session": False}).first()
    if taken is not None:
        return None
    row = s.execute(select(G.locked_until, G.window_start).where(G.key == key)).one()
    if row.locked_until is not None and _aware(row.locked_until) > now:
        return _aware(row.locked_until)
    return _aware(row.window_start) + dt.timedelta(minutes=window_min)


def failed(s: Session, key: str, limit: int, lock_min: int, now: dt.datetime | None = None) -> bool:
    """A failed login used a slot of `key`: lock it when the window's slots are used up.
    True when this failure locked it."""
    now = now or utcnow()
    done = s.execute(update(G).where(G.key == key, G.attempts >= limit,
                                     or_(G.locked_until.is_(None), G.locked_until <= now))
                     .values(locked_until=now + dt.timedelta(minutes=lock_min)),
                     execution_options={"synchronize_session": False})
    return bool(getattr(done, "rowcount", 0))


def release(s: Session, key: str) -> None:
    """A successful login gives back the slot it took (the key's failures stay counted)."""
    s.execute(update(G).where(G.key == key, G.attempts > 0).values(attempts=G.attempts - 1),
              execution_options={"synchronize_session": False})


def reset(s: Session, key: str) -> None:
    """Every slot of `key` free, no lock (a right password for the name)."""
    s.execute(delete(G).where(G.key == key), execution_options={"synchronize_session": False})
