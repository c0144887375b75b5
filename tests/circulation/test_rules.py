"""Pure rule functions: every refusal and every due-date rule."""

import datetime as dt

import pytest

from library.circulation import errors as E
from library.circulation.rules import (
    Calendar,
    ItemFacts,
    ReaderFacts,
    checkout_due,
    reader_age,
    renew_due,
    school_year_end,
    transition,
)

MON = dt.date(2026, 10, 5)


def pupil(**kw):
    base = dict(category="pupil", class_name="5А", blocked=False, open_loans=0, overdue_loans=0)
    base.update(kw)
    return ReaderFacts(**base)


def book(**kw):
    base = dict(status="available", item_type="book", age_min=None)
    base.update(kw)
    return ItemFacts(**base)


def test_book_due_in_14_days_moved_off_sunday(policy):
    # 14 days from Monday is a Monday: open.
    assert checkout_due(policy, pupil(), book(), MON) == dt.date(2026, 10, 19)
    # From a Sunday-landing start: 2026-10-04 is Sunday; 2026-09-20 + 14 = 2026-10-04 -> Monday 5th
    assert checkout_due(policy, pupil(), book(), dt.date(2026, 9, 20)) == dt.date(2026, 10, 5)


def test_holidays_push_due_date():
    cal = Calendar.parse([7], ["2026-12-31..2027-01-11"])
    assert cal.next_open(dt.date(2026, 12, 30)) == dt.date(2026, 12, 30)
    assert cal.next_open(dt.date(2026, 12, 31)) == dt.date(2027, 1, 12)


def test_teacher_gets_30_days(policy):
    r = ReaderFacts("teacher", None, False, 0, 0)
    assert checkout_due(policy, r, book(), MON) == dt.date(2026, 11, 4)


def test_textbook_due_end_of_school_year(policy):
    assert checkout_due(policy, pupil(), book(item_type="textbook"), MON) == dt.date(2027, 5, 31)
    assert school_year_end(dt.date(2027, 6, 2), (5, 31)) == dt.date(2028, 5, 31)


@pytest.mark.parametrize(
    ("reader", "item", "error"),
    [
        (pupil(blocked=True), book(), E.ReaderBlocked),
        (pupil(overdue_loans=1), book(), E.HasOverdue),
        (pupil(lost_loans=1), book(), E.HasLost),
        (pupil(open_loans=5), book(), E.LoanLimitReached),
        (pupil(), book(item_type="reference"), E.ItemNotForLoan),
        (pupil(), book(status="not_for_loan"), E.ItemNotForLoan),
        (pupil(), book(status="on_loan"), E.ItemOnLoan),
        (pupil(), book(status="lost"), E.ItemUnavailable),
        (pupil(), book(status="written_off"), E.ItemUnavailable),
        (pupil(class_name="1Б"), book(age_min=12), E.AgeRestricted),
    ],
)
def test_checkout_refusals(policy, reader, item, error):
    with pytest.raises(error):
        checkout_due(policy, reader, item, MON)


def test_age_ok_for_older_and_teachers(policy):
    assert checkout_due(policy, pupil(class_name="7А"), book(age_min=12), MON)
    assert checkout_due(policy, ReaderFacts("teacher", None, False, 0, 0), book(age_min=16), MON)


def test_reader_age():
    assert reader_age("5А") == 11
    assert reader_age("11Б") == 17
    assert reader_age(None) is None
    assert reader_age("учитель") is None


def test_renewals(policy):
    due = dt.date(2026, 10, 19)
    new = renew_due(policy, pupil(), book(status="on_loan"), due, 0, MON)
    assert new == dt.date(2026, 11, 2)
    with pytest.raises(E.RenewalLimitReached):
        renew_due(policy, pupil(), book(status="on_loan"), due, 2, MON)
    with pytest.raises(E.OverdueCannotRenew):
        renew_due(policy, pupil(), book(status="on_loan"), dt.date(2026, 10, 1), 0, MON)
    with pytest.raises(E.RenewalNotAllowed):
        renew_due(policy, pupil(), book(status="on_loan", item_type="textbook"), due, 0, MON)
    with pytest.raises(E.NotOnLoan):
        renew_due(policy, pupil(), book(status="available"), due, 0, MON)


def test_state_table():
    assert transition("available", "checkout") == "on_loan"
    assert transition("on_loan", "checkin") == "available"
    assert transition("lost", "checkin") == "available"
    with pytest.raises(E.ItemOnLoan):
        transition("on_loan", "checkout")


def test_error_messages_and_round_trip():
    err = E.LoanLimitReached(count=5)
    assert "5" in str(err)
    again = E.error_from_dict(err.to_dict())
    assert type(again) is E.LoanLimitReached and again.params == {"count": "5"}


@pytest.mark.parametrize(("require_pin", "has_pin", "asked"), [
    (False, False, False), (False, True, True), (True, False, True), (True, True, True)])
def test_pin_rule(require_pin, has_pin, asked):
    """A PIN is asked when the school requires PINs of everyone or the reader has set one."""
    from library.circulation.rules import Policy

    assert Policy(categories={}, require_pin=require_pin).pin_required(has_pin) is asked
