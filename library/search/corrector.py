"""From parsed words to match groups: stemming, prefixes, wrong layout, transliteration, typos.

All look-ups go to the vocabulary tables with the same SQL on both backends, so corrections are
identical on SQLite and PostgreSQL. Each unknown word costs a few indexed look-ups at most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from library.search import schema as s
from library.search.keyboard import swap_layout, transliterate
from library.search.normalize import STOPWORDS, is_latin, stem, words
from library.search.plan import FIELD_TO_COLUMN, Group
from library.search.query import Term
from library.search.typo import allowed_edits, deletion_keys, osa_distance, prefix_distance

MIN_PREFIX = 2
MAX_TYPO_ROWS = 3000


@dataclass
class Vocab:
    """Cached vocabulary look-ups for one query."""

    session: Session
    known: dict[str, tuple[int, str]] = field(default_factory=dict)
    _prefix: dict[str, bool] = field(default_factory=dict)
    docs: int = 0

    def load(self, terms: list[str]) -> None:
        """Fetch df and surface word of these terms."""
        need = [t for t in set(terms) if t not in self.known]
        if need:
            q = select(s.vocab.c.term, s.vocab.c.df, s.vocab.c.word).where(s.vocab.c.term.in_(need))
            for t, df, w in self.session.execute(q):
                self.known[t] = (df, w)
            for t in need:
                self.known.setdefault(t, (0, t))
        if not self.docs:
            self.docs = self.session.execute(
                select(s.meta.c.value).where(s.meta.c.name == "docs")).scalar() or 0

    def df(self, term: str) -> int:
        """Document frequency (0 when the term is not indexed)."""
        self.load([term])
        return self.known[term][0]

    def has_prefix(self, prefix: str) -> bool:
        """True when some indexed term starts with the prefix (an indexed range look-up)."""
        if prefix not in self._prefix:
            row = self.session.execute(text(
                "SELECT 1 FROM search_vocab WHERE term >= :a AND term < :b AND df > 0 LIMIT 1"),
                {"a": prefix, "b": prefix + "\uffff"}).first()
            self._prefix[prefix] = row is not None
        return self._prefix[prefix]

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency."""
        n, df = max(self.docs, 1), self.df(term)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def typo_candidates(self, term: str, max_edits: int, prefix: bool) -> list[tuple[int, int, str]]:
        """(distance, -df, term) of indexed terms within max_edits, best first."""
        keys = sorted(deletion_keys(term, max_edits))
        if not keys:
            return []
        rows = self.session.execute(
            select(s.vocab.c.term, s.vocab.c.df, s.vocab.c.word)
            .join(s.vocab_keys, s.vocab_keys.c.term_id == s.vocab.c.term_id)
            .where(s.vocab_keys.c.key.in_(keys), s.vocab.c.df > 0).limit(MAX_TYPO_ROWS)).all()
        out = []
        for t, df, w in rows:
            d = prefix_distance(term, t, max_edits) if prefix else osa_distance(term, t, max_edits)
            if 0 < d <= max_edits:
                out.append((d, -df, t))
                self.known[t] = (df, w)
        return sorted(set(out))


def _prefix_of(word: str, st: str) -> str | None:
    if len(word) < MIN_PREFIX:
        return None
    return st if word.startswith(st) and len(st) >= MIN_PREFIX else word


def _known(v: Vocab, word: str, is_prefix: bool) -> bool:
    st = stem(word)
    if v.df(st) > 0:
        return True
    p = _prefix_of(word, st) if is_prefix else None
    return v.has_prefix(p) if p else False


