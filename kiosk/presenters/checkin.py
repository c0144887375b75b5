"""The self-return screen's state, driven by `library.circulation.flows.SelfReturnFlow`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from kiosk.i18n import _, say
from kiosk.presenters.checkout import Flash, ItemRow, item_title, refusal_code
from kiosk.presenters.holds import return_notice, send_home_notice, wanted_notice
from kiosk.presenters.messages import days, return_refusal
from kiosk.printing import HoldSlip
from kiosk.services import ReceiptPrinter
from library.circulation.flows import FlowHooks, ItemResult, SelfReturnFlow
from library.circulation.ports import CirculationPort


class ReturnPresenter(FlowHooks):
    """Scan books one after another; no reader card is needed to return."""

    def __init__(self, circulation: CirculationPort, *, terminal: str | None = None,
                 today: Callable[[], dt.date] = dt.date.today, returns: str = "cart",
                 return_note: str = "", printer: ReceiptPrinter | None = None,
                 school: str = ""):
        self.circulation = circulation
        self.printer = printer  # the hold slip goes to the MFP when one is configured
        self.formal = False  # a teacher's card shown in this session: «Вы»
        self.school = school
        self.terminal = terminal
        self.today = today
        self.returns = returns  # [places] returns: cart | shelf | desk
        self.return_note = return_note  # [places] return_note: the library's own words
        self._start()

    def reset(self, reason: str = "cancelled") -> None:
        """End the flow and clear the list."""
        if not self.flow.ended:
            self.flow.finish()
        self._start()

    def _start(self) -> None:
        self.flow = SelfReturnFlow(self.circulation, self, terminal=self.terminal,
                                   idle_timeout=3600.0)
        self.items: list[ItemRow] = []
        self.flash: Flash | None = None
        self.slip: HoldSlip | None = None  # the last return that filled a hold, to print

    def scan(self, code: str) -> Flash | None:
        """A book's barcode arrived."""
        code = code.strip()
        if not code:
            return None
        self._heard = False
        self.slip = None
        self.flow.scan(code)
        if not self._heard:  # the flow ignores a book returned twice
            self.flash = Flash(_("This book is already returned. Put it on the return cart."),
                               None)
        return self.flash

    def where_to(self, place: str | None) -> str:
        """Where a returned book goes, by the library's choice ([places] returns)."""
        if self.return_note:
            return self.return_note
        if self.returns == "desk":
            return _("Give it to the librarian.")
        if self.returns == "shelf" and place:
            return _("Put it back in its place: {place}.").format(place=place)
        return _("Put it on the return cart.")

    def item_done(self, result: ItemResult) -> None:
        """One book taken back (with where to put it) or refused; a reader card shown here
        only gets a hint, and a book refused again replaces its earlier line."""
        self._heard = True
        if result.error is not None and result.error.code == "reader_card":
            self.flash = Flash(return_refusal("reader_card"), None)
            return
        title = item_title(result)
        if result.outcome is not None and result.outcome.hold_id:
            # Someone queued for this book: not to the cart but to the hold shelf, loudly.
            out = result.outcome
            text = return_notice(out, self.formal)
            row = ItemRow(result.code, title, text, True, loud=True)
            self.items = [i for i in self.items if i.ok or i.barcode != result.code] + [row]
            self.flash = Flash(f"{title}\n{text}", None, loud=True)
            self.slip = HoldSlip(self.school, title, out.barcode, out.hold_for or "",
                                 out.hold_until, self.today())
            return
        if result.outcome is not None and (result.outcome.send_to or result.outcome.wanted_by):
            # Another school's book (docs/HOLDS.md): set aside to be sent home, loudly; or a
            # book another school asks for: to the librarian, who sends it.
            text = (send_home_notice(result.outcome, self.formal)
                    or wanted_notice(result.outcome, self.formal))
            row = ItemRow(result.code, title, text, True, loud=True)
            self.items = [i for i in self.items if i.ok or i.barcode != result.code] + [row]
            self.flash = Flash(f"{title}\n{text}", None, loud=True)
            return
        if result.outcome is not None:  # result.ok
            out = result.outcome
            text = _("Returned. Thank you!") + " " + self.where_to(out.place)
            late = (self.today() - out.due_date).days if out.due_date else 0
            if late > 0:
                text += " " + _("It came back {days} after the due date.").format(days=days(late))
        else:
            text = return_refusal(refusal_code(result))
        row = ItemRow(result.code, title, text, result.ok)
        self.items = [i for i in self.items if i.ok or i.barcode != result.code] + [row]
        self.flash = Flash(f"{title}\n{text}", result.ok)

    def slip_job(self) -> Callable[[], Awaitable[bool]] | None:
        """The hold slip's print call for the kiosk bridge; None without a slip or a printer."""
        slip, printer = self.slip, self.printer
        if slip is None or printer is None or not getattr(printer, "available", False):
            return None

        async def job() -> bool:
            return bool(await printer.print_receipt(slip))

        return job

    def slip_done(self, slip: HoldSlip | None, printed: bool) -> bool:
        """The printer's answer for `slip` (on the UI thread): the hold message says where the
        slip is, or to hand the book to the librarian. False when another scan came since."""
        if slip is None or slip is not self.slip or self.flash is None:
            return False
        if printed:
            more = say("Take the slip from the printer and put it in the book.", self.formal)
        else:
            more = say("The slip did not print: give the book to the librarian.", self.formal)
        self.flash = Flash(f"{self.flash.text}\n{more}", None, loud=True)
        return True

    @property
    def prompt(self) -> str:
        """The big instruction."""
        return _("Show the barcode of each book you return")
