"""Class sets per school (library/textbooks/issue.py, migration 0022_school_staff) on SQLite and
PostgreSQL: «5А» of the default school ИБЦ and «5А» of ГИМН5 are two sets; each class issue
lends its school's copies to its school's pupils; the owing lists and the class list are per
school; a call without a school keeps what a single school did; the database's unique key
still refuses a twin row of one school's set (NULL = the default school included); the CLI's
`ibc textbooks issue|owing --school`."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from library.circulation.service import CirculationService
from library.schools import add_school, ensure_default, scope
from library.storage.models import ClassSet, Copy, Loan, Reader, Record
from library.textbooks import issue as T

SEPT = dt.date(2026, 9, 2)
YEAR = 2026
GYM, DEFAULT = "ГИМН5", "ИБЦ"


@pytest.fixture
def two(db):
    """Algebra (a textbook) with 3 copies of ИБЦ (A1–A3) and 3 of ГИМН5 (B1–B3); class 5А: 2
    pupils at ИБЦ (P1, P2), 3 at ГИМН5 (G1–G3)."""
    with db.transaction() as s:
        ensure_default(s, DEFAULT, "Школа № 1")
        add_school(s, GYM, "Гимназия № 5")
        r = Record(key="alg", title="Алгебра 5", authors=["Автор, А."], item_type="textbook", version=1)
        for i in (1, 2, 3):
            r.copies.append(Copy(sigla=DEFAULT, barcode=f"A{i}", inventory_number=f"IA{i}", status="available"))
            r.copies.append(Copy(sigla=GYM, barcode=f"B{i}", inventory_number=f"IB{i}", status="available"))
        s.add(r)
        s.add_all([Reader(card_number="P1", last_name="Петров", first_name="Пётр", class_name="5А"),
                   Reader(card_number="P2", last_name="Павлова", first_name="Полина", class_name="5А",
                          sigla=DEFAULT),
                   *[Reader(card_number=f"G{i}", last_name=f"Гимназист{i}", first_name="Гоша",
                            class_name="5А", sigla=GYM) for i in (1, 2, 3)]])
    return db


def _scopes(db):
    with db.session() as s:
        return scope(s, DEFAULT, DEFAULT), scope(s, GYM, DEFAULT)


def _service(db):
    from config.settings import load_settings

    return CirculationService.from_settings(db, load_settings(environ={}).circulation, today=lambda: SEPT)


def _loans(db) -> list[tuple[str, str]]:
    with db.session() as s:
        return sorted(s.execute(select(Reader.card_number, Copy.barcode)
                                .join(Loan, Loan.reader_id == Reader.id)
                                .join(Copy, Copy.id == Loan.copy_id)
                                .where(Loan.returned_at.is_(None))).all())


def test_two_schools_two_sets_each_lent_its_own(two):
    db = two
    a, b = _scopes(db)
    with db.session() as s:
        rid = s.scalar(select(Record.id))
    with db.transaction() as s:
        assert T.add_to_set(s, YEAR, "5А", rid, "anna", school=a) is True
        assert T.add_to_set(s, YEAR, "5А", rid, "anna", school=a) is False
        assert T.set_titles(s, YEAR, "5А", school=b) == []  # ГИМН5's 5А has no set yet
        assert T.add_to_set(s, YEAR, "5А", rid, "gleb", school=b) is True
    with db.session() as s:
        assert sorted((c.sigla or "", c.class_name) for c in s.scalars(select(ClassSet))) == \
            [("", "5А"), (GYM, "5А")]  # the default school's set: NULL
        sheet_a = T.class_sheet(s, YEAR, "5А", school=a)
        sheet_b = T.class_sheet(s, YEAR, "5А", school=b)
        assert [p.card for p in sheet_a.pupils] == ["P2", "P1"]  # by surname: Павлова, Петров
        assert sorted(p.card for p in sheet_b.pupils) == ["G1", "G2", "G3"]
        assert [(c.class_name, c.pupils, c.titles) for c in T.class_list(s, YEAR, school=b)] == [("5А", 3, 1)]
    svc = _service(db)
    rep_b = T.issue_class(svc, YEAR, "5А", "gleb", school=b, terminal="desk:gleb")
    assert (len(rep_b.lent), rep_b.missing, rep_b.refused) == (3, {}, [])
    rep_a = T.issue_class(svc, YEAR, "5А", "anna", school=a, terminal="desk:anna")
    assert (len(rep_a.lent), rep_a.missing) == (2, {})
    assert _loans(db) == [("G1", "B1"), ("G2", "B2"), ("G3", "B3"), ("P1", "A2"), ("P2", "A1")]
    with db.session() as s:
        assert sorted(o.card for o in T.owing(s, "5А", school=b)) == ["G1", "G2", "G3"]
        assert sorted(o.card for o in T.owing(s, "5А", school=a)) == ["P1", "P2"]
        assert len(T.owing(s, "5А")) == 5  # no school: every reader (as before)
    with db.transaction() as s:
        T.remove_from_set(s, YEAR, "5А", rid, school=a)
    with db.session() as s:
        assert T.set_titles(s, YEAR, "5А", school=a) == [] and len(T.set_titles(s, YEAR, "5А", school=b)) == 1


def test_a_scan_issue_lends_the_schools_copy_to_its_pupil(two):
    from library.circulation.errors import OtherSchool

    db = two
    _a, b = _scopes(db)
    with db.session() as s:
        rid = s.scalar(select(Record.id))
    with db.transaction() as s:
        T.add_to_set(s, YEAR, "5А", rid, "gleb", school=b)
    svc = _service(db)
    got = T.scan_issue(svc, YEAR, "5А", "B2", "gleb", school=b)
    assert got.pupil.startswith("Гимназист1")
    with pytest.raises(OtherSchool):
        T.scan_issue(svc, YEAR, "5А", "A1", "gleb", school=b)
    assert _loans(db) == [("G1", "B2")]


def test_one_school_without_a_school_argument_works_as_before(db):
    """A single school: the default school's Scope filters nothing, None neither."""
    with db.transaction() as s:
        ensure_default(s, DEFAULT, "Школа № 1")
        r = Record(key="alg", title="Алгебра 5", item_type="textbook", version=1)
        r.copies.append(Copy(sigla="ЧЗ", barcode="X1", status="available"))  # a department code
        s.add(r)
        s.add(Reader(card_number="P1", last_name="Петров", first_name="Пётр", class_name="5А"))
    with db.session() as s:
        rid = s.scalar(select(Record.id))
        only = scope(s, DEFAULT, DEFAULT)
    with db.transaction() as s:
        T.add_to_set(s, YEAR, "5А", rid, "marina")  # no school: the default school's set
    with db.session() as s:
        assert [t.record_id for t in T.set_titles(s, YEAR, "5А", school=only)] == [rid]
    rep = T.issue_class(_service(db), YEAR, "5А", "marina", school=only)
    assert [x.barcode for x in rep.lent] == ["X1"]


