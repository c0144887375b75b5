"""The inter-school request over the terminal API (docs/HOLDS.md «Pickup school and
inter-school requests»), SQLite and PostgreSQL: a pupil of Школа № 2 asks at her school's kiosk
for a book only Гимназия № 5 has; the answer names the pickup school and where it comes from;
the terminal lends it to her only; the return there sends it home; exactly once; hostile input."""

from __future__ import annotations

import pytest

from library.storage.models import Copy, Reader, Record
from server import security

V = "/api/v1"
A, B = "ГИМН5", "ШК2"


@pytest.fixture
def city(api):
    from library import schools

    client, db = api
    with db.transaction() as s:
        schools.add_school(s, A, "Гимназия № 5")
        schools.add_school(s, B, "Школа № 2")
        rec = Record(key="timur", title="Тимур и его команда", authors=["Гайдар, Аркадий"],
                     version=1)
        rec.copies = [Copy(sigla=A, barcode="GT1", status="available", version=1)]
        s.add_all([rec,
                   Reader(card_number="B1R", first_name="Боря", last_name="Ершов",
                          class_name="5Б", category="pupil", sigla=B),
                   Reader(card_number="B2R", first_name="Вера", last_name="Жукова",
                          class_name="6Б", category="pupil", sigla=B)])
    with db.session() as s:
        rid = s.query(Record.id).filter_by(key="timur").scalar()
    return client, db, rid


def _terminal(client, db, name, sigla=None):
    code = security.create_enrol_code(db, 5, sigla=sigla)
    r = client.post(f"{V}/terminals/enrol", json={"code": code, "name": name})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _session(client, auth, card):
    r = client.post(f"{V}/session", json={"card": card}, headers=auth)
    assert r.status_code == 200, r.text
    return {**auth, "X-Reader-Session": r.json()["session"]}


def _service(client):
    return client.app.state.ibc.circulation


def test_the_request_over_the_api(city):
    client, db, rid = city
    kiosk_b = _terminal(client, db, "kiosk-b", B)
    boris = _session(client, kiosk_b, "B1R")
    r = client.post(f"{V}/holds", json={"record_id": rid, "txn_id": "h-1"}, headers=boris)
    assert r.status_code == 200, r.text
    hold = r.json()
    assert (hold["state"], hold["request"], hold["pickup"], hold["pickup_name"],
            hold["from_school"]) == ("queued", True, B, "Школа № 2", "Гимназия № 5")
    again = client.post(f"{V}/holds", json={"record_id": rid, "txn_id": "h-1"}, headers=boris)
    assert again.json()["hold_id"] == hold["hold_id"] and again.json()["replayed"] is True
    svc = _service(client)
    assert svc.send_copy("GT1", A, "s-1").to_sigla == B
    mine = client.get(f"{V}/holds", headers=boris).json()
    assert [(h["state"], h["from_school"]) for h in mine] == [("transit", "Гимназия № 5")]
    svc.receive_copy("GT1", B, "r-1")
    mine = client.get(f"{V}/holds", headers=boris).json()
    assert mine[0]["state"] == "waiting" and mine[0]["pickup_until"]
    # another pupil of B at B's terminal: refused; a terminal of the gymnasium: not hers either
    vera = _session(client, kiosk_b, "B2R")
    refused = client.post(f"{V}/checkout", json={"barcode": "GT1", "txn_id": "c-1"}, headers=vera)
    assert refused.status_code == 409 and refused.json()["code"] == "reserved"
    boris = _session(client, kiosk_b, "B1R")  # one reader session per terminal at a time
    lent = client.post(f"{V}/checkout", json={"barcode": "GT1", "txn_id": "c-2"}, headers=boris)
    assert lent.status_code == 200 and lent.json()["barcode"] == "GT1"
    assert client.post(f"{V}/checkout", json={"barcode": "GT1", "txn_id": "c-2"},
                       headers=boris).json()["replayed"] is True
    back = client.post(f"{V}/return", json={"barcode": "GT1", "txn_id": "b-1"}, headers=kiosk_b)
    assert back.status_code == 200 and back.json()["send_to"] == "Гимназия № 5"
    assert back.json()["hold_id"] == 0
    twice = client.post(f"{V}/return", json={"barcode": "GT1", "txn_id": "b-1"}, headers=kiosk_b)
    assert twice.json()["replayed"] is True and twice.json()["send_to"] == "Гимназия № 5"
    assert [(t.from_sigla, t.to_sigla) for t in svc.transfers()] == [(B, A)]
    assert svc.receive_copy("GT1", A, "r-2").outcome == "shelf"


def test_pickup_refusals_and_hostile_input(city):
    client, db, rid = city
    kiosk_b = _terminal(client, db, "kiosk-b", B)
    boris = _session(client, kiosk_b, "B1R")
    r = client.post(f"{V}/holds", json={"record_id": rid, "txn_id": "h-2", "pickup": "НЕТ"},
                    headers=boris)
    assert r.status_code == 409 and r.json()["code"] == "bad_pickup"
    for bad in ("", "x" * 33, "ШК\x002", "ШК\n2", 5, ["ШК2"]):
        r = client.post(f"{V}/holds", json={"record_id": rid, "txn_id": "h-3", "pickup": bad},
                        headers=boris)
        assert r.status_code == 422, bad
    ok = client.post(f"{V}/holds", json={"record_id": rid, "txn_id": "h-4", "pickup": A},
                     headers=boris)
    # the gymnasium has it on its shelf: picking it up there is «take it from the shelf»
    assert ok.status_code == 409 and ok.json()["code"] == "hold_on_shelf"


def test_a_return_at_the_owner_does_not_fill_another_schools_hold(city):
    client, db, rid = city
    kiosk_a = _terminal(client, db, "kiosk-a", A)
    kiosk_b = _terminal(client, db, "kiosk-b", B)
    with db.transaction() as s:
        s.add(Reader(card_number="A1R", first_name="Аня", last_name="Зуева", class_name="5А",
                     category="pupil", sigla=A))
    anya = _session(client, kiosk_a, "A1R")
    assert client.post(f"{V}/checkout", json={"barcode": "GT1", "txn_id": "c-1"},
                       headers=anya).status_code == 200
    boris = _session(client, kiosk_b, "B1R")
    assert client.post(f"{V}/holds", json={"record_id": rid, "txn_id": "h-1"},
                       headers=boris).json()["request"] is True
    back = client.post(f"{V}/return", json={"barcode": "GT1", "txn_id": "b-1"}, headers=kiosk_a)
    assert back.status_code == 200
    assert (back.json()["hold_id"], back.json()["send_to"]) == (0, None)
    assert back.json()["wanted_by"] == "Школа № 2"  # the kiosk: give it to the librarian
    assert client.get(f"{V}/holds", headers=boris).json()[0]["state"] == "queued"
    assert [r.on_shelf for r in _service(client).school_requests(A)] == [1]
