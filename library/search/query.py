"""The search query language: free words, "quoted phrases" and fields.

    война и мир                 free words (all must match; stop words are optional)
    "война и мир"               a phrase (words adjacent, in order)
    author:толстой title:мир    fields (Russian aliases: автор:, название:, тема:, год:, тип:)
    subject:"шахматы"           a field with a quoted value
    year:2000-2010 year:>2015   year ranges (also <, >=, <=, a single year)
    isbn:5-17-015240-X          ISBN / barcode / inventory number, hyphens optional
    type:textbook               book | textbook | reference (учебник, справочник, книга)

The last word is a prefix (the pupil is still typing it) unless the query ends with a space.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from library.search.normalize import normalise_code, words

FIELDS = {
    "author": "author", "автор": "author", "a": "author",
    "title": "title", "название": "title", "заглавие": "title", "t": "title",
    "subject": "subject", "тема": "subject", "рубрика": "subject", "s": "subject",
    "year": "year", "год": "year",
    "isbn": "isbn", "code": "isbn", "шк": "isbn", "barcode": "isbn",
    "type": "type", "тип": "type",
}
TYPES = {
    "book": "book", "книга": "book", "книги": "book",
    "textbook": "textbook", "учебник": "textbook", "учебники": "textbook",
    "reference": "reference", "справочник": "reference", "справочники": "reference",
}
_TOKEN_RE = re.compile(r'(?:(?P<field>[^\s:"]+):)?(?:"(?P<quoted>[^"]*)"?|(?P<bare>[^\s"]+))')
_YEAR_RE = re.compile(r"^(?P<op><=|>=|<|>)?(?P<a>\d{1,4})(?:\s*[-–.]+\s*(?P<b>\d{1,4}))?$")
CODE_RE = re.compile(r"^[0-9A-Za-zА-Яа-я\-‐–/.]{3,64}$")


@dataclass
class Term:
    """One query word: folded surface form, optional field, prefix flag."""

    word: str
    field: str | None = None
    prefix: bool = False


@dataclass
class Phrase:
    """Words that must be adjacent and in order."""

    words: list[str]
    field: str | None = None


@dataclass
class ParsedQuery:
    """The structured form of a query string."""

    raw: str
    terms: list[Term] = field(default_factory=list)
    phrases: list[Phrase] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    types: list[str] = field(default_factory=list)
    code_like: bool = False

    @property
    def has_text(self) -> bool:
        """True when there are words or phrases to match."""
        return bool(self.terms or self.phrases)

    @property
    def is_empty(self) -> bool:
        """True when the query asks for nothing at all."""
        return not (self.has_text or self.codes or self.types
                    or self.year_from is not None or self.year_to is not None)


def _year_range(value: str) -> tuple[int | None, int | None]:
    m = _YEAR_RE.match(value.strip())
    if not m:
        return None, None
    a, b, op = int(m["a"]), m["b"], m["op"]
    if b is not None:
        lo, hi = sorted((a, int(b)))
        return lo, hi
    return {"<": (None, a - 1), "<=": (None, a), ">": (a + 1, None), ">=": (a, None)}.get(
        op or "", (a, a))


def parse(raw: str) -> ParsedQuery:
    """Parse a query string; never raises (unknown fields are plain words)."""
    q = ParsedQuery(raw=raw or "")
    text = q.raw
    typing = bool(text) and not text[-1].isspace() and not text.rstrip().endswith('"')
    stripped = text.strip()
    if stripped and CODE_RE.match(stripped) and any(c.isdigit() for c in stripped):
        q.code_like = True
        q.codes.append(normalise_code(stripped))
    last_term: Term | None = None
    for m in _TOKEN_RE.finditer(text):
        fname = FIELDS.get(m["field"].lower()) if m["field"] else None
        value = m["quoted"] if m["quoted"] is not None else (m["bare"] or "")
        if m["field"] and fname is None:  # unknown "x:y" → both parts are words
            value = f"{m['field']} {value}"
        if fname == "year":
            q.year_from, q.year_to = _year_range(value)
            continue
        if fname == "isbn":
            if normalise_code(value):
                q.codes.append(normalise_code(value))
            continue
        if fname == "type":
            t = TYPES.get(value.lower().strip())
            if t:
                q.types.append(t)
            continue
        ws = words(value)
        if not ws:
            continue
        if m["quoted"] is not None and len(ws) > 1:
            q.phrases.append(Phrase(ws, fname))
            last_term = None
            continue
        for w in ws:
            last_term = Term(w, fname)
            q.terms.append(last_term)
    if typing and last_term is not None and last_term is q.terms[-1] and text.rstrip()[-1:] != '"':
        last_term.prefix = True
    return q