def test_the_unique_key_holds_per_school(two):
    db = two
    with db.session() as s:
        rid = s.scalar(select(Record.id))
    for sigla in (None, GYM):
        with db.transaction() as s:
            s.add(ClassSet(school_year=YEAR, class_name="7Б", record_id=rid, sigla=sigla))
        with pytest.raises(IntegrityError), db.transaction() as s:
            s.add(ClassSet(school_year=YEAR, class_name="7Б", record_id=rid, sigla=sigla))


def test_the_cli_issues_and_lists_per_school(tmp_path):
    from tests.desk.conftest import ibc
    from tests.server.conftest import write_config

    cfg = tmp_path / "t.toml"
    url = f"sqlite:///{tmp_path / 't.sqlite3'}"
    write_config(cfg, url, "t", advertise=False)
    assert ibc(cfg, "db", "upgrade").returncode == 0
    from library.storage.database import Database

    db = Database(url)
    with db.transaction() as s:
        add_school(s, GYM, "Гимназия № 5")
        r = Record(key="alg", title="Алгебра 5", item_type="textbook", version=1)
        r.copies.append(Copy(sigla=GYM, barcode="B1", status="available"))
        r.copies.append(Copy(sigla=DEFAULT, barcode="A1", status="available"))
        s.add(r)
        s.add_all([Reader(card_number="G1", last_name="Гимназист", first_name="Гоша", class_name="5А", sigla=GYM),
                   Reader(card_number="P1", last_name="Петров", first_name="Пётр", class_name="5А")])
    with db.session() as s:
        rid = s.scalar(select(Record.id))
        gym = scope(s, GYM, DEFAULT)
    with db.transaction() as s:
        T.add_to_set(s, YEAR, "5А", rid, "gleb", school=gym)
    db.dispose()
    missing = ibc(cfg, "textbooks", "issue", "5А", "--year", str(YEAR), "--school", "НЕТ")
    assert missing.returncode == 2 and "НЕТ" in missing.stderr
    plain = ibc(cfg, "textbooks", "issue", "5А", "--year", str(YEAR), "--json")  # the default school's 5А
    assert json.loads(plain.stdout)["titles"] == 0
    done = ibc(cfg, "textbooks", "issue", "5А", "--year", str(YEAR), "--school", GYM, "--json")
    assert done.returncode == 0, done.stderr
    assert [x["barcode"] for x in json.loads(done.stdout)["lent"]] == ["B1"]
    owing = json.loads(ibc(cfg, "textbooks", "owing", "--school", GYM, "--json").stdout)
    assert [o["card"] for o in owing] == ["G1"]
    assert json.loads(ibc(cfg, "textbooks", "owing", "--json").stdout) == []  # the default school's


