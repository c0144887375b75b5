"""City benchmark (issue 21): one `ibc serve --workers 2` on PostgreSQL for a whole city.

    .venv/bin/python bench/city_bench.py generate --pg ADMIN_URL          # ibc_city: ~15-25 min
    .venv/bin/python bench/city_bench.py run --pg ADMIN_URL [--seconds 60] [--terminals 50]
    .venv/bin/python bench/city_bench.py search --pg ADMIN_URL

`generate` builds database `ibc_city`: 100 schools, 1,000,000 records (the search benchmark's
Zipf catalogue, bench/search_bench.py), 3,000,000 copies (1-5 per record, mean 3, spread over
the schools with Zipf-like school sizes; each school numbers its barcodes B0000001…),
100,000 readers (1,000 per school), written with COPY, then indexed with the project's own
`reindex_all` and vacuumed/analysed as an import would leave it.

`run` starts `ibc serve --workers 2` on `ibc_city` and N simulated terminals (N processes, the
server benchmark's mix: 90 % searches, 10 % session + checkout + return, no think time; each
terminal enrolled for its own school, lending that school's copies to that school's reader),
then the same against `ibc_city_one` (one school, 20,000 records: bench/server_bench.py's
catalogue) in the same run, and prints both.

`search` times bench/search_bench.py's 500 mixed queries (200 with facets) on `ibc_city`
through `search()` in one process: right after `generate` (the first minutes) and again later.

The import ratio at 100,000 records (pymarc's parse against `ibc import` with the search
index, SQLite and PostgreSQL) is bench/import_bench.py --records 100000 --pg ADMIN_URL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SCHOOLS = 100
CITY_DB = "ibc_city"
ONE_DB = "ibc_city_one"


def log(msg: str) -> None:
    """A timestamped progress line on stderr."""
    print(f"{time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def sigla_of(k: int) -> str:
    """School k's sigla (0-based)."""
    return f"S{k + 1:03d}"


