"""Places: the author sign, rule order, PlaceMap, the TOML file, the tables (SQLite and
PostgreSQL), `ibc places` on the demo library, covers on disk and the settings."""

from __future__ import annotations

import json
import math
import os
import time

import pytest
from sqlalchemy import select

from library.places import (
    BadBox,
    BadLetters,
    BadRule,
    PlaceExists,
    PlaceMap,
    PlaceNotFound,
    PlacesError,
    PlacesFileError,
    PlaceSpec,
    PlaceView,
    RuleSpec,
    author_letter,
    author_sign,
)
from library.places.fileformat import dumps, loads
from library.places.match import PlaceRow, parse_letters
from library.places.spec import clean_rule, parse_box


# --- the author sign ------------------------------------------------------------------------
@pytest.mark.parametrize(("shelf", "bbk", "sign"), [
    ("84(2Рос=Рус)6 Д72", None, "Д72"),
    ("84(4Вел) К98", None, "К98"),
    ("84(4Вел)/К98", None, "К98"),                 # ИРБИС writes «index/sign»
    ("63.3(2)622/В 26-637115870", None, "В"),       # a sign with a space before its digits
    ("22.1 я72 М79", None, "М79"),                  # «я72» is a ББК determinant, lower case
    ("84(2Рос=Рус)6  Ёлкин", None, "Ёлкин"),
    ("Д72", None, "Д72"),                           # one part that looks like a sign
    ("Д72", "Д72", None),                           # ... unless it is the record's ББК
    ("Р2", "Р2", None),
    ("84(4Вел)", None, None),                       # no sign
    ("84(2Рос=Рус)6 д72", None, None),              # signs start with a capital letter
    ("", None, None),
    (None, "84", None),
])
def test_author_sign(shelf, bbk, sign):
    assert author_sign(shelf, bbk) == sign


def test_author_letter_folds_yo_and_case():
    assert author_letter("84 Ёлкин") == "Е"
    assert author_letter("84(4Вел) R63") == "R"
    assert author_letter("84") is None


@pytest.mark.parametrize(("text", "want"), [
    ("А-Л", ("А", "Л")), ("а–л", ("А", "Л")), (" К ", ("К", "К")), ("Ё-Ж", ("Е", "Ж")),
    ("A-Z", ("A", "Z")), ("Я - Я", ("Я", "Я")), ("А—Я", ("А", "Я")),
])
def test_letters(text, want):
    assert parse_letters(text) == want


@pytest.mark.parametrize("text", ["Я-А", "", "АБ", "А-", "1-9", "А-Л-М", "Z-A", "?"])
def test_bad_letters(text):
    with pytest.raises(BadLetters):
        parse_letters(text)


# --- rules and their order --------------------------------------------------------------------
def _map(*places, sigla=None) -> PlaceMap:
    """places: (name, [RuleSpec...]) or (name, [RuleSpec...], sigla)."""
    rows, rid = [], 0
    for n, p in enumerate(places, 1):
        rules = []
        for r in p[1]:
            rid += 1
            rules.append((rid, clean_rule(r)))
        rows.append(PlaceRow(PlaceView(n, p[0], None, None, None), p[2] if len(p) > 2 else "ИБЦ",
                             n * 10, tuple(rules)))
    return PlaceMap(rows, sigla=sigla)


def _where(pm, shelf, collection=None, bbk=None, sigla=None):
    v = pm.resolve(shelf_mark=shelf, collection=collection, bbk=bbk, sigla=sigla)
    return v.name if v else None


