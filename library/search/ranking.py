"""The ranking formula, computed in Python over the bounded candidate set (same on both backends).

score = Σ_groups idf · weight · BM25F(title, authors, subjects; body as a small constant)
        + title-phrase and exact-title bonuses,
        then × availability and popularity factors.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from library.search.plan import Group, PhraseSpec

FIELD_WEIGHTS = (("title_t", 3.0, 5.0), ("author_t", 2.5, 4.0), ("subject_t", 1.0, 6.0))
BODY_SCORE = 0.35
K1, B = 1.2, 0.6
PHRASE_BONUS = 1.0  # × the query's summed idf: words adjacent in the title, in order
EXACT_TITLE_BONUS = 1.5  # × the query's summed idf: the query is the whole title
AVAILABLE_BOOST = 0.10
POPULARITY_BOOST = 0.05


def _contains_run(tokens: list[str], run: list[str]) -> bool:
    n = len(run)
    return n > 0 and any(tokens[i:i + n] == run for i in range(len(tokens) - n + 1))


def _tf(g: Group, toks: list[str]) -> float:
    exact = g.exact
    n = 0.0
    if g.prefix:
        p = g.prefix
        for t in toks:
            if t in exact:
                n += 1.0
            elif t.startswith(p):
                n += 0.6
    else:
        for t in toks:
            if t in exact:
                n += 1.0
    return n


def make_scorer(groups: list[Group], phrases: list[PhraseSpec]) -> Callable[[dict], float]:
    """`text_score` with everything that depends only on the query worked out once: a function
    of one candidate row, giving exactly text_score's value (it runs for up to 400 rows)."""
    run = [g for g in groups if g.weight > 0]
    base = sum(g.idf * g.weight for g in run if g.required)
    n = len(run)
    specs = [(tuple(dict.fromkeys(g.exact)), g.prefix,
              tuple((i, w, avg) for i, (col, w, avg) in enumerate(FIELD_WEIGHTS)
                    if not (g.columns and col not in g.columns)),
              g.idf * g.weight, g.required) for g in run]
    runs = [p.terms for p in phrases]
    cols = [col for col, _, _ in FIELD_WEIGHTS]

    def score_row(row: dict) -> float:
        fields = [(row.get(col) or "").split() for col in cols]
        title = fields[0]
        score = 0.0
        title_hits = 0
        for exact, prefix, fcols, gw, required in specs:
            best = 0.0
            for i, w, avg in fcols:
                toks = fields[i]
                if prefix:
                    tf = 0.0
                    for t in toks:
                        if t in exact:
                            tf += 1.0
                        elif t.startswith(prefix):
                            tf += 0.6
                else:
                    tf = float(sum(toks.count(e) for e in exact))
                if tf:
                    norm = 1 - B + B * len(toks) / avg
                    best += w * tf * (K1 + 1) / (tf + K1 * norm)
                    if i == 0:
                        title_hits += 1
            if not best and required:
                best = BODY_SCORE
            score += gw * best
        if n > 1 and title_hits >= n and any(all(run[j].matches(title[i + j]) for j in range(n))
                                             for i in range(len(title) - n + 1)):
            score += PHRASE_BONUS * base
        for terms in runs:
            if _contains_run(title, terms):
                score += PHRASE_BONUS * (base + len(terms))
        if title and title_hits and title_hits >= len(title) - sum(1 for t in title if len(t) <= 1):
            score += EXACT_TITLE_BONUS * max(base, 1.0)  # the query covers the whole title
        if title:
            score += 0.5 * title_hits / len(title)
        return score

    return score_row


def text_score(groups: list[Group], phrases: list[PhraseSpec], row: dict) -> float:
    """BM25F-style relevance of one candidate row (search_docs columns) to the query."""
    fields = [(row.get(col) or "").split() for col, _, _ in FIELD_WEIGHTS]
    score = 0.0
    title = fields[0]
    title_hits = 0
    for g in groups:
        if g.weight <= 0:
            continue
        best = 0.0
        for (col, w, avg), toks in zip(FIELD_WEIGHTS, fields):
            if g.columns and col not in g.columns:
                continue
            tf = _tf(g, toks)
            if tf:
                norm = 1 - B + B * len(toks) / avg
                best += w * tf * (K1 + 1) / (tf + K1 * norm)
                if col == "title_t":
                    title_hits += 1
        if not best and g.required:
            best = BODY_SCORE
        score += g.idf * g.weight * best
    run = [g for g in groups if g.weight > 0]
    base = sum(g.idf * g.weight for g in run if g.required)
    n = len(run)
    if n > 1 and title_hits >= n and any(all(run[j].matches(title[i + j]) for j in range(n))
                                         for i in range(len(title) - n + 1)):
        score += PHRASE_BONUS * base
    for p in phrases:
        if _contains_run(title, p.terms):
            score += PHRASE_BONUS * (base + len(p.terms))
    if title and title_hits and title_hits >= len(title) - sum(1 for t in title if len(t) <= 1):
        score += EXACT_TITLE_BONUS * max(base, 1.0)  # the query covers the whole title
    if title:
        score += 0.5 * title_hits / len(title)
    return score


def final_score(text: float, available: int, popularity: int) -> float:
    """Relevance adjusted for availability now and popularity (loans)."""
    return text * (1 + AVAILABLE_BOOST * (available > 0)) * (
        1 + POPULARITY_BOOST * math.log1p(max(popularity, 0)))
