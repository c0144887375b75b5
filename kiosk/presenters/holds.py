"""Holds at the kiosk (issue 19, docs/HOLDS.md): «Встать в очередь» on a record page, «Тебя ждёт
книга» after the card, the holds on «Мои книги» with «Отменить», the loud hold notice of a
return. The rules are the core's (library/circulation/holds.py, behind the port's
`place_hold` / `cancel_hold` / `holds`); this module only says their answers in words.

`HoldPresenter` is the queue screen's state: the card [+ PIN] through
`kiosk.presenters.gate.CardGate` (skipped when the session knows the reader), then the hold is
placed at once and the screen says the place in the queue or the refusal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.i18n import _, language, say
from kiosk.presenters.checkout import Flash
from kiosk.presenters.gate import CardGate
from kiosk.presenters.messages import day_month
from library.circulation import errors as E
from library.circulation.flows import new_txn_id
from library.circulation.ports import CirculationPort, HoldsPort
from library.circulation.values import HoldView, LoanOutcome, ReaderView

log = logging.getLogger("ibc.kiosk")


def holds_port(circulation: object) -> HoldsPort | None:
    """The circulation port's holds, when it has them (every real one does)."""
    return circulation if isinstance(circulation, HoldsPort) else None


def shelf_words(where: str | None) -> str:
    """Where the hold shelf is: the library's ``[holds] shelf_note`` or the default words."""
    return where or _("hold shelf at the librarian's desk")


def ordinal(n: int) -> str:
    """«2-й» / «2nd»: the catalogue's pattern, English suffixes by the number."""
    if language() == "en":
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"
    return _("{n}th").format(n=n)


def place_refusal(code: str, formal: bool = False, params: dict | None = None) -> str:
    """Why a hold was not placed, and what to do instead."""
    params = params or {}
    if code == "hold_limit":
        return say("You already queue for {count} books: that is the most. Cancel one on “My "
                   "books” first.", formal).format(count=params.get("count", ""))
    texts = {
        "hold_on_shelf": say("The book is on the shelf: take it!", formal),
        "already_queued": say("You are already in the queue for this book.", formal),
        "already_have_it": say("You have this book already.", formal),
        "no_loanable_copy": say("This book is not lent out: read it in the library.", formal),
        "age_restricted": say("This book is for older readers: you cannot queue for it.", formal),
        "reader_blocked": say("Your card is blocked: you cannot queue now. Talk to the "
                              "librarian.", formal),
        "holds_off": say("This library does not keep a queue for books. Ask the librarian.",
                         formal),
        "record_not_found": _("This book is no longer in the catalogue."),
        "offline_refused": say("No connection to the library server: you cannot queue now. "
                               "Try later or ask the librarian.", formal),
        "finish_first": say("This is another reader's card: press “Done” first.", formal),
    }
    return texts.get(code, say("You cannot queue for this book here. Ask the librarian.",
                               formal))


def cancel_refusal(code: str, formal: bool = False) -> str:
    """Why a hold was not cancelled."""
    texts = {
        "hold_closed": _("This queue is already over."),
        "offline_refused": say("No connection to the library server: try later.", formal),
    }
    return texts.get(code, say("The queue was not cancelled. Ask the librarian.", formal))


def queued_text(view: HoldView, formal: bool = False) -> str:
    """«Ты в очереди: 2-й. Когда книгу вернут, она будет ждать тебя на полке заказов…»"""
    return say("You are in the queue: {place}. When the book comes back it will wait for you "
               "on the hold shelf.", formal).format(place=ordinal(view.position))


def requested_text(view: HoldView, formal: bool = False) -> str:
    """«Книгу привезут из другой школы (Гимназия № 5). Мы скажем, когда она будет ждать
    тебя.» — a hold the core made a request to another school."""
    if not view.from_school:
        return say("The book will be brought from another school. We will tell you when it "
                   "waits for you.", formal)
    return say("The book will be brought from another school ({school}). We will tell you "
               "when it waits for you.", formal).format(school=view.from_school)


