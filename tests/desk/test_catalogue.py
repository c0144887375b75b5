"""The desk's catalogue over HTTP (TestClient, SQLite and PostgreSQL): search with facets, the
barcode jump, the record page, adding and editing copies (unique barcode, no write-off while on
loan, a new change-feed version, the audit row), the MARC upload in the background with its
progress page and report, an interrupted job, the upload limit, the export read back by pymarc,
login, CSRF and hostile input."""

from __future__ import annotations

import datetime as dt
import io
import re

import pymarc
import pytest
from pymarc import Field, Indicators, Subfield
from sqlalchemy import func, select

from tests.desk.conftest import csrf, logged_in
from tests.server.conftest import TODAY

STALE = "Страница устарела: обновите её"


# ------------------------------------------------------------------ helpers

@pytest.fixture
def cat(desk):
    """`desk`, with the change-feed counter at the versions populate() stamped (as every real
    writer leaves it), so a bump is seen as a newer version."""
    from sqlalchemy import update

    from library.storage.models import Counter

    _make, db = desk
    with db.transaction() as s:
        s.execute(update(Counter).where(Counter.name == "catalogue").values(value=1))
    return desk


def _marc(n: int, barcode: str, title: str | None = None) -> bytes:
    """One MARC21 record in UTF-8 (pymarc), with a copy in 852."""
    r = pymarc.Record(force_utf8=True)
    r.add_field(Field(tag="001", data=f"cat-test-{n}"))
    r.add_field(Field(tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", f"978517000{n:04d}")]))
    r.add_field(Field(tag="100", indicators=Indicators("1", " "), subfields=[Subfield("a", "Пушкин, Александр")]))
    r.add_field(Field(tag="245", indicators=Indicators("1", "0"),
                      subfields=[Subfield("a", title or f"Сказки о рыбаке {n}")]))
    r.add_field(Field(tag="260", indicators=Indicators(" ", " "), subfields=[Subfield("b", "Детгиз"), Subfield("c", "2019")]))
    r.add_field(Field(tag="650", indicators=Indicators(" ", "7"), subfields=[Subfield("a", "Сказки")]))
    r.add_field(Field(tag="852", indicators=Indicators(" ", " "),
                      subfields=[Subfield("a", "ИБЦ"), Subfield("p", barcode), Subfield("h", "84(2)1")]))
    return r.as_marc()


def _broken(n: int) -> bytes:
    """A record whose directory is damaged (a field length of letters)."""
    raw = bytearray(_marc(n, f"99{n}"))
    raw[27:31] = b"ab12"
    return bytes(raw)


def _audit(db, action: str | None = None) -> list[tuple[str, str, dict]]:
    from server.models import DeskAudit

    with db.session() as s:
        q = select(DeskAudit).order_by(DeskAudit.id)
        if action:
            q = q.where(DeskAudit.action == action)
        return [(a.actor, a.action, a.detail) for a in s.scalars(q)]


def _copy(db, barcode: str):
    from library.storage.models import Copy

    with db.session() as s:
        c = s.scalar(select(Copy).where(Copy.barcode == barcode))
        assert c is not None, barcode
        s.expunge(c)
        return c


def _record_id(db, title: str) -> int:
    from library.storage.models import Record

    with db.session() as s:
        return s.scalar(select(Record.id).where(Record.title == title))


def _copy_form(**fields) -> dict:
    return {"barcode": "", "inventory_number": "", "shelf_mark": "", "collection": "",
            "status": "available", **fields}


def _upload(client, data: bytes, name: str = "books.mrc", fmt: str = "auto", token: str | None = None,
            encoding: str = "auto"):
    page = client.get("/desk/catalogue/import")
    assert page.status_code == 200
    return client.post("/desk/catalogue/import",
                       data={"csrf": csrf(page.text) if token is None else token, "format": fmt,
                             "encoding": encoding},
                       files={"file": (name, data, "application/octet-stream")})


def _finished(client, location: str) -> str:
    from server.desk import imports

    job = int(location.rsplit("/", 1)[1])
    assert imports.wait(job, 60), "the import did not end"
    page = client.get(location)
    assert page.status_code == 200
    return page.text


# ------------------------------------------------------------------ login, CSRF, roles

def test_no_page_without_login(cat):
    make, db = cat
    client = make()
    rid = _record_id(db, "Война и мир")
    for path in ("/desk/catalogue", "/desk/catalogue?q=война", f"/desk/catalogue/record/{rid}",
                 "/desk/catalogue/copy/1", "/desk/catalogue/import", "/desk/catalogue/import/1",
                 "/desk/catalogue/export?format=marcxml"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/desk/login", path
    for path, data in ((f"/desk/catalogue/record/{rid}/copies", _copy_form(barcode="5555")),
                       ("/desk/catalogue/copy/1", _copy_form(barcode="1001", status="lost"))):
        r = client.post(path, data={"csrf": "x", **data})
        assert r.status_code == 303 and r.headers["location"] == "/desk/login"
    r = client.post("/desk/catalogue/import", data={"csrf": "x"},
                    files={"file": ("a.mrc", _marc(1, "7001"), "application/octet-stream")})
    assert r.status_code == 303 and r.headers["location"] == "/desk/login"
    assert _copy(db, "1001").status == "available"
    assert not _audit(db, "copy_changed") and not _audit(db, "import_started")


def test_csrf_missing_or_wrong_changes_nothing(cat):
    from server.models import DeskImport

    make, db = cat
    client = logged_in(make)
    rid = _record_id(db, "Война и мир")
    copy = _copy(db, "1001")
    for token in (None, "", "forged"):
        data = _copy_form(barcode="1001", status="written_off")
        if token is not None:
            data["csrf"] = token
        r = client.post(f"/desk/catalogue/copy/{copy.id}", data=data)
        assert r.status_code == 403 and STALE in r.text
        r = client.post(f"/desk/catalogue/record/{rid}/copies", data={**data, "barcode": "5555"})
        assert r.status_code == 403
        r = _upload(client, _marc(1, "7001"), token=token or "")
        assert r.status_code == 403 and STALE in r.text
    after = _copy(db, "1001")
    assert (after.status, after.version) == ("available", copy.version)
    from library.storage.models import Copy

    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Copy).where(Copy.barcode == "5555")) == 0
        assert s.scalar(select(func.count()).select_from(DeskImport)) == 0
    assert not _audit(db, "copy_changed") and not _audit(db, "copy_added")


# ------------------------------------------------------------------ search

def test_search_pages_hits_with_counts_and_facets(cat):
    make, db = cat
    client = logged_in(make)
    page = client.get("/desk/catalogue")
    assert page.status_code == 200
    assert re.search(r'<input id="q" name="q" type="text" value="" [^>]*autofocus', page.text)
    assert '<label for="q">' in page.text and 'id="catalogue-size">3<' in page.text
    r = client.get("/desk/catalogue", params={"q": "толстой"})
    assert r.status_code == 200
    assert "Найдено: 3" in r.text
    for title in ("Война и мир", "Денискины рассказы", "Анна Каренина"):
        assert title in r.text
    assert "Экземпляров: 2, на месте: <strong>2</strong>" in r.text
    assert "<h3>Автор</h3>" in r.text and "<h3>Наличие</h3>" in r.text
    assert "Толстой, Лев Николаевич" in r.text
    # a copy out: its record counts one on the shelf (the index follows the edit)
    copy = _copy(db, "3001")
    edit = client.get(f"/desk/catalogue/copy/{copy.id}")
    r = client.post(f"/desk/catalogue/copy/{copy.id}",
                    data={"csrf": csrf(edit.text), **_copy_form(barcode="3001", shelf_mark="84(2Рос=Рус)1",
                                                                status="bindery")})
    assert r.status_code == 303
    r = client.get("/desk/catalogue", params={"q": "каренина"})
    assert "Экземпляров: 2, на месте: <strong>1</strong>" in r.text
    # a facet narrows: «Есть на полке» keeps the records with a copy available
    link = re.search(r'href="(/desk/catalogue\?q=[^"]*available=yes[^"]*)"', r.text)
    assert link, r.text
    narrowed = client.get(link.group(1).replace("&amp;", "&"))
    assert narrowed.status_code == 200 and "Выбрано:" in narrowed.text


def test_search_paging_and_the_current_search_export_link(cat):
    from library.search import index_records
    from library.storage.models import Record

    make, db = cat
    with db.transaction() as s:
        recs = [Record(key=f"p{i}", title=f"Задачник по физике {i}", authors=["Перышкин, А. В."])
                for i in range(45)]
        s.add_all(recs)
        s.flush()
        index_records(s, [r.id for r in recs])
    client = logged_in(make)
    first = client.get("/desk/catalogue", params={"q": "задачник"})
    assert "Найдено: 45" in first.text and "Дальше →" in first.text and "← Назад" not in first.text
    assert first.text.count('class="cat-title"') == 20
    third = client.get("/desk/catalogue", params={"q": "задачник", "page": 3})
    assert third.text.count('class="cat-title"') == 5 and "Дальше →" not in third.text
    assert 'start="41"' in third.text
    assert client.get("/desk/catalogue", params={"q": "задачник", "page": 0}).status_code == 422
    assert "/desk/catalogue/export?format=iso2709&amp;flavour=marc21&amp;q=%D0%B7" in first.text


def test_a_scanned_barcode_or_inventory_number_opens_its_record(cat):
    from library.storage.models import Copy

    make, db = cat
    client = logged_in(make)
    copy = _copy(db, "2002")
    r = client.get("/desk/catalogue", params={"q": " 2002 "})
    assert r.status_code == 303
    assert r.headers["location"] == f"/desk/catalogue/record/{copy.record_id}#copy-{copy.id}"
    with db.transaction() as s:
        s.get(Copy, copy.id).inventory_number = "ИНВ-77"
    r = client.get("/desk/catalogue", params={"q": "ИНВ-77"})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/desk/catalogue/record/{copy.record_id}")
    assert client.get("/desk/catalogue", params={"q": "999999"}).status_code == 200  # no such copy


def test_hostile_input_is_shown_escaped_and_cut(cat):
    make, db = cat
    client = logged_in(make)
    for q in ('<script>alert(1)</script>', "'; DROP TABLE records; --", "a\x00b\x1b[2J", "ж" * 10_000):
        r = client.get("/desk/catalogue", params={"q": q, "author": "<b>x</b>", "decade": "19x0"})
        assert r.status_code == 200, q
        assert "<script>alert" not in r.text and "<b>x</b>" not in r.text
        assert "\x00" not in r.text and "\x1b" not in r.text
    assert "&lt;script&gt;" in client.get("/desk/catalogue", params={"q": "<script>"}).text
    with db.session() as s:
        from library.storage.models import Record

        assert s.scalar(select(func.count()).select_from(Record)) == 3
    assert client.get("/desk/catalogue/record/99999999").status_code == 404
    assert client.get("/desk/catalogue/record/abc").status_code == 422
    assert client.get("/desk/catalogue/copy/99999999").status_code == 404
    assert client.get("/desk/catalogue/import/99999999").status_code == 404
    assert client.get("/desk/catalogue/record/" + "9" * 30).status_code in (404, 422)


# ------------------------------------------------------------------ record page and copies

def test_record_page_shows_the_record_and_its_copies_not_the_reader(cat):
    from library.storage.models import Loan, Reader, Record

    make, db = cat
    rid = _record_id(db, "Война и мир")
    with db.transaction() as s:
        rec = s.get(Record, rid)
        rec.publisher, rec.year, rec.isbn, rec.isbns = "Эксмо", 2015, "9785699120147", ["9785699120147"]
        rec.subjects, rec.annotation, rec.age_rating = ["Роман-эпопея"], "Роман о войне 1812 года.", "12+"
        reader = s.scalar(select(Reader).where(Reader.card_number == "C5A"))
        copy = _copy(db, "1002")
        s.add(Loan(copy_id=copy.id, reader_id=reader.id, due_date=TODAY + dt.timedelta(days=14)))
    client = logged_in(make)
    r = client.get(f"/desk/catalogue/record/{rid}")
    assert r.status_code == 200
    for text in ("Война и мир", "Толстой, Лев Николаевич", "Эксмо", "2015", "9785699120147",
                 "Роман-эпопея", "Роман о войне 1812 года.", "12+", "1001", "1002", "на месте",
                 "выдан до 19.10.2026", "84(2Рос=Рус)1", "<caption>Экземпляры (2)</caption>"):
        assert text in r.text, text
    for private in ("Петрова", "Аня", "C5A"):
        assert private not in r.text


def test_add_a_copy_bumps_the_version_indexes_and_audits(cat):
    from library.storage.models import Counter

    make, db = cat
    client = logged_in(make)
    rid = _record_id(db, "Денискины рассказы")
    page = client.get(f"/desk/catalogue/record/{rid}")
    with db.session() as s:
        before = s.scalar(select(Counter.value).where(Counter.name == "catalogue")) or 0
    r = client.post(f"/desk/catalogue/record/{rid}/copies",
                    data={"csrf": csrf(page.text), **_copy_form(barcode="2003", inventory_number="И-2003",
                                                                shelf_mark="84(2Рос=Рус)6", status="available")})
    assert r.status_code == 303
    copy = _copy(db, "2003")
    assert r.headers["location"] == f"/desk/catalogue/record/{rid}?saved={copy.id}#copy-{copy.id}"
    assert (copy.record_id, copy.inventory_number, copy.sigla, copy.status) == (rid, "И-2003", "ИБЦ", "available")
    assert copy.version > before
    shown = client.get(r.headers["location"])
    assert "Сохранено: экземпляр 2003" in shown.text and "<caption>Экземпляры (3)</caption>" in shown.text
    assert _audit(db, "copy_added") == [("marina", "copy_added", {
        "record": rid, "copy": copy.id, "barcode": "2003", "inventory": "И-2003", "status": "available"})]
    # the new barcode is found at once (the record was re-indexed in the same transaction)
    jump = client.get("/desk/catalogue", params={"q": "2003"})
    assert jump.status_code == 303 and f"copy-{copy.id}" in jump.headers["location"]
    # and the change feed hands it to the terminals
    from server.feed import changes

    with db.session() as s:
        feed = changes(s, before)
    assert copy.id in [c["id"] for c in feed["copies"]]


def test_a_duplicate_barcode_is_refused_in_words(cat):
    make, db = cat
    client = logged_in(make)
    rid = _record_id(db, "Анна Каренина")
    page = client.get(f"/desk/catalogue/record/{rid}")
    r = client.post(f"/desk/catalogue/record/{rid}/copies",
                    data={"csrf": csrf(page.text), **_copy_form(barcode="1001", shelf_mark="мой шифр")})
    assert r.status_code == 409
    assert "Штрихкод 1001 уже есть у другого экземпляра" in r.text
    assert 'value="мой шифр"' in r.text, "the form keeps what was typed"
    assert re.search(r'id="barcode"[^>]*aria-invalid="true"[^>]*autofocus', r.text)
    other = _copy(db, "3001")
    r = client.post(f"/desk/catalogue/copy/{other.id}",
                    data={"csrf": csrf(page.text), **_copy_form(barcode="2001")})
    assert r.status_code == 409 and "Штрихкод 2001 уже есть" in r.text
    assert _copy(db, "3001").version == other.version
    r = client.post(f"/desk/catalogue/record/{rid}/copies",
                    data={"csrf": csrf(page.text), **_copy_form()})
    assert r.status_code == 400 and "Укажите штрихкод или инвентарный номер" in r.text
    r = client.post(f"/desk/catalogue/record/{rid}/copies",
                    data={"csrf": csrf(page.text), **_copy_form(barcode="12 34")})
    assert r.status_code == 400 and "Штрихкод: без пробелов" in r.text
    r = client.post(f"/desk/catalogue/record/{rid}/copies",
                    data={"csrf": csrf(page.text), **_copy_form(barcode="x" * 10_000)})
    assert r.status_code == 400 and "слишком длинно" in r.text
    r = client.post(f"/desk/catalogue/record/{rid}/copies",
                    data={"csrf": csrf(page.text), **_copy_form(barcode="777", shelf_mark="a\x1bb")})
    assert r.status_code == 400 and "недопустимые символы" in r.text
    r = client.post(f"/desk/catalogue/record/{rid}/copies",
                    data={"csrf": csrf(page.text), **_copy_form(barcode="778", status="on_loan")})
    assert r.status_code == 400 and "Такое состояние нельзя выбрать" in r.text
    r = client.post(f"/desk/catalogue/record/{rid}/copies",
                    data={"csrf": csrf(page.text), **_copy_form(barcode="779", shelf_mark="<i>шифр</i>")})
    assert r.status_code == 303
    shown = client.get(r.headers["location"])
    assert "&lt;i&gt;шифр&lt;/i&gt;" in shown.text and "<i>шифр" not in shown.text
    assert [a[2]["barcode"] for a in _audit(db, "copy_added")] == ["779"]


def test_status_changes_are_versioned_and_audited(cat):
    make, db = cat
    client = logged_in(make)
    copy = _copy(db, "1001")
    page = client.get(f"/desk/catalogue/copy/{copy.id}")
    assert page.status_code == 200
    for option in ("на месте", "в ремонте", "утерян", "списан"):
        assert f">{option}</option>" in page.text
    version = copy.version
    for status in ("bindery", "lost", "written_off", "available"):
        r = client.post(f"/desk/catalogue/copy/{copy.id}",
                        data={"csrf": csrf(page.text), **_copy_form(barcode="1001", inventory_number="И-1",
                                                                    shelf_mark="84(2Рос=Рус)1", status=status)})
        assert r.status_code == 303, r.text
        now = _copy(db, "1001")
        assert now.status == status and now.version > version
        version = now.version
    rows = _audit(db, "copy_changed")
    assert [r[2]["status"] for r in rows] == ["available → bindery", "bindery → lost", "lost → written_off",
                                              "written_off → available"]
    assert rows[0][2]["inventory_number"] == " → И-1" and rows[0][0] == "marina"
    # saving without a change writes nothing
    r = client.post(f"/desk/catalogue/copy/{copy.id}",
                    data={"csrf": csrf(page.text), **_copy_form(barcode="1001", inventory_number="И-1",
                                                                shelf_mark="84(2Рос=Рус)1", status="available")})
    assert r.status_code == 303 and _copy(db, "1001").version == version and len(_audit(db, "copy_changed")) == 4


def test_a_copy_on_loan_cannot_be_written_off(cat):
    from library.storage.models import Loan, Reader

    make, db = cat
    copy = _copy(db, "2001")
    with db.transaction() as s:
        reader = s.scalar(select(Reader).where(Reader.card_number == "C1B"))
        s.add(Loan(copy_id=copy.id, reader_id=reader.id, due_date=dt.date(2026, 10, 20)))
        s.get(type(copy), copy.id).status = "on_loan"
    client = logged_in(make)
    page = client.get(f"/desk/catalogue/copy/{copy.id}")
    assert "Экземпляр выдан до 20.10.2026" in page.text and "Сидоров" not in page.text
    assert '<option value="on_loan" selected>выдан</option>' in page.text
    for status, words in (("written_off", "нельзя списать"), ("lost", "нельзя отметить утерянным")):
        r = client.post(f"/desk/catalogue/copy/{copy.id}",
                        data={"csrf": csrf(page.text), **_copy_form(barcode="2001", status=status)})
        assert r.status_code == 409
        assert f"Экземпляр выдан до 20.10.2026: его {words}, пока его не вернут" in r.text
        assert "оформите возврат" in r.text
    after = _copy(db, "2001")
    assert (after.status, after.version) == ("on_loan", copy.version)
    # the barcode of a loaned copy may still be corrected; its status stays
    r = client.post(f"/desk/catalogue/copy/{copy.id}",
                    data={"csrf": csrf(page.text), **_copy_form(barcode="2001A", status="on_loan")})
    assert r.status_code == 303 and _copy(db, "2001A").status == "on_loan"
    assert not [a for a in _audit(db, "copy_changed") if "status" in a[2]]


def test_the_place_list_comes_from_the_places_rules(cat):
    from library.places.spec import PlaceSpec, RuleSpec
    from library.places.store import add_place

    make, db = cat
    with db.transaction() as s:
        add_place(s, "ИБЦ", PlaceSpec(name="Стеллаж 5", note="учебники",
                                      rules=(RuleSpec(collection="Учебный фонд"),)))
    client = logged_in(make)
    copy = _copy(db, "1001")
    page = client.get(f"/desk/catalogue/copy/{copy.id}")
    assert '<select id="collection" name="collection" aria-describedby="collection-hint">' in page.text
    assert '<option value="Учебный фонд">Учебный фонд — Стеллаж 5 — учебники</option>' in page.text
    r = client.post(f"/desk/catalogue/copy/{copy.id}",
                    data={"csrf": csrf(page.text), **_copy_form(barcode="1001", collection="Учебный фонд")})
    assert r.status_code == 303
    shown = client.get(r.headers["location"])
    assert "Стеллаж 5 — учебники" in shown.text


# ------------------------------------------------------------------ import

def test_upload_imports_in_the_background_and_reports_the_broken_record(cat):
    from library.storage.models import Record

    make, db = cat
    client = logged_in(make)
    data = _marc(1, "7001") + _broken(2) + _marc(3, "7003")
    r = _upload(client, data, name="новые <книги>.mrc")
    assert r.status_code == 303 and re.fullmatch(r"/desk/catalogue/import/\d+", r.headers["location"])
    text = _finished(client, r.headers["location"])
    assert 'http-equiv="refresh"' not in text
    assert 'id="job-state" class="cat-state cat-done">готово<' in text
    assert 'id="added">2<' in text and 'id="failed">1<' in text and 'id="updated">0<' in text
    assert "Прочитано записей: 3 из 3" in text
    assert '<progress id="job-progress" max="100" value="100">' in text
    offset = len(_marc(1, "7001"))
    assert (f"<tr><td>2</td><td>{offset}</td><td>запись повреждена: справочник полей не сходится с "
            f"данными<br><span class=\"cat-muted cat-tech\">bad directory entry 1 &#39;001ab1200000&#39;") in text
    assert "новые &lt;книги&gt;.mrc" in text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 5
    assert _copy(db, "7003").status == "available"
    search = client.get("/desk/catalogue", params={"q": "рыбаке"})
    assert "Найдено: 2" in search.text
    (actor, _action, detail), = _audit(db, "import_started")
    assert actor == "marina" and detail["file"] == "новые <книги>.mrc" and detail["bytes"] == len(data)
    # the same file again: nothing doubles (the import is idempotent)
    again = _finished(client, _upload(client, data).headers["location"])
    assert 'id="added">0<' in again and 'id="updated">2<' in again
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 5
    listing = client.get("/desk/catalogue/import")
    assert listing.text.count("/desk/catalogue/import/") >= 2


def test_upload_refusals(cat, settings):
    from server.models import DeskImport

    make, db = cat
    client = logged_in(make)
    r = _upload(client, b"this is not marc at all", name="notes.txt")
    assert r.status_code == 400 and "Это не файл MARC" in r.text
    r = _upload(client, b"", name="empty.mrc")
    assert r.status_code == 400 and "Файл пустой" in r.text
    r = _upload(client, _marc(1, "7001"), name="a.xml", fmt="marcxml")
    assert r.status_code == 400 and "Вы выбрали формат «MARCXML (.xml)», а файл — «ISO 2709" in r.text
    page = client.get("/desk/catalogue/import")
    r = client.post("/desk/catalogue/import", data={"csrf": csrf(page.text), "format": "auto"})
    assert r.status_code == 400 and "Выберите файл" in r.text
    r = client.post("/desk/catalogue/import", data={"csrf": csrf(page.text), "format": "<x>",
                                                     "encoding": "utf-16"},
                    files={"file": ("../../a\x00b.m\x1brc", b"junk", "application/octet-stream")})
    assert r.status_code == 400 and "Это не файл MARC" in r.text
    assert '<option value="auto" selected>определить сам</option>' in r.text
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DeskImport)) == 0


