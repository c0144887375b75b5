"""A terminal belongs to a school (docs/SCHOOLS.md): it lends only its school's copies to its
school's readers, and its search answer carries every hit's copies per school, its own first."""

from __future__ import annotations

import pytest

from library.storage.models import Copy, Reader, Record
from server import security

V = "/api/v1"


@pytest.fixture
def city(api):
    """The populated school (ИБЦ, the default) plus Гимназия № 5 with a copy of «Война и мир»,
    a book of its own and a reader."""
    from library import schools
    from library.search import reindex_all

    client, db = api
    with db.transaction() as s:
        schools.add_school(s, "ГИМН5", "Гимназия № 5")
        war = s.query(Record).filter_by(key="war").one()
        war.copies.append(Copy(sigla="ГИМН5", barcode="G1", status="available", version=1))
        own = Record(key="gym", title="Война миров", authors=["Уэллс, Герберт"], version=1)
        own.copies = [Copy(sigla="ГИМН5", barcode="G2", status="available", version=1)]
        s.add_all([own, Reader(card_number="G5R", first_name="Гоша", last_name="Гимназист",
                               sigla="ГИМН5")])
    with db.transaction() as s:
        reindex_all(s)
    return client, db


def _terminal(client, db, name, sigla=None):
    code = security.create_enrol_code(db, 5, sigla=sigla)
    r = client.post(f"{V}/terminals/enrol", json={"code": code, "name": name})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _session(client, auth, card):
    r = client.post(f"{V}/session", json={"card": card}, headers=auth)
    assert r.status_code == 200, r.text
    return {**auth, "X-Reader-Session": r.json()["session"]}


def _checkout(client, who, barcode, txn):
    return client.post(f"{V}/checkout", json={"barcode": barcode, "txn_id": txn}, headers=who)


def test_the_default_school_is_added_at_start(api):
    from library.schools import list_schools

    _, db = api
    with db.session() as s:
        assert [(v.sigla, v.name) for v in list_schools(s)] == [("ИБЦ", "Школьный ИБЦ")]


def test_a_terminal_lends_its_schools_copies_to_its_readers(city):
    client, db = city
    home = _terminal(client, db, "kiosk-home")  # no school given: the default school
    gym = _terminal(client, db, "kiosk-gym", "ГИМН5")
    rows = {r["name"]: r["sigla"] for r in security.list_credentials(db)}
    assert rows == {"kiosk-home": None, "kiosk-gym": "ГИМН5"}

    pupil = _session(client, home, "C5A")
    refused = _checkout(client, pupil, "G1", "h1")
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "other_school" and body["params"] == {"barcode": "G1"}
    assert body["message"] == "Эта книга из другой школы: отдай её библиотекарю"
    assert _checkout(client, pupil, "1001", "h2").status_code == 200  # its own copy: lent

    visitor = _session(client, gym, "C5A")  # a reader of the default school at the gymnasium
    other = _checkout(client, visitor, "G2", "g1")
    assert other.status_code == 409 and other.json()["code"] == "other_school_reader"
    gosha = _session(client, gym, "G5R")
    assert _checkout(client, gosha, "1002", "g2").json()["code"] == "other_school"
    ok = _checkout(client, gosha, "G1", "g3")
    assert ok.status_code == 200 and ok.json()["barcode"] == "G1"
    # returns are not restricted: a book of another school comes back anywhere
    back = client.post(f"{V}/return", json={"barcode": "G1", "txn_id": "r1"}, headers=home)
    assert back.status_code == 200


def test_an_offline_checkout_keeps_the_school_rule(city, settings):
    client, db = city
    settings.server.offline_policy = "seen_cards"
    home = _terminal(client, db, "kiosk-home")
    _session(client, home, "C5A")  # seen online at this terminal
    r = client.post(f"{V}/offline", headers=home,
                    json={"op": "checkout", "card": "C5A", "barcode": "G1", "txn_id": "off1"})
    assert r.status_code == 409 and r.json()["code"] == "other_school"


