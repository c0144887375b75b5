"""The circulation service on SQLite and PostgreSQL: outcomes, refusals, exactly once."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from library.circulation import errors as E
from library.circulation.service import CirculationService
from library.storage import Copy, Event, Loan, Record, TransactionLog

TODAY = dt.date(2026, 10, 5)  # as in conftest.py


def count(db, model, *where):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_checkout_and_return(service, lib):
    out = service.checkout("C5A", "1001", "t1", terminal="T1")
    assert out.title == "Война и мир" and out.due_date == dt.date(2026, 10, 19)
    assert out.shelf == "84(2Рос=Рус)1"
    with lib.session() as s:
        assert s.scalar(select(Copy.status).where(Copy.barcode == "1001")) == "on_loan"
        assert s.scalar(select(Record.popularity).where(Record.key == "war")) == 1
    loans = service.loans("C5A")
    assert [(v.title, v.overdue) for v in loans] == [("Война и мир", False)]
    back = service.checkin("1001", "t2")
    assert back.action == "checkin"
    assert service.loans("C5A") == []
    with lib.session() as s:
        assert s.scalar(select(Copy.status).where(Copy.barcode == "1001")) == "available"
    assert count(lib, Event, Event.kind == "checkout") == 1
    assert count(lib, Event, Event.kind == "return") == 1


def test_repeated_transaction_returns_first_result(service, lib):
    first = service.checkout("C5A", "1001", "same")
    again = service.checkout("C5A", "1001", "same")
    assert again.loan_id == first.loan_id and again.replayed and not first.replayed
    assert count(lib, Loan) == 1
    with pytest.raises(E.TransactionMismatch):
        service.checkout("C5A", "1002", "same")


def test_refusal_is_replayed_too(service, lib):
    with pytest.raises(E.AgeRestricted):
        service.checkout("C1B", "1001", "age1")
    with pytest.raises(E.AgeRestricted):
        service.checkout("C1B", "1001", "age1")
    assert count(lib, Loan) == 0
    assert count(lib, TransactionLog) == 1
    assert count(lib, Event, Event.kind == "checkout_refused") == 1


@pytest.mark.parametrize(
    ("card", "barcode", "error"),
    [
        ("NOPE", "1001", E.ReaderNotFound),
        ("C5A", "9999", E.ItemNotFound),
        ("CBLK", "1001", E.ReaderBlocked),
        ("C5A", "4001", E.ItemNotForLoan),
        ("C5A", "5002", E.ItemNotForLoan),
        ("C5A", "5001", E.ItemUnavailable),
    ],
)
def test_refusals(service, card, barcode, error):
    with pytest.raises(error):
        service.checkout(card, barcode, f"x-{card}-{barcode}")


def test_second_reader_cannot_take_a_lent_copy(service):
    service.checkout("C5A", "1001", "a")
    with pytest.raises(E.ItemAlreadyYours):
        service.checkout("C5A", "1001", "b")
    with pytest.raises(E.ItemOnLoan):
        service.checkout("CT", "1001", "c")


def test_limit_and_overdue_block(lib, policy):
    svc = CirculationService(lib, policy, today=lambda: TODAY)
    for i, bc in enumerate(["1001", "1002", "2001", "2002", "5003"]):
        svc.checkout("C5A", bc, f"l{i}")
    with pytest.raises(E.LoanLimitReached):
        svc.checkout("C5A", "3001", "l9")
    later = CirculationService(lib, policy, today=lambda: TODAY + dt.timedelta(days=30))
    assert all(v.overdue for v in later.loans("C5A"))
    later.checkin("1001", "r1")
    with pytest.raises(E.HasOverdue):
        later.checkout("C5A", "1001", "l10")


def test_renew(service, lib):
    service.checkout("C5A", "1001", "a")
    out = service.renew("C5A", "1001", "r1")
    assert out.due_date == dt.date(2026, 11, 2) and out.renewals == 1
    assert service.renew("C5A", "1001", "r1").replayed
    service.renew("C5A", "1001", "r2")
    with pytest.raises(E.RenewalLimitReached):
        service.renew("C5A", "1001", "r3")
    with pytest.raises(E.NotYourLoan):
        service.renew("CT", "1001", "r4")
    with pytest.raises(E.NotOnLoan):
        service.renew("C5A", "1002", "r5")


def test_checkin_not_on_loan(service):
    with pytest.raises(E.NotOnLoan):
        service.checkin("1002", "n1")


def test_lost_copy_found_on_return(service, lib):
    out = service.checkin("5001", "found")
    assert out.loan_id == 0
    with lib.session() as s:
        assert s.scalar(select(Copy.status).where(Copy.barcode == "5001")) == "available"


def test_anonymise_keeps_statistics(service, lib):
    service.checkout("C5A", "1001", "a")
    service.checkin("1001", "b")
    now = dt.datetime.now(dt.timezone.utc)
    assert service.anonymise_returned(now) == 0
    assert service.anonymise_returned(now + dt.timedelta(days=31)) == 1
    with lib.session() as s:
        loan = s.scalar(select(Loan))
        assert loan.reader_id is None and loan.anonymised and loan.reader_class == "7А"


def test_reader_sees_only_own_loans(service):
    service.checkout("C5A", "1001", "a")
    service.checkout("CT", "2001", "b")
    assert [v.barcode for v in service.loans("C5A")] == ["1001"]
    assert [v.barcode for v in service.loans("CT")] == ["2001"]


def test_pin_required_follows_the_policy_rule(service, lib):
    """The service asks Policy.pin_required with whether the reader has a PIN."""
    import dataclasses

    from library.circulation.pins import hash_pin
    from library.storage import Reader

    with lib.transaction() as s:
        s.scalar(select(Reader).where(Reader.card_number == "CT")).pin_hash = hash_pin("1234")
    pupil, teacher = service.find_reader("C5A"), service.find_reader("CT")
    assert (service.pin_required(pupil), service.pin_required(teacher)) == (False, True)
    strict = CirculationService(lib, dataclasses.replace(service.policy, require_pin=True))
    assert strict.pin_required(pupil) and strict.pin_required(teacher)
    assert not strict.check_pin("C5A", "")  # required but never set: no PIN is right
