"""The values that cross the circulation port (library.circulation.ports): what a front end may
know about a reader, a loan outcome, an open loan. Frozen dataclasses, no SQLAlchemy; the
server's JSON schemas (server/schemas.py) mirror them for the wire."""

from __future__ import annotations

import datetime as dt
import functools
import typing
from dataclasses import asdict, dataclass
from typing import Any, Self

# Readers a school addresses formally and by name and patronymic (pupils: first name, «ты»).
ADULTS = frozenset({"teacher", "staff"})


@dataclass(frozen=True)
class ReaderView:
    """What a kiosk may show about the reader at the terminal: first name and initial only."""

    id: int
    card: str
    first_name: str
    initial: str
    class_name: str | None
    category: str
    patronymic: str = ""  # teachers and staff only: a school greets them by name and patronymic
    # Why this reader cannot borrow now (a check_reader refusal code: reader_blocked,
    # has_overdue, has_lost), told at the card rather than at the first book; the librarian's
    # block reason goes in `restriction_note` (shown to the card's owner only).
    restriction: str | None = None
    restriction_note: str | None = None
    # The reader set a PIN of their own (Policy.pin_required reads it: no second lookup).
    pin_set: bool = False

    @property
    def greeting_name(self) -> str:
        """«Аня П.»"""
        return f"{self.first_name} {self.initial}".strip()

    @property
    def formal(self) -> bool:
        """Teachers and staff are addressed formally («Вы»), pupils informally («ты»)."""
        return self.category in ADULTS


class JsonValue:
    """The JSON form of a frozen dataclass whose dates and times travel as ISO strings (the
    transactions table, the API, ``--json``): `to_dict` writes every date/datetime field as
    ISO, `from_dict` reads them back by the fields' declared types and drops keys it does not
    know (a newer version's)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        data = asdict(self)  # type: ignore[call-overload]  # subclasses are dataclasses
        for name, value in data.items():
            if isinstance(value, dt.date):
                data[name] = value.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Inverse of to_dict."""
        kinds = _time_fields(typing.cast(Any, cls))
        out = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}  # type: ignore[attr-defined]
        for name, kind in kinds.items():
            if out.get(name):
                out[name] = kind.fromisoformat(out[name])
            elif name in out:
                out[name] = None
        return cls(**out)


@functools.cache
def _time_fields(cls: Any) -> dict[str, type[dt.date]]:
    """The date and datetime fields of a dataclass, by their declared types."""
    found: dict[str, type[dt.date]] = {}
    for name, hint in typing.get_type_hints(cls).items():
        kinds = typing.get_args(hint) or (hint,)
        if dt.datetime in kinds:
            found[name] = dt.datetime
        elif dt.date in kinds:
            found[name] = dt.date
    return found


@dataclass(frozen=True)
class LoanOutcome(JsonValue):
    """A successful checkout, renewal or return."""

    action: str
    txn_id: str
    loan_id: int
    barcode: str
    title: str
    authors: str
    due_date: dt.date | None
    shelf: str | None = None
    renewals: int = 0
    replayed: bool = False
    # The copy's place in plain words (library.places): «Стеллаж 5 — зарубежная проза, буква К».
    place: str | None = None
    # A return that filled a hold (library/circulation/holds.py): the copy goes to the hold
    # shelf for `hold_for` («Анна К., 5А») until `hold_until`; 0 / None otherwise.
    hold_id: int = 0
    hold_for: str | None = None
    hold_until: dt.date | None = None
    # A copy of another school returned here (docs/HOLDS.md «Pickup school …»): set it aside
    # to be sent home to `send_to` (the school's name); a transfer row was made.
    send_to: str | None = None
    # A copy back on its own school's shelf that another school asks for (a queued request):
    # that school's name — the librarian sends it from /desk/requests.
    wanted_by: str | None = None



@dataclass(frozen=True)
class LoanView:
    """One of a reader's open loans."""

    loan_id: int
    barcode: str
    title: str
    authors: str
    issued: dt.date
    due_date: dt.date
    renewals: int
    overdue: bool


