"""The `CirculationPort` of a terminal (`library.circulation.ports`): the library flows drive
reader sessions, checkout, return, renew and loans through the school server's API; returns and
checkouts are queued in the durable offline queue while the server is unreachable (policy from
settings, `TerminalCirculation`). A copy of the local replica is known to be a book without
asking the server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, TypeVar

from kiosk.terminal.api import ApiRefused, ServerUnreachable
from kiosk.terminal.circulation import OfflineRefused
from library.circulation import errors as E
from library.circulation.values import HoldView, LoanOutcome, LoanView, ReaderView

if TYPE_CHECKING:
    from kiosk.terminal.circulation import TerminalCirculation
    from library.storage.database import Database
    from library.textbooks.issue import Collected

_T = TypeVar("_T")


def _refusal(exc: ApiRefused) -> E.CirculationError:
    cls = E.ERRORS.get(exc.code)
    params = exc.data.get("params") or {}
    if cls is not None:
        try:
            return cls(**params)
        except TypeError:
            return cls()
    err = E.CirculationError()
    err.code = exc.code  # e.g. session_expired, too_many_attempts: texts fall back to a default
    return err


class RemoteCirculation:
    """`CirculationPort` over the school server, with the offline queue behind it."""

    def __init__(self, terminal: TerminalCirculation, replica_db: Database | None = None) -> None:
        self.terminal = terminal
        self.client = terminal.client
        self.replica = replica_db
        self.policy = SimpleNamespace(require_pin=False)  # the server decides per reader
        self._pin_card: str | None = None
        self._reader: ReaderView | None = None
        self._self_set = False  # the server lets this session's reader set a first PIN

    # --- identification -------------------------------------------------------------------------
    def _view(self, card: str, out: dict) -> ReaderView:
        r = out.get("reader") or {}
        return ReaderView(0, card, r.get("first_name", ""), r.get("initial", ""),
                          r.get("class_name"), r.get("category") or "pupil",
                          r.get("patronymic") or "", r.get("restriction"),
                          r.get("restriction_note"))

    def _open(self, card: str, pin: str | None = None) -> ReaderView:
        try:
            out = self.terminal.identify(card, pin)  # OfflineRefused when it may not go offline
        except ApiRefused as exc:
            raise _refusal(exc) from None
        self._reader = self._view(card, out)
        self._self_set = bool(out.get("pin_self_set", False))
        return self._reader

    def find_reader(self, card: str) -> ReaderView:
        """Open the reader session (without a PIN first); the server says when a PIN is due.
        A copy of the replica is a book, told without asking the server."""
        if self._copy(card) is not None:
            raise E.BookNotCard()
        self.end_session()
        try:
            return self._open(card)
        except E.CirculationError as exc:
            if exc.code != "pin_required":
                raise
        self._pin_card = card
        return ReaderView(0, card, "", "", None, "pupil")

    def pin_required(self, reader: ReaderView) -> bool:
        """The server asks for this reader's PIN (or asked it to open this session)."""
        return reader.card == self._pin_card or (
            reader.card == self.terminal.card and self.terminal.pin_card)

    def check_pin(self, card: str, pin: str) -> bool:
        """Open the session with the PIN; False for a wrong one."""
        try:
            self._open(card, pin)
        except E.WrongPin:
            return False
        self._pin_card = None
        return True

    def identified_reader(self, reader: ReaderView) -> ReaderView:
        """The server's view of the reader once the session is open (name after the PIN)."""
        if self._reader is not None and self._reader.card == reader.card:
            return self._reader
        return reader

    def is_reader_card(self, code: str) -> bool:
        """A copy barcode of the replica is a book; with no session open anything else is
        tried as a card (the server answers reader_not_found)."""
        if self.terminal.card is not None and code == self.terminal.card:
            return True
        if self._copy(code) is not None:
            return False
        return self.terminal.card is None

    def end_session(self) -> None:
        """«Готово» / idle: DELETE /session."""
        if self.terminal.card is not None:
            self.terminal.finish()
        self._pin_card, self._reader, self._self_set = None, None, False

    # --- circulation ----------------------------------------------------------------------------
    def _copy(self, barcode: str) -> tuple[str, str] | None:
        """(title, authors) of a copy in the local replica."""
        if self.replica is None:
            return None
        from sqlalchemy import select

        from library.storage.models import Copy, Record

        with self.replica.session() as s:
            row = s.execute(select(Record.title, Record.authors).join(Copy, Copy.record_id == Record.id)
                            .where(Copy.barcode == barcode)).first()
        return (row[0], ", ".join(row[1] or ())) if row else None

    def _outcome(self, action: str, out: dict, barcode: str) -> LoanOutcome:
        if out.get("queued"):
            title, authors = self._copy(barcode) or ("", "")
            return LoanOutcome(action, out["txn_id"], 0, barcode, title, authors, None)
        due = out.get("due_date")
        return LoanOutcome(out["action"], out["txn_id"], int(out["loan_id"]), out["barcode"],
                           out["title"], out.get("authors", ""),
                           dt.date.fromisoformat(due) if due else None, out.get("shelf"),
                           int(out.get("renewals", 0)), bool(out.get("replayed", False)),
                           place=out.get("place"), hold_id=int(out.get("hold_id") or 0),
                           hold_for=out.get("hold_for"),
                           hold_until=dt.date.fromisoformat(until)
                           if (until := out.get("hold_until")) else None)

    def _call(self, fn: Callable[[], _T]) -> _T:
        try:
            return fn()
        except ServerUnreachable:
            raise OfflineRefused() from None
        except ApiRefused as exc:
            raise _refusal(exc) from None

    def checkout(self, card: str, barcode: str, txn_id: str, *,
                 terminal: str | None = None) -> LoanOutcome:
        """Lend to the session reader (queued when offline and the policy allows)."""
        if self.terminal.card != card:
            raise E.FinishFirst()
        return self._outcome("checkout",
                             self._call(lambda: self.terminal.checkout(barcode, txn_id)), barcode)

    def checkin(self, barcode: str, txn_id: str, *, terminal: str | None = None) -> LoanOutcome:
        """Return (queued when offline unless the policy is disabled)."""
        return self._outcome("checkin",
                             self._call(lambda: self.terminal.checkin(barcode, txn_id)), barcode)

    def loans(self, card: str) -> list[LoanView]:
        """The session reader's loans (online only)."""
        if self.terminal.card != card or self.terminal.offline:
            raise OfflineRefused()
        rows = self._call(self.client.loans)
        return [LoanView(r["loan_id"], r["barcode"], r["title"], r.get("authors", ""),
                         dt.date.fromisoformat(r["issued"]), dt.date.fromisoformat(r["due_date"]),
                         int(r["renewals"]), bool(r["overdue"])) for r in rows]

    def renew(self, card: str, barcode: str, txn_id: str, *,
              terminal: str | None = None) -> LoanOutcome:
        """Renew one of the session reader's loans (online only)."""
        if self.terminal.card != card or self.terminal.offline:
            raise OfflineRefused()
        txn = self.terminal.txn(txn_id)
        return self._outcome("renew", self._call(lambda: self.client.renew(barcode, txn)), barcode)

    # --- holds (library.circulation.ports.HoldsPort) ---------------------------------------------
    def _online_session(self, card: str | None) -> None:
        """A hold needs the server and this session's reader: never queued offline."""
        if card is None or self.terminal.card != card:
            raise E.FinishFirst()
        if self.terminal.offline:
            raise OfflineRefused()

    def place_hold(self, card: str, record_id: int, txn_id: str, *, terminal: str | None = None,
                   by: str | None = None) -> HoldView:
        """POST /holds for the session reader (online only: OfflineRefused, never queued)."""
        self._online_session(card)
        txn = self.terminal.txn(txn_id)
        return HoldView.from_dict(self._call(lambda: self.client.place_hold(record_id, txn)))

    def cancel_hold(self, hold_id: int, txn_id: str, *, card: str | None = None,
                    terminal: str | None = None, by: str | None = None) -> HoldView:
        """POST /holds/{id}/cancel: only the session reader's own hold (a terminal is never the
        librarian), online only."""
        self._online_session(card)
        txn = self.terminal.txn(txn_id)
        return HoldView.from_dict(self._call(lambda: self.client.cancel_hold(hold_id, txn)))

    def holds(self, card: str) -> list[HoldView]:
        """GET /holds: the session reader's active holds (online only)."""
        self._online_session(card)
        return [HoldView.from_dict(h) for h in self._call(self.client.holds)]

    def collect(self, reader: ReaderView, barcode: str, *,
                class_name: str | None = None) -> Collected:
        """«Сдача учебников» (`kiosk.services.CollectionPort`): POST /textbooks/collect in the
        session of `reader`, online only — offline nobody is named, the ordinary return (queued)
        takes the book (OfflineRefused). The server refuses a reader who is not staff:
        ClassSetError ``staff_only``."""
        from library.textbooks.issue import ClassSetError, Collected

        if self.terminal.card != reader.card:
            raise ClassSetError("staff_only", "textbook collection needs a teacher's or staff card")
        if self.terminal.offline:
            raise OfflineRefused()
        try:
            out = self.client.collect_textbook(barcode, class_name)
        except ServerUnreachable:
            raise OfflineRefused() from None
        except ApiRefused as exc:
            if exc.code == "staff_only":
                raise ClassSetError("staff_only", exc.message) from None
            raise _refusal(exc) from None
        return Collected.from_dict(out)

    def may_set_first_pin(self) -> bool:
        """What the server said when the session opened (``pin_self_set``; offline: no)."""
        return self._self_set and not self.terminal.offline

    def change_pin(self, card: str, current: str | None, new: str) -> None:
        """POST /session/pin for the session reader (online only); the server's refusals come
        back as the same CirculationErrors (its ``pin_required`` for a missing current PIN is
        WrongPin, as everywhere else)."""
        if self.terminal.card != card or self.terminal.offline:
            raise OfflineRefused()
        try:
            self._call(lambda: self.client.change_pin(current, new))
        except E.CirculationError as exc:
            if exc.code == "pin_required":
                raise E.WrongPin() from None
            raise
