"""The self-checkout screen's state, driven by `library.circulation.flows.SelfCheckoutFlow`.

The flow owns the sequence and the rules (card [+ PIN] → books → finish → receipt); this
presenter implements its hooks and keeps only what the screen shows: states card, pin, books,
done; the list of scanned books; the big flash message; the receipt offer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kiosk.i18n import _, nsay, say
from kiosk.presenters.messages import due_text, reader_refusal, refusal, restriction
from kiosk.services import ReceiptPrinter
from library.circulation import errors as E
from library.circulation.flows import FlowHooks, ItemResult, SelfCheckoutFlow, Step
from library.circulation.ports import CirculationPort
from library.circulation.receipts import Receipt
from library.circulation.values import HoldView, ReaderView

PIN_MAX = 8


@dataclass(frozen=True)
class ItemRow:
    """One scanned book: its title and the due date or the refusal."""

    barcode: str
    title: str
    text: str
    ok: bool
    loud: bool = False  # a return that filled a hold: «Не ставь на тележку!»


@dataclass(frozen=True)
class Flash:
    """The big coloured message after a scan, with the sound to play: ``ok`` True (green,
    success), False (red, error) or None (neutral: heard, nothing went wrong). An empty text
    only sounds (the screen already says it, e.g. the greeting)."""

    text: str
    ok: bool | None
    loud: bool = False  # yellow, to stop a hand: a returned book someone is waiting for

    @property
    def sound(self) -> str:
        """Name of the sound."""
        return "info" if self.ok is None else "success" if self.ok else "error"


def item_title(result: ItemResult) -> str:
    """The book's title from the outcome or the refusal, else a neutral name."""
    if result.outcome is not None and result.outcome.title:
        return result.outcome.title
    title = str(result.error.params.get("title", "")) if result.error is not None else ""
    if title:
        return title
    if result.error is not None and result.error.code == "item_not_found":
        return _("Unknown book")
    return _("Book with the code {code}").format(code=result.code)


def refusal_code(result: ItemResult) -> str:
    """The refusal code of an item that was not accepted (a result holds an outcome or an
    error, never neither)."""
    if result.error is None:
        raise ValueError(f"{result.code}: accepted, not refused")
    return result.error.code


class PinEntry:
    """Digits typed on the on-screen PIN pad (shown as dots)."""

    def __init__(self) -> None:
        self.entered = ""

    def press(self, key: str) -> str | None:
        """A digit, 'back' or 'ok'; returns the PIN on 'ok'."""
        if key == "back":
            self.entered = self.entered[:-1]
        elif key == "ok":
            pin, self.entered = self.entered, ""
            return pin
        elif key.isdigit() and len(self.entered) < PIN_MAX:
            self.entered += key
        return None

    @property
    def masked(self) -> str:
        """Dots instead of digits."""
        return "•" * len(self.entered)

    def feed(self, key: str, flow: SelfCheckoutFlow) -> bool:
        """A key of the pad; «OK» hands the PIN to the flow. True when the flow got a PIN."""
        pin = self.press(key)
        if pin is None:
            return False
        flow.enter_pin(pin)
        return True


