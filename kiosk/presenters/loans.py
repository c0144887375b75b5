"""The 'my books' screen's state: the reader's loans, overdue marked, renewals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiosk.i18n import _
from kiosk.presenters.checkout import Flash
from kiosk.presenters.messages import days, due_text, renewal_refusal
from kiosk.services import CirculationPort, LoanView, ReaderView
from library.errors import NotFound


@dataclass(frozen=True)
class LoanRow:
    """One loan line."""

    loan_id: int
    title: str
    due: str
    overdue: bool
    can_renew: bool
    outcome: str


class LoansPresenter:
    """States: card (waiting for the card), list."""

    def __init__(self, circulation: CirculationPort, today=dt.date.today):  # noqa: ANN001
        self.circulation = circulation
        self.today = today
        self.reset()

    def reset(self) -> None:
        """Forget the reader."""
        self.state = "card"
        self.reader: ReaderView | None = None
        self.loans: list[LoanView] = []
        self.outcomes: dict[int, tuple[str, bool]] = {}
        self.flash: Flash | None = None

    def use_reader(self, reader: ReaderView) -> None:
        """Show the loans of a reader already identified in this session."""
        self.reader = reader
        self.state = "list"
        self.loans = self.circulation.loans(reader.card_number)

    def scan(self, code: str) -> Flash | None:
        """A card arrived."""
        if self.state != "card" or not code.strip():
            return None
        try:
            reader = self.circulation.reader_by_card(code.strip())
        except NotFound:
            self.flash = Flash(_("This is not a reader card we know. Show your library card."),
                               False)
            return self.flash
        self.use_reader(reader)
        self.flash = None
        return Flash(self.heading, True)

    def renew(self, loan_id: int) -> Flash:
        """Press of a renew button."""
        barcode = next(ln.barcode for ln in self.loans if ln.loan_id == loan_id)
        result = self.circulation.renew(self.reader.card_number, barcode)
        if result.ok:
            text = _("Renewed. {due}").format(due=due_text(result.due_date))
        else:
            text = renewal_refusal(result.code)
        self.outcomes[loan_id] = (text, result.ok)
        self.loans = self.circulation.loans(self.reader.card_number)
        self.flash = Flash(text, result.ok)
        return self.flash

    @property
    def heading(self) -> str:
        """Who and how many."""
        if self.state == "card":
            return _("Show your library card to see your books")
        if not self.loans:
            return _("{name}, you have no books now.").format(name=self.reader.first_name)
        return _("{name}, your books:").format(name=self.reader.first_name)

    @property
    def rows(self) -> list[LoanRow]:
        """One row per loan."""
        today = self.today()
        out = []
        for loan in self.loans:
            late = (today - loan.due_date).days
            due = (_("Overdue by {days}").format(days=days(late)) if late > 0
                   else due_text(loan.due_date))
            outcome = self.outcomes.get(loan.loan_id, ("", True))[0]
            out.append(LoanRow(loan.loan_id, loan.title, due, late > 0,
                               loan.renewable and late <= 0, outcome))
        return out
