"""The search pipeline: parse → correct → bounded candidates → rank → page → facets → hits.

Candidates are cut in static-rank (docid) order: tier 1 matches every word in title, authors or
subjects; tier 2 anywhere. At most CANDIDATES of each are ranked, so the cost of a frequent word
does not grow with the catalogue; totals beyond COUNT_CAP are reported as estimates.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from library.access import Action, Level, downloadable, may
from library.schools import holdings
from library.search import schema as s
from library.search.access import LEVEL_NAMES, TEACHERS
from library.search.backends import backend_for
from library.search.corrector import Vocab, build_groups, suggestion_text
from library.search.facets import count_facets
from library.search.highlight import mark, spans
from library.search.keyboard import swap_layout
from library.search.normalize import isbn_variants, stems
from library.search.plan import FIELD_TO_COLUMN, Group, PhraseSpec, Plan
from library.search.query import ParsedQuery, parse
from library.search.ranking import final_score, make_scorer
from library.search.result import Hit, SearchResult
from library.storage.models import CopyStatus

CANDIDATES = 200
COUNT_CAP = 1_000
SUGGEST = "Возможно, вы искали: «{}»"
_RANK_COLS = ("docid", "record_id", "title_t", "author_t", "subject_t", "available", "copies",
              "popularity", "access")
_ROW_COLS = _RANK_COLS + ("facet_authors", "facet_subjects", "year", "decade", "bbk_section",
                          "item_type", "language", "age_rating")

# What count_facets reads (library/search/facets.py).
_FACET_COLS = ("facet_authors", "facet_subjects", "bbk_section", "decade", "item_type", "language",
               "age_rating", "available")


def _cursor(session: Session) -> Any:
    """A DB-API cursor on the session's connection (sqlite3 or psycopg)."""
    dbapi = session.connection().connection.driver_connection
    if dbapi is None:  # only a pool connection that was invalidated has none
        raise RuntimeError("the session's connection has no DB-API connection")
    return dbapi.cursor()


def _rows(session: Session, docids: list[int], cols: tuple[str, ...] = _ROW_COLS) -> dict[int, dict]:
    # Up to 400 rows per query: straight through the DB-API cursor (literal integer ids, no
    # parameters, so the same on both drivers) instead of SQLAlchemy's per-row processing.
    out: dict[int, dict] = {}
    if not docids:
        return out
    cur = _cursor(session)
    try:
        for i in range(0, len(docids), 900):
            part = docids[i:i + 900]
            cur.execute(f"SELECT {', '.join(cols)} FROM search_docs "
                        f"WHERE docid IN ({', '.join(str(int(d)) for d in part)})")
            out.update({r[0]: dict(zip(cols, r)) for r in cur.fetchall()})
    finally:
        cur.close()
    return out


def _code_hits(session: Session, pq: ParsedQuery, hide: bool) -> list[int]:
    codes = {v for c in pq.codes for v in isbn_variants(c)}
    if not codes:
        return []
    q = (select(s.docs.c.docid).join(s.codes, s.codes.c.record_id == s.docs.c.record_id)
         .where(s.codes.c.code.in_(sorted(codes))).distinct().order_by(s.docs.c.docid))
    if hide:
        q = q.where(s.docs.c.access < TEACHERS)
    return list(session.execute(q).scalars())


def _plan(session: Session, pq: ParsedQuery, filters: dict | None, hide: bool,
          force_typos: bool = False) -> tuple[Plan, Vocab | None]:
    groups, vocab = build_groups(session, pq.terms, force_typos=force_typos) if pq.terms else ([], None)
    phrases = [PhraseSpec(stems(p.words), (FIELD_TO_COLUMN[p.field],) if p.field else None)
               for p in pq.phrases]
    f = dict(filters or {})
    if pq.year_from is not None:
        f["year_from"] = pq.year_from
    if pq.year_to is not None:
        f["year_to"] = pq.year_to
    if pq.types:
        f["types"] = pq.types
    return Plan(groups, phrases, f, hide_teachers_only=hide, docs=vocab.docs if vocab else 0), vocab


