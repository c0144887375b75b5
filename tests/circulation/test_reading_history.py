"""The reading history a reader may turn on (library/circulation/history.py, readers.keep_history;
docs/OPAC.md «My account»): off by default, kept through the anonymise step when on, every
returned loan unlinked at once when turned off, and erased with an anonymised leaver."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from library.circulation import history
from library.storage.models import Loan, Reader

LATER = dt.timedelta(days=400)


def _reader_id(lib, card: str) -> int:
    with lib.session() as s:
        return s.scalar(select(Reader.id).where(Reader.card_number == card))


def _read(service, card: str, barcode: str, txn: str) -> None:
    service.checkout(card, barcode, txn + "-out")
    service.checkin(barcode, txn + "-in")


def test_off_by_default_nothing_listed_and_anonymise_unlinks(service, lib):
    aya = _reader_id(lib, "C5A")
    _read(service, "C5A", "1001", "a")
    assert history.keeps_history(lib, aya) is False
    assert history.reading_history(lib, aya) is None  # off: not even the fresh link is read
    now = dt.datetime.now(dt.timezone.utc)
    assert service.anonymise_returned(now + LATER) == 1


def test_on_keeps_the_links_through_anonymise_and_lists_newest_first(service, lib):
    aya, vanya = _reader_id(lib, "C5A"), _reader_id(lib, "C1B")
    assert history.set_keep_history(lib, aya, True) == 0
    _read(service, "C5A", "1001", "a")
    _read(service, "C5A", "2001", "b")
    _read(service, "C1B", "2002", "c")
    service.checkout("C5A", "1002", "open")  # an open loan is no history
    with lib.transaction() as s:  # the first one returned a day earlier
        s.execute(update(Loan).where(Loan.checkout_txn == "a-out")
                  .values(returned_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)))
    now = dt.datetime.now(dt.timezone.utc)
    assert service.anonymise_returned(now + LATER) == 1  # Ваня's only
    books = history.reading_history(lib, aya)
    assert [b.title for b in books] == ["Денискины рассказы", "Война и мир"]
    assert books[0].authors == "Толстой" and isinstance(books[0].returned, dt.date)
    assert history.reading_history(lib, vanya) is None


def test_turning_it_off_unlinks_every_returned_loan_at_once(service, lib):
    aya = _reader_id(lib, "C5A")
    history.set_keep_history(lib, aya, True)
    _read(service, "C5A", "1001", "a")
    _read(service, "C5A", "2001", "b")
    service.checkout("C5A", "1002", "open")
    _read(service, "CT", "2002", "t")  # another reader's recent return stays linked
    assert history.set_keep_history(lib, aya, False) == 2
    with lib.session() as s:
        rows = s.execute(select(Loan.checkout_txn, Loan.reader_id, Loan.anonymised, Loan.reader_class)
                         .order_by(Loan.id)).all()
    by_txn = {r.checkout_txn: r for r in rows}
    assert by_txn["a-out"].reader_id is None and by_txn["a-out"].anonymised
    assert by_txn["a-out"].reader_class == "7А"  # the statistics keep the class
    assert by_txn["b-out"].reader_id is None
    assert by_txn["open"].reader_id == aya  # the open loan stays the reader's
    assert by_txn["t-out"].reader_id == _reader_id(lib, "CT")
    assert history.keeps_history(lib, aya) is False
    assert history.set_keep_history(lib, aya, False) == 0


def test_an_anonymised_leaver_loses_the_history_and_the_choice(service, lib):
    from library.circulation.school_year import anonymise_archived

    aya = _reader_id(lib, "C5A")
    history.set_keep_history(lib, aya, True)
    _read(service, "C5A", "1001", "a")
    long_ago = dt.datetime.now(dt.timezone.utc) - LATER
    with lib.transaction() as s:
        s.execute(update(Reader).where(Reader.id == aya).values(active=False, archived_at=long_ago))
    assert anonymise_archived(lib, 30) == 1
    with lib.session() as s:
        assert s.scalar(select(Loan.reader_id)) is None
        assert s.scalar(select(Reader.keep_history).where(Reader.id == aya)) is False
