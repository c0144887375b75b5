"""Failed desk logins per key, in the database (table ``desk_login_guards``), with the one
guess-limit mechanism of library/slot_guard.py (as wrong PINs): a login first takes a slot in one
atomic statement, before the slow password hash, so a burst of parallel guesses evaluates at most
`max` of them, across server processes and restarts. Keys are
``name:<SHA-256 of the account name>`` (any string, even a 10 kB one, makes a short key) and
``ip:<client address>``. A failure that used up the window locks the key (`failed`); a right
password frees the name's slots (`reset`) and gives the address back its one slot (`release`),
so a login that succeeds never counts against the address and cannot wipe its failures either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from library.slot_guard import SlotGuard
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


_GUARD = SlotGuard(G, G.key)


def reserve(s: Session, key: str, limit: int, window_min: int,
            now: dt.datetime | None = None) -> dt.datetime | None:
    """Take a login slot for `key`: None when taken, else when it may be tried again."""
    return _GUARD.reserve(s, key, limit, window_min, now)


def failed(s: Session, key: str, limit: int, lock_min: int, now: dt.datetime | None = None) -> bool:
    """A failed login used a slot of `key`: lock it when the window's slots are used up.
    True when this failure locked it."""
    return _GUARD.failed(s, key, limit, lock_min, now)


def release(s: Session, key: str) -> None:
    """A successful login gives back the slot it took (the key's failures stay counted)."""
    _GUARD.release(s, key)


def reset(s: Session, key: str) -> None:
    """Every slot of `key` free, no lock (a right password for the name)."""
    _GUARD.reset(s, key)
