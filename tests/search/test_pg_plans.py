"""PostgreSQL plan choice: a docid-ordered scan or a GIN bitmap (tsv, or tsv_p for tier 1) must
give the same documents; the choice follows the vocabulary's document frequencies."""

from __future__ import annotations

import random

import pytest

from library.search.plan import Group, Plan

WORDS = "война мир море остров капитан город дорога звезда лес река ночь день".split()


def _plan(*dfs, prefix=None, columns=None, docs=1_000_000):
    groups = [Group([f"t{i}"], df=df, columns=columns) for i, df in enumerate(dfs)]
    if prefix:
        groups.append(Group([], prefix=prefix, df=0))
    return Plan(groups, docs=docs)


def test_strategy_follows_frequencies():
    from library.search.backends import postgres as pg

    assert pg.strategy(_plan(600_000), 1, 200) == "scan"  # dense: the first 200 come quickly
    assert pg.strategy(_plan(120), 1, 200) == "bitmap"  # rare: read the posting list
    assert pg.strategy(_plan(200_000, 250_000, 120_000), 2, 200) == "scan"
    assert pg.strategy(_plan(8_000, 9_000), 1, 200) == "bitmap"
    assert pg.strategy(_plan(600_000, prefix="ab"), 1, 200) == "planner"
    p = _plan(600_000)
    p.filters = {"year_from": 2000}
    assert pg.strategy(p, 1, 200) == "planner"
    assert pg.primary_only(_plan(10), 1) and not pg.primary_only(_plan(10), 2)
    assert not pg.primary_only(_plan(10, columns=("author_t",)), 1)
    assert pg.match_expression(_plan(10, 20), 1, primary=True) == "('t0') & ('t1')"
    assert pg.match_expression(_plan(10, 20), 1) == "('t0':ABC) & ('t1':ABC)"


@pytest.mark.postgres
def test_every_strategy_finds_the_same_documents(pg_url, monkeypatch):
    from library.search import index_records, search
    from library.search.backends import postgres as pg
    from library.search.engine import _plan as make_plan
    from library.search.query import parse
    from library.storage.database import open_database
    from library.storage.models import Record

    db = open_database(pg_url)
    rnd = random.Random(5)
    with db.transaction() as s:
        recs = [Record(key=f"r{i}", title=" ".join(rnd.sample(WORDS, 3)),
                       authors=[rnd.choice(["Морев, А.", "Лесков, Н.", "Днев, И."])],
                       annotation=" ".join(rnd.sample(WORDS, 5)), subjects=[rnd.choice(WORDS)])
                for i in range(400)]
        s.add_all(recs)
        s.flush()
        index_records(s, [r.id for r in recs])
    queries = ["война ", "мир море ", "остров капитан город ", "лес", "ночь дорога ", "\"звезда лес\"",
               "author:морев море ", "title:река "]
    try:
        with db.transaction(write=False) as s:
            for q in queries:
                plan, _ = make_plan(s, parse(q), None, True)
                got = {}
                for how in ("scan", "bitmap", "planner"):
                    monkeypatch.setattr(pg, "strategy", lambda *a, _h=how, **k: _h)
                    got[how] = [(pg.match(s, plan, t, 50), pg.count(s, plan, t, 1000))
                                for t in (1, 2)]
                    hits = [h.id for h in search(s, q, limit=30).hits]
                    got[how].append(hits)
                assert got["scan"] == got["bitmap"] == got["planner"], q
                assert got["scan"][1][1] > 0, q
    finally:
        db.dispose()
