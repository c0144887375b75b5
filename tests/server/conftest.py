"""Fixtures for the school server: a small library, an app with enrolled terminals, a live server."""

from __future__ import annotations

import datetime as dt

import pytest

from library.storage.models import Copy, MediaItem, Reader, Record

TODAY = dt.date(2026, 10, 5)  # a Monday


def populate(db) -> None:  # noqa: ANN001
    """Three records, six copies, four readers, three media items."""
    from library.circulation.pins import hash_pin

    with db.transaction() as s:
        def rec(key, title, copies, age_min=None):  # noqa: ANN001, ANN202
            r = Record(key=key, title=title, authors=["Толстой, Лев Николаевич"], age_min=age_min,
                       version=1)
            for bc in copies:
                r.copies.append(Copy(sigla="ИБЦ", barcode=bc, status="available",
                                     shelf_mark="84(2Рос=Рус)1", version=1))
            s.add(r)
        rec("war", "Война и мир", ["1001", "1002"], age_min=12)
        rec("kid", "Денискины рассказы", ["2001", "2002"])
        rec("anna", "Анна Каренина", ["3001", "3002"])
        s.add_all([
            Reader(card_number="C5A", first_name="Аня", last_name="Петрова", class_name="7А"),
            Reader(card_number="C1B", first_name="Ваня", last_name="Сидоров", class_name="1Б"),
            Reader(card_number="CT", first_name="Мария", last_name="Иванова", category="teacher"),
            Reader(card_number="CPIN", first_name="Оля", last_name="Орлова", class_name="9В",
                   pin_hash=hash_pin("4321")),
            Reader(card_number="CBLK", first_name="Петя", last_name="Орлов", class_name="7А",
                   blocked=True),
        ])
        s.add_all([
            MediaItem(path="/m/a.mp4", title="Фотосинтез", kind="video", access="everyone"),
            MediaItem(path="/m/b.mp4", title="Контрольная: ответы", kind="video", access="teachers"),
            MediaItem(path="/m/c.mp3", title="Гимн", kind="audio", access="strange-level"),
        ])
        s.flush()
        s.execute(Record.__table__.update().values(version=1))
    from library.search import reindex_all

    with db.transaction() as s:
        reindex_all(s)


@pytest.fixture
def settings():
    """Default settings with a short idle time and a low guess limit."""
    from config.settings import load_settings

    st = load_settings(environ={})
    st.server.session_idle_s = 60
    st.server.pin_failures_per_minute = 5
    return st


@pytest.fixture
def api(db, settings):
    """(TestClient, db) for an app on a populated database."""
    from fastapi.testclient import TestClient

    from server.app import create_app

    populate(db)
    app = create_app(settings, db, today=lambda: TODAY)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, db


@pytest.fixture
def enrol(api):
    """enrol(name) -> the new terminal's auth header."""
    from server.security import create_enrol_code

    client, db = api

    def _enrol(name: str) -> dict:
        code = create_enrol_code(db, 5)
        r = client.post("/api/v1/terminals/enrol", json={"code": code, "name": name})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    return _enrol
