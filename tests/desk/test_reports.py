"""The desk's reports over HTTP (TestClient, SQLite and PostgreSQL): periods chosen by button
or typed dates (bad ones refused in words), the key figures, the full report as PDF, XLSX and
CSV with the librarians' overrides counted, and the overdue lists by class."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from tests.desk.conftest import ADMIN_PASSWORD, logged_in
from tests.server.conftest import TODAY

URLS = ("/desk/reports", "/desk/reports/download?format=csv", "/desk/reports/overdue",
        "/desk/reports/overdue/download?format=csv")
REASON = "Класс едет на экскурсию <b>завтра</b>"


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.timezone.utc)


def add_events(db) -> None:
    """In October (this month and quarter for TODAY, 5 October 2026): 3 checkouts, 1 return,
    2 visits and 3 overrides; in September (last month, last quarter): 1 override, 1 checkout."""
    from library.storage.models import Event

    oct2, sep20 = dt.date(2026, 10, 2), dt.date(2026, 9, 20)
    with db.transaction() as s:
        for _ in range(3):
            s.add(Event(kind="checkout", ts=at(oct2), reader_class="7А", reader_category="pupil"))
        s.add(Event(kind="return", ts=at(oct2), payload={"overdue": False}))
        s.add_all([Event(kind="visit", ts=at(oct2), reader_class="7А") for _ in range(2)])
        s.add(Event(kind="checkout", ts=at(sep20)))

        def override(day: dt.date, action: str, refusal: str, reason: str, by: str) -> None:
            s.add(Event(kind="override", ts=at(day), reader_class="7А", reader_category="pupil",
                        payload={"action": action, "refusal": refusal, "reason": reason, "by": by}))
        override(oct2, "checkout", "has_overdue", REASON, "marina")
        override(oct2, "checkout", "has_overdue", "Нужна к уроку", "boss")
        override(dt.date(2026, 10, 3), "renew", "renewal_limit", "Пишет доклад", "marina")
        override(sep20, "checkout", "limit_reached", "Летнее чтение", "boss")


def figure(html: str, key: str) -> int:
    m = re.search(rf'id="fig-{key}">(\d+)<', html)
    assert m, key
    return int(m.group(1))


def _audit(db) -> list[tuple[str, str, dict]]:
    from server.models import DeskAudit

    with db.session() as s:
        return [(a.actor, a.action, a.detail) for a in s.scalars(select(DeskAudit).order_by(DeskAudit.id))
                if a.action not in ("login",)]


def test_no_page_without_login(desk):
    make, _db = desk
    client = make()
    for url in URLS:
        r = client.get(url)
        assert r.status_code == 303 and r.headers["location"] == "/desk/login", url


def test_period_buttons_give_the_figures_of_their_period(desk):
    make, db = desk
    add_events(db)
    client = logged_in(make)
    page = client.get("/desk/reports")  # the default: this quarter, clipped to today
    assert page.status_code == 200
    assert "IV квартал 2026 г., по 05.10.2026 (01.10.2026–05.10.2026)" in page.text
    for value, label in (("month", "Этот месяц"), ("last-month", "Прошлый месяц"),
                         ("quarter", "Этот квартал"), ("last-quarter", "Прошлый квартал"),
                         ("school-year", "Учебный год"), ("year", "Календарный год")):
        assert f'name="period" value="{value}"' in page.text and label in page.text
    assert 'value="quarter" aria-pressed="true"' in page.text
    assert (figure(page.text, "loans"), figure(page.text, "returns"), figure(page.text, "visits"),
            figure(page.text, "overrides")) == (3, 1, 2, 3)
    assert "сколько раз книги выдали" in page.text  # the figures' meaning in words
    expect = {
        "month": ("октябрь 2026 г., по 05.10.2026 (01.10.2026–05.10.2026)", 3, 3),
        "last-month": ("сентябрь 2026 г. (01.09.2026–30.09.2026)", 1, 1),
        "last-quarter": ("III квартал 2026 г. (01.07.2026–30.09.2026)", 1, 1),
        "school-year": ("2026/27 учебный год, по 05.10.2026 (01.09.2026–05.10.2026)", 4, 4),
        "year": ("2026 год, по 05.10.2026 (01.01.2026–05.10.2026)", 4, 4),
    }
    for value, (title, loans, overrides) in expect.items():
        r = client.get("/desk/reports", params={"period": value})
        assert r.status_code == 200
        assert f"Показатели: {title}" in r.text, value
        assert (figure(r.text, "loans"), figure(r.text, "overrides")) == (loans, overrides), value
        assert f'value="{value}" aria-pressed="true"' in r.text


def test_override_counts_on_the_page_and_who_only_for_the_admin(desk):
    make, db = desk
    add_events(db)
    librarian = logged_in(make).get("/desk/reports", params={"period": "month"})
    counts = re.search(r'<table id="override-counts">(.*?)</table>', librarian.text, re.S)
    assert counts
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td></tr>", counts.group(1))
    assert rows == [("Выдача: есть просроченные книги", "2"),
                    ("Продление: исчерпан лимит продлений", "1")]
    assert "экскурсию" not in librarian.text and "override-list" not in librarian.text
    admin = logged_in(make, "boss", ADMIN_PASSWORD).get("/desk/reports", params={"period": "month"})
    listed = re.search(r'<table id="override-list".*?</table>', admin.text, re.S)
    assert listed
    assert "Класс едет на экскурсию &lt;b&gt;завтра&lt;/b&gt;" in listed.group(0)  # escaped
    assert "<b>завтра" not in admin.text
    assert listed.group(0).count("<tr><td>") == 3 and "Летнее чтение" not in listed.group(0)
    quiet = logged_in(make).get("/desk/reports", params={"period": "custom", "from": "01.01.2026",
                                                        "to": "31.01.2026"})
    assert "решений в обход правил не было" in quiet.text


def backdate(db, day: dt.date = dt.date(2026, 9, 1)) -> None:
    """populate() stamps its readers and records with the real clock: make them older than the
    periods asked for, so they count as registered and in the fund."""
    from library.storage.models import Reader, Record

    with db.transaction() as s:
        s.execute(Reader.__table__.update().values(created_at=at(day)))
        s.execute(Record.__table__.update().values(created_at=at(day)))


def indicator(html: str, key: str) -> str:
    m = re.search(rf'id="ind-{key}">([^<]+)<', html)
    assert m, key
    return m.group(1)


def test_relative_indicators_with_their_definitions(desk, settings):
    """October: 3 loans, 2 visits; 5 registered readers (4 pupils), 6 copies — by hand:
    3 ÷ 5 = 0,60; 2 ÷ 5 = 0,40; 3 ÷ 6 = 0,50; 6 ÷ 5 = 1,2; 6 ÷ 4 = 1,5; 4 ÷ 4 × 100 = 100,0 %."""
    make, db = desk
    add_events(db)
    backdate(db)
    client = logged_in(make)
    page = client.get("/desk/reports", params={"period": "month"})
    assert page.status_code == 200
    assert (figure(page.text, "readers"), figure(page.text, "copies")) == (5, 6)
    assert "Относительные показатели" in page.text
    shown = {k: indicator(page.text, k) for k in ("loans_per_reader", "visits_per_reader",
                                                   "loans_per_copy", "copies_per_reader",
                                                   "copies_per_pupil", "coverage")}
    assert shown == {"loans_per_reader": "0,60", "visits_per_reader": "0,40",
                     "loans_per_copy": "0,50", "copies_per_reader": "1,2",
                     "copies_per_pupil": "1,5", "coverage": "100,0 %"}
    for label, meaning in (("Читаемость", "выдачи за период ÷ читатели, записанные к концу периода: 3 ÷ 5"),
                           ("Посещаемость", "посещения за период ÷ читатели, записанные к концу периода: 2 ÷ 5"),
                           ("Обращаемость фонда", "выдачи за период ÷ экземпляры фонда (не списанные): 3 ÷ 6"),
                           ("Книгообеспеченность на одного учащегося",
                            "экземпляры фонда (не списанные) ÷ учащиеся школы: 6 ÷ 4"),
                           ("Охват учащихся библиотечным обслуживанием",
                            "учащиеся-читатели ÷ учащиеся школы × 100: 4 ÷ 4 × 100")):
        assert re.search(rf"<dt>{label}</dt><dd id=\"ind-\w+\">[^<]+</dd><dd class=\"meaning\">"
                         rf"{re.escape(meaning)}</dd>", page.text), label
    assert "Учащихся в школе: 4 — по числу записанных читателей-учащихся" in page.text

    settings.school.pupils = 10  # the school's own number: 6 ÷ 10 = 0,6; 4 ÷ 10 × 100 = 40,0 %
    page = client.get("/desk/reports", params={"period": "month"})
    assert (indicator(page.text, "copies_per_pupil"), indicator(page.text, "coverage")) == ("0,6", "40,0 %")
    assert indicator(page.text, "loans_per_reader") == "0,60"
    assert "Учащихся в школе: 10 — из настройки [school] pupils." in page.text
    assert "учащиеся-читатели ÷ учащиеся школы × 100: 4 ÷ 10 × 100" in page.text
    rows = list(csv.reader(io.StringIO(client.get("/desk/reports/download", params={
        "period": "month", "format": "csv"}).content.decode("utf-8-sig")), delimiter=";"))
    where = ["Основные показатели", "Относительные показатели"]
    assert [*where, "Читаемость", "Значение", "0,60"] in rows
    assert [*where, "Охват учащихся библиотечным обслуживанием", "Значение", "40,0 %"] in rows


def test_relative_indicators_with_nothing_to_divide_by(desk):
    """January 2026: no readers registered yet and no copies — every indicator is «—»."""
    make, db = desk
    backdate(db)
    page = logged_in(make).get("/desk/reports", params={"period": "custom", "from": "01.01.2026",
                                                        "to": "31.01.2026"})
    assert page.status_code == 200 and figure(page.text, "readers") == 0
    assert re.findall(r'id="ind-\w+">([^<]+)<', page.text) == ["—"] * 6
    assert "выдачи за период ÷ читатели, записанные к концу периода: 0 ÷ 0" in page.text
    assert "«—» значит, что делить не на что" in page.text


def test_relative_indicators_in_english(desk):
    make, db = desk
    add_events(db)
    backdate(db)
    client = logged_in(make)
    client.get("/desk/lang/en")
    page = client.get("/desk/reports", params={"period": "month"})
    assert "Relative indicators" in page.text and "Loans per reader" in page.text
    assert (indicator(page.text, "loans_per_reader"), indicator(page.text, "coverage")) == ("0.60", "100.0 %")
    assert "loans in the period ÷ readers registered by its end: 3 ÷ 5" in page.text
    assert "Pupils of the school: 4, counted among the registered readers." in page.text


def test_typed_dates_choose_a_period(desk):
    make, db = desk
    add_events(db)
    client = logged_in(make)
    for start, end in (("01.09.2026", "30.09.2026"), ("2026-09-01", "2026-09-30"), ("1.9.2026", "30.9.2026")):
        r = client.get("/desk/reports", params={"period": "custom", "from": start, "to": end})
        assert r.status_code == 200, r.text
        assert "Показатели: 01.09.2026–30.09.2026" in r.text
        assert (figure(r.text, "loans"), figure(r.text, "overrides")) == (1, 1)
        assert f'value="{start}"' in r.text  # the typed dates stay in the form
        assert "period=custom&amp;from=" in r.text  # and the downloads carry them


@pytest.mark.parametrize(("start", "end", "field", "words"), [
    ("31.02.2026", "01.03.2026", "from", "Такой даты нет: 31.02.2026"),
    ("вчера", "01.03.2026", "from", "Дата «с» не понятна: введите её в виде дд.мм.гггг"),
    ("01.03.2026", "", "to", "Введите дату «по» в виде дд.мм.гггг"),
    ("01.10.2026", "01.09.2026", "to", "Дата «по» (01.09.2026) раньше даты «с» (01.10.2026)"),
    ("01.01.2020", "01.06.2026", "to", "Период слишком длинный: не больше трёх лет"),
    ("01.01.1999", "01.06.1999", "from", "должна быть между 2000 и 2027 годом"),
    ("01.01.2026\x00", "01.06.2026", "from", "Дата «с» не понятна"),
    ("06.10.2026", "31.10.2026", "from", "Период ещё не начался: сегодня 05.10.2026"),
])
def test_bad_dates_are_refused_in_words_next_to_the_field(desk, start, end, field, words):
    make, _db = desk
    client = logged_in(make)
    r = client.get("/desk/reports", params={"period": "custom", "from": start, "to": end})
    assert r.status_code == 400
    m = re.search(rf'<p class="error" id="{field}-error">([^<]+)</p>', r.text)
    assert m and words in m.group(1), r.text
    assert f'aria-describedby="{field}-error"' in r.text
    assert 'id="fig-loans"' not in r.text and "/desk/reports/download" not in r.text
    d = client.get("/desk/reports/download", params={"period": "custom", "from": start, "to": end,
                                                      "format": "csv"})
    assert d.status_code == 400 and words in d.text and d.headers["content-type"].startswith("text/html")


def test_hostile_query_values(desk):
    make, db = desk
    client = logged_in(make)
    for period in ("<script>alert(1)</script>", "' OR 1=1 --", "x" * 10_000, "term", "2026Q3"):
        r = client.get("/desk/reports", params={"period": period})
        assert r.status_code == 400 and "Такого периода нет" in r.text
        assert "<script>alert" not in r.text and "x" * 41 not in r.text
    r = client.get("/desk/reports", params={"period": "custom", "from": "<i>" + "9" * 10_000, "to": "1"})
    assert r.status_code == 400 and "<i>" not in r.text and "9" * 41 not in r.text
    assert client.get("/desk/reports/download", params={"format": "exe"}).status_code == 400
    assert client.get("/desk/reports/download", params={"format": "../../etc"}).status_code == 400
    assert client.get("/desk/reports/overdue/download", params={"format": "pdf"}).status_code == 400
    r = client.get("/desk/reports/overdue", params={"class": "<b>7А</b>\x07" + "z" * 10_000})
    assert r.status_code == 200 and "&lt;b&gt;7А&lt;/b&gt;\\x07" in r.text and "<b>7А" not in r.text
    assert "z" * 41 not in r.text
    r = client.get("/desk/reports/overdue", params={"class": "' OR 1=1 --"})
    assert r.status_code == 200 and "<tbody>" not in r.text


def _downloads(client, **params) -> dict:
    out = {}
    for fmt in ("pdf", "xlsx", "csv"):
        r = client.get("/desk/reports/download", params={**params, "format": fmt})
        assert r.status_code == 200, r.text
        out[fmt] = r
    return out


def test_downloads_have_their_type_and_name_and_count_the_overrides(desk):
    from openpyxl import load_workbook

    make, db = desk
    add_events(db)
    files = _downloads(logged_in(make), period="month")
    pdf, xlsx, csv_ = files["pdf"], files["xlsx"], files["csv"]
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert xlsx.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert csv_.headers["content-type"].startswith("text/csv")
    for fmt, r in files.items():
        disposition = r.headers["content-disposition"]
        assert disposition.startswith(f'attachment; filename="ibc-report-2026-10-01_2026-10-05.{fmt}"')
        m = re.search(r"filename\*=UTF-8''(\S+)$", disposition)
        assert m and unquote(m.group(1)) == f"Отчёт ИБЦ 2026-10-01_2026-10-05.{fmt}"
        assert disposition.isascii()

    text = csv_.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Раздел", "Таблица", "Строка", "Показатель", "Значение"]
    assert ["Основные показатели", "Основные показатели", "Решений библиотекаря в обход правил",
            "Значение", "3"] in rows
    table = "Выдачи и продления в обход правил"
    assert ["Обслуживание", table, "Выдача: есть просроченные книги", "Количество", "2"] in rows
    assert ["Обслуживание", table, "Продление: исчерпан лимит продлений", "Количество", "1"] in rows
    assert ["Обслуживание", table, "Итого", "Количество", "3"] in rows
    assert ["Основные показатели", "Основные показатели", "Выдано экземпляров", "Значение", "3"] in rows

    wb = load_workbook(io.BytesIO(xlsx.content))
    cells = [tuple(row) for row in wb["Обслуживание"].iter_rows(values_only=True)]
    assert (table,) == cells[cells.index((table,) + (None,) * (len(cells[0]) - 1))][:1]
    assert ("Выдача: есть просроченные книги", 2) in {c[:2] for c in cells}
    assert ("Продление: исчерпан лимит продлений", 1) in {c[:2] for c in cells}
    every = " ".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                     for v in row if v is not None)
    for secret in ("экскурсию", "Нужна к уроку", "marina", "boss"):  # no reasons, no names
        assert secret not in every and secret not in text
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.content,
                             capture_output=True, check=True).stdout.decode()
        flat = " ".join(out.split())
        assert "Выдачи и продления в обход правил" in flat
        assert re.search(r"Выдача: есть просроченные книги 2\b", flat)
        assert "экскурсию" not in flat and "marina" not in flat


def test_typed_dates_download(desk):
    make, db = desk
    add_events(db)
    r = logged_in(make).get("/desk/reports/download", params={
        "period": "custom", "from": "01.09.2026", "to": "30.09.2026", "format": "csv"})
    assert r.status_code == 200
    assert 'filename="ibc-report-2026-09-01_2026-09-30.csv"' in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert ["Отчёт", "", "", "Период", "01.09.2026–30.09.2026"] in rows
    assert ["Обслуживание", "Выдачи и продления в обход правил", "Выдача: превышен лимит книг",
            "Количество", "1"] in rows


# --- overdue lists ------------------------------------------------------------------------------
def make_overdue(db, settings) -> dict[str, dt.date]:
    """Loans through the circulation service on earlier days (a fixed `today` each), so some
    are overdue on TODAY: {barcode: due date}."""
    from library.circulation.service import CirculationService

    due = {}

    def lend(card: str, barcode: str, day: dt.date) -> None:
        svc = CirculationService.from_settings(db, settings.circulation, today=lambda: day)
        outcome = svc.checkout(card, barcode, f"t-{barcode}")
        assert outcome.due_date is not None
        due[barcode] = outcome.due_date
    lend("C5A", "2001", TODAY - dt.timedelta(days=40))
    lend("C5A", "3001", TODAY - dt.timedelta(days=30))
    lend("C1B", "2002", TODAY - dt.timedelta(days=20))
    lend("CT", "3002", TODAY - dt.timedelta(days=200))
    lend("CPIN", "1001", TODAY - dt.timedelta(days=2))  # not yet due
    return due


def overdue_tables(html: str) -> list[tuple[str, list[tuple[str, ...]]]]:
    out = []
    for head, body in re.findall(r'<h2 id="group-\d+">([^<]+)</h2>.*?<tbody>(.*?)</tbody>', html, re.S):
        rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td class=\"num\">(\d+)</td></tr>", body)
        out.append((head, rows))
    return out


def test_overdue_grouped_by_class_with_staff_apart(desk, settings):
    make, db = desk
    due = make_overdue(db, settings)
    assert due["1001"] >= TODAY and all(due[b] < TODAY for b in ("2001", "3001", "2002", "3002"))

    def row(reader, title, bc):
        return (reader, title, due[bc].strftime("%d.%m.%Y"), str((TODAY - due[bc]).days))
    client = logged_in(make)
    page = client.get("/desk/reports/overdue")
    assert page.status_code == 200
    assert "Книги, не возвращённые в срок, на 05.10.2026: 4." in page.text
    assert overdue_tables(page.text) == [
        ("Класс 1Б — должники на 05.10.2026", [row("Сидоров В.", "Денискины рассказы", "2002")]),
        ("Класс 7А — должники на 05.10.2026", sorted(
            [row("Петрова А.", "Денискины рассказы", "2001"), row("Петрова А.", "Анна Каренина", "3001")],
            key=lambda r: due["2001" if r[1] == "Денискины рассказы" else "3001"])),
        ("Педагоги и сотрудники — должники на 05.10.2026", [row("Иванова М.", "Анна Каренина", "3002")]),
    ]
    assert "Орлова" not in page.text and "C5A" not in page.text  # not overdue; no cards shown
    assert "Петрова Аня" not in page.text  # «Фамилия И.» only
    options = re.findall(r'<option value="([^"]*)"', page.text)
    assert options == ["", "1Б", "7А", "teachers"]

    one = client.get("/desk/reports/overdue", params={"class": "7А"})
    assert [h for h, _ in overdue_tables(one.text)] == ["Класс 7А — должники на 05.10.2026"]
    assert '<option value="7А" selected>' in one.text and "Сидоров" not in one.text
    staff = client.get("/desk/reports/overdue", params={"class": "teachers"})
    assert [h for h, _ in overdue_tables(staff.text)] == ["Педагоги и сотрудники — должники на 05.10.2026"]
    none = client.get("/desk/reports/overdue", params={"class": "9В"})
    assert "Должников из группы «9В» на 05.10.2026 нет" in none.text and "<tbody>" not in none.text


def test_overdue_list_is_printable(desk, settings):
    make, db = desk
    make_overdue(db, settings)
    page = logged_in(make).get("/desk/reports/overdue")
    assert page.text.count('<section class="overdue-class"') == 3
    assert '<form method="get" action="/desk/reports/overdue" class="no-print' in page.text
    css = logged_in(make).get("/desk/static/desk.css").text
    block = css[css.index("/* reports */"):]
    printing = block[block.index("@media print"):]
    for rule in ("body:has(.overdue-sheet) header", ".overdue-sheet .no-print", "display: none",
                 ".overdue-class { break-before: page; }"):
        assert rule in printing


def test_no_overdue_said_in_words(desk):
    make, _db = desk
    page = logged_in(make).get("/desk/reports/overdue")
    assert page.status_code == 200 and "Должников нет" in page.text and "<table" not in page.text


def test_overdue_export_csv_and_xlsx_written_to_the_audit_log(desk, settings):
    from openpyxl import load_workbook

    make, db = desk
    due = make_overdue(db, settings)
    client = logged_in(make)
    r = client.get("/desk/reports/overdue/download", params={"class": "7А", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith(
        'attachment; filename="ibc-overdue-2026-10-05.csv"; filename*=UTF-8\'\'')
    assert unquote(r.headers["content-disposition"].split("''")[1]) == "Должники 7А 2026-10-05.csv"
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Класс", "Читатель", "Карта", "Книга", "Штрихкод", "Вернуть до", "Дней просрочки"]
    assert sorted(rows[1:]) == sorted([
        ["7А", "Петрова А.", "C5A", "Денискины рассказы", "2001", f"{due['2001']:%d.%m.%Y}",
         str((TODAY - due["2001"]).days)],
        ["7А", "Петрова А.", "C5A", "Анна Каренина", "3001", f"{due['3001']:%d.%m.%Y}",
         str((TODAY - due["3001"]).days)]])
    x = client.get("/desk/reports/overdue/download", params={"format": "xlsx"})
    assert x.status_code == 200 and x.content[:2] == b"PK"
    ws = load_workbook(io.BytesIO(x.content)).active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][0] == "Должники на 05.10.2026" and len(values) == 2 + 4
    assert {v[0] for v in values[2:]} == {"1Б", "7А", "Педагоги и сотрудники"}
    assert [(a, act, d) for a, act, d in _audit(db) if act == "overdue_exported"] == [
        ("marina", "overdue_exported", {"format": "csv", "group": "7А", "rows": 2}),
        ("marina", "overdue_exported", {"format": "xlsx", "group": "все", "rows": 4}),
    ]


def test_formula_looking_cells_stay_text_in_every_spreadsheet(desk, settings):
    """A title or a reader's search query that looks like a formula is text in CSV and XLSX."""
    from openpyxl import load_workbook

    from library.storage.models import Event, Record

    make, db = desk
    evil = '=HYPERLINK("http://x.invalid","click")'
    with db.transaction() as s:
        s.execute(Record.__table__.update().where(Record.key == "kid").values(title=evil))
        s.add(Event(kind="search", ts=at(dt.date(2026, 10, 2)), query=evil))
    make_overdue(db, settings)
    client = logged_in(make)
    r = client.get("/desk/reports/overdue/download", params={"class": "1Б", "format": "csv"})
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][3] == "'" + evil
    x = client.get("/desk/reports/overdue/download", params={"class": "1Б", "format": "xlsx"})
    cell = load_workbook(io.BytesIO(x.content)).active["D3"]
    assert (cell.value, cell.data_type) == (evil, "s")

    files = _downloads(client, period="month")
    rows = list(csv.reader(io.StringIO(files["csv"].content.decode("utf-8-sig")), delimiter=";"))
    assert ["Поиск", "Частые запросы", "'" + evil, "Раз", "1"] in rows
    wb = load_workbook(io.BytesIO(files["xlsx"].content))
    cells = [c for row in wb["Поиск"].iter_rows() for c in row if c.value == evil]
    assert cells and all(c.data_type == "s" for c in cells)
    assert not any(c.data_type == "f" for ws in wb.worksheets for row in ws.iter_rows() for c in row)


