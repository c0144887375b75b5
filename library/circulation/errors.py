"""Named circulation refusals. Each has a stable ``code`` and an English message template
(the gettext msgid); front ends translate it with library.i18n.

    CirculationError (library.errors)
    ├── ReaderNotFound        ├── ItemNotFound         ├── RenewalLimitReached
    ├── ReaderBlocked         ├── ItemNotForLoan       ├── RenewalNotAllowed
    ├── WrongPin              ├── ItemOnLoan           ├── NotOnLoan
    ├── LoanLimitReached      ├── ItemAlreadyYours     ├── OverdueCannotRenew
    ├── HasOverdue            ├── AgeRestricted        ├── TransactionMismatch
    ├── HasLost               ├── ReaderCardShown      └── NotYourLoan
    ├── FinishFirst (another reader's card shown mid-session; also raised by checkout for it)
    ├── CardLocked, PinFormat, PinTrivial, PinSelfSetOff   (PINs: guess limit, a new PIN's rule)
    ├── OfflineCardRefused, OfflinePinRequired            (a terminal's forwarded offline checkout)
    └── holds (library/circulation/holds.py): HoldsOff, HoldOnShelf, HoldLimitReached,
        AlreadyQueued, AlreadyHaveIt, NoLoanableCopy, RecordNotFound, HoldNotFound,
        NotYourHold, HoldClosed, ReservedForAnother (a checkout), RenewalHeld (a renewal)
    └── schools (library/schools.py): OtherSchool (a copy), OtherSchoolReader (a card)
    └── transfers (inter-school requests, hold_service.py): NotOurCopy, NoRequest, NotInTransit,
        BadPickup
"""

from __future__ import annotations

from typing import Any

from library.errors import CirculationError as _Base

N_ = str  # marks msgids for extraction; translation happens in front ends


class CirculationError(_Base):
    """A rule refused the action; ``params`` fill the message template (library.errors.RuleError:
    ``message(translate)``, ``to_dict()``)."""

    code = "circulation"
    template = N_("The action was refused")


class ReaderNotFound(CirculationError):
    code, template = "reader_not_found", N_("Reader card {card} is not registered")


class BookNotCard(CirculationError):
    """A copy's barcode shown where a reader card was expected (a book before the card)."""

    code, template = "book_not_card", N_("This is a book: show your library card first")


class ReaderBlocked(CirculationError):
    code, template = "reader_blocked", N_("Your card is blocked: please see the librarian")


class WrongPin(CirculationError):
    code, template = "wrong_pin", N_("Wrong PIN")


class LoanLimitReached(CirculationError):
    code, template = "limit_reached", N_("You already have {count} books: that is the limit")


class HasOverdue(CirculationError):
    code, template = "has_overdue", N_("Return your overdue books first")


class HasLost(CirculationError):
    code, template = "has_lost", N_("You have a lost book: please see the librarian")


class ItemNotFound(CirculationError):
    code, template = "item_not_found", N_("Barcode {barcode} is not in the catalogue")


class ItemNotForLoan(CirculationError):
    code, template = "not_for_loan", N_("This book is for the reading room only")


class ItemUnavailable(CirculationError):
    code, template = "item_unavailable", N_("This copy cannot be lent now: please see the librarian")


class ItemOnLoan(CirculationError):
    code, template = "item_on_loan", N_("This copy is already on loan: please see the librarian")


class ItemAlreadyYours(CirculationError):
    code, template = "already_yours", N_("You already have this book")


class AgeRestricted(CirculationError):
    code, template = "age_restricted", N_("This book is for readers {age}")


class NotOnLoan(CirculationError):
    code, template = "not_on_loan", N_("This book is not on loan")


class RenewalNotAllowed(CirculationError):
    code, template = "renewal_not_allowed", N_("This book cannot be renewed")


class RenewalLimitReached(CirculationError):
    code, template = "renewal_limit", N_("This book has been renewed {count} times already")


class OverdueCannotRenew(CirculationError):
    code, template = "overdue_no_renew", N_("This book is overdue: please return it")


class NotYourLoan(CirculationError):
    code, template = "not_your_loan", N_("This book is on loan to another reader")


class FinishFirst(CirculationError):
    code, template = "finish_first", N_("Press Done to finish the current reader's session first")


