"""The self-return screen's state, driven by `library.circulation.flows.SelfReturnFlow`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from kiosk.i18n import _
from kiosk.presenters.checkout import Flash, ItemRow, item_title
from kiosk.presenters.messages import days, return_refusal
from kiosk.services import CirculationBackend
from library.circulation.flows import FlowHooks, ItemResult, SelfReturnFlow


class ReturnPresenter(FlowHooks):
    """Scan books one after another; no reader card is needed to return."""

    def __init__(self, circulation: CirculationBackend, *, terminal: str | None = None,
                 today: Callable[[], dt.date] = dt.date.today):
        self.circulation = circulation
        self.terminal = terminal
        self.today = today
        self.flow: SelfReturnFlow | None = None
        self.reset()

    def reset(self, reason: str = "cancelled") -> None:
        """End the flow and clear the list."""
        if self.flow is not None and not self.flow.ended:
            self.flow.finish()
        self.flow = SelfReturnFlow(self.circulation, self, terminal=self.terminal,
                                   idle_timeout=3600.0)
        self.items: list[ItemRow] = []
        self.flash: Flash | None = None

    def scan(self, code: str) -> Flash | None:
        """A book's barcode arrived."""
        code = code.strip()
        if not code:
            return None
        self._heard = False
        self.flow.scan(code)
        if not self._heard:  # the flow ignores a book returned twice
            self.flash = Flash(_("This book is already returned."), True)
        return self.flash

    def item_done(self, result: ItemResult) -> None:
        """One book taken back (with where to put it) or refused."""
        self._heard = True
        title = item_title(result)
        if result.ok:
            out = result.outcome
            if out.shelf:
                place = _("Put it on the shelf {mark}.").format(mark=out.shelf)
            else:
                place = _("Put it on the return cart.")
            text = _("Returned. Thank you!") + " " + place
            late = (self.today() - out.due_date).days if out.due_date else 0
            if late > 0:
                text += " " + _("It was {days} late.").format(days=days(late))
        else:
            text = return_refusal(result.error.code)
        row = ItemRow(result.code, title, text, result.ok)
        self.items.append(row)
        self.flash = Flash(f"{title}\n{text}", result.ok)

    @property
    def prompt(self) -> str:
        """The big instruction."""
        return _("Show the barcode of each book you return")
