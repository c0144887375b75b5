"""The library's domain model as SQLAlchemy 2 tables.

Records keep the original MARC bytes beside the extracted fields, so an export can give back
what was imported. Copies carry the holding school's sigla: a union catalogue is one database.
Loans keep the reader's class and category for statistics, so the reader link can be removed
(anonymised) after return without losing the figures.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


def as_utc(value: dt.datetime) -> dt.datetime:
    """A stored time, timezone-aware: SQLite gives naive datetimes back even for timezone=True
    columns, and they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


def table_of(model: type[Base]) -> Table:
    """The Table of a model, for Core statements (insert/update/delete, `.name`, `.c`)."""
    # DeclarativeBase types __table__ as FromClause (imperative mappings may map any
    # selectable); every model here declares __tablename__, so it is a Table.
    return cast(Table, model.__table__)


class CopyStatus(str, enum.Enum):
    """Where a copy is; ИРБИС 910^a codes are mapped onto these at import."""

    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    ORDERED = "ordered"
    BINDERY = "bindery"
    LOST = "lost"
    NOT_FOR_LOAN = "not_for_loan"
    WRITTEN_OFF = "written_off"
    RESERVED = "reserved"
    IN_PROCESS = "in_process"
    IN_TRANSIT = "in_transit"  # travelling between schools (a Transfer row; migration 0023)


