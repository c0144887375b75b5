"""The automatic class issue as a background job over HTTP (SQLite and PostgreSQL): the POST
starts it and 303s to its page, the page shows the progress and then the report, a second start
shows the running job, a job left running by a dead process is interrupted and a new run goes
on without lending twice, a whole grade at once; the owing list as CSV and XLSX; login, CSRF,
hostile input and the audit rows."""

from __future__ import annotations

import io
import threading
from urllib.parse import quote

from sqlalchemy import func, select

from tests.desk import test_class_sets as cs
from tests.desk.conftest import csrf, logged_in
from tests.desk.test_class_sets import C7, CLS, _audit, _loans, _page, finished, issue_job

tb = cs.tb  # the class sets' fixture: two textbooks and a third 7А pupil


def _job_id(r) -> int:
    assert r.status_code == 303, r.text[:300]
    loc = r.headers["location"]
    assert loc.startswith(CLS + "/jobs/"), loc
    return int(loc.rsplit("/", 1)[1])


def _set(client, token, cls: str, *keys_ids: int) -> None:
    for rid in keys_ids:
        r = client.post(CLS + "/" + quote(cls) + "/set", data={"csrf": token, "action": "add", "record": str(rid)})
        assert r.status_code == 303


def _pairs(db) -> list[tuple[int, int]]:
    """(reader, record) of every open loan: no pair twice."""
    from library.storage.models import Copy, Loan

    with db.session() as s:
        return [(r, c) for r, c in s.execute(select(Loan.reader_id, Copy.record_id)
                                             .join(Copy, Loan.copy_id == Copy.id)
                                             .where(Loan.returned_at.is_(None)))]


def test_job_runs_shows_progress_and_a_second_start_shows_it(tb, monkeypatch):
    from library.textbooks import issue as T

    make, db, ids = tb
    client = logged_in(make)
    token = csrf(_page(client, C7).text)
    _set(client, token, "7А", ids["alg7"], ids["phy7"])
    gate, entered = threading.Event(), threading.Event()
    original = T.issue_class

    def held(*args, **kwargs):
        entered.set()
        assert gate.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(T, "issue_class", held)
    job = _job_id(client.post(C7 + "/issue", data={"csrf": token, "year": "2026"}))
    try:
        assert entered.wait(30)
        page = _page(client, f"{CLS}/jobs/{job}")
        assert 'http-equiv="refresh" content="2"' in page.text
        assert "идёт" in page.text and "Выдано 0 из ~6" in page.text
        # a second start (another desk too) shows the running job: no second thread, no audit row
        other = logged_in(make)
        again = other.post(C7 + "/issue", data={"csrf": csrf(_page(other, C7).text), "year": "2026"})
        assert _job_id(again) == job
        assert f"/jobs/{job}" in _page(client, C7 + "?year=2026").text  # the class page links to it
    finally:
        gate.set()
    assert finished(db, job) == "done"
    page = _page(client, f"{CLS}/jobs/{job}")
    assert "refresh" not in page.text and "готово" in page.text
    assert "Выдано сейчас: 4" in page.text and "Физика 7: не хватает 2" in page.text
    assert "Алгебра 7: выдано 3" in page.text
    assert _loans(db) == 4
    from server.models import DeskJob

    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DeskJob)) == 1
        row = s.get(DeskJob, job)
        assert row.progress == 4 and row.total == 6 and row.started_by == "marina"
        assert row.report["classes"][0]["lent"] == 4
    issued = [d for a, d in _audit(db) if a == "class_issue"]
    assert issued == [{"cls": "7А", "year": 2026, "job": job}]


def test_interrupted_job_and_a_rerun_that_goes_on(tb):
    """Two loans were made, then the server died: the page says interrupted; a new run lends
    the rest, nothing twice."""
    from library.textbooks import issue as T
    from server.models import DeskJob

    make, db, ids = tb
    client = logged_in(make)
    token = csrf(_page(client, C7).text)
    _set(client, token, "7А", ids["alg7"])

    class Died(Exception):
        pass

    def die(report, done, planned):
        if len(report.lent) >= 2:
            raise Died

    from config.settings import load_settings
    from library.circulation.service import CirculationService
    from tests.desk.conftest import TODAY

    svc = CirculationService.from_settings(db, load_settings(environ={}).circulation, today=lambda: TODAY)
    try:
        T.issue_class(svc, 2026, "7А", "marina", progress=die, every=1)
    except Died:
        pass
    assert _loans(db) == 2
    with db.transaction() as s:
        dead = DeskJob(kind="class_issue", target="2026:7А", started_by="marina", state="running",
                       boot="deadbeefdeadbeef", progress=2, total=3, report={})
        s.add(dead)
        s.flush()
        dead_id = dead.id
    page = _page(client, f"{CLS}/jobs/{dead_id}")
    assert "прервана" in page.text and "Запустите ещё раз — выдача продолжится" in page.text
    assert "refresh" not in page.text and f'action="{C7}/issue"' in page.text
    again = issue_job(client, db, C7 + "/issue", {"csrf": csrf(page.text), "year": "2026"})
    assert "Выдано сейчас: 1. Уже было на руках: 2." in again.text
    pairs = _pairs(db)
    assert len(pairs) == 3 and len(set(pairs)) == 3
    with db.session() as s:
        assert s.get(DeskJob, dead_id).state == "interrupted"


