"""Reader PINs: the rule a new PIN must pass, salted scrypt hashes (stdlib hashlib), and setting
or clearing a reader's PIN.

The rule lives here once: the CLI (`ibc readers set-pin`), the server (`POST /session/pin`) and
any kiosk screen built on it ask `check_new_pin`. A PIN is digits only, `PinRules.min_digits` to
`max_digits` long (settings `[circulation] pin_min_digits`, `pin_max_digits`, 4..8), and not
trivial (`is_trivial`): all one digit (0000), a run up or down (1234, 4321, 9876, 0123, wrapping
8901 too), a repeated block (1212, 123123) — what an attacker tries first.

Hashes are scrypt N=2**14, r=8, p=1 (16 MB of memory and ~50 ms each): the server bounds how many
run at once (`[server] pin_hash_concurrency`); the hashing is library/hashing.py's, shared with
the desk's passwords. Hashes of the older form ``scrypt$`` + base64(salt16 + digest32) keep
verifying.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from library.circulation import errors as E
from library.hashing import hash_secret, verify_secret

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from library.storage.database import Database


def hash_pin(pin: str) -> str:
    """A salted scrypt hash of `pin` for storage (library/hashing.py, N=2**14)."""
    return hash_secret(pin, log_n=14)


def verify_pin(pin: str, stored: str) -> bool:
    """True when `pin` matches a hash made by hash_pin (a damaged hash matches nothing)."""
    return verify_secret(pin, stored)


@dataclass(frozen=True)
class PinRules:
    """How long a new PIN is (settings `[circulation] pin_min_digits`, `pin_max_digits`)."""

    min_digits: int = 4
    max_digits: int = 8

    @classmethod
    def from_settings(cls, circ: object) -> PinRules:
        """From config.settings.CirculationSettings (or anything with the two attributes)."""
        return cls(int(getattr(circ, "pin_min_digits", 4)), int(getattr(circ, "pin_max_digits", 8)))


def is_trivial(pin: str) -> bool:
    """True for the PINs guessed first: one digit repeated, a run up or down (wrapping 9→0), a
    repeated block (1212, 123123, 12341234) and the classics 0000, 1111, 1234, 4321, 1212."""
    digits = [int(c) for c in pin]
    if len(set(digits)) == 1:
        return True
    steps = {(b - a) % 10 for a, b in zip(digits, digits[1:])}
    if steps in ({1}, {9}):
        return True
    n = len(pin)
    return any(n % k == 0 and pin == pin[:k] * (n // k) for k in range(1, n // 2 + 1))


def check_new_pin(pin: str, rules: PinRules = PinRules()) -> str:
    """The PIN as it will be stored, or PinFormat / PinTrivial."""
    pin = pin.strip()
    if not (pin.isascii() and pin.isdigit()) or not rules.min_digits <= len(pin) <= rules.max_digits:
        raise E.PinFormat(min=rules.min_digits, max=rules.max_digits)
    if is_trivial(pin):
        raise E.PinTrivial()
    return pin


def set_pin(db: Database, card: str, pin: str, rules: PinRules = PinRules(),
            hasher: Callable[[str], str] = hash_pin) -> None:
    """Give the reader with `card` this PIN (checked by the rule, stored hashed by `hasher`,
    e.g. on the server's hashing pool); the card's guess count starts again. ReaderNotFound for
    an unknown card."""
    _store(db, card, hasher(check_new_pin(pin, rules)))


def clear_pin(db: Database, card: str) -> bool:
    """Remove the reader's PIN; False when there was none. ReaderNotFound for an unknown card."""
    return _store(db, card, None)


def _store(db: Database, card: str, stored: str | None) -> bool:
    """Write the reader's PIN hash (None: no PIN) and unlock the card; True when one was set."""
    with db.transaction() as s:
        return store_pin_hash(s, card, stored)


def store_pin_hash(s: Session, card: str, stored: str | None) -> bool:
    """In the caller's transaction: the reader's PIN hash (from `hash_pin` of a PIN that passed
    `check_new_pin`; None: no PIN), the card's guess count started again; True when a PIN was
    set before. ReaderNotFound for an unknown card."""
    from sqlalchemy import select

    from library.circulation.pin_guard import reset
    from library.storage.models import Reader

    reader = s.scalar(select(Reader).where(Reader.card_number == card.strip()))
    if reader is None:
        raise E.ReaderNotFound(card=card)
    had = reader.pin_hash is not None
    reader.pin_hash = stored
    reset(s, reader.id)
    return had
