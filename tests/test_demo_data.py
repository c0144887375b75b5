"""Validates the demo school library shipped in library/demo/catalogue.json."""

from __future__ import annotations

import json
import re
from collections import Counter
from importlib.resources import files

import pytest

TITLE_KEYS = {
    "title": str,
    "subtitle": (str, type(None)),
    "authors": list,
    "year": int,
    "publisher": str,
    "place": str,
    "isbn": (str, type(None)),
    "bbk": str,
    "udc": (str, type(None)),
    "subjects": list,
    "annotation": str,
    "language": str,
    "age_rating": str,
    "type": str,
    "pages": int,
    "copies": int,
}
READER_KEYS = {
    "card": str,
    "last_name": str,
    "first_name": str,
    "middle_name": (str, type(None)),
    "class_name": (str, type(None)),
    "category": str,
}
LOAN_KEYS = {"title": str, "card": str, "days_ago": int}
MEDIA_KEYS = {
    "title": str,
    "kind": str,
    "subject": str,
    "class_from": int,
    "class_to": int,
    "access": str,
    "licence": str,
    "duration_s": (int, type(None)),
    "file": str,
}

TYPES = {"book", "textbook", "reference"}
AGE_RATINGS = {"0+", "6+", "12+", "16+"}
LANGUAGES = {"rus", "eng"}
CATEGORIES = {"pupil", "teacher", "staff"}
MEDIA_KINDS = {"video", "audio", "image", "pdf", "presentation"}
ACCESS = {"everyone", "teachers", "onsite"}

# (title, first author or None when any author will do) that other tests search for
REQUIRED_TITLES = [
    ("Война и мир", "Толстой, Лев Николаевич"),
    ("Преступление и наказание", "Достоевский, Фёдор Михайлович"),
    ("Мастер и Маргарита", "Булгаков, Михаил Афанасьевич"),
    ("Капитанская дочка", "Пушкин, Александр Сергеевич"),
    ("Евгений Онегин", "Пушкин, Александр Сергеевич"),
    ("Мёртвые души", "Гоголь, Николай Васильевич"),
    ("Отцы и дети", "Тургенев, Иван Сергеевич"),
    ("Герой нашего времени", "Лермонтов, Михаил Юрьевич"),
    ("Тихий Дон", "Шолохов, Михаил Александрович"),
    ("Денискины рассказы", "Драгунский, Виктор Юзефович"),
    ("Приключения Незнайки и его друзей", "Носов, Николай Николаевич"),
    ("Дядя Фёдор, пёс и кот", "Успенский, Эдуард Николаевич"),
    ("Волшебник Изумрудного города", "Волков, Александр Мелентьевич"),
    ("Гарри Поттер и философский камень", "Роулинг, Джоан"),
    ("Маленький принц", None),
    ("Алиса в Стране чудес", None),
    ("Приключения Тома Сойера", None),
    ("Остров сокровищ", None),
    ("Двадцать тысяч льё под водой", None),
    ("Хоббит, или Туда и обратно", None),
]

CARD_RE = re.compile(r"^2000\d{6}$")
CLASS_RE = re.compile(r"^(?:[1-9]|1[01])[А-Я]$")
ISBN13_RE = re.compile(r"^97[89]\d{10}$")


@pytest.fixture(scope="module")
def demo() -> dict:
    resource = files("library.demo") / "catalogue.json"
    return json.loads(resource.read_text(encoding="utf-8"))


def _check_keys(item: dict, schema: dict, where: str) -> None:
    assert set(item) == set(schema), f"{where}: keys {sorted(set(item) ^ set(schema))}"
    for key, kind in schema.items():
        value = item[key]
        # bool is an int subclass: never accept it where a number is expected
        assert not isinstance(value, bool), f"{where}: {key} is a bool"
        assert isinstance(value, kind), f"{where}: {key}={value!r} is not {kind}"
        if isinstance(value, str):
            assert value.strip() == value and value, f"{where}: {key}={value!r} blank or padded"


def isbn13_ok(isbn: str) -> bool:
    digits = isbn.replace("-", "")
    if not ISBN13_RE.match(digits):
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == int(digits[12])


def test_isbn13_checker_itself():
    assert isbn13_ok("9780306406157")  # the usual worked example
    assert isbn13_ok("978-0-306-40615-7")
    assert not isbn13_ok("9780306406158")
    assert not isbn13_ok("978030640615")
    assert not isbn13_ok("97803064061X7")


def test_top_level_shape(demo):
    assert set(demo) == {"titles", "readers", "media", "loans"}
    assert all(isinstance(demo[k], list) for k in demo)


def test_title_count(demo):
    assert len(demo["titles"]) >= 280


