"""The kiosk's own small ports: what screens and presenters need from the library back ends.

`CatalogueService` finds and shows records (circulation is the library's own port,
`library.circulation.ports.CirculationPort`); `ReceiptPrinter` prints a receipt;
a visit log counts reader sessions. Values crossing the ports are frozen dataclasses, so a
presenter never sees SQLAlchemy objects. Refusals carry a stable ``code`` (the domain's error
codes), never Kivy-side rules: `kiosk.presenters.messages` turns codes into friendly text.
Fakes live in `kiosk.fakes`, implementations over `library` in `kiosk.local`, over the school
server in `kiosk.remote`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from library.circulation.values import ReaderView
from library.places import PlaceView

if TYPE_CHECKING:
    from library.textbooks.issue import Collected


@dataclass(frozen=True)
class SchoolCopies:
    """One school's copies of a title (library.schools.holdings): who in the city holds it."""

    sigla: str
    name: str
    available: int
    total: int
    own: bool = False  # the terminal's own school


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
    place: PlaceView | None = None  # where its copies are (an available one first)
    bbk: str | None = None  # picks the colour of a generated cover
    schools: tuple[SchoolCopies, ...] = ()  # copies per school, the own school first


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
    place: PlaceView | None = None  # the librarian's plain place (library.places), if set


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
    item_type: str = "book"
    schools: tuple[SchoolCopies, ...] = ()  # every school holding it, the own school first


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

    def room(self, room: str | None) -> list[PlaceView]:
        """Every place of a room, to draw its plan with one place highlighted."""

    def cover(self, isbns: tuple[str, ...], barcodes: tuple[str, ...] = ()) -> Path | None:
        """A cover image the librarian provided (by ISBN or copy barcode), or None."""


@runtime_checkable
class CollectionPort(Protocol):
    """«Сдача учебников»: take a scanned textbook back and name its pupil and class
    (library.textbooks.issue.collect, exactly once per loan). Only for a reader who runs the
    media station (library.access.runs_station: teachers and staff); anyone else is refused
    with ClassSetError ``staff_only``. A copy not on loan or unknown comes back as a
    `Collected` of that kind; a terminal without its server raises OfflineRefused."""

    def collect(self, reader: ReaderView, barcode: str, *,
                class_name: str | None = None) -> Collected:
        """One scanned copy; `class_name` flags a copy of another class's pupil."""


class Printable(Protocol):
    """What the slip printer prints: a checkout receipt (library.circulation.receipts.Receipt)
    or a hold slip (kiosk.printing.HoldSlip)."""

    def pdf(self, path: str | Path) -> Path:
        """Write the PDF; returns its path."""


@runtime_checkable
class ReceiptPrinter(Protocol):
    """A slip printer; ``print_receipt`` returns False when nothing came out; ``available``
    False means the terminal has none (no receipt is offered). A coroutine: the checkout
    screen awaits it on the kiosk bridge (`kiosk.bridge`)."""

    available: bool

    async def print_receipt(self, receipt: Printable) -> bool:
        """Print one checkout receipt (`library.circulation.receipts.Receipt`) or hold slip."""


class NoPrinter:
    """The printer of a terminal without one: never prints."""

    available = False

    async def print_receipt(self, receipt: Printable) -> bool:
        """Nothing is printed."""
        return False


@dataclass
class ServiceInfo:
    """What service mode can ask (each None where it does not apply):

    ``checks()`` → [(name, "OK"|"WARN"|"FAIL", detail)] (the `ibc doctor` checks, seconds);
    ``figures()`` → `library.reports.key_figures` of the term; ``conflicts()`` → the terminal
    queue's refused operations.
    """

    checks: Callable[[], list[tuple[str, str, str]]] | None = None
    figures: Callable[[], dict] | None = None
    conflicts: Callable[[], list[dict]] | None = None


class VisitLog(Protocol):
    """Counts reader sessions (one visit per reader session)."""

    def record(self, reader: ReaderView) -> None:
        """One visit of this reader."""


class NoVisits:
    """Visit counting where nobody counts (fakes; a terminal whose server counts sessions)."""

    def __init__(self) -> None:
        self.visits: list[ReaderView] = []

    def record(self, reader: ReaderView) -> None:
        """Remember the visit in memory only."""
        self.visits.append(reader)
