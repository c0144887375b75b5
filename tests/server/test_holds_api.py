"""Holds over the terminal API (issue 19, docs/HOLDS.md «Kiosk and terminal API»): POST/GET
/api/v1/holds, POST /holds/{id}/cancel, the hold fields of /return and /offline answers, the
``reserved`` refusal of /checkout; the terminal's port over it
(kiosk.terminal.circulation_port.RemoteCirculation). SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from library.storage.models import Copy, Event, Hold

from .conftest import TODAY

V = "/api/v1"


def _session(client, auth: dict, card: str) -> dict:
    r = client.post(f"{V}/session", json={"card": card}, headers=auth)
    assert r.status_code == 200, r.text
    return {**auth, "X-Reader-Session": r.json()["session"]}


def _record_id(db, key: str) -> int:
    from library.storage.models import Record

    with db.session() as s:
        return int(s.scalar(select(Record.id).where(Record.key == key)))


def _all_out(client, auth: dict) -> int:
    """Both copies of «Анна Каренина» (3001, 3002) lent to the teacher; the record's id."""
    teacher = _session(client, auth, "CT")
    for bc in ("3001", "3002"):
        r = client.post(f"{V}/checkout", json={"barcode": bc, "txn_id": f"lend-{bc}"},
                        headers=teacher)
        assert r.status_code == 200, r.text
    client.delete(f"{V}/session", headers=teacher)
    return 0


def _place(client, who: dict, record_id: int, txn: str):
    return client.post(f"{V}/holds", json={"record_id": record_id, "txn_id": txn}, headers=who)


def test_every_hold_endpoint_needs_a_terminal_and_a_session(api, enrol):
    client, db = api
    rid = _record_id(db, "anna")
    body = {"record_id": rid, "txn_id": "h-1"}
    assert client.post(f"{V}/holds", json=body).status_code == 401
    assert client.get(f"{V}/holds").status_code == 401
    assert client.post(f"{V}/holds/1/cancel", json={"txn_id": "c-1"}).status_code == 401
    auth = enrol("kiosk-1")
    for r in (client.post(f"{V}/holds", json=body, headers=auth),
              client.get(f"{V}/holds", headers=auth),
              client.post(f"{V}/holds/1/cancel", json={"txn_id": "c-1"}, headers=auth)):
        assert r.status_code == 401 and r.json()["code"] == "no_session"
    pupil = _session(client, auth, "C5A")
    other = enrol("kiosk-2")  # a session belongs to its terminal
    r = client.get(f"{V}/holds", headers={**other, "X-Reader-Session": pupil["X-Reader-Session"]})
    assert r.status_code == 401
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Hold)) == 0


@pytest.mark.parametrize("body", [
    {"record_id": 0, "txn_id": "h-1"}, {"record_id": -5, "txn_id": "h-1"},
    {"record_id": 2**40, "txn_id": "h-1"}, {"record_id": "один", "txn_id": "h-1"},
    {"record_id": 1, "txn_id": "h\x07bell"}, {"record_id": 1, "txn_id": "x" * 65},
    {"record_id": 1}, {"record_id": 1, "txn_id": "h-1", "card": "C1B"},
])
def test_hostile_hold_requests_are_refused_and_change_nothing(api, enrol, body):
    client, db = api
    pupil = _session(client, enrol("kiosk-1"), "C5A")
    r = client.post(f"{V}/holds", json=body, headers=pupil)
    assert r.status_code == 422, r.text
    for path in ("/holds/0/cancel", "/holds/-1/cancel", f"/holds/{2**40}/cancel", "/holds/x/cancel"):
        assert client.post(f"{V}{path}", json={"txn_id": "c-1"}, headers=pupil).status_code == 422
    assert client.post(f"{V}/holds/1/cancel", json={"txn_id": "c\x00"},
                       headers=pupil).status_code == 422
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Hold)) == 0


