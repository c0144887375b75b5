"""The desk's class sets over HTTP (SQLite and PostgreSQL): the class list, a class's set
editor, the automatic and the scan issue, the print list, the collection by scan with its
owing lists, lost and damaged copies; login, CSRF, hostile input and the audit rows."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from tests.desk.conftest import csrf, logged_in

CLS = "/desk/textbooks/classes"
C7 = CLS + "/" + quote("7А")


def _audit(db) -> list[tuple[str, dict]]:
    from server.models import DeskAudit

    with db.session() as s:
        return [(a.action, a.detail) for a in s.scalars(select(DeskAudit).order_by(DeskAudit.id))]


def _loans(db) -> int:
    from library.storage.models import Loan

    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Loan).where(Loan.returned_at.is_(None)))


@pytest.fixture
def tb(desk):
    """The populated desk plus two textbooks (Algebra 7: 3 copies; Physics 7: 1 copy) and a
    third 7А pupil; 7А: Петрова (C5A), Орлов (CBLK, blocked), Яковлев (C7Y)."""
    from library.storage.models import Copy, Reader, Record

    make, db = desk
    with db.transaction() as s:
        for key, title, codes in (("alg7", "Алгебра 7", ["T101", "T102", "T103"]),
                                  ("phy7", "Физика 7", ["T201"])):
            r = Record(key=key, title=title, authors=["Автор, А."], item_type="textbook", version=1)
            for c in codes:
                r.copies.append(Copy(sigla="ИБЦ", barcode=c, inventory_number="I" + c, status="available"))
            s.add(r)
        s.add(Reader(card_number="C7Y", first_name="Юра", last_name="Яковлев", class_name="7А"))
        s.flush()
        ids = {r.key: r.id for r in s.scalars(select(Record))}
    return make, db, ids


def anon_pdf(make):
    return make().get(C7 + "/print.pdf")


def _page(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.text[:500]
    return r


def finished(db, job_id: int, timeout: float = 60.0) -> str:
    """Wait (bounded) until the job's row is no longer running; its state."""
    import time

    from server.models import DeskJob

    end = time.monotonic() + timeout
    while True:
        with db.session() as s:
            job_state = s.get(DeskJob, job_id).state
        if job_state != "running" or time.monotonic() > end:
            return job_state
        time.sleep(0.05)


def issue_job(client, db, url: str, data: dict):
    """POST «Issue automatically» (a job): 303 to its page, wait for it, the finished page."""
    r = client.post(url, data=data)
    assert r.status_code == 303 and "/desk/textbooks/classes/jobs/" in r.headers["location"], r.text[:300]
    job_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert finished(db, job_id) == "done"
    return _page(client, r.headers["location"])


def test_no_login_and_csrf(tb):
    make, db, ids = tb
    anon = make()
    for path in (CLS, C7, C7 + "/print", CLS + "/collect"):
        r = anon.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/desk/login", path
    r = anon.post(C7 + "/issue", data={"csrf": "x"})
    assert r.status_code == 303 and r.headers["location"] == "/desk/login"
    client = logged_in(make)
    for path, data in ((C7 + "/set", {"action": "add", "record": str(ids["alg7"])}),
                       (C7 + "/issue", {}), (C7 + "/scan", {"barcode": "T101"}),
                       (CLS + "/collect", {"barcode": "T101"}),
                       (CLS + "/collect/mark", {"copy_id": "1", "what": "lost"})):
        for token in ({}, {"csrf": "wrong"}):
            r = client.post(path, data={**data, **token})
            assert r.status_code == 403, (path, token)
    from library.storage.models import ClassSet

    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ClassSet)) == 0
    assert _loans(db) == 0
    assert {a for a, _ in _audit(db)} <= {"account_added", "login"}


