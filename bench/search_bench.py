"""Search benchmark: synthetic catalogues, 500 mixed queries, p50/p95 on SQLite and PostgreSQL.

    .venv/bin/python bench/search_bench.py --records 20000                       # SQLite
    .venv/bin/python bench/search_bench.py --records 20000 --pg postgresql+psycopg://postgres@127.0.0.1:55432/postgres
    .venv/bin/python bench/search_bench.py --records 1000000 --reuse             # keep the file

Records are generated from word lists with Zipf frequencies (Russian words inflected, English
words, a long tail of made-up words so the vocabulary grows with the catalogue), inserted with
Core bulk inserts and indexed with `reindex_all` (bulk FTS5 rebuild / GIN built once). Queries:
words, prefixes, author + title, typos, wrong layout, ISBNs. Floors: the raw FTS5 MATCH (and the
raw tsquery on PostgreSQL) of the same stemmed AND query, unranked (LIMIT 20 in docid order) and
ranked by the engine's own function (bm25 / ts_rank).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from library.search import reindex_all, search  # noqa: E402
from library.search.corrector import build_groups  # noqa: E402
from library.search.keyboard import to_latin_layout  # noqa: E402
from library.search.plan import Plan  # noqa: E402
from library.search.query import parse  # noqa: E402
from library.storage.database import open_database  # noqa: E402
from library.storage.models import Copy, Record  # noqa: E402

RU_NOUNS = """война мир книга история сказка море остров капитан город дорога звезда земля лес река
ночь день время жизнь человек друг враг герой принц королева дом сад школа учитель урок задача
математика физика химия биология география музыка картина поэт роман повесть рассказ стихотворение
путешествие приключение тайна загадка ключ замок корабль парус ветер буря солнце луна небо птица
зверь волк лиса медведь заяц кот собака конь рыба дерево цветок поле гора степь пустыня океан берег
победа битва армия солдат офицер генерал император царь народ страна республика революция
наука открытие изобретение машина робот компьютер программа язык слово словарь грамматика
литература искусство театр кино музей библиотека архив документ письмо дневник память судьба
любовь дружба семья мать отец брат сестра сын дочь детство юность старость смерть душа сердце
огонь вода воздух камень золото серебро железо хлеб соль вино праздник зима весна лето осень
север юг запад восток столица деревня улица площадь мост башня крепость церковь храм""".split()
RU_ADJ = """новый старый большой малый белый чёрный красный зелёный синий золотой серебряный
тёмный светлый тихий громкий далёкий близкий русский английский детский школьный морской лесной
последний первый весёлый грустный добрый злой храбрый мудрый волшебный таинственный чудесный
великий древний современный полный краткий живой мёртвый дикий ночной""".split()
EN_WORDS = """war peace book story island captain city road star earth forest river night day time
life man friend enemy hero prince queen house garden school teacher lesson problem mathematics
physics chemistry biology geography music picture poet novel tale poem journey adventure mystery
secret key castle ship sail wind storm sun moon sky bird beast wolf fox bear rabbit cat dog horse
fish tree flower field mountain desert ocean shore victory battle army soldier king people country
science discovery machine robot computer language word dictionary grammar art theatre museum
library letter diary memory fate love family mother father brother sister son daughter childhood
fire water stone gold silver bread winter spring summer autumn north south west east bridge tower
the of and in a to with for on at from""".split()
SURNAMES = """Иванов Петров Сидоров Смирнов Кузнецов Попов Васильев Соколов Михайлов Новиков Фёдоров
Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев
Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев
Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин
Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов Беляев
Герасимов Богданов Осипов Сидоренко Матвеев Титов Марков Миронов Крылов Куликов Карпов Власов
Мельников Денисов Гаврилов Тихонов Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов
Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев Чернышёв Быков Маслов Родионов
Коновалов Лазарев Воронин Климов Филатов Пономарёв Голубев Кудрявцев Прохоров Наумов Потапов""".split()
EN_SURNAMES = """Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore
Martin Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott""".split()
NAMES = "Александр Сергей Иван Николай Михаил Анна Мария Елена Ольга Татьяна Дмитрий Андрей".split()
SUBJECTS = ["Русская литература", "Зарубежная литература", "История России", "Математика",
            "Физика", "Химия", "Биология", "География", "Искусство", "Музыка", "Приключения",
            "Фантастика", "Сказки", "Поэзия", "Научно-популярная литература", "Учебники",
            "Справочники", "Словари", "Энциклопедии", "Школьная программа", "Спорт", "Техника"]
SYL_RU = [c + v for c in "бвгдзклмнпрстфхцчшщ" for v in "аеиоуыя"]
SYL_EN = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]


def inflect(word: str, rnd: random.Random) -> str:
    """A random case form of a Russian noun or adjective (crude but realistic endings)."""
    if word[-2:] in ("ый", "ий", "ой"):
        return word[:-2] + rnd.choice(["ый", "ая", "ое", "ые", "ого", "ой", "ых", "ую", "ым"])
    if word[-1] == "а":
        return word[:-1] + rnd.choice(["а", "ы", "е", "у", "ой", "ам", "ами", "ах"])
    if word[-1] == "я":
        return word[:-1] + rnd.choice(["я", "и", "е", "ю", "ей", "ям", "ями"])
    if word[-1] in "оеь":
        return word
    return word + rnd.choice(["", "", "а", "у", "ом", "е", "ы", "ов", "ами", "ах"])


class Zipf:
    """Draws words with probability ∝ 1/rank^s."""

    def __init__(self, words: list[str], s: float = 1.05):
        self.words = words
        self.cum = list(itertools.accumulate(1 / (i + 1) ** s for i in range(len(words))))

    def draw(self, rnd: random.Random) -> str:
        """One word."""
        return self.words[bisect.bisect(self.cum, rnd.random() * self.cum[-1])]


def make_vocab(rnd: random.Random, n_tail: int) -> tuple[Zipf, Zipf]:
    """Russian and English word distributions with a made-up long tail."""
    def tail(syl, n):
        return list({"".join(rnd.choice(syl) for _ in range(rnd.randint(2, 4))) for _ in range(n)})
    ru = RU_NOUNS + RU_ADJ
    rnd.shuffle(ru)
    en = EN_WORDS[:]
    rnd.shuffle(en)
    return Zipf(ru + tail(SYL_RU, n_tail)), Zipf(en + tail(SYL_EN, n_tail // 4))


def isbn10(n: int) -> str:
    """A valid ISBN-10 from a number."""
    body = f"5{n:08d}"[-9:]
    c = sum((10 - i) * int(d) for i, d in enumerate(body)) % 11
    c = (11 - c) % 11
    return body + ("X" if c == 10 else str(c))


def synthetic_record(rnd: random.Random, ru, en) -> dict:
    """One synthetic record's fields (title, authors, year, subjects, annotation, language, bbk,
    item_type, popularity, publisher) drawn from the Zipf vocabularies `ru`/`en`; 15 % English.
    The city benchmark (bench/city_bench.py) draws its records with it too."""
    eng = rnd.random() < 0.15
    z = en if eng else ru
    words = [z.draw(rnd) for _ in range(rnd.randint(1, 5))]
    title = " ".join(words if eng else [inflect(w, rnd) for w in words]).capitalize()
    author = (f"{rnd.choice(EN_SURNAMES)}, {rnd.choice('ABCDEJMPRT')}." if eng else
              f"{rnd.choice(SURNAMES)}, {rnd.choice(NAMES)}")
    ann = " ".join(z.draw(rnd) if eng else inflect(z.draw(rnd), rnd) for _ in range(rnd.randint(6, 18)))
    subj = rnd.sample(SUBJECTS, rnd.randint(1, 2))
    return dict(title=title, authors=[author], year=rnd.randint(1950, 2024), subjects=subj,
                annotation=ann, language="eng" if eng else "rus",
                bbk=rnd.choice(["84(2Рос=Рус)6", "84(4Вел)", "22.1", "63.3", "28", "74"]),
                item_type=rnd.choice(["book"] * 8 + ["textbook", "reference"]),
                popularity=int(rnd.paretovariate(1.5)) - 1, publisher="Издательство")


def generate(db, n: int, seed: int = 7, chunk: int = 5000) -> int:
    """Insert n synthetic records (+1–2 copies each) with Core bulk inserts; returns text bytes."""
    rnd = random.Random(seed)
    ru, en = make_vocab(rnd, max(2000, n // 10))
    rec_t, copy_t = Record.__table__, Copy.__table__
    raw = 0
    copy_id = 0
    for start in range(0, n, chunk):
        recs, copies = [], []
        for i in range(start, min(n, start + chunk)):
            fields = synthetic_record(rnd, ru, en)
            recs.append(dict(id=i + 1, key=f"bench:{i}", source_format="bench", isbn=isbn10(i),
                             isbns=[], **fields))
            raw += len(" ".join([fields["title"], *fields["authors"], fields["annotation"],
                                 *fields["subjects"]]).encode())
            for _ in range(rnd.randint(1, 2)):
                copy_id += 1
                copies.append(dict(id=copy_id, record_id=i + 1, sigla="B", barcode=f"{copy_id:012d}",
                                   inventory_number=str(copy_id),
                                   status="available" if rnd.random() < 0.7 else "on_loan"))
        with db.transaction() as s:
            s.execute(insert(rec_t), recs)
            s.execute(insert(copy_t), copies)
    return raw


def make_queries(db, k: int, seed: int = 11) -> list[str]:
    """Mixed queries from real records: words, prefixes, author+title, typos, layout, ISBN."""
    rnd = random.Random(seed)
    with db.transaction(write=False) as s:
        top = s.execute(text("SELECT max(id) FROM records")).scalar()
        ids = [rnd.randint(1, top) for _ in range(k)]
        rows = {r[0]: r for r in s.execute(
            text("SELECT id, title, authors, isbn FROM records WHERE id IN (%s)" % ",".join(map(str, ids))))}
    out = []
    for n, rid in enumerate(ids):
        _, title, authors, isbn = rows[rid]
        ws = [w for w in title.lower().split() if len(w) > 2] or title.lower().split()
        authors = json.loads(authors) if isinstance(authors, str) else authors
        kind = n % 10
        w = rnd.choice(ws)
        if kind in (0, 1, 2):
            q = " ".join(ws[:3]) + " "
        elif kind == 3:
            q = w + " "
        elif kind in (4, 5):
            q = " ".join(ws[:2])[: max(2, len(" ".join(ws[:2])) - rnd.randint(1, 3))]
        elif kind == 6:
            q = authors[0].split(",")[0].lower() + " " + w + " "
        elif kind == 7:
            i = rnd.randrange(1, max(2, len(w) - 1))
            q = (w[:i] + w[i + 1:] if rnd.random() < 0.5 else w[:i] + "о" + w[i + 1:]) + " "
        elif kind == 8:
            q = to_latin_layout(" ".join(ws[:2])) + " "
        else:
            q = isbn if rnd.random() < 0.3 else w[:rnd.randint(2, 3)]
        out.append(q)
    return out


def pct(xs: list[float], p: float) -> float:
    """The p-th percentile in ms."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000


