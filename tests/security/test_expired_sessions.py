"""Attack: a reader walks away; later someone replays the session token the kiosk left behind
(or a copied one). The server refuses it as expired — and the refusal must also END the session
in the database: before the fix the write was rolled back with the refusal, the row stayed
``ended = 0`` and the session looked live to every report and to the next idle check."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

V = "/api/v1"


def _age_sessions(db, seconds: int) -> None:
    from library.storage.models import utcnow
    from server.models import ReaderSession

    with db.transaction() as s:
        s.execute(update(ReaderSession).values(last_seen=utcnow() - dt.timedelta(seconds=seconds)))


def _rows(db) -> list[tuple[bool, dt.datetime]]:
    from server.models import ReaderSession

    with db.session() as s:
        return [tuple(r) for r in s.execute(select(ReaderSession.ended, ReaderSession.last_seen))]


def test_an_expired_session_is_recorded_as_ended_and_stays_dead(api, enrol):
    client, db = api
    auth = enrol("k1")
    r = client.post(f"{V}/session", json={"card": "C5A"}, headers=auth)
    h = {**auth, "X-Reader-Session": r.json()["session"]}
    _age_sessions(db, 61)
    before = _rows(db)

    first = client.get(f"{V}/loans", headers=h)
    assert first.status_code == 401 and first.json()["code"] == "session_expired"
    assert [ended for ended, _ in _rows(db)] == [True]  # the end is committed with the refusal

    # Repeated (every endpoint behind a session): a clear refusal, nothing lent, nothing refreshed.
    for _ in range(3):
        again = client.post(f"{V}/checkout", json={"barcode": "2001", "txn_id": "late-1"}, headers=h)
        assert again.status_code == 401 and again.json()["code"] == "bad_session"
        assert client.get(f"{V}/loans", headers=h).status_code == 401
    assert [last for _, last in _rows(db)] == [last for _, last in before]  # idle timer untouched
    from library.storage.models import Loan, TransactionLog

    with db.session() as s:
        assert s.scalar(select(Loan.id)) is None and s.scalar(select(TransactionLog.txn_id)) is None


def test_an_expired_session_seen_by_search_is_ended_too(api, enrol):
    """Search treats a dead session as pupil-level; it still records the end."""
    client, db = api
    auth = enrol("k1")
    r = client.post(f"{V}/session", json={"card": "CT"}, headers=auth)
    h = {**auth, "X-Reader-Session": r.json()["session"]}
    _age_sessions(db, 61)
    assert client.get(f"{V}/search", params={"q": "мир"}, headers=h).status_code == 200
    assert [ended for ended, _ in _rows(db)] == [True]


def test_a_deactivated_readers_session_is_ended(api, enrol):
    client, db = api
    from library.storage.models import Reader

    auth = enrol("k1")
    r = client.post(f"{V}/session", json={"card": "C5A"}, headers=auth)
    h = {**auth, "X-Reader-Session": r.json()["session"]}
    with db.transaction() as s:
        s.execute(update(Reader).where(Reader.card_number == "C5A").values(active=False))
    assert client.get(f"{V}/loans", headers=h).json()["code"] == "bad_session"
    assert [ended for ended, _ in _rows(db)] == [True]
