"""The desk per school (docs/SCHOOLS.md «The desk per school»), over HTTP on SQLite and
PostgreSQL: two schools (the default ИБЦ and ГИМН5 «Гимназия № 5»), a librarian of each and a
city administrator. Each librarian lends only their school's copies to their school's readers,
takes back any copy (told whose it is), lists their school's readers and overdue loans, gets
their school's report figures (checked against hand counts) and is refused another school's
(403, also with hostile values); the administrator sees every school and chooses one; codes
for terminals per school; accounts' school by the library function, the CLI and the page."""

from __future__ import annotations

import datetime as dt
import html
import re
import secrets

import pytest
from sqlalchemy import select

from tests.desk.conftest import ADMIN_PASSWORD, PASSWORD, csrf, ibc, logged_in
from tests.desk.test_circulation import _open_loans, _panel, _txn
from tests.server.conftest import TODAY

GYM, GYM_NAME, DEFAULT = "ГИМН5", "Гимназия № 5", "ИБЦ"


@pytest.fixture
def city(desk):
    """(make, db) with school ГИМН5 (record «Физика 7» with copies 5001–5003; readers G1, G2 of
    class 5А), and the accounts `anna` (librarian of ИБЦ), `gleb` (librarian of ГИМН5) besides
    `marina` (librarian of every school) and `boss` (administrator of every school)."""
    from library.schools import add_school, ensure_default
    from library.search import reindex_all
    from library.storage.models import Copy, Reader, Record
    from server.desk.accounts import add_account

    make, db = desk
    with db.transaction() as s:
        ensure_default(s, DEFAULT, "Школа № 1")
        add_school(s, GYM, GYM_NAME)
        rec = Record(key="phys", title="Физика 7", authors=["Пёрышкин, А. В."], version=1)
        for bc in ("5001", "5002", "5003"):
            rec.copies.append(Copy(sigla=GYM, barcode=bc, status="available", version=1))
        s.add(rec)
        s.add_all([Reader(card_number="G1", first_name="Гоша", last_name="Гимназистов",
                          class_name="5А", sigla=GYM),
                   Reader(card_number="G2", first_name="Галя", last_name="Гимназистова",
                          class_name="5А", sigla=GYM)])
    with db.transaction() as s:
        reindex_all(s)
    add_account(db, "anna", PASSWORD, school=DEFAULT)
    add_account(db, "gleb", PASSWORD, school=GYM)
    return make, db


def _lend(client, card: str, barcode: str):
    page = _panel(client, card)
    r = client.post("/desk/circulation/lend", data={"csrf": csrf(page), "card": card,
                                                     "barcode": barcode, "txn": _txn(page)})
    assert r.status_code == 200, r.text
    return html.unescape(r.text)


def _forged_lend(client, card: str, barcode: str) -> str:
    """A lending form for `card` sent without its panel (a crafted request)."""
    start = client.get("/desk/circulation")
    r = client.post("/desk/circulation/lend", data={"csrf": csrf(start.text), "card": card,
                                                     "barcode": barcode,
                                                     "txn": "f" * 24 + "-" + secrets.token_hex(8)})
    assert r.status_code == 200, r.text
    return html.unescape(r.text)


def _take_back(client, barcode: str) -> str:
    start = client.get("/desk/circulation")
    r = client.post("/desk/circulation/return", data={"csrf": csrf(start.text), "barcode": barcode,
                                                      "txn": _txn(start.text, "return")})
    assert r.status_code == 200, r.text
    return html.unescape(r.text)


# --- accounts -------------------------------------------------------------------------------------
def test_an_account_belongs_to_a_school_and_the_session_carries_it(city):
    from library.schools import SchoolNotFound
    from server.desk import accounts
    from server.desk.sessions import COOKIE, current

    make, db = city
    with pytest.raises(SchoolNotFound) as refused:
        accounts.add_account(db, "nobody", PASSWORD, school="НЕТ")
    assert refused.value.code == "school_not_found"
    assert "nobody" not in {a["name"] for a in accounts.list_accounts(db)}
    schools = {a["name"]: a["school"] for a in accounts.list_accounts(db)}
    assert schools == {"anna": DEFAULT, "gleb": GYM, "marina": None, "boss": None}

    client = logged_in(make, "gleb")
    from config.settings import DeskSettings

    user = current(db, client.cookies.get(COOKIE), DeskSettings())
    assert (user.name, user.school, user.city_wide) == ("gleb", GYM, False)
    assert GYM in client.get("/desk").text  # the header names the school
    # moved to the default school: the open session follows at its next request
    assert accounts.set_school(db, "gleb", DEFAULT) is True
    assert accounts.set_school(db, "gleb", DEFAULT) is False
    assert current(db, client.cookies.get(COOKIE), DeskSettings()).school == DEFAULT
    with pytest.raises(SchoolNotFound):
        accounts.set_school(db, "gleb", "НЕТ")
    assert accounts.set_school(db, "gleb", None) is True  # every school
    assert current(db, client.cookies.get(COOKIE), DeskSettings()).school is None