@dataclass(frozen=True)
class HoldView(JsonValue):
    """One hold as its reader (or the librarian placing or cancelling it) sees it; the outcome
    of `place_hold` / `cancel_hold` (a replay answers the first one, ``replayed`` set)."""

    hold_id: int
    record_id: int
    title: str
    authors: str
    state: str                        # queued | waiting | fulfilled | expired | cancelled
    position: int                     # the place in the queue («ты 2-й»), 0 unless queued
    placed_at: dt.datetime
    pickup_until: dt.date | None = None   # waiting: the last day on the hold shelf
    barcode: str | None = None        # waiting: the copy set aside
    where: str | None = None          # waiting: [holds] shelf_note (None: the UI's default words)
    replayed: bool = False
    # the pickup school (docs/HOLDS.md «Pickup school and inter-school requests»): its sigla and
    # name; `request`: asked from another school; `from_school`: the name of the school whose
    # copy travels (transit), waits here (waiting) or is likely to be sent (queued request)
    pickup: str | None = None
    pickup_name: str | None = None
    request: bool = False
    from_school: str | None = None



@dataclass(frozen=True)
class QueueEntry(JsonValue):
    """One hold in a record's queue, for the librarian (`hold_queue`): waiting first, then the
    queue in order."""

    position: int                     # 1.. for queued holds; 0 for the waiting ones
    hold_id: int
    reader_id: int | None
    card: str | None
    reader: str                       # «Анна К., 5А»
    placed_at: dt.datetime
    state: str
    pickup_until: dt.date | None = None
    barcode: str | None = None



@dataclass(frozen=True)
class ShelfEntry(JsonValue):
    """A copy on (or to take off) the hold shelf."""

    hold_id: int
    copy_id: int
    barcode: str
    title: str
    reader: str                       # «Анна К., 5А» («» once anonymised)
    card: str | None
    pickup_until: dt.date | None
    offline: bool = False             # trapped by an offline return: on the return cart, not here
    state: str = "waiting"



@dataclass(frozen=True)
class HoldShelf:
    """The librarian's hold shelf list (`hold_shelf(today)`): the copies waiting for readers
    (soonest end first) and the ones whose hold ended today that go back to the shelves."""

    today: dt.date
    waiting: list[ShelfEntry]
    take_off: list[ShelfEntry]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {"today": self.today.isoformat(), "waiting": [e.to_dict() for e in self.waiting],
                "take_off": [e.to_dict() for e in self.take_off]}


@dataclass(frozen=True)
class ExpiryReport:
    """What one `expire_holds` run did (the daily job, ``ibc holds expire``)."""

    today: dt.date
    expired_waiting: list[int]        # hold ids not picked up in time
    expired_queued: list[int]         # hold ids queued longer than [holds] queue_days
    cancelled_inactive: list[int]     # hold ids of readers no longer active (left, archived)
    passed_on: list[ShelfEntry]       # copies now waiting for the next reader (new slip)
    take_off: list[ShelfEntry]        # copies back to ``available``: «снять с полки заказов»

    @property
    def changed(self) -> bool:
        """False when the run changed nothing (a second run the same day)."""
        return bool(self.expired_waiting or self.expired_queued or self.cancelled_inactive)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {"today": self.today.isoformat(), "expired_waiting": self.expired_waiting,
                "expired_queued": self.expired_queued,
                "cancelled_inactive": self.cancelled_inactive,
                "passed_on": [e.to_dict() for e in self.passed_on],
                "take_off": [e.to_dict() for e in self.take_off]}


@dataclass(frozen=True)
class TransferView(JsonValue):
    """A copy travelling between schools (table ``transfers``), and what a desk's scan did with
    it: ``outcome`` is ``sent`` (the owning school sent it for a request), ``waiting`` (received
    for its hold: on the hold shelf for `reader` until `pickup_until`), ``shelf`` (received
    home: back on the shelf, or `reader`'s hold there), ``send_back`` (received but its hold
    ended: a new transfer takes it home), ``listed`` (a list's row)."""

    transfer_id: int
    copy_id: int
    barcode: str
    title: str
    from_sigla: str
    from_name: str
    to_sigla: str
    to_name: str
    hold_id: int | None
    sent_at: dt.datetime
    received_at: dt.datetime | None = None
    outcome: str = "listed"
    reader: str | None = None          # «Анна К., 5А»: the receiving school's reader (its desk)
    pickup_until: dt.date | None = None
    replayed: bool = False



@dataclass(frozen=True)
class RequestEntry(JsonValue):
    """A request of another school that this school could fill (its desk's «Запросы других
    школ»): the book, where it is wanted, since when, and this school's copies on the shelf.
    Names no reader: the owning school only sends the book."""

    hold_id: int
    record_id: int
    title: str
    authors: str
    pickup: str
    pickup_name: str
    placed_at: dt.datetime
    on_shelf: int
    shelf: str | None = None

