"""Named leases in the database: who owns something now, the same answer in every process.

A lease (table ``leases``, library/storage/leases.py) is a row ``name`` → ``holder`` until
``expires_at``. `take` is ONE atomic statement after making sure the row exists::

    UPDATE leases SET holder = :me, expires_at = :now + :seconds, taken_at = …
    WHERE name = :name AND (holder = :me OR expires_at <= :now)
    RETURNING holder

so of two processes taking a free lease at once exactly one gets it: SQLite runs the
transaction under ``BEGIN IMMEDIATE`` (one writer), PostgreSQL re-checks the WHERE on the row's
newest version after the other's commit (READ COMMITTED) and finds it held. The holder renews by
taking again; anyone takes over once it expired; `release` ends it early. `hold_lock` is a lease
row used as a row lock (``SELECT … FOR UPDATE``) to serialise a check-then-insert across
processes for the rest of a transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from library.storage.leases import Lease
from library.storage.models import as_utc, utcnow

_NEVER = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)  # a new row: expired, nobody's


@dataclass(frozen=True)
class LeaseState:
    """The lease after a `take`: ``ours`` when the caller holds it now, else who does and until
    when."""

    name: str
    holder: str
    expires_at: dt.datetime
    ours: bool

    def seconds_left(self, now: dt.datetime | None = None) -> int:
        """Whole seconds (at least 1) until it runs out."""
        return max(1, int((self.expires_at - (now or utcnow())).total_seconds() + 0.999))


def _insert(s: Session) -> Any:
    return (postgresql if s.get_bind().dialect.name == "postgresql" else sqlite).insert


def _ensure(s: Session, name: str) -> None:
    s.execute(_insert(s)(Lease).values(name=name, holder="", taken_at=_NEVER, expires_at=_NEVER)
              .on_conflict_do_nothing(index_elements=["name"]))


def take(s: Session, name: str, holder: str, seconds: float,
         now: dt.datetime | None = None) -> LeaseState:
    """Take or renew `name` for `holder` for `seconds` when it is free, expired or already
    theirs; otherwise leave it and say who holds it. ``taken_at`` stays from the first take
    while the same holder renews."""
    if not holder:
        raise ValueError("a lease needs a holder")
    now = now or utcnow()
    _ensure(s, name)
    until = now + dt.timedelta(seconds=seconds)
    mine = Lease.holder == holder
    got = s.execute(
        update(Lease).where(Lease.name == name, mine | (Lease.expires_at <= now))
        .values(holder=holder, expires_at=until,
                taken_at=case((mine & (Lease.expires_at > now), Lease.taken_at), else_=now))
        .returning(Lease.holder),
        execution_options={"synchronize_session": False}).first()
    if got is not None:
        return LeaseState(name, holder, until, True)
    row = s.execute(select(Lease.holder, Lease.expires_at).where(Lease.name == name)).one()
    return LeaseState(name, row.holder, as_utc(row.expires_at), False)


def release(s: Session, name: str, holder: str, now: dt.datetime | None = None) -> bool:
    """End `holder`'s lease on `name` now (True), or do nothing when someone else holds it."""
    now = now or utcnow()
    done = s.execute(update(Lease).where(Lease.name == name, Lease.holder == holder,
                                         Lease.expires_at > now).values(expires_at=now),
                     execution_options={"synchronize_session": False})
    return bool(getattr(done, "rowcount", 0))


def current(s: Session, name: str, now: dt.datetime | None = None) -> LeaseState | None:
    """Who holds `name` now (``ours`` is False: the caller is not known here), or None."""
    now = now or utcnow()
    row = s.execute(select(Lease.holder, Lease.expires_at)
                    .where(Lease.name == name, Lease.expires_at > now)).first()
    return None if row is None else LeaseState(name, row.holder, as_utc(row.expires_at), False)


def live(name: Any, now: dt.datetime | None = None) -> Any:
    """A SQL condition: a lease named by the SQL expression `name` is live now (for
    ``exists(...)`` in another table's query)."""
    return select(Lease.name).where(Lease.name == name, Lease.expires_at > (now or utcnow())).exists()


def hold_lock(s: Session, name: str) -> None:
    """Serialise the rest of this transaction with every other one that holds `name`: the row
    is locked ``FOR UPDATE`` on PostgreSQL (SQLite's write transactions are serial already)."""
    _ensure(s, name)
    if s.get_bind().dialect.name == "postgresql":
        s.execute(select(Lease.name).where(Lease.name == name).with_for_update())
