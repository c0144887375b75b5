"""The desk's textbook titles over HTTP (SQLite and PostgreSQL): the list with filters and
copies, a title's edit (audited, refusals next to the field), removing the data, making any
record a textbook, the federal list CSV upload and its report, login, CSRF, hostile input."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.desk.conftest import csrf, logged_in


def _audit(db) -> list[tuple[str, str, dict]]:
    from server.models import DeskAudit

    with db.session() as s:
        return [(a.actor, a.action, a.detail) for a in s.scalars(select(DeskAudit).order_by(DeskAudit.id))
                if a.action.startswith("textbook")]


def _ids(db) -> dict[str, int]:
    from library.storage.models import Record

    with db.session() as s:
        return {r.key: r.id for r in s.scalars(select(Record))}


def _textbooks(db) -> dict:
    """Two textbooks: «Математика. 5 класс» (item type textbook, no data yet) and «Физика»
    (a book made a textbook at the desk)."""
    from library.storage.models import Copy, Record

    with db.transaction() as s:
        m = Record(key="m5", title="Математика. 5 класс", subtitle="учебник для общеобразоват. организаций",
                   authors=["Виленкин, Наум Яковлевич"], isbn="9785346848608", isbns=["9785346848608"],
                   subjects=["Математика -- Учебники"], item_type="textbook", version=1)
        m.copies = [Copy(sigla="ИБЦ", barcode=f"50{i}", status=st, version=1)
                    for i, st in enumerate(["available", "available", "on_loan", "written_off"])]
        f = Record(key="ph7", title="Физика", subtitle="7 класс", authors=["Пёрышкин, Александр Васильевич"],
                   item_type="book", version=1)
        f.copies = [Copy(sigla="ИБЦ", barcode="601", status="available", version=1)]
        s.add_all([m, f])
    return _ids(db)


def _title(db, record_id):
    from library.storage.models import TextbookTitle

    with db.session() as s:
        t = s.get(TextbookTitle, record_id)
        return None if t is None else (t.subject, t.grade_from, t.grade_to, t.series, t.fpu_number, t.source)


def test_no_login_goes_to_the_login_page(desk):
    make, db = desk
    ids = _textbooks(db)
    client = make()
    for url in ("/desk/textbooks", f"/desk/textbooks/{ids['m5']}", "/desk/textbooks/fpu"):
        r = client.get(url)
        assert r.status_code == 303 and r.headers["location"].startswith("/desk/login"), url
    r = client.post(f"/desk/textbooks/{ids['m5']}", data={"subject": "X", "csrf": "x"})
    assert r.status_code == 303 and r.headers["location"].startswith("/desk/login")
    assert _title(db, ids["m5"]) is None


def test_the_list_shows_textbooks_with_copies_and_filters(desk):
    make, db = desk
    ids = _textbooks(db)
    from library.textbooks.titles import TitleData, set_title

    with db.transaction() as s:
        set_title(s, ids["ph7"], TitleData("Физика", 7, 7, "Линия УМК Пёрышкина", "1.1.2.5.1.1.1"))
    client = logged_in(make)
    r = client.get("/desk/textbooks")
    assert r.status_code == 200
    html = r.text
    assert "Математика. 5 класс" in html and "Физика" in html
    assert "Война и мир" not in html  # a book without textbook data is no textbook
    assert "Учебников: 2; экземпляров: 4, на полке: 3" in html  # written off copies do not count
    assert f'href="/desk/catalogue/record/{ids["m5"]}"' in html
    assert "1.1.2.5.1.1.1" in html and "Линия УМК Пёрышкина" in html
    r = client.get("/desk/textbooks", params={"grade": "7"})
    assert "Физика" in r.text and "Математика. 5 класс" not in r.text
    r = client.get("/desk/textbooks", params={"subject": "физика"})
    assert "Физика" in r.text and "Математика. 5 класс" not in r.text
    r = client.get("/desk/textbooks", params={"grade": "99"})  # an impossible grade is ignored
    assert r.status_code == 200 and "Математика. 5 класс" in r.text


def test_edit_a_title_is_saved_and_audited(desk):
    make, db = desk
    ids = _textbooks(db)
    client = logged_in(make)
    page = client.get(f"/desk/textbooks/{ids['m5']}")
    assert page.status_code == 200
    # a suggestion from the catalogue, not saved yet
    assert 'value="Математика"' in page.text and 'value="5"' in page.text and "Ещё не сохранено" in page.text
    assert _title(db, ids["m5"]) is None
    r = client.post(f"/desk/textbooks/{ids['m5']}", data={
        "csrf": csrf(page.text), "subject": " Математика ", "grades": "5-6", "series": "МГУ — школе",
        "fpu": "1.1.2.4.1.1.1"})
    assert r.status_code == 303 and r.headers["location"] == f"/desk/textbooks/{ids['m5']}?done=saved"
    assert _title(db, ids["m5"]) == ("Математика", 5, 6, "МГУ — школе", "1.1.2.4.1.1.1", "desk")
    assert _audit(db) == [("marina", "textbook_set", {"record": ids["m5"], "subject": "Математика",
                                                      "grades": "5-6", "series": "МГУ — школе",
                                                      "fpu": "1.1.2.4.1.1.1"})]
    r = client.get(r.headers["location"])
    assert "Сохранено." in r.text and "заданы вручную" in r.text
    # the catalogue's extraction never overwrites it
    from library.textbooks.titles import extract

    with db.transaction() as s:
        report = extract(s)
    assert report.kept == 1
    assert _title(db, ids["m5"])[5] == "desk"


def test_any_record_becomes_a_textbook_and_back(desk):
    make, db = desk
    ids = _textbooks(db)
    client = logged_in(make)
    r = client.get("/desk/textbooks", params={"find": "Война"})
    assert f'href="/desk/textbooks/{ids["war"]}"' in r.text
    page = client.get(f"/desk/textbooks/{ids['war']}")
    assert "пока не учебник" in page.text
    token = csrf(page.text)
    r = client.post(f"/desk/textbooks/{ids['war']}", data={"csrf": token, "subject": "Литература",
                                                          "grades": "10"})
    assert r.status_code == 303
    assert "Война и мир" in client.get("/desk/textbooks", params={"grade": "10"}).text
    r = client.post(f"/desk/textbooks/{ids['war']}", data={"csrf": token, "action": "clear"})
    assert r.status_code == 303 and r.headers["location"].endswith("done=cleared")
    assert _title(db, ids["war"]) is None
    assert "Война и мир" not in client.get("/desk/textbooks").text
    assert [a[1] for a in _audit(db)] == ["textbook_set", "textbook_cleared"]
    assert client.get("/desk/textbooks", params={"find": "нетакогослова"}).text.count("ничего не найдено")


def test_csrf_missing_or_wrong_changes_nothing(desk):
    make, db = desk
    ids = _textbooks(db)
    client = logged_in(make)
    for token in (None, "wrong"):
        data = {"subject": "Хакерство", "grades": "5"}
        if token:
            data["csrf"] = token
        r = client.post(f"/desk/textbooks/{ids['m5']}", data=data)
        assert r.status_code == 403
        r = client.post("/desk/textbooks/fpu", data={"csrf": token or ""},
                        files={"file": ("f.csv", "номер;название\n1.1.1;Математика\n".encode())})
        assert r.status_code == 403
    assert _title(db, ids["m5"]) is None and _audit(db) == []


def test_bad_values_are_refused_next_to_the_field(desk):
    make, db = desk
    ids = _textbooks(db)
    client = logged_in(make)
    token = csrf(client.get(f"/desk/textbooks/{ids['m5']}").text)
    cases = [({"grades": "12"}, "grades"), ({"grades": "7-5"}, "grades"), ({"grades": "пятый"}, "grades"),
             ({"fpu": "1.1.x"}, "fpu"), ({"subject": "x" * 10_000}, "subject"),
             ({"subject": "Мат\x00ематика"}, "subject"), ({"series": "a\x1bb"}, "series")]
    for fields, name in cases:
        r = client.post(f"/desk/textbooks/{ids['m5']}", data={"csrf": token, "subject": "Математика", **fields})
        assert r.status_code == 400, fields
        assert f'id="{name}-error"' in r.text and 'aria-invalid="true"' in r.text, fields
        assert "\x00" not in r.text and "\x1b" not in r.text
    assert _title(db, ids["m5"]) is None and _audit(db) == []
    # markup-ish and SQL-ish text is data: saved as typed, shown escaped
    evil = "<script>alert(1)</script>'; DROP TABLE records; --"
    r = client.post(f"/desk/textbooks/{ids['m5']}", data={"csrf": token, "subject": evil, "series": evil})
    assert r.status_code == 303
    html = client.get("/desk/textbooks").text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert _title(db, ids["m5"])[0] == evil
    assert client.get("/desk/textbooks/999999").status_code == 404
    for big in ("99999999999999999999", "2147483648", "0"):
        assert client.get(f"/desk/textbooks/{big}").status_code == 404
        assert client.post(f"/desk/textbooks/{big}", data={"csrf": token, "subject": "X"}).status_code == 404
    assert client.post("/desk/textbooks/999999", data={"csrf": token, "subject": "X"}).status_code == 404
    assert client.post("/desk/textbooks/999999", data={"csrf": token, "action": "clear"}).status_code == 404
    assert client.get("/desk/textbooks", params={"subject": evil, "find": evil}).status_code == 200


FPU = ("№ в ФПУ;Предмет;Авторы;Наименование учебника;Класс;Наименование издателя;ISBN\n"
       "1.1.2.4.1.1.1;Математика;Виленкин Н.Я. и др.;Математика;5;Мнемозина;\n"
       "1.1.2.5.1.1.1;Физика;Пёрышкин А.В.;Физика;7;Просвещение;\n"
       "1.1.2.5.1.2.1;Физика;Пёрышкин А.В.;Физика;8;Просвещение;\n"
       "1.1.2.7.1.1.1;Химия;Габриелян О.С.;Химия;8;Просвещение;\n"
       "abc;Химия;Габриелян О.С.;Химия;9;Просвещение;\n"
       ";Химия;;;;;\n")


def test_fpu_upload_fills_matched_records_and_reports_every_row(desk):
    make, db = desk
    ids = _textbooks(db)
    client = logged_in(make)
    page = client.get("/desk/textbooks/fpu")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert "Перечень ещё не загружали." in page.text
    r = client.post("/desk/textbooks/fpu", data={"csrf": csrf(page.text), "dry_run": "1"},
                    files={"file": ("fpu.csv", FPU.encode("cp1251"), "text/csv")})
    assert r.status_code == 200
    assert 'id="fpu-rows">6<' in r.text and 'id="fpu-matched">2<' in r.text
    assert _title(db, ids["m5"]) is None and _audit(db) == []  # only checked
    r = client.post("/desk/textbooks/fpu", data={"csrf": csrf(page.text)},
                    files={"file": ("fpu.csv", FPU.encode("utf-8"), "text/csv")})
    assert r.status_code == 200
    html = r.text
    assert 'id="fpu-matched">2<' in html and 'id="fpu-unmatched">2<' in html and 'id="fpu-errors">2<' in html
    assert "Номер в федеральном перечне — числа через точку" in html and "В строке нет названия." in html
    assert _title(db, ids["m5"]) == ("Математика", 5, 5, None, "1.1.2.4.1.1.1", "fpu")
    assert _title(db, ids["ph7"]) == ("Физика", 7, 7, None, "1.1.2.5.1.1.1", "fpu")  # not the 8th grade's
    page = client.get("/desk/textbooks/fpu")
    assert "Учебников в перечне: 4" in page.text and "в каталоге нет 2 из них" in page.text
    assert "1.1.2.7.1.1.1" in page.text and "1.1.2.5.1.2.1" in page.text and "Габриелян" in page.text
    page = client.get("/desk/textbooks/fpu", params={"grade": "8"})
    assert "Учебники перечня, которых нет в каталоге: 2" in page.text
    page = client.get("/desk/textbooks/fpu", params={"grade": "7"})
    assert "Учебники перечня, которых нет в каталоге: 0" in page.text
    (actor, action, detail), = _audit(db)
    assert (actor, action) == ("marina", "textbook_fpu_import")
    assert detail["rows"] == 6 and detail["matched"] == 2 and detail["errors"] == 2 and detail["file"] == "fpu.csv"


def test_fpu_upload_refusals(desk):
    make, db = desk
    _textbooks(db)
    client = logged_in(make)
    token = csrf(client.get("/desk/textbooks/fpu").text)
    r = client.post("/desk/textbooks/fpu", data={"csrf": token},
                    files={"file": ("x.csv", b"a,b,c\n1,2,3\n", "text/csv")})
    assert r.status_code == 400 and "Это не CSV федерального перечня" in r.text
    r = client.post("/desk/textbooks/fpu", data={"csrf": token}, files={"file": ("x.csv", b"", "text/csv")})
    assert r.status_code == 400 and "Файл пустой." in r.text
    # bigger than the API's 64 KiB body limit, still taken (the route's own limit)
    big = ("номер;название\n" + "".join(f"1.1.{i};Книга {i}\n" for i in range(6000))).encode()
    assert len(big) > 64 * 1024
    r = client.post("/desk/textbooks/fpu", data={"csrf": token}, files={"file": ("big.csv", big, "text/csv")})
    assert r.status_code == 200 and 'id="fpu-unmatched">6000<' in r.text
    # over the desk's upload limit: a page of the desk, nothing read
    r = client.post("/desk/textbooks/fpu", content=b"x" * 10, headers={
        "content-type": "multipart/form-data; boundary=b", "content-length": str(200 * 1024 * 1024)})
    assert r.status_code == 413 and "ibc textbooks fpu-import" in r.text
    assert [a[1] for a in _audit(db)] == ["textbook_fpu_import"]


def test_english_pages(desk):
    make, db = desk
    ids = _textbooks(db)
    client = logged_in(make)
    client.get("/desk/lang/en")
    for url in ("/desk/textbooks", f"/desk/textbooks/{ids['m5']}", "/desk/textbooks/fpu"):
        r = client.get(url)
        assert r.status_code == 200 and '<html lang="en">' in r.text, url
    assert "School subject" in client.get("/desk/textbooks").text
    from tests.desk.test_i18n import CYRILLIC, _chrome

    for url in ("/desk/textbooks", f"/desk/textbooks/{ids['m5']}", "/desk/textbooks/fpu"):
        html = re.sub(r"<title>.*?</title>", "", client.get(url).text)  # a record's title is data
        assert not [x for x in _chrome(html) if CYRILLIC.search(x) and not x.startswith("Русский")], url
    token = csrf(client.get("/desk/textbooks/fpu").text)
    r = client.post("/desk/textbooks/fpu", data={"csrf": token},
                    files={"file": ("fpu.csv", FPU.encode("utf-8"), "text/csv")})
    assert "Rows with errors" in r.text and "The row has no title." in r.text
    r = client.post(f"/desk/textbooks/{ids['m5']}", data={"csrf": token, "grades": "12"})
    assert r.status_code == 400 and "Grades: one grade or a range from 1 to 11" in r.text