def placed_text(view: HoldView, formal: bool = False) -> str:
    """The answer to «Встать в очередь» / «Попросить из другой школы»."""
    if view.request and view.state == "queued":
        return requested_text(view, formal)
    return queued_text(view, formal)


def waiting_text(view: HoldView, formal: bool = False) -> str:
    """«Тебя ждёт книга «…»: полка заказов у стола библиотекаря, до 12 декабря.»"""
    text = say("A book is waiting for you: “{title}”, {shelf}", formal).format(
        title=view.title, shelf=shelf_words(view.where))
    if view.pickup_until is not None:
        text += ", " + _("until {date}").format(date=day_month(view.pickup_until))
    return text + "."


def waiting_notice(views: list[HoldView], formal: bool = False) -> str:
    """What the checkout and «Мои книги» say after the card ('' when nothing waits)."""
    return "\n".join(waiting_text(v, formal) for v in views if v.state == "waiting")


def return_notice(outcome: LoanOutcome, formal: bool = False) -> str:
    """The loud words of a return that filled a hold ('' for any other return)."""
    if not outcome.hold_id:
        return ""
    text = say("Do not put it on the cart! Put this book on the hold shelf: it is kept for {who}.",
               formal).format(who=outcome.hold_for or _("another reader"))
    if outcome.hold_until is not None:
        text += " " + _("Until {date}.").format(date=day_month(outcome.hold_until))
    return text


def wanted_notice(outcome: LoanOutcome, formal: bool = False) -> str:
    """A book another school asks for came back here: «Эту книгу просит другая школа (Школа
    № 2): отдай её библиотекарю.» ('' for any other return)."""
    if not outcome.wanted_by or outcome.hold_id or outcome.send_to:
        return ""
    return say("Another school asks for this book ({school}): give it to the librarian.",
               formal).format(school=outcome.wanted_by)


def send_home_notice(outcome: LoanOutcome, formal: bool = False) -> str:
    """A book of another school returned here: «Эта книга из другой школы (Гимназия № 5):
    отложи её для отправки.» ('' for any other return)."""
    if not outcome.send_to:
        return ""
    return say("This book belongs to another school ({school}): put it aside to be sent back.",
               formal).format(school=outcome.send_to)


def fetch_holds(circulation: object, card: str) -> list[HoldView]:
    """The reader's holds for a notice or a list; [] when the port has none or cannot say now
    (offline: the kiosk stays usable, the holds are just not told)."""
    port = holds_port(circulation)
    if port is None:
        return []
    try:
        return port.holds(card)
    except E.CirculationError as exc:
        log.info("holds not shown: %s", exc.code)
        return []


@dataclass(frozen=True)
class HoldRow:
    """One of the reader's holds on «Мои книги»."""

    hold_id: int
    title: str
    text: str
    waiting: bool


def hold_rows(views: list[HoldView], formal: bool = False) -> list[HoldRow]:
    """«Ждёт тебя: полка заказов…, до 12 декабря» / «В очереди: 2-й»."""
    out = []
    for v in views:
        if v.state == "waiting":
            text = say("Waiting for you: {shelf}", formal).format(shelf=shelf_words(v.where))
            if v.pickup_until is not None:
                text += ", " + _("until {date}").format(date=day_month(v.pickup_until))
        elif v.state == "transit":
            text = (_("On its way from another school: {school}").format(school=v.from_school)
                    if v.from_school else _("On its way from another school"))
        elif v.request:
            text = (_("Asked from another school: {school}").format(school=v.from_school)
                    if v.from_school else _("Asked from another school"))
        else:
            text = _("In the queue: {place}").format(place=ordinal(v.position))
        out.append(HoldRow(v.hold_id, v.title, text, v.state == "waiting"))
    return out