def test_search_answer_carries_schools_own_first(city):
    client, db = city
    home = _terminal(client, db, "kiosk-home")
    gym = _terminal(client, db, "kiosk-gym", "ГИМН5")
    hits = client.get(f"{V}/search", params={"q": "война и мир"}, headers=home).json()["hits"]
    war = next(h for h in hits if h["title"] == "Война и мир")
    assert war["schools"] == [
        {"sigla": "ИБЦ", "name": "Школьный ИБЦ", "available": 2, "total": 2},
        {"sigla": "ГИМН5", "name": "Гимназия № 5", "available": 1, "total": 1}]
    hits = client.get(f"{V}/search", params={"q": "война и мир"}, headers=gym).json()["hits"]
    war = next(h for h in hits if h["title"] == "Война и мир")
    assert [e["sigla"] for e in war["schools"]] == ["ГИМН5", "ИБЦ"]
    # «только наша школа»: the gymnasium's «Война миров», not the others' «Анна Каренина»
    def titles(auth, **params):
        got = client.get(f"{V}/search", params={"q": "война", **params}, headers=auth).json()
        return {h["title"] for h in got["hits"]}

    assert titles(gym, own_school=True) == {"Война и мир", "Война миров"}
    assert titles(home, own_school=True) == {"Война и мир"}
    assert "Война миров" in titles(home)


def test_an_enrolment_code_for_an_unknown_school_is_refused(city):
    from library.schools import SchoolNotFound

    _, db = city
    with pytest.raises(SchoolNotFound):
        security.create_enrol_code(db, 5, sigla="НЕТ")


def test_record_details_and_the_schools_list(city):
    client, db = city
    gym = _terminal(client, db, "kiosk-gym", "ГИМН5")
    with db.session() as s:
        war = s.query(Record).filter_by(key="war").one().id
    body = client.get(f"{V}/records/{war}", headers=gym).json()
    assert body["school"] == "ГИМН5"
    assert [c["barcode"] for c in body["copies"]] == ["G1"]  # the terminal's school's copies
    assert (body["available"], body["total"]) == (1, 1)
    assert [(e["sigla"], e["available"], e["total"]) for e in body["schools"]] == [
        ("ГИМН5", 1, 1), ("ИБЦ", 2, 2)]
    home = _terminal(client, db, "kiosk-home")
    assert client.get(f"{V}/records/{war}", headers=home).json()["total"] == 2
    listed = client.get(f"{V}/schools", headers=gym).json()
    assert listed == {"school": "ГИМН5", "schools": [
        {"sigla": "ИБЦ", "name": "Школьный ИБЦ"}, {"sigla": "ГИМН5", "name": "Гимназия № 5"}]}
    assert client.get(f"{V}/schools").status_code == 401


def test_a_remote_catalogue_record_marks_the_terminals_school(city):
    from kiosk.terminal.catalogue import RemoteCatalogue

    client, db = city
    gym = _terminal(client, db, "kiosk-gym", "ГИМН5")

    class Api:  # the kiosk's API client over the in-process app
        def record(self, record_id):
            return client.get(f"{V}/records/{record_id}", headers=gym).json()

    with db.session() as s:
        war = s.query(Record).filter_by(key="war").one().id
    view = RemoteCatalogue(Api()).record(war)  # type: ignore[arg-type]
    assert [(h.sigla, h.own) for h in view.schools] == [("ГИМН5", True), ("ИБЦ", False)]


def test_a_single_school_lends_a_department_sigla_as_before(api):
    """Only the default school: a copy whose 910^d named a department («ЧЗ») is lent and
    listed at its terminals as before schools existed."""
    client, db = api
    with db.transaction() as s:
        war = s.query(Record).filter_by(key="war").one()
        war.copies.append(Copy(sigla="ЧЗ", barcode="Z1", status="available", version=1))
        war_id = war.id
    home = _terminal(client, db, "kiosk-home")
    assert _checkout(client, _session(client, home, "C5A"), "Z1", "z1").status_code == 200
    body = client.get(f"{V}/records/{war_id}", headers=home).json()
    assert sorted(c["barcode"] for c in body["copies"]) == ["1001", "1002", "Z1"]
    assert [(e["sigla"], e["total"]) for e in body["schools"]] == [("ИБЦ", 3)]


def test_the_enrolment_answer_names_the_school_and_the_terminal_keeps_it(city, tmp_path):
    from kiosk.terminal.credentials import load_terminal, save_terminal

    client, db = city
    code = security.create_enrol_code(db, 5, sigla="ГИМН5")
    body = client.post(f"{V}/terminals/enrol", json={"code": code, "name": "kiosk-gym"}).json()
    assert body["school"] == "ГИМН5"
    plain = security.create_enrol_code(db, 5)
    assert client.post(f"{V}/terminals/enrol",
                       json={"code": plain, "name": "kiosk-home"}).json()["school"] == "ИБЦ"
    save_terminal(tmp_path, "kiosk-gym", body["token"], school=body["school"])
    stored = load_terminal(tmp_path)
    assert stored is not None and stored["school"] == "ГИМН5"
