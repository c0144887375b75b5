"""Wrong-PIN limits per card, kept in the database (table ``pin_guards``, migration 0010).

A PIN guess first takes a slot in ONE atomic statement, before the slow hash is computed::

    UPDATE pin_guards SET attempts = attempts + 1 (or 1 in a new window)
    WHERE reader_id = :r AND not locked AND (attempts < :max OR the window is over)
    RETURNING attempts

No row comes back when the card is locked or its `max_failures` slots of the window are taken
(by wrong PINs or by guesses still being checked), so a burst of parallel guesses evaluates at
most `max_failures` of them, on any number of terminals and server processes. SQLite runs the
statement under ``BEGIN IMMEDIATE`` (one writer); PostgreSQL re-checks the WHERE on the row's
newest version after a concurrent update, so both count exactly. A wrong PIN that used up the
window locks the card for `lock_min` minutes (`failed`); a right PIN frees every slot (`reset`).
The librarian lists and unlocks cards (`locked_cards`, `unlock`; `ibc readers locked|unlock`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from library.storage.models import PinGuard, Reader, utcnow


@dataclass(frozen=True)
class GuessLimits:
    """Settings `[circulation] pin_max_failures`, `pin_failure_window_min`, `pin_lock_min`."""

    max_failures: int = 5
    window_min: int = 15
    lock_min: int = 15

    @classmethod
    def from_settings(cls, circ: object) -> GuessLimits:
        """From config.settings.CirculationSettings (or anything with the three attributes)."""
        return cls(int(getattr(circ, "pin_max_failures", 5)),
                   int(getattr(circ, "pin_failure_window_min", 15)),
                   int(getattr(circ, "pin_lock_min", 15)))


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite gives naive datetimes back even for timezone=True columns: they are UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def minutes_left(until: dt.datetime, now: dt.datetime | None = None) -> int:
    """Whole minutes (at least 1) until `until`."""
    return max(1, math.ceil((_aware(until) - (now or utcnow())).total_seconds() / 60))


def reserve(s: Session, reader_id: int, limits: GuessLimits,
            now: dt.datetime | None = None) -> dt.datetime | None:
    """Take a guess slot for the card before its PIN is checked: None when taken, else the time
    the card can be tried again (locked, or every slot of the window in use)."""
    now = now or utcnow()
    dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    s.execute(dialect.insert(PinGuard).values(reader_id=reader_id, attempts=0, window_start=now)
              .on_conflict_do_nothing(index_elements=["reader_id"]))
    free = or_(PinGuard.locked_until.is_(None), PinGuard.locked_until <= now)
    fresh = or_(PinGuard.window_start < now - dt.timedelta(minutes=limits.window_min),
                PinGuard.locked_until.is_not(None))  # (under `free`) a lock that ran out
    taken = s.execute(
        update(PinGuard)
        .where(PinGuard.reader_id == reader_id, free,
               or_(PinGuard.attempts < limits.max_failures, fresh))
        .values(attempts=case((fresh, 1), else_=PinGuard.attempts + 1),
                window_start=case((fresh, now), else_=PinGuard.window_start),
                locked_until=None)
        .returning(PinGuard.attempts),
        execution_options={"synchronize_session": False},
    ).first()
    if taken is not None:
        return None
    row = s.execute(select(PinGuard.locked_until, PinGuard.window_start)
                    .where(PinGuard.reader_id == reader_id)).one()
    if row.locked_until is not None and _aware(row.locked_until) > now:
        return _aware(row.locked_until)
    return _aware(row.window_start) + dt.timedelta(minutes=limits.window_min)


def failed(s: Session, reader_id: int, limits: GuessLimits, now: dt.datetime | None = None) -> bool:
    """A wrong PIN was typed with a slot from `reserve`: lock the card when the window's slots
    are used up. True when the card is (now) locked."""
    now = now or utcnow()
    until = now + dt.timedelta(minutes=limits.lock_min)
    s.execute(update(PinGuard)
              .where(PinGuard.reader_id == reader_id, PinGuard.attempts >= limits.max_failures,
                     or_(PinGuard.locked_until.is_(None), PinGuard.locked_until <= now))
              .values(locked_until=until),
              execution_options={"synchronize_session": False})
    locked = s.scalar(select(PinGuard.locked_until).where(PinGuard.reader_id == reader_id))
    return locked is not None and _aware(locked) > now


def reset(s: Session, reader_id: int) -> None:
    """A right PIN (or a PIN set or cleared by the librarian): every slot free, no lock."""
    s.execute(delete(PinGuard).where(PinGuard.reader_id == reader_id),
              execution_options={"synchronize_session": False})


def locked_cards(s: Session, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Cards locked now, soonest free first: card, name, class, wrong PINs, locked until."""
    now = now or utcnow()
    rows = s.execute(
        select(Reader.card_number, Reader.last_name, Reader.first_name, Reader.class_name,
               PinGuard.attempts, PinGuard.locked_until)
        .join(Reader, Reader.id == PinGuard.reader_id)
        .where(and_(PinGuard.locked_until.is_not(None), PinGuard.locked_until > now))
        .order_by(PinGuard.locked_until, Reader.card_number)).all()
    return [{"card": r.card_number, "reader": f"{r.last_name} {r.first_name}".strip(),
             "class": r.class_name, "failures": r.attempts,
             "locked_until": _aware(r.locked_until).isoformat(),
             "minutes_left": minutes_left(r.locked_until, now)} for r in rows]


def unlock(s: Session, card: str, now: dt.datetime | None = None) -> bool | None:
    """Unlock a card (its count starts again): True when it was locked, False when not, None
    when no reader has this card."""
    now = now or utcnow()
    reader_id = s.scalar(select(Reader.id).where(Reader.card_number == card.strip()))
    if reader_id is None:
        return None
    until = s.scalar(select(PinGuard.locked_until).where(PinGuard.reader_id == reader_id))
    reset(s, reader_id)
    return until is not None and _aware(until) > now