def timed(fn, queries):
    """Per-query wall times."""
    out = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        out.append(time.perf_counter() - t)
    return out


def run_queries(db, queries: list[str]) -> dict:
    """Pipeline and floor timings on one database."""
    be_sqlite = db.is_sqlite
    with db.transaction(write=False) as s:
        for q in queries[:50]:  # warm the page cache
            search(s, q)
        pipe = timed(lambda q: search(s, q, limit=20), queries)
        pipe_f = timed(lambda q: search(s, q, limit=20, facets=True), queries[:200])
        exprs = []
        for q in queries:
            pq = parse(q)
            groups = build_groups(s, pq.terms)[0] if pq.terms else []
            plan = Plan(groups)
            if plan.has_text:
                from library.search.backends import backend_for
                exprs.append(backend_for(s).match_expression(plan, 2))
        if be_sqlite:
            raw = "SELECT rowid FROM search_fts WHERE search_fts MATCH :m LIMIT 20"
            ranked = "SELECT rowid FROM search_fts WHERE search_fts MATCH :m ORDER BY rank LIMIT 20"
        else:
            raw = "SELECT docid FROM search_docs WHERE tsv @@ CAST(:m AS tsquery) LIMIT 20"
            ranked = ("SELECT docid FROM search_docs WHERE tsv @@ CAST(:m AS tsquery) "
                      "ORDER BY ts_rank(tsv, CAST(:m AS tsquery)) DESC LIMIT 20")
        floor = timed(lambda m: s.execute(text(raw), {"m": m}).all(), exprs)
        floor_ranked = timed(lambda m: s.execute(text(ranked), {"m": m}).all(), exprs[:200])
    return {"pipeline": pipe, "pipeline_facets": pipe_f, "floor": floor, "floor_ranked": floor_ranked}


