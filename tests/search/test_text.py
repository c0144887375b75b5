"""Pure unit tests: normalisation, query parsing, layout, transliteration, typo keys, facets."""

from __future__ import annotations

import pytest

from library.search.facets import bbk_label, bbk_section, count_facets, decade
from library.search.highlight import mark, spans
from library.search.keyboard import swap_layout, to_cyrillic_layout, to_latin_layout, transliterate
from library.search.normalize import fold, isbn_variants, normalise_code, stem, terms, words
from library.search.plan import Group
from library.search.query import parse
from library.search.typo import deletion_keys, osa_distance, prefix_distance


def test_fold_is_length_preserving_and_folds_yo():
    for s in ["Ёжик в тумане", "Café Noël", "ПРИВЕТ", "Жили-были"]:
        assert len(fold(s)) == len(s)
    assert fold("Ёжик") == "ежик"
    assert fold("Café") == "cafe"
    assert fold("Йод") == "йод"  # й is a letter, not и + breve


def test_words_and_terms():
    assert words("Don't Panic! Война—и мир") == ["dont", "panic", "война", "и", "мир"]
    assert terms("Войны и мира") == terms("война и мир") == ["войн", "и", "мир"]
    assert terms("Преступлением") == terms("преступление")
    assert stem("running") == "run"
    assert stem("x86") == "x86"
    assert words(None) == [] and words("") == []


def test_isbn_variants():
    assert normalise_code(" 5-17-015240-x ") == "517015240X"
    assert isbn_variants("5-17-015240-X (в пер.)") == ["517015240X", "9785170152407"]
    assert isbn_variants("978-5-17-015240-7") == ["9785170152407", "517015240X"]
    assert isbn_variants("") == []


@pytest.mark.parametrize(("raw", "check"), [
    ("война и мир", lambda q: [t.word for t in q.terms] == ["война", "и", "мир"] and q.terms[-1].prefix),
    ("война и мир ", lambda q: not q.terms[-1].prefix),
    ('author:толстой title:"война и мир"',
     lambda q: q.terms[0].field == "author" and q.phrases[0].words == ["война", "и", "мир"]),
    ("year:2000-2010", lambda q: (q.year_from, q.year_to) == (2000, 2010)),
    ("год:>2015", lambda q: (q.year_from, q.year_to) == (2016, None)),
    ("year:<=1990", lambda q: (q.year_from, q.year_to) == (None, 1990)),
    ("year:1997", lambda q: (q.year_from, q.year_to) == (1997, 1997)),
    ("isbn:5-17-015240-X", lambda q: q.codes == ["517015240X"] and not q.terms),
    ("type:учебник алгебра", lambda q: q.types == ["textbook"] and q.terms[0].word == "алгебра"),
    ("5-17-015240-X", lambda q: q.code_like and q.codes == ["517015240X"]),
    ("foo:bar", lambda q: [t.word for t in q.terms] == ["foo", "bar"]),
    ("", lambda q: q.is_empty),
    ('"незакрытая кавычка', lambda q: q.phrases[0].words == ["незакрытая", "кавычка"]),
])
def test_parse(raw, check):
    assert check(parse(raw))


def test_layout_and_translit():
    assert to_cyrillic_layout("djqyf b vbh") == "война и мир"
    assert to_cyrillic_layout("ghbdtn") == "привет"
    assert to_latin_layout("привет") == "ghbdtn"
    assert swap_layout("nfhfc ,ekm,f") == "тарас бульба"
    assert swap_layout("рщиише") == "hobbit"
    assert transliterate("voyna") == "война"
    assert transliterate("tolstoy") == "толстой"
    assert transliterate("shchuka") == "щука"


def test_typo_keys_and_distances():
    assert osa_distance("достаевск", "достоевск") == 1
    assert osa_distance("ab", "ba") == 1  # a transposition is one edit
    assert osa_distance("кот", "собака") == 3  # capped at limit + 1
    assert prefix_distance("маргор", "маргарит") == 1
    # a one-edit typo and the right word share a deletion key
    assert deletion_keys("маргорит") & deletion_keys("маргарит")
    assert deletion_keys("гун") == {"гун"}
    assert all(len(k) >= 3 for k in deletion_keys("абвгдежз"))


def test_facet_helpers():
    assert bbk_section("84(2Рос=Рус)6") == "84"
    assert bbk_section("22.1я721") == "22"
    assert bbk_section("Ш6(7США)") == "Ш"
    assert bbk_section("") is None
    assert bbk_label("84") == "84 Художественная литература"
    assert decade(1997) == 1990 and decade(None) is None
    f = count_facets([{"facet_authors": "А\x1fБ", "bbk_section": "84", "decade": 1990,
                       "item_type": "book", "available": 1},
                      {"facet_authors": "А", "bbk_section": "22", "decade": 2000,
                       "item_type": "textbook", "available": 0}])
    assert f["author"][0] == {"value": "А", "label": "А", "count": 2}
    assert [d["value"] for d in f["decade"]] == [2000, 1990]
    assert {v["label"] for v in f["type"]} == {"Книга", "Учебник"}
    assert {v["label"]: v["count"] for v in f["available"]} == {"Есть на полке": 1, "Нет на полке": 1}


def test_highlight():
    g = [Group(["войн"]), Group(["мир"], prefix="ми")]
    sp = spans("Война и мир", g)
    assert sp == [[0, 5], [8, 11]]
    assert mark("Война и мир", sp) == "[Война] и [мир]"
    assert spans(None, g) == []