class Record(Base):
    """A bibliographic record (one title/edition) with the fields the kiosk shows and searches."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    source_format: Mapped[str] = mapped_column(String(16), default="rusmarc")
    title: Mapped[str] = mapped_column(String(2000))
    subtitle: Mapped[str | None] = mapped_column(String(2000))
    responsibility: Mapped[str | None] = mapped_column(String(2000))
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    publisher: Mapped[str | None] = mapped_column(String(500))
    place: Mapped[str | None] = mapped_column(String(500))
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    isbn: Mapped[str | None] = mapped_column(String(32), index=True)
    isbns: Mapped[list[str]] = mapped_column(JSON, default=list)
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    udc: Mapped[str | None] = mapped_column(String(255))
    bbk: Mapped[str | None] = mapped_column(String(255))
    annotation: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    age_rating: Mapped[str | None] = mapped_column(String(8))
    age_min: Mapped[int | None] = mapped_column(Integer)
    item_type: Mapped[str] = mapped_column(String(16), default="book")
    pages: Mapped[int | None] = mapped_column(Integer)
    marc: Mapped[bytes | None] = mapped_column(LargeBinary)
    marc_encoding: Mapped[str | None] = mapped_column(String(16))
    popularity: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    copies: Mapped[list[Copy]] = relationship(
        back_populates="record", cascade="all, delete-orphan", order_by="Copy.id"
    )


class Copy(Base):
    """A physical copy (экземпляр) of a record held by one school."""

    __tablename__ = "copies"
    __table_args__ = (UniqueConstraint("sigla", "barcode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    sigla: Mapped[str] = mapped_column(String(32), default="", index=True)
    inventory_number: Mapped[str | None] = mapped_column(String(64), index=True)
    barcode: Mapped[str | None] = mapped_column(String(64), index=True)
    rfid: Mapped[str | None] = mapped_column(String(64), index=True)
    shelf_mark: Mapped[str | None] = mapped_column(String(255))
    collection: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=CopyStatus.AVAILABLE.value)
    status_code: Mapped[str | None] = mapped_column(String(4))
    price: Mapped[str | None] = mapped_column(String(32))
    received: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    record: Mapped[Record] = relationship(back_populates="copies")


class School(Base):
    """A school of the service (library/schools.py; migration 0019_schools): copies, readers,
    places and terminals name it by ``sigla``. The default school (``[school]``) is added on
    first use, so a single-school install has one row it never had to type."""

    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    sigla: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SchoolRule(Base):
    """One circulation rule a school sets differently from ``[circulation]`` (migration
    0024_school_rules; library/circulation/school_rules.py): ``key`` is the settings' own path
    (``pupil.rules.book.loan_days``), ``value`` its JSON text (``21``, ``true``)."""

    __tablename__ = "school_rules"

    sigla: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by: Mapped[str | None] = mapped_column(String(80))


class Reader(Base):
    """A reader (читатель): only what circulation needs."""

    __tablename__ = "readers"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_number: Mapped[str] = mapped_column(String(64), unique=True)
    last_name: Mapped[str] = mapped_column(String(100), default="")
    first_name: Mapped[str] = mapped_column(String(100), default="")
    middle_name: Mapped[str | None] = mapped_column(String(100))
    class_name: Mapped[str | None] = mapped_column(String(16), index=True)
    category: Mapped[str] = mapped_column(String(16), default="pupil")
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    block_reason: Mapped[str | None] = mapped_column(String(255))
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    sigla: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    archived_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    anonymised_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    # the reader chose to keep their reading history (the OPAC, migration 0025_opac):
    # anonymise_returned keeps the link of their returned loans (library/circulation/history.py)
    keep_history: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SchoolYearMove(Base):
    """One school year's move of the classes (library/circulation/school_year.py): the primary
    key makes it happen once per year (the year its September falls in)."""

    __tablename__ = "school_year_moves"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    moved_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    moved_by: Mapped[str] = mapped_column(String(64))
    pupils_moved: Mapped[int] = mapped_column(Integer)
    leavers: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PinGuard(Base):
    """Wrong-PIN guesses on one reader's card (library/circulation/pin_guard.py): a guess takes a
    slot (``attempts``) before its hash is computed; ``locked_until`` is set once the slots of the
    window are used up by wrong PINs. A row exists only for cards a PIN was typed for."""

    __tablename__ = "pin_guards"

    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"),
                                           primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Loan(Base):
    """One loan of a copy; at most one open loan per copy (a partial unique index)."""

    __tablename__ = "loans"
    __table_args__ = (
        Index(
            "uq_loans_open_copy",
            "copy_id",
            unique=True,
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("copies.id", ondelete="RESTRICT"), index=True)
    reader_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL"), index=True
    )
    reader_category: Mapped[str | None] = mapped_column(String(16))
    reader_class: Mapped[str | None] = mapped_column(String(16))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_date: Mapped[dt.date] = mapped_column(Date)
    returned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    checkout_txn: Mapped[str | None] = mapped_column(String(64), unique=True)
    return_txn: Mapped[str | None] = mapped_column(String(64))
    terminal: Mapped[str | None] = mapped_column(String(64))
    anonymised: Mapped[bool] = mapped_column(Boolean, default=False)

    copy: Mapped[Copy] = relationship()
    reader: Mapped[Reader | None] = relationship()


HOLD_ACTIVE = ("queued", "waiting", "transit")


class Hold(Base):
    """A reader's hold (заказ) on a record: any copy will do (library/circulation/holds.py).

    ``queued`` until a returned copy is set aside (``waiting``, ``copy_id``, ``pickup_until``),
    then ``fulfilled`` at the checkout, or ``expired`` / ``cancelled``. Like loans, the reader's
    category and class stay for the reports once the reader link is anonymised."""

    __tablename__ = "holds"
    __table_args__ = (
        Index("uq_holds_active_reader_record", "reader_id", "record_id", unique=True,
              sqlite_where=text("state IN ('queued', 'waiting', 'transit')"),
              postgresql_where=text("state IN ('queued', 'waiting', 'transit')")),
        Index("uq_holds_waiting_copy", "copy_id", unique=True,
              sqlite_where=text("state = 'waiting'"),
              postgresql_where=text("state = 'waiting'")),
        Index("ix_holds_record_state", "record_id", "state"),
        Index("ix_holds_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    reader_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL"), index=True)
    reader_category: Mapped[str | None] = mapped_column(String(16))
    reader_class: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    placed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    placed_txn: Mapped[str | None] = mapped_column(String(64), unique=True)
    placed_by: Mapped[str | None] = mapped_column(String(80))
    copy_id: Mapped[int | None] = mapped_column(ForeignKey("copies.id", ondelete="SET NULL"))
    waiting_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    pickup_until: Mapped[dt.date | None] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    close_reason: Mapped[str | None] = mapped_column(String(32))
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymised: Mapped[bool] = mapped_column(Boolean, default=False)
    # migration 0023_school_requests: where the reader picks the book up (NULL: the default
    # school) and whether the hold asks another school for a copy (docs/HOLDS.md)
    pickup_sigla: Mapped[str | None] = mapped_column(String(32))
    request: Mapped[bool] = mapped_column(Boolean, default=False)


class Transfer(Base):
    """A copy travelling between schools (Koha «branchtransfers»; migration 0023): sent for an
    inter-school request (``hold_id``) or home again (``hold_id`` NULL, or a hold that ended);
    open until ``received_at``. At most one open transfer per copy."""

    __tablename__ = "transfers"
    __table_args__ = (
        Index("uq_transfers_open_copy", "copy_id", unique=True,
              sqlite_where=text("received_at IS NULL"),
              postgresql_where=text("received_at IS NULL")),
        Index("ix_transfers_to_open", "to_sigla", "received_at"),
        Index("ix_transfers_from_open", "from_sigla", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("copies.id", ondelete="CASCADE"))
    from_sigla: Mapped[str] = mapped_column(String(32))
    to_sigla: Mapped[str] = mapped_column(String(32))
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id", ondelete="SET NULL"))
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_by: Mapped[str | None] = mapped_column(String(80))
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    received_by: Mapped[str | None] = mapped_column(String(80))


class TransactionLog(Base):
    """Client transaction ids already applied, with their first result (exactly-once replies)."""

    __tablename__ = "transactions"

    txn_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    terminal: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MediaItem(Base):
    """A file in the media library (video, audio, image, PDF, presentation)."""

    __tablename__ = "media_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(2000), unique=True)
    title: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[str] = mapped_column(String(16))
    size: Mapped[int | None] = mapped_column(BigInteger)
    mtime: Mapped[float | None] = mapped_column()
    duration_s: Mapped[float | None] = mapped_column()
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    codecs: Mapped[str | None] = mapped_column(String(255))
    thumbnail: Mapped[str | None] = mapped_column(String(2000))
    subject: Mapped[str | None] = mapped_column(String(255))
    class_from: Mapped[int | None] = mapped_column(Integer)
    class_to: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    access: Mapped[str] = mapped_column(String(16), default="everyone")
    licence: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="ok")
    error: Mapped[str | None] = mapped_column(String(1000))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="SET NULL"))
    plays: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    # the school it belongs to (migration 0024_school_rules); NULL = shared by the whole city
    sigla: Mapped[str | None] = mapped_column(String(32), index=True)


class Event(Base):
    """An event for statistics: visit, search, checkout, return, renew, play, import..."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_kind_ts", "kind", "ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    sigla: Mapped[str | None] = mapped_column(String(32))
    terminal: Mapped[str | None] = mapped_column(String(64))
    reader_category: Mapped[str | None] = mapped_column(String(16))
    reader_class: Mapped[str | None] = mapped_column(String(16))
    record_id: Mapped[int | None] = mapped_column(Integer)
    copy_id: Mapped[int | None] = mapped_column(Integer)
    media_id: Mapped[int | None] = mapped_column(Integer)
    query: Mapped[str | None] = mapped_column(String(500))
    count: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Place(Base):
    """Where copies stand, in words a pupil understands: «Стеллаж 5 — зарубежная проза, буква К».

    One school (sigla) has its own places; ``box_*`` place it on the room's plan as fractions of
    the plan (0..1, y from the top), all four or none. Rules say which copies stand here
    (library/places; docs/PLACES.md). Every change bumps the counter "places".
    """

    __tablename__ = "places"
    __table_args__ = (UniqueConstraint("sigla", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sigla: Mapped[str] = mapped_column(String(32), default="", index=True)
    name: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(255))
    room: Mapped[str | None] = mapped_column(String(100))
    box_x: Mapped[float | None] = mapped_column(Float)
    box_y: Mapped[float | None] = mapped_column(Float)
    box_w: Mapped[float | None] = mapped_column(Float)
    box_h: Mapped[float | None] = mapped_column(Float)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    rules: Mapped[list[PlaceRule]] = relationship(
        back_populates="place", cascade="all, delete-orphan", order_by="PlaceRule.id"
    )


class PlaceRule(Base):
    """One way a copy is matched to a place; every condition given must hold (AND).

    ``collection`` equals the copy's collection (case and ё folded); ``shelf_prefix`` starts
    the copy's shelf mark; ``bbk_prefix`` starts the record's ББК (else the shelf mark's first
    part); ``letter_from``..``letter_to`` hold the first letter of the author sign; a
    ``fallback`` rule has no condition and takes what no other rule takes.
    """

    __tablename__ = "place_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    collection: Mapped[str | None] = mapped_column(String(255))
    shelf_prefix: Mapped[str | None] = mapped_column(String(255))
    bbk_prefix: Mapped[str | None] = mapped_column(String(255))
    letter_from: Mapped[str | None] = mapped_column(String(1))
    letter_to: Mapped[str | None] = mapped_column(String(1))
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)

    place: Mapped[Place] = relationship(back_populates="rules")