def search(session: Session, query: str, *, limit: int = 20, offset: int = 0,
           facets: bool = False, filters: dict | None = None,
           audience: str | None = None, school: str | None = None,
           default_school: str | None = None) -> SearchResult:
    """Search the catalogue; never raises on odd input (empty, one letter, punctuation).

    `audience` is who is looking, a reader category: "pupil", "teacher" or "staff". What each
    may find is library.access's table: teachers-only media only for teachers and staff; None
    (anonymous) and any other value get a pupil's share.

    Every hit carries its holdings per school (library.schools.holdings, one grouped query for
    the page): `school` (the caller's) first; copies with no sigla count for `default_school`.
    """
    limit, offset = max(0, min(int(limit), 200)), max(0, int(offset))
    hide = not may(audience, Level.TEACHERS, Action.SEE)
    be = backend_for(session)
    pq = parse(query or "")
    result = SearchResult(query=query or "")
    coded = _code_hits(session, pq, hide) if pq.codes else []
    if pq.codes and not pq.code_like:  # isbn:… asks for codes only
        rows = _rows(session, coded)
        ordered = [rows[d] for d in coded if d in rows]
        result.total = len(ordered)
        result.hits = _hits(session, ordered[offset:offset + limit], [], set(),
                            (school, default_school))
        if facets:
            result.facets = count_facets(ordered)
        return result
    plan, vocab = _plan(session, pq, filters, hide)
    if pq.terms and any(g.weight == 0 or g.corrected_to for g in plan.groups):
        # Keys like , . ; [ ] carry Cyrillic letters (б ю ж х ъ): convert the raw query whole.
        pq2 = parse(swap_layout(query))
        if pq2.terms and not pq2.codes:
            plan2, _ = _plan(session, pq2, filters, hide)
            if all(g.weight > 0 and not g.corrected_to for g in plan2.groups):
                for t, g in zip(pq2.terms, plan2.groups):
                    g.corrected_to = t.word
                pq, plan = pq2, plan2
    if not plan.has_text and not plan.filters and not coded:
        result.ignored = [g.word for g in plan.groups if g.weight == 0]
        return result
    if plan.has_text or plan.filters:
        ranked, total, exact = _rank(session, be, plan, offset + limit)
    else:
        ranked, total, exact = [], 0, True
    if total == 0 and not coded and pq.terms and plan.has_text:  # maybe a real but rarer word was mistyped
        plan2, _ = _plan(session, pq, filters, hide, force_typos=True)
        if any(g.corrected_to for g in plan2.groups):
            ranked2, total2, exact2 = _rank(session, be, plan2, offset + limit)
            if total2:
                plan, ranked, total, exact = plan2, ranked2, total2, exact2
    if coded:  # a barcode / inventory number / ISBN typed as the whole query comes first
        rows = _rows(session, coded)
        front = [dict(rows[d], score=1e6) for d in coded if d in rows]
        seen = {r["docid"] for r in front}
        total += len(seen - {r["docid"] for r in ranked})
        ranked = front + [r for r in ranked if r["docid"] not in seen]
    result.total, result.total_exact = total, exact
    sugg = suggestion_text(pq.terms, plan.groups)
    if sugg:
        result.corrected_query = sugg
        result.suggestion = SUGGEST.format(sugg)
    result.ignored = [g.word for g in plan.groups if g.weight == 0]
    phrase_terms = {t for p in plan.phrases for t in p.terms}
    result.hits = _hits(session, ranked[offset:offset + limit], plan.groups, phrase_terms,
                        (school, default_school))
    if facets:
        # Over the ranked candidate set: every match when there are at most CANDIDATES, else
        # the best-ranked ones (issue 21 item 6: counting the first FACET_CAP matches in
        # static-rank order cost p95 190 ms at 1,000,000 records; these rows are one query).
        result.facets = count_facets(
            _rows(session, [r["docid"] for r in ranked], ("docid", *_FACET_COLS)).values())
    return result


