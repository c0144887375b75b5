"""Circulation rule overrides per school (library/circulation/school_rules.py, docs/SCHOOLS.md
«Circulation rules per school»): a school with 21-day pupil loans and at most 3 books next to
the default school's ``[circulation]``; due dates and refusals follow the copy's school; holds
the reader's; refusals of keys and values in words; `ibc schools rules` — on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from config.settings import load_settings
from library import schools as S
from library.circulation import errors as E
from library.circulation import school_rules as R
from library.circulation.rules import Policy
from library.circulation.service import CirculationService
from library.storage.models import Copy, Reader, Record

TODAY = dt.date(2026, 10, 5)  # a Monday; the library closes on Sundays only
CIRC = load_settings(environ={}).circulation


def _service(db) -> CirculationService:
    return CirculationService.from_settings(db, CIRC, today=lambda: TODAY)


def _library(db) -> None:
    """The default school ИБЦ and ГИМН5, six books each, a pupil each."""
    with db.transaction() as s:
        S.ensure_default(s, "ИБЦ", "Школа № 1")
        S.add_school(s, "ГИМН5", "Гимназия № 5")
        rec = Record(key="r", title="Книга", item_type="book", version=1)
        rec.copies = ([Copy(sigla="ГИМН5", barcode=f"G{i}", status="available") for i in range(6)]
                      + [Copy(sigla="ИБЦ", barcode=f"A{i}", status="available") for i in range(6)]
                      + [Copy(sigla="ЧЗ", barcode="Z1", status="available")])  # a department code
        s.add_all([rec, Reader(card_number="R1", first_name="Аня", sigla="ИБЦ", category="pupil"),
                   Reader(card_number="R5", first_name="Боря", sigla="ГИМН5", category="pupil")])


def _gym_rules(db) -> list[R.RuleView]:
    with db.transaction() as s:
        return R.set_rules(s, CIRC, "ГИМН5", "ИБЦ", by="test",
                           set_={"pupil.rules.book.loan_days": "21", "pupil.max_items": "3"})


def test_a_school_lends_its_copies_by_its_own_rules(db):
    _library(db)
    rows = {r.key: r for r in _gym_rules(db)}
    assert (rows["pupil.max_items"].value, rows["pupil.max_items"].source) == (3, "school")
    assert rows["pupil.max_items"].settings_value == 5
    assert (rows["pupil.rules.book.loan_days"].value, rows["teacher.max_items"].source) == (21, "settings")
    svc = _service(db)
    # the default school's copies: [circulation] exactly (14 days)
    assert svc.checkout("R1", "A0", "a0").due_date == TODAY + dt.timedelta(days=14)
    # ГИМН5's copies: 21 days, whoever borrows them (the copy's school: the item's home library)
    assert svc.checkout("R5", "G0", "g0").due_date == TODAY + dt.timedelta(days=21)
    assert svc.checkout("R1", "G1", "g1").due_date == TODAY + dt.timedelta(days=21)
    assert svc.checkout("R5", "G2", "g2").due_date == TODAY + dt.timedelta(days=21)
    assert svc.checkout("R5", "G3", "g3").due_date == TODAY + dt.timedelta(days=21)
    # three loans open: ГИМН5 lends no fourth to a pupil, the default school still does (5)
    with pytest.raises(E.LoanLimitReached) as exc:
        svc.checkout("R5", "G4", "g4")
    assert exc.value.params["count"] == 3
    assert svc.checkout("R5", "A1", "a1").due_date == TODAY + dt.timedelta(days=14)
    # a copy whose sigla names no school (a department code) is the default school's: settings
    assert svc.checkout("R1", "Z1", "z1").due_date == TODAY + dt.timedelta(days=14)
    # the refusal is stored like any other: the same id answers the same
    with pytest.raises(E.LoanLimitReached):
        svc.checkout("R5", "G4", "g4")


def test_renewals_follow_the_copys_school(db):
    _library(db)
    with db.transaction() as s:
        R.set_rules(s, CIRC, "ГИМН5", "ИБЦ",
                    set_={"pupil.rules.book.renew_days": "7", "pupil.rules.book.renewals": "1"})
    svc = _service(db)
    first = svc.checkout("R1", "G0", "g0").due_date
    assert first == TODAY + dt.timedelta(days=14)  # loan days not overridden: the settings'
    assert svc.renew("R1", "G0", "r1").due_date == first + dt.timedelta(days=7)
    with pytest.raises(E.RenewalLimitReached):
        svc.renew("R1", "G0", "r2")
    home = svc.checkout("R1", "A0", "a0").due_date
    assert svc.renew("R1", "A0", "r3").due_date == home + dt.timedelta(days=14)
    assert svc.renew("R1", "A0", "r4").due_date == home + dt.timedelta(days=28)  # 2 renewals


def test_a_change_counts_at_once_in_every_process(db):
    """Two services stand for two worker processes: a rule set or unset through one database
    is what the other lends by on its next request (the rows are read per request)."""
    _library(db)
    worker_a, worker_b = _service(db), _service(db)
    assert worker_a.checkout("R5", "G0", "g0").due_date == TODAY + dt.timedelta(days=14)
    _gym_rules(db)
    assert worker_a.checkout("R5", "G1", "g1").due_date == TODAY + dt.timedelta(days=21)
    assert worker_b.checkout("R5", "G2", "g2").due_date == TODAY + dt.timedelta(days=21)
    with db.transaction() as s:
        rows = R.set_rules(s, CIRC, "ГИМН5", "ИБЦ", unset=["pupil.max_items",
                                                          "pupil.rules.book.loan_days"])
    assert all(r.source == "settings" for r in rows)
    assert worker_a.checkout("R5", "G3", "g3").due_date == TODAY + dt.timedelta(days=14)
    assert worker_b.checkout("R5", "G4", "g4").due_date == TODAY + dt.timedelta(days=14)


def test_holds_follow_the_readers_school(db):
    _library(db)
    with db.transaction() as s:
        for c in s.query(Copy).all():
            c.status = "on_loan"  # nothing on the shelf: a hold may be placed
        rid = s.query(Record.id).scalar()
        R.set_rules(s, CIRC, "ГИМН5", "ИБЦ", set_={"pupil.max_holds": "0"})
    svc = _service(db)
    with pytest.raises(E.HoldLimitReached):
        svc.place_hold("R5", rid, "h1")
    assert svc.place_hold("R1", rid, "h2").record_id == rid


@pytest.mark.parametrize("changes,code,params", [
    ({"pupil.rules.book.loan_dayz": "21"}, "unknown_rule_key", {"key": "pupil.rules.book.loan_dayz"}),
    ({"block_on_overdue": "false"}, "unknown_rule_key", {"key": "block_on_overdue"}),  # city-wide
    ({"pupil.rules.dvd.loan_days": "3"}, "unknown_rule_key", {"key": "pupil.rules.dvd.loan_days"}),
    ({"pupil.max_items": "три"}, "bad_rule_value", {"key": "pupil.max_items", "reason": R.NOT_INT}),
    ({"pupil.max_items": "501"}, "bad_rule_value",
     {"key": "pupil.max_items", "reason": R.AT_MOST, "n": 500}),
    ({"teacher.rules.book.renew_days": "0"}, "bad_rule_value",
     {"key": "teacher.rules.book.renew_days", "reason": R.AT_LEAST, "n": 1}),
    ({"pupil.check_age": "может быть"}, "bad_rule_value",
     {"key": "pupil.check_age", "reason": R.NOT_BOOL}),
    ({"renew_overdue": "да", "pupil.max_holds": "-1"}, "bad_rule_value",
     {"key": "pupil.max_holds", "reason": R.AT_LEAST, "n": 0}),
])
def test_unknown_keys_and_bad_values_are_refused(db, changes, code, params):
    _library(db)
    _gym_rules(db)
    with db.transaction() as s, pytest.raises(R.SchoolRuleError) as exc:
        R.set_rules(s, CIRC, "ГИМН5", "ИБЦ", set_=changes)
    assert exc.value.code == code and exc.value.params == params
    with db.session() as s:  # all or nothing: the school's rules are as before
        mine = {r.key: r.value for r in R.effective_rules(s, CIRC, "ГИМН5") if r.source == "school"}
    assert mine == {"pupil.rules.book.loan_days": 21, "pupil.max_items": 3}


def test_the_default_school_and_unknown_schools_are_refused_in_russian(db):
    from library.i18n import translator

    _library(db)
    ru = translator("ru")
    with db.transaction() as s, pytest.raises(R.DefaultSchoolRules) as exc:
        R.set_rules(s, CIRC, "ИБЦ", "ИБЦ", set_={"pupil.max_items": "3"})
    assert "[circulation]" in exc.value.message(ru) and "Правила" in exc.value.message(ru)
    with db.transaction() as s, pytest.raises(S.SchoolNotFound):
        R.set_rules(s, CIRC, "НЕТ", "ИБЦ", set_={"pupil.max_items": "3"})
    with db.transaction() as s, pytest.raises(R.BadRuleValue) as bad:
        R.set_rules(s, CIRC, "ГИМН5", "ИБЦ", set_={"pupil.max_items": "501"})
    assert bad.value.message(ru) == "Правило pupil.max_items: должно быть не больше 500"
    with db.transaction() as s, pytest.raises(R.UnknownRuleKey) as unknown:
        R.set_rules(s, CIRC, "ГИМН5", "ИБЦ", unset=["nope"])
    assert "nope" in unknown.value.message(ru) and "Нет правила" in unknown.value.message(ru)


def test_apply_overrides_is_pure_and_skips_stale_rows():
    base = Policy.from_settings(CIRC)
    rows = (("pupil.max_items", "3"), ("pupil.rules.book.loan_days", "21"),
            ("pupil.rules.gone.loan_days", "9"), ("pupil.check_age", "5"), ("nonsense", "1"),
            ("renew_overdue", "true"), ("teacher.max_items", "not json"))
    got = R.apply_overrides(base, rows)
    assert got.category("pupil").max_items == 3 and got.category("pupil").rule("book").loan_days == 21
    assert got.category("pupil").check_age is True and got.renew_overdue is True
    assert got.category("teacher") == base.category("teacher")
    assert base.category("pupil").max_items == 5 and base.renew_overdue is False  # untouched
    assert got.category("pupil").rules["gone"].loan_days == 9  # a type the policy lends like books
    assert set(R.rule_keys(CIRC)) >= {"pupil.rules.media.school_year", "staff.max_holds",
                                      "renew_overdue"}


# --- the CLI ---------------------------------------------------------------------------------
@pytest.fixture
def cli(db_url, tmp_path, monkeypatch):
    from ibc.cli import main

    monkeypatch.setenv("IBC_DATABASE_URL", db_url)
    monkeypatch.setenv("IBC_CONFIG", str(tmp_path / "ibc.toml"))
    (tmp_path / "ibc.toml").write_text('[school]\nsigla = "ИБЦ"\nname = "Школа № 1"\n',
                                       encoding="utf-8")

    def run(capsys, *argv):
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_cli_schools_rules(cli, capsys):
    assert cli(capsys, "schools", "add", "ГИМН5", "Гимназия № 5")[0] == 0
    code, out, _ = cli(capsys, "schools", "rules", "ГИМН5")
    assert code == 0 and "школа" not in out.split()
    line = next(x for x in out.splitlines() if x.startswith("pupil.max_items "))
    assert line.split() == ["pupil.max_items", "5", "настройки"]
    code, out, _ = cli(capsys, "schools", "rules", "ГИМН5", "--set", "pupil.max_items=3",
                       "--set", "pupil.rules.book.loan_days=21")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("pupil.max_items "))
    assert line.split() == ["pupil.max_items", "3", "школа", "(в", "настройках", "5)"]
    code, out, _ = cli(capsys, "schools", "rules", "ГИМН5", "--json")
    rows = {r["key"]: r for r in json.loads(out)}
    assert rows["pupil.rules.book.loan_days"] == {"key": "pupil.rules.book.loan_days", "value": 21,
                                                  "source": "school", "settings": 14}
    code, out, _ = cli(capsys, "schools", "rules", "ГИМН5", "--unset", "pupil.max_items", "--json")
    rows = {r["key"]: r for r in json.loads(out)}
    assert rows["pupil.max_items"]["source"] == "settings" and rows["pupil.max_items"]["value"] == 5
    code, _, err = cli(capsys, "schools", "rules", "ГИМН5", "--set", "pupil.max_items=много")
    assert code == 1 and "pupil.max_items" in err and "нужно целое число" in err
    code, _, err = cli(capsys, "schools", "rules", "ГИМН5", "--set", "pupil.max_item=3")
    assert code == 1 and "Нет правила pupil.max_item" in err
    code, _, err = cli(capsys, "schools", "rules", "ИБЦ", "--set", "pupil.max_items=3")
    assert code == 1 and "[circulation]" in err
    code, _, err = cli(capsys, "schools", "rules", "НЕТ")
    assert code == 1 and "НЕТ" in err
    assert cli(capsys, "schools", "rules", "ГИМН5", "--set", "pupil.max_items")[0] == 2


def test_migration_0024_down_and_up_again(db):
    """Down to 0023: the overrides and the media items' schools go, the items stay; up again:
    the table is back, empty, and every item is shared."""
    from alembic import command
    from sqlalchemy import inspect, select

    from library.storage.migrate import alembic_config, head_revision
    from library.storage.models import MediaItem

    _library(db)
    _gym_rules(db)
    with db.transaction() as s:
        s.add(MediaItem(path="/m/g.mp4", title="Урок", kind="video", sigla="ГИМН5"))
    command.downgrade(alembic_config(db), "0023_school_requests")
    assert db.schema_revision() == "0023_school_requests"
    found = inspect(db.engine)
    assert "school_rules" not in found.get_table_names()
    assert "sigla" not in {c["name"] for c in found.get_columns("media_items")}
    command.upgrade(alembic_config(db), "head")
    assert db.schema_revision() == head_revision()
    with db.session() as s:
        assert [r.source for r in R.effective_rules(s, CIRC, "ГИМН5")] == \
            ["settings"] * len(R.rule_keys(CIRC))
        assert s.scalars(select(MediaItem.sigla)).all() == [None]
    assert _service(db).checkout("R5", "G0", "g0").due_date == TODAY + dt.timedelta(days=14)
