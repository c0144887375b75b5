"""CQL over the catalogue: the one home of the SRU indexes, relations and booleans.

A CQL query arrives here as a small tree (`Clause`, `Bool`) that a front end built from its
parser's output (server/sru.py parses with the kept `cql-parser` library; the core does not
depend on it). `find` turns the tree into one SQL condition on the search index's documents
(search_docs, alias ``d``) and answers the total and a page of record ids in the catalogue's
static-rank order. Words are matched exactly as the catalogue's search matches them: folded,
tokenised and stemmed by library.search.normalize, against the same full-text index (SQLite
FTS5, PostgreSQL tsvector), so «Толстого» finds «Толстой». No typo or keyboard-layout
correction: an SRU client asks for what it means.

    index               relations                         matches
    cql.serverChoice    = all any adj ==                  every word in title, authors, subjects,
                                                          subtitle, responsibility, annotation,
                                                          publisher, place
    dc.title            = all any adj ==                  the title (== the whole title)
    dc.creator          = all any adj ==                  the authors (== as adj: see docs/SRU.md)
    dc.subject          = all any adj ==                  the subject headings
    bath.isbn           = == any                          ISBN-10/13, hyphens optional, either form
    dc.date             = == <> < > <= >= within          the year of publication
    cql.allRecords      any relation                      every record

``=`` on words means ``all`` (every word, any order). A trailing ``*`` masks the end of a word
(at least two letters before it). Deleted records are never in the index; teachers-only media
are left out unless the audience may see them (library.access; anonymous is a pupil).

Refusals are `CqlError`s carrying the SRU 1.2 diagnostic number (info:srw/diagnostic/1/N).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from library.access import Action, Level, may
from library.errors import IbcError
from library.search.documents import PG_WEIGHTS
from library.search.normalize import fold, isbn_variants, normalise_code, stems, words

# Bounds of one query (a front end also bounds the query's length).
MAX_CLAUSES = 32
MAX_WORDS = 16  # words in one search term
MIN_PREFIX = 2  # letters before a trailing *

# Context sets: prefix → identifier; an index is (set identifier, name).
CQL_SET = "info:srw/cql-context-set/1/cql-v1.2"
DC_SET = "info:srw/cql-context-set/1/dc-v1.1"
BATH_SET = "http://zing.z3950.org/cql/bath/2.0/"
CONTEXT_SETS = {"cql": CQL_SET, "dc": DC_SET, "bath": BATH_SET}
DEFAULT_SET = DC_SET  # an index without a prefix: title, creator, subject, date


@dataclass(frozen=True)
class IndexInfo:
    """One searchable index: its name in its set, title, relations, what it searches."""

    prefix: str
    name: str
    title: str
    relations: tuple[str, ...]
    column: str | None = None  # search_docs token column; None = every text column


WORD_RELATIONS = ("=", "all", "any", "adj", "==")
INDEXES: tuple[IndexInfo, ...] = (
    IndexInfo("cql", "serverChoice", "Все поля (all words)", WORD_RELATIONS),
    IndexInfo("dc", "title", "Заглавие (title)", WORD_RELATIONS, "title_t"),
    IndexInfo("dc", "creator", "Автор (creator)", WORD_RELATIONS, "author_t"),
    IndexInfo("dc", "subject", "Предметная рубрика (subject)", WORD_RELATIONS, "subject_t"),
    IndexInfo("bath", "isbn", "ISBN", ("=", "==", "any")),
    IndexInfo("dc", "date", "Год издания (year)", ("=", "==", "<>", "<", ">", "<=", ">=", "within")),
    IndexInfo("cql", "allRecords", "Все записи (all records)", ("=", "==", "any", "all", "adj")),
)
_BY_KEY = {(CONTEXT_SETS[i.prefix], i.name.lower()): i for i in INDEXES}
BOOLEANS = ("and", "or", "not")


class CqlError(IbcError):
    """A query the catalogue cannot answer: `diagnostic` is the SRU 1.2 diagnostic number,
    `details` what it concerns (the index, the relation, the term)."""

    code = "cql"

    def __init__(self, diagnostic: int, details: str, message: str):
        super().__init__(message)
        self.diagnostic, self.details = diagnostic, details


@dataclass(frozen=True)
class Clause:
    """index relation term; `index` as written (prefix.name or name), `modifiers` the relation's."""

    index: str
    relation: str
    term: str
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bool:
    """left op right; op is and, or, not (and-not) or anything else (refused)."""

    op: str
    left: Node
    right: Node
    modifiers: tuple[str, ...] = ()


Node = Clause | Bool