def test_rule_order_most_specific_wins():
    pm = _map(
        ("Всё остальное", [RuleSpec(fallback=True)]),
        ("Художественная", [RuleSpec(bbk="84")]),
        ("Русская", [RuleSpec(bbk="84(2Рос")]),
        ("Русская А–Л", [RuleSpec(bbk="84(2Рос", letters="А-Л")]),
        ("Буква К", [RuleSpec(bbk="84(2Рос", letters="К")]),
        ("Шифр", [RuleSpec(shelf="84(2Рос=Рус)6 Д")]),
        ("Учебники", [RuleSpec(collection="Учебный фонд")]),
        ("Учебники-литература", [RuleSpec(collection="Учебный фонд", bbk="84")]),
    )
    assert _where(pm, "84(2Рос=Рус)6 К98") == "Буква К"           # narrower letters win
    assert _where(pm, "84(2Рос=Рус)6 Б12") == "Русская А–Л"
    assert _where(pm, "84(2Рос=Рус)6 Т51") == "Русская"           # letters do not match
    assert _where(pm, "84(2Рос=Рус)6 Д72") == "Шифр"              # shelf prefix beats ББК
    assert _where(pm, "84(4Вел) Д72") == "Художественная"
    assert _where(pm, "22.1я72 М79") == "Всё остальное"
    assert _where(pm, "84(2Рос=Рус)6 К98", "учебный  ФОНД") == "Учебники-литература"
    assert _where(pm, "22.1я72 М79", "Учебный фонд") == "Учебники"  # the copy's fund first
    assert _where(pm, None) == "Всё остальное"


def test_bbk_comes_from_the_record_or_the_shelf_mark():
    pm = _map(("Математика", [RuleSpec(bbk="22.1")]), ("Проза", [RuleSpec(bbk="84")]))
    assert _where(pm, "Ш17", bbk="22.14я72") == "Математика"
    assert _where(pm, "22.14я72 М15") == "Математика"
    assert _where(pm, "X", bbk="81.2; 84(2Рос=Рус)6") == "Проза"  # any of the record's indices
    assert _where(pm, "x", bbk="81.2") is None


def test_ties_go_to_the_place_listed_first():
    pm = _map(("Первое", [RuleSpec(bbk="84")]), ("Второе", [RuleSpec(bbk="84")]))
    assert _where(pm, "84 А") == "Первое"


def test_schools_keep_their_own_places():
    everyone = _map(("Наше", [RuleSpec(bbk="84")]), ("Чужое", [RuleSpec(bbk="8")], "Ш2"))
    assert _where(everyone, "84 А", sigla="ИБЦ") == "Наше"
    assert _where(everyone, "84 А", sigla="Ш2") == "Чужое"
    assert _where(everyone, "84 А", sigla="Ш3") is None
    ours = _map(("Наше", [RuleSpec(bbk="84")]), ("Чужое", [RuleSpec(bbk="8")], "Ш2"), sigla="ИБЦ")
    assert len(ours) == 1 and _where(ours, "84 А") == "Наше" and _where(ours, "84 А", sigla="Ш2") is None


def test_rooms_and_views():
    rows = [PlaceRow(PlaceView(1, "Стеллаж 5", "зарубежная проза, буква К", "Абонемент",
                               (0.1, 0.2, 0.3, 0.1)), "ИБЦ", 20, ()),
            PlaceRow(PlaceView(2, "Тележка", None, "абонемент", None), "ИБЦ", 10, ()),
            PlaceRow(PlaceView(3, "Полка", None, "Читальный зал", None), "ИБЦ", 5, ())]
    pm = PlaceMap(rows)
    assert [p.name for p in pm.room("Абонемент")] == ["Тележка", "Стеллаж 5"]
    assert pm.rooms() == ["Читальный зал", "абонемент"]
    assert pm.place(1).label == "Стеллаж 5 — зарубежная проза, буква К"
    assert pm.place(2).label == "Тележка" and pm.room(None) == [] and len(pm) == 3


def test_rules_are_checked():
    for bad in (RuleSpec(), RuleSpec(fallback=True, bbk="84")):
        with pytest.raises(BadRule):
            clean_rule(bad)
    assert clean_rule(RuleSpec(bbk=" 84 ", letters="а–л")) == RuleSpec(bbk="84", letters="А-Л")
    with pytest.raises(PlacesError):
        clean_rule(RuleSpec(collection="x" * 300))
    with pytest.raises(PlacesError):
        clean_rule(RuleSpec(shelf="84\x00"))


@pytest.mark.parametrize("box", ["1,2", "0,0,0,0.5", "0.5,0.5,0.6,0.1", "-0.1,0,0.5,0.5",
                                 "nan,0,0.1,0.1", "a,b,c,d", [True, 0, 0.1, 0.1], [0, 0, 0.1],
                                 [0, 0, math.inf, 0.1], {"x": 1}, "0,0,1.0000001,1"])