def test_title_fields(demo):
    for i, t in enumerate(demo["titles"]):
        where = f"titles[{i}] {t.get('title')!r}"
        _check_keys(t, TITLE_KEYS, where)
        assert t["type"] in TYPES, where
        assert t["age_rating"] in AGE_RATINGS, where
        assert t["language"] in LANGUAGES, where
        assert 1995 <= t["year"] <= 2024, where
        assert 1 <= t["copies"] <= 5 or (t["type"] == "textbook" and t["copies"] == 30), where
        assert t["pages"] > 0, where
        assert 1 <= len(t["subjects"]) <= 3, where
        assert all(isinstance(s, str) and s for s in t["subjects"]), where
        assert all(isinstance(a, str) and a for a in t["authors"]), where
        if t["type"] != "reference":
            assert t["authors"], f"{where}: only reference works may lack an author"
        if t["language"] == "rus":
            # "Фамилия, Имя Отчество", or a single name such as "Гомер"
            assert all("," in a or " " not in a for a in t["authors"]), where
        if t["type"] == "textbook":
            assert t["copies"] in (5, 30), where
        if t["isbn"] is None:
            assert t["year"] < 2007, f"{where}: copies from 2007 on carry an ISBN-13"


def test_isbns_valid_and_unique(demo):
    isbns = [t["isbn"] for t in demo["titles"] if t["isbn"] is not None]
    bad = [i for i in isbns if not isbn13_ok(i)]
    assert not bad, f"bad ISBN-13 check digits: {bad}"
    normalised = Counter(i.replace("-", "") for i in isbns)
    dupes = [i for i, n in normalised.items() if n > 1]
    assert not dupes, f"duplicate ISBNs: {dupes}"


def test_no_duplicate_title_author(demo):
    keys = Counter(
        (t["title"], t["authors"][0] if t["authors"] else None) for t in demo["titles"]
    )
    dupes = [k for k, n in keys.items() if n > 1]
    assert not dupes, dupes


@pytest.mark.parametrize(("title", "author"), REQUIRED_TITLES)
def test_required_titles_present(demo, title, author):
    matches = [t for t in demo["titles"] if t["title"] == title]
    assert matches, f"{title!r} missing"
    if author is not None:
        assert any(t["authors"][:1] == [author] for t in matches), (
            f"{title!r} not by {author!r}: {[t['authors'] for t in matches]}"
        )


def test_mix_of_languages_and_types(demo):
    titles = demo["titles"]
    by_type = Counter(t["type"] for t in titles)
    by_lang = Counter(t["language"] for t in titles)
    assert by_lang["eng"] >= 10
    assert by_type["textbook"] >= 25
    assert by_type["reference"] >= 5
    english = [t for t in titles if t["language"] == "eng"]
    assert any(t["title"] == "Harry Potter and the Philosopher's Stone" for t in english)


def test_readers(demo):
    readers = demo["readers"]
    assert len(readers) >= 40
    for i, r in enumerate(readers):
        where = f"readers[{i}] {r.get('card')!r}"
        _check_keys(r, READER_KEYS, where)
        assert CARD_RE.match(r["card"]), where
        assert r["category"] in CATEGORIES, where
        if r["category"] == "pupil":
            assert r["class_name"] is not None and CLASS_RE.match(r["class_name"]), where
        else:
            assert r["class_name"] is None, where
    cards = Counter(r["card"] for r in readers)
    assert all(n == 1 for n in cards.values()), [c for c, n in cards.items() if n > 1]
    categories = Counter(r["category"] for r in readers)
    assert categories["pupil"] >= 30
    assert categories["teacher"] >= 1
    assert categories["staff"] >= 1


def test_media(demo):
    media = demo["media"]
    assert len(media) >= 10
    for i, m in enumerate(media):
        where = f"media[{i}] {m.get('title')!r}"
        _check_keys(m, MEDIA_KEYS, where)
        assert m["kind"] in MEDIA_KINDS, where
        assert m["access"] in ACCESS, where
        assert 1 <= m["class_from"] <= m["class_to"] <= 11, where
        if m["kind"] in {"video", "audio"}:
            assert m["duration_s"] is not None and m["duration_s"] > 0, where
        else:
            assert m["duration_s"] is None, where
        assert not m["file"].startswith("/") and ".." not in m["file"].split("/"), where
    files_ = Counter(m["file"] for m in media)
    assert all(n == 1 for n in files_.values())


def test_class_set_and_its_loans(demo):
    """One textbook is a class set of 30 copies; three of them are on loan to pupils."""
    sets = [t for t in demo["titles"] if t["copies"] == 30]
    assert [t["type"] for t in sets] == ["textbook"]
    cards = {r["card"]: r for r in demo["readers"]}
    assert len(demo["loans"]) == 3
    for i, loan in enumerate(demo["loans"]):
        _check_keys(loan, LOAN_KEYS, f"loans[{i}]")
        assert loan["title"] == sets[0]["title"]
        assert cards[loan["card"]]["category"] == "pupil"
        assert 0 <= loan["days_ago"] <= 120
    assert len({loan["card"] for loan in demo["loans"]}) == 3
