"""/desk/requests over HTTP (SQLite and PostgreSQL; docs/HOLDS.md «Pickup school and
inter-school requests»): the gymnasium's desk sees Школа № 2's request and sends the book, Школа
№ 2's desk receives it for its pupil; replayed forms, CSRF, hostile input, another school's
page refused, audit rows; a single school's holds page has no link to it."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from tests.desk.conftest import csrf, logged_in

A, B = "ГИМН5", "ШК2"


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _txn(page: str, action: str) -> str:
    m = re.search(r'action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', page, re.S)
    assert m, page
    t = re.search(r'name="txn" value="([^"]+)"', m.group(1))
    assert t
    return t.group(1)


def _city(db) -> None:
    from library import schools
    from library.storage.models import Copy, Reader, Record

    with db.transaction() as s:
        schools.add_school(s, A, "Гимназия № 5")
        schools.add_school(s, B, "Школа № 2")
        rec = Record(key="timur", title="Тимур и его команда", authors=["Гайдар, Аркадий"])
        rec.copies = [Copy(sigla=A, barcode="GT1", status="available", shelf_mark="84Р")]
        s.add_all([rec, Reader(card_number="B1R", first_name="Боря", last_name="Ершов",
                               class_name="5Б", category="pupil", sigla=B)])


def _request(client, db) -> int:
    from library.storage.models import Record

    with db.session() as s:
        rid = s.scalar(select(Record.id).where(Record.key == "timur"))
    return client.app.state.ibc.circulation.place_hold("B1R", rid, "kiosk-h1").hold_id


def _scan(client, page: str, action: str, school: str, barcode: str, txn: str | None = None):
    return client.post(f"/desk/requests/{action}", data={
        "csrf": csrf(page), "txn": txn or _txn(page, f"/desk/requests/{action}"),
        "school": school, "barcode": barcode})


def _audit(db) -> list[tuple[str, str, str]]:
    from server.models import DeskAudit

    with db.session() as s:
        return [(a.actor, a.action, a.detail.get("outcome")) for a in s.scalars(
            select(DeskAudit).where(DeskAudit.action.like("transfer_%")).order_by(DeskAudit.id))]


def test_send_and_receive_at_two_desks(desk):
    make, db = desk
    _city(db)
    client = logged_in(make)
    _request(client, db)
    home = client.get("/desk/requests")
    assert home.status_code == 200
    assert "Другие школы ничего у нас не просят." in _text(home.text)  # the default school's
    assert 'href="/desk/requests"' in client.get("/desk/holds").text
    page = client.get("/desk/requests", params={"school": A})
    text = _text(page.text)
    assert "Запросы других школ: Гимназия № 5" in text
    assert "Тимур и его команда Гайдар Школа № 2" in text and "1 (84Р)" in text
    sent = _scan(client, page.text, "send", A, "GT1")
    assert sent.status_code == 200, sent.text
    assert "Отправлено в Школа № 2: «Тимур и его команда» (GT1)" in _text(sent.text)
    again = _scan(client, page.text, "send", A, "GT1")  # the same form once more
    assert "Уже сделано" in _text(again.text) and "Отправлено в Школа № 2" in _text(again.text)
    outgoing = _text(client.get("/desk/requests", params={"school": A}).text)
    assert "Книги, которые едут от нас (1)" in outgoing and "GT1 Тимур и его команда Школа № 2" in outgoing
    there = client.get("/desk/requests", params={"school": B})
    assert "GT1 Тимур и его команда Гимназия № 5" in _text(there.text)
    assert "Боря Е., 5Б" in _text(there.text)
    wrong = _scan(client, page.text, "receive", A, "GT1")
    assert wrong.status_code == 409 and "Этот экземпляр не едет в нашу школу" in _text(wrong.text)
    got = _scan(client, there.text, "receive", B, "GT1")
    assert got.status_code == 200
    assert re.search(r"«Тимур и его команда» приехала: поставьте на полку заказов\. "
                     r"Ждёт: Боря Е\., 5Б, до \d\d\.\d\d\.2026\.", _text(got.text))
    assert _audit(db) == [("marina", "transfer_send", "sent"),
                          ("marina", "transfer_receive", "waiting")]


def test_refusals_and_hostile_input(desk):
    make, db = desk
    _city(db)
    client = logged_in(make)
    page = client.get("/desk/requests", params={"school": A}).text
    none = _scan(client, page, "send", A, "GT1")
    assert none.status_code == 409 and "Другие школы не просили «Тимур и его команда»" in none.text
    mine = _scan(client, page, "send", "ИБЦ", "GT1", txn="t-other")
    assert mine.status_code == 409 and "нет на полке нашей школы" in _text(mine.text)
    evil = _scan(client, page, "send", A, "<script>x</script>", txn="t-evil")
    assert evil.status_code == 409 and "<script>x" not in evil.text
    assert _scan(client, page, "send", A, "\x00\x07 ", txn="t-ctl").status_code == 400
    assert _scan(client, page, "send", A, "GT1", txn="bad txn with spaces").status_code == 400
    assert client.post("/desk/requests/send", data={"txn": "t1", "school": A,
                                                    "barcode": "GT1"}).status_code == 403
    assert client.get("/desk/requests", params={"school": "НЕТ"}).status_code == 404
    assert client.get("/desk/requests", params={"school": "x" * 65}).status_code == 422
    assert _scan(client, page, "send", "НЕТ", "GT1", txn="t-nope").status_code == 404
    anon = make()
    r = anon.get("/desk/requests")
    assert r.status_code == 303 and r.headers["location"].startswith("/desk/login")
    assert _audit(db) == []


def test_a_schools_librarian_sees_only_their_school(desk):
    from server.desk.accounts import add_account
    from tests.desk.conftest import PASSWORD

    make, db = desk
    _city(db)
    add_account(db, "gymlib", PASSWORD, school=A)  # the account's school column: ГИМН5
    _request(logged_in(make), db)
    client = logged_in(make, "gymlib")
    own = client.get("/desk/requests")
    assert own.status_code == 200 and "Запросы других школ: Гимназия № 5" in _text(own.text)
    assert 'id="school"' not in own.text  # no chooser
    assert client.get("/desk/requests", params={"school": B}).status_code == 403
    assert client.get("/desk/requests", params={"school": A}).status_code == 200
    r = _scan(client, own.text, "receive", B, "GT1")
    assert r.status_code == 403
    assert _scan(client, own.text, "send", A, "GT1").status_code == 200
    assert _audit(db) == [("gymlib", "transfer_send", "sent")]


def test_a_schools_desk_return_of_another_schools_copy_sends_it_home(desk):
    from server.desk.accounts import add_account
    from tests.desk.conftest import PASSWORD

    make, db = desk
    _city(db)
    add_account(db, "schlib", PASSWORD, school=B)
    svc = make().app.state.ibc.circulation
    _request(logged_in(make), db)
    svc.send_copy("GT1", A, "s1")
    svc.receive_copy("GT1", B, "r1")
    svc.checkout("B1R", "GT1", "c1")
    client = logged_in(make, "schlib")
    page = client.get("/desk/circulation")
    r = client.post("/desk/circulation/return", data={"csrf": csrf(page.text), "barcode": "GT1",
                                                      "txn": "desk-ret-1"})
    assert r.status_code == 200, r.text
    assert "отправьте её туда" in _text(r.text)
    out = _text(client.get("/desk/requests").text)
    assert "Книги, которые едут от нас (1)" in out and "GT1 Тимур и его команда Гимназия № 5" in out
    assert [t.to_sigla for t in svc.transfers()] == [A]


def test_one_school_has_no_requests(desk):
    make, db = desk
    client = logged_in(make)
    assert 'href="/desk/requests"' not in client.get("/desk/holds").text
    page = client.get("/desk/requests")
    assert page.status_code == 200
    assert "В сервисе одна школа" in _text(page.text)
