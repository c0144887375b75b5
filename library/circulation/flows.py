"""UI-agnostic self-service flows with decision hooks (the beets importer-session pattern).

A Kivy screen, the server or a test implements the hooks; the flow owns the sequence:
reader card [+ PIN] → items, each accepted with its due date or refused with a reason → finish →
receipt → session end. Nothing here knows about widgets, cameras or HTTP.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from library.circulation import errors as E
from library.circulation.ports import CirculationPort
from library.circulation.receipts import Receipt, ReceiptLine
from library.circulation.values import LoanOutcome, LoanView, ReaderView


class Step(str, Enum):
    """Where a flow is."""

    WAIT_CARD = "wait_card"
    WAIT_PIN = "wait_pin"
    WAIT_ITEMS = "wait_items"
    ENDED = "ended"


@dataclass(frozen=True)
class ItemResult:
    """One scanned item: accepted (outcome) or refused (error)."""

    code: str
    outcome: LoanOutcome | None = None
    error: E.CirculationError | None = None

    @property
    def ok(self) -> bool:
        """True when accepted."""
        return self.outcome is not None


class FlowHooks:
    """Decision and notification hooks; override what the front end needs. Defaults do nothing."""

    def need_card(self) -> None:
        """An item was scanned before a reader card: ask for the card."""

    def need_pin(self, reader: ReaderView) -> None:
        """Ask the reader for a PIN."""

    def reader_identified(self, reader: ReaderView) -> None:
        """Greet the reader (first name and initial only)."""

    def reader_refused(self, error: E.CirculationError) -> None:
        """The card is unknown, blocked or the PIN is wrong."""

    def item_done(self, result: ItemResult) -> None:
        """An item was accepted or refused."""

    def want_receipt(self, receipt: Receipt) -> bool:
        """Print a receipt? The default prints none."""
        return False

    def session_ended(self, reason: str, receipt: Receipt | None) -> None:
        """The session is over ("finished", "idle", "cancelled"); clear the reader's data."""


def new_txn_id() -> str:
    """A fresh client transaction id."""
    return uuid.uuid4().hex


class _Session:
    """Idle tracking shared by the flows."""

    def __init__(self, hooks: FlowHooks, idle_timeout: float, clock: Callable[[], float]):
        self.hooks = hooks
        self.idle_timeout = idle_timeout
        self.clock = clock
        self.last_activity = clock()

    def touch(self) -> None:
        """Note user activity (a scan, a tap)."""
        self.last_activity = self.clock()

    def seconds_left(self) -> float:
        """Seconds until the idle timeout ends the session."""
        return max(0.0, self.idle_timeout - (self.clock() - self.last_activity))