def test_the_accounts_page_shows_and_sets_the_school(city):
    from server.desk import accounts

    make, db = city
    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    page = boss.get("/desk/accounts")
    assert page.status_code == 200 and GYM_NAME in page.text and "Все школы" in page.text
    r = boss.post("/desk/accounts/marina/school", data={"csrf": csrf(page.text), "school": GYM})
    assert r.status_code == 303
    assert {a["name"]: a["school"] for a in accounts.list_accounts(db)}["marina"] == GYM
    for hostile in ("' OR 1=1", "ИБЦ\u0000", "x" * 33, "НЕТ"):
        bad = boss.post("/desk/accounts/marina/school", data={"csrf": csrf(page.text), "school": hostile})
        assert bad.status_code == 400, hostile
        assert {a["name"]: a["school"] for a in accounts.list_accounts(db)}["marina"] == GYM
    no_token = boss.post("/desk/accounts/marina/school", data={"school": ""})
    assert no_token.status_code == 403
    # an administrator of one school may not widen an account (their own neither)
    accounts.add_account(db, "head5", ADMIN_PASSWORD, "admin", school=GYM)
    head = logged_in(make, "head5", ADMIN_PASSWORD)
    hp = head.get("/desk/accounts")
    assert hp.status_code == 200 and 'action="/desk/accounts/' not in hp.text
    r = head.post("/desk/accounts/head5/school", data={"csrf": csrf(hp.text), "school": ""})
    assert r.status_code == 403
    assert {a["name"]: a["school"] for a in accounts.list_accounts(db)}["head5"] == GYM


def test_the_cli_adds_an_account_for_a_school(tmp_path):
    from tests.server.conftest import write_config

    cfg = tmp_path / "cli.toml"
    write_config(cfg, f"sqlite:///{tmp_path / 'cli.sqlite3'}", "cli", advertise=False)
    assert ibc(cfg, "db", "upgrade").returncode == 0
    assert ibc(cfg, "schools", "add", GYM, GYM_NAME).returncode == 0
    missing = ibc(cfg, "librarian", "add", "x1", "--school", "НЕТ", stdin=f"{PASSWORD}\n")
    assert missing.returncode == 1 and "НЕТ" in missing.stderr
    ok = ibc(cfg, "librarian", "add", "gleb", "--school", GYM, stdin=f"{PASSWORD}\n")
    assert ok.returncode == 0, ok.stderr
    plain = ibc(cfg, "librarian", "add", "boss", "--role", "admin", stdin=f"{PASSWORD}\n")
    assert plain.returncode == 0, plain.stderr
    moved = ibc(cfg, "librarian", "school", "boss", DEFAULT)  # the default school: added on first use
    assert moved.returncode == 0, moved.stderr
    listed = ibc(cfg, "librarian", "list", "--json")
    import json

    rows = {r["name"]: r["school"] for r in json.loads(listed.stdout)}
    assert rows == {"gleb": GYM, "boss": DEFAULT, }
    assert ibc(cfg, "librarian", "school", "boss").returncode == 0  # every school again
    rows = {r["name"]: r["school"] for r in json.loads(ibc(cfg, "librarian", "list", "--json").stdout)}
    assert rows == {"gleb": GYM, "boss": None}


