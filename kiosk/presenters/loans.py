"""The 'my books' screen's state: card [+ PIN] through `kiosk.presenters.gate.CardGate`, then
`library.circulation.flows.MyLoans` (the reader's loans, overdue marked, renewals), and the
reader's own PIN: «Сменить PIN» (or «Придумать PIN» where the policy lets a reader without one
set it) — the current PIN when not typed at the gate, the new one twice, then
`CirculationPort.change_pin`, which holds the rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.i18n import _, say
from kiosk.presenters.checkout import Flash, PinEntry, refusal_code
from kiosk.presenters.gate import CardGate
from kiosk.presenters.holds import HoldRow, cancel, fetch_holds, hold_rows, waiting_notice
from kiosk.presenters.messages import days, due_text, pin_change_refusal, renewal_refusal
from library.circulation import errors as E
from library.circulation.flows import MyLoans
from library.circulation.ports import CirculationPort
from library.circulation.values import HoldView, LoanView, ReaderView


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
    """States: card (waiting for the card), pin, list, new_pin (the reader's own PIN; the step
    in ``pin_step``: current, new, again)."""

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
        self.holds: list[HoldView] = []  # the reader's active holds (waiting, queued)
        self.hold_outcome: Flash | None = None  # the last «Отменить»
        self.outcomes: dict[int, tuple[str, bool]] = {}
        self._flash: Flash | None = None
        self._pin_saved: Flash | None = None
        self._close_pin_step()

    def _close_pin_step(self) -> None:
        self.pin_step: str | None = None  # None, or current | new | again while changing
        self._entry = PinEntry()
        self._current: str | None = None  # typed in this PIN step (the gate keeps its own)
        self._new: str | None = None

    # --- the gate's state, as the screen reads it ----------------------------------------------
    @property
    def state(self) -> str:
        """card | pin | list | new_pin."""
        if self.gate.state != "open":
            return self.gate.state
        return "new_pin" if self.pin_step else "list"

    @property
    def reader(self) -> ReaderView | None:
        """The reader whose loans are shown."""
        return self.gate.reader

    @property
    def pin(self) -> PinEntry:
        """The PIN being typed (at the gate, or in the PIN step)."""
        return self._entry if self.pin_step else self.gate.pin

    @property
    def flash(self) -> Flash | None:
        """The last message: a renewal's outcome, else the gate's."""
        return self._flash or self.gate.flash

    @property
    def notice(self) -> Flash | None:
        """What the screen's message box shows: the gate's words at the card, a refused PIN, the
        PIN step's hints and refusals, a saved PIN, a cancelled hold (a renewal speaks in its
        row instead)."""
        f = self.flash
        if f is None or not (self.state in ("card", "new_pin") or f is self._pin_saved
                             or f is self.hold_outcome
                             or (self.state == "pin" and f.ok is False)):
            return None
        return f

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
        self.holds = fetch_holds(self.gate.circulation, reader.card)

    # --- holds ----------------------------------------------------------------------------------
    @property
    def holds_note(self) -> str:
        """«Тебя ждёт книга: …» ('' when nothing waits or before the card)."""
        return waiting_notice(self.holds, self.formal) if self.state == "list" else ""

    @property
    def hold_rows(self) -> list[HoldRow]:
        """The reader's holds under the loans, each with «Отменить»."""
        return hold_rows(self.holds, self.formal) if self.state == "list" else []

    def cancel_hold(self, hold_id: int) -> Flash:
        """«Отменить» on a hold: only the reader's own (the port and the core check it)."""
        reader = self.reader
        if reader is None:  # not reached: the rows show only with a reader
            raise LookupError("no reader to cancel a hold for")
        self.hold_outcome = cancel(self.gate.circulation, reader.card, hold_id, self.terminal,
                                   self.formal)
        self.holds = fetch_holds(self.gate.circulation, reader.card)
        self._flash = self.hold_outcome
        return self.hold_outcome

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
        if self.pin_step:
            return self._press_new_pin(key)
        self._flash = None
        return self.gate.press_pin(key)

    # --- the reader's own PIN -------------------------------------------------------------------
    @property
    def _has_pin(self) -> bool:
        reader = self.reader
        return self.gate.opening_pin is not None or (
            reader is not None and self.gate.circulation.pin_required(reader))

    @property
    def pin_button(self) -> str:
        """«Сменить PIN», «Придумать PIN» (a first one, where the policy allows) or "" (none)."""
        if self.state != "list":
            return ""
        if self._has_pin:
            return _("Change PIN")
        return _("Make up a PIN") if self.gate.circulation.may_set_first_pin() else ""

    def start_pin_change(self) -> Flash | None:
        """The PIN button: the current PIN first unless typed at the gate, then the new one."""
        if not self.pin_button:
            return None
        self._close_pin_step()
        self.pin_step = "current" if self._has_pin and self.gate.opening_pin is None else "new"
        self._flash = self._step_flash()
        return self._flash

    def cancel_pin_change(self) -> None:
        """«Отмена»: back to the list, nothing changed."""
        self._close_pin_step()
        self._flash = None

    def _step_flash(self) -> Flash:
        if self.pin_step == "new":
            return Flash(say("Not 1111 or 1234: such PINs are easy to guess.", self.formal), None)
        return Flash("", None)

    def _press_new_pin(self, key: str) -> Flash | None:
        typed = self._entry.press(key)
        if typed is None:
            return None
        if not typed:  # «OK» on an empty pad
            return self._flash
        if self.pin_step == "current":
            self._current, self.pin_step = typed, "new"
            self._flash = self._step_flash()
        elif self.pin_step == "new":
            self._new, self.pin_step = typed, "again"
            self._flash = Flash("", None)
        elif typed != self._new:
            self._new, self.pin_step = None, "new"
            self._flash = Flash(say("The PINs did not match, type it again.", self.formal), False)
        else:
            self._flash = self._save_pin(typed)
        return self._flash

    def _save_pin(self, new: str) -> Flash:
        reader = self.reader
        if reader is None:  # not reached: the PIN step opens from the list only
            raise LookupError("no reader to set a PIN for")
        current = (self._current or self.gate.opening_pin) if self._has_pin else None
        try:
            self.gate.circulation.change_pin(reader.card, current, new)
        except E.CirculationError as exc:
            text = pin_change_refusal(exc.code, self.formal, exc.params)
            if exc.code in ("pin_format", "pin_trivial"):
                self._new, self.pin_step = None, "new"
            elif exc.code == "wrong_pin":
                self.gate.opening_pin = None
                self._current, self._new, self.pin_step = None, None, "current"
            else:
                self._close_pin_step()
            return Flash(text, False)
        self.gate.opening_pin = new  # the next change starts from this one
        self._close_pin_step()
        self._pin_saved = Flash(say("Done: your new PIN is saved.", self.formal), True)
        return self._pin_saved

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
        if self.pin_step == "current":
            return say("Type the PIN you have now", self.formal)
        if self.pin_step == "new":
            return say("Make up a new PIN and type it", self.formal)
        if self.pin_step == "again":
            return say("Type the new PIN once more", self.formal)
        reader = self.reader
        name = " ".join(x for x in (reader.first_name, reader.patronymic) if x) if reader else ""
        if not self.loans and self.holds:
            return say("{name}, you have no books now; your queue:", self.formal).format(
                name=name)
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
