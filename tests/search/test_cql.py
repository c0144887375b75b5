"""library/search/cql.py: the CQL tree → the catalogue, on SQLite and PostgreSQL (the HTTP side
and the CQL parser are tested in tests/server/test_sru.py)."""

from __future__ import annotations

import pytest

from library.search import cql
from library.search.cql import Bool, Clause, CqlError


@pytest.fixture
def catalogue(db):
    from library.search import reindex_all
    from library.storage.models import Record

    with db.transaction() as s:
        s.add_all([
            Record(key="a", title="Война и мир", authors=["Толстой, Лев"], year=1869,
                   isbn="5-17-015240-X", isbns=["5-17-015240-X"], subjects=["Роман"]),
            Record(key="b", title="Мир в войне", authors=["Иванов, Пётр"], year=2001,
                   subjects=["История"]),
            Record(key="c", title="Ёжик в тумане", authors=["Козлов, Сергей"], year=None),
            Record(key="d", title="Война миров", authors=["Wells, Herbert"], year=1898,
                   deleted=True),
        ])
    with db.transaction() as s:
        reindex_all(s)
    return db


def _keys(db, node, **kw) -> list[str]:
    from sqlalchemy import select

    from library.storage.models import Record

    with db.session() as s:
        found = cql.find(s, node, limit=50, **kw)
        keys = dict(s.execute(select(Record.id, Record.key)).all())
    assert found.total == len(found.record_ids)
    return sorted(keys[i] for i in found.record_ids)


def test_relations_and_booleans(catalogue):
    db = catalogue
    assert _keys(db, Clause("dc.title", "=", "мир война")) == ["a", "b"]
    assert _keys(db, Clause("dc.title", "adj", "война и мир")) == ["a"]
    assert _keys(db, Clause("dc.title", "==", "Война и мир")) == ["a"]
    assert _keys(db, Clause("dc.title", "==", "война")) == []
    assert _keys(db, Clause("dc.title", "any", "ежик толстой")) == ["c"]  # ё folded
    assert _keys(db, Clause("cql.serverChoice", "=", "толстой")) == ["a"]
    assert _keys(db, Bool("not", Clause("dc.title", "=", "мир"),
                          Clause("dc.date", ">", "2000"))) == ["a"]
    # a record without a year is not excluded by «not dc.date …»
    assert _keys(db, Bool("not", Clause("cql.allRecords", "=", "1"),
                          Clause("dc.date", "<", "1900"))) == ["b", "c"]
    assert _keys(db, Clause("dc.date", "within", "1800 1900")) == ["a"]  # the deleted one never
    assert _keys(db, Clause("bath.isbn", "=", "9785170152405")) == ["a"]
    assert _keys(db, Clause("dc.title", "=", "вой*")) == ["a", "b"]
    assert _keys(db, Clause("dc.title", "=", "*")) == ["a", "b", "c"]


def test_paging_is_stable(catalogue):
    with catalogue.session() as s:
        whole = cql.find(s, Clause("cql.allRecords", "=", "1"), limit=10)
        pages = [cql.find(s, Clause("cql.allRecords", "=", "1"), offset=i, limit=1)
                 for i in range(3)]
        past = cql.find(s, Clause("cql.allRecords", "=", "1"), offset=5, limit=1)
    assert whole.total == 3 and [p.record_ids[0] for p in pages] == whole.record_ids
    assert past.total == 3 and past.record_ids == []


@pytest.mark.parametrize("node, number", [
    (Clause("dc.nothing", "=", "x"), 16),
    (Clause("zz.title", "=", "x"), 15),
    (Clause("dc.title", "<", "x"), 19),
    (Clause("dc.title", "=", "x", ("/stem",)), 20),
    (Clause("dc.date", "=", "давно"), 36),
    (Clause("bath.isbn", "=", "123"), 36),
    (Clause("dc.title", "=", "в*на"), 28),
    (Clause("dc.title", "=", "в*"), 29),
    (Bool("prox", Clause("cql.serverChoice", "=", "b"), Clause("cql.serverChoice", "=", "c")), 39),
    (Bool("xor", Clause("cql.serverChoice", "=", "b"), Clause("cql.serverChoice", "=", "c")), 37),
    (Bool("and", Clause("cql.serverChoice", "=", "b"), Clause("cql.serverChoice", "=", "c"),
          ("/rel",)), 46),
])
def test_refusals_carry_the_sru_diagnostic(node, number):
    with pytest.raises(CqlError) as err:
        cql.condition(node, "sqlite")
    assert err.value.diagnostic == number


def test_too_many_clauses():
    node: cql.Node = Clause("cql.serverChoice", "=", "a")
    for _ in range(cql.MAX_CLAUSES):
        node = Bool("or", node, Clause("cql.serverChoice", "=", "b"))
    with pytest.raises(CqlError) as err:
        cql.condition(node, "postgresql")
    assert err.value.diagnostic == 38


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_terms_never_reach_the_sql_text(dialect):
    """Whatever a term holds, the SQL has only normalised words: quotes and keywords vanish."""
    sql, params = cql.condition(
        Clause("dc.title", "=", "x'); DROP TABLE records; --"), dialect)
    assert "DROP" not in sql and ";" not in sql
    assert all("DROP" not in str(v) and ";" not in str(v) for v in params.values())


def test_prefix_assignment_and_default_set():
    assert cql.resolve_index("title").name == "title"
    assert cql.resolve_index("x.creator", {"x": cql.DC_SET}).name == "creator"
    assert cql.resolve_index("serverChoice").prefix == "cql"
    with pytest.raises(CqlError):
        cql.resolve_index("x.creator", {"x": "info:other"})
