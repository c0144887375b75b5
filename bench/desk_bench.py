"""Desk benchmark: a librarian's reader panel and lend while N simulated kiosks load the same
server with the server benchmark's mix (bench/server_bench.py: 90 % searches, 10 % session +
checkout + return, back to back), on a 20,000-record catalogue served by a real `ibc serve`.

    .venv/bin/python bench/desk_bench.py [--records 20000] [--terminals 5] [--seconds 20]
                                         [--desk-pause 0.2] [--db URL]

The desk (one process, httpx with its cookie session, like one browser) loops: open a reader's
panel (GET /desk/circulation?card=…), lend one book (POST /desk/circulation/lend), return it
(POST /desk/circulation/return), pausing --desk-pause seconds between scans (a librarian
scans about once a second at most). Prints a JSON summary and the Markdown row for
docs/BENCHMARKS.md (## Desk).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from server_bench import build_catalogue, enrol_terminals, serve, summary, terminal_worker  # noqa: E402

PASSWORD = "bench-desk-password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def desk_worker(url: str, first_barcode: int, cards: list[str], seconds: float, pause: float,
                out) -> None:
    """One librarian at the desk: panel, lend, return, over and over (a failure is reported
    to the parent instead of leaving it waiting)."""
    try:
        out.put(_desk_loop(url, first_barcode, cards, seconds, pause))
    except Exception:  # noqa: BLE001 - any failure ends the benchmark with its traceback
        import traceback

        out.put({"error": traceback.format_exc()})


def _desk_loop(url: str, first_barcode: int, cards: list[str], seconds: float,
               pause: float) -> dict[str, list[float]]:
    import httpx

    lat: dict[str, list[float]] = {"desk_panel": [], "desk_lend": [], "desk_return": []}
    with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as c:
        form = c.get("/desk/login")
        r = c.post("/desk/login", data={"name": "bench", "password": PASSWORD,
                                        "csrf": CSRF.search(form.text).group(1)})
        assert r.status_code == 303, r.text
        barcode, i = first_barcode, 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            card = cards[i % len(cards)]
            i += 1
            t0 = time.perf_counter()
            r = c.get("/desk/circulation", params={"card": card})
            lat["desk_panel"].append(time.perf_counter() - t0)
            r.raise_for_status()
            token = CSRF.search(r.text).group(1)
            time.sleep(pause)
            code = f"B{barcode:07d}"
            t0 = time.perf_counter()
            r = c.post("/desk/circulation/lend", data={"csrf": token, "card": card, "barcode": code,
                                                       "txn": uuid.uuid4().hex})
            lat["desk_lend"].append(time.perf_counter() - t0)
            r.raise_for_status()
            assert "Выдано" in r.text, r.text[:2000]
            time.sleep(pause)
            t0 = time.perf_counter()
            r = c.post("/desk/circulation/return", data={"csrf": token, "card": card, "barcode": code,
                                                         "txn": uuid.uuid4().hex})
            lat["desk_return"].append(time.perf_counter() - t0)
            r.raise_for_status()
            barcode += 1
            time.sleep(pause)
    return lat


def main() -> int:
    """Run the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--terminals", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--desk-pause", type=float, default=0.2)
    ap.add_argument("--db", default="", help="a database URL (PostgreSQL) instead of a new SQLite file")
    args = ap.parse_args()

    from library.storage.database import open_database
    from server.desk.accounts import add_account

    tmp = Path(tempfile.mkdtemp(prefix="ibc-desk-bench-"))
    url = args.db or f"sqlite:///{tmp / 'server.sqlite3'}"
    db = open_database(url)  # migrated to the newest schema
    t0 = time.perf_counter()
    readers = args.terminals + 10
    build_catalogue(db, args.records, readers)
    build_s = time.perf_counter() - t0
    add_account(db, "bench", PASSWORD)
    proc, base = serve(tmp, url)
    result: dict = {"records": args.records, "terminals": args.terminals, "seconds": args.seconds,
                    "desk_pause_s": args.desk_pause, "database": url.split(":", 1)[0],
                    "catalogue_build_s": round(build_s, 1)}
    try:
        tokens = enrol_terminals(db, base, args.terminals)
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        per = args.records // (args.terminals + 1)
        kiosks = [ctx.Process(target=terminal_worker, args=(
            base, tokens[i], f"R{i:04d}", 1 + i * per, args.seconds, i, out))
            for i in range(args.terminals)]
        desk_cards = [f"R{i:04d}" for i in range(args.terminals, readers)]
        desk = ctx.Process(target=desk_worker, args=(base, 1 + args.terminals * per, desk_cards,
                                                     args.seconds, args.desk_pause, out))
        for w in [*kiosks, desk]:
            w.start()
        lat: dict[str, list[float]] = {}
        for _ in range(len(kiosks) + 1):
            got = out.get(timeout=args.seconds + 180)
            if "error" in got:
                raise SystemExit(f"the desk failed:\n{got['error']}")
            for k, v in got.items():
                lat.setdefault(k, []).extend(v)
        for w in [*kiosks, desk]:
            w.join()
        kiosk_total = sum(len(lat.get(k, [])) for k in ("search", "checkout", "return", "session"))
        result["kiosk_requests_per_s"] = round(kiosk_total / args.seconds, 1)
        for k, v in sorted(lat.items()):
            result[k] = summary(v)
    finally:
        proc.terminate()
        proc.wait(20)
        db.dispose()
    print(json.dumps(result, ensure_ascii=False, indent=1))
    p, le, s = result["desk_panel"], result["desk_lend"], result["search"]
    print(f"\n| {result['database']}, {args.terminals} kiosks ({result['kiosk_requests_per_s']} req/s) | "
          f"reader panel p50 {p['p50_ms']} / p95 {p['p95_ms']} ms | lend p50 {le['p50_ms']} / "
          f"p95 {le['p95_ms']} ms | kiosk search p95 {s['p95_ms']} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