def test_whole_grade(tb):
    from library.storage.models import Copy, Reader

    make, db, ids = tb
    with db.transaction() as s:
        s.add(Reader(card_number="C7B1", first_name="Лена", last_name="Белова", class_name="7Б"))
        s.add(Copy(record_id=ids["alg7"], sigla="ИБЦ", barcode="T104", status="available"))
    client = logged_in(make)
    token = csrf(_page(client, C7).text)
    _set(client, token, "7А", ids["alg7"])
    _set(client, token, "7Б", ids["alg7"], ids["phy7"])
    listing = _page(client, CLS + "?year=2026").text
    assert "Выдать всем 7-м классам" in listing and f'action="{CLS}/grade/7/issue"' in listing
    assert "Выдать всем 1-м классам" not in listing  # 1Б has no set
    r = client.post(CLS + "/grade/7/issue", data={"csrf": token, "year": "2026"})
    job = _job_id(r)
    assert finished(db, job) == "done"
    page = _page(client, r.headers["location"]).text
    assert "Выдача 7-м классам" in page and "Класс 7А" in page and "Класс 7Б" in page
    assert page.index("Класс 7А") < page.index("Класс 7Б")
    client.cookies.set("ibc_desk_lang", "en", path="/desk")
    english = _page(client, r.headers["location"]).text
    assert "Issue to grade 7" in english and "Lent now: 3." in english and "Выдано" not in english
    client.cookies.set("ibc_desk_lang", "ru", path="/desk")
    assert _loans(db) == 5  # 7А: 3 × algebra; 7Б: algebra and physics
    assert [d["cls"] for a, d in _audit(db) if a == "class_issue"] == ["7А,7Б"]
    # a grade without sets: said on the list page; not a grade: 404
    r = client.post(CLS + "/grade/1/issue", data={"csrf": token, "year": "2026"})
    assert r.status_code == 409 and "Ни у одного 1-го класса" in r.text
    for bad in ("12", "0", "x", "<b>7</b>", "7" * 200):
        r = client.post(CLS + "/grade/" + quote(bad) + "/issue", data={"csrf": token})
        assert r.status_code == 404 and "<b>7" not in r.text, bad


def test_login_csrf_and_hostile_job_ids(tb):
    from server.models import DeskJob

    make, db, ids = tb
    anon = make()
    for path in (CLS + "/jobs/1", CLS + "/collect/download?format=csv"):
        r = anon.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/desk/login", path
    r = anon.post(CLS + "/grade/7/issue", data={"csrf": "x"})
    assert r.status_code == 303 and r.headers["location"] == "/desk/login"
    client = logged_in(make)
    for path in (C7 + "/issue", CLS + "/grade/7/issue"):
        for token in ({}, {"csrf": "wrong"}):
            assert client.post(path, data=token).status_code == 403, (path, token)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DeskJob)) == 0
    for bad in ("0", "abc", "9" * 30, "1<script>", "-1", "1.5"):
        r = client.get(CLS + "/jobs/" + quote(bad))
        assert r.status_code in (404, 422) and "<script>" not in r.text, bad
    assert client.get(CLS + "/jobs/4242").status_code == 404
    assert "class_issue" not in [a for a, _ in _audit(db)]


