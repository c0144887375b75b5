"""The union key: which records of different schools are the same book (docs/IMPORT.md
«Union catalogue»).

`union_key` is the one rule. A record's own `record_key` (mapping.py) decides re-imports of
one school's file; the union key decides whether a record another school imports joins an
existing record (its copies added there) instead of becoming a second record:

1. "isbn:<ISBN-13>" when the record has a valid ISBN (the preferred one, see library.isbn);
2. else "tay:<title>|<first author's surname>|<year>", each part normalised by `normalise`
   (casefold, ё → е, every run of punctuation and spaces made one space); the year is
   required (without it two editions of one title would always merge), the author may be
   missing (collections, textbooks);
3. else None: the record is never merged.

Known false merges: two editions (or a book and its reprint) printed under one ISBN; the
volumes of a set catalogued only with the set's ISBN; two different books with one title, one
author surname and one year. Known misses: a record with no ISBN in one school and an ISBN in
the other; titles spelt differently ("Т. 1" vs "Том 1", a subtitle copied into the title); an
author given in another form or script.
"""

from __future__ import annotations

import hashlib
import re

from library import isbn as isbnlib

_PUNCT = re.compile(r"[\W_]+")
MAX_KEY = 255


def normalise(text: str | None) -> str:
    """Casefolded, ё → е, every run of non-alphanumeric characters one space, trimmed."""
    if not text:
        return ""
    return _PUNCT.sub(" ", text.casefold().replace("ё", "е")).strip()


def surname(author: str | None) -> str:
    """The normalised surname of an author heading ("Толстой, Лев Николаевич" → "толстой")."""
    if not author:
        return ""
    return normalise(author.split(",", 1)[0])


def union_key(isbn: str | None, title: str | None, authors: list[str] | None,
              year: int | None) -> str | None:
    """The union key of a record (module docstring), None when it has neither a valid ISBN
    nor a title and a year."""
    plain = isbnlib.normalise(isbn)
    if plain:
        thirteen = isbnlib.to_isbn13(plain)
        if thirteen:
            return f"isbn:{thirteen}"
    name = normalise(title)
    if not name or year is None:
        return None
    key = f"tay:{name}|{surname(authors[0]) if authors else ''}|{year}"
    if len(key) > MAX_KEY:
        key = key[:200] + "#" + hashlib.sha1(key.encode()).hexdigest()
    return key