def test_an_old_export_in_koi8_r_is_read_when_the_librarian_says_so(cat):
    """No rule tells KOI8-R from cp1251 (both put Cyrillic in 0xC0-0xFF): the detection reads
    it as cp1251, wrong letters; «KOI8-R» on the form reads it right."""
    from library.marc.export import stored_record
    from library.marc.iso2709 import encode_record
    from library.storage.models import Record

    make, db = cat
    rec = stored_record(_marc(9, "7009", "Сказка о золотом петушке"), "utf-8")
    rec.leader = rec.leader[:9] + " " + rec.leader[10:]  # no encoding declared, as old exports
    data = encode_record(rec, "koi8-r")
    client = logged_in(make)
    guessed = _finished(client, _upload(client, data).headers["location"])
    assert 'id="added">1<' in guessed
    with db.session() as s:
        assert s.scalar(select(Record.title).where(Record.key.like("%cat-test-9%"))) != "Сказка о золотом петушке"
    told = _finished(client, _upload(client, data, encoding="koi8-r").headers["location"])
    assert 'id="updated">1<' in told and "кодировка KOI8-R" in told
    with db.session() as s:
        assert s.scalar(select(Record.title).where(Record.key.like("%cat-test-9%"))) == "Сказка о золотом петушке"
    assert [a[2]["encoding"] for a in _audit(db, "import_started")] == ["auto", "koi8-r"]
    # MARCXML declares its own encoding: a forced one is refused in words
    out = io.BytesIO()
    writer = pymarc.XMLWriter(out)
    writer.write(pymarc.Record(data=_marc(10, "7010")))
    writer.close(close_fh=False)
    r = _upload(client, out.getvalue(), name="a.xml", encoding="cp1251")
    assert r.status_code == 400 and "MARCXML сам указывает свою" in r.text
    assert '<option value="cp1251" selected>' in r.text


