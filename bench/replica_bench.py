"""Read-only replica benchmark: search p95 of `ibc serve --read-only` on a PostgreSQL hot standby
next to the primary's own `ibc serve`, on a 20,000-record catalogue (issue 21, item 5).

Two clusters on loopback (.ci/pg-replica.sh: a primary and its `pg_basebackup -R` standby), the
server benchmark's catalogue built on the primary (bench/server_bench.py), both servers started
once the standby replayed it. Then N simulated terminals (load-generator processes) search for
`--seconds` on the primary and on the replica (alternating rounds after a warm-up, on a
catalogue VACUUM (ANALYZE)d on the primary), then on the replica again while other terminals
run the server benchmark's checkout mix on the primary; the replica's replay lag is sampled from
its /health meanwhile.

    .venv/bin/python bench/replica_bench.py [--records 20000] [--terminals 5] [--seconds 20]
        [--ports 5573,5574]

Prints a JSON summary and the Markdown rows for docs/BENCHMARKS.md (## Replica).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from server_bench import (  # noqa: E402  (the same catalogue, workers and summaries)
    WORDS,
    build_catalogue,
    enrol_terminals,
    start_server,
    summary,
    terminal_worker,
)


def search_worker(url: str, token: str, seconds: float, seed: int, out) -> None:
    """One terminal searching (the server benchmark's queries) for `seconds`."""
    import httpx

    rnd = random.Random(seed)
    lat: list[float] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as c:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            q = " ".join(rnd.sample(WORDS, rnd.choice((1, 1, 2))))
            t0 = time.perf_counter()
            r = c.get("/api/v1/search", params={"q": q, "limit": 20})
            lat.append(time.perf_counter() - t0)
            r.raise_for_status()
    out.put(lat)


def run_searches(base: str, tokens: list[str], seconds: float) -> list[float]:
    """len(tokens) searching terminals on `base`; every latency."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=search_worker, args=(base, t, seconds, i, out))
             for i, t in enumerate(tokens)]
    for p in procs:
        p.start()
    lat: list[float] = []
    for _ in procs:
        lat.extend(out.get(timeout=seconds + 120))
    for p in procs:
        p.join()
    return lat


def serve(tmp: Path, name: str, url: str, **server: object) -> tuple[subprocess.Popen, str]:
    """`ibc serve` over plain HTTP (as bench/server_bench.py) on database `url`."""
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in server.items())
    cfg = tmp / f"{name}.toml"
    cfg.write_text(f'data_dir = "{tmp / name}"\n[database]\nurl = "{url}"\n[server]\n'
                   'host = "127.0.0.1"\nadvertise = false\ntls = "off"\n'
                   'pin_failures_per_minute = 1000\n' + extra, encoding="utf-8")
    return start_server(cfg)


def wait_replayed(primary, standby, timeout: float = 120.0) -> float:
    """Wait until the standby replayed the primary's current WAL position; the seconds waited."""
    from library.storage.replication import caught_up, current_lsn

    lsn, t0 = current_lsn(primary), time.perf_counter()
    while not caught_up(standby, lsn):
        if time.perf_counter() - t0 > timeout:
            raise SystemExit(f"the standby did not replay {lsn} in {timeout} s")
        time.sleep(0.02)
    return time.perf_counter() - t0


def settle(db) -> None:
    """VACUUM (ANALYZE) the primary's database (what a settled catalogue has)."""
    from sqlalchemy import text

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))


