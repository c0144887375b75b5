"""Hold (reservation, «заказ») rules as pure functions over plain values, plus the hold state table.

A reader queues for a RECORD (any copy will do). A returned copy of it is set aside for the
first reader in the queue (``waiting``, on the hold shelf until ``pickup_until``); the checkout
of that copy by that reader fulfils the hold; a hold nobody picks up expires and the copy goes
to the next reader or back to the shelf. Nothing here touches the database: the service
(library/circulation/hold_service.py) gathers the facts and asks these functions, which answer
or raise a named refusal (library/circulation/errors.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from library.circulation import errors as E
from library.circulation.overrides import Waiver, refuse
from library.circulation.rules import Calendar, Policy, check_age_rating

QUEUED, WAITING, FULFILLED, EXPIRED, CANCELLED = "queued", "waiting", "fulfilled", "expired", "cancelled"
TRANSIT = "transit"  # a copy of another school travels to the hold's pickup school
ACTIVE = frozenset({QUEUED, WAITING, TRANSIT})
NEW = "new"  # the state before ``place``: no row yet

# Declarative state table: (hold state, event) -> new state. A pair not listed is refused.
#   place   a reader queues (kiosk, desk, CLI)
#   trap    a returned copy is set aside for the hold (checkin, or the expiry passing it on)
#   fulfil  the reader borrows a copy of the record (the one set aside, or any other)
#   expire  not picked up by ``pickup_until``, or queued longer than ``queue_days``
#   cancel  by the reader, the librarian, or the daily job (the reader left the school)
HOLD_TRANSITIONS: dict[tuple[str, str], str] = {
    (NEW, "place"): QUEUED,
    (QUEUED, "trap"): WAITING,
    (QUEUED, "fulfil"): FULFILLED,
    (WAITING, "fulfil"): FULFILLED,
    (QUEUED, "expire"): EXPIRED,
    (WAITING, "expire"): EXPIRED,
    (QUEUED, "cancel"): CANCELLED,
    (WAITING, "cancel"): CANCELLED,
}
HOLD_EVENTS = ("place", "trap", "fulfil", "expire", "cancel")
HOLD_STATES = (NEW, QUEUED, WAITING, FULFILLED, EXPIRED, CANCELLED)

# The inter-school request adds one state (docs/HOLDS.md «Pickup school and inter-school
# requests»); a single school never reaches it, so its table above is unchanged.
#   send    the owning school's desk sends a copy of its shelf to the pickup school
#   arrive  the pickup school's desk receives it: it waits on that school's hold shelf
REQUEST_TRANSITIONS: dict[tuple[str, str], str] = {
    (QUEUED, "send"): TRANSIT,
    (TRANSIT, "arrive"): WAITING,
    (TRANSIT, "fulfil"): FULFILLED,
    (TRANSIT, "expire"): EXPIRED,
    (TRANSIT, "cancel"): CANCELLED,
}
REQUEST_EVENTS = ("send", "arrive")
ALL_STATES = (*HOLD_STATES, TRANSIT)
ALL_EVENTS = (*HOLD_EVENTS, *REQUEST_EVENTS)

# Copy statuses a hold may wait for: the copy exists and will (or may) be lendable again.
HOLDABLE_STATUSES = frozenset({"available", "on_loan", "reserved", "in_process", "bindery", "ordered"})


def hold_transition(state: str, event: str) -> str:
    """The hold's next state, or a named refusal (HoldClosed: the hold is no longer active)."""
    try:
        return HOLD_TRANSITIONS.get((state, event)) or REQUEST_TRANSITIONS[(state, event)]
    except KeyError:
        if state not in ALL_STATES or event not in ALL_EVENTS:
            raise ValueError(f"unknown hold state or event: {state!r}, {event!r}") from None
        raise E.HoldClosed() from None


class HoldsSettingsLike(Protocol):
    """What `HoldRules.from_settings` reads of config.settings.HoldsSettings."""

    @property
    def enabled(self) -> bool: ...
    @property
    def pickup_days(self) -> int: ...
    @property
    def on_shelf(self) -> bool: ...
    @property
    def queue_days(self) -> int: ...
    @property
    def shelf_note(self) -> str: ...


@dataclass(frozen=True)
class HoldRules:
    """The ``[holds]`` settings (per-category limits: CategoryRules.max_holds in rules.py)."""

    enabled: bool = True
    pickup_days: int = 5     # open days a set-aside copy waits after the trap day
    on_shelf: bool = False   # a hold on a record with a copy on the shelf is allowed
    queue_days: int = 0      # a queued hold expires after N days (0: never)
    shelf_note: str = ""     # where the hold shelf is ("" = the front end's default words)

    @classmethod
    def from_settings(cls, s: HoldsSettingsLike | None) -> HoldRules:
        """From the typed settings section (None: the defaults)."""
        if s is None:
            return cls()
        return cls(bool(s.enabled), int(s.pickup_days), bool(s.on_shelf), int(s.queue_days),
                   str(s.shelf_note or ""))


@dataclass(frozen=True)
class PlaceFacts:
    """What the place rule needs to know: the reader, their holds, the record's copies."""

    category: str
    blocked: bool
    active_holds: int        # the reader's queued + waiting holds (any record)
    already_queued: bool     # an active hold on this record
    has_copy: bool           # the reader has a copy of this record on loan now
    item_type: str           # the record's item type (the loan rule decides if it is lendable)
    holdable_copies: int     # copies in HOLDABLE_STATUSES
    on_shelf_copies: int     # copies ``available`` right now
    class_name: str | None = None  # the reader's class (the age rule reads the age from it)
    age_min: int | None = None     # the record's age rating


