"""Card [+ PIN] identification without lending, for screens that show a reader's own things
(«Мои книги») or that only some readers may open (the teachers' media library).

The sequence and the rules are `library.circulation.flows.SelfCheckoutFlow` with ``lend=False``:
a book shown here only asks for the card, a PIN is asked when the back end wants one.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.i18n import _, say
from kiosk.presenters.checkout import Flash, PinEntry
from kiosk.presenters.messages import reader_refusal
from library.circulation import errors as E
from library.circulation.flows import FlowHooks, SelfCheckoutFlow, Step
from library.circulation.ports import CirculationPort
from library.circulation.values import ReaderView


class CardGate(FlowHooks):
    """States: card, pin, open. ``allow(reader)`` may refuse a reader (with ``refused_text``);
    ``on_open(reader)`` runs when the gate opens."""

    def __init__(self, circulation: CirculationPort, *, terminal: str | None = None,
                 allow: Callable[[ReaderView], bool] | None = None,
                 refused_text: Callable[[], str] | None = None,
                 on_open: Callable[[ReaderView], None] | None = None):
        self.circulation = circulation
        self.terminal = terminal
        self.allow = allow
        self.refused_text = refused_text
        self.on_open = on_open
        self._start()

    def reset(self, reason: str = "cancelled") -> None:
        """Close the gate and forget the reader."""
        if self.flow.step != Step.ENDED:
            self.flow.cancel()
        self._start()

    def _start(self) -> None:
        self.flow = SelfCheckoutFlow(self.circulation, self, terminal=self.terminal,
                                     idle_timeout=3600.0, lend=False)
        self.state = "card"
        self.reader: ReaderView | None = None
        self.flash: Flash | None = None
        self.pin = PinEntry()
        # The PIN that opened the gate: memory only, forgotten with the reader (reset, idle),
        # never shown; «Мои книги» passes it as the current PIN when the reader changes it.
        self.opening_pin: str | None = None

    @property
    def formal(self) -> bool:
        """Teachers are addressed with «Вы»."""
        return self.reader is not None and self.reader.formal

    def open_for(self, reader: ReaderView) -> bool:
        """Open for a reader already identified in this session (no second card scan)."""
        if self.allow is not None and not self.allow(reader):
            return False
        self.reader, self.state = reader, "open"
        return True

    def scan(self, code: str) -> Flash | None:
        """A card arrived (anything else asks for the card)."""
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
        self.opening_pin = pin if self.state == "open" else None
        return self.flash

    # --- flow hooks ---------------------------------------------------------------------------
    def need_card(self) -> None:
        """Something that is not a card."""
        if self.state == "card":
            self.flash = Flash(reader_refusal("reader_not_found"), False)

    def need_pin(self, reader: ReaderView) -> None:
        """Ask for the PIN."""
        self.state, self.reader = "pin", reader
        self.flash = Flash(say("Enter your PIN", reader.formal), None)

    def reader_identified(self, reader: ReaderView) -> None:
        """Open, or refuse a reader this screen is not for."""
        if self.allow is not None and not self.allow(reader):
            text = self.refused_text() if self.refused_text else _("This is not for your card.")
            self.reset()
            self.flash = Flash(text, False)
            return
        self.reader, self.state = reader, "open"
        self.flash = Flash("", True)  # the screen greets; the sound says the card was read
        if self.on_open is not None:
            self.on_open(reader)

    def reader_refused(self, error: E.CirculationError) -> None:
        """Unknown card or wrong PIN."""
        self.flash = Flash(reader_refusal(error.code, self.formal), False)