def test_the_issue_story_over_http(api, enrol):
    """Two readers queue; the copy comes back at a kiosk → the answer names the first, the
    second gets ``reserved``, the first borrows it; their lists say where they stand."""
    client, db = api
    auth = enrol("kiosk-1")
    rid = _record_id(db, "anna")
    # A copy is on the shelf: no queue for it, the book is there.
    anya = _session(client, auth, "C5A")
    r = _place(client, anya, rid, "anya-1")
    assert r.status_code == 409 and r.json()["code"] == "hold_on_shelf"
    assert r.json()["params"]["title"] == "Анна Каренина"
    client.delete(f"{V}/session", headers=anya)
    _all_out(client, auth)

    anya = _session(client, auth, "C5A")
    r = _place(client, anya, rid, "anya-2")
    assert r.status_code == 200, r.text
    first = r.json()
    assert (first["title"], first["state"], first["position"]) == ("Анна Каренина", "queued", 1)
    assert _place(client, anya, rid, "anya-2").json()["replayed"] is True  # exactly once
    again = _place(client, anya, rid, "anya-3")
    assert again.status_code == 409 and again.json()["code"] == "already_queued"
    client.delete(f"{V}/session", headers=anya)
    vanya = _session(client, auth, "C1B")
    r = _place(client, vanya, rid, "vanya-1")
    assert r.status_code == 200 and r.json()["position"] == 2
    client.delete(f"{V}/session", headers=vanya)

    # The teacher returns 3001 at a kiosk: it waits for Аня (the first), named shortly.
    r = client.post(f"{V}/return", json={"barcode": "3001", "txn_id": "ret-3001"}, headers=auth)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["hold_for"] == "Аня П., 7А" and out["hold_id"] == first["hold_id"]
    assert out["hold_until"] == "2026-10-10"  # 5 open days from Monday, Sunday closed
    assert "Петрова" not in r.text
    r = client.post(f"{V}/return", json={"barcode": "3001", "txn_id": "ret-3001"}, headers=auth)
    assert r.json()["replayed"] is True and r.json()["hold_for"] == "Аня П., 7А"

    vanya = _session(client, auth, "C1B")
    r = client.post(f"{V}/checkout", json={"barcode": "3001", "txn_id": "v-3001"}, headers=vanya)
    assert r.status_code == 409 and r.json()["code"] == "reserved"
    mine = client.get(f"{V}/holds", headers=vanya).json()
    assert [(h["state"], h["position"]) for h in mine] == [("queued", 1)]
    assert "Аня" not in client.get(f"{V}/holds", headers=vanya).text  # nobody else's
    client.delete(f"{V}/session", headers=vanya)

    anya = _session(client, auth, "C5A")
    mine = client.get(f"{V}/holds", headers=anya).json()
    assert len(mine) == 1
    assert (mine[0]["state"], mine[0]["barcode"], mine[0]["pickup_until"], mine[0]["position"]) \
        == ("waiting", "3001", "2026-10-10", 0)
    r = client.post(f"{V}/checkout", json={"barcode": "3001", "txn_id": "a-3001"}, headers=anya)
    assert r.status_code == 200 and r.json()["hold_id"] == 0
    assert client.get(f"{V}/holds", headers=anya).json() == []
    with db.session() as s:
        assert s.scalar(select(Hold.state).where(Hold.id == first["hold_id"])) == "fulfilled"
        assert s.scalar(select(Copy.status).where(Copy.barcode == "3001")) == "on_loan"


def test_a_reader_cancels_only_their_own_hold(api, enrol):
    client, db = api
    auth = enrol("kiosk-1")
    rid = _record_id(db, "anna")
    _all_out(client, auth)
    anya = _session(client, auth, "C5A")
    hold = _place(client, anya, rid, "anya-1").json()
    client.delete(f"{V}/session", headers=anya)
    vanya = _session(client, auth, "C1B")
    r = client.post(f"{V}/holds/{hold['hold_id']}/cancel", json={"txn_id": "v-c"}, headers=vanya)
    assert r.status_code == 409 and r.json()["code"] == "not_your_hold"
    r = client.post(f"{V}/holds/999999/cancel", json={"txn_id": "v-c2"}, headers=vanya)
    assert r.status_code == 409 and r.json()["code"] == "hold_not_found"
    client.delete(f"{V}/session", headers=vanya)
    anya = _session(client, auth, "C5A")
    r = client.post(f"{V}/holds/{hold['hold_id']}/cancel", json={"txn_id": "a-c"}, headers=anya)
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    r = client.post(f"{V}/holds/{hold['hold_id']}/cancel", json={"txn_id": "a-c"}, headers=anya)
    assert r.status_code == 200 and r.json()["replayed"] is True
    r = client.post(f"{V}/holds/{hold['hold_id']}/cancel", json={"txn_id": "a-c2"}, headers=anya)
    assert r.status_code == 409 and r.json()["code"] == "hold_closed"
    assert client.get(f"{V}/holds", headers=anya).json() == []


def test_an_offline_return_fills_a_hold_once(api, enrol, settings):
    client, db = api
    auth = enrol("kiosk-1")
    rid = _record_id(db, "anna")
    _all_out(client, auth)
    anya = _session(client, auth, "C5A")
    hold = _place(client, anya, rid, "anya-1").json()
    client.delete(f"{V}/session", headers=anya)
    body = {"op": "checkin", "barcode": "3002", "txn_id": "kiosk-1:off-1",
            "queued_at": f"{TODAY}T10:00:00"}
    first = client.post(f"{V}/offline", json=body, headers=auth)
    assert first.status_code == 200, first.text
    assert first.json()["hold_for"] == "Аня П., 7А" and first.json()["hold_id"] == hold["hold_id"]
    again = client.post(f"{V}/offline", json=body, headers=auth)
    assert again.json()["replayed"] is True and again.json()["hold_id"] == hold["hold_id"]
    with db.session() as s:
        row = s.get(Hold, hold["hold_id"])
        assert row is not None and row.state == "waiting" and row.offline is True
        assert s.scalar(select(func.count()).select_from(Event)
                        .where(Event.kind == "hold_waiting")) == 1
        assert s.scalar(select(Copy.status).where(Copy.barcode == "3002")) == "reserved"


