"""Request and response bodies of the API (pydantic; unknown fields in requests are refused)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from library.text import NO_CONTROLS_PATTERN
from server.security import NAME_PATTERN

TXN_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
# A card or copy barcode: no control character (C0, DEL, C1), so that nothing stored can drive
# a librarian's terminal when the command line prints it (library/text.py).
CODE = Field(min_length=1, max_length=64, pattern=NO_CONTROLS_PATTERN)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EnrolIn(_In):
    """A terminal's enrolment request."""

    code: str = Field(min_length=4, max_length=32)
    name: str = Field(pattern=NAME_PATTERN)


class EnrolOut(BaseModel):
    """The new terminal's own token (shown once)."""

    name: str
    token: str
    school: str | None = Field(None, description="the school (sigla) the terminal lends for")


class SessionIn(_In):
    """A reader card [+ PIN] shown at the terminal."""

    card: str = CODE
    pin: str | None = Field(None, max_length=16)


class ReaderOut(BaseModel):
    """What the terminal may show about the reader."""

    first_name: str
    initial: str
    class_name: str | None
    category: str
    patronymic: str = ""  # teachers and staff only
    restriction: str | None = None  # why the reader cannot borrow now (a refusal code)
    restriction_note: str | None = None  # the librarian's block reason


class SessionOut(BaseModel):
    """A reader session: send `session` as X-Reader-Session with this terminal's token."""

    session: str
    reader: ReaderOut
    idle_s: int
    pin_required: bool = Field(False, description="the reader had to type a PIN (a terminal never "
                                                  "lends offline to such a reader)")
    pin_self_set: bool = Field(False, description="a reader without a PIN may set one here "
                                                  "(POST /session/pin, [circulation] pin_self_set)")


class PinChangeIn(_In):
    """The session reader's new PIN; `current` is required when the reader has a PIN."""

    current: str | None = Field(None, max_length=16)
    new: str = Field(min_length=1, max_length=16)


class PinOut(BaseModel):
    """The PIN was set."""

    pin_set: bool


class CirculationIn(_In):
    """One checkout, return or renewal with the client's transaction id."""

    barcode: str = CODE
    txn_id: str = Field(pattern=TXN_PATTERN)


class CollectIn(_In):
    """A textbook scanned in the kiosk's collection mode («Сдача учебников»)."""

    barcode: str = CODE
    class_name: str | None = Field(None, max_length=16, pattern=NO_CONTROLS_PATTERN,
                                   description="the class being collected: a copy of another "
                                               "class's pupil is flagged `other_class`")


class CollectedOut(BaseModel):
    """A scanned textbook (library.textbooks.issue.Collected): returned (``accepted``), returned
    by an earlier scan (``already``), or ``not_on_loan`` / ``unknown_copy`` (nobody named)."""

    kind: Literal["accepted", "already", "not_on_loan", "unknown_copy"]
    title: str
    pupil: str = Field(description="«Иванов А.»: only for a teacher's or staff session")
    class_name: str
    other_class: bool
    textbook: bool
    active: bool = Field(description="false: the pupil has left (archived or moved school)")
    lost_found: bool = Field(description="the copy was marked lost")


class OfflineIn(_In):
    """An operation a terminal queued while the server was unreachable."""

    op: Literal["checkout", "checkin"]
    card: str | None = Field(None, min_length=1, max_length=64, pattern=NO_CONTROLS_PATTERN)
    barcode: str = CODE
    txn_id: str = Field(pattern=TXN_PATTERN)
    queued_at: dt.datetime | None = None


class OutcomeOut(BaseModel):
    """A successful checkout, return or renewal (`replayed` when the txn id was seen before)."""

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
    place: str | None = None
    hold_id: int = Field(0, description="a return that filled a hold: the hold's id (else 0)")
    hold_for: str | None = Field(None, description="the reader the copy is set aside for: "
                                                   "«Анна К., 5А» (short name only)")
    hold_until: dt.date | None = Field(None, description="the last day on the hold shelf")
    send_to: str | None = Field(None, description="a copy of another school returned here: "
                                                  "the name of its school (set it aside to be "
                                                  "sent home)")
    wanted_by: str | None = Field(None, description="a copy back on its school's shelf that "
                                                    "another school asks for: that school's "
                                                    "name (give it to the librarian to send)")


class HoldIn(_In):
    """The session reader queues for a record («Встать в очередь»; with copies only at other
    schools: «Попросить из другой школы»)."""

    record_id: int = Field(ge=1, le=2**31 - 1)
    txn_id: str = Field(pattern=TXN_PATTERN)
    pickup: str | None = Field(None, min_length=1, max_length=32, pattern=r"^[^\x00-\x1f\x7f]+$",
                               description="the school to pick the book up at (sigla); "
                                           "default: the reader's school")


class HoldCancelIn(_In):
    """The session reader cancels one of their own holds."""

    txn_id: str = Field(pattern=TXN_PATTERN)


