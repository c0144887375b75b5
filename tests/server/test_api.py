"""The API in process (TestClient) on SQLite and PostgreSQL: sessions, circulation, media, errors."""

from __future__ import annotations

import pytest

from server import security

V = "/api/v1"


def _session(client, auth, card="C5A", pin=None):
    body = {"card": card} if pin is None else {"card": card, "pin": pin}
    r = client.post(f"{V}/session", json=body, headers=auth)
    assert r.status_code == 200, r.text
    return {**auth, "X-Reader-Session": r.json()["session"]}


def test_health_version_and_openapi(api):
    client, _ = api
    assert client.get(f"{V}/health").json() == {"status": "ok", "database": True}
    assert client.get(f"{V}/version").json()["api"] == 1
    from openapi_spec_validator import validate

    validate(client.get("/openapi.json").json())


def test_unknown_and_revoked_terminals_get_401(api, enrol):
    client, db = api
    assert client.get(f"{V}/search", params={"q": "мир"}).status_code == 401
    bad = client.get(f"{V}/search", params={"q": "мир"}, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["code"] == "bad_token"
    auth = enrol("kiosk-1")
    assert client.get(f"{V}/search", params={"q": "мир"}, headers=auth).status_code == 200
    assert security.revoke(db, "kiosk-1")
    assert client.get(f"{V}/search", params={"q": "мир"}, headers=auth).status_code == 401
    again = enrol("kiosk-1")  # a revoked name joins again (new certificate, repaired terminal)
    assert client.get(f"{V}/search", params={"q": "мир"}, headers=again).status_code == 200
    assert client.get(f"{V}/search", params={"q": "мир"}, headers=auth).status_code == 401
    assert [t["name"] for t in security.list_credentials(db)].count("kiosk-1") == 1


def test_enrol_code_is_one_time_and_names_unique(api):
    client, db = api
    code = security.create_enrol_code(db, 5)
    assert client.post(f"{V}/terminals/enrol", json={"code": code, "name": "a"}).status_code == 200
    again = client.post(f"{V}/terminals/enrol", json={"code": code, "name": "b"})
    assert again.status_code == 400 and again.json()["code"] == "bad_enrol_code"
    code2 = security.create_enrol_code(db, 5)
    assert client.post(f"{V}/terminals/enrol", json={"code": code2, "name": "a"}).status_code == 409
    from sqlalchemy import update

    from library.storage.models import utcnow
    from server.models import EnrolCode

    code3 = security.create_enrol_code(db, 5)
    with db.transaction() as s:
        s.execute(update(EnrolCode).values(expires_at=utcnow()))
    late = client.post(f"{V}/terminals/enrol", json={"code": code3, "name": "c"})
    assert late.status_code == 400


def test_search_record_and_availability(api, enrol):
    client, _ = api
    auth = enrol("k1")
    hits = client.get(f"{V}/search", params={"q": "война"}, headers=auth).json()["hits"]
    assert hits and hits[0]["title"] == "Война и мир"
    rec = client.get(f"{V}/records/{hits[0]['id']}", headers=auth).json()
    assert rec["available"] == 2 and rec["total"] == 2
    assert client.get(f"{V}/records/999999", headers=auth).status_code == 404


def test_checkout_loans_renew_return_exactly_once(api, enrol):
    client, _ = api
    h = _session(client, enrol("k1"))
    r1 = client.post(f"{V}/checkout", json={"barcode": "1001", "txn_id": "t-1"}, headers=h)
    assert r1.status_code == 200 and r1.json()["due_date"]
    r2 = client.post(f"{V}/checkout", json={"barcode": "1001", "txn_id": "t-1"}, headers=h)
    assert r2.json()["replayed"] is True and r2.json()["loan_id"] == r1.json()["loan_id"]
    assert [x["barcode"] for x in client.get(f"{V}/loans", headers=h).json()] == ["1001"]
    rn = client.post(f"{V}/renew", json={"barcode": "1001", "txn_id": "t-2"}, headers=h)
    assert rn.status_code == 200 and rn.json()["renewals"] == 1
    ret = client.post(f"{V}/return", json={"barcode": "1001", "txn_id": "t-3"}, headers=h)
    assert ret.status_code == 200
    assert client.get(f"{V}/loans", headers=h).json() == []


def test_refusals_are_russian_and_english(api, enrol):
    client, _ = api
    auth = enrol("k1")
    a = _session(client, auth)
    assert client.post(f"{V}/checkout", json={"barcode": "2001", "txn_id": "a1"}, headers=a).status_code == 200
    b = _session(client, auth, "C1B")
    r = client.post(f"{V}/checkout", json={"barcode": "2001", "txn_id": "b1"}, headers=b)
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "item_on_loan" and "выдан" in body["message"] and "on loan" in body["message_en"]
    r = client.post(f"{V}/checkout", json={"barcode": "nope", "txn_id": "b2"}, headers=b)
    assert r.status_code == 422 and r.json()["code"] == "item_not_found"


def test_no_endpoint_returns_another_readers_data(api, enrol):
    client, _ = api
    auth = enrol("k1")
    a = _session(client, auth)
    client.post(f"{V}/checkout", json={"barcode": "1001", "txn_id": "a1"}, headers=a)
    b = _session(client, auth, "C1B")
    assert client.get(f"{V}/loans", headers=b).json() == []
    r = client.post(f"{V}/renew", json={"barcode": "1001", "txn_id": "b1"}, headers=b)
    assert r.status_code == 409 and r.json()["code"] == "not_your_loan"
    # Opening B's session ended A's on the same terminal.
    assert client.get(f"{V}/loans", headers=a).status_code == 401


def test_session_bound_to_terminal_and_expires(api, enrol, settings):
    client, db = api
    t1, t2 = enrol("k1"), enrol("k2")
    h = _session(client, t1)
    stolen = {**t2, "X-Reader-Session": h["X-Reader-Session"]}
    assert client.get(f"{V}/loans", headers=stolen).status_code == 401
    import datetime as dt

    from sqlalchemy import update

    from library.storage.models import utcnow
    from server.models import ReaderSession

    with db.transaction() as s:
        s.execute(update(ReaderSession).values(last_seen=utcnow() - dt.timedelta(seconds=61)))
    r = client.get(f"{V}/loans", headers=h)
    assert r.status_code == 401 and r.json()["code"] == "session_expired"


def test_pin_and_rate_limit(api, enrol):
    client, _ = api
    auth = enrol("k1")
    assert client.post(f"{V}/session", json={"card": "CPIN"}, headers=auth).json()["code"] == "pin_required"
    assert client.post(f"{V}/session", json={"card": "CPIN", "pin": "4321"}, headers=auth).status_code == 200
    for _ in range(5):
        r = client.post(f"{V}/session", json={"card": "CPIN", "pin": "000"}, headers=auth)
        assert r.status_code == 409 and r.json()["code"] == "wrong_pin"
    # The card is locked (in the database, on every terminal), even for the right PIN ...
    for h in (auth, enrol("k2")):
        r = client.post(f"{V}/session", json={"card": "CPIN", "pin": "4321"}, headers=h)
        assert r.status_code == 429 and r.json()["code"] == "card_locked"
        assert int(r.headers["Retry-After"]) > 60
    # ... but one card's wrong PINs lock no other reader out of the terminal.
    assert client.post(f"{V}/session", json={"card": "C5A"}, headers=auth).status_code == 200
    # Distinct unknown cards are what a terminal is limited in (5 a minute here).
    for i in range(4):
        assert client.post(f"{V}/session", json={"card": f"NOPE{i}"}, headers=auth).status_code == 422
    r = client.post(f"{V}/session", json={"card": "C1B"}, headers=auth)
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
    # Another terminal is not blocked by this one's probes.
    assert client.post(f"{V}/session", json={"card": "C5A"}, headers=enrol("k3")).status_code == 200


def _media_readers_and_files(db, tmp_path, settings):
    """An on-site item next to the conftest's three, a staff and an odd-category reader, and a
    real file behind every item, in a configured media folder; {title: id}."""
    from sqlalchemy import select

    from library.storage.models import MediaItem, Reader

    with db.transaction() as s:
        s.add(MediaItem(path="/m/d.mp4", title="Только в ИБЦ", kind="video", access="onsite"))
        s.add_all([Reader(card_number="CS", first_name="Анна", last_name="Белова", category="staff"),
                   Reader(card_number="CG", first_name="Гость", last_name="Гостев", category="guest")])
        s.flush()
        ids = {}
        for m in s.scalars(select(MediaItem)):
            m.path = str(tmp_path / f"{m.id}.mp4")
            (tmp_path / f"{m.id}.mp4").write_bytes(b"film %d" % m.id)
            ids[m.title] = m.id
    settings.media.roots = [str(tmp_path)]  # the server serves files from media folders only
    return ids


def test_media_access_filter(api, enrol, tmp_path, settings):
    """GET /media lists what library.access lets the session's reader see, with the flags."""
    client, db = api
    _media_readers_and_files(db, tmp_path, settings)
    auth = enrol("k1")

    def listed(h):
        r = client.get(f"{V}/media", headers=h)
        assert r.status_code == 200, r.text
        return {m["title"]: (m["access"], m["downloadable"]) for m in r.json()}

    pupils = {"Фотосинтез": ("everyone", True), "Только в ИБЦ": ("onsite", False)}
    adults = {**pupils, "Контрольная: ответы": ("teachers", True), "Гимн": ("teachers", True)}
    assert listed(auth) == pupils  # no session: never more than a pupil
    assert listed(_session(client, auth, "C5A")) == pupils
    assert listed(_session(client, auth, "CG")) == pupils  # unknown category: a pupil
    assert listed(_session(client, auth, "CT")) == adults
    assert listed(_session(client, auth, "CS")) == adults
    assert client.get(f"{V}/media").status_code == 401  # no terminal token


@pytest.mark.parametrize(("card", "codes"), [
    # everyone, onsite, teachers, unknown level
    (None, (200, 403, 404, 404)),
    ("C5A", (200, 403, 404, 404)),
    ("CG", (200, 403, 404, 404)),
    ("CT", (200, 403, 200, 200)),
    ("CS", (200, 403, 200, 200)),
])
def test_media_file_download_follows_the_access_table(api, enrol, tmp_path, settings, card,
                                                      codes):
    """GET /media/{id}/file: on-site never (403 onsite_only), hidden items look absent (404)."""
    client, db = api
    ids = _media_readers_and_files(db, tmp_path, settings)
    auth = enrol("k1")
    h = auth if card is None else _session(client, auth, card)
    got = []
    for title in ("Фотосинтез", "Только в ИБЦ", "Контрольная: ответы", "Гимн"):
        r = client.get(f"{V}/media/{ids[title]}/file", headers=h)
        got.append(r.status_code)
        if r.status_code == 200:
            assert r.content == b"film %d" % ids[title]
        elif r.status_code == 403:
            assert r.json()["code"] == "onsite_only"
    assert tuple(got) == codes
    assert client.get(f"{V}/media/{ids['Фотосинтез']}/file").status_code == 401


def test_only_teachers_and_staff_run_the_station(api, enrol):
    client, _ = api
    auth = enrol("k1")
    for card in ("C5A", "CPIN"):
        h = _session(client, auth, card, pin="4321" if card == "CPIN" else None)
        r = client.get(f"{V}/media/station", headers=h)
        assert r.status_code == 403 and r.json()["code"] == "teachers_only"
    assert client.get(f"{V}/media/station", headers=auth).status_code == 401  # no session
    assert client.get(f"{V}/media/station", headers=_session(client, auth, "CT")).status_code != 403


def test_librarian_endpoints_need_librarian_token(api, enrol):
    client, db = api
    auth = enrol("k1")
    assert client.get(f"{V}/admin/overdue", headers=auth).status_code == 401
    lib = {"Authorization": f"Bearer {security.create_librarian_token(db, 'anna')}"}
    assert client.get(f"{V}/admin/overdue", headers=lib).status_code == 200
    names = {t["name"] for t in client.get(f"{V}/admin/terminals", headers=lib).json()}
    assert names == {"k1", "anna"}
    # A librarian token is not a terminal token.
    assert client.get(f"{V}/search", headers=lib).status_code == 401


@pytest.mark.parametrize("body,status", [
    (b"{not json", 422),
    (b'{"barcode": 5, "txn_id": []}', 422),
    (b'{"barcode": "1001", "txn_id": "x", "admin": true}', 422),
    (b'{"barcode": "1001", "txn_id": "../../etc/passwd"}', 422),
    (b'{"barcode": "\'; DROP TABLE loans; --", "txn_id": "x1"}', 422),
])
def test_bad_input_is_a_clear_4xx(api, enrol, body, status):
    client, _ = api
    h = _session(client, enrol("k1"))
    r = client.post(f"{V}/checkout", content=body, headers={**h, "Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["code"] in ("invalid_request", "item_not_found")
    assert r.json()["message"]


def test_huge_body_and_path_traversal(api, enrol, settings):
    client, _ = api
    h = enrol("k1")
    big = b'{"card": "' + b"x" * (settings.server.max_body_bytes + 10) + b'"}'
    r = client.post(f"{V}/session", content=big, headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    assert client.get(f"{V}/records/..%2F..%2Fetc%2Fpasswd", headers=h).status_code in (404, 422)
    assert client.get(f"{V}/../../etc/passwd", headers=h).status_code == 404
    r = client.get(f"{V}/search", params={"q": "' OR 1=1; DROP TABLE records; --"}, headers=h)
    assert r.status_code == 200


def test_search_hides_teachers_only_media_from_pupils(api, enrol):
    client, db = api
    from sqlalchemy import select

    from library.search import index_records
    from library.storage.models import MediaItem
    from media.store import sync_records

    with db.transaction() as s:
        items = list(s.scalars(select(MediaItem)))
        index_records(s, sync_records(s, items))
    auth = enrol("k1")

    def titles(headers, q="контрольная ответы"):
        r = client.get(f"{V}/search", params={"q": q}, headers=headers)
        assert r.status_code == 200, r.text
        return [h["title"] for h in r.json()["hits"]]

    assert titles(auth) == []  # no session: pupil level
    assert titles(_session(client, auth, "C5A")) == []
    assert titles({**auth, "X-Reader-Session": "ended-or-forged"}) == []
    assert titles(_session(client, auth, "CT")) == ["Контрольная: ответы"]
    assert titles(auth, "фотосинтез") == ["Фотосинтез"]
    hit = client.get(f"{V}/search", params={"q": "фотосинтез"}, headers=auth).json()["hits"][0]
    assert (hit["type"], hit["access"], hit["downloadable"]) == ("media", "everyone", True)


def test_each_reader_session_is_one_visit(api, enrol):
    from sqlalchemy import select

    from library.storage.models import Event

    client, db = api
    auth = enrol("k1")
    _session(client, auth)
    _session(client, auth, "C1B")
    with db.session() as s:
        visits = s.execute(select(Event.terminal, Event.reader_class).where(Event.kind == "visit")).all()
    assert len(visits) == 2 and {v.terminal for v in visits} == {"k1"}


def test_the_error_tree_is_mapped_once_never_a_bare_500(db, settings):
    """library.errors.IbcError reaching the API: not found → 404, storage → 503 with
    Retry-After, any other deliberate error → 400 with its stable code; only a bug is a 500."""
    from fastapi.testclient import TestClient

    from library.errors import IbcError, NotFound, StorageError
    from media.errors import LessonNotFound, ScreenUnavailable
    from server.app import create_app

    app = create_app(settings, db)
    raised = {"missing": NotFound("no such record"), "storage": StorageError("disk full"),
              "screen": ScreenUnavailable("нет экрана"), "plain": IbcError("deliberate"),
              "lesson": LessonNotFound(name="Рим"),
              "bug": KeyError("a bug")}

    def boom(kind: str):
        raise raised[kind]

    app.add_api_route("/boom/{kind}", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        got = {k: client.get(f"/boom/{k}") for k in raised}
    assert got["missing"].status_code == 404 and got["missing"].json()["code"] == "not_found"
    assert got["storage"].status_code == 503 and got["storage"].headers["Retry-After"] == "60"
    assert got["storage"].json()["code"] == "storage_unavailable"
    assert got["screen"].status_code == 409 and got["screen"].json()["code"] == "media_refused"
    assert got["plain"].status_code == 400 and got["plain"].json()["code"] == "error"
    lesson = got["lesson"].json()
    assert got["lesson"].status_code == 409 and lesson["reason"] == "lesson_not_found"
    assert lesson["message"] == "Нет урока «Рим»" and lesson["message_en"] == "There is no lesson “Рим”"
    assert lesson["params"] == {"name": "Рим"}
    assert got["bug"].status_code == 500 and got["bug"].json()["code"] == "internal"
    assert "a bug" not in got["bug"].text


def test_the_wire_schemas_mirror_the_circulation_values():
    """server/schemas.py spells the API's JSON apart from library/circulation/values.py on
    purpose (the wire contract changes only deliberately); this keeps the two from drifting."""
    import dataclasses

    from library.circulation.values import HoldView, LoanOutcome, LoanView
    from server.schemas import HoldOut, LoanOut, OutcomeOut

    for value, schema in ((LoanOutcome, OutcomeOut), (LoanView, LoanOut), (HoldView, HoldOut)):
        fields = {f.name: f for f in dataclasses.fields(value)}
        assert list(fields) == list(schema.model_fields), (value.__name__, schema.__name__)
        for name, field in fields.items():
            default = None if field.default is dataclasses.MISSING else field.default
            wire = schema.model_fields[name]
            assert (None if wire.is_required() else wire.default) == default, name
