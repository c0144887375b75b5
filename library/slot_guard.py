"""Guess limits kept in the database: the one mechanism behind wrong PINs per card
(library/circulation/pin_guard.py) and failed desk logins per name and address
(server/desk/guard.py).

A guess first takes a slot in ONE atomic statement, before the slow hash is computed::

    UPDATE <guards> SET attempts = attempts + 1 (or 1 in a new window)
    WHERE <key> = :k AND not locked AND (attempts < :max OR the window is over)
    RETURNING attempts

No row comes back when the key is locked or its `limit` slots of the window are taken (by wrong
guesses or by guesses still being checked), so a burst of parallel guesses evaluates at most
`limit` of them, on any number of server processes and across restarts. SQLite runs the
statement under ``BEGIN IMMEDIATE`` (one writer); PostgreSQL re-checks the WHERE on the row's
newest version after a concurrent update, so both count exactly. A failure that used up the
window locks the key (`failed`); a right guess frees its slots (`reset`) or gives its one slot
back (`release`).

A guard table has the key column (its primary key) and ``attempts``, ``window_start``,
``locked_until``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from library.storage.models import as_utc, utcnow


def minutes_left(until: dt.datetime, now: dt.datetime | None = None) -> int:
    """Whole minutes (at least 1) until `until`."""
    return max(1, math.ceil((as_utc(until) - (now or utcnow())).total_seconds() / 60))


class SlotGuard:
    """The limits of one guard table (``model``), keyed by its column ``key``."""

    def __init__(self, model: Any, key: InstrumentedAttribute[Any]) -> None:
        self.model, self.key = model, key

    def reserve(self, s: Session, key: Any, limit: int, window_min: int,
                now: dt.datetime | None = None) -> dt.datetime | None:
        """Take a slot for `key` before the guess is checked: None when taken, else the time it
        can be tried again (locked, or every slot of the window in use)."""
        m, now = self.model, now or utcnow()
        dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
        s.execute(dialect.insert(m).values({self.key.key: key, "attempts": 0, "window_start": now})
                  .on_conflict_do_nothing(index_elements=[self.key.key]))
        free = or_(m.locked_until.is_(None), m.locked_until <= now)
        fresh = or_(m.window_start < now - dt.timedelta(minutes=window_min),
                    m.locked_until.is_not(None))  # (under `free`) a lock that ran out
        taken = s.execute(
            update(m).where(self.key == key, free, or_(m.attempts < limit, fresh))
            .values(attempts=case((fresh, 1), else_=m.attempts + 1),
                    window_start=case((fresh, now), else_=m.window_start), locked_until=None)
            .returning(m.attempts),
            execution_options={"synchronize_session": False}).first()
        if taken is not None:
            return None
        row = s.execute(select(m.locked_until, m.window_start).where(self.key == key)).one()
        if row.locked_until is not None and as_utc(row.locked_until) > now:
            return as_utc(row.locked_until)
        return as_utc(row.window_start) + dt.timedelta(minutes=window_min)

    def failed(self, s: Session, key: Any, limit: int, lock_min: int,
               now: dt.datetime | None = None) -> bool:
        """A wrong guess used a slot of `key`: lock it when the window's slots are used up.
        True when this failure locked it."""
        m, now = self.model, now or utcnow()
        done = s.execute(update(m).where(self.key == key, m.attempts >= limit,
                                         or_(m.locked_until.is_(None), m.locked_until <= now))
                         .values(locked_until=now + dt.timedelta(minutes=lock_min)),
                         execution_options={"synchronize_session": False})
        return bool(getattr(done, "rowcount", 0))

    def release(self, s: Session, key: Any) -> None:
        """A right guess gives back the slot it took (the key's failures stay counted)."""
        m = self.model
        s.execute(update(m).where(self.key == key, m.attempts > 0).values(attempts=m.attempts - 1),
                  execution_options={"synchronize_session": False})

    def reset(self, s: Session, key: Any) -> None:
        """Every slot of `key` free, no lock."""
        s.execute(delete(self.model).where(self.key == key),
                  execution_options={"synchronize_session": False})