def test_a_librarian_and_an_admin_may_run_everything_but_the_override_list(desk, settings):
    make, db = desk
    add_events(db)
    make_overdue(db, settings)
    for who in (logged_in(make), logged_in(make, "boss", ADMIN_PASSWORD)):
        for url in ("/desk/reports?period=month", "/desk/reports/overdue",
                    "/desk/reports/download?period=month&format=csv",
                    "/desk/reports/overdue/download?format=csv"):
            assert who.get(url).status_code == 200, url
    assert "override-list" not in logged_in(make).get("/desk/reports?period=month").text
    assert "override-list" in logged_in(make, "boss", ADMIN_PASSWORD).get(
        "/desk/reports?period=month").text


def test_at_most_two_reports_are_rendered_at_once(desk, monkeypatch):
    """Two renders hold both slots: a third request waits GENERATOR_WAIT_S, then is told in words."""
    from server.desk import reports_pages

    make, _db = desk
    client = logged_in(make)
    monkeypatch.setattr(reports_pages, "GENERATOR_WAIT_S", 0.2)
    held = [reports_pages._generating.acquire(timeout=5) for _ in range(reports_pages.GENERATORS)]
    try:
        assert all(held)
        r = client.get("/desk/reports/download", params={"period": "month", "format": "csv"})
        assert r.status_code == 503 and "Сейчас готовятся другие отчёты" in r.text
    finally:
        for _ in held:
            reports_pages._generating.release()
    r = client.get("/desk/reports/download", params={"period": "month", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")


def test_the_api_lists_the_same_overdue_loans_most_overdue_first(desk, settings):
    """GET /api/v1/admin/overdue (and `ibc overdue`) read library/reports/overdue.py too."""
    from server import security

    make, db = desk
    due = make_overdue(db, settings)
    lent = ["2001", "3001", "2002", "3002"]  # loan ids in this order
    who = {"2001": ("C5A", "Петрова Аня", "7А"), "3001": ("C5A", "Петрова Аня", "7А"),
           "2002": ("C1B", "Сидоров Ваня", "1Б"), "3002": ("CT", "Иванова Мария", None)}
    token = {"Authorization": f"Bearer {security.create_librarian_token(db, 'anna')}"}
    r = make().get("/api/v1/admin/overdue", headers=token)
    assert r.status_code == 200
    assert [(x["barcode"], x["card"], x["reader"], x["class_name"], x["due_date"], x["days"])
            for x in r.json()] == [
        (b, *who[b], due[b].isoformat(), (TODAY - due[b]).days)
        for b in sorted(lent, key=lambda b: (due[b], lent.index(b)))]


def test_the_desk_words_agree_with_the_report_and_its_periods():
    """The desk names figures, actions, rules and periods with its own msgids; in Russian they
    read exactly as the report's (library.reports, which stays Russian)."""
    from library.reports import parse_period
    from library.reports.indicators import INDICATORS, KEYS
    from library.reports.report import NO_CLASS
    from library.reports.tables import ACTIONS, REFUSALS, SUMMARY_ROWS
    from server.desk import i18n
    from server.desk.reports_pages import (
        CHOICES,
        FIGURE_ORDER,
        INDICATOR_LABELS,
        INDICATOR_MEANING,
        LABELS,
        MEANING,
        action_words,
        group_name,
        period_title,
        rule_words,
    )

    token = i18n.set_language("ru")
    try:
        assert {k: i18n._(v) for k, v in LABELS.items()} == dict(SUMMARY_ROWS)
        assert {k: i18n._(v) for k, v in INDICATOR_LABELS.items()} == {x.key: x.name for x in INDICATORS}
        assert {k: action_words(k) for k in ACTIONS} == ACTIONS
        assert {k: rule_words(k) for k in REFUSALS} == REFUSALS
        assert group_name(NO_CLASS) == NO_CLASS and group_name("teachers") == "Педагоги и сотрудники"
        days = [dt.date(2026, 1, 1), dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 5, 15),
                dt.date(2026, 8, 31), dt.date(2026, 9, 1), dt.date(2026, 12, 31), TODAY]
        for day in days:
            for choice, _label in CHOICES:
                period = parse_period(choice, today=day)
                assert period_title(choice, period) == period.title, (choice, day)
        custom = parse_period("2026-09-01..2026-11-30")
        assert period_title("custom", custom) == custom.title
    finally:
        i18n.reset_language(token)
    token = i18n.set_language("en")
    try:
        assert period_title("quarter", parse_period("quarter", today=TODAY)) == \
            "Quarter IV 2026, to 05.10.2026 (01.10.2026–05.10.2026)"
        assert period_title("last-month", parse_period("last-month", today=TODAY)) == \
            "September 2026 (01.09.2026–30.09.2026)"
        assert set(MEANING) == set(LABELS) == set(FIGURE_ORDER)
        assert set(INDICATOR_MEANING) == set(INDICATOR_LABELS) == set(KEYS)
    finally:
        i18n.reset_language(token)


def test_the_reports_in_english(desk, settings):
    """With the English switch the pages speak English; the files stay Russian."""
    make, db = desk
    add_events(db)
    make_overdue(db, settings)
    client = logged_in(make, "boss", ADMIN_PASSWORD)
    client.get("/desk/lang/en")
    page = client.get("/desk/reports", params={"period": "month"})
    assert page.status_code == 200
    assert "Figures: October 2026, to 05.10.2026 (01.10.2026–05.10.2026)" in page.text
    assert "Loan: has overdue books" in page.text and "Copies lent" in page.text
    assert "how many times books were lent" in page.text
    chrome = re.sub(r"<tr><td>.*?</tr>", "", page.text, flags=re.S).replace("Русский", "")
    assert "<caption>Each decision (seen by administrators only)</caption>" in page.text
    assert not re.search("[А-Яа-яЁё]", chrome)  # the reasons in the override list are data
    bad = client.get("/desk/reports", params={"period": "custom", "from": "31.02.2026", "to": "1"})
    assert bad.status_code == 400 and "There is no such date: 31.02.2026" in bad.text
    overdue = client.get("/desk/reports/overdue")
    heads = [h for h, _ in overdue_tables(overdue.text)]
    assert heads == ["Class 1Б — overdue as of 05.10.2026", "Class 7А — overdue as of 05.10.2026",
                     "Teachers and staff — overdue as of 05.10.2026"]
    assert "Books not returned in time, as of 05.10.2026: 4." in overdue.text
    d = client.get("/desk/reports/overdue/download", params={"format": "csv"})
    assert d.content.decode("utf-8-sig").startswith("Класс;Читатель;Карта")
    refused = client.get("/desk/reports/download", params={"format": "doc"})
    assert refused.status_code == 400 and "File format: pdf, xlsx or csv" in refused.text
