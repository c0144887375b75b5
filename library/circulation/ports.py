"""The circulation port: what the self-service flows (library.circulation.flows), the kiosk's
presenters and the server's routes drive. Three implementations pass one contract test suite
(tests/server/test_circulation_port_contract.py):

* `library.circulation.service.CirculationService` — the database itself (server, standalone kiosk);
* `kiosk.remote.RemoteCirculation` — a terminal through the school server's API (+ offline queue);
* `kiosk.fakes.FakeCirculation` — screenshots, UI tests and ``--fakes``, over the real rules.

Values are library.circulation.values; refusals are raised as
library.circulation.errors.CirculationError with a stable ``code``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from library.circulation.values import HoldView, LoanOutcome, LoanView, ReaderView


@runtime_checkable
class CirculationPort(Protocol):
    """Checkout, return, renew and the reader's loans, exactly once per transaction id."""

    def find_reader(self, card: str) -> ReaderView:
        """The reader owning a card (a block is told in ``restriction``); BookNotCard for a
        copy's barcode (one call tells cards from books), else ReaderNotFound."""

    def is_reader_card(self, code: str) -> bool:
        """True when a scanned code is a reader card rather than a book."""

    def check_pin(self, card: str, pin: str) -> bool:
        """Verify a reader's PIN."""

    def pin_required(self, reader: ReaderView) -> bool:
        """True when this reader must type a PIN."""

    def identified_reader(self, reader: ReaderView) -> ReaderView:
        """The reader once fully identified (a server tells the name only after the PIN)."""

    def checkout(self, card: str, barcode: str, txn_id: str, *,
                 terminal: str | None = None) -> LoanOutcome:
        """Lend one copy."""

    def checkin(self, barcode: str, txn_id: str, *, terminal: str | None = None) -> LoanOutcome:
        """Take one copy back."""

    def loans(self, card: str) -> list[LoanView]:
        """The reader's open loans, soonest due first."""

    def renew(self, card: str, barcode: str, txn_id: str, *,
              terminal: str | None = None) -> LoanOutcome:
        """Extend one loan."""

    def may_set_first_pin(self) -> bool:
        """True when a reader without a PIN may set one here (``[circulation] pin_self_set``); a
        reader with a PIN may always change it with the current one."""

    def change_pin(self, card: str, current: str | None, new: str) -> None:
        """Give the reader a new PIN: ``current`` is the PIN they have (WrongPin when wrong or
        missing, counted like any guess, CardLocked), None for a first one (PinSelfSetOff when
        the policy says no); the new PIN passes library.circulation.pins.check_new_pin first
        (PinFormat, PinTrivial: nothing counted)."""

    def end_session(self) -> None:
        """The reader's session at this terminal is over (a server forgets its session)."""


@runtime_checkable
class HoldsPort(Protocol):
    """Holds (reservations, docs/HOLDS.md) as the front ends use them: the kiosk's record page
    and card screen, the desk. `CirculationService` implements it; a terminal's implementation
    over the server's API follows the same contract. Refusals are CirculationError codes
    (hold_on_shelf, hold_limit, already_queued, already_have_it, no_loanable_copy,
    record_not_found, hold_not_found, not_your_hold, hold_closed, holds_off, reader_not_found).
    A return that fills a hold says so in `LoanOutcome.hold_id/hold_for/hold_until`; a checkout
    of a copy set aside for another reader is refused with code ``reserved``; a renewal while
    others queue with ``renewal_held``."""

    def place_hold(self, card: str, record_id: int, txn_id: str, *, terminal: str | None = None,
                   by: str | None = None) -> HoldView:
        """Queue the reader for a record (any copy), exactly once per transaction id."""

    def cancel_hold(self, hold_id: int, txn_id: str, *, card: str | None = None,
                    terminal: str | None = None, by: str | None = None) -> HoldView:
        """Cancel a hold: with `card` only the reader's own, without it as the librarian."""

    def holds(self, card: str) -> list[HoldView]:
        """The reader's active holds: waiting (where, until when), queued (place in the queue)."""
