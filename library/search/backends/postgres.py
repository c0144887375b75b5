"""PostgreSQL backend: the same Python-stemmed tokens in a weighted tsvector (GIN index).

Weights mark fields (A title, B authors, C subjects, D the rest), so field restrictions are
tsquery weight filters; the primary-fields tier queries ``tsv_p`` (the A/B/C lexemes only, own
GIN index), which needs no weight recheck. No text-search configuration is involved.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from library.search import schema as s
from library.search.backends import executemany
from library.search.documents import PG_WEIGHTS, tsvector_literal
from library.search.plan import PRIMARY, Plan, filter_sql

_NAMES = [c.name for c in s.docs.columns]
# tsv_p (migration 0006): only the title/authors/subjects lexemes, for tier 1 without rechecks.
_INSERT_ROWS = (f"INSERT INTO search_docs ({', '.join(_NAMES)}, tsv, tsv_p) "
                f"VALUES ({', '.join('?' for _ in _NAMES)}, CAST(? AS tsvector), "
                "ts_filter(CAST(? AS tsvector), '{a,b,c}'))")


def insert_docs(session: Session, rows: list[dict], bulk: bool = False) -> None:
    """Insert search_docs rows with their tsvector."""
    if rows:
        executemany(session, _INSERT_ROWS, [[*(r.get(n) for n in _NAMES), tsv, tsv]
                                            for r in rows for tsv in (tsvector_literal(r),)])


def delete_docs(session: Session, old_rows: list[dict]) -> None:
    """Remove documents."""
    if old_rows:
        session.execute(delete(s.docs).where(s.docs.c.docid.in_([r["docid"] for r in old_rows])))


def bulk_begin(session: Session) -> None:
    """Drop the GIN index: building it once after loading is much faster."""
    session.execute(text("DROP INDEX IF EXISTS ix_search_docs_tsv"))
    session.execute(text("DROP INDEX IF EXISTS ix_search_docs_tsv_p"))


def bulk_end(session: Session) -> None:
    """Recreate the GIN index and refresh planner statistics."""
    session.execute(text("CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv)"))
    session.execute(text("CREATE INDEX ix_search_docs_tsv_p ON search_docs USING gin (tsv_p)"))
    session.execute(text("ANALYZE search_docs"))


def _w(columns: tuple[str, ...] | None) -> str:
    return "".join(PG_WEIGHTS[c] for c in columns) if columns else ""


def primary_only(plan: Plan, tier: int) -> bool:
    """True when every group and phrase is restricted to exactly the primary fields (tier 1 of
    free words): then `tsv_p` answers without weights, i.e. without heap rechecks."""
    cols = [plan.group_columns(g.columns, tier) for g in plan.groups if g.required] + [
        plan.group_columns(p.columns, tier) for p in plan.phrases]
    return bool(cols) and all(c == PRIMARY for c in cols)


def match_expression(plan: Plan, tier: int, primary: bool = False) -> str:
    """The tsquery text of a plan for a tier (`primary`: for tsv_p, weights left out)."""
    parts = []
    for g in plan.groups:
        if not g.required:
            continue
        w = "" if primary else _w(plan.group_columns(g.columns, tier))
        alts = [f"'{t}'" + (f":{w}" if w else "") for t in g.exact]
        if g.prefix:
            alts.append(f"'{g.prefix}':*{w}")
        parts.append("(" + " | ".join(alts) + ")")
    for p in plan.phrases:
        w = "" if primary else _w(plan.group_columns(p.columns, tier))
        parts.append("(" + " <-> ".join(f"'{t}'" + (f":{w}" if w else "") for t in p.terms) + ")")
    return " & ".join(parts)


# Choosing the plan ourselves (PostgreSQL cannot estimate how many documents an AND of words
# matches, nor that tier 1's weights are rare), from the vocabulary's document frequencies:
# * "scan": docid order (primary key; a sequential scan when unordered), checking each row's
#   tsvector (SCAN_US / SEQ_US a row) and stopping after `need` matches;
# * "bitmap": GIN reads the posting lists whole (GIN_US a posting) and fetches every match from
#   the heap (HEAP_US; rechecked when weights are involved) — all of them when sorted by docid.
# Costs in µs measured on PostgreSQL 15 with 1,000,000 documents (docs/BENCHMARKS.md).
SCAN_US, SEQ_US, HEAP_US, GIN_US = 1.0, 0.3, 4.0, 0.12
PRIMARY_SHARE = 0.2  # of a word's documents, those with it in title/authors/subjects (measured)
_SAFE = re.compile(r"^[0-9a-zа-яA-D' :*|&()<>-]*$")


def _weighted(plan: Plan, tier: int) -> bool:
    return any(plan.group_columns(g.columns, tier) for g in plan.groups if g.required) or any(
        plan.group_columns(p.columns, tier) for p in plan.phrases)


def _restricted(plan: Plan, tier: int) -> tuple[str, bool]:
    """(tsvector column, whether weights must be rechecked on heap rows)."""
    if primary_only(plan, tier):
        return "tsv_p", False
    return "tsv", _weighted(plan, tier)


def strategy(plan: Plan, tier: int, need: int, ordered: bool = True) -> str:
    """"scan", "bitmap" or "planner" (unknown sizes, or SQL filters of unknown selectivity)."""
    est = plan.estimate()
    req = [g for g in plan.groups if g.required]
    if est is None or plan.filters or not req or any(g.prefix for g in req):
        # Prefix groups: the sum of the completions' df overestimates badly (the completions
        # share documents, and the query's words often complete each other), so the scan
        # guesses were wrong as often as right there; PostgreSQL's own plan is kept.
        return "planner"
    n = plan.docs
    column, recheck = _restricted(plan, tier)
    narrow = column == "tsv_p" or recheck  # tier 1 / fields: a share of the words' documents
    matching = max(est * PRIMARY_SHARE ** len(req) if narrow else est, 1e-9)
    scan = (SCAN_US if ordered else SEQ_US) * min(n, need * n / matching)
    postings = sum(g.df or 0 for g in req) * (PRIMARY_SHARE if column == "tsv_p" else 1.0)
    fetched = est if recheck else matching  # heap rows: every candidate when rechecked
    if not ordered:
        fetched = min(fetched, need * fetched / matching)
    bitmap = GIN_US * postings + HEAP_US * fetched
    return "scan" if scan < bitmap else "bitmap"


def _select(plan: Plan, tier: int, need: int, ordered: bool = True) -> tuple[str, dict]:
    where, params = filter_sql(plan.filters)
    how = "planner"
    order = "d.docid"
    if plan.has_text:
        column, _ = _restricted(plan, tier)
        m = match_expression(plan, tier, primary=column == "tsv_p")
        how = strategy(plan, tier, need, ordered)
        # The tsquery as a literal: as a bind parameter a prepared statement soon gets a generic
        # plan (psycopg prepares after 5 runs), and for a rare word that was a full scan (300 ms).
        q = "CAST(:m AS tsquery)"
        if _SAFE.match(m):  # quotes doubled for SQL, colons escaped for text()
            q = "CAST('" + m.replace("'", "''").replace(":", "\\:") + "' AS tsquery)"
        params["m"] = m
        if how == "scan":  # the function form cannot use the GIN index: primary-key order
            where.insert(0, f"ts_match_vq(d.{column}, {q})")
        else:
            where.insert(0, f"d.{column} @@ {q}")
            if how == "bitmap":
                order = "d.docid + 0"  # not the primary key's order: GIN bitmap, then sort
    if plan.hide_teachers_only:
        where.append("d.access < 2")
    cond = " AND ".join(where) or "TRUE"
    sql = f"SELECT d.docid FROM search_docs d WHERE {cond}"
    return (sql + f" ORDER BY {order}" if ordered else sql), params


def match(session: Session, plan: Plan, tier: int, limit: int, offset: int = 0) -> list[int]:
    """Docids matching the plan in static-rank order, at most `limit` (the bounded set)."""
    sql, params = _select(plan, tier, limit + offset)
    params.update(k=limit, o=offset)
    return list(session.execute(text(sql + " LIMIT :k OFFSET :o"), params).scalars())


def count(session: Session, plan: Plan, tier: int, cap: int) -> int:
    """How many documents match, counting at most `cap` (any `cap` of them: no order)."""
    sql, params = _select(plan, tier, cap, ordered=False)
    params["k"] = cap
    return session.execute(text(f"SELECT count(*) FROM ({sql} LIMIT :k) x"), params).scalar_one()

