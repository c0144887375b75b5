"""What circulation rule overrides per school cost a checkout (library/circulation/school_rules.py).

Usage: .venv/bin/python bench/school_rules_bench.py [--n 2000] [--pg URL]

1. `policy_for` alone: the read of a school's rows (primary key of school_rules) plus the cached
   Policy, per call, for a school without overrides and for one with three.
2. Checkouts through CirculationService of copies of a school with three overrides, in
   interleaved blocks of 100 with `policy_for` and with it replaced by the settings' policy
   (what a checkout did before), so both halves see the same load of a shared machine; CPU
   time per checkout of each.
Prints one JSON line per backend (SQLite in a temporary file; PostgreSQL with --pg, an empty
database that is filled).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
import uuid
from pathlib import Path

from config.settings import load_settings
from library import schools
from library.circulation import school_rules as R
from library.circulation.service import CirculationService
from library.storage import Copy, Reader, Record
from library.storage.database import open_database

CIRC = load_settings(environ={"IBC_CIRCULATION__TEACHER__MAX_ITEMS": "500"}).circulation


def populate(db, n: int) -> list[str]:
    barcodes = [f"B{i:07d}" for i in range(n)]
    with db.transaction() as s:
        schools.ensure_default(s, "ИБЦ", "Школа № 1")
        schools.add_school(s, "ГИМН5", "Гимназия № 5")
        schools.add_school(s, "ЛИЦ2", "Лицей № 2")
        for start in range(0, n, 100):
            rec = Record(key=f"r{start}", title=f"Книга {start}", authors=["Автор, А."])
            rec.copies.extend(Copy(sigla="ГИМН5", barcode=bc) for bc in barcodes[start:start + 100])
            s.add(rec)
        s.add(Reader(card_number="T", first_name="Т", last_name="Т", category="teacher"))
        R.set_rules(s, CIRC, "ГИМН5", "ИБЦ", set_={"teacher.rules.book.loan_days": "21",
                                                  "teacher.max_items": "400",
                                                  "pupil.max_items": "3"})
    return barcodes


def policy_for_us(db, svc: CirculationService, sigla: str, calls: int = 5000) -> float:
    with db.session() as s:
        conn = s.connection()
        svc.policy_for(conn, sigla)
        c0 = time.process_time()
        for _ in range(calls):
            svc.policy_for(conn, sigla)
        return (time.process_time() - c0) / calls * 1e6


def checkouts(db, svc: CirculationService, barcodes: list[str]) -> tuple[float, float]:
    """CPU ms per checkout with the school's rules, and with the settings' policy only."""
    real = svc.policy_for
    cpu = {True: 0.0, False: 0.0}
    count = {True: 0, False: 0}
    for block, start in enumerate(range(0, len(barcodes), 100)):
        with_rules = block % 2 == 0
        svc.policy_for = real if with_rules else (lambda conn, sigla: svc.policy)  # type: ignore[method-assign]
        for bc in barcodes[start:start + 100]:
            c0 = time.process_time()
            svc.checkout("T", bc, uuid.uuid4().hex)
            cpu[with_rules] += time.process_time() - c0
            count[with_rules] += 1
        if block % 4 == 3:  # stay under the loan limit: return what was taken (not timed)
            for b in barcodes[start - 300:start + 100]:
                svc.checkin(b, uuid.uuid4().hex)
    svc.policy_for = real  # type: ignore[method-assign]
    return cpu[True] / count[True] * 1e3, cpu[False] / count[False] * 1e3


def measure(url: str, n: int) -> dict:
    db = open_database(url)
    barcodes = populate(db, n)
    svc = CirculationService.from_settings(db, CIRC, today=lambda: dt.date(2026, 10, 5))
    none_us = policy_for_us(db, svc, "ЛИЦ2")
    three_us = policy_for_us(db, svc, "ГИМН5")
    with_ms, without_ms = checkouts(db, svc, barcodes)
    db.dispose()
    return {"backend": db.backend, "n": n, "policy_for_no_rows_us": round(none_us, 1),
            "policy_for_three_rows_us": round(three_us, 1),
            "checkout_cpu_ms_with_rules": round(with_ms, 3),
            "checkout_cpu_ms_settings_only": round(without_ms, 3)}


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