def test_too_big_an_upload_is_refused_with_a_page(cat, settings):
    from server.models import DeskImport

    settings.desk.upload_max_mb = 1
    make, db = cat
    client = logged_in(make)
    big = _marc(1, "7001") * (1 + (1024 * 1024 + 2 * 65536) // len(_marc(1, "7001")))
    r = _upload(client, big)
    assert r.status_code == 413
    assert "Файл больше 1 МБ" in r.text and "<form" in r.text and 'name="file"' in r.text
    # a body over the API's 64 KiB limit but under the upload's is taken
    ok = _upload(client, _marc(1, "7001") * 300)
    assert ok.status_code == 303, ok.text
    _finished(client, ok.headers["location"])
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DeskImport)) == 1
    # other desk forms keep the small limit
    r = client.post("/desk/catalogue/copy/1", data={"csrf": "x", "barcode": "x" * 70_000})
    assert r.status_code == 413


def test_a_job_left_running_by_a_stopped_server_is_interrupted(cat):
    from server.desk import imports
    from server.models import DeskImport

    make, db = cat
    with db.transaction() as s:
        job = DeskImport(file_name="big.mrc", actor="marina", container="iso2709", state="running",
                         boot="a-server-gone", bytes_total=1000, bytes_done=400, records_total=10,
                         records_done=4, added=4, updated=0, failed=0, errors=[], warnings=[])
        s.add(job)
        s.flush()
        old = job.id
        mine = DeskImport(file_name="now.mrc", actor="marina", container="iso2709", state="running",
                          boot=imports.BOOT, bytes_total=1000, bytes_done=100, records_total=10,
                          records_done=1, added=1, updated=0, failed=0, errors=[], warnings=[])
        s.add(mine)
        s.flush()
        running = mine.id
    client = logged_in(make)
    r = client.get(f"/desk/catalogue/import/{running}")
    assert 'http-equiv="refresh" content="2"' in r.text and "идёт" in r.text
    assert '<progress id="job-progress" max="100" value="10">' in r.text
    assert "Прочитано записей: 1 из 10" in r.text
    r = client.get(f"/desk/catalogue/import/{old}")
    assert r.status_code == 200 and "прервана" in r.text and 'http-equiv="refresh"' not in r.text
    assert "Загрузите тот же файл ещё раз" in r.text
    with db.session() as s:
        assert s.get(DeskImport, old).state == "interrupted"
        assert s.get(DeskImport, old).finished_at is not None
        assert s.get(DeskImport, running).state == "running"


