"""Wrong-PIN limits per card, kept in the database (table ``pin_guards``, migration 0010), with
the one guess-limit mechanism of library/slot_guard.py: a PIN guess first takes a slot in one
atomic statement, before the slow hash, so a burst of parallel guesses evaluates at most
`max_failures` of them, on any number of terminals and server processes. A wrong PIN that used
up the window locks the card for `lock_min` minutes (`failed`); a right PIN frees every slot
(`reset`).
The librarian lists and unlocks cards (`locked_cards`, `unlock`; `ibc readers locked|unlock`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from library.slot_guard import SlotGuard, minutes_left
from library.storage.models import PinGuard, Reader, as_utc, utcnow


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


_GUARD = SlotGuard(PinGuard, PinGuard.reader_id)


def reserve(s: Session, reader_id: int, limits: GuessLimits,
            now: dt.datetime | None = None) -> dt.datetime | None:
    """Take a guess slot for the card before its PIN is checked: None when taken, else the time
    the card can be tried again (locked, or every slot of the window in use)."""
    return _GUARD.reserve(s, reader_id, limits.max_failures, limits.window_min, now)


def failed(s: Session, reader_id: int, limits: GuessLimits, now: dt.datetime | None = None) -> bool:
    """A wrong PIN was typed with a slot from `reserve`: lock the card when the window's slots
    are used up. True when this wrong PIN locked it."""
    return _GUARD.failed(s, reader_id, limits.max_failures, limits.lock_min, now)


def reset(s: Session, reader_id: int) -> None:
    """A right PIN (or a PIN set or cleared by the librarian): every slot free, no lock."""
    _GUARD.reset(s, reader_id)


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
             "locked_until": as_utc(r.locked_until).isoformat(),
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
    return until is not None and as_utc(until) > now
