"""«Сдача учебников» at the kiosk: a teacher's or librarian's card opens it, then every scanned
textbook is taken back at once (`kiosk.services.CollectionPort`, library.textbooks.issue.collect)
and confirmed with its pupil's short name and class.

Privacy: pupils are minors, so a pupil's name is shown on a kiosk screen only here, and this mode
opens only after a card of a reader who runs the media station (library.access.runs_station:
teachers, staff) plus the PIN when the card needs one — the gate (`CardGate`) and this presenter
both check it, and so does the port behind (the local port by the database, the server by the
session). The screen is personal (the short idle) and `reset` forgets the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.i18n import _, ngettext
from kiosk.presenters.checkout import Flash
from library.access import runs_station
from library.circulation.errors import CirculationError
from library.textbooks.issue import ClassSetError

if TYPE_CHECKING:
    from kiosk.presenters.gate import CardGate
    from kiosk.services import CollectionPort
    from library.textbooks.issue import Collected


@dataclass(frozen=True)
class CollectRow:
    """One scanned book of the batch: its title, who had it (or why it is loud)."""

    barcode: str
    title: str
    text: str
    ok: bool


def who_had(got: Collected) -> str:
    """«Иванов А., 7А» (without the class when the reader has none); the name and its initial
    joined by a no-break space, so a wrapped line never splits «Лебедев / И.»."""
    pupil = (got.pupil or "").replace(" ", "\u00a0")
    return ", ".join(x for x in (pupil, got.class_name) if x)


def notes(got: Collected, class_name: str | None) -> list[str]:
    """What makes a scan loud, in words (each a sentence without its full stop)."""
    out = []
    if got.other_class:
        out.append(_("Another class: {cls}, not {mine}").format(cls=got.class_name or "—",
                                                                  mine=class_name or "—"))
    if got.pupil and not got.active:
        out.append(_("The pupil has left the school"))
    if not got.textbook:
        out.append(_("Not a textbook: it was returned too"))
    if got.lost_found:
        out.append(_("It was marked lost: found now"))
    return out


class CollectPresenter:
    """States: the gate's (card, pin) until a staff card opens it, then ``open``: scans."""

    def __init__(self, port: CollectionPort | None, gate: CardGate):
        self.port = port
        self.gate = gate
        self._start()

    def _start(self) -> None:
        self.items: list[CollectRow] = []  # newest first
        self.accepted = 0  # books taken back in this batch (not the «already» ones)
        self.class_name: str | None = None  # collecting one class: others are loud
        self.last_class = ""  # the class of the last book that named one: offered as the filter
        self.flash: Flash | None = None

    def reset(self, reason: str = "cancelled") -> None:
        """The session ended: the gate closes and the batch is forgotten."""
        self.gate.reset(reason)
        self._start()

    @property
    def state(self) -> str:
        """card | pin | open."""
        return self.gate.state

    @property
    def is_open(self) -> bool:
        """A staff reader opened the mode (checked again here, not only by the gate)."""
        reader = self.gate.reader
        return self.gate.state == "open" and reader is not None and runs_station(reader.category)

    @property
    def prompt(self) -> str:
        """The big instruction."""
        if not self.is_open:
            if self.gate.state == "pin" and self.gate.flash and self.gate.flash.ok is None:
                return self.gate.flash.text
            return _("Show a teacher's or librarian's card")
        if self.class_name:
            return _("Scan the textbooks of {cls}").format(cls=self.class_name)
        return _("Scan the textbooks one after another")

    @property
    def count_text(self) -> str:
        """«Принято: 23»."""
        return _("Taken back: {n}").format(n=self.accepted)

    @property
    def filter_text(self) -> str:
        """The class filter's button: collect one class, or all again."""
        if self.class_name:
            return _("All classes")
        if self.last_class:
            return _("Only {cls}").format(cls=self.last_class)
        return ""

    def toggle_class(self) -> None:
        """Collect only the class of the last book (others turn loud), or every class again."""
        if self.class_name:
            self.class_name = None
        elif self.last_class:
            self.class_name = self.last_class

    def scan(self, code: str) -> Flash | None:
        """A card before the mode is open; a book after."""
        code = code.strip()
        if not code:
            return None
        if not self.is_open:
            return self.gate.scan(code)
        return self._collect(code)

    def press_pin(self, key: str) -> Flash | None:
        """A key of the gate's PIN pad."""
        return self.gate.press_pin(key)

    def _collect(self, code: str) -> Flash:
        reader = self.gate.reader
        assert reader is not None
        if self.port is None:
            self.flash = Flash(_("Textbook collection is not set up on this terminal."), False)
            return self.flash
        try:
            got = self.port.collect(reader, code, class_name=self.class_name)
        except ClassSetError as exc:
            if exc.code != "staff_only":
                raise
            self.flash = Flash(_("Textbook collection opens with a teacher's or librarian's "
                                 "card."), False)
            return self.flash
        except CirculationError as exc:
            if exc.code != "offline_refused":
                raise
            self.flash = Flash(_("Textbook collection needs the library server, and it is not "
                                 "answering. The books can be returned with “Return a book” "
                                 "now."), False)
            return self.flash
        return self._show(code, got)

    def _show(self, code: str, got: Collected) -> Flash:
        title = got.title or _("Unknown book")
        if got.kind == "unknown_copy":
            text, ok = _("No book has this code. Put it aside for the librarian."), False
        elif got.kind == "not_on_loan":
            text, ok = _("Not on loan: nothing to take back. Put it aside for the librarian."), False
        else:
            head = _("Taken back") if got.kind == "accepted" else _("Already taken back")
            who = who_had(got)
            said = notes(got, self.class_name)
            ok = got.returned and not got.loud
            if got.kind == "accepted":
                self.accepted += 1
            if got.class_name:
                self.last_class = got.class_name
            row_text = ". ".join([head + (f" — {who}" if who else "")] + said)
            flash = ". ".join([f"{head}: {title}" + (f" — {who}" if who else "")] + said)
            return self._add(CollectRow(code, title, row_text, ok), flash)
        return self._add(CollectRow(code, title, text, ok), f"{title}\n{text}")

    def _add(self, row: CollectRow, flash: str) -> Flash:
        self.items = [row] + [i for i in self.items if i.barcode != row.barcode]
        self.flash = Flash(flash, row.ok)
        return self.flash

    @property
    def summary(self) -> str:
        """Below the list: how many books, and how many were loud."""
        loud = sum(not i.ok for i in self.items)
        if not loud:
            return ""
        return ngettext("{n} book needs a look", "{n} books need a look", loud).format(n=loud)