class SelfCheckoutFlow(_Session):
    """Reader card [+ PIN] → items → finish → receipt."""

    def __init__(self, service: CirculationPort, hooks: FlowHooks, *, school: str = "",
                 terminal: str | None = None, idle_timeout: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, require_pin: bool = False,
                 lend: bool = True):
        super().__init__(hooks, idle_timeout, clock)
        self.service = service
        self.school = school
        self.terminal = terminal
        self.require_pin = require_pin
        self.lend = lend  # False: identify the reader only (the "my loans" screen)
        self.step = Step.WAIT_CARD
        self.reader: ReaderView | None = None
        self.results: list[ItemResult] = []
        self._pending: list[str] = []

    def scan(self, code: str) -> None:
        """A barcode from the camera or a USB scanner."""
        code = code.strip()
        if not code or self.step == Step.ENDED:
            return
        self.touch()
        if self.step in (Step.WAIT_CARD, Step.WAIT_PIN):
            self._identify(code)  # one call: a code that is no reader's card is a book, kept
            return
        if self.reader and code == self.reader.card:
            return  # the same card shown again: nothing to do
        self._checkout(code)  # one call: another reader's card comes back as FinishFirst

    def enter_pin(self, pin: str) -> None:
        """The PIN typed on the on-screen keypad."""
        if self.step != Step.WAIT_PIN or self.reader is None:
            return
        self.touch()
        try:
            right = self.service.check_pin(self.reader.card, pin)
        except E.CirculationError as exc:  # card_locked: too many wrong PINs
            self.hooks.reader_refused(exc)
            return
        if not right:
            self.hooks.reader_refused(E.WrongPin())
            return
        self._ready(self.reader)

    def _identify(self, card: str) -> None:
        try:
            reader = self.service.find_reader(card)
        except E.BookNotCard:  # a book before the card: lent once the card is here
            if card not in self._pending:
                self._pending.append(card)
            self.hooks.need_card()
            return
        except E.CirculationError as exc:
            self.hooks.reader_refused(exc)
            return
        self.reader = reader
        if self.pin_needed(reader):
            self.step = Step.WAIT_PIN
            self.hooks.need_pin(reader)
            return
        self._ready(reader)

    def pin_needed(self, reader: ReaderView) -> bool:
        """A PIN is asked when this flow demands one or the back end does for this reader."""
        return self.require_pin or self.service.pin_required(reader)

    def _ready(self, reader: ReaderView) -> None:
        self.reader = self.service.identified_reader(reader)
        self.step = Step.WAIT_ITEMS
        self.hooks.reader_identified(self.reader)
        pending, self._pending = self._pending, []
        for code in pending:
            self._checkout(code)

    def _checkout(self, code: str) -> None:
        if not self.lend or self.reader is None:  # no reader: only after a hook ended the session
            self.hooks.need_card()
            return
        if any(r.ok and r.code == code for r in self.results):
            return  # the same book shown twice: already taken in this session
        try:
            outcome = self.service.checkout(self.reader.card, code, new_txn_id(), terminal=self.terminal)
            result = ItemResult(code, outcome=outcome)
        except E.FinishFirst as exc:  # another reader's card mid-session: not a book
            self.hooks.reader_refused(exc)
            return
        except E.CirculationError as exc:
            result = ItemResult(code, error=exc)
        self.results.append(result)
        self.hooks.item_done(result)

    def receipt(self) -> Receipt:
        """The receipt of what was taken so far."""
        lines = [ReceiptLine(r.outcome.title, r.outcome.authors, r.outcome.due_date)
                 for r in self.results if r.outcome is not None]  # r.ok
        name = self.reader.greeting_name if self.reader else ""
        return Receipt(self.school, name, dt.datetime.now(), lines)

    def finish(self) -> Receipt | None:
        """«Готово»: offer a receipt and end the session."""
        if self.step == Step.ENDED:
            return None
        receipt = self.receipt() if any(r.ok for r in self.results) else None
        if receipt is not None and not self.hooks.want_receipt(receipt):
            receipt = None
        self._end("finished", receipt)
        return receipt

    def cancel(self) -> None:
        """The reader walked away or pressed «Выход»."""
        self._end("cancelled", None)

    def tick(self) -> None:
        """Call periodically: ends the session when idle for too long."""
        if self.step != Step.ENDED and self.step != Step.WAIT_CARD and self.seconds_left() <= 0:
            self._end("idle", None)

    def _end(self, reason: str, receipt: Receipt | None) -> None:
        self.step = Step.ENDED
        self.reader = None
        self.results = []
        self._pending = []
        self.hooks.session_ended(reason, receipt)


class SelfReturnFlow(_Session):
    """Scan books to return them; each confirmed with where to put it."""

    def __init__(self, service: CirculationPort, hooks: FlowHooks, *, terminal: str | None = None,
                 idle_timeout: float = 60.0, clock: Callable[[], float] = time.monotonic):
        super().__init__(hooks, idle_timeout, clock)
        self.service = service
        self.terminal = terminal
        self.results: list[ItemResult] = []
        self.ended = False

    def scan(self, code: str) -> None:
        """A book's barcode."""
        code = code.strip()
        if not code or self.ended:
            return
        self.touch()
        if any(r.ok and r.code == code for r in self.results):
            return
        try:
            outcome = self.service.checkin(code, new_txn_id(), terminal=self.terminal)
            result = ItemResult(code, outcome=outcome)
        except E.CirculationError as exc:
            result = ItemResult(code, error=exc)
        self.results.append(result)
        self.hooks.item_done(result)

    def finish(self) -> None:
        """«Готово»."""
        if not self.ended:
            self.ended = True
            self.results = []
            self.hooks.session_ended("finished", None)

    def tick(self) -> None:
        """Ends the session when idle."""
        if not self.ended and self.results and self.seconds_left() <= 0:
            self.ended = True
            self.results = []
            self.hooks.session_ended("idle", None)


@dataclass
class MyLoans:
    """A reader's own loans with renewal; only ever for the card shown at this terminal."""

    service: CirculationPort
    card: str
    terminal: str | None = None
    loans: list[LoanView] = field(default_factory=list)

    def refresh(self) -> list[LoanView]:
        """Reload the loans."""
        self.loans = self.service.loans(self.card)
        return self.loans

    def renew(self, barcode: str) -> ItemResult:
        """Renew one loan; the outcome carries the new due date or the refusal."""
        try:
            result = ItemResult(barcode, outcome=self.service.renew(
                self.card, barcode, new_txn_id(), terminal=self.terminal))
        except E.CirculationError as exc:
            result = ItemResult(barcode, error=exc)
        self.refresh()
        return result
