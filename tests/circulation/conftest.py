"""A small library for circulation tests: records of each type, copies, readers."""

from __future__ import annotations

import datetime as dt

import pytest

from config.settings import load_settings
from library.circulation.rules import Policy
from library.circulation.service import CirculationService
from library.storage import Copy, Reader, Record

TODAY = dt.date(2026, 10, 5)  # a Monday


def populate(db) -> None:
    """Five records, eight copies, four readers."""
    with db.transaction() as s:
        def rec(key, title, item_type="book", age_min=None, copies=()):
            r = Record(key=key, title=title, authors=["Толстой, Лев Николаевич"],
                       item_type=item_type, age_min=age_min, age_rating=f"{age_min}+" if age_min else None)
            for bc, status in copies:
                r.copies.append(Copy(sigla="ИБЦ", barcode=bc, inventory_number="i" + bc,
                                     status=status, shelf_mark="84(2Рос=Рус)1"))
            s.add(r)
        rec("war", "Война и мир", age_min=12, copies=[("1001", "available"), ("1002", "available")])
        rec("kid", "Денискины рассказы", age_min=6, copies=[("2001", "available"), ("2002", "available")])
        rec("alg", "Алгебра. 7 класс", item_type="textbook", copies=[("3001", "available")])
        rec("dict", "Толковый словарь", item_type="reference", copies=[("4001", "available")])
        rec("misc", "Разное", copies=[("5001", "lost"), ("5002", "not_for_loan"), ("5003", "available")])
        s.add_all([
            Reader(card_number="C5A", first_name="Аня", last_name="Петрова", class_name="7А", category="pupil"),
            Reader(card_number="C1B", first_name="Ваня", last_name="Сидоров", class_name="1Б", category="pupil"),
            Reader(card_number="CT", first_name="Мария", last_name="Иванова", category="teacher"),
            Reader(card_number="CBLK", first_name="Петя", last_name="Орлов", class_name="7А",
                   category="pupil", blocked=True),
        ])


@pytest.fixture
def policy() -> Policy:
    settings = load_settings(environ={})
    return Policy.from_settings(settings.circulation)


@pytest.fixture
def lib(db):
    populate(db)
    return db


@pytest.fixture
def service(lib, policy):
    return CirculationService(lib, policy, sigla="ИБЦ", today=lambda: TODAY)