# --- lending and returns --------------------------------------------------------------------------
def test_each_librarian_lends_their_schools_copies_to_their_schools_readers(city):
    make, db = city
    gleb, anna = logged_in(make, "gleb"), logged_in(make, "anna")
    assert "Выдано" in _lend(gleb, "G1", "5001")
    text = _lend(gleb, "G1", "1001")  # a copy of ИБЦ
    assert "Этот экземпляр принадлежит другой школе: его выдают там" in text
    # a reader of ИБЦ scanned at ГИМН5's desk: no panel (their loans are not shown), the words
    text = _take_back(gleb, "C5A")
    assert "Это читатель другой школы: книги ему выдают в его школе" in text
    assert "Петрова" not in text and 'action="/desk/circulation/lend"' not in text
    assert gleb.get("/desk/circulation?card=C5A").text.count("Петрова") == 0
    # a forged form for that reader: the service's own school rule refuses it
    text = _forged_lend(gleb, "C5A", "5002")
    assert "Это читатель другой школы" in text and "Петрова" not in text
    text = _lend(anna, "C5A", "5002")  # anna: ГИМН5's copy
    assert "Этот экземпляр принадлежит другой школе" in text
    assert "Это читатель другой школы" in _forged_lend(anna, "G2", "2001")  # anna: ГИМН5's reader
    assert "Это читатель другой школы" in _take_back(anna, "G2")
    assert "Выдано" in _lend(anna, "C5A", "2001")
    # refusals are not overridable: no «Выдать всё равно» for another school's copy
    assert 'name="override"' not in _lend(gleb, "G2", "3001")
    assert _open_loans(db) == [("C5A", "2001"), ("G1", "5001")]
    # the city administrator lends as before: every school's copies
    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    assert "Выдано" in _lend(boss, "C5A", "5002")
    assert ("C5A", "5002") in _open_loans(db)


def test_returns_are_not_restricted_and_say_whose_copy_it_is(city):
    make, db = city
    gleb, anna = logged_in(make, "gleb"), logged_in(make, "anna")
    _lend(gleb, "G1", "5001")
    _lend(gleb, "G1", "5002")
    _lend(anna, "C5A", "2001")
    text = _take_back(anna, "5001")  # ГИМН5's copy returned at ИБЦ
    assert "Принято" in text or "Возвращено" in text or "5001" in text
    assert f"Книга школы {GYM_NAME} — отправьте её туда" in text
    own = _take_back(gleb, "5002")
    assert "отправьте её туда" not in own
    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    assert "отправьте её туда" not in _take_back(boss, "2001")  # no school of their own
    assert _open_loans(db) == []


# --- lists ----------------------------------------------------------------------------------------
def _reader_id(db, card: str) -> int:
    from library.storage.models import Reader

    with db.session() as s:
        return s.scalar(select(Reader.id).where(Reader.card_number == card))


def test_readers_list_and_reader_pages_per_school(city):
    make, db = city
    gleb, anna = logged_in(make, "gleb"), logged_in(make, "anna")
    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    mine = gleb.get("/desk/readers?q=%D0%93")  # «Г»: Гимназистов/а; ИБЦ has no Г… reader
    assert "G1" in mine.text and "G2" in mine.text
    every = gleb.get("/desk/readers?klass=7%D0%90").text  # class 7А is ИБЦ's only
    assert "C5A" not in every
    assert "C5A" in anna.get("/desk/readers?klass=7%D0%90").text
    assert "G1" not in anna.get("/desk/readers?klass=5%D0%90").text
    assert '<option value="5А"' not in anna.get("/desk/readers").text  # classes: ИБЦ's only
    both = boss.get("/desk/readers?q=%D0%93").text
    assert "G1" in both
    assert "C5A" in boss.get("/desk/readers?klass=7%D0%90").text
    only = boss.get(f"/desk/readers?klass=7%D0%90&school={GYM}").text
    assert "C5A" not in only
    assert boss.get("/desk/readers?school=%D0%9D%D0%95%D0%A2").status_code == 404  # no such school
    assert gleb.get(f"/desk/readers?school={DEFAULT}").status_code == 403
    assert gleb.get(f"/desk/readers?school={GYM}").status_code == 200  # their own: fine
    # another school's reader by id: as if there were none
    assert gleb.get(f"/desk/readers/{_reader_id(db, 'C5A')}").status_code == 404
    assert gleb.get(f"/desk/readers/{_reader_id(db, 'G1')}").status_code == 200
    assert boss.get(f"/desk/readers/{_reader_id(db, 'G1')}").status_code == 200


def test_a_librarian_adds_readers_to_their_school(city):
    from library.storage.models import Reader

    make, db = city
    gleb = logged_in(make, "gleb")
    form = gleb.get("/desk/readers/new")
    r = gleb.post("/desk/readers/new", data={"csrf": csrf(form.text), "last_name": "Новикова",
                                             "first_name": "Нина", "class_name": "5А",
                                             "category": "pupil", "card_number": "G9"})
    assert r.status_code == 303, r.text
    with db.session() as s:
        assert s.scalar(select(Reader.sigla).where(Reader.card_number == "G9")) == GYM


