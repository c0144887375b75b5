"""The self-return screen's state: each scanned book confirmed, with where to put it."""

from __future__ import annotations

from kiosk.i18n import _
from kiosk.presenters.checkout import Flash, ItemRow
from kiosk.presenters.messages import days
from kiosk.services import CirculationPort


class ReturnPresenter:
    """Scan books one after another; no reader card is needed to return."""

    def __init__(self, circulation: CirculationPort):
        self.circulation = circulation
        self.reset()

    def reset(self) -> None:
        """Clear the list."""
        self.items: list[ItemRow] = []
        self.flash: Flash | None = None

    def scan(self, code: str) -> Flash | None:
        """A book's barcode arrived."""
        code = code.strip()
        if not code:
            return None
        if any(item.barcode == code and item.ok for item in self.items):
            self.flash = Flash(_("This book is already returned."), True)
            return self.flash
        result = self.circulation.checkin(code)
        title = result.title or _("Unknown book")
        if result.ok:
            place = (_("Put it on the return cart.") if result.to_cart or not result.shelf_mark
                     else _("Put it on the shelf {mark}.").format(mark=result.shelf_mark))
            text = _("Returned. Thank you!") + " " + place
            if result.overdue_days:
                text += " " + _("It was {days} late.").format(days=days(result.overdue_days))
        elif result.code == "not_on_loan":
            text = _("This book was not checked out. Put it on the return cart.")
        else:
            text = _("This book is not from our library. Please give it to the librarian.")
        row = ItemRow(code, title, text, result.ok)
        self.items.append(row)
        self.flash = Flash(f"{title}\n{text}", result.ok)
        return self.flash

    @property
    def prompt(self) -> str:
        """The big instruction."""
        return _("Show the barcode of each book you return")
