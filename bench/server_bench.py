"""School server benchmark: N simulated terminals (load-generator processes with httpx on
loopback) searching and checking out on a 20,000-record catalogue served by a real `ibc serve`;
then a terminal replica's full sync and an incremental sync after 100 changes.

    .venv/bin/python bench/server_bench.py [--records 20000] [--terminals 5] [--seconds 20]

Prints a JSON summary and the Markdown table for docs/BENCHMARKS.md (## Server).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("война мир история россия сказки математика физика химия биология география литература "
         "приключения природа космос музыка искусство язык словарь учебник задачи герои пушкин "
         "лермонтов толстой чехов гоголь школа дети море лес город время жизнь путешествие").split()
SURNAMES = "Иванов Петров Сидоров Смирнов Кузнецов Попов Соколов Лебедев Козлов Новиков".split()


def build_catalogue(db, n: int, readers: int) -> None:
    """n records with one copy each, `readers` pupils, versions stamped, search index rebuilt."""
    from sqlalchemy import insert, update

    from library.search import reindex_all
    from library.storage.models import Copy, Counter, Reader, Record

    rnd = random.Random(7)
    with db.transaction() as s:
        recs, copies = [], []
        for i in range(1, n + 1):
            title = " ".join(rnd.sample(WORDS, 3)).capitalize()
            recs.append({"id": i, "key": f"b:{i}", "title": title, "version": 1 + i // 1000,
                         "authors": [f"{rnd.choice(SURNAMES)}, {rnd.choice('АБВГДЕ')}."],
                         "year": rnd.randint(1950, 2025), "subjects": rnd.sample(WORDS, 2)})
            copies.append({"id": i, "record_id": i, "sigla": "ИБЦ", "barcode": f"B{i:07d}",
                           "status": "available", "version": 1 + i // 1000})
        s.execute(insert(Record), recs)
        s.execute(insert(Copy), copies)
        s.execute(insert(Reader), [{"card_number": f"R{i:04d}", "first_name": "Ученик",
                                    "last_name": f"№{i}", "category": "teacher"} for i in range(readers)])
        s.execute(update(Counter).where(Counter.name == "catalogue").values(value=1 + n // 1000))
    with db.transaction() as s:
        reindex_all(s)


def start_server(config: Path) -> tuple[subprocess.Popen, str]:
    """`ibc serve --port 0`; returns the process and its URL."""
    proc = subprocess.Popen([sys.executable, "-m", "ibc", "--config", str(config), "serve",
                             "--port", "0", "--no-advertise"], stdout=subprocess.PIPE, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if select.select([proc.stdout], [], [], 0.5)[0]:
            line = proc.stdout.readline().decode()
            if "listening on" in line:
                return proc, line.split("listening on", 1)[1].strip()
    proc.kill()
    raise SystemExit("server did not start")


def serve(tmp: Path, url: str) -> tuple[subprocess.Popen, str]:
    """`ibc serve` on database `url` over plain HTTP (the development setting: the API's own
    throughput, comparable with earlier runs); returns the process and its URL."""
    cfg = tmp / "server.toml"
    cfg.write_text(f'data_dir = "{tmp / "data"}"\n[database]\nurl = "{url}"\n[server]\n'
                   'host = "127.0.0.1"\nadvertise = false\ntls = "off"\n'
                   'pin_failures_per_minute = 1000\n', encoding="utf-8")
    return start_server(cfg)


def enrol_terminals(db, base: str, n: int) -> list[str]:
    """n terminals enrolled with the server at `base`: their tokens."""
    from kiosk.terminal import ApiClient
    from server.security import create_enrol_code

    tokens = []
    for i in range(n):
        with ApiClient(base) as c:
            tokens.append(c.enrol(create_enrol_code(db, 10), f"bench-{i}"))
    return tokens


def summary(values: list[float]) -> dict:
    """n, p50, p95 and mean of latencies (s) in milliseconds."""
    return {"n": len(values), "p50_ms": round(pct(values, 50), 1), "p95_ms": round(pct(values, 95), 1),
            "mean_ms": round(1000 * statistics.fmean(values), 1) if values else 0}


def terminal_worker(url: str, token: str, card: str, first_barcode: int, seconds: float,
                    seed: int, out) -> None:
    """One terminal: mostly searches, now and then a reader session with a checkout."""
    import httpx

    rnd = random.Random(seed)
    auth = {"Authorization": f"Bearer {token}"}
    lat: dict[str, list[float]] = {"search": [], "checkout": [], "return": [], "session": []}
    barcode = first_barcode
    with httpx.Client(base_url=url, headers=auth, timeout=10) as c:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if rnd.random() < 0.9:
                q = " ".join(rnd.sample(WORDS, rnd.choice((1, 1, 2))))
                t0 = time.perf_counter()
                r = c.get("/api/v1/search", params={"q": q, "limit": 20})
                lat["search"].append(time.perf_counter() - t0)
            else:
                t0 = time.perf_counter()
                r = c.post("/api/v1/session", json={"card": card})
                lat["session"].append(time.perf_counter() - t0)
                sess = {"X-Reader-Session": r.json()["session"]}
                t0 = time.perf_counter()
                r = c.post("/api/v1/checkout", headers=sess,
                           json={"barcode": f"B{barcode:07d}", "txn_id": f"{card}-{barcode}"})
                lat["checkout"].append(time.perf_counter() - t0)
                r.raise_for_status()
                t0 = time.perf_counter()  # give it back: readers stay under the loan limit
                r = c.post("/api/v1/return", json={"barcode": f"B{barcode:07d}",
                                                   "txn_id": f"{card}-{barcode}-r"})
                lat["return"].append(time.perf_counter() - t0)
                barcode += 1
            r.raise_for_status()
    out.put(lat)


def pct(values: list[float], p: float) -> float:
    """Percentile in milliseconds."""
    if not values:
        return 0.0
    values = sorted(values)
    return 1000 * values[min(len(values) - 1, int(p / 100 * len(values)))]


def main() -> int:
    """Run the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--terminals", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()

    from kiosk.terminal import ApiClient
    from kiosk.terminal.replica import Replica
    from library.storage.database import open_database

    tmp = Path(tempfile.mkdtemp(prefix="ibc-server-bench-"))
    url = f"sqlite:///{tmp / 'server.sqlite3'}"
    db = open_database(url)
    t0 = time.perf_counter()
    build_catalogue(db, args.records, args.terminals + 1)
    build_s = time.perf_counter() - t0
    proc, base = serve(tmp, url)
    result: dict = {"records": args.records, "terminals": args.terminals, "seconds": args.seconds,
                    "catalogue_build_s": round(build_s, 1)}
    try:
        tokens = enrol_terminals(db, base, args.terminals + 1)
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        per = args.records // (args.terminals + 1)
        workers = [ctx.Process(target=terminal_worker, args=(
            base, tokens[i], f"R{i:04d}", 1 + i * per, args.seconds, i, out))
            for i in range(args.terminals)]
        for w in workers:
            w.start()
        lat: dict[str, list[float]] = {"search": [], "checkout": [], "return": [], "session": []}
        for _ in workers:
            for k, v in out.get(timeout=args.seconds + 120).items():
                lat[k].extend(v)
        for w in workers:
            w.join()
        total = sum(len(v) for v in lat.values())
        result["requests_per_s"] = round(total / args.seconds, 1)
        for k, v in lat.items():
            result[k] = summary(v)

        # Replica: full sync, then 100 changes (checkouts) and an incremental sync.
        local = open_database(f"sqlite:///{tmp / 'replica.sqlite3'}")
        with ApiClient(base, tokens[-1], timeout=60) as c:
            full = Replica(local, c).sync()
            c.open_session(f"R{args.terminals:04d}")
            start = 1 + args.terminals * per
            for i in range(50):  # 50 checkouts + 50 returns = 100 copy changes
                c.checkout(f"B{start + i:07d}", f"inc-{i}")
                c.checkin(f"B{start + i:07d}", f"inc-{i}-r")
            inc = Replica(local, c).sync()
        local.dispose()
        result["replica_full"] = {"records": full.records, "copies": full.copies,
                                  "pages": full.pages, "seconds": round(full.seconds, 2)}
        result["replica_incremental"] = {"copies": inc.copies, "records": inc.records,
                                         "seconds": round(inc.seconds, 3)}
    finally:
        proc.terminate()
        proc.wait(20)
        db.dispose()
    print(json.dumps(result, ensure_ascii=False, indent=1))
    s, co = result["search"], result["checkout"]
    print(f"\n| {args.terminals} terminals, {args.records} records | req/s {result['requests_per_s']} | "
          f"search p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms | checkout p95 {co['p95_ms']} ms | "
          f"full sync {result['replica_full']['seconds']} s | incremental {result['replica_incremental']['seconds']} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