class CheckoutPresenter(FlowHooks):
    """States: card (waiting for the reader card), pin, books, done."""

    def __init__(self, circulation: CirculationPort, printer: ReceiptPrinter, school: str = "",
                 *, terminal: str | None = None,
                 on_reader: Callable[[ReaderView], None] | None = None):
        self.circulation = circulation
        self.printer = printer
        self.school = school
        self.terminal = terminal
        self.on_reader = on_reader
        self._start()

    # --- life cycle -----------------------------------------------------------------------------
    def reset(self, reason: str = "cancelled") -> None:
        """End the flow (a new session, «Выход», or ``reason="idle"``) and clear the screen."""
        self._end_flow(reason)
        self._start()

    def _start(self) -> None:
        self.flow = SelfCheckoutFlow(self.circulation, self, school=self.school,
                                     terminal=self.terminal, idle_timeout=3600.0)
        self.state = "card"
        self.reader: ReaderView | None = None
        self.items: list[ItemRow] = []
        self.flash: Flash | None = None
        self.receipt: Receipt | None = None
        self.receipt_printed: bool | None = None
        self.pin = PinEntry()
        self.waiting: list[HoldView] = []  # the reader's holds waiting on the hold shelf

    def _end_flow(self, reason: str) -> None:
        flow = self.flow
        if flow.step == Step.ENDED:
            return
        if reason == "idle" and flow.step != Step.WAIT_CARD:
            flow.idle_timeout = 0.0  # the kiosk's idle timer decided: let the flow end as idle
            flow.tick()
        if flow.step != Step.ENDED:
            flow.cancel()

    # --- input ----------------------------------------------------------------------------------
    def scan(self, code: str) -> Flash | None:
        """A barcode arrived from the camera or the scanner."""
        code = code.strip()
        if not code or self.state == "done":
            return None
        self._heard = False
        self.flow.scan(code)
        if not self._heard and any(i.ok and i.barcode == code for i in self.items):
            self.flash = Flash(say("This book is already in your list.", self.formal), None)
        elif not self._heard:
            return None
        return self.flash

    def press_pin(self, key: str) -> Flash | None:
        """A key of the PIN pad; «OK» hands the PIN to the flow."""
        if self.state != "pin" or not self.pin.feed(key, self.flow):
            return None
        return self.flash

    def finish(self) -> None:
        """«Готово»: the flow ends the session and offers the receipt."""
        if self.state in ("card", "pin"):
            self._end_flow("cancelled")
            self.state = "done"
            return
        self.flow.finish()

    def receipt_job(self) -> Callable[[], Awaitable[bool]] | None:
        """The print call, for the kiosk bridge to await; None: no receipt."""
        receipt, printer = self.receipt, self.printer
        if receipt is None:
            return None

        async def job() -> bool:
            return bool(await printer.print_receipt(receipt))

        return job

    def receipt_done(self, printed: bool | None, error: BaseException | None) -> bool:
        """The printer's answer (on the UI thread)."""
        self.receipt_printed = bool(printed) and error is None
        return self.receipt_printed

    # --- flow hooks -----------------------------------------------------------------------------
    def need_card(self) -> None:
        """A book before the card: it is kept and lent after the card (not an error)."""
        self._heard = True
        self.flash = Flash(_("Got it. Now show your library card: the book will be checked "
                             "out right after it."), None)

    def need_pin(self, reader: ReaderView) -> None:
        """Ask for the PIN on the keypad."""
        self._heard = True
        self.state = "pin"
        self.reader = reader
        self.flash = Flash(say("Enter your PIN", reader.formal), None)

    def reader_identified(self, reader: ReaderView) -> None:
        """Greet the reader (once: the greeting line), or say at once why no book can be
        lent; the app counts the visit."""
        self._heard = True
        self.reader = reader
        self.state = "books"
        from kiosk.presenters.holds import fetch_holds  # holds.py builds on this module

        self.waiting = [h for h in fetch_holds(self.circulation, reader.card)
                        if h.state == "waiting"]
        if reader.restriction:
            self.flash = Flash(restriction(reader.restriction, reader.restriction_note,
                                           reader.formal), False)
        else:
            self.flash = Flash("", True)  # the sound only: the greeting line says hello
        if self.on_reader is not None:
            self.on_reader(reader)

    def reader_refused(self, error: E.CirculationError) -> None:
        """Unknown or blocked card, wrong PIN, another card mid-session."""
        self._heard = True
        self.flash = Flash(reader_refusal(error.code, self.formal), False)

    def item_done(self, result: ItemResult) -> None:
        """A book accepted or refused; a book refused again replaces its earlier line."""
        self._heard = True
        if result.error is not None and result.error.code == "finish_first":
            # The server found a reader card where a book was expected: another reader's.
            self.flash = Flash(reader_refusal("finish_first", self.formal), False)
            return
        title = item_title(result)
        if result.outcome is not None:  # result.ok
            taken = result.outcome
            # A waiting book just taken: its hold is fulfilled, the note forgets it.
            self.waiting = [h for h in self.waiting
                            if h.barcode != taken.barcode and h.title != taken.title]
            due = result.outcome.due_date
            text = due_text(due) if due else _("Noted: the due date comes when the server is back.")
        else:
            text = refusal(refusal_code(result), self.formal)
        row = ItemRow(result.code, title, text, result.ok)
        self.items = [i for i in self.items if i.ok or i.barcode != result.code] + [row]
        self.flash = Flash(f"{title}\n{text}", result.ok)

    def want_receipt(self, receipt: Receipt) -> bool:
        """Keep it: the reader decides on the done page («Печатать чек»)."""
        return True

    def session_ended(self, reason: str, receipt: Receipt | None) -> None:
        """The flow ended: show the thank-you page after «Готово»."""
        if reason == "finished":
            self.state = "done"
            self.flash = None
            self.receipt = receipt

    # --- view state -----------------------------------------------------------------------------
    @property
    def holds_note(self) -> str:
        """«Тебя ждёт книга: …, полка заказов у стола библиотекаря, до 12 декабря» after the
        card ('' when nothing waits)."""
        if self.state != "books" or self.reader is None:
            return ""
        from kiosk.presenters.holds import waiting_notice

        return waiting_notice(self.waiting, self.reader.formal)

    @property
    def lent(self) -> int:
        """How many books this session took."""
        return sum(item.ok for item in self.items)

    @property
    def refused(self) -> int:
        """How many books were refused (each once)."""
        return sum(not item.ok for item in self.items)

    @property
    def formal(self) -> bool:
        """Teachers are addressed with «Вы»."""
        return self.reader is not None and self.reader.formal

    @property
    def greeting(self) -> str:
        """«Привет, Маша!» to a pupil, «Здравствуйте, Мария Петровна!» to a teacher."""
        reader = self.reader
        if reader is None or self.state == "pin":
            return ""
        name = " ".join(x for x in (reader.first_name, reader.patronymic) if x)
        if not name:
            return say("Hello!", reader.formal)
        return say("Hello, {name}!", reader.formal).format(name=name)

    @property
    def prompt(self) -> str:
        """The big instruction for the current state."""
        if self.state == "card":
            return _("Show your library card")
        if self.state == "pin":
            return say("Enter your PIN", self.formal)
        if self.state == "books" and self.reader is not None and self.reader.restriction:
            return say("Talk to the librarian", self.formal)
        if self.state == "books":
            return say("Show the barcode of the book", self.formal)
        if self.lent:
            return say("Thank you!", self.formal)
        return _("No books checked out")

    @property
    def has_printer(self) -> bool:
        """A receipt can be offered at all (a terminal without a printer never offers it)."""
        return bool(getattr(self.printer, "available", True))

    @property
    def can_print(self) -> bool:
        """Show «Печатать чек»."""
        return (self.state == "done" and self.receipt is not None and not self.receipt_printed
                and self.has_printer)

    @property
    def summary(self) -> str:
        """The text of the done state."""
        lent = self.lent
        if not lent:
            if self.refused:
                return say("Put the books back on the shelf or give them to the librarian, as "
                           "each line below says.", self.formal)
            return say("You did not show any book. Come back when you find one!", self.formal)
        text = nsay("You are taking {n} book home.", "You are taking {n} books home.", lent,
                    self.formal).format(n=lent)
        if self.refused:
            text += " " + say("The books that were not checked out go back on the shelf or "
                              "to the librarian.", self.formal)
        if self.receipt_printed:
            return text + " " + say("Take your receipt.", self.formal)
        if self.receipt_printed is False:
            return text + " " + say("The receipt did not print: remember the return dates.",
                                    self.formal)
        if not self.has_printer:
            return text + " " + say("Remember the return dates.", self.formal)
        return text + " " + say("Remember the return dates or print a receipt.", self.formal)