def resolve_index(name: str, prefixes: dict[str, str] | None = None) -> IndexInfo:
    """The index a query names: ``dc.title``, ``title`` (dc), a prefix the query assigned
    (``> x = "info:srw/cql-context-set/1/dc-v1.1" x.title``); CqlError 15/16 otherwise."""
    sets = {**CONTEXT_SETS, **{k.lower(): v for k, v in (prefixes or {}).items()}}
    prefix, dot, base = name.rpartition(".")
    if not dot:
        if name.lower() in ("serverchoice", "allrecords"):
            return _BY_KEY[(CQL_SET, name.lower())]
        set_id = sets.get("", DEFAULT_SET)
    else:
        found = sets.get(prefix.lower())
        if found is None:
            raise CqlError(15, prefix, f"Unsupported context set: {prefix}")
        set_id = found
    info = _BY_KEY.get((set_id, base.lower()))
    if info is None:
        raise CqlError(16, name, f"Unsupported index: {name}")
    return info


@dataclass
class _Sql:
    """A condition being built: SQL text on search_docs d and its bound parameters."""

    dialect: str
    params: dict[str, Any]
    clauses: int = 0

    def bind(self, value: Any) -> str:
        name = f"q{len(self.params)}"
        self.params[name] = value
        return ":" + name


def condition(node: Node, dialect: str, prefixes: dict[str, str] | None = None
              ) -> tuple[str, dict[str, Any]]:
    """The SQL condition (on search_docs ``d``) of a query tree and its parameters, for
    ``sqlite`` or ``postgresql``; every value is a bound parameter."""
    sql = _Sql(dialect, {})
    return _node(node, sql, prefixes or {}), sql.params


def _node(node: Node, sql: _Sql, prefixes: dict[str, str]) -> str:
    if isinstance(node, Clause):
        sql.clauses += 1
        if sql.clauses > MAX_CLAUSES:
            raise CqlError(38, str(MAX_CLAUSES), "Too many boolean operators in query")
        return _clause(node, sql, prefixes)
    op = node.op.lower()
    if op == "prox":
        raise CqlError(39, op, "Proximity not supported")
    if op not in BOOLEANS:
        raise CqlError(37, node.op, f"Unsupported boolean operator: {node.op}")
    if node.modifiers:
        raise CqlError(46, node.modifiers[0], f"Unsupported boolean modifier: {node.modifiers[0]}")
    left, right = _node(node.left, sql, prefixes), _node(node.right, sql, prefixes)
    if op == "not":
        return f"({left} AND NOT {right})"
    return f"({left} {op.upper()} {right})"


def _clause(c: Clause, sql: _Sql, prefixes: dict[str, str]) -> str:
    info = resolve_index(c.index, prefixes)
    relation = c.relation.lower()
    if relation not in info.relations:
        raise CqlError(19, c.relation, f"Unsupported relation {c.relation} for {c.index}")
    if c.modifiers:
        raise CqlError(20, c.modifiers[0], f"Unsupported relation modifier: {c.modifiers[0]}")
    if info.name == "allRecords":
        return "1 = 1"
    if info.name == "isbn":
        return _isbn(c, sql)
    if info.name == "date":
        return _date(c, relation, sql)
    return _words(c, info, relation, sql)


def _isbn(c: Clause, sql: _Sql) -> str:
    codes: list[str] = []
    parts = c.term.split() if c.relation == "any" else [c.term]
    for part in parts[:MAX_WORDS]:
        code = normalise_code(part)
        if not re.fullmatch(r"\d{9}[\dX]|97[89]\d{10}", code):
            raise CqlError(36, c.term, f"Not an ISBN: {c.term}")
        codes.extend(isbn_variants(code))
    names = ", ".join(sql.bind(code) for code in dict.fromkeys(codes))
    return f"d.record_id IN (SELECT record_id FROM search_codes WHERE code IN ({names}))"


_YEAR = re.compile(r"-?\d{1,4}")


def _year(term: str) -> int:
    if not _YEAR.fullmatch(term.strip()):
        raise CqlError(36, term, f"Not a year: {term}")
    return int(term)


def _date(c: Clause, relation: str, sql: _Sql) -> str:
    if relation == "within":
        bounds = c.term.split()
        if len(bounds) != 2:
            raise CqlError(36, c.term, "within needs two years: \"1990 2000\"")
        lo, hi = sorted(_year(b) for b in bounds)
        return f"(d.year IS NOT NULL AND d.year >= {sql.bind(lo)} AND d.year <= {sql.bind(hi)})"
    op = {"=": "=", "==": "="}.get(relation, relation)  # NULL-safe under NOT: no year, no match
    return f"(d.year IS NOT NULL AND d.year {op} {sql.bind(_year(c.term))})"