def main() -> int:
    """Run the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--terminals", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--ports", default="5573,5574", help="primary,standby PostgreSQL ports")
    ap.add_argument("--rounds", type=int, default=4,
                    help="alternating primary/replica rounds sharing --seconds each")
    args = ap.parse_args()

    import httpx

    from library.storage.database import Database, open_database

    tmp = Path(tempfile.mkdtemp(prefix="ibc-replica-bench-"))
    tmp.chmod(0o755)  # the clusters run as the postgres user under root
    script = ROOT / ".ci" / "pg-replica.sh"
    pport, sport = args.ports.split(",")
    urls = subprocess.run([str(script), "start", str(tmp / "pg"), pport, sport], check=True,
                          stdout=subprocess.PIPE, text=True).stdout.split()
    procs: list[subprocess.Popen] = []
    result: dict = {"records": args.records, "terminals": args.terminals, "seconds": args.seconds}
    primary = open_database(urls[0])
    standby = Database(urls[1])
    try:
        t0 = time.perf_counter()
        build_catalogue(primary, args.records, args.terminals + 1)
        result["catalogue_build_s"] = round(time.perf_counter() - t0, 1)
        settle(primary)  # statistics and visibility maps, replayed to the standby as well
        result["replay_after_build_s"] = round(wait_replayed(primary, standby), 2)
        wproc, wbase = serve(tmp, "primary", urls[0])
        procs.append(wproc)
        tokens = enrol_terminals(primary, wbase, 2 * args.terminals)
        wait_replayed(primary, standby)
        rproc, rbase = serve(tmp, "replica", urls[1], read_only=True, primary_url=wbase)
        procs.append(rproc)
        searchers = tokens[:args.terminals]
        run_searches(wbase, searchers, 3)  # warm both (caches, connections), then alternate
        run_searches(rbase, searchers, 3)  # rounds so the machine's other load hits both alike
        on_primary: list[float] = []
        on_replica: list[float] = []
        for _round in range(args.rounds):
            on_primary += run_searches(wbase, searchers, args.seconds / args.rounds)
            on_replica += run_searches(rbase, searchers, args.seconds / args.rounds)
        result["primary_search"] = summary(on_primary)
        result["replica_search"] = summary(on_replica)

        # The replica searched while the primary lends and takes back (server_bench's mix).
        # Lag: how long until the standby replayed the primary's WAL position of a moment
        # (a change committed then is visible on the replica after this), and the replica's
        # own /health figure.
        lags: list[float] = []
        health_lags: list[float] = []
        stop = threading.Event()

        def sample_lag() -> None:
            from library.storage.replication import caught_up, current_lsn

            while not stop.is_set():
                lsn, t0 = current_lsn(primary), time.perf_counter()
                while not caught_up(standby, lsn) and not stop.is_set():
                    time.sleep(0.002)
                lags.append(time.perf_counter() - t0)
                lag = httpx.get(f"{rbase}/api/v1/health", timeout=10).json().get("replay_lag_s")
                if lag is not None:
                    health_lags.append(lag)
                stop.wait(0.25)

        sampler = threading.Thread(target=sample_lag, daemon=True)
        sampler.start()
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        per = args.records // (args.terminals + 1)
        writers = [ctx.Process(target=terminal_worker, args=(
            wbase, tokens[args.terminals + i], f"R{i:04d}", 1 + i * per, args.seconds, 100 + i, out))
            for i in range(args.terminals)]
        for w in writers:
            w.start()
        under_load = run_searches(rbase, searchers, args.seconds)
        lat: dict[str, list[float]] = {"search": [], "checkout": [], "return": [], "session": []}
        for _ in writers:
            for k, v in out.get(timeout=args.seconds + 120).items():
                lat[k].extend(v)
        for w in writers:
            w.join()
        stop.set()
        sampler.join(10)
        result["replica_search_while_primary_writes"] = summary(under_load)
        result["primary_checkout_meanwhile"] = summary(lat["checkout"])
        result["replay_lag_s"] = {"samples": len(lags),
                                  "max": round(max(lags), 3) if lags else None,
                                  "mean": round(sum(lags) / len(lags), 3) if lags else None,
                                  "health_max": round(max(health_lags), 3) if health_lags else None}
    finally:
        for p in procs:
            p.terminate()
            p.wait(20)
        primary.dispose()
        standby.dispose()
        subprocess.run([str(script), "stop", str(tmp / "pg")], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    p, r, u = (result["primary_search"], result["replica_search"],
               result["replica_search_while_primary_writes"])
    print(f"\n| primary | {args.terminals} searching terminals | p50 {p['p50_ms']} ms | "
          f"p95 {p['p95_ms']} ms | {p['n']} searches |")
    print(f"| replica (read-only, hot standby) | {args.terminals} searching terminals | "
          f"p50 {r['p50_ms']} ms | p95 {r['p95_ms']} ms | {r['n']} searches |")
    print(f"| replica while the primary lends ({args.terminals} more terminals) | "
          f"{args.terminals} searching terminals | p50 {u['p50_ms']} ms | p95 {u['p95_ms']} ms | "
          f"{u['n']} searches; replay lag max {result['replay_lag_s']['max']} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
