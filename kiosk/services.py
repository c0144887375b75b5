"""The kiosk's own small ports: what screens and presenters need from the library back ends.

`CatalogueService` finds and shows records; `CirculationPort` knows readers and loans;
`ReceiptPrinter` prints a checkout slip. Values crossing the ports are frozen dataclasses, so a
presenter never sees SQLAlchemy objects. Refusals are results with a stable ``code`` (the
domain's error codes), never Kivy-side rules: `kiosk.presenters.messages` turns codes into
friendly text. Fakes live in `kiosk.fakes`, implementations over `library` in `kiosk.local`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Hit:
    """One search result line."""

    id: int
    title: str
    authors: tuple[str, ...] = ()
    year: int | None = None
    isbn: str | None = None
    available: int = 0
    copies: int = 0
    shelf: str | None = None
    item_type: str = "book"


@dataclass(frozen=True)
class FacetValue:
    """One chip of a facet: the value, how many hits have it."""

    field: str
    value: str
    count: int
    label: str = ""


@dataclass(frozen=True)
class SearchPage:
    """The answer to one search: a page of hits, the total, a suggestion and facets."""

    query: str
    hits: tuple[Hit, ...] = ()
    total: int = 0
    suggestion: str | None = None
    facets: tuple[FacetValue, ...] = ()


@dataclass(frozen=True)
class CopyView:
    """A physical copy as the record screen shows it."""

    barcode: str
    status: str  # a library.storage.models.CopyStatus value
    shelf_mark: str | None = None
    collection: str | None = None
    due_date: dt.date | None = None


@dataclass(frozen=True)
class RecordView:
    """Everything the record screen shows about one title."""

    id: int
    title: str
    authors: tuple[str, ...] = ()
    subtitle: str | None = None
    annotation: str | None = None
    year: int | None = None
    publisher: str | None = None
    place: str | None = None
    bbk: str | None = None
    isbn: str | None = None
    age_rating: str | None = None
    pages: int | None = None
    copies: tuple[CopyView, ...] = ()


@dataclass(frozen=True)
class ReaderView:
    """A reader identified by a card."""

    id: int
    card_number: str
    first_name: str
    last_name: str = ""
    class_name: str | None = None
    blocked: bool = False
    block_reason: str | None = None


@dataclass(frozen=True)
class LoanView:
    """One open loan of a reader."""

    loan_id: int
    barcode: str
    title: str
    due_date: dt.date
    authors: tuple[str, ...] = ()
    renewals: int = 0
    renewable: bool = True


@dataclass(frozen=True)
class CheckoutResult:
    """The outcome of lending one copy: a due date, or a refusal code."""

    barcode: str
    ok: bool
    title: str = ""
    due_date: dt.date | None = None
    code: str = ""
    detail: str = ""


@dataclass(frozen=True)
class CheckinResult:
    """The outcome of returning one copy and where the copy goes now."""

    barcode: str
    ok: bool
    title: str = ""
    shelf_mark: str | None = None
    to_cart: bool = False  # reserved for someone or needs the librarian: put on the return cart
    overdue_days: int = 0
    code: str = ""


@dataclass(frozen=True)
class RenewResult:
    """The outcome of renewing one loan."""

    loan_id: int
    ok: bool
    due_date: dt.date | None = None
    code: str = ""


@dataclass(frozen=True)
class Receipt:
    """What a checkout slip says."""

    school: str
    reader: str
    lines: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (title, due text)


@runtime_checkable
class CatalogueService(Protocol):
    """Search and show the catalogue."""

    def search(self, query: str, *, limit: int = 20, offset: int = 0,
               facets: dict[str, str] | None = None) -> SearchPage:
        """Hits for a query, filtered by chosen facet values."""

    def record(self, record_id: int) -> RecordView:
        """One record with its copies; raises library.errors.NotFound."""

    def new_arrivals(self, limit: int = 6) -> list[Hit]:
        """The newest titles for the attract screen."""


@runtime_checkable
class CirculationPort(Protocol):
    """Readers and loans, as self-service needs them."""

    def reader_by_card(self, card: str) -> ReaderView:
        """The reader owning a card; raises library.errors.NotFound."""

    def checkout(self, card: str, barcode: str) -> CheckoutResult:
        """Lend one copy; a refusal is a result with a code, not an exception."""

    def checkin(self, barcode: str) -> CheckinResult:
        """Take one copy back."""

    def loans(self, card: str) -> list[LoanView]:
        """The reader's open loans, oldest due date first."""

    def renew(self, card: str, barcode: str) -> RenewResult:
        """Extend one loan."""


@runtime_checkable
class ReceiptPrinter(Protocol):
    """A slip printer; ``print_receipt`` returns False when nothing came out."""

    def print_receipt(self, receipt: Receipt) -> bool:
        """Print one checkout slip."""


class NoPrinter:
    """The printer of a terminal without one: never prints."""

    def print_receipt(self, receipt: Receipt) -> bool:
        """Nothing is printed."""
        return False