def _terms(term: str) -> tuple[list[str], str | None]:
    """The index terms of a search term, and the last word's prefix when it ends with ``*``."""
    raw = term.strip()
    masked = raw.endswith("*") and not raw.endswith("\\*")
    body = raw[:-1] if masked else raw
    if re.search(r"(?<!\\)[*?^]", body):
        raise CqlError(28, term, "Masking character not supported (only a trailing *)")
    ws = words(body.replace("\\", " "))
    if len(ws) > MAX_WORDS:
        raise CqlError(6, term, f"Too many words in a term (at most {MAX_WORDS})")
    if not masked:
        return stems(ws), None
    if not ws or (body and not body[-1:].isalnum()):
        if not ws and not body.strip():
            return [], ""  # a lone *: any value
        raise CqlError(28, term, "Masking character not supported (only after a word)")
    last = fold(ws[-1])
    if len(last) < MIN_PREFIX:
        raise CqlError(29, term, f"Masked words too short (at least {MIN_PREFIX} letters)")
    return stems(ws[:-1]), last


_SAFE_TSQUERY = re.compile(r"[0-9a-zа-яA-D' :*|&<>-]*")


def _words(c: Clause, info: IndexInfo, relation: str, sql: _Sql) -> str:
    exact, prefix = _terms(c.term)
    if not exact and not prefix:
        if prefix == "":  # a lone *: the field has a value
            return f"(d.{info.column} IS NOT NULL AND d.{info.column} <> '')" if info.column else "1 = 1"
        return "1 = 0"  # no words to look for (only punctuation): nothing matches
    match = (_fts5 if sql.dialect == "sqlite" else _tsquery)(exact, prefix, info.column, relation)
    if sql.dialect == "sqlite":
        cond = f"d.docid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH {sql.bind(match)})"
    else:
        # The tsquery as a literal, as the search backend does (library/search/backends/
        # postgres.py): as a bound parameter, a prepared statement soon gets a generic plan that
        # scans every row. Safe: its terms are [0-9a-zа-я]+; quotes doubled, colons escaped.
        if _SAFE_TSQUERY.fullmatch(match):
            literal = match.replace("'", "''").replace(":", "\\:")
            cond = f"d.tsv @@ CAST('{literal}' AS tsquery)"
        else:  # never with terms from normalize.words; kept as the safe way all the same
            cond = f"d.tsv @@ CAST({sql.bind(match)} AS tsquery)"
    if relation == "==" and info.column == "title_t" and prefix is None:
        cond = f"({cond} AND d.title_t = {sql.bind(' '.join(exact))})"
    return cond


def _fts5(exact: list[str], prefix: str | None, column: str | None, relation: str) -> str:
    """An FTS5 MATCH string; terms are [0-9a-zа-я]+ (normalize.WORD_RE), safe inside quotes."""
    col = f"{{{column}}} : " if column else ""
    if relation in ("adj", "=="):
        return f'{col}"{" ".join(exact + ([prefix] if prefix else []))}"' + ("*" if prefix else "")
    parts = [f'{col}"{t}"' for t in exact] + ([f'{col}"{prefix}"*'] if prefix else [])
    return f" {'OR' if relation == 'any' else 'AND'} ".join(parts)


def _tsquery(exact: list[str], prefix: str | None, column: str | None, relation: str) -> str:
    """A tsquery text with field weights (library.search.documents.PG_WEIGHTS)."""
    w = PG_WEIGHTS[column] if column else ""
    parts = [f"'{t}'" + (f":{w}" if w else "") for t in exact]
    if prefix:
        parts.append(f"'{prefix}':*{w}")
    joiner = " <-> " if relation in ("adj", "==") else (" | " if relation == "any" else " & ")
    return joiner.join(parts)


@dataclass
class Found:
    """A page of a CQL search: the total and the record ids, in static-rank order."""

    total: int
    record_ids: list[int]


def find(session: Session, node: Node, *, offset: int = 0, limit: int = 10,
         audience: str | None = None, prefixes: dict[str, str] | None = None) -> Found:
    """Records matching the query tree: the exact total and ids ``offset``..``offset+limit``.

    `audience` is who asks (library.access): teachers-only media stay hidden unless it may see
    them; None (anonymous) sees what a pupil sees."""
    dialect = session.get_bind().dialect.name
    cond, params = condition(node, dialect, prefixes)
    if not may(audience, Level.TEACHERS, Action.SEE):
        cond = f"({cond}) AND d.access < 2"
    total = session.execute(text(f"SELECT count(*) FROM search_docs d WHERE {cond}"),
                            params).scalar_one()
    ids: list[int] = []
    if limit > 0 and offset < total:
        ids = list(session.execute(text(
            f"SELECT d.record_id FROM search_docs d WHERE {cond} ORDER BY d.docid "
            f"LIMIT {int(limit)} OFFSET {int(offset)}"), params).scalars())
    return Found(int(total), ids)
