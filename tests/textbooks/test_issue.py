"""A scripted school year of class sets (library/textbooks/issue.py) on SQLite and PostgreSQL:
two classes (5А, 6А), three subjects, the September issue (automatic, re-run, a crash midway
and the resume, a shortage), scan issue, the May collection with the owing lists, a lost book,
a damaged one and a pupil who moves to another school."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from library.circulation.service import CirculationService
from library.storage.models import ClassSet, Copy, Event, Loan, Reader, Record, TextbookTitle
from library.textbooks import issue as T

SEPT = dt.date(2026, 9, 2)
MAY = dt.date(2027, 5, 20)


class Clock:
    def __init__(self, day: dt.date):
        self.day = day

    def __call__(self) -> dt.date:
        return self.day


@pytest.fixture
def year_db(db):
    """Algebra (item type textbook), History and Russian (TextbookTitle rows, item type book);
    a novel that is not a textbook; 5А: 3 pupils, 6А: 2 pupils; a teacher."""
    with db.transaction() as s:
        def rec(key, title, n, item_type="book", prefix=""):
            r = Record(key=key, title=title, authors=["Автор, А."], item_type=item_type, version=1)
            for i in range(n, 0, -1):  # inserted in reverse: allocation goes by inventory number
                r.copies.append(Copy(sigla="ИБЦ", barcode=f"{prefix}{i:02d}",
                                     inventory_number=f"INV-{prefix}{i:02d}", status="available"))
            s.add(r)
            return r
        rec("alg", "Алгебра 5", 5, "textbook", "A")
        his = rec("his", "История 5", 3, prefix="H")
        rus = rec("rus", "Русский язык 5", 6, prefix="R")
        rec("novel", "Роман", 2, prefix="N")
        s.flush()
        s.add_all([TextbookTitle(record_id=his.id, subject="История"),
                   TextbookTitle(record_id=rus.id, subject="Русский язык")])
        s.add_all([
            Reader(card_number="P1", last_name="Алексеев", first_name="Борис", class_name="5А"),
            Reader(card_number="P2", last_name="Борисова", first_name="Вера", class_name="5А"),
            Reader(card_number="P3", last_name="Власов", first_name="Глеб", class_name="5А"),
            Reader(card_number="Q1", last_name="Гусев", first_name="Дмитрий", class_name="6А"),
            Reader(card_number="Q2", last_name="Демина", first_name="Ева", class_name="6А"),
            Reader(card_number="T1", last_name="Учитель", first_name="Ирина", category="teacher"),
        ])
    return db


def _service(db, day=SEPT):
    from config.settings import load_settings

    return CirculationService.from_settings(db, load_settings(environ={}).circulation, today=Clock(day))


def _ids(db):
    with db.session() as s:
        return {k: v for k, v in s.execute(select(Record.key, Record.id))}


def _set(db, year, cls, *keys):
    ids = _ids(db)
    with db.transaction() as s:
        for k in keys:
            T.add_to_set(s, year, cls, ids[k], "marina")


def _open(db, card=None):
    with db.session() as s:
        q = select(func.count()).select_from(Loan).where(Loan.returned_at.is_(None))
        if card:
            q = q.join(Reader, Loan.reader_id == Reader.id).where(Reader.card_number == card)
        return s.scalar(q)


def test_set_editor_rules(year_db):
    db = year_db
    ids = _ids(db)
    with db.transaction() as s:
        assert T.add_to_set(s, 2025, "5А", ids["alg"], "marina") is True
        assert T.add_to_set(s, 2025, "5А", ids["alg"], "marina") is False  # once
        with pytest.raises(T.ClassSetError) as exc:
            T.add_to_set(s, 2025, "5А", ids["novel"], "marina")
        assert exc.value.code == "not_textbook"
        T.add_to_set(s, 2025, "5А", ids["his"], "marina")
    assert T.class_below("6А") == "5А" and T.class_below("1А") is None and T.class_below("x") is None
    with db.transaction() as s:
        assert T.copy_set(s, 2026, "6А", "marina") == 2  # last year's 5А
        assert [t.title for t in T.set_titles(s, 2026, "6А")] == ["Алгебра 5", "История 5"]
        assert T.copy_set(s, 2026, "6А", "marina") == 0
        assert T.remove_from_set(s, 2026, "6А", ids["his"]) is True
        assert T.remove_from_set(s, 2026, "6А", ids["his"]) is False
        titles = [t.title for t in T.textbook_choices(s)]
        assert titles == ["Алгебра 5", "История 5", "Русский язык 5"]  # not the novel
    assert T.current_year(SEPT) == 2026 and T.current_year(MAY) == 2026
    assert T.current_year(dt.date(2027, 6, 1)) == 2027
    # inventory numbers compare as numbers: 9 before 10
    with db.transaction() as s:
        for inv in ("INV-10", "INV-9", "INV-100"):
            s.add(Copy(record_id=ids["alg"], sigla="ИБЦ", inventory_number=inv, status="available"))
    with db.session() as s:
        invs = [c.inventory_number for c in T._available_copies(s, ids["alg"])]
    assert invs[:4] == ["INV-9", "INV-10", "INV-100", "INV-A01"]


def test_school_year(year_db):
    db = year_db
    svc = _service(db)
    _set(db, 2026, "5А", "alg", "his", "rus")
    _set(db, 2026, "6А", "alg", "rus")

    # the dry run lends nothing but says what would go where
    dry = T.issue_class(svc, 2026, "5А", "marina", dry_run=True)
    assert dry.dry_run and len(dry.lent) == 9 and _open(db) == 0
    assert [x.barcode for x in dry.lent if x.title == "Алгебра 5"] == ["A01", "A02", "A03"]

    # a crash after 4 loans (the 5th loan's transaction is rolled back), then the resume
    calls = []

    def crash(s, outcome):
        calls.append(outcome.barcode)
        if len(calls) == 5:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        T.issue_class(svc, 2026, "5А", "marina", record=crash)
    assert _open(db) == 4
    resumed = T.issue_class(svc, 2026, "5А", "marina")
    assert len(resumed.lent) == 5 and resumed.held_before == 4 and not resumed.missing
    assert _open(db) == 9
    # every pupil has one copy of each title, due at the school year's end (the textbook rule)
    with db.session() as s:
        sheet = T.class_sheet(s, 2026, "5А")
        assert sheet.issued == sheet.needed == 9
        # item type «textbook»: due at the school year's end (a TextbookTitle row alone does
        # not change the item type's loan rule: Russian, a «book», lends for 14 days)
        ids = _ids(db)
        dues = {k[1]: h.due for k, h in sheet.held.items()}
        assert dues[ids["alg"]] == dt.date(2027, 5, 31)
        assert dues[ids["rus"]] == dt.date(2026, 9, 16)
        assert {sheet.held[(p.reader_id, _ids(db)["alg"])].barcode for p in sheet.pupils} == \
            {"A01", "A02", "A03"}

    # a re-run lends nothing twice
    again = T.issue_class(svc, 2026, "5А", "marina")
    assert again.lent == [] and again.held_before == 9 and _open(db) == 9

    # 6А: History has no copy left (3 copies, all with 5А) — not in 6А's set; Algebra has 2 left
    # for 2 pupils, Russian 3 for 2: all fine; then a third 6А pupil arrives → a shortage
    with db.transaction() as s:
        s.add(Reader(card_number="Q3", last_name="Жуков", first_name="Олег", class_name="6А"))
    r6 = T.issue_class(svc, 2026, "6А", "marina")
    alg = _ids(db)["alg"]
    assert len(r6.lent) == 5 and r6.missing == {alg: 1}
    assert [x.pupil for x in r6.lent if x.record_id == alg] == ["Гусев Дмитрий", "Демина Ева"]
    with db.session() as s:
        st = {c.class_name: c for c in T.class_list(s, 2026)}
    assert (st["5А"].pupils, st["5А"].titles, st["5А"].issued, st["5А"].needed) == (3, 3, 9, 9)
    assert (st["6А"].issued, st["6А"].needed) == (5, 6)

    # a pupil who returned a set book mid-year is not given one again by a re-run
    svc.checkin("R06", "mid-year-return")
    assert T.issue_class(svc, 2026, "6А", "marina").issued_before >= 1

    # scan issue: a returned Algebra copy scanned for 6А goes to the pupil without it (Жуков)
    with db.transaction() as s:
        s.add(Copy(record_id=alg, sigla="ИБЦ", barcode="A99", status="available"))
    got = T.scan_issue(svc, 2026, "6А", "A99", "marina")
    assert got.pupil == "Жуков О." and got.title == "Алгебра 5"
    for code, why in (("A99", "on_loan"), ("H01", "not_in_set"), ("nope", "unknown_copy"),
                      ("N01", "not_in_set")):
        with pytest.raises(T.ClassSetError) as exc:
            T.scan_issue(svc, 2026, "6А", code, "marina")
        assert exc.value.code == why, code
    with db.transaction() as s:
        s.add(Copy(record_id=alg, sigla="ИБЦ", barcode="A98", status="available"))
    with pytest.raises(T.ClassSetError) as exc:
        T.scan_issue(svc, 2026, "6А", "A98", "marina")
    assert exc.value.code == "all_have"

    # --- May: collection --------------------------------------------------------------------
    svc.today = Clock(MAY)
    # Власов (5А) moves to another school in April: archived, still owes his books
    with db.transaction() as s:
        p3 = s.scalar(select(Reader).where(Reader.card_number == "P3"))
        p3.active = False
        p3.archived_at = dt.datetime(2027, 4, 1, tzinfo=dt.timezone.utc)
    with db.session() as s:
        owed5 = T.owing(s, "5А")
    assert len(owed5) == 9 and {o.pupil for o in owed5 if not o.active} == {"Власов Глеб"}

    # Алексеев hands in his Algebra: confirmed with his name; scanned again: already taken
    with db.session() as s:
        alexeev_alg = next(o for o in owed5 if o.pupil == "Алексеев Борис" and o.title == "Алгебра 5")
    c = T.collect(svc, alexeev_alg.barcode, class_name="5А")
    assert (c.kind, c.title, c.pupil, c.class_name, c.other_class) == \
        ("accepted", "Алгебра 5", "Алексеев Б.", "5А", False)
    assert T.collect(svc, alexeev_alg.barcode).kind == "already"
    assert _open(db, "P1") == 2
    # a 6А book scanned while collecting 5А: accepted, and said to be another class's
    c6 = T.collect(svc, "A99", class_name="5А")
    assert c6.other_class and c6.class_name == "6А"
    # not on loan, unknown
    for code, why in (("A98", "not_on_loan"), ("zzz", "unknown_copy")):
        with pytest.raises(T.ClassSetError) as exc:
            T.collect(svc, code)
        assert exc.value.code == why
    # the archived pupil's books come back by post: collected, he no longer owes
    for o in [o for o in owed5 if o.pupil == "Власов Глеб"]:
        assert T.collect(svc, o.barcode).active is False
    with db.session() as s:
        assert not [o for o in T.owing(s, "5А") if o.pupil == "Власов Глеб"]

    # Борисова lost her History: the copy is lost, the loan stays open (she owes it)
    with db.session() as s:
        bor = [o for o in T.owing(s, "5А") if o.pupil == "Борисова Вера"]
    his = next(o for o in bor if o.title == "История 5")
    T.mark_lost(db, his.copy_id, "потеряла в автобусе")
    with db.session() as s:
        cp = s.get(Copy, his.copy_id)
        assert cp.status == "lost" and cp.note == "потеряла в автобусе"
        still = [o for o in T.owing(s, "5А") if o.copy_id == his.copy_id]
        assert still and still[0].lost
    # her Russian is damaged: returned and in repair with the note
    rus = next(o for o in bor if o.title == "Русский язык 5")
    out = T.mark_damaged(svc, rus.copy_id, "залит водой")
    assert out.action == "checkin"
    with db.session() as s:
        cp = s.get(Copy, rus.copy_id)
        assert cp.status == "bindery" and cp.note == "залит водой"
        assert s.scalar(select(Loan.returned_at).where(Loan.id == rus.loan_id)) is not None
    with pytest.raises(T.ClassSetError):
        T.mark_damaged(svc, rus.copy_id, "again")
    with pytest.raises(T.ClassSetError):
        T.mark_lost(db, rus.copy_id, "x" * 600)
    # the lost book found later: checked in, the loan closed
    lost_found = T.collect(svc, his.barcode)
    assert lost_found.lost_found and lost_found.kind == "accepted"
    with db.session() as s:
        left = T.owing(s, "5А")
    assert sorted((o.pupil, o.title) for o in left) == [
        ("Алексеев Борис", "История 5"), ("Алексеев Борис", "Русский язык 5"),
        ("Борисова Вера", "Алгебра 5")]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.kind == "override")) == 0
        assert s.scalar(select(func.count()).select_from(ClassSet)) == 5


def test_class_issue_waives_the_pupil_limit(year_db):
    """A set of more titles than a pupil's loan limit is issued (the class issue's override),
    the override recorded as an event."""
    db = year_db
    svc = _service(db)
    with db.transaction() as s:
        for i in range(5):
            r = Record(key=f"x{i}", title=f"Учебник {i}", item_type="textbook", version=1)
            r.copies.append(Copy(sigla="ИБЦ", barcode=f"X{i}", status="available"))
            s.add(r)
    _set(db, 2026, "6А", "alg", *[f"x{i}" for i in range(5)])
    with db.transaction() as s:
        s.execute(Reader.__table__.update().where(Reader.card_number == "Q2").values(active=False))
    rep = T.issue_class(svc, 2026, "6А", "marina")
    assert len(rep.lent) == 6 and not rep.refused and _open(db, "Q1") == 6
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.kind == "override")) == 1


def test_issue_progress_callback(year_db):
    """`progress(report, done, planned)` every `every` planned loans and at the end; the estimate
    `issue_needed` counts the pairs without a copy."""
    db = year_db
    _set(db, 2026, "6А", "alg", "his")
    with db.session() as s:
        assert T.issue_needed(s, 2026, "6А") == 4
    seen: list[tuple[int, int, int]] = []
    rep = T.issue_class(_service(db), 2026, "6А", "marina",
                        progress=lambda r, done, planned: seen.append((len(r.lent), done, planned)), every=3)
    assert seen == [(3, 3, 4), (4, 4, 4)] and len(rep.lent) == 4
    with db.session() as s:
        assert T.issue_needed(s, 2026, "6А") == 0
    seen.clear()
    T.issue_class(_service(db), 2026, "6А", "marina", progress=lambda r, d, p: seen.append((len(r.lent), d, p)))
    assert seen == [(0, 0, 0)]  # nothing planned: told once


def test_cli_issue_and_owing(year_db, db_url, tmp_path):
    """`ibc textbooks issue` (dry run, then for real, then again) and `ibc textbooks owing`."""
    import json
    import os
    import subprocess
    import sys

    from tests.server.conftest import write_config

    _set(year_db, 2026, "6А", "alg", "his")
    cfg = tmp_path / "ibc.toml"
    write_config(cfg, db_url, "school")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBC_")}

    def ibc(*argv):
        return subprocess.run([sys.executable, "-m", "ibc", "--config", str(cfg), "textbooks", *argv],
                              capture_output=True, text=True, timeout=120, env=env, check=False)

    dry = ibc("issue", "6а", "--year", "2026", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    body = json.loads(dry.stdout)
    assert body["dry_run"] and len(body["lent"]) == 4 and _open(year_db) == 0
    real = ibc("issue", "6А", "--year", "2026")
    assert real.returncode == 0, real.stderr
    assert "A01\tАлгебра 5\tГусев Дмитрий" in real.stdout and _open(year_db) == 4
    again = json.loads(ibc("issue", "6А", "--year", "2026", "--json").stdout)
    assert again["lent"] == [] and again["held_before"] == 4
    assert ibc("issue", "x<y").returncode == 2
    owing = json.loads(ibc("owing", "--class", "6А", "--json").stdout)
    assert sorted((o["pupil"], o["title"]) for o in owing) == [
        ("Гусев Дмитрий", "Алгебра 5"), ("Гусев Дмитрий", "История 5"),
        ("Демина Ева", "Алгебра 5"), ("Демина Ева", "История 5")]
    text = ibc("owing")
    assert text.returncode == 0 and "== 6А" in text.stdout
    # the same list as files (the desk's writer)
    out = ibc("owing", "--class", "6А", "--csv", str(tmp_path / "o.csv"), "-o", str(tmp_path / "o.xlsx"))
    assert out.returncode == 0, out.stderr
    lines = (tmp_path / "o.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].split(";")[:3] == ["Класс", "Ученик", "Учебник"] and len(lines) == 5
    assert any(line.startswith("6А;Гусев Дмитрий;Алгебра 5;") for line in lines)
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "o.xlsx").active
    assert ws.max_row == 6 and ws["B3"].value in {"Гусев Дмитрий", "Демина Ева"}
    bad = ibc("owing", "--csv", str(tmp_path / "no" / "such" / "dir.csv"))
    assert bad.returncode == 1 and "dir.csv" in bad.stderr


def _pdf_text(data: bytes, tmp_path) -> str:
    import subprocess

    path = tmp_path / "list.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_issue_list_pdf(year_db, tmp_path):
    """The PDF issue list holds the pupils, the barcodes and the teacher's heading."""
    from library.textbooks.issue_pdf import issue_list_pdf

    _set(year_db, 2026, "6А", "alg")
    T.issue_class(_service(year_db), 2026, "6А", "marina")
    with year_db.session() as s:
        sheet = T.class_sheet(s, 2026, "6А")
    text = _pdf_text(issue_list_pdf(sheet, school="Школа №1", teacher=True), tmp_path)
    for part in ("Ведомость выдачи учебников", "6А", "Для классного руководителя", "Гусев Дмитрий",
                 "A01", "Подпись", "инв. INV-A01"):
        assert part in text, part
    plain = _pdf_text(issue_list_pdf(sheet, school="Школа №1"), tmp_path)
    assert "Для классного руководителя" not in plain and "Демина Ева" in plain


def test_two_issues_at_once_lend_each_pupil_one_copy(year_db):
    """Two desks press «Выдать автоматически» for the same class at once (and a third scans):
    every pupil ends with exactly one copy of each title."""
    import threading

    db = year_db
    _set(db, 2026, "5А", "alg", "his", "rus")
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def run(kind):
        try:
            start.wait()
            svc = _service(db)
            if kind == "scan":
                for code in ("R06", "R05"):
                    try:
                        T.scan_issue(svc, 2026, "5А", code, "olga")
                    except T.ClassSetError:
                        pass
            else:
                T.issue_class(svc, 2026, "5А", kind)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in ("marina", "olga", "scan")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    with db.session() as s:
        rows = s.execute(select(Loan.reader_id, Copy.record_id, func.count())
                         .join(Copy, Loan.copy_id == Copy.id).where(Loan.returned_at.is_(None))
                         .group_by(Loan.reader_id, Copy.record_id)).all()
    assert len(rows) == 9 and {n for _, _, n in rows} == {1}
