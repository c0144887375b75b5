"""Schools as first-class (library/schools.py): the rules, holdings per school in search, the
per-request school of a checkout, and `ibc schools` / `ibc search --school` — on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from library import schools as S
from library.circulation import errors as E
from library.storage.models import Copy, Loan, Reader, Record


def _library(db) -> dict[str, int]:
    """Two schools' copies of one record, one school's copies of another, a reader each."""
    from library.search import reindex_all

    with db.transaction() as s:
        S.ensure_default(s, "ИБЦ", "Школа № 1")
        S.add_school(s, "ГИМН5", "Гимназия № 5", "ул. Ленина, 1")
        S.add_school(s, "ЛИЦ2", "Лицей № 2")
        war = Record(key="war", title="Война и мир", authors=["Толстой, Лев"], version=1)
        war.copies = [
            Copy(sigla="ИБЦ", barcode="A1", status="available"),
            Copy(sigla="ИБЦ", barcode="A2", status="on_loan"),
            Copy(sigla="ИБЦ", barcode="A3", status="written_off"),  # does not count
            Copy(sigla="ГИМН5", barcode="G1", status="available"),
            Copy(sigla="ЛИЦ2", barcode="L1", status="on_loan"),
            Copy(sigla="ГИМН5", barcode="A1", status="available"),  # the same barcode elsewhere
        ]
        anna = Record(key="anna", title="Анна Каренина", authors=["Толстой, Лев"], version=1)
        anna.copies = [Copy(sigla="ГИМН5", barcode="G2", status="available"),
                       Copy(sigla="", barcode="OLD1", status="available")]  # no sigla: default's
        s.add_all([war, anna,
                   Reader(card_number="R1", first_name="Аня", last_name="Петрова", sigla="ИБЦ"),
                   Reader(card_number="R5", first_name="Боря", last_name="Гимназист",
                          sigla="ГИМН5"),
                   Reader(card_number="R0", first_name="Вера", last_name="Старая")])  # sigla ""
        s.flush()
        ids = {"war": war.id, "anna": anna.id}
    with db.transaction() as s:
        reindex_all(s)
    return ids


# --- the rules -------------------------------------------------------------------------------
def test_add_list_get_and_the_default_school(db):
    with db.transaction() as s:
        assert S.list_schools(s) == []
        first = S.ensure_default(s, "ИБЦ", "Школьный ИБЦ")
        assert first is not None and (first.sigla, first.name) == ("ИБЦ", "Школьный ИБЦ")
        assert S.ensure_default(s, "ИБЦ", "Другое имя") == first  # added once, never renamed
        added = S.add_school(s, "  АБВ ", " Абвгдейка ", "  ")
        assert (added.sigla, added.name, added.address) == ("АБВ", "Абвгдейка", None)
    with db.session() as s:
        assert [v.sigla for v in S.list_schools(s, default="ИБЦ")] == ["ИБЦ", "АБВ"]
        assert [v.sigla for v in S.list_schools(s)] == ["АБВ", "ИБЦ"]  # by name
        got = S.get_school(s, "АБВ")
        assert got is not None and got.created.tzinfo is not None
        assert S.get_school(s, "НЕТ") is None
        with pytest.raises(S.SchoolNotFound):
            S.require_school(s, "НЕТ")


@pytest.mark.parametrize("sigla,name,address,code", [
    ("", "Имя", None, "bad_school_value"),
    ("   ", "Имя", None, "bad_school_value"),
    ("X" * 33, "Имя", None, "bad_school_value"),
    ("A\x01", "Имя", None, "bad_school_value"),
    ("OK", "", None, "bad_school_value"),
    ("OK", "Я" * 201, None, "bad_school_value"),
    ("OK", "Имя\n2", None, "bad_school_value"),
    ("OK", "Имя", "a" * 501, "bad_school_value"),
])
def test_refusals(db, sigla, name, address, code):
    with db.transaction() as s, pytest.raises(S.SchoolError) as exc:
        S.add_school(s, sigla, name, address)
    assert exc.value.code == code
    with db.session() as s:
        assert S.list_schools(s) == []


def test_duplicate_sigla_is_refused_in_russian(db):
    from library.i18n import translator

    with db.transaction() as s:
        S.add_school(s, "ГИМН5", "Гимназия № 5")
    with db.transaction() as s, pytest.raises(S.SchoolExists) as exc:
        S.add_school(s, "ГИМН5", "Другая")
    assert exc.value.message(translator("ru")) == "Школа с сиглой ГИМН5 уже есть"
    too_long = S.BadSchoolValue(key="name", reason=S.TOO_LONG, n=200)
    assert too_long.message(translator("ru")) == \
        "Школа, название: слишком длинно (не больше 200 знаков)"


def test_a_bad_default_sigla_adds_nothing(db):
    with db.transaction() as s:
        assert S.ensure_default(s, "", "Школа") is None
        assert S.list_schools(s) == []


def test_own_siglas_and_scope(db):
    assert S.own_siglas(None, "ИБЦ") == ("ИБЦ", "")
    assert S.own_siglas("ИБЦ", "ИБЦ") == ("ИБЦ", "")
    assert S.own_siglas("ГИМН5", "ИБЦ") == ("ГИМН5",)
    with db.transaction() as s:
        alone = S.scope(s, None, "ИБЦ")  # a single school: everything is its own
        assert alone == S.Scope("ИБЦ") and all(alone.owns(x) for x in ("ИБЦ", "", "АБ", None))
        S.ensure_default(s, "ИБЦ", "Школа № 1")
        S.add_school(s, "ГИМН5", "Гимназия № 5")
        home, gym = S.scope(s, None, "ИБЦ"), S.scope(s, "ГИМН5", "ИБЦ")
    # a sigla that names no school (empty, a department code from 910^d) is the default's
    assert [home.owns(x) for x in ("ИБЦ", "", "АБ", "ГИМН5")] == [True, True, True, False]
    assert [gym.owns(x) for x in ("ИБЦ", "", "АБ", "ГИМН5")] == [False, False, False, True]


# --- holdings in search ------------------------------------------------------------------------
def test_holdings_per_school_own_first(db):
    ids = _library(db)
    with db.session() as s:
        held = S.holdings(s, ids.values(), own="ГИМН5", default_sigla="ИБЦ")
    assert held[ids["war"]] == [
        {"sigla": "ГИМН5", "name": "Гимназия № 5", "available": 2, "total": 2},
        {"sigla": "ИБЦ", "name": "Школа № 1", "available": 1, "total": 2},  # on the shelf first
        {"sigla": "ЛИЦ2", "name": "Лицей № 2", "available": 0, "total": 1},
    ]
    # the copy with no sigla counts for the default school
    assert held[ids["anna"]] == [
        {"sigla": "ГИМН5", "name": "Гимназия № 5", "available": 1, "total": 1},
        {"sigla": "ИБЦ", "name": "Школа № 1", "available": 1, "total": 1},
    ]
    with db.session() as s:
        mine = S.holdings(s, [ids["anna"]], own="ИБЦ")  # no default given: "" stays apart
        assert {e["sigla"] for e in mine[ids["anna"]]} == {"ГИМН5", ""}
        assert S.holdings(s, []) == {}


def test_search_hits_carry_schools(db):
    from library.search import search

    ids = _library(db)
    with db.session() as s:
        res = search(s, "толстой", school="ИБЦ", default_school="ИБЦ")
        by_id = {h.id: h for h in res.hits}
        assert set(by_id) == set(ids.values())
        war = by_id[ids["war"]].to_dict()["schools"]
        assert [e["sigla"] for e in war] == ["ИБЦ", "ГИМН5", "ЛИЦ2"]
        assert war[0] == {"sigla": "ИБЦ", "name": "Школа № 1", "available": 1, "total": 2}
        # the totals agree with the hit's own counts (the same copies count)
        for h in res.hits:
            assert sum(e["total"] for e in h.schools) == h.copies
            assert sum(e["available"] for e in h.schools) == h.available
        other = search(s, "война", school="ЛИЦ2", default_school="ИБЦ")
        assert [e["sigla"] for e in other.hits[0].schools] == ["ЛИЦ2", "ГИМН5", "ИБЦ"]
        coded = search(s, "isbn:978", school="ИБЦ")  # the codes-only path: no hits, no error
        assert coded.hits == []


def test_only_our_school_filter(db):
    from library.search import search

    ids = _library(db)
    with db.session() as s:
        def found(sigla, **more):
            sc = S.scope(s, sigla, "ИБЦ")
            res = search(s, "толстой", filters={"school": sc, **more}, school=sc.school)
            assert res.total == len(res.hits)
            return {h.id for h in res.hits}

        assert found("ЛИЦ2") == {ids["war"]}
        assert found("ЛИЦ2", available=True) == set()  # its one copy is out
        assert found("ИБЦ") == {ids["war"], ids["anna"]}  # the default owns sigla ""
        assert found("ГИМН5", available=True) == {ids["war"], ids["anna"]}
        assert found("НЕТ") == set()
        # a filter alone (no words) browses the school's titles
        alone = search(s, "", filters={"school": S.scope(s, "ЛИЦ2", "ИБЦ")})
        assert [h.id for h in alone.hits] == [ids["war"]]


# --- checkout for a school ---------------------------------------------------------------------
def _service(db):
    from config.settings import load_settings
    from library.circulation.service import CirculationService

    return CirculationService.from_settings(db, load_settings(environ={}).circulation,
                                            today=lambda: dt.date(2026, 10, 5))


def test_checkout_lends_only_the_schools_copies_to_its_readers(db):
    _library(db)
    with db.transaction() as s:  # a department code from 910^d, not a school
        s.add(Copy(record_id=s.query(Record.id).filter_by(key="anna").scalar(), sigla="АБ",
                   barcode="AB1", status="available"))
        home, gym = S.scope(s, None, "ИБЦ"), S.scope(s, "ГИМН5", "ИБЦ")
    svc = _service(db)
    with pytest.raises(E.OtherSchool) as exc:
        svc.checkout("R1", "G1", "t1", school=home)
    assert exc.value.code == "other_school" and exc.value.params == {"barcode": "G1"}
    with pytest.raises(E.OtherSchoolReader):
        svc.checkout("R5", "A1", "t2", school=home)
    with pytest.raises(E.ItemNotFound):  # unknown everywhere: still item_not_found
        svc.checkout("R1", "NOPE", "t3", school=home)
    with pytest.raises(E.OtherSchool):  # the department's copy is the default school's
        svc.checkout("R5", "AB1", "t3b", school=gym)
    # the same barcode in two schools: each school lends its own
    out = svc.checkout("R5", "A1", "t4", school=gym)
    with db.session() as s:
        lent = s.query(Copy).filter(Copy.status == "on_loan", Copy.barcode == "A1").one()
        assert lent.sigla == "ГИМН5" and out.barcode == "A1"
    # a reader and a copy with no sigla (or a department's) belong to the default school
    assert svc.checkout("R0", "OLD1", "t5", school=home).barcode == "OLD1"
    assert svc.checkout("R0", "AB1", "t5b", school=home).barcode == "AB1"
    assert svc.checkout("R1", "A1", "t6", school=home).barcode == "A1"
    # a refusal is stored like any other: the same id answers the same
    with pytest.raises(E.OtherSchool):
        svc.checkout("R1", "G1", "t1", school=home)
    # without a school (the desk, the CLI): every school's copies, as before
    assert svc.checkout("R1", "G2", "t7").barcode == "G2"


def test_a_single_school_lends_every_sigla_as_before(db):
    """Only the default school registered: copies of department codes (910^d) and readers of
    any sigla are lent at its terminals exactly as before schools existed."""
    with db.transaction() as s:
        S.ensure_default(s, "ИБЦ", "Школа № 1")
        rec = Record(key="r", title="Книга")
        rec.copies = [Copy(sigla="ЧЗ", barcode="Z1", status="available")]
        s.add_all([rec, Reader(card_number="RX", sigla="ЧЗ")])
        home = S.scope(s, None, "ИБЦ")
    assert _service(db).checkout("RX", "Z1", "s1", school=home).barcode == "Z1"
    with db.session() as s:
        held = S.holdings(s, [rec.id], own="ИБЦ", default_sigla="ИБЦ")
    assert held[rec.id] == [{"sigla": "ИБЦ", "name": "Школа № 1", "available": 0, "total": 1}]


# --- the CLI -------------------------------------------------------------------------------------
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


def test_cli_schools_add_and_list(cli, capsys):
    code, out, _ = cli(capsys, "schools", "list")
    assert code == 0 and out.split() == ["ИБЦ", "Школа", "№", "1", "(по", "умолчанию)"]
    code, out, _ = cli(capsys, "schools", "add", "ГИМН5", "Гимназия № 5", "--address", "ул. Ленина, 1")
    assert code == 0 and out.strip() == "Школа добавлена: ГИМН5 — Гимназия № 5"
    code, _, err = cli(capsys, "schools", "add", "ГИМН5", "Ещё одна")
    assert code == 1 and err.strip() == "ibc schools: Школа с сиглой ГИМН5 уже есть"
    code, _, err = cli(capsys, "schools", "add", "", "Пусто")
    assert code == 1 and "сигла: не может быть пустым" in err
    code, out, _ = cli(capsys, "schools", "list", "--json")
    rows = json.loads(out)
    assert [(r["sigla"], r["name"], r["address"], r["default"]) for r in rows] == [
        ("ИБЦ", "Школа № 1", None, True), ("ГИМН5", "Гимназия № 5", "ул. Ленина, 1", False)]


def test_cli_search_json_carries_schools(cli, capsys, db_url):
    from library.storage.database import open_database

    db = open_database(db_url)
    try:
        _library(db)
    finally:
        db.dispose()
    code, out, _ = cli(capsys, "search", "война", "--json")
    assert code == 0
    hit = json.loads(out)["hits"][0]
    assert [e["sigla"] for e in hit["schools"]] == ["ИБЦ", "ГИМН5", "ЛИЦ2"]
    code, out, _ = cli(capsys, "search", "война", "--json", "--school", "ЛИЦ2")
    assert [e["sigla"] for e in json.loads(out)["hits"][0]["schools"]] == ["ЛИЦ2", "ГИМН5", "ИБЦ"]
    code, out, _ = cli(capsys, "search", "война")
    assert "Школа № 1: на полке 1 из 2; Гимназия № 5: на полке 2 из 2" in out
    code, out, _ = cli(capsys, "search", "толстой", "--json", "--school", "ЛИЦ2", "--only-school")
    assert [h["title"] for h in json.loads(out)["hits"]] == ["Война и мир"]
    code, out, _ = cli(capsys, "search", "толстой", "--json", "--only-school")
    assert {h["title"] for h in json.loads(out)["hits"]} == {"Война и мир", "Анна Каренина"}


def test_cli_terminals_enroll_for_a_school(cli, capsys, db_url, tmp_path, monkeypatch):
    from library.storage.database import open_database
    from server.models import EnrolCode

    (tmp_path / "ibc.toml").write_text('[school]\nsigla = "ИБЦ"\nname = "Школа № 1"\n'
                                       '[server]\ntls = "off"\n', encoding="utf-8")
    monkeypatch.setenv("IBC_DATA_DIR", str(tmp_path / "data"))
    code, _, err = cli(capsys, "terminals", "enroll", "--school", "НЕТ")
    assert code == 1 and err.strip() == \
        "ibc terminals enroll: Школы с сиглой НЕТ нет: ibc schools list"
    assert cli(capsys, "schools", "add", "ГИМН5", "Гимназия № 5")[0] == 0
    code, out, _ = cli(capsys, "terminals", "enroll", "--school", "ГИМН5")
    assert code == 0 and "Терминал будет выдавать книги школы ГИМН5" in out
    assert cli(capsys, "terminals", "enroll")[0] == 0
    db = open_database(db_url)
    try:
        with db.session() as s:
            assert sorted(s.query(EnrolCode.sigla).all(), key=str) == [("ГИМН5",), (None,)]
    finally:
        db.dispose()


def test_a_barcode_two_schools_use_means_the_copy_that_is_out(db):
    """Two schools' copies share barcode A1 (ИБЦ's row is older): a return means the one on
    loan; a renewal the reader's; with both out, the school where it is scanned."""
    _library(db)
    with db.transaction() as s:
        home, gym = S.scope(s, None, "ИБЦ"), S.scope(s, "ГИМН5", "ИБЦ")
    svc = _service(db)

    def sigla_of(loan_id):
        with db.session() as s:
            loan = s.get(Loan, loan_id)
            return s.get(Copy, loan.copy_id).sigla

    lent = svc.checkout("R5", "A1", "b1", school=gym)
    assert sigla_of(lent.loan_id) == "ГИМН5"
    back = svc.checkin("A1", "b2")  # the desk of every school: the copy that is out
    assert back.loan_id == lent.loan_id
    back_again = svc.checkout("R5", "A1", "b3", school=gym)
    mine = svc.checkout("R1", "A1", "b4", school=home)
    assert sigla_of(mine.loan_id) == "ИБЦ"
    assert svc.renew("R5", "A1", "b5").loan_id == back_again.loan_id  # each reader's own copy
    assert svc.renew("R1", "A1", "b6").loan_id == mine.loan_id
    # both out: the terminal's school decides which came back
    assert svc.checkin("A1", "b7", school=gym).loan_id == back_again.loan_id
    assert svc.checkin("A1", "b8", school=home).loan_id == mine.loan_id
