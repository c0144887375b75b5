"""Media per school over the terminal API (docs/SCHOOLS.md «Media per school»): GET /media lists
the terminal's school's items and the shared ones; another school's file looks absent."""

from __future__ import annotations

from sqlalchemy import select

from library.storage.models import MediaItem
from server import security

V = "/api/v1"


def _terminal(client, db, name, sigla=None):
    code = security.create_enrol_code(db, 5, sigla=sigla)
    r = client.post(f"{V}/terminals/enrol", json={"code": code, "name": name})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_a_terminal_lists_and_serves_its_schools_media_and_the_shared(api, tmp_path, settings):
    from library import schools

    client, db = api
    with db.transaction() as s:
        schools.add_school(s, "ГИМН5", "Гимназия № 5")
        s.add_all([MediaItem(path="/m/g.mp4", title="Урок гимназии", kind="video",
                             access="everyone", sigla="ГИМН5"),
                   MediaItem(path="/m/h.mp4", title="Урок школы № 1", kind="video",
                             access="everyone", sigla="ИБЦ")])
        s.flush()
        ids = {}
        for m in s.scalars(select(MediaItem)):
            m.path = str(tmp_path / f"{m.id}.mp4")
            (tmp_path / f"{m.id}.mp4").write_bytes(b"film %d" % m.id)
            ids[m.title] = m.id
    settings.media.roots = [str(tmp_path)]
    home = _terminal(client, db, "kiosk-home")  # the default school
    gym = _terminal(client, db, "kiosk-gym", "ГИМН5")

    def listed(h):
        r = client.get(f"{V}/media", headers=h)
        assert r.status_code == 200, r.text
        return sorted(m["title"] for m in r.json())

    # «Фотосинтез» (conftest) was scanned before schools: shared by the whole city
    assert listed(home) == ["Урок школы № 1", "Фотосинтез"]
    assert listed(gym) == ["Урок гимназии", "Фотосинтез"]
    assert client.get(f"{V}/media/{ids['Урок гимназии']}/file", headers=gym).status_code == 200
    assert client.get(f"{V}/media/{ids['Фотосинтез']}/file", headers=gym).status_code == 200
    r = client.get(f"{V}/media/{ids['Урок гимназии']}/file", headers=home)
    assert r.status_code == 404 and r.json()["code"] == "not_found"  # another school's: absent
    assert client.get(f"{V}/media/{ids['Урок школы № 1']}/file", headers=gym).status_code == 404


def test_a_teacher_plays_and_saves_only_the_schools_and_the_shared_items(api):
    from library import schools

    client, db = api
    with db.transaction() as s:
        schools.add_school(s, "ГИМН5", "Гимназия № 5")
        home_item = MediaItem(path="/m/h.mp4", title="Урок школы № 1", kind="video",
                              access="everyone", sigla="ИБЦ")
        s.add(home_item)
        s.flush()
        home_id = home_item.id
        shared_id = s.scalar(select(MediaItem.id).where(MediaItem.title == "Фотосинтез"))
    gym = _terminal(client, db, "kiosk-gym", "ГИМН5")
    r = client.post(f"{V}/session", json={"card": "CT"}, headers=gym)
    assert r.status_code == 200, r.text
    teacher = {**gym, "X-Reader-Session": r.json()["session"]}
    for path, body in ((f"{V}/media/play", {"item_id": home_id}),
                       (f"{V}/media/play", {"items": [shared_id, home_id]}),
                       (f"{V}/media/lessons", {"name": "Урок", "items": [home_id]})):
        r = client.post(path, json=body, headers=teacher)
        assert r.status_code == 409 and r.json()["reason"] == "media_not_found", (path, r.text)
    # a lesson saved with another school's item (saved before the item got its school)
    from library.storage.models import Lesson, Reader
    from server.media_remote import teacher_key

    with db.transaction() as s:
        key = teacher_key(s.scalar(select(Reader.id).where(Reader.card_number == "CT")))
        s.add_all([Lesson(teacher=key, name="Старый урок", media_ids=[shared_id, home_id]),
                   Lesson(teacher=key, name="Общий урок", media_ids=[shared_id])])
    r = client.post(f"{V}/media/play", json={"lesson": "Старый урок"}, headers=teacher)
    assert r.status_code == 409 and r.json()["reason"] == "media_not_found", r.text
    # shared items and a shared lesson pass the school's check (this test server runs no station)
    for body in ({"item_id": shared_id}, {"lesson": "Общий урок"}, {"lesson": "Нет такого"}):
        r = client.post(f"{V}/media/play", json=body, headers=teacher)
        assert r.status_code == 409 and r.json()["code"] == "station_off", (body, r.text)