def build_groups(session: Session, terms: list[Term], vocab: Vocab | None = None,
                 force_typos: bool = False) -> tuple[list[Group], Vocab]:
    """Match groups for the query words, correcting unknown ones; Group.corrected_to marks fixes."""
    v = vocab or Vocab(session)
    v.load([x for t in terms for x in (stem(t.word), _variant(t.word))])
    only_stop = all(t.word in STOPWORDS for t in terms)
    groups: list[Group] = []
    status = [_known(v, t.word, t.prefix) for t in terms]
    layout_words = [_layout_fix(v, t) if not ok else None for t, ok in zip(terms, status)]
    any_layout = any(layout_words)
    any_translit = False
    for t, ok, lw in zip(terms, status, layout_words):
        word, weight, fixed = t.word, 1.0, None
        if ok and len(t.word) <= 2 and (any_layout or any_translit or _translit_query(v, terms)):
            cand = "".join(words(swap_layout(t.word))) if any_layout else transliterate(t.word)
            if cand in STOPWORDS and cand != t.word:  # "b"/"i" between corrected words → "и"
                ok, lw = False, cand
        if not ok:
            alt = lw
            if alt is None and any_layout:  # short words of a wrong-layout query: "b" → "и"
                cand = "".join(words(swap_layout(t.word)))
                alt = cand if cand and (cand in STOPWORDS or _known(v, cand, t.prefix)) else None
            if alt is None and is_latin(t.word):
                cand = transliterate(t.word)
                alt = cand if _known(v, cand, t.prefix) else None
                any_translit = any_translit or alt is not None
            if alt is None:
                alt = _typo_fix(v, t.word, t.prefix)
                weight = 0.8
            if alt is not None:
                word, fixed = alt, alt
        elif force_typos and t.word not in STOPWORDS:
            alt = _typo_fix(v, t.word, t.prefix, min_df=v.df(stem(t.word)) * 5 + 1)
            if alt is not None:
                word, fixed, weight = alt, alt, 0.8
        st = stem(word)
        var = _variant(word)
        alts = [st] + ([var] if var and var != st and v.df(var) > 0 else [])
        g = Group(alts, _prefix_of(word, st) if t.prefix else None,
                  (FIELD_TO_COLUMN[t.field],) if t.field else None,
                  required=only_stop or word not in STOPWORDS, weight=weight, word=t.word,
                  corrected_to=fixed)
        g.idf = v.idf(st) if v.df(st) else 2.0
        g.df = sum(v.df(a) for a in alts)
        if g.required and not ok and fixed is None:
            g.required = False  # unknown and uncorrectable: ignored (reported as not found)
            g.weight = 0.0
        groups.append(g)
    return groups, v


def _variant(word: str) -> str:
    """A second stem for Russian words Snowball splits inconsistently (острова→остров, остров→остр)."""
    if len(word) >= 5 and word[-1] in "аяоеиыуюй" and not is_latin(word):
        return stem(word[:-1])
    return ""


def _translit_query(v: Vocab, terms: list[Term]) -> bool:
    """True when some other Latin word of the query is an unknown word known in transliteration."""
    return any(is_latin(t.word) and len(t.word) > 2 and not _known(v, t.word, t.prefix)
               and _known(v, transliterate(t.word), t.prefix) for t in terms)


def _layout_fix(v: Vocab, t: Term) -> str | None:
    cand = "".join(words(swap_layout(t.word)))
    if cand and cand != t.word and len(cand) >= 2 and _known(v, cand, t.prefix):
        return cand
    return None


def _typo_fix(v: Vocab, word: str, is_prefix: bool, min_df: int = 1) -> str | None:
    """A close indexed word: first as a whole word, then (still typing) as a word's beginning."""
    edits = allowed_edits(word)
    if not edits:
        return None
    st = stem(word)
    for _d, negdf, term in v.typo_candidates(st, edits, False):
        if -negdf >= min_df:
            suffix = word[len(st):] if word.startswith(st) else ""
            return term + suffix if stem(term + suffix) == term else v.known[term][1]
    if is_prefix:
        for _d, negdf, term in v.typo_candidates(word, edits, True):
            if -negdf >= min_df:
                return v.known[term][1]
    return None


def suggestion_text(terms: list[Term], groups: list[Group]) -> str | None:
    """The corrected query, or None when nothing was corrected."""
    if not any(g.corrected_to for g in groups):
        return None
    return " ".join(g.corrected_to or t.word for t, g in zip(terms, groups))