class Counter(Base):
    """Named monotonic counters (the change-feed version "catalogue", the places version)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Tombstone(Base):
    """A record (kind "r") or copy ("c") deleted outright, so the change feed can tell replicas.

    Written only by the database triggers of migration 0008 (every delete path is covered: ORM,
    Core, ON DELETE CASCADE, SQL typed by hand), in the deleting transaction, with a version of
    its own from the counter "catalogue". Pruned after ``library.feed.TOMBSTONE_DAYS``.
    """

    __tablename__ = "tombstones"

    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    row_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, index=True)
    deleted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    index=True)


class Lesson(Base):
    """A teacher's lesson («урок»): a named, ordered list of media ids (media/lessons.py)."""

    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("teacher", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    media_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ResumePosition(Base):
    """Where a teacher stopped a media item, in seconds (media/lessons.py)."""

    __tablename__ = "resume_positions"

    teacher: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_id: Mapped[int] = mapped_column(
        ForeignKey("media_items.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class TextbookTitle(Base):
    """A catalogue record that is a school textbook: subject, grades, series (УМК), federal list
    number (migration 0014_textbooks)."""

    __tablename__ = "textbook_titles"

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(100), default="", index=True)
    grade_from: Mapped[int | None] = mapped_column(Integer)
    grade_to: Mapped[int | None] = mapped_column(Integer)
    series: Mapped[str | None] = mapped_column(String(255))
    fpu_number: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16), default="desk")  # marc | desk | fpu
    # the record's item type before it was made a textbook here (restored when the data go)
    former_item_type: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ClassSet(Base):
    """A textbook a class of a school uses in a school year (the year it starts: 2026 for
    2026/2027)."""

    __tablename__ = "class_sets"
    __table_args__ = (Index("uq_class_sets_school", "school_year", "class_name", "record_id",
                            text("coalesce(sigla, '')"), unique=True),
                      Index("ix_class_sets_year_class", "school_year", "class_name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    school_year: Mapped[int] = mapped_column(Integer)
    class_name: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # the school whose class it is (migration 0022_school_staff); NULL = the default school
    sigla: Mapped[str | None] = mapped_column(String(32))


class FpuEntry(Base):
    """One textbook of the federal list as last imported (migration 0014_textbooks)."""

    __tablename__ = "fpu_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), index=True)
    subject: Mapped[str] = mapped_column(String(100), default="")
    grade_from: Mapped[int | None] = mapped_column(Integer)
    grade_to: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    authors: Mapped[str] = mapped_column(String(500), default="")
    publisher: Mapped[str] = mapped_column(String(500), default="")
    isbn: Mapped[str] = mapped_column(String(200), default="")
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IrbisSyncRecord(Base):
    """What the catalogue sync from ИРБИС64 (ils/irbis/sync.py, migration 0017_irbis_sync) last
    saw of one ИРБИС record: its version, and the local record it became (``record_id``; none
    for a record that could not be mapped or was deleted). ``state``: live | deleted | skipped."""

    __tablename__ = "irbis_sync_records"

    database: Mapped[str] = mapped_column(String(32), primary_key=True)
    mfn: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="live")
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="SET NULL"),
                                                  index=True)
    key: Mapped[str | None] = mapped_column(String(255))
    synced_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IrbisSyncRun(Base):
    """The last catalogue sync of one ИРБИС database: when it ran, when it last completed, the
    server's max MFN then, the last error and the last report's counts."""

    __tablename__ = "irbis_sync_runs"

    database: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    max_mfn: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RecordKey(Base):
    """Which record a school's record key became (library/marc/links.py, migration
    0020_union_keys): one row per (record key, importing school). Several schools' keys point at
    one record when their books share a union key (library/marc/union.py); ``owner`` marks the
    key whose imports write the record's bibliographic fields (the first importer), the others
    bring only their school's copies. ``union_key`` is the key's record's union key as last
    imported (None: never merged)."""

    __tablename__ = "record_keys"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    sigla: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"),
                                           index=True)
    union_key: Mapped[str | None] = mapped_column(String(255), index=True)
    owner: Mapped[bool] = mapped_column(Boolean, default=True)