def check_place(policy: Policy, rules: HoldRules, facts: PlaceFacts) -> None:
    """May this reader place a hold on this record? Returns quietly or raises a named refusal,
    in this order: HoldsOff, ReaderBlocked, HoldLimitReached, AlreadyQueued, AlreadyHaveIt,
    AgeRestricted (the checkout's age rule: a queue for a book the reader may not borrow would
    end in a refusal at the shelf), NoLoanableCopy, HoldOnShelf (unless ``on_shelf``)."""
    if not rules.enabled:
        raise E.HoldsOff()
    if facts.blocked:
        raise E.ReaderBlocked()
    cat = policy.category(facts.category)
    if facts.active_holds >= cat.max_holds:
        raise E.HoldLimitReached(count=facts.active_holds)
    if facts.already_queued:
        raise E.AlreadyQueued()
    if facts.has_copy:
        raise E.AlreadyHaveIt()
    check_age_rating(cat, facts.class_name, facts.age_min)
    if facts.holdable_copies <= 0 or not cat.rule(facts.item_type).lendable:
        raise E.NoLoanableCopy()
    if shelf_answers(rules, facts.on_shelf_copies):
        raise E.HoldOnShelf()


def shelf_answers(rules: HoldRules, on_shelf_copies: int) -> bool:
    """True when a copy on the shelf answers the reader instead of a hold (HoldOnShelf, unless
    ``[holds] on_shelf``): the OPAC's record page then says «take it» instead of offering a
    hold the rule would refuse."""
    return on_shelf_copies > 0 and not rules.on_shelf


def check_renewal(queued_for_others: int, available_copies: int, waiver: Waiver | None = None) -> None:
    """A loan is not renewed while other readers queue for its record and no copy of it is on
    the shelf for them (RenewalHeld; a librarian may waive it: overrides.RENEW_OVERRIDABLE)."""
    if queued_for_others > 0 and available_copies <= 0:
        refuse(E.RenewalHeld(), waiver)


def pickup_until(calendar: Calendar, trapped_on: dt.date, days: int) -> dt.date:
    """The last day a set-aside copy waits: the `days`-th OPEN day after the trap day (closed
    weekdays and holidays are skipped; the trap day itself does not count). ``days`` < 1 is
    taken as 1: the reader always gets at least one open day."""
    day, left = trapped_on, max(1, days)
    for _ in range(800):
        day += dt.timedelta(days=1)
        if calendar.is_open(day):
            left -= 1
            if left == 0:
                return day
    return day


def waiting_expired(pickup: dt.date | None, today: dt.date) -> bool:
    """A waiting hold expires the day after its ``pickup_until``."""
    return pickup is not None and today > pickup


def queued_expired(placed_on: dt.date, today: dt.date, queue_days: int) -> bool:
    """A queued hold expires once it has queued more than ``queue_days`` days (0: never)."""
    return queue_days > 0 and (today - placed_on).days > queue_days


def short_name(first_name: str | None, last_name: str | None, class_name: str | None) -> str:
    """«Анна К., 5А»: what the kiosk and the hold slip say about the reader a copy is for."""
    name = " ".join(p for p in ((first_name or "").strip(),
                                ((last_name or "").strip()[:1] + ".") if (last_name or "").strip()
                                else "") if p)
    return f"{name}, {class_name}" if class_name else name


def wait_days(placed_on: dt.date, on: dt.date) -> int:
    """Days from placing a hold to `on` (never negative)."""
    return max(0, (on - placed_on).days)


# --- schools: which copy may fill which hold (docs/HOLDS.md «Pickup school …») -------------------
# Schools are named here by the sigla `library.schools.home_of` resolves (a copy's or reader's
# school; a hold's pickup school, NULL read as the default school). With one school every copy
# and every hold resolve to it, so each rule below answers exactly as before schools.


def fills(copy_school: str, pickup_school: str) -> bool:
    """A copy returned at (or received home by) its own school fills only a hold picked up at
    that school: a copy of school A never waits on school B's hold shelf without travelling
    there for B's request (`send`)."""
    return copy_school == pickup_school


def is_request(pickup_on_shelf: int, elsewhere_holdable: int) -> bool:
    """A hold asks other schools for a copy when its pickup school has none on its shelf and
    another school has one a hold could wait for (a request the owning school's desk sees)."""
    return pickup_on_shelf <= 0 and elsewhere_holdable > 0


def may_send(copy_school: str, copy_status: str, pickup_school: str, hold_state: str) -> bool:
    """The owning school may send a copy for a request: its copy, on its shelf, for a queued
    hold of another school."""
    return copy_status == "available" and hold_state == QUEUED and copy_school != pickup_school


def lend_across(terminal_school: str, copy_school: str, pickup_school: str | None,
                hold_reader: int | None, reader: int) -> bool:
    """The one exception to «a terminal lends only its school's copies» (library.schools,
    ``other_school``): a copy of another school WAITING for a hold picked up at this terminal's
    school is lendable here to that hold's reader (True). Another reader of this school is
    refused ReservedForAnother; a copy not waiting here stays ``other_school`` (False)."""
    if pickup_school is None or copy_school == terminal_school or pickup_school != terminal_school:
        return False
    if hold_reader != reader:
        raise E.ReservedForAnother()
    return True


def destination(copy_school: str, here: str | None) -> str | None:
    """Where a copy goes after a return at school `here` (None: the desk or the CLI, which
    name no school): home when it came back at another school, else it stays (None)."""
    return copy_school if here is not None and here != copy_school else None