def test_owing_files(tb):
    from openpyxl import load_workbook

    from library.storage.models import Reader

    make, db, ids = tb
    client = logged_in(make)
    token = csrf(_page(client, C7).text)
    _set(client, token, "7А", ids["alg7"])
    issue_job(client, db, C7 + "/issue", {"csrf": token, "year": "2026"})
    with db.transaction() as s:  # Яковлев leaves; a hostile title shows as text
        s.scalar(select(Reader).where(Reader.card_number == "C7Y")).active = False
        from library.storage.models import Record

        s.get(Record, ids["alg7"]).title = "=HYPERLINK(\"x\")<b>"
    col = _page(client, CLS + "/collect?cls=" + quote("7А")).text
    assert "Скачать CSV (класс 7А)" in col and "Скачать XLSX (класс 7А)" in col
    assert "format=xlsx&amp;cls=7%D0%90" in col
    r = client.get(CLS + "/collect/download?format=csv&cls=" + quote("7А"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    import csv

    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Класс;Ученик;Учебник;Штрихкод;Инв. номер;Выдан;Выбыл"
    rows = list(csv.reader(lines[1:], delimiter=";"))
    assert len(rows) == 3 and {x[0] for x in rows} == {"7А"}
    assert {x[3] for x in rows} == {"T101", "T102", "T103"} and {x[4] for x in rows} == {"IT101", "IT102", "IT103"}
    assert all(x[2].startswith("'=HYPERLINK") for x in rows)  # not a formula
    assert [x[6] for x in rows if x[1] == "Яковлев Юра"] == ["выбыл"]
    assert all(len(x[5]) == 10 and x[5][2] == "." for x in rows)  # дд.мм.гггг
    x = client.get(CLS + "/collect/download?format=xlsx")
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxml")
    ws = load_workbook(io.BytesIO(x.content)).active
    assert ws["A1"].value.startswith("Не сдали учебники на ")
    assert [c.value for c in ws[2]] == ["Класс", "Ученик", "Учебник", "Штрихкод", "Инв. номер", "Выдан", "Выбыл"]
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert len(body) == 3 and ws["C3"].data_type == "s"
    assert client.get(CLS + "/collect/download?format=pdf").status_code == 400
    r = client.get(CLS + "/collect/download?format=csv&cls=" + quote("<i>7А"))
    assert r.status_code == 200 and len(r.content.decode("utf-8-sig").splitlines()) >= 1
    exports = [d for a, d in _audit(db) if a == "owing_exported"]
    assert exports[:2] == [{"format": "csv", "cls": "7А", "rows": 3}, {"format": "xlsx", "cls": "*", "rows": 3}]


def test_catalogue_record_links_to_the_textbook_page(tb):
    from library.storage.models import TextbookTitle

    make, db, ids = tb
    with db.transaction() as s:
        s.add(TextbookTitle(record_id=ids["alg7"], subject="Математика", grade_from=5, grade_to=5,
                            fpu_number="1.1.2.1.1.1"))
    client = logged_in(make)
    page = _page(client, f"/desk/catalogue/record/{ids['alg7']}").text
    assert "Учебник: Математика, 5 кл., ФПУ 1.1.2.1.1.1 —" in page
    assert f'href="/desk/textbooks/{ids["alg7"]}"' in page and ">изменить</a>" in page
    assert "Сделать учебником" not in page
    page = _page(client, f"/desk/catalogue/record/{ids['phy7']}").text  # a textbook by its type only
    assert "Учебник: предмет и классы не заданы" in page
    page = _page(client, f"/desk/catalogue/record/{ids['war']}").text  # not a textbook
    assert "Сделать учебником" in page and f'href="/desk/textbooks/{ids["war"]}"' in page
    assert "Учебник:" not in page
    assert _page(client, f"/desk/textbooks/{ids['war']}").status_code == 200  # the link leads somewhere
    client.cookies.set("ibc_desk_lang", "en", path="/desk")
    page = _page(client, f"/desk/catalogue/record/{ids['alg7']}").text
    assert "Textbook: Математика, grade 5, FPU 1.1.2.1.1.1" in page


def test_a_job_that_fails_says_why_and_offers_a_rerun(tb, monkeypatch):
    from library.errors import IbcError
    from library.textbooks import issue as T

    make, db, ids = tb
    client = logged_in(make)
    token = csrf(_page(client, C7).text)
    _set(client, token, "7А", ids["alg7"])

    def broken(*args, **kwargs):
        raise IbcError("the database went <away>")

    monkeypatch.setattr(T, "issue_class", broken)
    job = _job_id(client.post(C7 + "/issue", data={"csrf": token, "year": "2026"}))
    assert finished(db, job) == "failed"
    page = _page(client, f"{CLS}/jobs/{job}").text
    assert "не удалась" in page and "the database went &lt;away&gt;" in page
    assert "Запустите ещё раз" in page and "refresh" not in page
    monkeypatch.undo()
    again = issue_job(client, db, C7 + "/issue", {"csrf": token, "year": "2026"})
    assert "Выдано сейчас: 3" in again.text and _loans(db) == 3


def test_a_refused_loan_in_the_report_is_said_in_words(tb):
    """The job's report keeps a refusal's code and params; the page says the circulation rule's
    message in the page's language (the code alone told the librarian nothing)."""
    from server.models import DeskJob

    make, db, _ids = tb
    client = logged_in(make)
    report = {"classes": [{"class": "7А", "year": 2026, "pupils": 1, "titles": 1, "lent": 0,
                           "per_title": [], "held_before": 0, "issued_before": 0, "missing": [],
                           "refused": [["Иванов И.", "Алгебра 7", "item_not_found",
                                        {"barcode": "X-1"}]]}]}
    with db.transaction() as s:
        job = DeskJob(kind="class_issue", target="2026:7А", started_by="marina", state="done",
                      boot="deadbeefdeadbeef", progress=1, total=1, report=report)
        s.add(job)
        s.flush()
        job_id = job.id
    page = _page(client, f"{CLS}/jobs/{job_id}").text
    assert "Иванов И. — Алгебра 7: " in page and "X-1" in page
    assert "item_not_found" not in page
    client.cookies.set("ibc_desk_lang", "en")
    english = _page(client, f"{CLS}/jobs/{job_id}").text
    assert "item_not_found" not in english and "X-1" in english