def test_set_issue_print_and_collect(tb):
    make, db, ids = tb
    client = logged_in(make)
    page = _page(client, CLS)
    assert "7А" in page.text and "2026/2027" in page.text
    page = _page(client, C7)
    token = csrf(page.text)
    assert 'autofocus' in page.text and "Алгебра 7" in page.text  # in the add list
    # the set: add two, one twice, a non-textbook refused
    for rec in ("alg7", "phy7", "alg7"):
        r = client.post(C7 + "/set", data={"csrf": token, "action": "add", "record": str(ids[rec])})
        assert r.status_code == 303
    r = client.post(C7 + "/set", data={"csrf": token, "action": "add", "record": str(ids["war"])})
    assert r.status_code == 409 and "не учебник" in r.text
    page = _page(client, C7)
    assert "Учебники класса 7А" in page.text
    # automatic issue: 3 pupils (one blocked: the class issue's override lends anyway), Physics
    # has one copy → 2 missing
    r = issue_job(client, db, C7 + "/issue", {"csrf": token, "year": "2026"})
    assert "Выдано сейчас: 4" in r.text and "Физика 7: не хватает 2" in r.text
    assert "Алгебра 7: выдано 3" in r.text and "Физика 7: выдано 1" in r.text
    assert _loans(db) == 4
    again = issue_job(client, db, C7 + "/issue", {"csrf": token, "year": "2026"})
    assert "Выдано сейчас: 0. Уже было на руках: 4." in again.text and _loans(db) == 4
    issued = [d for a, d in _audit(db) if a == "class_issue"]  # one row a job
    assert len(issued) == 2 and {d["cls"] for d in issued} == {"7А"} and issued[0]["year"] == 2026
    # scan issue: a new Physics copy goes to the next pupil without it
    from library.storage.models import Copy

    with db.transaction() as s:
        s.add(Copy(record_id=ids["phy7"], sigla="ИБЦ", barcode="T202", status="available"))
    r = client.post(C7 + "/scan", data={"csrf": token, "year": "2026", "barcode": " T202 "})
    assert r.status_code == 200 and "Выдано: Физика 7 (T202)" in r.text
    r = client.post(C7 + "/scan", data={"csrf": token, "year": "2026", "barcode": "T202"})
    assert r.status_code == 409 and "уже у ученика" in r.text
    r = client.post(C7 + "/scan", data={"csrf": token, "year": "2026", "barcode": "1001"})
    assert r.status_code == 409 and "нет в комплекте" in r.text
    assert [a for a, _ in _audit(db)].count("class_scan_issue") == 1
    # the print list and the class teacher's copy
    pr = _page(client, C7 + "/print?year=2026")
    assert "Подпись" in pr.text and "T101" in pr.text and "Для классного руководителя" not in pr.text
    pr = _page(client, C7 + "/print?year=2026&teacher=1")
    assert "Для классного руководителя" in pr.text and "Петрова Аня" in pr.text
    pdf = client.get(C7 + "/print.pdf?year=2026&teacher=1")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 2000
    assert anon_pdf(make).status_code == 303
    # the class list's counts
    page = _page(client, CLS + "?year=2026")
    assert "5 из 6" in page.text
    # collection: scanned back with the pupil's name
    col = _page(client, CLS + "/collect?cls=" + quote("7А"))
    assert "Ещё не сдано: 5" in col.text
    r = client.post(CLS + "/collect", data={"csrf": token, "barcode": "T101", "cls": "7А"})
    assert r.status_code == 200 and "Принято: Алгебра 7 —" in r.text and ", 7А" in r.text
    assert "Ещё не сдано: 4" in r.text
    r = client.post(CLS + "/collect", data={"csrf": token, "barcode": "T101", "cls": "7А"})
    assert "Уже принято" in r.text and _loans(db) == 4
    r = client.post(CLS + "/collect", data={"csrf": token, "barcode": "T103", "cls": "1Б"})
    assert "другого класса: 7А" in r.text and "cs-loud" in r.text
    r = client.post(CLS + "/collect", data={"csrf": token, "barcode": "1001"})
    assert r.status_code == 409 and "не выдан" in r.text and "cs-loud" in r.text
    # lost and damaged
    with db.session() as s:
        t102 = s.scalar(select(Copy.id).where(Copy.barcode == "T102"))
        t201 = s.scalar(select(Copy.id).where(Copy.barcode == "T201"))
    r = client.post(CLS + "/collect/mark", data={"csrf": token, "copy_id": str(t102), "what": "lost",
                                                  "note": "потерян <b>в лагере</b>"})
    assert r.status_code == 200 and "Ученик остаётся должен" in r.text
    r = client.post(CLS + "/collect/mark", data={"csrf": token, "copy_id": str(t201), "what": "repair",
                                                  "note": "порван"})
    assert r.status_code == 200 and "Принят в ремонт: T201" in r.text
    with db.session() as s:
        assert s.scalar(select(Copy.status).where(Copy.id == t102)) == "lost"
        assert s.scalar(select(Copy.status).where(Copy.id == t201)) == "bindery"
    r = client.post(CLS + "/collect/mark", data={"csrf": token, "copy_id": str(t201), "what": "lost"})
    assert r.status_code == 409
    r = client.post(CLS + "/collect/mark", data={"csrf": token, "copy_id": "999999", "what": "lost"})
    assert r.status_code == 404
    actions = [a for a, _ in _audit(db)]
    assert actions.count("textbook_collect") == 2 and "textbook_lost" in actions
    assert "textbook_repair" in actions
    # copy last year's set: 8А of 2027 takes 7А of 2026
    c8 = CLS + "/" + quote("8А")
    r = client.post(c8 + "/set", data={"csrf": token, "action": "copy", "year": "2027"})
    assert r.status_code == 303 and "done=copied" in r.headers["location"]
    assert "Скопировано учебников из прошлогоднего комплекта: 2" in _page(client, r.headers["location"]).text
    r = client.post(C7 + "/set", data={"csrf": token, "action": "remove", "record": str(ids["phy7"])})
    assert r.status_code == 303
    assert [a for a, _ in _audit(db)][-2:] == ["class_set_copy", "class_set_remove"]


