"""The librarian's override (library/circulation/overrides.py) in the rules and the service, on
SQLite and PostgreSQL: only the waivable rules are skipped, the copy's own state never; one
Event ``override`` with the exact payload, exactly once; the reason checked."""

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from library.circulation import errors as E
from library.circulation.overrides import (
    CHECKOUT_OVERRIDABLE,
    MAX_REASON,
    Override,
    OverrideReasonInvalid,
    Waiver,
    overridable,
)
from library.circulation.rules import ItemFacts, ReaderFacts, checkout_due, renew_due
from library.storage import Event, Loan

TODAY = dt.date(2026, 10, 5)
BY = Override("Разрешение заведующей", "marina")


def overrides(db) -> list[dict]:
    with db.session() as s:
        return [e.payload for e in s.scalars(select(Event).where(Event.kind == "override").order_by(Event.id))]


def loans(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Loan)) or 0


def test_the_reason_is_required_short_and_without_controls():
    assert Override.make("  Учебник\x07 по\n программе ", " marina ") == Override("Учебник по программе", "marina")
    for empty in (None, "", "   ", "\x00\x1b"):
        with pytest.raises(OverrideReasonInvalid) as err:
            Override.make(empty, "marina")
        assert err.value.problem == "missing"
    assert Override.make("я" * MAX_REASON, "m").reason == "я" * MAX_REASON
    with pytest.raises(OverrideReasonInvalid) as err:
        Override.make("я" * (MAX_REASON + 1), "m")
    assert err.value.problem == "too_long"


def test_the_rules_skip_only_what_the_waiver_allows(policy):
    blocked_full = ReaderFacts("pupil", "1Б", True, 5, 1, 1)
    book = ItemFacts("available", "book", 12, "Война и мир")
    with pytest.raises(E.ReaderBlocked):
        checkout_due(policy, blocked_full, book, TODAY)
    waiver = Waiver(CHECKOUT_OVERRIDABLE)
    assert checkout_due(policy, blocked_full, book, TODAY, waiver) == dt.date(2026, 10, 19)
    assert waiver.skipped == ["reader_blocked", "has_lost", "has_overdue", "limit_reached",
                              "age_restricted"]
    for status, error in (("on_loan", E.ItemOnLoan), ("lost", E.ItemUnavailable),
                          ("written_off", E.ItemUnavailable), ("not_for_loan", E.ItemNotForLoan)):
        with pytest.raises(error):
            checkout_due(policy, blocked_full, ItemFacts(status, "book", None), TODAY,
                         Waiver(CHECKOUT_OVERRIDABLE))
    with pytest.raises(E.ItemNotForLoan):  # a reference-only item type
        checkout_due(policy, blocked_full, ItemFacts("available", "reference", None), TODAY,
                     Waiver(CHECKOUT_OVERRIDABLE))
    with pytest.raises(E.RenewalLimitReached):  # a checkout waiver does not hold for renewals
        renew_due(policy, ReaderFacts("pupil", "7А", False, 1, 0), ItemFacts("on_loan", "book", None),
                  TODAY, 2, TODAY, Waiver(CHECKOUT_OVERRIDABLE))
    assert overridable("renew", "renewal_limit") and not overridable("checkout", "renewal_limit")
    assert not overridable("checkin", "not_on_loan") and not overridable("checkout", "item_on_loan")


def test_checkout_override_records_one_event_exactly_once(service, lib):
    with pytest.raises(E.ReaderBlocked):
        service.checkout("CBLK", "2001", "plain")
    recorded = []
    out = service.checkout("CBLK", "2001", "ov1", terminal="desk:marina", override=BY,
                           record=lambda s, o: recorded.append(o.title))
    assert out.title == "Денискины рассказы" and recorded == ["Денискины рассказы"]
    again = service.checkout("CBLK", "2001", "ov1", terminal="desk:marina", override=BY,
                             record=lambda s, o: recorded.append("twice"))
    assert again.replayed and recorded == ["Денискины рассказы"]
    assert overrides(lib) == [{"action": "checkout", "refusal": "reader_blocked",
                               "reason": "Разрешение заведующей", "by": "marina"}]
    assert loans(lib) == 1
    with pytest.raises(E.TransactionMismatch):  # the same id with another reason
        service.checkout("CBLK", "2001", "ov1", override=Override("другая", "marina"))


def test_an_override_that_waives_nothing_records_nothing(service, lib):
    service.checkout("C5A", "2001", "ok", override=BY)
    assert overrides(lib) == [] and loans(lib) == 1


def test_physical_refusals_stand_under_an_override(service, lib):
    service.checkout("CT", "2001", "t1")
    with pytest.raises(E.ItemOnLoan):
        service.checkout("C5A", "2001", "t2", override=BY)
    with pytest.raises(E.ItemUnavailable):
        service.checkout("C5A", "5001", "t3", override=BY)
    with pytest.raises(E.ItemNotFound):
        service.checkout("C5A", "NOPE", "t4", override=BY)
    with pytest.raises(E.NotYourLoan):
        service.renew("C5A", "2001", "t5", override=BY)
    assert overrides(lib) == [] and loans(lib) == 1


def test_renewal_override(service, lib):
    service.checkout("C5A", "2001", "t1")
    with lib.transaction() as s:
        s.execute(update(Loan).values(renewals=2))
    with pytest.raises(E.RenewalLimitReached):
        service.renew("C5A", "2001", "r1")
    out = service.renew("C5A", "2001", "r2", override=Override("Нужна для урока", "boss"))
    assert out.renewals == 3 and out.due_date == dt.date(2026, 11, 2)
    assert overrides(lib) == [{"action": "renew", "refusal": "renewal_limit",
                               "reason": "Нужна для урока", "by": "boss"}]
