"""Places and covers over the API (SQLite and PostgreSQL): GET /places with its version, place
labels on records, search hits and returns, the replica's copy of the places, GET /covers."""

from __future__ import annotations

import os

import pytest

from library.places import PlaceMap, PlaceSpec, RuleSpec

V = "/api/v1"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60


def _places(db) -> None:
    """Two places for the test library (its copies: shelf mark 84(2Рос=Рус)1, no sign)."""
    from library.places.store import replace_places

    with db.transaction() as s:
        replace_places(s, "ИБЦ", [
            PlaceSpec("Стеллаж 1", "русская классика", "Абонемент", (0.02, 0.1, 0.08, 0.3),
                      rules=(RuleSpec(bbk="84(2Рос"),)),
            PlaceSpec("Тележка возврата", None, "Абонемент", (0.7, 0.85, 0.1, 0.08)),
        ])


def test_places_needs_a_terminal(api, enrol):
    client, _ = api
    assert client.get(f"{V}/places").status_code == 401
    bad = client.get(f"{V}/places", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["code"] == "bad_token"
    assert client.get(f"{V}/covers/9785389692251").status_code == 401


def test_places_version_and_changes(api, enrol):
    client, db = api
    auth = enrol("k1")
    empty = client.get(f"{V}/places", headers=auth).json()
    assert empty["changed"] is True and empty["places"] == [] and empty["version"] == 0
    assert empty["returns"] == {"mode": "cart", "note": "", "place": ""}
    assert client.get(f"{V}/places", params={"version": 0}, headers=auth).json()["changed"] is False
    _places(db)
    got = client.get(f"{V}/places", params={"version": 0}, headers=auth).json()
    assert got["changed"] is True and got["version"] == 1
    first = got["places"][0]
    assert (first["name"], first["note"], first["room"], first["sigla"]) == (
        "Стеллаж 1", "русская классика", "Абонемент", "ИБЦ")
    assert first["box"] == [0.02, 0.1, 0.08, 0.3] and first["rules"] == [
        {"collection": None, "shelf": None, "bbk": "84(2Рос", "letters": None, "fallback": False}]
    assert got["places"][1]["rules"] == []
    same = client.get(f"{V}/places", params={"version": 1}, headers=auth).json()
    assert same == {"changed": False, "version": 1, "places": [], "returns": got["returns"]}


@pytest.mark.parametrize("version", ["abc", "-2", str(2**63), "1.5", "0x10"])
def test_places_hostile_version(api, enrol, version):
    client, _ = api
    r = client.get(f"{V}/places", params={"version": version}, headers=enrol("k1"))
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"


def test_record_search_and_return_carry_the_place(api, enrol):
    client, db = api
    auth = enrol("k1")
    hit = client.get(f"{V}/search", params={"q": "война"}, headers=auth).json()["hits"][0]
    assert hit["place"] is None and hit["place_id"] is None  # no places yet
    _places(db)
    hit = client.get(f"{V}/search", params={"q": "война"}, headers=auth).json()["hits"][0]
    assert hit["place"] == "Стеллаж 1 — русская классика" and hit["place_id"] == 1
    rec = client.get(f"{V}/records/{hit['id']}", headers=auth).json()
    assert [c["place"] for c in rec["copies"]] == ["Стеллаж 1 — русская классика"] * 2
    assert {c["place_id"] for c in rec["copies"]} == {1}
    session = client.post(f"{V}/session", json={"card": "C5A"}, headers=auth).json()["session"]
    h = {**auth, "X-Reader-Session": session}
    out = client.post(f"{V}/checkout", json={"barcode": "3001", "txn_id": "p-1"}, headers=h)
    assert out.status_code == 200 and out.json()["place"] == "Стеллаж 1 — русская классика"
    back = client.post(f"{V}/return", json={"barcode": "3001", "txn_id": "p-2"}, headers=auth)
    assert back.json()["place"] == "Стеллаж 1 — русская классика"
    again = client.post(f"{V}/return", json={"barcode": "3001", "txn_id": "p-2"}, headers=auth)
    assert again.json()["replayed"] is True and again.json()["place"] == back.json()["place"]


def test_replica_mirrors_the_places(api, enrol, tmp_path):
    from kiosk.terminal import ApiClient
    from kiosk.terminal.replica import Replica
    from library.storage.database import open_database

    client, db = api
    token = enrol("k1")["Authorization"].split()[1]
    local = open_database(f"sqlite:///{tmp_path / 'replica.sqlite3'}")
    api_client = ApiClient("http://testserver", token, transport=client._transport)
    calls = []
    real = api_client.places
    api_client.places = lambda version=None: calls.append(version) or real(version)  # type: ignore[method-assign]
    try:
        replica = Replica(local, api_client)
        assert replica.sync().places is None  # both at version 0: nothing sent
        _places(db)
        report = replica.sync()
        assert report.places == 2 and report.places_version == 1
        with local.session() as s:
            pm = PlaceMap.load(s)
            view = pm.resolve(shelf_mark="84(2Рос=Рус)1", collection=None, bbk=None, sigla="ИБЦ")
            assert view is not None and view.label == "Стеллаж 1 — русская классика"
            assert [p.name for p in pm.room("Абонемент")] == ["Стеллаж 1", "Тележка возврата"]
            assert pm.version == 1
        assert replica.sync().places is None and calls == [0, 0, 1]  # unchanged: cheap
        from library.places.store import remove_place

        with db.transaction() as s:
            remove_place(s, "ИБЦ", "Тележка возврата")
        assert replica.sync().places == 1
        with local.session() as s:
            assert [p.name for p in PlaceMap.load(s)] == ["Стеллаж 1"]
    finally:
        api_client.close()
        local.dispose()


def test_replica_keeps_its_places_when_the_server_sends_garbage(tmp_path):
    from kiosk.terminal.replica import Replica
    from library.storage.database import open_database

    class Client:
        def __init__(self, page):
            self.page = page

        def changes(self, since, after, limit):
            return {"version": 0, "records": [], "copies": [], "next_since": since,
                    "next_after": after, "more": False}

        def places(self, version):
            return self.page

    local = open_database(f"sqlite:///{tmp_path / 'replica.sqlite3'}")
    good = {"changed": True, "version": 3, "places": [
        {"id": 7, "sigla": "ИБЦ", "name": "Полка", "note": None, "room": None, "box": None,
         "sort": 1, "rules": [{"collection": "Абонемент"}]}]}
    assert Replica(local, Client(good)).sync().places == 1
    for bad in ({"changed": True, "version": 4, "places": [{"id": 8, "name": "x"}]},
                {"changed": True, "version": 4, "places": [{**good["places"][0], "box": [2, 2, 2, 2]}]},
                {"changed": True, "version": 4, "places": [{**good["places"][0], "rules": [{}]}]}):
        assert Replica(local, Client(bad)).sync().places is None
    with local.session() as s:
        pm = PlaceMap.load(s)
        assert [p.id for p in pm] == [7] and pm.version == 3
    local.dispose()


# --- covers ----------------------------------------------------------------------------------
@pytest.fixture
def covers(api, enrol, tmp_path):
    """(client, auth, folder): covers in a folder named by [library] covers_dir."""
    client, db = api
    folder = tmp_path / "covers"
    folder.mkdir()
    client.app.state.ibc.settings.library.covers_dir = str(folder)
    client.app.state.ibc.settings.library.covers_max_kb = 16
    (folder / "9785389692251.JPG").write_bytes(JPEG)
    (folder / "1001.png").write_bytes(PNG)
    (folder / "9780000000002.jpg").write_bytes(b"not an image at all")
    (folder / "9781111111116.jpeg").write_bytes(JPEG + b"\x00" * 17 * 1024)  # over the cap
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(JPEG)
    os.symlink(outside, folder / "9782222222222.jpg")
    from sqlalchemy import update

    from library.storage.models import Record

    with db.transaction() as s:  # «Анна Каренина» (copies 3001, 3002) gets the ISBN of the cover
        s.execute(update(Record).where(Record.key == "anna").values(isbn="9785389692251"))
    return client, enrol("k1"), folder


def test_covers_by_isbn_and_barcode(covers):
    client, auth, _ = covers
    r = client.get(f"{V}/covers/9785389692251", headers=auth)
    assert r.status_code == 200 and r.content == JPEG and r.headers["content-type"] == "image/jpeg"
    assert client.get(f"{V}/covers/538969225X", headers=auth).content == JPEG  # its ISBN-10
    png = client.get(f"{V}/covers/1001", headers=auth)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert client.get(f"{V}/covers/3001", headers=auth).content == JPEG  # barcode → record ISBN
    missing = client.get(f"{V}/covers/9785170152407", headers=auth)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


@pytest.mark.parametrize("key", [
    "9780000000002",            # not an image
    "9781111111116",            # over covers_max_kb
    "9782222222222",            # a symlink to a file outside the folder
    "..%2Fsecret", "%2E%2E%2Fsecret.jpg", "%2Fetc%2Fpasswd", "9785389692251%00",
    "a%00b", "secret", "9785389692251.JPG", "%252e%252e%252f", "x" * 65, "-rf",
])
def test_hostile_cover_keys_get_404(covers, key):
    client, auth, _ = covers
    r = client.get(f"{V}/covers/{key}", headers=auth)
    assert r.status_code == 404, (key, r.status_code, r.text[:100])
    assert not r.content.startswith(b"\xff\xd8")


def test_cover_client(covers):
    from kiosk.terminal import ApiClient

    client, auth, _ = covers
    c = ApiClient("http://testserver", auth["Authorization"].split()[1], transport=client._transport)
    try:
        assert c.cover("9785389692251") == JPEG
        assert c.cover("9785170152407") is None
        assert c.cover("../secret") is None  # refused before any request
    finally:
        c.close()
