"""Loan rules as pure functions over plain values, plus the declarative loan-state table.

Nothing here touches the database: the service gathers the facts (reader, copy, the reader's
open loans, today) and asks these functions, which return a due date or raise a named error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from library.circulation import errors as E
from library.circulation.overrides import Waiver, refuse

# Declarative state table: (copy status, action) -> new copy status. A pair not listed is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("available", "checkout"): "on_loan",
    ("reserved", "checkout"): "on_loan",
    ("on_loan", "renew"): "on_loan",
    ("on_loan", "checkin"): "available",
    ("lost", "checkin"): "available",
    ("in_process", "checkin"): "in_process",
    ("not_for_loan", "checkin"): "not_for_loan",
    ("available", "checkin"): "available",
}
NOT_FOR_LOAN_STATUSES = {"not_for_loan"}


def transition(status: str, action: str) -> str:
    """The copy's next status, or a named refusal."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        if action == "checkout":
            if status == "on_loan":
                raise E.ItemOnLoan() from None
            if status in NOT_FOR_LOAN_STATUSES:
                raise E.ItemNotForLoan() from None
            raise E.ItemUnavailable(status=status) from None
        if action == "renew":
            raise E.NotOnLoan() from None
        raise E.ItemUnavailable(status=status) from None


@dataclass(frozen=True)
class LoanRule:
    """Loan terms for one (category, item type)."""

    loan_days: int = 14
    renewals: int = 2
    renew_days: int = 14
    school_year: bool = False

    @property
    def lendable(self) -> bool:
        """False for reference-only items."""
        return self.loan_days > 0


@dataclass(frozen=True)
class CategoryRules:
    """What one reader category may borrow."""

    max_items: int = 5
    check_age: bool = True
    rules: dict[str, LoanRule] = field(default_factory=dict)
    max_holds: int = 3  # active holds at once (library/circulation/holds.py); 0: none

    def rule(self, item_type: str) -> LoanRule:
        """The rule for an item type; unknown types lend like books."""
        return self.rules.get(item_type) or self.rules.get("book") or LoanRule()


@dataclass(frozen=True)
class Calendar:
    """Open and closed days: weekly closed weekdays and holiday dates."""

    closed_weekdays: frozenset[int] = frozenset({7})
    holidays: frozenset[dt.date] = frozenset()

    def is_open(self, day: dt.date) -> bool:
        """True when the library is open on `day`."""
        return day.isoweekday() not in self.closed_weekdays and day not in self.holidays

    def next_open(self, day: dt.date) -> dt.date:
        """`day` or the first open day after it."""
        for _ in range(400):
            if self.is_open(day):
                return day
            day += dt.timedelta(days=1)
        return day

    @classmethod
    def parse(cls, weekdays: list[int], holidays: list[str]) -> Calendar:
        """From settings: weekdays 1..7 and 'YYYY-MM-DD' or 'A..B' ranges."""
        days: set[dt.date] = set()
        for item in holidays:
            first, _, last = item.partition("..")
            start = dt.date.fromisoformat(first.strip())
            end = dt.date.fromisoformat(last.strip()) if last else start
            while start <= end:
                days.add(start)
                start += dt.timedelta(days=1)
        return cls(frozenset(weekdays), frozenset(days))


class LoanRuleSettingsLike(Protocol):
    """One loan rule as the settings hold it (config.settings.LoanRuleSettings)."""

    def model_dump(self) -> dict[str, Any]: ...


class CategorySettingsLike(Protocol):
    """One reader category as the settings hold it (config.settings.CategorySettings)."""

    @property
    def max_items(self) -> int: ...
    @property
    def check_age(self) -> bool: ...
    @property
    def max_holds(self) -> int: ...
    @property
    def rules(self) -> Mapping[str, LoanRuleSettingsLike]: ...


class CirculationSettingsLike(Protocol):
    """What `Policy.from_settings` reads of config.settings.CirculationSettings (library/ does
    not import config/: the layering table in tests/test_layering.py)."""

    @property
    def pupil(self) -> CategorySettingsLike: ...
    @property
    def teacher(self) -> CategorySettingsLike: ...
    @property
    def staff(self) -> CategorySettingsLike: ...
    @property
    def block_on_overdue(self) -> bool: ...
    @property
    def block_on_lost(self) -> bool: ...
    @property
    def renew_overdue(self) -> bool: ...
    @property
    def closed_weekdays(self) -> list[int]: ...
    @property
    def holidays(self) -> list[str]: ...
    @property
    def school_year_end(self) -> str: ...
    @property
    def require_pin(self) -> bool: ...
    @property
    def anonymise_after_days(self) -> int: ...


