"""The 'my books' screen's state: card [+ PIN] through `kiosk.presenters.gate.CardGate`, then
`library.circulation.flows.MyLoans` (the reader's loans, overdue marked, renewals)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.i18n import _, say
from kiosk.presenters.checkout import Flash, PinEntry, refusal_code
from kiosk.presenters.gate import CardGate
from kiosk.presenters.messages import days, due_text, renewal_refusal
from library.circulation.flows import MyLoans
from library.circulation.ports import CirculationPort
from library.circulation.values import LoanView, ReaderView


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
    """States: card (waiting for the card), pin, list."""

    def __init__(self, circulation: CirculationPort, today: Callable[[], dt.date] = dt.date.today,
                 *, terminal: str | None = None,
                 on_reader: Callable[[ReaderView], None] | None = None):
        self.today = today
        self.terminal = terminal
        self.on_reader = on_reader
        self.gate = CardGate(circulation, terminal=terminal, on_open=self._opened)
        self.reset()

    @property
    def circulation(self) -> CirculationPort:
        """The back end (the gallery swaps it)."""
        return self.gate.circulation

    @circulation.setter
    def circulation(self, value: CirculationPort) -> None:
        self.gate.circulation = value
        self.gate.reset()

    def reset(self, reason: str = "cancelled") -> None:
        """Forget the reader."""
        self.gate.reset(reason)
        self.mine: MyLoans | None = None
        self.outcomes: dict[int, tuple[str, bool]] = {}
        self._flash: Flash | None = None

    # --- the gate's state, as the screen reads it ----------------------------------------------
    @property
    def state(self) -> str:
        """card | pin | list."""
        return "list" if self.gate.state == "open" else self.gate.state

    @property
    def reader(self) -> ReaderView | None:
        """The reader whose loans are shown."""
        return self.gate.reader

    @property
    def pin(self) -> PinEntry:
        """The PIN being typed."""
        return self.gate.pin

    @property
    def flash(self) -> Flash | None:
        """The last message: a renewal's outcome, else the gate's."""
        return self._flash or self.gate.flash

    @property
    def formal(self) -> bool:
        """Teachers are addressed with «Вы»."""
        return self.gate.formal

    @property
    def loans(self) -> list[LoanView]:
        """The reader's open loans."""
        return self.mine.loans if self.mine else []

    def use_reader(self, reader: ReaderView) -> None:
        """Show the loans of a reader already identified in this session."""
        self.gate.open_for(reader)
        self._load(reader)

    def _load(self, reader: ReaderView) -> None:
        self.mine = MyLoans(self.gate.circulation, reader.card, terminal=self.terminal)
        self.mine.refresh()

    def _opened(self, reader: ReaderView) -> None:
        self._load(reader)
        if self.on_reader is not None:
            self.on_reader(reader)

    def scan(self, code: str) -> Flash | None:
        """A card arrived."""
        self._flash = None
        return self.gate.scan(code)

    def press_pin(self, key: str) -> Flash | None:
        """A key of the PIN pad."""
        self._flash = None
        return self.gate.press_pin(key)

    # --- renewals -------------------------------------------------------------------------------
    def renew(self, loan_id: int) -> Flash:
        """Press of a renew button."""
        barcode = next(ln.barcode for ln in self.loans if ln.loan_id == loan_id)
        mine = self.mine
        if mine is None:  # not reached: without a reader there are no loans (next() raised)
            raise LookupError(f"no reader's loans to renew {loan_id} in")
        result = mine.renew(barcode)
        if result.outcome is not None:  # result.ok
            due = result.outcome.due_date  # None only for an outcome queued offline; renewals are not
            text = (_("Renewed. {due}").format(due=due_text(due)) if due
                    else _("Noted: the due date comes when the server is back."))
        else:
            text = renewal_refusal(refusal_code(result), self.formal)
        self.outcomes[loan_id] = (text, result.ok)
        self._flash = Flash(text, result.ok)
        return self._flash

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