class ReaderCardShown(CirculationError):
    code, template = "reader_card", N_("This is a reader card, not a book: show the book's barcode")


class TransactionMismatch(CirculationError):
    code, template = "txn_mismatch", N_("Transaction {txn} was already used for another action")


class CardLocked(CirculationError):
    """Too many wrong PINs on this card (all terminals): refused before any PIN is checked."""

    code, template = "card_locked", N_("Too many wrong PINs: the card is locked for {minutes} min. "
                                       "Please see the librarian")


class PinFormat(CirculationError):
    code, template = "pin_format", N_("The PIN must be {min} to {max} digits")


class PinTrivial(CirculationError):
    code, template = "pin_trivial", N_("This PIN is too easy to guess: choose another one")


class PinSelfSetOff(CirculationError):
    code, template = "pin_self_set_off", N_("Your PIN is set by the librarian: please ask at the desk")


class OfflineCardRefused(CirculationError):
    """An offline forward for a card the offline policy does not trust at this terminal; the
    same answer for a card that does not exist (a forward reveals nothing about cards)."""

    code, template = "offline_card_refused", N_(
        "This card cannot be used at this terminal without the server: please see the librarian")


class OfflinePinRequired(CirculationError):
    """An offline checkout for a reader who must type a PIN: never applied without one."""

    code, template = "offline_pin_required", N_(
        "A reader with a PIN cannot borrow while the server is unreachable: please see the librarian")


class HoldsOff(CirculationError):
    code, template = "holds_off", N_("This library does not take holds")


class HoldOnShelf(CirculationError):
    code, template = "hold_on_shelf", N_("The book is on the shelf: take it")


class HoldLimitReached(CirculationError):
    code, template = "hold_limit", N_("You already have {count} holds: that is the limit")


class AlreadyQueued(CirculationError):
    code, template = "already_queued", N_("You are already in the queue for this book")


class AlreadyHaveIt(CirculationError):
    code, template = "already_have_it", N_("You already have this book")


class NoLoanableCopy(CirculationError):
    code, template = "no_loanable_copy", N_("This book cannot be lent: there is no copy to wait for")


class RecordNotFound(CirculationError):
    code, template = "record_not_found", N_("There is no such book in the catalogue")


class HoldNotFound(CirculationError):
    code, template = "hold_not_found", N_("There is no such hold")


class NotYourHold(CirculationError):
    code, template = "not_your_hold", N_("This hold is another reader's")


class HoldClosed(CirculationError):
    code, template = "hold_closed", N_("This hold is already closed")


class ReservedForAnother(CirculationError):
    """A copy set aside on the hold shelf for another reader: never lent to anyone else (the
    librarian cancels the hold first; not overridable)."""

    code, template = "reserved", N_("This book is set aside for another reader")


class RenewalHeld(CirculationError):
    code, template = "renewal_held", N_("Other readers are waiting for this book: please return it")


class OtherSchool(CirculationError):
    """A copy of another school shown at a terminal of this one (library/schools.py): only the
    terminal's school's copies are lent there."""

    code, template = "other_school", N_("This book belongs to another school")


class OtherSchoolReader(CirculationError):
    """A reader of another school at a terminal of this one: lent only at their own school."""

    code, template = "other_school_reader", N_("This reader card belongs to another school")


class NotOurCopy(CirculationError):
    """A desk sends only its own school's copies, from its shelf."""

    code, template = "not_our_copy", N_("This copy is not on our school's shelf: it cannot be sent")


class NoRequest(CirculationError):
    """No other school asks for this book (nothing to send it for)."""

    code, template = "no_request", N_("No other school has asked for «{title}»")


class NotInTransit(CirculationError):
    """A desk receives only a copy travelling to its school."""

    code, template = "not_in_transit", N_("This copy is not on its way to our school")


class BadPickup(CirculationError):
    """A hold's pickup school that names no school of the service."""

    code, template = "bad_pickup", N_("There is no school {sigla} to pick the book up at")


ERRORS: dict[str, type[CirculationError]] = {
    cls.code: cls for cls in CirculationError.__subclasses__()
}


def error_from_dict(data: dict[str, Any]) -> CirculationError:
    """Rebuild a stored refusal (exactly-once replay)."""
    cls = ERRORS.get(data.get("code", ""), CirculationError)
    return cls(**data.get("params", {}))
