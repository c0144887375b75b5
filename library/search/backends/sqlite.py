"""SQLite FTS5 backend: an external-content FTS5 table over search_docs, rowid = docid."""

from __future__ import annotations

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from library.search import schema as s
from library.search.backends import executemany
from library.search.plan import Plan, filter_sql

_COLS = ", ".join(s.FIELD_COLUMNS)
_VALS = ", ".join(f":{c}" for c in s.FIELD_COLUMNS)
_DOC_NAMES = [c.name for c in s.docs.columns]
_INSERT_DOCS = (f"INSERT INTO search_docs ({', '.join(_DOC_NAMES)}) "
                f"VALUES ({', '.join('?' for _ in _DOC_NAMES)})")
_INSERT_FTS = (f"INSERT INTO search_fts(rowid, {_COLS}) "
               f"VALUES (?, {', '.join('?' for _ in s.FIELD_COLUMNS)})")


def insert_docs(session: Session, rows: list[dict], bulk: bool = False) -> None:
    """Insert search_docs rows and (unless bulk: rebuilt at the end) their FTS entries."""
    if not rows:
        return
    executemany(session, _INSERT_DOCS, [[r.get(n) for n in _DOC_NAMES] for r in rows])
    if not bulk:
        executemany(session, _INSERT_FTS, [[r["docid"], *(r[c] for c in s.FIELD_COLUMNS)]
                                           for r in rows])


def delete_docs(session: Session, old_rows: list[dict]) -> None:
    """Remove documents (external content: FTS needs the old values to delete)."""
    if not old_rows:
        return
    session.execute(text(f"INSERT INTO search_fts(search_fts, rowid, {_COLS}) "
                         f"VALUES ('delete', :docid, {_VALS})"), old_rows)
    session.execute(delete(s.docs).where(s.docs.c.docid.in_([r["docid"] for r in old_rows])))


def bulk_begin(session: Session) -> None:
    """Empty the FTS index before a full rebuild."""
    session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')"))


def bulk_end(session: Session) -> None:
    """Build the FTS index from search_docs in one pass."""
    session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
    session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))


def _cols(columns: tuple[str, ...] | None) -> str:
    return "{" + " ".join(columns) + "} : " if columns else ""


def match_expression(plan: Plan, tier: int) -> str:
    """The FTS5 MATCH string of a plan for a tier."""
    parts = []
    for g in plan.groups:
        if not g.required:
            continue
        alts = [f'"{t}"' for t in g.exact] + ([f'"{g.prefix}"*'] if g.prefix else [])
        parts.append(f"{_cols(plan.group_columns(g.columns, tier))}({' OR '.join(alts)})")
    for p in plan.phrases:
        parts.append(f"{_cols(plan.group_columns(p.columns, tier))}\"{' '.join(p.terms)}\"")
    return " AND ".join(parts)


# Teachers-only documents are few: the partial index ix_search_docs_restricted lists them, so
# excluding them from an FTS-only query is one small set built per statement, no join.
_NOT_RESTRICTED = "rowid NOT IN (SELECT docid FROM search_docs WHERE access >= 2)"


def _select(plan: Plan, tier: int) -> tuple[str, dict]:
    where, params = filter_sql(plan.filters)
    if not plan.has_text:
        if plan.hide_teachers_only:
            where.append("d.access < 2")
        cond = " AND ".join(where) or "1"
        return f"SELECT d.docid FROM search_docs d WHERE {cond} ORDER BY d.docid", params
    params["m"] = match_expression(plan, tier)
    if not where:
        hide = f" AND {_NOT_RESTRICTED}" if plan.hide_teachers_only else ""
        return (f"SELECT rowid FROM search_fts WHERE search_fts MATCH :m{hide} ORDER BY rowid",
                params)
    if plan.hide_teachers_only:
        where.append("d.access < 2")
    return ("SELECT f.rowid FROM search_fts f JOIN search_docs d ON d.docid = f.rowid "
            f"WHERE search_fts MATCH :m AND {' AND '.join(where)} ORDER BY f.rowid"), params


def match(session: Session, plan: Plan, tier: int, limit: int, offset: int = 0) -> list[int]:
    """Docids matching the plan in static-rank order, at most `limit` (the bounded set)."""
    sql, params = _select(plan, tier)
    params.update(k=limit, o=offset)
    return list(session.execute(text(sql + " LIMIT :k OFFSET :o"), params).scalars())


def count(session: Session, plan: Plan, tier: int, cap: int) -> int:
    """How many documents match, counting at most `cap`."""
    sql, params = _select(plan, tier)
    params["k"] = cap
    return session.execute(text(f"SELECT count(*) FROM ({sql} LIMIT :k) x"), params).scalar_one()