def _overdue(db, card: str, barcode: str, days: int) -> None:
    """An open loan of `barcode` to `card` due `days` before TODAY."""
    from library.storage.models import Copy, Loan, Reader

    with db.transaction() as s:
        copy = s.scalar(select(Copy).where(Copy.barcode == barcode))
        reader = s.scalar(select(Reader).where(Reader.card_number == card))
        due = TODAY - dt.timedelta(days=days)
        s.add(Loan(copy_id=copy.id, reader_id=reader.id, issued_at=dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc),
                   due_date=due))
        copy.status = "on_loan"


def test_overdue_lists_per_school(city):
    make, db = city
    _overdue(db, "G1", "5001", 3)
    _overdue(db, "G2", "5002", 5)
    _overdue(db, "C5A", "1001", 7)
    gleb, anna = logged_in(make, "gleb"), logged_in(make, "anna")
    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    g = gleb.get("/desk/reports/overdue").text
    assert "Гимназистов" in g and "Петрова" not in g
    a = anna.get("/desk/reports/overdue").text
    assert "Петрова" in a and "Гимназистов" not in a
    b = boss.get("/desk/reports/overdue").text
    assert "Петрова" in b and "Гимназистов" in b and 'name="school"' in b
    b5 = boss.get(f"/desk/reports/overdue?school={GYM}").text
    assert "Гимназистов" in b5 and "Петрова" not in b5
    csv = gleb.get("/desk/reports/overdue/download?format=csv").content.decode("utf-8-sig")
    assert csv.count("\n") == 3 and "G1" in csv and "C5A" not in csv  # header + G1 + G2
    assert gleb.get(f"/desk/reports/overdue?school={DEFAULT}").status_code == 403
    assert gleb.get(f"/desk/reports/overdue/download?format=csv&school={DEFAULT}").status_code == 403


def _home(client) -> dict[str, str]:
    text = client.get("/desk").text
    out = {}
    for k in ("issued-today", "returned-today", "overdue", "overdue-readers", "terminals"):
        m = re.search(rf'id="{k}">([^<]+)<', text)
        assert m, (k, text)
        out[k] = m.group(1).strip()
    return out


def test_the_home_page_counts_the_librarians_school(city):
    from sqlalchemy import update

    from library.storage.models import Loan, utcnow
    from server.models import Terminal

    make, db = city
    _overdue(db, "G1", "5001", 3)
    _overdue(db, "C5A", "1001", 7)
    _overdue(db, "C1B", "1002", 2)
    gleb, anna = logged_in(make, "gleb"), logged_in(make, "anna")
    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    assert "Выдано" in _lend(gleb, "G2", "5002")
    assert "Выдано" in _lend(anna, "CPIN", "2001")
    assert "Выдано" in _lend(anna, "CT", "2002")
    _take_back(anna, "5002")  # ГИМН5's copy handed in at ИБЦ: a return of ГИМН5's copy
    noon = dt.datetime.combine(TODAY, dt.time(12)).astimezone(dt.timezone.utc)  # the app's today
    with db.transaction() as s:  # the desk lent them now (the wall clock): move them to TODAY
        s.execute(update(Loan).where(Loan.issued_at > noon).values(issued_at=noon))
        s.execute(update(Loan).where(Loan.returned_at > noon).values(returned_at=noon))
    with db.transaction() as s:  # terminals: one of ГИМН5, two of the default school (one NULL)
        s.add_all([Terminal(name=name, token_hash=name * 16, sigla=sigla, last_seen=utcnow())
                   for name, sigla in (("gym1", GYM), ("def1", None), ("def2", DEFAULT))])
    g, a, b = _home(gleb), _home(anna), _home(boss)
    assert (g["terminals"], a["terminals"], b["terminals"]) == ("1 / 1", "2 / 2", "3 / 3")
    assert (g["issued-today"], g["returned-today"], g["overdue"], g["overdue-readers"]) == ("1", "1", "1", "1")
    assert (a["issued-today"], a["returned-today"], a["overdue"], a["overdue-readers"]) == ("2", "0", "2", "2")
    assert (b["issued-today"], b["returned-today"], b["overdue"], b["overdue-readers"]) == ("3", "1", "3", "3")


