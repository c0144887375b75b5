"""The desk's readers section over HTTP (TestClient, SQLite and PostgreSQL): search, add, edit,
block, PINs, unlock, cards, class-list import, the school-year move, and the CLI's promote."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
from sqlalchemy import func, select

from tests.desk.conftest import ADMIN_PASSWORD, csrf, logged_in
from tests.server.conftest import TODAY

STALE = "Страница устарела: обновите её"


def _audit(db, action: str | None = None) -> list[tuple[str, str, dict]]:
    from server.models import DeskAudit

    with db.session() as s:
        rows = [(a.actor, a.action, a.detail) for a in s.scalars(select(DeskAudit).order_by(DeskAudit.id))]
    return [r for r in rows if r[1] != "account_added" and (action is None or r[1] == action)]


def _reader(db, card: str):
    from library.storage.models import Reader

    with db.session() as s:
        r = s.scalar(select(Reader).where(Reader.card_number == card))
        assert r is not None, card
        s.expunge(r)
        return r


def _service(db, settings):
    from library.circulation.service import CirculationService

    return CirculationService.from_settings(db, settings.circulation, today=lambda: TODAY)


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/desk/readers/\d+">([^<]+)</a>', html)


def test_no_login_redirects_and_no_change(desk):
    make, db = desk
    client = make()
    rid = _reader(db, "C5A").id
    for path in ("/desk/readers", "/desk/readers/new", f"/desk/readers/{rid}", "/desk/readers/cards",
                 "/desk/readers/import", "/desk/readers/school-year", f"/desk/readers/{rid}/card.pdf"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/desk/login", path
    for path, data in (("/desk/readers/new", {"last_name": "Новиков", "first_name": "Лев", "class_name": "5А"}),
                       (f"/desk/readers/{rid}/block", {"reason": "потерял книгу"}),
                       ("/desk/readers/school-year", {})):
        r = client.post(path, data={**data, "csrf": "x"})
        assert r.status_code == 303 and r.headers["location"] == "/desk/login"
    assert not _reader(db, "C5A").blocked and _audit(db) == []


def test_search_prefix_case_and_yo(desk):
    from library.storage.models import Reader

    make, db = desk
    with db.transaction() as s:
        s.add_all([Reader(card_number="Y1", last_name="Ёлкин", first_name="Пётр", class_name="5А"),
                   Reader(card_number="Y2", last_name="Елисеева", first_name="Нина", class_name="5Б"),
                   Reader(card_number="Y3", last_name="Старый", first_name="Выпускник", class_name="11А",
                          active=False, archived_at=dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc))])
    client = logged_in(make)
    page = client.get("/desk/readers")
    assert page.status_code == 200 and 'id="q"' in page.text and "autofocus" in page.text
    assert _names(client.get("/desk/readers", params={"q": "ел"}).text) == ["Ёлкин Пётр", "Елисеева Нина"]
    assert _names(client.get("/desk/readers", params={"q": "ЁЛК"}).text) == ["Ёлкин Пётр"]
    assert _names(client.get("/desk/readers", params={"q": "петр"}).text) == ["Ёлкин Пётр", "Петрова Аня"]
    assert _names(client.get("/desk/readers", params={"q": "cpi"}).text) == ["Орлова Оля"]
    assert _names(client.get("/desk/readers", params={"q": "7а"}).text) == ["Орлов Петя", "Петрова Аня"]
    assert _names(client.get("/desk/readers", params={"q": "орлов петя"}).text) == ["Орлов Петя"]
    assert _names(client.get("/desk/readers", params={"klass": "7 а"}).text) == ["Орлов Петя", "Петрова Аня"]
    assert _names(client.get("/desk/readers", params={"q": "стар"}).text) == []
    archived = client.get("/desk/readers", params={"q": "стар", "archived": "1"}).text
    assert _names(archived) == ["Старый Выпускник"] and "в архиве" in archived
    blocked = client.get("/desk/readers", params={"q": "CBLK"}).text
    assert "заблокирован" in blocked and '/desk/circulation?card=CBLK' in blocked
    assert "Никого не нашли" in client.get("/desk/readers", params={"q": "щщщ"}).text


def test_search_pages(desk):
    from library.storage.models import Reader

    make, db = desk
    with db.transaction() as s:
        s.add_all([Reader(card_number=f"P{i:03}", last_name=f"Пагин{i:03}", first_name="Ученик",
                          class_name="3В") for i in range(60)])
    client = logged_in(make)
    first = client.get("/desk/readers", params={"klass": "3В"}).text
    assert len(_names(first)) == 50 and "страница 1 из 2" in first and "page=2" in first
    second = client.get("/desk/readers", params={"klass": "3В", "page": 2}).text
    assert _names(second) == [f"Пагин{i:03} Ученик" for i in range(50, 60)]


def test_add_reader_generated_and_typed_card_duplicate_refused(desk):
    make, db = desk
    client = logged_in(make)
    form = client.get("/desk/readers/new")
    assert form.status_code == 200 and 'name="last_name"' in form.text
    token = csrf(form.text)
    r = client.post("/desk/readers/new", data={"csrf": token, "last_name": " Новиков ", "first_name": "Лев",
                                               "class_name": "5 а", "category": "pupil", "card_number": ""})
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert "Читатель добавлен" in page.text and "Новиков Лев" in page.text
    new = _reader(db, "000001")
    assert (new.last_name, new.class_name, new.category) == ("Новиков", "5А", "pupil")
    # the same pupil again (a form sent twice, or a namesake): asked first, added when confirmed
    same = {"csrf": token, "last_name": "Новиков", "first_name": "Лев", "class_name": "5А", "category": "pupil"}
    r = client.post("/desk/readers/new", data=same)
    assert r.status_code == 409 and "Такой читатель уже есть" in r.text and "билет 000001" in r.text
    assert 'name="same_ok" value="000001"' in r.text and "Всё равно добавить" in r.text
    r = client.post("/desk/readers/new", data={**same, "same_ok": "000001"})
    assert r.status_code == 303 and _reader(db, "000002").last_name == "Новиков"
    r = client.post("/desk/readers/new", data={"csrf": token, "last_name": "Новикова", "first_name": "Ева",
                                               "class_name": "", "category": "teacher", "card_number": "000777"})
    assert r.status_code == 303
    r = client.post("/desk/readers/new", data={"csrf": token, "last_name": "Третий", "first_name": "Тим",
                                               "class_name": "2Б", "category": "pupil", "card_number": ""})
    assert r.status_code == 303 and _reader(db, "000778").last_name == "Третий"
    # a taken card: refused next to the field, the form kept, nothing written
    r = client.post("/desk/readers/new", data={"csrf": token, "last_name": "Двойник", "first_name": "Иван",
                                               "class_name": "6Б", "category": "pupil", "card_number": "C5A"})
    assert r.status_code == 400 and "уже есть у другого читателя" in r.text
    assert 'value="Двойник"' in r.text and 'id="card_number-error"' in r.text
    # a pupil without a class, a bad class, no surname
    r = client.post("/desk/readers/new", data={"csrf": token, "last_name": "", "first_name": "Иван",
                                               "class_name": "5ЖЖ", "category": "pupil"})
    assert r.status_code == 400 and "Заполните это поле" in r.text and "Класс пишется так: 5А" in r.text
    r = client.post("/desk/readers/new", data={"csrf": token, "last_name": "А", "first_name": "Б",
                                               "category": "pupil"})
    assert r.status_code == 400 and "Ученику нужен класс" in r.text
    with db.session() as s:
        from library.storage.models import Reader

        assert s.scalar(select(func.count()).select_from(Reader).where(Reader.last_name.in_(["Двойник", "А"]))) == 0
    added = _audit(db, "reader_added")
    assert [a[2]["card"] for a in added] == ["000001", "000002", "000777", "000778"]
    assert added[0][0] == "marina" and added[0][2]["generated"] is True


def test_csrf_refused_and_nothing_changed(desk):
    make, db = desk
    client = logged_in(make)
    rid = _reader(db, "C5A").id
    for path, data in (("/desk/readers/new", {"last_name": "Новиков", "first_name": "Лев", "class_name": "5А"}),
                       (f"/desk/readers/{rid}/edit", {"last_name": "Другая", "first_name": "Аня", "class_name": "7А"}),
                       (f"/desk/readers/{rid}/block", {"reason": "потерял книгу"}),
                       (f"/desk/readers/{rid}/pin", {"pin": "2580", "pin2": "2580"}),
                       (f"/desk/readers/{rid}/pin/clear", {}), (f"/desk/readers/{rid}/unlock", {}),
                       (f"/desk/readers/{rid}/restore", {})):
        for token in (None, "wrong"):
            body = data if token is None else {**data, "csrf": token}
            r = client.post(path, data=body)
            assert r.status_code == 403 and STALE in r.text, path
    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    r = boss.post("/desk/readers/school-year", data={"csrf": "nope"})
    assert r.status_code == 403
    r = client.post("/desk/readers/import", data={"csrf": "nope"},
                    files={"file": ("5a.csv", "ФИО;Класс;Номер билета\nНов Лев;5А;N1\n".encode())})
    assert r.status_code == 403
    reader = _reader(db, "C5A")
    assert (reader.last_name, reader.blocked, reader.pin_hash) == ("Петрова", False, None)
    assert _reader(db, "C1B").class_name == "1Б"
    assert [a[1] for a in _audit(db)] == ["login", "login"]


def test_edit_reader(desk):
    make, db = desk
    client = logged_in(make)
    rid = _reader(db, "C5A").id
    token = csrf(client.get(f"/desk/readers/{rid}").text)
    r = client.post(f"/desk/readers/{rid}/edit", data={
        "csrf": token, "last_name": "Петрова", "first_name": "Анна", "middle_name": "Ивановна",
        "class_name": "8а", "category": "pupil", "card_number": "C5A-2"})
    assert r.status_code == 303
    reader = _reader(db, "C5A-2")
    assert (reader.first_name, reader.middle_name, reader.class_name) == ("Анна", "Ивановна", "8А")
    (actor, _, detail), = _audit(db, "reader_changed")
    assert actor == "marina" and detail["card"] == "C5A" and detail["new_card"] == "C5A-2"
    assert detail["fields"] == "card_number,class_name,first_name,middle_name" and detail["class_name"] == "7А → 8А"
    assert "Анна" not in json.dumps(detail, ensure_ascii=False)  # names stay out of the log
    r = client.post(f"/desk/readers/{rid}/edit", data={
        "csrf": token, "last_name": "Петрова", "first_name": "Анна", "class_name": "8А",
        "category": "pupil", "card_number": "CT"})
    assert r.status_code == 400 and "уже есть у другого читателя" in r.text and 'value="CT"' in r.text
    assert _reader(db, "C5A-2").card_number == "C5A-2"
    assert client.get("/desk/readers/999999").status_code == 404
    assert client.get("/desk/readers/abc").status_code in (404, 422)


def test_block_and_unblock_with_reason_service_follows(desk, settings):
    from library.circulation import errors as E

    make, db = desk
    client = logged_in(make)
    rid = _reader(db, "C5A").id
    token = csrf(client.get(f"/desk/readers/{rid}").text)
    r = client.post(f"/desk/readers/{rid}/block", data={"csrf": token, "reason": " ", "action": "block"})
    assert r.status_code == 400 and "Напишите причину" in r.text and not _reader(db, "C5A").blocked
    r = client.post(f"/desk/readers/{rid}/block", data={"csrf": token, "reason": "Не вернул учебник",
                                                        "action": "block"})
    assert r.status_code == 303
    reader = _reader(db, "C5A")
    assert reader.blocked and reader.block_reason == "Не вернул учебник"
    page = client.get(f"/desk/readers/{rid}?ok=blocked").text
    assert "Читатель заблокирован" in page and "Снять блокировку" in page
    service = _service(db, settings)
    with pytest.raises(E.ReaderBlocked):
        service.checkout("C5A", "2001", str(uuid.uuid4()))
    r = client.post(f"/desk/readers/{rid}/block", data={"csrf": token, "reason": "Вернул", "action": "unblock"})
    assert r.status_code == 303
    reader = _reader(db, "C5A")
    assert not reader.blocked and reader.block_reason is None
    assert service.checkout("C5A", "2001", str(uuid.uuid4())).action == "checkout"
    assert [(a[1], a[2]["reason"]) for a in _audit(db) if a[1].startswith("reader_")] == [
        ("reader_blocked", "Не вернул учебник"), ("reader_unblocked", "Вернул")]


def test_pin_set_clear_and_unlock(desk, settings):
    from library.circulation import pin_guard
    from library.circulation.pin_guard import GuessLimits

    make, db = desk
    client = logged_in(make)
    rid = _reader(db, "C5A").id
    token = csrf(client.get(f"/desk/readers/{rid}").text)
    for pin, pin2, msg in (("2580", "2581", "ПИН-коды не совпали"), ("12", "12", "цифр"),
                           ("1234", "1234", "легко угадать"), ("25a0", "25a0", "цифр")):
        r = client.post(f"/desk/readers/{rid}/pin", data={"csrf": token, "pin": pin, "pin2": pin2})
        assert r.status_code == 400 and 'id="pin-error"' in r.text, pin
        assert msg.lower() in r.text.lower(), (pin, r.text[-2000:])
    assert _reader(db, "C5A").pin_hash is None
    r = client.post(f"/desk/readers/{rid}/pin", data={"csrf": token, "pin": "2580", "pin2": "2580"})
    assert r.status_code == 303
    service = _service(db, settings)
    assert service.check_pin("C5A", "2580") and not service.check_pin("C5A", "9999")
    # wrong PINs lock the card; the page shows it and unlocks it
    limits = GuessLimits.from_settings(settings.circulation)
    with db.transaction() as s:
        while pin_guard.reserve(s, rid, limits) is None:  # the wrong 9999 above took one slot
            pin_guard.failed(s, rid, limits)
    page = client.get(f"/desk/readers/{rid}").text
    assert "Билет заперт" in page and "Разблокировать билет" in page
    assert "билет заперт" in client.get("/desk/readers", params={"q": "C5A"}).text
    r = client.post(f"/desk/readers/{rid}/unlock", data={"csrf": token})
    assert r.status_code == 303 and r.headers["location"].endswith("ok=unlocked")
    assert service.check_pin("C5A", "2580")
    r = client.post(f"/desk/readers/{rid}/pin/clear", data={"csrf": token})
    assert r.status_code == 303 and _reader(db, "C5A").pin_hash is None
    assert "ПИН-код снят" in client.get(r.headers["location"]).text
    assert [(a[1], a[2]["card"]) for a in _audit(db) if a[1] in ("pin_set", "pin_cleared", "card_unlocked")] == [
        ("pin_set", "C5A"), ("card_unlocked", "C5A"), ("pin_cleared", "C5A")]
    assert all("2580" not in json.dumps(a[2]) for a in _audit(db))


def test_cards_are_pdfs(desk):
    make, db = desk
    client = logged_in(make)
    rid = _reader(db, "C5A").id
    one = client.get(f"/desk/readers/{rid}/card.pdf")
    assert one.status_code == 200 and one.headers["content-type"] == "application/pdf"
    assert one.content.startswith(b"%PDF") and "attachment" in one.headers["content-disposition"]
    form = client.get("/desk/readers/cards")
    assert form.status_code == 200 and '<option value="7А"' in form.text
    klass = client.get("/desk/readers/cards", params={"klass": "7а"})
    assert klass.status_code == 200 and klass.content.startswith(b"%PDF") and len(klass.content) > len(one.content)
    assert client.get("/desk/readers/cards", params={"klass": "4Г"}).status_code == 400
    assert "Класс пишется так" in client.get("/desk/readers/cards", params={"klass": "<b>"}).text


def test_class_list_import_report(desk):
    make, db = desk
    client = logged_in(make)
    token = csrf(client.get("/desk/readers/import").text)
    text = ("ФИО;Класс;Номер билета\n"
            "Новикова Ева Петровна;5 б;N100\n"
            "Петрова Аня;8А;C5A\n"
            ";5Б;N101\n"
            "Кто-то Такой;99Я;N102\n"
            f"Длинный Билет;5Б;{'9' * 100}\n"
            "<b>Злой</b> Кот;5Б;N103\n")
    r = client.post("/desk/readers/import", data={"csrf": token},
                    files={"file": ("5b.csv", text.encode("utf-8"), "text/csv")})
    assert r.status_code == 200, r.text
    assert re.search(r'id="updated">1<', r.text)
    assert re.search(r'id="skipped">3<', r.text) and re.search(r'id="added">2<', r.text)
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td>", r.text)
    assert rows == [("2", "N100"), ("3", "C5A"), ("4", ""), ("5", ""), ("6", ""), ("7", "N103")]
    assert "нужны фамилия и имя" in r.text and "класс «99Я» пишется не так, как 5А" in r.text
    assert "номер билета: до 64 знаков" in r.text and "<b>Злой" not in r.text
    assert "добавлен" in r.text and "обновлён" in r.text and "ошибка" in r.text
    assert _reader(db, "N100").class_name == "5Б" and _reader(db, "C5A").class_name == "8А"
    (_actor, _, detail), = _audit(db, "readers_imported")
    assert detail == {"read": 6, "added": 2, "updated": 1, "skipped": 3}
    assert _reader(db, "N103").last_name == "<b>Злой</b>"
    # not a class list, a wrong type, no file
    r = client.post("/desk/readers/import", data={"csrf": token},
                    files={"file": ("x.csv", b"\x00\x01garbage", "text/csv")})
    assert r.status_code == 400 and "не читается" in r.text
    r = client.post("/desk/readers/import", data={"csrf": token},
                    files={"file": ("x.csv", "Фамилия;Имя\nА;Б\n".encode(), "text/csv")})
    assert r.status_code == 400 and "нужны «ФИО»" in r.text
    r = client.post("/desk/readers/import", data={"csrf": token},
                    files={"file": ("x.xlsx", b"not a zip", "application/octet-stream")})
    assert r.status_code == 400 and "не читается" in r.text
    r = client.post("/desk/readers/import", data={"csrf": token},
                    files={"file": ("x.exe", b"MZ", "application/octet-stream")})
    assert r.status_code == 400 and "CSV или XLSX" in r.text
    assert len(_audit(db, "readers_imported")) == 1


def test_class_list_xlsx(desk, tmp_path):
    from openpyxl import Workbook

    make, db = desk
    client = logged_in(make)
    wb = Workbook()
    ws = wb.active
    ws.append(["Фамилия", "Имя", "Класс", "Номер билета"])
    ws.append(["Зайцев", "Олег", "6В", "X1"])
    wb.save(tmp_path / "6v.xlsx")
    token = csrf(client.get("/desk/readers/import").text)
    r = client.post("/desk/readers/import", data={"csrf": token},
                    files={"file": ("6v.xlsx", (tmp_path / "6v.xlsx").read_bytes())})
    assert r.status_code == 200 and re.search(r'id="added">1<', r.text)
    assert _reader(db, "X1").class_name == "6В"


def _school(db):
    """A school: 5А (2 pupils), 10Б (1), 11А (2, one with a book), a teacher, an odd class."""
    from library.storage.models import Copy, Loan, Reader

    with db.transaction() as s:
        s.add_all([Reader(card_number="S1", last_name="Альфа", first_name="А", class_name="5А"),
                   Reader(card_number="S2", last_name="Бета", first_name="Б", class_name="5А"),
                   Reader(card_number="S3", last_name="Гамма", first_name="В", class_name="10Б"),
                   Reader(card_number="S4", last_name="Дельта", first_name="Г", class_name="11А"),
                   Reader(card_number="S5", last_name="Эпсилон", first_name="Д", class_name="11А"),
                   Reader(card_number="S6", last_name="Учитель", first_name="Е", class_name="5А",
                          category="teacher"),
                   Reader(card_number="S7", last_name="Кружок", first_name="Ж", class_name="Кружок")])
        s.flush()
        s4 = s.scalar(select(Reader.id).where(Reader.card_number == "S4"))
        copy = s.scalar(select(Copy.id).where(Copy.barcode == "3001"))
        s.add(Loan(copy_id=copy, reader_id=s4, issued_at=dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc),
                   due_date=dt.date(2026, 5, 31)))


def test_school_year_preview_move_idempotent(desk):
    make, db = desk
    _school(db)
    librarian = logged_in(make)
    preview = librarian.get("/desk/readers/school-year")
    assert preview.status_code == 200
    text = re.sub(r"\s+", " ", preview.text)
    assert "Новый учебный год 2026/2027" in text
    assert "5А → 6А: 2 ученика" in text and "7А → 8А: 2 ученика" in text and "10Б → 11Б: 1 ученик" in text
    assert "11А: выпуск, 2 ученика, из них 1 с книгами на руках" in text
    assert "Кружок: 1 ученик" in text
    assert "Перевести классы</button>" not in text and "только администратор" in text
    r = librarian.post("/desk/readers/school-year", data={"csrf": csrf(preview.text)})
    assert r.status_code == 403 and _reader(db, "S1").class_name == "5А"

    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    page = boss.get("/desk/readers/school-year").text
    assert "Перевести классы</button>" in page
    r = boss.post("/desk/readers/school-year", data={"csrf": csrf(page)})
    assert r.status_code == 200 and "Классы переведены" in r.text
    assert [_reader(db, c).class_name for c in ("S1", "S2", "S3", "C5A", "CBLK", "C1B", "CPIN")] == [
        "6А", "6А", "11Б", "8А", "8А", "2Б", "10В"]
    for card in ("S4", "S5"):
        leaver = _reader(db, card)
        assert not leaver.active and leaver.archived_at is not None and leaver.class_name == "11А"
    teacher, odd = _reader(db, "S6"), _reader(db, "S7")
    assert (teacher.class_name, teacher.active, odd.class_name) == ("5А", True, "Кружок")
    from library.storage.models import Loan

    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Loan).where(Loan.returned_at.is_(None))) == 1
    s4 = _reader(db, "S4").id
    page = boss.get(f"/desk/readers/{s4}").text
    assert "в архиве" in page and "Анна Каренина" in page and "Вернуть из архива" in page
    # twice in one school year: refused, nobody moves again
    r = boss.post("/desk/readers/school-year", data={"csrf": csrf(page)})
    assert r.status_code == 409 and "уже переведены" in r.text
    assert _reader(db, "S1").class_name == "6А" and _reader(db, "S3").class_name == "11Б"
    assert "уже переведены" in boss.get("/desk/readers/school-year").text
    (actor, _, detail), = _audit(db, "school_year_moved")
    assert actor == "boss" and detail == {"year": 2026, "pupils": 7, "leavers": 2, "with_loans": 1}
    # one leaver stays a year more: back from the archive (the class as it was)
    r = librarian.post(f"/desk/readers/{s4}/restore", data={"csrf": csrf(preview.text)})
    assert r.status_code == 303 and "возвращён из архива" in librarian.get(r.headers["location"]).text
    back = _reader(db, "S4")
    assert back.active and back.archived_at is None and back.class_name == "11А"
    assert [a[2]["card"] for a in _audit(db, "reader_restored")] == ["S4"]


def test_school_year_rules_and_anonymisation(db):
    from library.circulation import school_year as sy
    from library.storage.models import Loan, Reader, SchoolYearMove
    from tests.server.conftest import populate

    populate(db)
    _school(db)
    assert sy.school_year(dt.date(2026, 9, 1)) == 2026 and sy.school_year(dt.date(2027, 5, 31)) == 2026
    assert sy.school_year(dt.date(2027, 6, 1)) == 2027
    assert sy.next_class("5А") == "6А" and sy.next_class("10Б") == "11Б" and sy.next_class("Кружок") is None
    with db.session() as s:
        small = sy.plan(s, TODAY, last_grade=9)
    assert small.leaving == {"9В": 1, "10Б": 1, "11А": 2}
    done = sy.promote(db, TODAY, actor="cli")
    assert done.pupils_moved == 7 and done.leavers == 2
    with pytest.raises(sy.SchoolYearDone):
        sy.promote(db, dt.date(2027, 3, 1), actor="cli")
    next_year = sy.promote(db, dt.date(2027, 9, 1), actor="cli")
    assert next_year.year == 2027 and next_year.leaving == {"11Б": 1}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SchoolYearMove)) == 2
    # anonymisation: only leavers archived long enough, without an open loan
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)
    assert sy.anonymise_archived(db, 365, now=later) == 2  # S5 and S3 (archived 2027), not S4 (a book)
    with db.session() as s:
        gone = s.scalars(select(Reader).where(Reader.anonymised_at.is_not(None))).all()
        assert {(r.last_name, r.first_name, r.card_number.startswith("~"), r.class_name) for r in gone} == {
            ("", "", True, "11А"), ("", "", True, "11Б")}
        assert s.scalar(select(Reader.last_name).where(Reader.card_number == "S4")) == "Дельта"
        assert s.scalar(select(func.count()).select_from(Loan)) == 1
    assert sy.anonymise_archived(db, 365, now=later) == 0


def test_hostile_input_shown_escaped(desk):
    make, db = desk
    client = logged_in(make)
    r = client.get("/desk/readers", params={"q": "<script>alert(1)</script>' OR 1=1 --"})
    assert r.status_code == 200 and "<script>alert" not in r.text and "&lt;script&gt;" in r.text
    r = client.get("/desk/readers", params={"q": "a\x00b"})
    assert r.status_code == 400 and "Недопустимые символы" in r.text
    assert client.get("/desk/readers", params={"q": "я" * 10_000}).status_code == 200
    for rid in ("0", "-1", "9" * 30, str(2**31)):
        assert client.get(f"/desk/readers/{rid}").status_code == 404
        assert client.get(f"/desk/readers/{rid}/card.pdf").status_code == 404
    for page in ("abc", "-5", "9" * 50, "0"):
        assert client.get("/desk/readers", params={"page": page}).status_code == 200
    assert client.get("/desk/readers", params={"klass": "'; DROP TABLE readers; --"}).status_code == 400
    token = csrf(client.get("/desk/readers/new").text)
    r = client.post("/desk/readers/new", data={"csrf": token, "last_name": "<b>Злой</b>", "first_name": "x" * 10_000,
                                               "class_name": "5А", "card_number": "a\x07b"})
    assert r.status_code == 400 and "Не длиннее 100 знаков" in r.text and "Без пробелов" in r.text
    assert "<b>Злой</b>" not in r.text and "&lt;b&gt;Злой&lt;/b&gt;" in r.text
    r = client.post("/desk/readers/new", data={"csrf": token, "last_name": "<b>Злой</b>", "first_name": "Ъ",
                                               "class_name": "5А", "card_number": "<i>1</i>"})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "<b>Злой" not in page and "&lt;b&gt;Злой" in page and "<i>1</i>" not in page
    rid = _reader(db, "<i>1</i>").id
    r = client.post(f"/desk/readers/{rid}/block", data={"csrf": token, "reason": "x\x1b[31m" * 3})
    assert r.status_code == 400 and "Недопустимые символы" in r.text
    r = client.post(f"/desk/readers/{rid}/block", data={"csrf": token, "reason": "я" * 10_000})
    assert r.status_code == 400 and "Не длиннее 255" in r.text
    r = client.post(f"/desk/readers/{rid}/pin", data={"csrf": token, "pin": "7" * 10_000, "pin2": "7" * 10_000})
    assert r.status_code == 400


def test_cli_promote(tmp_path):
    from tests.desk.conftest import ibc
    from tests.server.conftest import write_config

    cfg = tmp_path / "ibc.toml"
    write_config(cfg, f"sqlite:///{tmp_path / 'l.sqlite3'}", "cli", advertise=False)
    assert ibc(cfg, "db", "upgrade").returncode == 0
    csv = tmp_path / "list.csv"
    csv.write_text("ФИО;Класс;Номер билета\nАльфа Аня;5А;K1\nБета Боря;11Б;K2\n", encoding="utf-8")
    assert ibc(cfg, "readers", "import", str(csv)).returncode == 0
    dry = ibc(cfg, "readers", "promote", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert plan["moves"] == [{"old": "5А", "new": "6А", "pupils": 1}] and plan["leaving"] == {"11Б": 1}
    assert plan["done_at"] is None
    done = ibc(cfg, "readers", "promote")
    assert done.returncode == 0 and "5А → 6А: 1" in done.stdout, done.stdout + done.stderr
    again = ibc(cfg, "readers", "promote")
    assert again.returncode == 1 and "уже" in again.stderr
    assert json.loads(ibc(cfg, "readers", "promote", "--dry-run", "--json").stdout)["done_at"]
    anon = ibc(cfg, "anonymise")  # the leaver was archived today: kept for archived_keep_days
    assert anon.returncode == 0 and "anonymised 0 archived readers" in anon.stdout


def test_school_year_parallel_moves_once(db):
    """Two moves started at once (two desks, or the desk and the CLI): one moves, one is told."""
    import threading

    from library.circulation import school_year as sy
    from tests.server.conftest import populate

    populate(db)
    _school(db)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        try:
            sy.promote(db, TODAY, actor="t")
            outcomes.append("moved")
        except sy.SchoolYearDone:
            outcomes.append("done")
    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["done", "moved"]
    assert _reader(db, "S1").class_name == "6А" and _reader(db, "S3").class_name == "11Б"
