"""Checkouts per second through CirculationService vs a raw SQL transaction doing the same writes.

Usage: .venv/bin/python bench/circulation_bench.py [--n 2000] [--pg URL]
Prints wall-clock and CPU-time rates (the CPU rate is steadier on a shared machine; for the
PostgreSQL backend it leaves out the server's own work) and the ratio flow/raw for SQLite (a temporary file) and, with --pg, PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from config.settings import load_settings
from library.circulation.rules import Policy
from library.circulation.service import CirculationService
from library.storage import Copy, Reader, Record
from library.storage.database import open_database


def populate(db, n: int) -> list[str]:
    barcodes = [f"B{i:07d}" for i in range(n)]
    with db.transaction() as s:
        for start in range(0, n, 100):
            rec = Record(key=f"r{start}", title=f"Книга {start}", authors=["Автор, А."])
            rec.copies.extend(Copy(sigla="S", barcode=bc) for bc in barcodes[start:start + 100])
            s.add(rec)
        s.add(Reader(card_number="T", first_name="Т", last_name="Т", category="teacher"))
    return barcodes


def flow_rate(db, barcodes: list[str]) -> float:
    policy = Policy.from_settings(
        load_settings(environ={"IBC_CIRCULATION__TEACHER__MAX_ITEMS": "500"}).circulation)
    svc = CirculationService(db, policy, today=lambda: dt.date(2026, 10, 5))
    elapsed = cpu = 0.0
    for i, bc in enumerate(barcodes):
        t0, c0 = time.perf_counter(), time.process_time()
        svc.checkout("T", bc, uuid.uuid4().hex)
        elapsed += time.perf_counter() - t0
        cpu += time.process_time() - c0
        if i % 400 == 399:  # stay under the loan limit: return what was taken (not timed)
            for b in barcodes[i - 399:i + 1]:
                svc.checkin(b, uuid.uuid4().hex)
    return len(barcodes) / elapsed, len(barcodes) / cpu


def raw_rate(db, barcodes: list[str]) -> float:
    """The same writes as a checkout (loan, copy status, popularity, counter, event, txn) in raw SQL."""
    with db.engine.connect() as conn:
        reader_id = conn.execute(text("SELECT id FROM readers WHERE card_number='T'")).scalar()
        copies = dict(conn.execute(text("SELECT barcode, id FROM copies")).all())
        rec_of = dict(conn.execute(text("SELECT id, record_id FROM copies")).all())
    start, cpu0 = time.perf_counter(), time.process_time()
    with db.engine.connect() as conn:
        for bc in barcodes:
            with conn.begin():
                cid = copies[bc]
                txn = uuid.uuid4().hex
                conn.execute(text(
                    "INSERT INTO loans (copy_id, reader_id, issued_at, due_date, renewals, checkout_txn,"
                    " anonymised) VALUES (:c, :r, :now, :due, 0, :t, false)"),
                    {"c": cid, "r": reader_id, "now": dt.datetime.now(dt.timezone.utc),
                     "due": dt.date(2026, 11, 4), "t": txn})
                conn.execute(text("UPDATE copies SET status='on_loan' WHERE id=:c"), {"c": cid})
                conn.execute(text("UPDATE records SET popularity=popularity+1 WHERE id=:r"),
                             {"r": rec_of[cid]})
                conn.execute(text("UPDATE counters SET value=value+1 WHERE name='catalogue'"))
                conn.execute(text("INSERT INTO events (ts, kind, payload) VALUES (:now, 'checkout', '{}')"),
                             {"now": dt.datetime.now(dt.timezone.utc)})
                conn.execute(text("INSERT INTO transactions (txn_id, kind, created_at, result)"
                                  " VALUES (:t, 'checkout', :now, '{}')"),
                             {"t": txn, "now": dt.datetime.now(dt.timezone.utc)})
    return len(barcodes) / (time.perf_counter() - start), len(barcodes) / (time.process_time() - cpu0)


def measure(url: str, n: int) -> dict:
    db = open_database(url)
    barcodes = populate(db, 2 * n)
    flow, flow_cpu = flow_rate(db, barcodes[:n])
    raw, raw_cpu = raw_rate(db, barcodes[n:])
    db.dispose()
    return {"backend": db.backend, "n": n, "flow_per_s": round(flow), "raw_per_s": round(raw),
            "ratio": round(flow / raw, 3),
            "flow_per_cpu_s": round(flow_cpu), "raw_per_cpu_s": round(raw_cpu),
            "cpu_ratio": round(flow_cpu / raw_cpu, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--pg", help="PostgreSQL URL of an empty database (it is filled)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(measure(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.n)))
    if args.pg:
        print(json.dumps(measure(args.pg, args.n)))


if __name__ == "__main__":
    main()
