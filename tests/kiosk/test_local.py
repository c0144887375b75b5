"""The kiosk ports over the real library core (demo library on an SQLite file)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from kiosk.local import LocalCatalogue, LocalVisits
from kiosk.presenters.checkin import ReturnPresenter
from kiosk.presenters.checkout import CheckoutPresenter
from kiosk.presenters.loans import LoansPresenter
from kiosk.services import CatalogueService, NoPrinter
from library.circulation.ports import CirculationPort
from library.errors import NotFound
from library.storage.models import Copy, Event, Reader, Record


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from ibc.wiring import search_indexer
    from library.demo.loader import load_demo
    from library.storage.database import open_database

    db = open_database(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'ibc.sqlite3'}")
    load_demo(db, on_batch=search_indexer())
    yield db
    db.dispose()


@pytest.fixture
def circulation(demo_db):
    from config.settings import load_settings
    from library.circulation.service import CirculationService

    return CirculationService.from_settings(demo_db, load_settings(environ={}).circulation,
                                            today=dt.date.today)


def test_local_catalogue(demo_db):
    cat = LocalCatalogue(demo_db)
    assert isinstance(cat, CatalogueService)
    page = cat.search("сказки")
    assert page.total > 0 and page.hits[0].title
    assert any(f.field == "available" for f in page.facets)
    only = cat.search("сказки", facets={"available": "yes"})
    assert all(h.available for h in only.hits)
    record = cat.record(page.hits[0].id)
    assert record.title == page.hits[0].title and record.copies
    assert len(cat.new_arrivals(4)) == 4
    with pytest.raises(NotFound):
        cat.record(10**9)


def test_local_circulation_through_the_flows(demo_db, circulation):
    assert isinstance(circulation, CirculationPort)
    with demo_db.session() as s:
        # a teenager, and an available 0+ book, so no age rule gets in the way
        card = s.scalar(select(Reader.card_number).where(Reader.class_name.like("9%")))
        barcode = s.scalar(select(Copy.barcode).join(Record).where(
            Copy.status == "available", Record.age_rating == "0+", Record.item_type == "book"))
        visits_before = s.scalar(select(func.count()).select_from(Event).where(Event.kind == "visit"))
    visits = LocalVisits(demo_db, "ИБЦ", "kiosk-test")
    p = CheckoutPresenter(circulation, NoPrinter(), terminal="kiosk-test", on_reader=visits.record)
    assert p.scan(card).ok and p.state == "books"
    flash = p.scan(barcode)
    assert flash.ok, flash.text
    assert not p.scan("0000000000000").ok
    p.finish()
    assert p.state == "done" and p.receipt is not None and not p.can_print  # no printer here
    assert p.summary.endswith("Запомни даты возврата.")
    with demo_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Event)
                        .where(Event.kind == "visit")) == visits_before + 1
    loans = LoansPresenter(circulation)
    loans.scan(card)
    row = next(r for r in loans.rows if barcode in [ln.barcode for ln in loans.loans])
    renewed = loans.renew(row.loan_id)
    assert renewed.text
    back = ReturnPresenter(circulation, returns="shelf")  # the demo's places say where
    assert back.scan(barcode).ok and "Поставь её на место: " in back.flash.text
    assert "(" not in back.flash.text.split("на место: ")[1]  # a place, not a ББК code
    again = ReturnPresenter(circulation)
    assert not again.scan(barcode).ok


def test_the_readme_example_checkout_works_on_the_demo(demo_db, circulation):
    """The README's example card and copy give a successful checkout; its age example is
    refused for that reason; its teacher card opens the media library."""
    import re
    from pathlib import Path

    from library.access import runs_station

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    card = re.search(r"reader card \(e\.g\. `(\d+)`", readme).group(1)
    copy = re.search(r"copy barcode \(e\.g\. `(\d+)`", readme).group(1)
    aged = re.search(r"The copy `(\d+)`[^.]*age-rating refusal", readme, re.S).group(1)
    teacher = re.search(r"teacher's card `(\d+)`", readme).group(1)
    p = CheckoutPresenter(circulation, NoPrinter())
    p.scan(card)
    assert p.state == "books" and p.reader.restriction is None
    refused = p.scan(aged)
    assert refused.ok is False and "для читателей постарше" in refused.text
    lent = p.scan(copy)
    assert lent.ok, lent.text
    ReturnPresenter(circulation).scan(copy)  # leave the module's demo as it was
    assert runs_station(circulation.find_reader(teacher).category)
