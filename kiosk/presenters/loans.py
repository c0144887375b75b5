"""The 'my books' screen's state: card [+ PIN] through the checkout flow's identification, then
`library.circulation.flows.MyLoans` (the reader's loans, overdue marked, renewals)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.i18n import _, say
from kiosk.presenters.checkout import Flash, PinEntry
from kiosk.presenters.messages import days, due_text, reader_refusal, renewal_refusal
from kiosk.services import CirculationBackend
from library.circulation import errors as E
from library.circulation.flows import FlowHooks, MyLoans, SelfCheckoutFlow, Step
from library.circulation.service import LoanView, ReaderView


@dataclass(frozen=True)
class LoanRow:
    """One loan line."""

    loan_id: int
    title: str
    due: str
    overdue: bool
    can_renew: bool
    outcome: str


class LoansPresenter(FlowHooks):
    """States: card (waiting for the card), pin, list."""

    def __init__(self, circulation: CirculationBackend, today=dt.date.today,  # noqa: ANN001
                 *, terminal: str | None = None,
                 on_reader: Callable[[ReaderView], None] | None = None):
        self.circulation = circulation
        self.today = today
        self.terminal = terminal
        self.on_reader = on_reader
        self.flow = None
        self.reset()

    def reset(self, reason: str = "cancelled") -> None:
        """Forget the reader."""
        if self.flow is not None and self.flow.step != Step.ENDED:
            self.flow.cancel()
        # Only identification is used: a book scanned here just asks for the card.
        self.flow = SelfCheckoutFlow(self.circulation, self, terminal=self.terminal,
                                     idle_timeout=3600.0, lend=False)
        self.state = "card"
        self.reader: ReaderView | None = None
        self.mine: MyLoans | None = None
        self.outcomes: dict[int, tuple[str, bool]] = {}
        self.flash: Flash | None = None
        self.pin = PinEntry()

    @property
    def loans(self) -> list[LoanView]:
        """The reader's open loans."""
        return self.mine.loans if self.mine else []

    def use_reader(self, reader: ReaderView) -> None:
        """Show the loans of a reader already identified in this session."""
        self.reader = reader
        self.state = "list"
        self.mine = MyLoans(self.circulation, reader.card, terminal=self.terminal)
        self.mine.refresh()

    def scan(self, code: str) -> Flash | None:
        """A card arrived."""
        if self.state != "card" or not code.strip():
            return None
        self.flash = None
        self.flow.scan(code.strip())
        return self.flash

    def press_pin(self, key: str) -> Flash | None:
        """A key of the PIN pad."""
        if self.state != "pin":
            return None
        pin = self.pin.press(key)
        if pin is None:
            return None
        self.flow.enter_pin(pin)
        return self.flash

    # --- identification hooks -------------------------------------------------------------------
    def need_card(self) -> None:
        """Something that is not a card."""
        if self.state == "card":
            self.flash = Flash(reader_refusal("reader_not_found"), False)

    def need_pin(self, reader: ReaderView) -> None:
        """Ask for the PIN."""
        self.state = "pin"
        self.reader = reader
        self.flash = Flash(say("Enter your PIN", reader.formal), None)

    def reader_identified(self, reader: ReaderView) -> None:
        """Load the loans; the app counts the visit."""
        self.use_reader(reader)
        self.flash = Flash("", True)  # the heading greets; the sound says the card was read
        if self.on_reader is not None:
            self.on_reader(reader)

    def reader_refused(self, error: E.CirculationError) -> None:
        """Unknown card or wrong PIN."""
        self.flash = Flash(reader_refusal(error.code, self.formal), False)

    # --- renewals -------------------------------------------------------------------------------
    def renew(self, loan_id: int) -> Flash:
        """Press of a renew button."""
        barcode = next(ln.barcode for ln in self.loans if ln.loan_id == loan_id)
        result = self.mine.renew(barcode)
        if result.ok:
            text = _("Renewed. {due}").format(due=due_text(result.outcome.due_date))
        else:
            text = renewal_refusal(result.error.code, self.formal)
        self.outcomes[loan_id] = (text, result.ok)
        self.flash = Flash(text, result.ok)
        return self.flash

    @property
    def heading(self) -> str:
        """Who and how many."""
        if self.state == "card":
            return _("Show your library card to see your books")
        if self.state == "pin":
            return say("Enter your PIN", self.formal)
        reader = self.reader
        name = " ".join(x for x in (reader.first_name, reader.patronymic) if x) if reader else ""
        if not self.loans:
            return say("{name}, you have no books now.", self.formal).format(name=name)
        return say("{name}, your books:", self.formal).format(name=name)

    @property
    def formal(self) -> bool:
        """Teachers are addressed with «Вы»."""
        return self.reader is not None and self.reader.formal

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
            out.append(LoanRow(loan.loan_id, loan.title, due, late > 0, late <= 0, outcome))
        return out