def test_bad_boxes(box):
    with pytest.raises(BadBox):
        parse_box(box)


def test_good_boxes():
    assert parse_box("0, 0.5, 1, 0.5") == (0.0, 0.5, 1.0, 0.5)
    assert parse_box([0, 0, 1, 1]) == (0.0, 0.0, 1.0, 1.0)
    assert parse_box("") is None and parse_box(None) is None


def test_resolution_is_fast():
    """A search page and a class set resolve without SQL, in microseconds per copy."""
    places = [(f"Стеллаж {i}", [RuleSpec(bbk=f"{i}", letters=ll) for ll in ("А-Л", "М-Я")]
               + [RuleSpec(collection=f"Фонд {i}")]) for i in range(10, 110)]
    pm = _map(*places)
    marks = [f"{10 + i % 100}.{i} {'АБВГДКЛМНОПРСТ'[i % 14]}{i % 90 + 10}" for i in range(3000)]
    t0 = time.perf_counter()
    for m in marks:
        pm.resolve(shelf_mark=m, collection="Абонемент", bbk=None)
    per_call = (time.perf_counter() - t0) / len(marks)
    assert per_call < 0.0005, f"{per_call * 1e6:.0f} µs per copy"
    t0 = time.perf_counter()
    for _ in range(30):  # a 30-copy class set: the same shelf mark, answered from the memo
        pm.resolve(shelf_mark="22.1я72 М79", collection="Учебный фонд", bbk="22.1я72")
    assert time.perf_counter() - t0 < 0.005


# --- the TOML file --------------------------------------------------------------------------
GOOD = """
sigla = "ИБЦ"

[[place]]
name = "Стеллаж 5"
note = "зарубежная проза, буква К"
room = "Абонемент"
box = [0.05, 0.1, 0.2, 0.08]
rules = [
  { bbk = "84(4", letters = "К" },
  { collection = "Зарубежная литература" },
]

[[place]]
name = "Тележка возврата"
rules = []
"""


def test_file_round_trip():
    data = loads(GOOD)
    assert data.sigla == "ИБЦ" and [p.name for p in data.places] == ["Стеллаж 5", "Тележка возврата"]
    first = data.places[0]
    assert first.box == (0.05, 0.1, 0.2, 0.08) and first.rules == (
        RuleSpec(bbk="84(4", letters="К"), RuleSpec(collection="Зарубежная литература"))
    again = loads(dumps(data.places, sigla="ИБЦ"))
    assert again == data


def test_file_problems_name_line_and_key():
    bad = """sigla = "ИБЦ"
colour = "red"

[[place]]
name = "Стеллаж 1"
box = [0.9, 0.1, 0.2, 0.1]
shelf = "84"
rules = [
  { bbk = "84" },
  { bbq = "84" },
  { letters = "Я-А" },
  { },
]

[[place]]
name = "стеллаж  1"
sort = "first"
note = 5
"""
    with pytest.raises(PlacesFileError) as err:
        loads(bad, source="places.toml")
    got = [(p.line, p.key, p.error if isinstance(p.error, str) else p.error.code)
           for p in err.value.problems]
    assert got == [
        (2, "colour", "unknown key"),
        (6, "place[1] «Стеллаж 1».box", "bad_box"),
        (7, "place[1] «Стеллаж 1».shelf", "unknown key"),
        (10, "place[1] «Стеллаж 1».rules[2].bbq", "unknown key"),
        (11, "place[1] «Стеллаж 1».rules[3]", "bad_letters"),
        (12, "place[1] «Стеллаж 1».rules[4]", "bad_rule"),
        (16, "place[2].name", "is used by another place in this file"),
        (17, "place[2] «стеллаж  1».sort", "bad_value"),
        (18, "place[2] «стеллаж  1».note", "bad_value"),
    ]
    text = err.value.message()
    assert text.startswith("places.toml: 9 problem(s)") and "line 11" in text
    assert "line 18, place[2] «стеллаж  1».note: note: must be text" in text


def test_file_that_is_not_toml():
    with pytest.raises(PlacesFileError) as err:
        loads('[[place]]\nname = "x\n')
    assert err.value.problems[0].line == 2 and "not valid TOML" in err.value.message()
    for text in ('place = 3', '[[place]]\nrules = "all"', "[[place]]\nnote = 'x'"):
        with pytest.raises(PlacesFileError):
            loads(text)