def _rank(session: Session, be: ModuleType, plan: Plan, need: int) -> tuple[list[dict], int, bool]:
    k = max(CANDIDATES, need)
    tier1 = be.match(session, plan, 1, k) if plan.has_text and plan.tiered else []
    if len(tier1) >= need:
        # Every tier-1 document has all words in title/authors/subjects and outranks any
        # body-only match, so tier 2 is only counted, not ranked.
        ids = tier1
        total = be.count(session, plan, 2, COUNT_CAP)
    else:
        tier2 = be.match(session, plan, 2, k)
        ids = list(dict.fromkeys(tier1 + tier2))
        total = len(tier2) if len(tier2) < k else be.count(session, plan, 2, COUNT_CAP)
    exact = total < COUNT_CAP
    rows = _rows(session, ids, _RANK_COLS)
    scored = []
    score_row = make_scorer(plan.groups, plan.phrases) if plan.has_text else None
    for d in ids:
        r = rows.get(d)
        if r is None:
            continue
        t = score_row(r) if score_row else 0.0
        r["score"] = round(final_score(t, r["available"], r["popularity"]), 4)
        scored.append(r)
    scored.sort(key=lambda r: (-r["score"], r["docid"]))
    return scored, total, exact


_HIT_COLS = ("id", "title", "subtitle", "authors", "year", "isbn", "item_type")
_AVAILABLE = CopyStatus.AVAILABLE.value
assert _AVAILABLE.isalnum()


def _access_fields(item_type: str | None, row: dict) -> dict:
    if item_type != "media":
        return {}
    access = LEVEL_NAMES[row.get("access", TEACHERS)]
    return {"access": access, "downloadable": downloadable(access)}


def _hits(session: Session, rows: list[dict], groups: list[Group], phrase_terms: set[str],
          schools: tuple[str | None, str | None] = (None, None)) -> list[Hit]:
    if not rows:
        return []
    held = holdings(session, (r["record_id"] for r in rows), own=schools[0],
                    default_sigla=schools[1])
    # One page (≤ 200 ids, integers): DB-API cursor, as in _rows.
    id_list = ", ".join(str(int(r["record_id"])) for r in rows)
    cur = _cursor(session)
    try:
        cur.execute(f"SELECT {', '.join(_HIT_COLS)} FROM records WHERE id IN ({id_list})")
        recs = {r[0]: dict(zip(_HIT_COLS, r)) for r in cur.fetchall()}
        cur.execute(f"SELECT record_id, shelf_mark FROM copies WHERE record_id IN ({id_list}) "
                    f"AND status = '{_AVAILABLE}' AND shelf_mark IS NOT NULL ORDER BY id")
        shelves: dict[int, str] = {}
        for rid, shelf in cur.fetchall():
            shelves.setdefault(rid, shelf)
    finally:
        cur.close()
    hits = []
    for r in rows:
        m = recs.get(r["record_id"])
        if m is None:
            continue
        authors = m["authors"]
        authors = list((json.loads(authors) if isinstance(authors, str) else authors) or [])
        t_spans = spans(m["title"], groups, phrase_terms)
        a_spans = [spans(a, groups, phrase_terms) for a in authors]
        hits.append(Hit(
            id=m["id"], title=m["title"], authors=authors, year=m["year"], isbn=m["isbn"],
            available=r["available"], copies=r["copies"], shelf=shelves.get(m["id"]),
            type=m["item_type"], score=r.get("score", 0.0), subtitle=m["subtitle"],
            highlight={"title": mark(m["title"], t_spans),
                       "authors": [mark(a, sp) for a, sp in zip(authors, a_spans)]},
            spans={"title": t_spans, "authors": a_spans}, schools=held.get(m["id"], []),
            **_access_fields(m["item_type"], r)))
    return hits