class HoldOut(BaseModel):
    """One of the session reader's holds (library.circulation.values.HoldView)."""

    hold_id: int
    record_id: int
    title: str
    authors: str
    state: Literal["queued", "transit", "waiting", "fulfilled", "expired", "cancelled"]
    position: int = Field(description="the place in the queue («ты 2-й»), 0 unless queued")
    placed_at: dt.datetime
    pickup_until: dt.date | None = Field(None, description="waiting: the last day on the hold shelf")
    barcode: str | None = Field(None, description="waiting: the copy set aside")
    where: str | None = Field(None, description="waiting: where the hold shelf is ([holds] "
                                                "shelf_note; null: the terminal's own words)")
    replayed: bool = False
    pickup: str | None = Field(None, description="the pickup school's sigla")
    pickup_name: str | None = Field(None, description="the pickup school's name")
    request: bool = Field(False, description="asked from another school")
    from_school: str | None = Field(None, description="the school whose copy travels here "
                                                      "(transit), waits here, or will likely "
                                                      "be sent (a queued request)")


class LoanOut(BaseModel):
    """One of the session reader's open loans."""

    loan_id: int
    barcode: str
    title: str
    authors: str
    issued: dt.date
    due_date: dt.date
    renewals: int
    overdue: bool


class CopyOut(BaseModel):
    """A copy with its live status."""

    barcode: str | None
    shelf: str | None
    status: str
    available: bool
    place: str | None = Field(None, description="the copy's place: «Стеллаж 5 — зарубежная проза»")
    place_id: int | None = Field(None, description="the place's id in GET /places")


class SchoolHoldingOut(BaseModel):
    """One school's copies of a record (library.schools.holdings; docs/SCHOOLS.md)."""

    sigla: str
    name: str
    available: int
    total: int


class SchoolOut(BaseModel):
    """A school of the server."""

    sigla: str
    name: str


class SchoolsOut(BaseModel):
    """GET /schools: every school, the default school first, and the calling terminal's."""

    school: str
    schools: list[SchoolOut]


class RecordOut(BaseModel):
    """Record details with live availability."""

    id: int
    title: str
    subtitle: str | None
    authors: list[str]
    publisher: str | None
    year: int | None
    isbn: str | None
    annotation: str | None
    subjects: list[str]
    item_type: str
    age_rating: str | None
    available: int
    total: int
    copies: list[CopyOut]
    schools: list[SchoolHoldingOut] = Field(
        default_factory=list, description="every school's copies, the terminal's school first; "
        "`copies`, `available` and `total` are the terminal's school's")
    school: str | None = Field(None, description="the terminal's school (sigla)")


class RuleOut(BaseModel):
    """One rule of a place (every condition given must hold)."""

    collection: str | None = None
    shelf: str | None = None
    bbk: str | None = None
    letters: str | None = None
    fallback: bool = False


class PlaceOut(BaseModel):
    """A place with its rules; `box` is x, y, w, h on the room plan (0..1, y from the top)."""

    id: int
    sigla: str
    name: str
    note: str | None
    room: str | None
    box: list[float] | None
    sort: int
    rules: list[RuleOut]


class ReturnsOut(BaseModel):
    """What the library wants said on return ([places] on the server)."""

    mode: str
    note: str
    place: str


class PlacesOut(BaseModel):
    """Every place with its rules, or `changed: false` when the caller's version is current."""

    changed: bool
    version: int
    places: list[PlaceOut]
    returns: ReturnsOut


class MediaOut(BaseModel):
    """A media-library item the reader may see."""

    id: int
    title: str
    kind: str
    duration_s: float | None
    subject: str | None
    class_from: int | None
    class_to: int | None
    tags: list[str]
    thumbnail: bool
    access: str  # everyone | teachers | onsite (library.access)
    downloadable: bool  # false for on-site items: GET /media/{id}/file answers 403


class ChangesOut(BaseModel):
    """One page of the change feed; pass next_since/next_after back while `more`.

    ``deleted_records``/``deleted_copies``: ids deleted outright on the server (tombstones);
    ``pruned``: tombstones up to this version were dropped; a replica behind it starts again.
    """

    version: int
    records: list[dict]
    copies: list[dict]
    deleted_records: list[int] = []
    deleted_copies: list[int] = []
    next_since: int
    next_after: str
    more: bool
    pruned: int = 0


class HealthOut(BaseModel):
    """Liveness; a read-only server (server/readonly.py) adds ``read_only`` and ``replay_lag_s``."""

    status: str
    database: bool
    read_only: bool | None = None
    replay_lag_s: float | None = None


class VersionOut(BaseModel):
    """What this server is."""

    api: int
    software: str
    school_id: str
    school_name: str


class ErrorOut(BaseModel):
    """Every error body."""

    code: str
    message: str
    message_en: str