def test_every_message_is_translated():
    import shutil
    import subprocess
    from pathlib import Path

    from library.i18n import LOCALE_DIR, translator
    from library.places import errors as E

    tr = translator("ru")
    msgids = [c.template for c in (E.PlacesError, *E.PlacesError.__subclasses__())]
    for msgid in [*msgids, *E.MESSAGES]:
        assert tr(msgid) != msgid or msgid == "{key}: {reason}", msgid
    if shutil.which("msgfmt"):
        po = LOCALE_DIR / "ru" / "LC_MESSAGES" / "ibc.po"
        fresh = subprocess.run(["msgfmt", "-o", "-", str(po)], capture_output=True, check=True).stdout
        assert fresh == Path(po.with_suffix(".mo")).read_bytes(), "run scripts/compile-translations"
    with pytest.raises(PlacesFileError) as err:
        loads('[[place]]\nname = "A"\nbox = [2, 0, 1, 1]\n')
    assert "строка 3" in err.value.message(tr) and "Рамка" in err.value.message(tr)


# --- the tables (SQLite and PostgreSQL) ---------------------------------------------------------
def test_store_changes_bump_the_version(db):
    from library.places.store import (
        add_place,
        add_rule,
        places_version,
        remove_place,
        remove_rule,
        update_place,
    )

    with db.transaction() as s:
        assert places_version(s) == 0
        add_place(s, "ИБЦ", PlaceSpec("Стеллаж 1", rules=(RuleSpec(bbk="84"),)))
        add_place(s, "ИБЦ", PlaceSpec("Стеллаж 2", box=(0, 0, 0.5, 0.5)))
        add_place(s, "Ш2", PlaceSpec("Стеллаж 1"))  # another school may use the same name
        with pytest.raises(PlaceExists):
            add_place(s, "ИБЦ", PlaceSpec("стеллаж 1"))
        add_rule(s, "ИБЦ", "стеллаж 2", RuleSpec(collection="Учебный фонд"))
        add_rule(s, "ИБЦ", "Стеллаж 2", RuleSpec(bbk="22"))
        assert remove_rule(s, "ИБЦ", "Стеллаж 2", 1) == RuleSpec(collection="Учебный фонд")
        update_place(s, "ИБЦ", "Стеллаж 2", note="математика", box=None, room="Читальный зал")
        assert places_version(s) == 7
    with db.session() as s:
        pm = PlaceMap.load(s, "ИБЦ")
        assert pm.version == 7 and [p.name for p in pm] == ["Стеллаж 1", "Стеллаж 2"]
        two = pm.room("Читальный зал")[0]
        assert (two.note, two.box) == ("математика", None)
        assert _where(pm, "22.1 М") == "Стеллаж 2" and _where(pm, "84 М") == "Стеллаж 1"
    with db.transaction() as s:
        with pytest.raises(PlaceNotFound):
            remove_place(s, "ИБЦ", "Стеллаж 9")
        with pytest.raises(PlacesError):
            remove_rule(s, "ИБЦ", "Стеллаж 1", 5)
        with pytest.raises(PlaceExists):
            update_place(s, "ИБЦ", "Стеллаж 2", name="СТЕЛЛАЖ 1")
        assert remove_place(s, "ИБЦ", "1") == "Стеллаж 1"  # by number
    with db.session() as s:
        assert [p.name for p in PlaceMap.load(s, "ИБЦ")] == ["Стеллаж 2"]
        assert len(PlaceMap.load(s)) == 2


def test_replace_is_all_or_nothing(db):
    from library.places.store import export_specs, places_version, replace_places

    with db.transaction() as s:
        replace_places(s, "ИБЦ", loads(GOOD).places)
    with pytest.raises(PlacesError), db.transaction() as s:
        replace_places(s, "ИБЦ", [PlaceSpec("Новое"), PlaceSpec("Плохое", box=(0.9, 0, 0.5, 1))])
    with pytest.raises(PlaceExists), db.transaction() as s:
        replace_places(s, "ИБЦ", [PlaceSpec("Одно"), PlaceSpec("одно")])
    with db.session() as s:
        assert [p.name for p in export_specs(s, "ИБЦ")] == ["Стеллаж 5", "Тележка возврата"]
        assert places_version(s) == 1


