"""The record screen's state: bibliographic details, copies and where to find the book."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n import N_, _
from kiosk.presenters.messages import due_text
from kiosk.services import RecordView

STATUS = {
    "available": N_("On the shelf"),
    "on_loan": N_("Checked out"),
    "not_for_loan": N_("Reading room only"),
    "reserved": N_("Reserved"),
    "ordered": N_("Ordered"),
    "in_process": N_("Being processed"),
    "bindery": N_("Being repaired"),
    "lost": N_("Lost"),
    "written_off": N_("Written off"),
}


@dataclass(frozen=True)
class CopyRow:
    """One copy line: shelf mark, status text, whether it can be taken."""

    label: str
    status: str
    available: bool


class RecordPresenter:
    """Shows one `RecordView`."""

    def __init__(self, record: RecordView):
        self.record = record

    @property
    def title(self) -> str:
        """Title with subtitle."""
        r = self.record
        return f"{r.title}: {r.subtitle}" if r.subtitle else r.title

    @property
    def authors(self) -> str:
        """Authors on one line."""
        return ", ".join(self.record.authors)

    @property
    def facts(self) -> list[tuple[str, str]]:
        """(label, value) pairs that exist."""
        r = self.record
        pairs = [
            (_("Year"), str(r.year) if r.year else ""),
            (_("Publisher"), ", ".join(x for x in (r.place, r.publisher) if x)),
            (_("Pages"), str(r.pages) if r.pages else ""),
            (_("Age"), r.age_rating or ""),
            (_("BBK"), r.bbk or ""),
            (_("ISBN"), r.isbn or ""),
        ]
        return [(k, v) for k, v in pairs if v]

    @property
    def annotation(self) -> str:
        """The annotation or a placeholder."""
        return self.record.annotation or _("No description yet.")

    @property
    def copies(self) -> list[CopyRow]:
        """One row per copy."""
        rows = []
        for c in self.record.copies:
            status = _(STATUS.get(c.status, N_("Unavailable")))
            if c.status == "on_loan" and c.due_date:
                status = f"{status} · {due_text(c.due_date)}"
            rows.append(CopyRow(c.shelf_mark or c.barcode, status, c.status == "available"))
        return rows

    @property
    def available(self) -> int:
        """How many copies are on the shelf."""
        return sum(c.status == "available" for c in self.record.copies)

    @property
    def where(self) -> str:
        """Where to find the book in the library."""
        shelf = next((c for c in self.record.copies if c.status == "available"), None)
        shelf = shelf or (self.record.copies[0] if self.record.copies else None)
        if shelf is None:
            return _("The library has no copies of this book.")
        text = _("Shelf mark: {mark}").format(mark=shelf.shelf_mark or "—")
        if shelf.collection:
            text += "\n" + _("Section: “{name}”").format(name=shelf.collection)
        return text

    @property
    def how_to_take(self) -> str:
        """The hint on how to get the book."""
        if self.available:
            return _("Take the book from the shelf, then press “Check out a book” on the main "
                     "screen and show your card.")
        if any(c.status == "not_for_loan" for c in self.record.copies):
            return _("This book can be read in the reading room. Ask the librarian.")
        return _("All copies are out. Ask the librarian to reserve it for you.")