def test_count_records_by_their_marks(tmp_path):
    from server.desk.imports import count_records

    iso = tmp_path / "a.mrc"
    iso.write_bytes(b"".join(_marc(i, f"b{i}") for i in range(7)))
    assert count_records(str(iso), "iso2709") == 7
    xml = tmp_path / "a.xml"
    out = io.BytesIO()
    writer = pymarc.XMLWriter(out)
    for i in range(5):
        writer.write(pymarc.Record(data=_marc(i, f"x{i}")))
    writer.close(close_fh=False)
    xml.write_bytes(out.getvalue())
    assert count_records(str(xml), "marcxml") == 5
    irbis = tmp_path / "a.txt"
    irbis.write_text("#200: ^AПервая\n*****\n#200: ^AВторая\n*****\n#200: ^AТретья\n", encoding="utf-8")
    assert count_records(str(irbis), "irbis-text") == 3


# ------------------------------------------------------------------ export

@pytest.mark.parametrize("fmt", ["marcxml", "marc21"])
def test_export_streams_records_pymarc_reads_back(cat, fmt):
    make, db = cat
    client = logged_in(make)
    r = _upload(client, _marc(1, "7001") + _marc(2, "7002"))
    _finished(client, r.headers["location"])
    if fmt == "marcxml":
        r = client.get("/desk/catalogue/export", params={"format": "marcxml"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/marcxml+xml")
        records = pymarc.parse_xml_to_array(io.BytesIO(r.content))
        assert len(records) == 5  # the three of populate (synthesised) and the two imported
    else:
        r = client.get("/desk/catalogue/export", params={"format": "iso2709", "flavour": "marc21"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/marc")
        records = list(pymarc.MARCReader(io.BytesIO(r.content), to_unicode=True, force_utf8=True))
        assert len(records) == 2
    assert 'attachment; filename="catalogue-' in r.headers["content-disposition"]
    titles = {rec["245"]["a"] for rec in records if rec and rec.get("245")}
    assert {"Сказки о рыбаке 1", "Сказки о рыбаке 2"} <= titles
    # the current search only
    r = client.get("/desk/catalogue/export", params={"format": "marcxml", "q": "рыбаке 2"})
    found = pymarc.parse_xml_to_array(io.BytesIO(r.content))
    assert [rec["245"]["a"] for rec in found] == ["Сказки о рыбаке 2"]
    assert [a[2]["format"] for a in _audit(db, "catalogue_exported")] == [
        "marcxml" if fmt == "marcxml" else "marc21", "marcxml"]
    assert client.get("/desk/catalogue/export", params={"format": "pdf"}).status_code == 400


def test_export_of_an_edited_copy_carries_the_change(cat):
    make, db = cat
    client = logged_in(make)
    r = _upload(client, _marc(1, "7001"))
    _finished(client, r.headers["location"])
    copy = _copy(db, "7001")
    page = client.get(f"/desk/catalogue/copy/{copy.id}")
    r = client.post(f"/desk/catalogue/copy/{copy.id}",
                    data={"csrf": csrf(page.text), **_copy_form(barcode="7001-N", shelf_mark="84(2)1 П90")})
    assert r.status_code == 303
    r = client.get("/desk/catalogue/export", params={"format": "iso2709", "flavour": "marc21", "q": "рыбаке"})
    rec, = list(pymarc.MARCReader(io.BytesIO(r.content), to_unicode=True, force_utf8=True))
    (f852,) = rec.get_fields("852")
    assert (f852["p"], f852["h"]) == ("7001-N", "84(2)1 П90")