def test_migration_0022_down_and_up_again(two):
    """Down to 0021: a set row that would clash without its school goes (the default school's
    row stays), the old unique key and the account table come back; up again: the columns."""
    from alembic import command
    from sqlalchemy import inspect, text

    from library.storage.migrate import alembic_config, head_revision

    db = two
    with db.session() as s:
        rid = s.scalar(select(Record.id))
    with db.transaction() as s:
        s.add_all([ClassSet(school_year=YEAR, class_name="5А", record_id=rid),
                   ClassSet(school_year=YEAR, class_name="5А", record_id=rid, sigla=GYM),
                   ClassSet(school_year=YEAR, class_name="6А", record_id=rid, sigla=GYM)])
    command.downgrade(alembic_config(db), "0021_server_state")
    with db.session() as s:
        rows = sorted(s.execute(text("SELECT class_name FROM class_sets")).scalars())
    assert rows == ["5А", "6А"]
    assert "sigla" not in {c["name"] for c in inspect(db.engine).get_columns("desk_accounts")}
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.execute(text("INSERT INTO class_sets (school_year, class_name, record_id, created_by, created_at) "
                       "VALUES (:y, '6А', :r, '', CURRENT_TIMESTAMP)"), {"y": YEAR, "r": rid})
    db.upgrade()
    assert db.schema_revision() == head_revision()
    assert "sigla" in {c["name"] for c in inspect(db.engine).get_columns("desk_accounts")}
    assert "sigla" in {c["name"] for c in inspect(db.engine).get_columns("class_sets")}


def test_provision_reads_each_schools_own_class_sets(two):
    """«5А» of ИБЦ uses Algebra, «5А» of ГИМН5 Geometry: each school's provision counts its own
    set's subject against its own copies and pupils (library/textbooks/provision.py)."""
    from library.textbooks.provision import provision

    db = two
    with db.transaction() as s:
        geo = Record(key="geo", title="Геометрия 5", item_type="textbook", version=1)
        geo.copies.append(Copy(sigla=GYM, barcode="GEO1", status="available"))
        s.add(geo)
    a, b = _scopes(db)
    with db.session() as s:
        ids = dict(s.execute(select(Record.key, Record.id)).all())
    with db.transaction() as s:
        T.add_to_set(s, YEAR, "5А", ids["alg"], "anna", school=a)
        T.add_to_set(s, YEAR, "5А", ids["geo"], "gleb", school=b)
    with db.session() as s:
        mine = provision(s, YEAR, home=DEFAULT, sigla=GYM)
        theirs = provision(s, YEAR, home=DEFAULT, sigla=DEFAULT)
    assert [(n.sigla, n.class_name, n.titles, n.pupils, n.copies) for n in mine.needs] == \
        [(GYM, "5А", [ids["geo"]], 3, 1)]
    assert [(n.sigla, n.class_name, n.titles, n.pupils, n.copies) for n in theirs.needs] == \
        [(DEFAULT, "5А", [ids["alg"]], 2, 3)]
