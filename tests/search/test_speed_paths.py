"""Issue 21 items 6 and 7: the faster paths give the same answers as the plain ones.

The stem cache and the folding table against the per-word/per-character code, the facets counted
over the ranked candidate set, and the planner statistics (VACUUM (ANALYZE) on PostgreSQL) after a
reindex on both backends.
"""

from __future__ import annotations

import random

from sqlalchemy import insert, text

from library.search import engine as engine_mod
from library.search import index_records, normalize, reindex_all, search
from library.search.backends import backend_for
from library.search.facets import count_facets
from library.storage.models import Copy, Record


def test_stem_cache_gives_the_uncached_stems_and_stays_bounded(monkeypatch):
    rnd = random.Random(5)
    alphabet = "абвгдежзийклмнопрстуфхцчшщыьэюяabcdefghijklmnopqrstuvwxyz0123456789"
    ws = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 12))) for _ in range(3000)]
    ws += ["книгами", "книгах", "running", "runs", "2024", "x5", "тёмный"]
    monkeypatch.setattr(normalize, "_STEMS", {})
    monkeypatch.setattr(normalize, "STEM_CACHE_MAX", 500)
    expected = normalize._stem_uncached(ws)
    assert normalize.stems(ws[:400]) == expected[:400]  # cold
    assert normalize.stems(ws) == expected  # partly cached; the cache emptied when full
    assert normalize.stems(ws) == expected  # warm
    assert len(normalize._STEMS) <= 500
    assert normalize.stems(["книгами", "книгами"]) == [normalize.stem("книгами")] * 2
    assert normalize.stems([]) == []


def test_fold_table_is_the_per_character_fold():
    rnd = random.Random(9)
    chars = [chr(i) for i in range(0x20, 0x3000)] + list("ЁёÉéİẞΣς")
    for _ in range(20000):
        t = "".join(rnd.choice(chars) for _ in range(rnd.randint(1, 24)))
        assert normalize.fold(t) == "".join(normalize._fold_char(c) for c in t), t
    assert normalize.fold("Ёлка ÉTÉ İstanbul ΟΔΟΣ") == "елка ete istanbul οδοσ"


def _many(db, n: int = 450) -> None:
    rnd = random.Random(3)
    bbk = ["84(2Рос=Рус)6", "22.1", "63.3", "28", None]
    with db.transaction() as s:
        s.execute(insert(Record), [
            {"id": i, "key": f"f:{i}", "title": f"Книга про море {i}",
             "authors": [f"Автор {i % 7}, А.", f"Соавтор {i % 3}"], "subjects": [f"Тема {i % 5}"],
             "year": 1950 + i % 70, "bbk": bbk[i % 5], "language": "rus" if i % 4 else "eng",
             "item_type": "textbook" if i % 9 == 0 else "book", "age_rating": "12+" if i % 2 else None}
            for i in range(1, n + 1)])
        s.execute(insert(Copy), [{"record_id": i, "barcode": f"F{i}",
                                  "status": "available" if rnd.random() < 0.6 else "on_loan"}
                                 for i in range(1, n + 1)])
        index_records(s, range(1, n + 1))


def test_facets_count_the_ranked_candidates(db):
    _many(db)
    with db.transaction(write=False) as s:
        be = backend_for(s)
        for q in ("море", "книга море", "книг"):
            res = search(s, q, facets=True)
            assert res.total > engine_mod.CANDIDATES  # more matches than the ranked set
            plan, _ = engine_mod._plan(s, engine_mod.parse(q), None, True)
            ranked, _, _ = engine_mod._rank(s, be, plan, 20)
            ids = [r["docid"] for r in ranked]
            assert res.facets == count_facets(engine_mod._rows(s, ids).values())
            assert sum(v["count"] for v in res.facets["available"]) == len(ids) == 200
            # the best-ranked: the first page's hits are among the counted rows
            assert {h.id for h in res.hits} <= {r["record_id"] for r in ranked}
        small = search(s, "море year:1950-1952", facets=True)  # every match when they fit
        assert sum(v["count"] for v in small.facets["available"]) == small.total
        assert small.total == 20


def test_reindex_ends_with_planner_statistics(db):
    _many(db, 30)
    from library.storage.maintenance import after_bulk_write

    with db.transaction() as s:
        reindex_all(s)
    done = after_bulk_write(db, ["records", "copies"])
    assert done.tables == ["records", "copies", "search_docs", "search_codes", "search_vocab",
                           "search_vocab_keys"]
    with db.engine.connect() as c:
        if db.is_sqlite:
            assert done.action == "ANALYZE"
            analysed = set(c.execute(text("SELECT tbl FROM sqlite_stat1")).scalars())
            assert {"records", "copies", "search_docs", "search_codes"} <= analysed
        else:
            assert done.action == "VACUUM (ANALYZE)"
            c.execute(text("SELECT pg_stat_clear_snapshot()"))
            rows = dict(c.execute(text(
                "SELECT relname, last_vacuum IS NOT NULL AND last_analyze IS NOT NULL "
                "FROM pg_stat_user_tables")).all())
            assert all(rows[t] for t in done.tables), rows
