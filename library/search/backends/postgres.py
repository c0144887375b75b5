"""PostgreSQL backend: the same Python-stemmed tokens in a weighted tsvector (GIN index).

Weights mark fields (A title, B authors, C subjects, D the rest), so field restrictions and the
primary-fields tier are tsquery weight filters; no text-search configuration is involved.
"""

from __future__ import annotations

from sqlalchemy import Table, delete, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from library.search import schema as s
from library.search.documents import PG_WEIGHTS, tsvector_literal
from library.search.plan import Plan, filter_sql

_NAMES = [c.name for c in s.docs.columns]
_INSERT = text(f"INSERT INTO search_docs ({', '.join(_NAMES)}, tsv) "
               f"VALUES ({', '.join(':' + n for n in _NAMES)}, CAST(:tsv AS tsvector))")


def insert_ignore(table: Table):  # noqa: ANN201
    """INSERT … ON CONFLICT DO NOTHING."""
    return pg_insert(table).on_conflict_do_nothing()


def upsert_vocab():  # noqa: ANN201
    """INSERT into search_vocab adding df on conflict (a concurrent batch added the term)."""
    stmt = pg_insert(s.vocab)
    return stmt.on_conflict_do_update(index_elements=["term"],
                                      set_={"df": s.vocab.c.df + stmt.excluded.df})


def insert_docs(session: Session, rows: list[dict], bulk: bool = False) -> None:
    """Insert search_docs rows with their tsvector."""
    if rows:
        session.execute(_INSERT, [{**r, "tsv": tsvector_literal(r)} for r in rows])


def delete_docs(session: Session, old_rows: list[dict]) -> None:
    """Remove documents."""
    if old_rows:
        session.execute(delete(s.docs).where(s.docs.c.docid.in_([r["docid"] for r in old_rows])))


def bulk_begin(session: Session) -> None:
    """Drop the GIN index: building it once after loading is much faster."""
    session.execute(text("DROP INDEX IF EXISTS ix_search_docs_tsv"))


def bulk_end(session: Session) -> None:
    """Recreate the GIN index and refresh planner statistics."""
    session.execute(text("CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv)"))
    session.execute(text("ANALYZE search_docs"))


def _w(columns: tuple[str, ...] | None) -> str:
    return "".join(PG_WEIGHTS[c] for c in columns) if columns else ""


def match_expression(plan: Plan, tier: int) -> str:
    """The tsquery text of a plan for a tier."""
    parts = []
    for g in plan.groups:
        if not g.required:
            continue
        w = _w(plan.group_columns(g.columns, tier))
        alts = [f"'{t}'" + (f":{w}" if w else "") for t in g.exact]
        if g.prefix:
            alts.append(f"'{g.prefix}':*{w}")
        parts.append("(" + " | ".join(alts) + ")")
    for p in plan.phrases:
        w = _w(plan.group_columns(p.columns, tier))
        parts.append("(" + " <-> ".join(f"'{t}'" + (f":{w}" if w else "") for t in p.terms) + ")")
    return " & ".join(parts)


def _select(plan: Plan, tier: int) -> tuple[str, dict]:
    where, params = filter_sql(plan.filters)
    if plan.has_text:
        where.insert(0, "d.tsv @@ CAST(:m AS tsquery)")
        params["m"] = match_expression(plan, tier)
    if plan.hide_teachers_only:
        where.append("d.access < 2")
    cond = " AND ".join(where) or "TRUE"
    return f"SELECT d.docid FROM search_docs d WHERE {cond} ORDER BY d.docid", params


def match(session: Session, plan: Plan, tier: int, limit: int, offset: int = 0) -> list[int]:
    """Docids matching the plan in static-rank order, at most `limit` (the bounded set)."""
    sql, params = _select(plan, tier)
    params.update(k=limit, o=offset)
    return list(session.execute(text(sql + " LIMIT :k OFFSET :o"), params).scalars())


def count(session: Session, plan: Plan, tier: int, cap: int) -> int:
    """How many documents match, counting at most `cap`."""
    sql, params = _select(plan, tier)
    params["k"] = cap
    return session.execute(text(f"SELECT count(*) FROM ({sql} LIMIT :k) x"), params).scalar()