@dataclass(frozen=True)
class Policy:
    """All circulation rules of one school."""

    categories: dict[str, CategoryRules]
    calendar: Calendar = Calendar()
    block_on_overdue: bool = True
    block_on_lost: bool = True
    renew_overdue: bool = False
    school_year_end: tuple[int, int] = (5, 31)
    require_pin: bool = False
    anonymise_after_days: int = 30

    def category(self, name: str) -> CategoryRules:
        """Rules of a reader category; unknown categories get the pupil rules."""
        return self.categories.get(name) or self.categories.get("pupil") or CategoryRules()

    def pin_required(self, has_pin: bool) -> bool:
        """The PIN rule: a reader types a PIN when the school requires PINs of everyone
        (``require_pin``) or the reader has set one."""
        return self.require_pin or has_pin

    @classmethod
    def from_settings(cls, circ: CirculationSettingsLike) -> Policy:
        """Build from the typed settings section."""
        cats = {}
        for name, c in (("pupil", circ.pupil), ("teacher", circ.teacher), ("staff", circ.staff)):
            cats[name] = CategoryRules(
                max_items=c.max_items,
                check_age=c.check_age,
                max_holds=c.max_holds,
                rules={k: LoanRule(**v.model_dump()) for k, v in c.rules.items()},
            )
        month, day = (int(x) for x in circ.school_year_end.split("-"))
        return cls(
            categories=cats,
            calendar=Calendar.parse(circ.closed_weekdays, circ.holidays),
            block_on_overdue=circ.block_on_overdue,
            block_on_lost=circ.block_on_lost,
            renew_overdue=circ.renew_overdue,
            school_year_end=(month, day),
            require_pin=circ.require_pin,
            anonymise_after_days=circ.anonymise_after_days,
        )


def school_year_end(today: dt.date, month_day: tuple[int, int]) -> dt.date:
    """The next end of the school year on or after today."""
    month, day = month_day
    end = dt.date(today.year, month, day)
    return end if end >= today else dt.date(today.year + 1, month, day)


def reader_age(class_name: str | None) -> int | None:
    """Approximate age from a Russian school class ("5А" -> 11); None when unknown."""
    if not class_name:
        return None
    digits = "".join(ch for ch in class_name if ch.isdigit())
    if not digits:
        return None
    grade = int(digits)
    return grade + 6 if 1 <= grade <= 11 else None


@dataclass(frozen=True)
class ReaderFacts:
    """What the rules need to know about a reader."""

    category: str
    class_name: str | None
    blocked: bool
    open_loans: int
    overdue_loans: int
    lost_loans: int = 0


@dataclass(frozen=True)
class ItemFacts:
    """What the rules need to know about a copy and its record."""

    status: str
    item_type: str
    age_min: int | None
    title: str = ""


def check_reader(policy: Policy, reader: ReaderFacts, waiver: Waiver | None = None) -> None:
    """Blocks that stop any checkout, raised as named errors (unless `waiver`, a librarian's
    override, waives them: library/circulation/overrides.py)."""
    if reader.blocked:
        refuse(E.ReaderBlocked(), waiver)
    if policy.block_on_lost and reader.lost_loans:
        refuse(E.HasLost(), waiver)
    if policy.block_on_overdue and reader.overdue_loans:
        refuse(E.HasOverdue(count=reader.overdue_loans), waiver)


def check_age_rating(cat: CategoryRules, class_name: str | None, age_min: int | None,
                     waiver: Waiver | None = None) -> None:
    """AgeRestricted when the category checks ages and the reader's age by class is under the
    item's rating (the one age rule: checkouts and holds ask it)."""
    if cat.check_age and age_min:
        age = reader_age(class_name)
        if age is not None and age < age_min:
            refuse(E.AgeRestricted(age=f"{age_min}+"), waiver)


def checkout_due(policy: Policy, reader: ReaderFacts, item: ItemFacts, today: dt.date,
                 waiver: Waiver | None = None) -> dt.date:
    """The due date of a checkout that every rule allows, or a named refusal. With a `waiver`
    the rules it allows are noted in it instead of raised; the copy's own state never is."""
    check_reader(policy, reader, waiver)
    cat = policy.category(reader.category)
    rule = cat.rule(item.item_type)
    if not rule.lendable:
        raise E.ItemNotForLoan()
    transition(item.status, "checkout")
    if reader.open_loans >= cat.max_items:
        refuse(E.LoanLimitReached(count=reader.open_loans), waiver)
    check_age_rating(cat, reader.class_name, item.age_min, waiver)
    if rule.school_year:
        due = school_year_end(today, policy.school_year_end)
    else:
        due = today + dt.timedelta(days=rule.loan_days)
    return policy.calendar.next_open(due)


def renew_due(
    policy: Policy, reader: ReaderFacts, item: ItemFacts, due: dt.date, renewals: int, today: dt.date,
    waiver: Waiver | None = None,
) -> dt.date:
    """The new due date of a renewal, or a named refusal (those a `waiver` allows are noted in
    it instead)."""
    if reader.blocked:
        refuse(E.ReaderBlocked(), waiver)
    transition(item.status, "renew")
    rule = policy.category(reader.category).rule(item.item_type)
    if rule.renewals <= 0 or rule.school_year:
        refuse(E.RenewalNotAllowed(), waiver)
    elif renewals >= rule.renewals:
        refuse(E.RenewalLimitReached(count=renewals), waiver)
    if due < today and not policy.renew_overdue:
        refuse(E.OverdueCannotRenew(), waiver)
    return policy.calendar.next_open(max(today, due) + dt.timedelta(days=rule.renew_days))