def sizes(db) -> int:
    """Bytes used by the search tables."""
    with db.engine.connect() as c:
        if db.is_sqlite:
            try:
                return c.execute(text("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search%' "
                                      "OR name LIKE 'sqlite_autoindex_search%'")).scalar() or 0
            except Exception:  # noqa: BLE001 - dbstat not compiled in
                return 0
        return c.execute(text(
            "SELECT sum(pg_total_relation_size(oid)) FROM pg_class WHERE relname LIKE 'search%' "
            "AND relkind = 'r'")).scalar() or 0


def main() -> int:
    """Generate (unless reused), index, run the queries, print a Markdown row and JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--pg", metavar="ADMIN_URL", help="run on PostgreSQL (creates ibc_bench_N)")
    ap.add_argument("--dir", default="/tmp/ibc-bench", help="where SQLite files go")
    ap.add_argument("--reuse", action="store_true", help="reuse an existing generated database")
    a = ap.parse_args()
    if a.pg:
        from sqlalchemy.engine import make_url
        name = f"ibc_bench_{a.records}"
        admin = create_engine(a.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            exists = c.execute(text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name}).first()
            if not (a.reuse and exists):
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                c.execute(text(f'CREATE DATABASE "{name}"'))
                exists = None
        url = make_url(a.pg).set(database=name).render_as_string(hide_password=False)
    else:
        os.makedirs(a.dir, exist_ok=True)
        path = Path(a.dir) / f"bench_{a.records}.sqlite3"
        exists = path.exists() and a.reuse
        if not exists and path.exists():
            path.unlink()
        url = f"sqlite:///{path}"
    db = open_database(url)
    info = {"backend": db.backend, "records": a.records}
    if not exists:
        t = time.perf_counter()
        info["raw_text_bytes"] = generate(db, a.records)
        info["generate_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        with db.transaction() as s:
            reindex_all(s)
        info["index_s"] = round(time.perf_counter() - t, 1)
        # what an import and `ibc reindex` end with: VACUUM (ANALYZE) / ANALYZE
        from library.storage.maintenance import after_bulk_write

        info["maintenance_s"] = round(after_bulk_write(db, ["records", "copies"]).seconds, 1)
    info["index_bytes"] = int(sizes(db))
    queries = make_queries(db, a.queries)
    r = run_queries(db, queries)
    for k, xs in r.items():
        info[k] = {"p50_ms": round(pct(xs, 50), 2), "p95_ms": round(pct(xs, 95), 2), "n": len(xs)}
    info["pipeline_over_floor_p50"] = round(info["pipeline"]["p50_ms"] / info["floor"]["p50_ms"], 2)
    print(json.dumps(info, ensure_ascii=False))
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
