"""The librarian's override: lend or renew although a loan RULE refused, with a reason.

One home for what an override may skip. Only the rules a librarian may waive at the desk
(Koha's «override blocked checkout», ИРБИС «выдать всё равно») are listed; physical
impossibilities — an unknown copy, a copy on loan to someone else, a lost, written-off or
reference-only copy, another reader's loan — are never waived. The service
(library/circulation/service.py) takes an `Override` on checkout/renew, asks the rules with a
`Waiver`, records one Event ``override`` per waived action (the refusal it skipped, the reason,
who) in the same transaction, exactly once like every other write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from library.circulation import errors as E
from library.errors import IbcError
from library.text import CONTROLS

MAX_REASON = 200

# Refusal codes a librarian may override, per action (library/circulation/errors.py).
CHECKOUT_OVERRIDABLE = frozenset({
    E.ReaderBlocked.code,       # the reader's card is blocked by the librarian
    E.HasOverdue.code,          # the reader has overdue loans
    E.HasLost.code,             # the reader has a lost book
    E.LoanLimitReached.code,    # the category's loan limit
    E.AgeRestricted.code,       # the book's age rating
})
RENEW_OVERRIDABLE = frozenset({
    E.ReaderBlocked.code,
    E.RenewalNotAllowed.code,   # the item type or a school-year loan is not renewable
    E.RenewalLimitReached.code,
    E.OverdueCannotRenew.code,
    E.RenewalHeld.code,         # other readers queue for the book (holds); never ReservedForAnother
})
OVERRIDABLE = {"checkout": CHECKOUT_OVERRIDABLE, "renew": RENEW_OVERRIDABLE}


class OverrideReasonInvalid(IbcError):
    """An override came without a usable reason (empty, or longer than MAX_REASON)."""

    code = "override_reason"

    def __init__(self, problem: str):
        super().__init__(f"override reason {problem}")
        self.problem = problem  # "missing" | "too_long"


@dataclass(frozen=True)
class Override:
    """Who overrides (a desk account) and why (1..MAX_REASON printable characters)."""

    reason: str
    by: str

    @classmethod
    def make(cls, reason: str | None, by: str) -> Override:
        """A checked override: control characters dropped, spaces trimmed; OverrideReasonInvalid
        when nothing is left or the reason is too long."""
        text = " ".join(CONTROLS.sub(" ", reason or "").split())
        if not text:
            raise OverrideReasonInvalid("missing")
        if len(text) > MAX_REASON:
            raise OverrideReasonInvalid("too_long")
        return cls(text, by.strip()[:64] or "-")


def overridable(action: str, code: str) -> bool:
    """True when a refusal `code` of `action` ("checkout" | "renew") may be overridden."""
    return code in OVERRIDABLE.get(action, frozenset())


@dataclass
class Waiver:
    """Handed to the rules (library/circulation/rules.py): a refusal whose code is in `allowed`
    is noted in `skipped` instead of raised."""

    allowed: frozenset[str]
    skipped: list[str] = field(default_factory=list)

    def refuse(self, error: E.CirculationError) -> None:
        """Raise `error` unless it may be waived (then note its code)."""
        if error.code not in self.allowed:
            raise error
        if error.code not in self.skipped:
            self.skipped.append(error.code)


def refuse(error: E.CirculationError, waiver: Waiver | None) -> None:
    """Raise `error`, unless `waiver` waives it."""
    if waiver is None:
        raise error
    waiver.refuse(error)