def _remote(api, enrol, tmp_path):
    from kiosk.terminal import ApiClient
    from kiosk.terminal.circulation import TerminalCirculation
    from kiosk.terminal.circulation_port import RemoteCirculation
    from kiosk.terminal.offline import OfflineQueue

    test_client, _db = api
    token = enrol("kiosk-remote")["Authorization"].removeprefix("Bearer ")
    client = ApiClient("http://testserver", token, transport=test_client._transport)
    return client, RemoteCirculation(TerminalCirculation("kiosk-remote", client,
                                                         OfflineQueue(tmp_path / "q.sqlite3")))


def test_the_terminal_port(api, enrol, tmp_path):
    from kiosk.terminal.circulation import OfflineRefused
    from library.circulation import errors as E
    from library.circulation.ports import HoldsPort

    test_client, db = api
    rid = _record_id(db, "anna")
    _all_out(test_client, enrol("kiosk-1"))
    client, port = _remote(api, enrol, tmp_path)
    assert isinstance(port, HoldsPort)
    with pytest.raises(E.FinishFirst):  # no session for this card
        port.place_hold("C5A", rid, "t-1")
    port.find_reader("C5A")
    placed = port.place_hold("C5A", rid, "t-1")
    assert (placed.state, placed.position, placed.title) == ("queued", 1, "Анна Каренина")
    with pytest.raises(E.CirculationError) as refused:
        port.place_hold("C5A", rid, "t-2")
    assert refused.value.code == "already_queued"
    assert [h.hold_id for h in port.holds("C5A")] == [placed.hold_id]
    port.end_session()
    out = port.checkin("3001", "r-1")
    assert (out.hold_id, out.hold_for, str(out.hold_until)) == (placed.hold_id, "Аня П., 7А",
                                                                "2026-10-10")
    port.find_reader("C1B")
    with pytest.raises(E.CirculationError) as refused:
        port.checkout("C1B", "3001", "t-3")
    assert refused.value.code == "reserved"
    with pytest.raises(E.CirculationError) as refused:
        port.cancel_hold(placed.hold_id, "t-4", card="C1B")
    assert refused.value.code == "not_your_hold"
    port.find_reader("C5A")
    waiting = port.holds("C5A")[0]
    assert (waiting.state, waiting.barcode, str(waiting.pickup_until)) == ("waiting", "3001",
                                                                           "2026-10-10")
    assert port.cancel_hold(placed.hold_id, "t-5", card="C5A").state == "cancelled"
    client._base = lambda: None  # the server is gone: a hold is never queued
    with pytest.raises(OfflineRefused):
        port.place_hold("C5A", rid, "t-6")
    with pytest.raises(OfflineRefused):
        port.holds("C5A")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Hold)) == 1


def test_a_return_queued_offline_fills_the_hold_when_forwarded(api, enrol, tmp_path):
    """The kiosk takes a book back while the server is away (queued, nobody named); the queue
    is forwarded: the server sets the copy aside for the first reader, flagged ``offline`` (on
    the return cart), exactly once however often the queue is flushed."""
    test_client, db = api
    rid = _record_id(db, "anna")
    _all_out(test_client, enrol("kiosk-1"))
    client, port = _remote(api, enrol, tmp_path)
    port.find_reader("C5A")
    hold = port.place_hold("C5A", rid, "t-1")
    port.end_session()
    base = client._base
    client._base = lambda: None  # the server is gone
    out = port.checkin("3001", "r-1")
    assert out.loan_id == 0 and out.hold_id == 0 and out.hold_for is None  # queued
    terminal = port.terminal
    assert [op["op"] for op in terminal.queue.pending()] == ["checkin"]
    client._base = base
    report = terminal.flush()
    assert len(report.done) == 1 and not report.conflicts and report.left == 0
    done = terminal.queue.all()[0]
    assert done["state"] == "done"
    assert json.loads(done["result"])["hold_for"] == "Аня П., 7А"  # the server's answer kept
    assert terminal.flush().done == []  # nothing left to forward
    again = client.forward("checkin", None, "3001", done["txn_id"])  # a repeat is replayed
    assert again["replayed"] is True and again["hold_id"] == hold.hold_id
    assert again["hold_for"] == "Аня П., 7А"
    with db.session() as s:
        row = s.get(Hold, hold.hold_id)
        assert row is not None and row.state == "waiting" and row.offline is True
        assert s.scalar(select(func.count()).select_from(Event)
                        .where(Event.kind == "hold_waiting")) == 1