def cancel(circulation: object, card: str, hold_id: int, terminal: str | None,
           formal: bool = False) -> Flash:
    """«Отменить» on a hold: the port cancels the reader's own hold."""
    port = holds_port(circulation)
    if port is None:
        return Flash(cancel_refusal("holds_off", formal), False)
    try:
        port.cancel_hold(hold_id, new_txn_id(), card=card, terminal=terminal)
    except E.CirculationError as exc:
        return Flash(cancel_refusal(exc.code, formal), False)
    return Flash(say("Done: you are out of the queue.", formal), True)


class HoldPresenter:
    """The queue screen: states card, pin (the gate), done (placed or refused)."""

    def __init__(self, circulation: CirculationPort, *, terminal: str | None = None,
                 on_reader: Callable[[ReaderView], None] | None = None):
        self.terminal = terminal
        self.on_reader = on_reader
        self.gate = CardGate(circulation, terminal=terminal, on_open=self._opened)
        self.record_id = 0
        self.title = ""
        self.asking = False  # «Попросить из другой школы» (the record page's button)
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
        """Forget the reader and the outcome."""
        self.gate.reset(reason)
        self.placed: HoldView | None = None
        self.result: Flash | None = None

    def start(self, record_id: int, title: str, reader: ReaderView | None, *,
              asking: bool = False) -> Flash | None:
        """«Встать в очередь» (or, `asking`, «Попросить из другой школы») on a record page:
        place at once for the session's reader, else ask for the card."""
        self.reset()
        self.record_id, self.title, self.asking = record_id, title, asking
        if reader is not None and self.gate.open_for(reader):
            return self._place(reader)
        return None

    @property
    def state(self) -> str:
        """card | pin | done."""
        return "done" if self.result is not None else (
            "card" if self.gate.state == "open" else self.gate.state)

    @property
    def formal(self) -> bool:
        """Teachers are addressed with «Вы»."""
        return self.gate.formal

    def scan(self, code: str) -> Flash | None:
        """A card arrived."""
        return self.gate.scan(code) if self.state == "card" else None

    def press_pin(self, key: str) -> Flash | None:
        """A key of the PIN pad."""
        flash = self.gate.press_pin(key)
        return self.result or flash

    def _opened(self, reader: ReaderView) -> None:
        if self.on_reader is not None:
            self.on_reader(reader)
        self._place(reader)

    def _place(self, reader: ReaderView) -> Flash:
        port = holds_port(self.gate.circulation)
        try:
            if port is None:
                raise E.HoldsOff()
            self.placed = port.place_hold(reader.card, self.record_id,
                                          new_txn_id(),
                                          terminal=self.terminal)
        except E.CirculationError as exc:
            self.result = Flash(place_refusal(exc.code, reader.formal, exc.params), False)
            return self.result
        self.result = Flash(placed_text(self.placed, reader.formal), True)
        return self.result

    @property
    def flash(self) -> Flash | None:
        """The outcome, else the gate's words (a wrong PIN, not a card)."""
        return self.result or self.gate.flash

    @property
    def heading(self) -> str:
        """The big line."""
        if self.state == "card" and self.asking:
            return _("Show your library card to ask another school for “{title}”").format(
                title=self.title)
        if self.state == "card":
            return _("Show your library card to queue for “{title}”").format(title=self.title)
        if self.state == "pin":
            return say("Enter your PIN", self.formal)
        return self.title

    @property
    def waiting_note(self) -> str:
        """A book already waiting for the reader, told on the done page too."""
        reader = self.gate.reader
        if reader is None or self.state != "done":
            return ""
        return waiting_notice(fetch_holds(self.gate.circulation, reader.card), reader.formal)


def can_queue(copies_status: list[str]) -> bool:
    """The record page offers «Встать в очередь» when no copy is on the shelf but some copy will
    come back (the core decides; this only hides a button that could never work)."""
    from library.circulation.holds import HOLDABLE_STATUSES

    return ("available" not in copies_status
            and any(s in HOLDABLE_STATUSES for s in copies_status))