def db_url(admin: str, name: str, fresh: bool) -> str:
    """The URL of database `name` on the admin URL's server (dropped and created when fresh)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        if fresh:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def _copy_rows(raw, table: str, cols: list[str], rows) -> None:
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
        for r in rows:
            cp.write_row(r)


def generate(admin: str, records: int, copies_mean: float, readers: int, seed: int = 7) -> dict:
    """Build the city database; returns timings."""
    from search_bench import isbn10, make_vocab, synthetic_record
    from sqlalchemy import text

    from library.search import reindex_all
    from library.storage.database import open_database

    url = db_url(admin, CITY_DB, fresh=True)
    db = open_database(url)
    t0 = time.perf_counter()
    rnd = random.Random(seed)
    ru, en = make_vocab(rnd, max(2000, records // 10))
    now = dt.datetime.now(dt.timezone.utc)
    # Zipf-like school sizes: the biggest school holds ~5x the copies of the smallest.
    weights = [1 / (1 + k / 25) for k in range(SCHOOLS)]
    cum = [sum(weights[: k + 1]) for k in range(SCHOOLS)]
    next_bc = [0] * SCHOOLS
    raw = db.engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        assert dbapi is not None
        with dbapi.transaction():
            _copy_rows(dbapi, "schools", ["sigla", "name", "address", "created"],
                       ((sigla_of(k), f"Школа № {k + 1}", f"ул. Школьная, {k + 1}", now)
                        for k in range(SCHOOLS)))
        rec_cols = ["id", "key", "source_format", "title", "authors", "year", "isbn", "isbns",
                    "subjects", "annotation", "language", "bbk", "item_type", "popularity",
                    "publisher", "version", "deleted", "created_at", "updated_at"]
        copy_cols = ["id", "record_id", "sigla", "barcode", "inventory_number", "status", "version",
                     "updated_at"]
        copy_id = 0
        chunk = 50_000
        for start in range(0, records, chunk):
            recs, cps = [], []
            for i in range(start, min(records, start + chunk)):
                f = synthetic_record(rnd, ru, en)
                recs.append((i + 1, f"city:{i}", "bench", f["title"],
                             json.dumps(f["authors"], ensure_ascii=False), f["year"], isbn10(i), "[]",
                             json.dumps(f["subjects"], ensure_ascii=False), f["annotation"],
                             f["language"], f["bbk"], f["item_type"], f["popularity"], f["publisher"],
                             1, False, now, now))
                n = rnd.randint(1, int(2 * copies_mean - 1))
                held: set[int] = set()
                while len(held) < n:
                    x = rnd.random() * cum[-1]
                    held.add(next(k for k, c in enumerate(cum) if c >= x))
                for k in held:
                    copy_id += 1
                    next_bc[k] += 1
                    cps.append((copy_id, i + 1, sigla_of(k), f"B{k + 1:03d}{next_bc[k]:06d}",
                                f"{sigla_of(k)}-{next_bc[k]}", "available", 1, now))
            with dbapi.transaction():
                _copy_rows(dbapi, "records", rec_cols, recs)
                _copy_rows(dbapi, "copies", copy_cols, cps)
            log(f"generated {min(records, start + chunk)} records, {copy_id} copies")
        rd_cols = ["card_number", "last_name", "first_name", "category", "blocked", "sigla", "active",
                   "created_at", "updated_at"]
        per = readers // SCHOOLS
        with dbapi.transaction():
            _copy_rows(dbapi, "readers", rd_cols, (
                (f"{sigla_of(k)}R{j:05d}", f"Ученик {j}", "Имя", "teacher" if j < 60 else "pupil",
                 False, sigla_of(k), True, now, now) for k in range(SCHOOLS) for j in range(per)))
    finally:
        raw.close()
    with db.transaction() as s:
        s.execute(text("UPDATE counters SET value = 2 WHERE name = 'catalogue'"))
    gen_s = time.perf_counter() - t0
    log(f"generated in {gen_s:.0f} s; indexing")
    t1 = time.perf_counter()
    with db.transaction() as s:
        reindex_all(s, progress=lambda d, n: d % 100_000 == 0 and log(f"indexed {d}/{n}"))
    index_s = time.perf_counter() - t1
    log(f"indexed in {index_s:.0f} s; vacuum analyse")
    t2 = time.perf_counter()
    vacuum_analyse(db)
    vac_s = time.perf_counter() - t2
    db.dispose()
    out = {"records": records, "copies": copy_id, "readers": per * SCHOOLS, "schools": SCHOOLS,
           "generate_s": round(gen_s), "index_s": round(index_s), "vacuum_s": round(vac_s),
           "largest_school_copies": max(next_bc), "smallest_school_copies": min(next_bc)}
    log(json.dumps(out))
    return out


def vacuum_analyse(db) -> None:
    """The same VACUUM (ANALYZE) an import ends with."""
    from library.storage.maintenance import after_bulk_write

    after_bulk_write(db, ["records", "copies", "readers"])


def build_one(admin: str, records: int = 20_000, readers: int = 51) -> str:
    """The one-school comparison database (bench/server_bench.py's catalogue)."""
    from server_bench import build_catalogue

    from library.storage.database import open_database

    url = db_url(admin, ONE_DB, fresh=True)
    db = open_database(url)
    build_catalogue(db, records, readers)
    vacuum_analyse(db)
    db.dispose()
    return url


def terminal_worker(url: str, token: str, card: str, prefix: str, first_barcode: int,
                    seconds: float, seed: int, run: str, out, think: float = 0.0) -> None:
    """bench/server_bench.py's terminal (90 % searches, 10 % session + checkout + return)
    with transaction ids unique to this run, so a database is reusable; a refused checkout (a
    copy left on loan by an interrupted run) is counted, not fatal. `think`: the mean pause
    (exponential) before each action, a pupil reading the screen; 0 fires back to back."""
    import httpx
    from server_bench import WORDS

    rnd = random.Random(seed)
    lat: dict[str, list[float]] = {"search": [], "checkout": [], "return": [], "session": []}
    errors = 0
    barcode = first_barcode
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if think:
                time.sleep(min(rnd.expovariate(1 / think), max(0.0, end - time.monotonic())))
                if time.monotonic() >= end:
                    break
            if rnd.random() < 0.9:
                q = " ".join(rnd.sample(WORDS, rnd.choice((1, 1, 2))))
                t0 = time.perf_counter()
                r = c.get("/api/v1/search", params={"q": q, "limit": 20})
                lat["search"].append(time.perf_counter() - t0)
                r.raise_for_status()
                continue
            t0 = time.perf_counter()
            r = c.post("/api/v1/session", json={"card": card})
            lat["session"].append(time.perf_counter() - t0)
            r.raise_for_status()
            sess = {"X-Reader-Session": r.json()["session"]}
            code, txn = prefix.format(barcode), f"{run}-{card}-{barcode}"
            barcode += 1
            t0 = time.perf_counter()
            r = c.post("/api/v1/checkout", headers=sess, json={"barcode": code, "txn_id": txn})
            lat["checkout"].append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors += 1
                continue
            t0 = time.perf_counter()  # give it back: readers stay under the loan limit
            r = c.post("/api/v1/return", json={"barcode": code, "txn_id": txn + "-r"})
            lat["return"].append(time.perf_counter() - t0)
            r.raise_for_status()
    out.put({**lat, "errors": errors})


def load_run(url: str, terminals: int, seconds: float, workers: int, city: bool,
             think: float = 0.0) -> dict:
    """`ibc serve --workers N` on `url` and `terminals` load processes; latency summary."""
    from server_bench import enrol_terminals, start_server, summary

    from library.storage.database import open_database
    from server.security import create_enrol_code

    tmp = Path(tempfile.mkdtemp(prefix="ibc-city-bench-"))
    db = open_database(url)
    cfg = tmp / "server.toml"
    cfg.write_text(f'data_dir = "{tmp / "data"}"\n[database]\nurl = "{url}"\n[server]\n'
                   f'host = "127.0.0.1"\nadvertise = false\ntls = "off"\nworkers = {workers}\n'
                   'pin_failures_per_minute = 1000\n', encoding="utf-8")
    proc, base = start_server(cfg)
    try:
        if city:
            from kiosk.terminal import ApiClient

            tokens = []
            for i in range(terminals):
                with ApiClient(base) as c:
                    tokens.append(c.enrol(create_enrol_code(db, 10, sigla=sigla_of(i % SCHOOLS)),
                                          f"city-{i}-{int(time.time())}"))
            cards = [f"{sigla_of(i % SCHOOLS)}R{i // SCHOOLS:05d}" for i in range(terminals)]
            # terminals sharing a school take disjoint barcode ranges
            firsts = [1 + (i // SCHOOLS) * 5000 for i in range(terminals)]
            prefixes = [f"B{i % SCHOOLS + 1:03d}{{:06d}}" for i in range(terminals)]
        else:
            tokens = enrol_terminals(db, base, terminals)
            per = 20_000 // (terminals + 1)
            cards = [f"R{i:04d}" for i in range(terminals)]
            firsts = [1 + i * per for i in range(terminals)]
            prefixes = ["B{:07d}"] * terminals
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        run = f"r{int(time.time())}"
        procs = [ctx.Process(target=terminal_worker, args=(base, tokens[i], cards[i], prefixes[i],
                                                             firsts[i], seconds, i, run, out,
                                                             think))
                 for i in range(terminals)]
        load0 = os.getloadavg()[0]
        for p in procs:
            p.start()
        lat: dict[str, list[float]] = {"search": [], "checkout": [], "return": [], "session": []}
        errors = 0
        for _ in procs:
            got = out.get(timeout=seconds + 60)
            errors += got.pop("errors")
            for k, v in got.items():
                lat[k].extend(v)
        for p in procs:
            p.join()
        load1 = os.getloadavg()[0]
    finally:
        proc.terminate()
        proc.wait(30)
        db.dispose()
    res: dict = {"terminals": terminals, "workers": workers, "seconds": seconds, "think_s": think,
                 "requests_per_s": round(sum(len(v) for v in lat.values()) / seconds, 1),
                 "load_before": round(load0, 2), "load_after": round(load1, 2),
                 "refused_checkouts": errors}
    for k, v in lat.items():
        res[k] = summary(v)
    return res


def search_run(admin: str, queries: int, facet_queries: int) -> dict:
    """search_bench's 500 mixed queries on the city catalogue through `search()` (one warm
    connection): p50/p95 plain and with facets, as search_bench reports them."""
    from search_bench import make_queries, pct, timed

    from library.search import search
    from library.storage.database import open_database

    db = open_database(db_url(admin, CITY_DB, fresh=False))
    qs = make_queries(db, queries)
    with db.transaction(write=False) as s:
        for q in qs[:50]:
            search(s, q)
        plain = timed(lambda q: search(s, q, limit=20), qs)
        fac = timed(lambda q: search(s, q, limit=20, facets=True), qs[:facet_queries])
    db.dispose()
    return {"queries": len(qs), "p50_ms": round(pct(plain, 50), 1), "p95_ms": round(pct(plain, 95), 1),
            "facets_p50_ms": round(pct(fac, 50), 1), "facets_p95_ms": round(pct(fac, 95), 1),
            "load": round(os.getloadavg()[0], 2), "at": time.strftime("%H:%M:%S")}


def main() -> int:
    """Dispatch the subcommands."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("what", choices=["generate", "run", "search"])
    ap.add_argument("--pg", required=True, metavar="ADMIN_URL")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--copies-mean", type=float, default=3.0)
    ap.add_argument("--readers", type=int, default=100_000)
    ap.add_argument("--terminals", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-one", action="store_true", help="run: only the city")
    ap.add_argument("--think", type=float, default=0.0,
                    help="run: mean pause (s, exponential) before each terminal action; 0: none")
    a = ap.parse_args()
    if a.what == "generate":
        print(json.dumps(generate(a.pg, a.records, a.copies_mean, a.readers)))
        return 0
    if a.what == "search":
        print(json.dumps(search_run(a.pg, 500, 200)))
        return 0
    if a.what == "run":
        results = {}
        url = db_url(a.pg, CITY_DB, fresh=False)
        results["city"] = load_run(url, a.terminals, a.seconds, a.workers, city=True,
                                   think=a.think)
        log(json.dumps(results["city"]))
        if not a.skip_one:
            one = build_one(a.pg)
            results["one_school"] = load_run(one, a.terminals, a.seconds, a.workers, city=False,
                                             think=a.think)
            log(json.dumps(results["one_school"]))
        print(json.dumps(results, indent=1))
        print("\n| database | terminals | workers | think | req/s | search p50 / p95 | checkout p50 / p95 "
              "| return p95 | session p95 | load before / after |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name, r in results.items():
            print(f"| {name} | {r['terminals']} | {r['workers']} | {r['think_s']} s "
                  f"| {r['requests_per_s']} "
                  f"| {r['search']['p50_ms']} / {r['search']['p95_ms']} ms "
                  f"| {r['checkout']['p50_ms']} / {r['checkout']['p95_ms']} ms "
                  f"| {r['return']['p95_ms']} ms | {r['session']['p95_ms']} ms "
                  f"| {r['load_before']} / {r['load_after']} |")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