def test_place_cache_follows_the_version(db):
    from library.places import PlaceCache
    from library.places.store import add_place

    cache = PlaceCache("ИБЦ")
    with db.session() as s:
        first = cache.get(s)
        assert len(first) == 0 and cache.get(s) is first
    with db.transaction() as s:
        add_place(s, "ИБЦ", PlaceSpec("Полка", rules=(RuleSpec(bbk="8"),)))
    with db.session() as s:
        assert [p.name for p in cache.get(s)] == ["Полка"]


# --- the demo library and `ibc places` --------------------------------------------------------
@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    """Environment for `ibc` on a demo library in a fresh SQLite file."""
    tmp = tmp_path_factory.mktemp("places-demo")
    (tmp / "none.toml").write_text("", encoding="utf-8")
    env = {"IBC_DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}",
           "IBC_CONFIG": str(tmp / "none.toml"), "IBC_LANGUAGE": "ru"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    from ibc.cli import main

    assert main(["demo"]) == 0
    yield tmp
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _ibc(capsys, *argv):
    from ibc.cli import main

    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_demo_places_cover_every_copy(demo_env, capsys):
    code, out, _ = _ibc(capsys, "places", "list", "--json")
    data = json.loads(out)
    assert code == 0 and data["unmatched"] == 0 and data["copies"] == 886
    by_name = {p["name"]: p for p in data["places"]}
    assert len(by_name) == 15 and sum(p["copies"] for p in data["places"]) == 886
    assert by_name["Стеллаж У2"]["copies"] == 80 and by_name["Тележка возврата"]["rules"] == []
    assert all(p["box"] and p["room"] for p in data["places"])
    assert {p["room"] for p in data["places"]} == {"Абонемент", "Читальный зал"}
    code, out, _ = _ibc(capsys, "places", "list")
    assert "Без места: 0 экз. из 886" in out and "(без правил: ориентир на плане)" in out


def test_demo_class_set(demo_env):
    from sqlalchemy import select

    from library.storage.database import open_database
    from library.storage.models import Copy, Loan, Record

    db = open_database(os.environ["IBC_DATABASE_URL"])
    try:
        with db.session() as s:
            rec = s.scalar(select(Record).where(Record.title == "Математика. 3 класс"))
            statuses = [c.status for c in rec.copies]
            assert len(statuses) == 30 and statuses.count("available") == 27
            assert statuses[-3:] == ["on_loan"] * 3
            loans = s.scalars(select(Loan).join(Copy).where(Copy.record_id == rec.id)).all()
            assert len(loans) == 3 and all(ln.due_date.month == 5 for ln in loans)
            pm = PlaceMap.load(s, "ИБЦ")
            assert {pm.resolve(shelf_mark=c.shelf_mark, collection=c.collection, bbk=rec.bbk).name
                    for c in rec.copies} == {"Стеллаж У2"}
    finally:
        db.dispose()


def test_where(demo_env, capsys):
    code, out, _ = _ibc(capsys, "places", "where", "2100000000012", "--json")
    got = json.loads(out)
    assert code == 0 and got["title"] == "Недоросль" and got["author_sign"].startswith("Ф")
    assert got["place"]["name"] == "Стеллаж 4" and got["place"]["rule"] == {
        "bbk": "84(2Рос", "letters": "Р-Я"}
    code, out, _ = _ibc(capsys, "places", "where", "84(4Вел) К98")
    assert code == 0 and "Стеллаж 5 — зарубежная литература, авторы на А–К" in out
    code, out, _ = _ibc(capsys, "places", "where", "99.9 Ж")
    assert code == 1 and "ни одно правило не подходит" in out


def test_import_export_and_errors(demo_env, capsys, tmp_path):
    exported = tmp_path / "places.toml"
    assert _ibc(capsys, "places", "export", str(exported))[0] == 0
    text = exported.read_text(encoding="utf-8")
    assert loads(text).places and 'name = "Стеллаж У2"' in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("box = [0.02, 0.14, 0.08, 0.24]", "box = [0.02, 0.14, 1.08, 0.24]")
                   .replace('{ bbk = "84", letters = "A-Z" }', '{ bbk = "84", leters = "A-Z" }'),
                   encoding="utf-8")
    code, _, err = _ibc(capsys, "places", "import", str(bad))
    assert code == 1 and "ошибок в файле мест: 2" in err and "строка 10, place[1]" in err
    assert "leters: неизвестный ключ" in err
    code, out, _ = _ibc(capsys, "places", "list", "--json")
    assert json.loads(out)["unmatched"] == 0  # nothing lost
    code, out, _ = _ibc(capsys, "places", "import", str(bad), "--json")
    got = json.loads(out)
    assert code == 1 and got["code"] == "bad_places_file" and len(got["problems"]) == 2
    small = tmp_path / "small.toml"
    small.write_text('[[place]]\nname = "Стеллаж 1"\nrules = [{ bbk = "84(2Рос" }]\n',
                     encoding="utf-8")
    code, out, _ = _ibc(capsys, "places", "import", str(small), "--dry-run", "--json")
    dry = json.loads(out)
    assert code == 0 and dry["dry_run"] and dry["unmatched"] == 886 - 439
    assert json.loads(_ibc(capsys, "places", "list", "--json")[1])["unmatched"] == 0
    other = tmp_path / "other.toml"
    other.write_text('sigla = "Ш2"\n' + small.read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = _ibc(capsys, "places", "import", str(other))
    assert code == 1 and "файл для школы Ш2" in err
    code, _, err = _ibc(capsys, "places", "import", str(tmp_path / "nope.toml"))
    assert code == 1 and "nope.toml" in err
    before = json.loads(_ibc(capsys, "places", "list", "--json")[1])["version"]
    assert _ibc(capsys, "places", "import", str(exported))[0] == 0
    after = json.loads(_ibc(capsys, "places", "list", "--json")[1])
    assert after["version"] == before + 1 and after["unmatched"] == 0


def test_cli_add_rules_and_english(demo_env, capsys, monkeypatch):
    code, out, _ = _ibc(capsys, "places", "add", "Выставка", "--note", "новинки",
                        "--room", "Абонемент", "--box", "0.3,0.4,0.2,0.1", "--shelf", "84(2Рос=Рус)6 Б",
                        "--json")
    assert code == 0 and json.loads(out)["name"] == "Выставка"
    code, out, _ = _ibc(capsys, "places", "where", "84(2Рос=Рус)6 Б12")
    assert "место: Выставка — новинки" in out
    assert _ibc(capsys, "places", "rule-add", "выставка", "--collection", "Новинки")[0] == 0
    assert _ibc(capsys, "places", "set", "Выставка", "--note", "новые книги")[0] == 0
    assert _ibc(capsys, "places", "rule-remove", "Выставка", "1")[0] == 0
    code, _, err = _ibc(capsys, "places", "add", "Плохая", "--box", "1,1,1,1")
    assert code == 1 and err.startswith("ibc places: Рамка")
    code, _, err = _ibc(capsys, "places", "add", "Плохая", "--letters", "Я-А")
    assert code == 1 and "Буквы" in err
    monkeypatch.setenv("IBC_LANGUAGE", "en")
    code, _, err = _ibc(capsys, "places", "remove", "Нет такого")
    assert code == 1 and err.strip() == "ibc places: There is no place «Нет такого»"
    assert _ibc(capsys, "places", "remove", "Выставка")[1] == "Place «Выставка» removed\n"


# --- covers on disk ----------------------------------------------------------------------------
def test_find_cover(tmp_path):
    from library.covers import find_cover

    jpeg, png = b"\xff\xd8\xff\xe0" + bytes(20), b"\x89PNG\r\n\x1a\n" + bytes(20)
    (tmp_path / "9785389692251.JpEg").write_bytes(jpeg)
    (tmp_path / "2100000000012.PNG").write_bytes(png)
    (tmp_path / "9785170152407.jpg").write_bytes(b"GIF89a")
    (tmp_path / "9785040000000.gif").write_bytes(jpeg)
    (tmp_path / "big").mkdir()
    (tmp_path / "9785040000001.jpg").mkdir()
    outside = tmp_path / "big" / "x.jpg"
    outside.write_bytes(jpeg)
    os.symlink(outside, tmp_path / "9785040000002.jpg")
    assert find_cover(tmp_path, ["978-5-389-69225-1"]).name == "9785389692251.JpEg"
    assert find_cover(tmp_path, ["538969225X"]).name == "9785389692251.JpEg"
    assert find_cover(tmp_path, [None], ["2100000000012"]).name == "2100000000012.PNG"
    assert find_cover(tmp_path, ["9785170152407"]) is None  # not an image
    assert find_cover(tmp_path, ["9785040000000"]) is None  # .gif is not served
    assert find_cover(tmp_path, [], ["9785040000001"]) is None  # a folder
    assert find_cover(tmp_path, [], ["9785040000002"]) is None  # a symlink out of the folder
    assert find_cover(tmp_path, [], ["../big/x"]) is None
    assert find_cover(tmp_path, ["978-5-389-69225-1"], max_bytes=10) is None
    assert find_cover(tmp_path / "missing", ["9785389692251"]) is None
    assert find_cover("", ["9785389692251"]) is None


def test_covers_folder_default(tmp_path):
    from library.covers import covers_folder

    assert covers_folder("", tmp_path) == tmp_path / "covers"
    assert covers_folder("/srv/covers", tmp_path).as_posix() == "/srv/covers"


# --- settings ----------------------------------------------------------------------------------
def test_places_settings():
    from config.settings import SettingsError, load_settings

    st = load_settings(environ={})
    assert (st.places.returns, st.places.return_note, st.library.covers_dir) == ("cart", "", "")
    st = load_settings(environ={"IBC_PLACES__RETURNS": "desk",
                                "IBC_PLACES__RETURN_NOTE": "Положи книгу в ящик у двери"})
    assert st.places.returns == "desk" and st.places.return_note.startswith("Положи")
    with pytest.raises(SettingsError, match="IBC_PLACES__RETURNS: places.returns"):
        load_settings(environ={"IBC_PLACES__RETURNS": "floor"})
    with pytest.raises(SettingsError, match="places.return_note"):
        load_settings(environ={"IBC_PLACES__RETURN_NOTE": "x" * 201})
    with pytest.raises(SettingsError, match="places.colour: unknown key"):
        load_settings(environ={"IBC_PLACES__COLOUR": "red"})


def test_places_and_covers_load_nothing_heavy():
    import subprocess
    import sys

    probe = ("import library.places, library.places.store, library.places.fileformat, "
             "library.covers, sys\n"
             "print(sorted(m for m in ('kivy', 'cv2', 'vlc', 'zeroconf', 'fastapi', 'httpx', "
             "'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_record_places_for_a_result_page(db):
    from library.places.store import add_place, record_places
    from library.storage.models import Copy, Record

    with db.transaction() as s:
        for key, bbk, copies in (("a", "84(2Рос=Рус)6", [("84 Т52", "on_loan"), ("84 К98", "available")]),
                                 ("b", "22.1", [("22.1 М", "written_off")]),
                                 ("c", "99", [("99 Я", "available")])):
            rec = Record(key=key, title=key, bbk=bbk)
            rec.copies = [Copy(sigla="ИБЦ", barcode=f"{key}{n}", shelf_mark=m, status=st)
                          for n, (m, st) in enumerate(copies)]
            s.add(rec)
        add_place(s, "ИБЦ", PlaceSpec("А–Л", rules=(RuleSpec(bbk="84", letters="А-Л"),)))
        add_place(s, "ИБЦ", PlaceSpec("М–Я", rules=(RuleSpec(bbk="84", letters="М-Я"),)))
        add_place(s, "ИБЦ", PlaceSpec("Математика", rules=(RuleSpec(bbk="22"),)))
    with db.session() as s:
        ids = dict(s.execute(select(Record.key, Record.id)).all())
        got = record_places(s, PlaceMap.load(s, "ИБЦ"), [ids["a"], ids["b"], ids["c"], ids["a"]])
    assert got[ids["a"]].name == "А–Л"  # where the copy on the shelf stands, not the lent one
    assert ids["b"] not in got and ids["c"] not in got  # written off; no rule
