"""The self-checkout state machine: card → greeting → books → done → receipt → end."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n import _, ngettext
from kiosk.presenters.messages import due_text, refusal
from kiosk.services import CirculationPort, Receipt, ReaderView, ReceiptPrinter
from library.errors import NotFound


@dataclass(frozen=True)
class ItemRow:
    """One scanned book: its title and the due date or the refusal."""

    barcode: str
    title: str
    text: str
    ok: bool


@dataclass(frozen=True)
class Flash:
    """The big coloured message after a scan, with the sound to play (success | error)."""

    text: str
    ok: bool

    @property
    def sound(self) -> str:
        """Name of the sound."""
        return "success" if self.ok else "error"


class CheckoutPresenter:
    """States: card (waiting for the reader card), books, done."""

    def __init__(self, circulation: CirculationPort, printer: ReceiptPrinter, school: str = ""):
        self.circulation = circulation
        self.printer = printer
        self.school = school
        self.reset()

    def reset(self) -> None:
        """Clear the reader and the list (a new session, or the idle timeout)."""
        self.state = "card"
        self.reader: ReaderView | None = None
        self.items: list[ItemRow] = []
        self.flash: Flash | None = None
        self.receipt_printed: bool | None = None

    def scan(self, code: str) -> Flash | None:
        """A barcode arrived from the camera or the scanner."""
        code = code.strip()
        if not code or self.state == "done":
            return None
        if self.state == "card":
            self.flash = self._card(code)
        else:
            self.flash = self._book(code)
        return self.flash

    def _card(self, code: str) -> Flash:
        try:
            reader = self.circulation.reader_by_card(code)
        except NotFound:
            return Flash(_("This is not a reader card we know. Show your library card."), False)
        if reader.blocked:
            return Flash(_("Your card is blocked. Please talk to the librarian."), False)
        self.reader = reader
        self.state = "books"
        return Flash(self.greeting, True)

    def _book(self, code: str) -> Flash:
        if any(item.barcode == code for item in self.items):
            return Flash(refusal("duplicate"), False)
        result = self.circulation.checkout(self.reader.card_number, code)
        title = result.title or (_("Unknown book") if result.code == "item_not_found"
                                 else _("Book {code}").format(code=code))
        if result.ok:
            row = ItemRow(code, title, due_text(result.due_date), True)
        else:
            row = ItemRow(code, title, refusal(result.code), False)
        self.items.append(row)
        return Flash(f"{title}\n{row.text}" if result.ok else row.text, result.ok)

    def finish(self) -> None:
        """The reader pressed «Done»: print a slip when something was lent."""
        lent = [item for item in self.items if item.ok]
        self.state = "done"
        self.flash = None
        if not lent:
            self.receipt_printed = None
            return
        lines = tuple((item.title, item.text) for item in lent)
        receipt = Receipt(self.school, self.reader.first_name if self.reader else "", lines)
        try:
            self.receipt_printed = bool(self.printer.print_receipt(receipt))
        except OSError:
            self.receipt_printed = False

    # --- view state -----------------------------------------------------------------------------
    @property
    def greeting(self) -> str:
        """'Привет, Маша!'."""
        return _("Hello, {name}!").format(name=self.reader.first_name) if self.reader else ""

    @property
    def prompt(self) -> str:
        """The big instruction for the current state."""
        if self.state == "card":
            return _("Show your library card")
        if self.state == "books":
            return _("Show the barcode of the book")
        return _("Thank you!")

    @property
    def summary(self) -> str:
        """The text of the done state."""
        lent = sum(item.ok for item in self.items)
        if not lent:
            return _("No books were checked out.")
        text = ngettext("You took {n} book.", "You took {n} books.", lent).format(n=lent)
        if self.receipt_printed:
            return text + " " + _("Take your receipt.")
        return text + " " + _("The receipt could not be printed: remember the return dates.")