# --- reports --------------------------------------------------------------------------------------
# the whole calendar year of the run: the rows were made now (the wall clock), not on TODAY
YEAR = dt.date.today().year
PERIOD = f"/desk/reports?period=custom&from=01.01.{YEAR}&to=31.12.{YEAR}"


def _figure(text: str, key: str) -> int:
    m = re.search(rf'id="fig-{key}">(\d+)<', text)
    assert m, text
    return int(m.group(1))


def test_report_figures_per_school_against_hand_counts(city):
    make, db = city
    gleb, anna = logged_in(make, "gleb"), logged_in(make, "anna")
    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    _lend(gleb, "G1", "5001")
    _lend(gleb, "G2", "5002")
    _lend(anna, "C5A", "2001")
    _take_back(gleb, "5001")
    # by hand: ГИМН5 has 3 copies of 1 title, 2 readers, lent 2, took back 1, 1 on loan;
    # ИБЦ has 6 copies of 3 titles, lent 1, 1 on loan
    g = gleb.get(PERIOD).text
    assert (_figure(g, "copies"), _figure(g, "titles"), _figure(g, "readers")) == (3, 1, 2)
    assert (_figure(g, "loans"), _figure(g, "returns"), _figure(g, "on_loan")) == (2, 1, 1)
    assert f"Школа: {GYM}" in g or f"Школа: {GYM_NAME}" in g
    a = anna.get(PERIOD).text
    assert (_figure(a, "copies"), _figure(a, "titles")) == (6, 3)
    assert (_figure(a, "loans"), _figure(a, "returns"), _figure(a, "on_loan")) == (1, 0, 1)
    b = boss.get(PERIOD).text
    assert (_figure(b, "copies"), _figure(b, "loans"), _figure(b, "on_loan")) == (9, 3, 2)
    b5 = boss.get(f"{PERIOD}&school={GYM}").text
    assert (_figure(b5, "copies"), _figure(b5, "loans")) == (3, 2)
    # the download is the same report as `ibc report --school`
    r = gleb.get(PERIOD.replace("/desk/reports?", "/desk/reports/download?") + "&format=csv")
    assert r.status_code == 200
    from library.reports import build_report
    from library.reports.render_csv import csv_text
    from server.desk.reports_pages import resolve

    period, _errors = resolve("custom", f"01.01.{YEAR}", f"31.12.{YEAR}", TODAY)
    want = build_report(db, period, sigla=GYM, school_name=GYM_NAME)
    assert (want["summary"]["loans"], want["summary"]["copies"]) == (2, 3)
    got, exp = r.content.decode("utf-8-sig").splitlines(), csv_text(want).splitlines()
    assert len(got) == len(exp) and sum(a != b for a, b in zip(got, exp, strict=True)) <= 1  # its time


def test_the_overrides_one_by_one_per_school(city):
    from library.storage.models import Event
    from server.desk.accounts import add_account

    make, db = city
    with db.transaction() as s:
        for sigla, reason in ((GYM, "решение гимназии"), (DEFAULT, "решение первой школы")):
            s.add(Event(kind="override", sigla=sigla, terminal="desk:x",
                        payload={"action": "checkout", "refusal": "has_overdue", "reason": reason,
                                 "by": "x"}))
    add_account(db, "head5", ADMIN_PASSWORD, "admin", school=GYM)
    head = logged_in(make, "head5", ADMIN_PASSWORD).get(PERIOD).text
    assert "решение гимназии" in head and "решение первой школы" not in head
    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    every = boss.get(PERIOD).text
    assert "решение гимназии" in every and "решение первой школы" in every
    first = boss.get(f"{PERIOD}&school={DEFAULT}").text
    assert "решение первой школы" in first and "решение гимназии" not in first


@pytest.mark.parametrize("value", [DEFAULT, "ИБЦ ", "' OR '1'='1", "%00", "ИБЦ\u0000",
                                   "<script>alert(1)</script>", "x" * 33])