def test_hostile_input(tb):
    make, db, ids = tb
    client = logged_in(make)
    token = csrf(_page(client, C7).text)
    for bad in ("x" * 10_000, "7<script>", "12Я", "7А'; DROP TABLE readers;--", "\x00\x07"):
        r = client.get(CLS + "/" + quote(bad))
        assert r.status_code in (404, 422), bad
        assert "<script>" not in r.text
    r = client.get(CLS + "?year=" + "9" * 8)
    assert r.status_code == 200
    r = client.get(C7 + "?year=abc&done=<script>alert(1)</script>")
    assert r.status_code == 200 and "<script>alert" not in r.text
    for code in ("<b>x</b>", "a\x00b", "x" * 10_000, "", "a b"):
        r = client.post(C7 + "/scan", data={"csrf": token, "barcode": code})
        assert r.status_code in (400, 409) and "<b>x</b>" not in r.text
        r = client.post(CLS + "/collect", data={"csrf": token, "barcode": code, "cls": "<i>7А"})
        assert r.status_code in (400, 409) and "<b>x</b>" not in r.text and "<i>7" not in r.text
    r = client.post(CLS + "/collect", data={"csrf": token, "barcode": "<b>zz</b>"})
    assert "&lt;b&gt;zz&lt;/b&gt;" in r.text or r.status_code == 400
    r = client.post(C7 + "/set", data={"csrf": token, "action": "add", "record": "1 OR 1=1"})
    assert r.status_code == 400
    r = client.post(CLS + "/collect/mark", data={"csrf": token, "copy_id": "1", "what": "burn"})
    assert r.status_code == 400
    # a note over 500 characters is refused, nothing changed
    client.post(C7 + "/set", data={"csrf": token, "action": "add", "record": str(ids["alg7"])})
    issue_job(client, db, C7 + "/issue", {"csrf": token})
    from library.storage.models import Copy

    with db.session() as s:
        t101 = s.scalar(select(Copy.id).where(Copy.barcode == "T101"))
    r = client.post(CLS + "/collect/mark", data={"csrf": token, "copy_id": str(t101), "what": "lost",
                                                  "note": "n" * 600})
    assert r.status_code == 409 and "не больше 500" in r.text
    with db.session() as s:
        assert s.scalar(select(Copy.status).where(Copy.id == t101)) == "on_loan"
    assert "textbook_lost" not in [a for a, _ in _audit(db)]


def test_english(tb):
    make, db, ids = tb
    client = logged_in(make)
    client.cookies.set("ibc_desk_lang", "en", path="/desk")
    for path in (CLS, C7, C7 + "/print?teacher=1", CLS + "/collect"):
        r = _page(client, path)
        for ru in ("Выдать", "Сдача", "Комплект", "Подпись"):
            assert ru not in r.text, (path, ru)
    assert "For the class teacher" in _page(client, C7 + "/print?teacher=1").text


def test_a_title_that_lends_as_a_book_is_flagged(tb):
    """A record made a textbook by its TextbookTitle row but of item type «book» lends by the
    book rule (14 days): the set says so."""
    from library.storage.models import TextbookTitle

    make, db, ids = tb
    with db.transaction() as s:
        s.add(TextbookTitle(record_id=ids["anna"], subject="Литература"))
    client = logged_in(make)
    token = csrf(_page(client, C7).text)
    for rec in ("anna", "alg7"):
        client.post(C7 + "/set", data={"csrf": token, "action": "add", "record": str(ids[rec])})
    page = _page(client, C7).text
    assert page.count("Тип издания — не «учебник»") == 1