def test_another_schools_report_is_refused(city, value):
    make, _db = city
    gleb = logged_in(make, "gleb")
    for url in ("/desk/reports?period=month", "/desk/reports/download?period=month&format=csv",
                "/desk/reports/overdue", "/desk/readers", "/desk/textbooks/provision",
                "/desk/textbooks/provision/download?format=csv"):
        r = gleb.get(url, params={"school": value})
        assert r.status_code == 403, (url, value, r.status_code)
        assert "Гимназистов" not in r.text and "<script>alert" not in r.text
    assert gleb.get("/desk/textbooks/provision", params={"school": GYM}).status_code == 200  # their own
    too_long = gleb.get("/desk/reports", params={"period": "month", "school": "x" * 300})
    assert too_long.status_code == 422 or too_long.status_code == 403
    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    odd = boss.get("/desk/reports", params={"period": "month", "school": value})
    assert odd.status_code in (200, 404)  # the default school itself, or no such school
    assert odd.status_code == (200 if value == DEFAULT or value == "ИБЦ " else 404)
    assert "<script>alert" not in odd.text


# --- terminals ------------------------------------------------------------------------------------
def _enrolled_school(db) -> list[str | None]:
    from server.models import EnrolCode

    with db.session() as s:
        return list(s.scalars(select(EnrolCode.sigla).order_by(EnrolCode.created_at)))


def test_terminal_codes_for_the_school(city, settings):
    from server.desk.accounts import add_account

    make, db = city
    settings.server.tls = "off"
    add_account(db, "head5", ADMIN_PASSWORD, "admin", school=GYM)
    head = logged_in(make, "head5", ADMIN_PASSWORD)
    page = head.get("/desk/terminals")
    assert 'name="school"' not in page.text and f"Код для Вашей школы: {GYM_NAME}" in page.text
    r = head.post("/desk/terminals/enrol", data={"csrf": csrf(page.text)})
    assert r.status_code == 200, r.text
    assert f"Терминал будет выдавать книги школы {GYM_NAME}" in r.text
    forged = head.post("/desk/terminals/enrol", data={"csrf": csrf(page.text), "school": DEFAULT})
    assert forged.status_code == 403
    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    bp = boss.get("/desk/terminals")
    assert 'name="school"' in bp.text and GYM_NAME in bp.text
    assert boss.post("/desk/terminals/enrol", data={"csrf": csrf(bp.text), "school": DEFAULT}).status_code == 200
    assert boss.post("/desk/terminals/enrol", data={"csrf": csrf(bp.text), "school": "НЕТ"}).status_code == 404
    assert _enrolled_school(db) == [GYM, DEFAULT]


# --- class sets -----------------------------------------------------------------------------------
def test_class_sets_and_their_issue_job_per_school(city):
    from urllib.parse import quote

    from sqlalchemy import update

    from library.storage.models import ClassSet, Record
    from server.models import DeskJob
    from tests.desk.test_class_sets import CLS, finished

    make, db = city
    with db.transaction() as s:
        s.execute(update(Record).where(Record.key == "phys").values(item_type="textbook"))
        rid = s.scalar(select(Record.id).where(Record.key == "phys"))
    c5 = CLS + "/" + quote("5А")
    gleb, anna = logged_in(make, "gleb"), logged_in(make, "anna")
    page = gleb.get(c5 + "?year=2026")
    assert page.status_code == 200
    r = gleb.post(c5 + "/set", data={"csrf": csrf(page.text), "year": "2026", "action": "add",
                                     "record": str(rid)})
    assert r.status_code == 303
    with db.session() as s:
        assert list(s.execute(select(ClassSet.sigla, ClassSet.class_name))) == [(GYM, "5А")]
    assert "Гимназистов" in gleb.get(c5 + "?year=2026").text  # the sheet: ГИМН5's pupils
    theirs = anna.get(c5 + "?year=2026").text  # ИБЦ's 5А: no pupils, no set
    assert "Гимназистов" not in theirs and f'value="{rid}">Физика 7' in theirs  # offered, not in the set
    r = gleb.post(c5 + "/issue", data={"csrf": csrf(page.text), "year": "2026"})
    assert r.status_code == 303
    job = int(r.headers["location"].rsplit("/", 1)[1])
    assert finished(db, job) == "done"
    with db.session() as s:
        assert s.get(DeskJob, job).target == f"2026@{GYM}:5А"
    assert sorted(x for x in _open_loans(db)) == [("G1", "5001"), ("G2", "5002")]
    assert gleb.get(f"{CLS}/jobs/{job}").status_code == 200
    assert anna.get(f"{CLS}/jobs/{job}").status_code == 404  # another school's job
    boss = logged_in(make, "boss", ADMIN_PASSWORD)
    assert boss.get(f"{CLS}/jobs/{job}").status_code == 200
