"""How long the September class issue and the May collection take (issue 18's «a class's sets in
a few minutes»).

Usage: .venv/bin/python bench/textbooks_bench.py [--classes 4] [--pupils 30] [--titles 8] [--pg URL]

A grade of N classes × P pupils, a set of T textbook titles with enough copies on the shelf;
then `library.textbooks.issue.issue_class` for each class (every loan an ordinary exactly-once
checkout with the class-set override, as the desk's job runs it) and `collect` of every copy back
(each an exactly-once return, as the desk's and the kiosk's collection do). Prints wall-clock and
CPU seconds, loans per second and the time per class, as JSON.
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
from library.circulation.service import CirculationService
from library.storage import Copy, Reader, Record
from library.storage.database import open_database
from library.textbooks import issue as T

YEAR = 2026
SEPT = dt.date(2026, 9, 2)
MAY = dt.date(2027, 5, 20)


class Clock:
    def __init__(self, day: dt.date):
        self.day = day

    def __call__(self) -> dt.date:
        return self.day


def populate(db, classes: list[str], pupils: int, titles: int) -> list[int]:
    """The pupils, the titles (item type textbook, copies for every pupil) and the sets."""
    ids = []
    with db.transaction() as s:
        for c in classes:
            for p in range(pupils):
                s.add(Reader(card_number=f"{c}-{p:02d}", first_name=f"Имя{p}", last_name=f"Фамилия{p}",
                             class_name=c, category="pupil"))
        for t in range(titles):
            rec = Record(key=f"t{t}", title=f"Учебник {t}. 7 класс", authors=["Автор, А."],
                         item_type="textbook", version=1)
            rec.copies.extend(Copy(sigla="S", barcode=f"T{t:02d}-{i:04d}", inventory_number=f"I{t:02d}{i:04d}",
                                   status="available") for i in range(len(classes) * pupils))
            s.add(rec)
            s.flush()
            ids.append(rec.id)
    with db.transaction() as s:
        for c in classes:
            for rid in ids:
                T.add_to_set(s, YEAR, c, rid, "bench")
    return ids


def run(url: str, classes: list[str], pupils: int, titles: int) -> dict:
    db = open_database(url)
    try:
        populate(db, classes, pupils, titles)
        clock = Clock(SEPT)
        svc = CirculationService.from_settings(db, load_settings(environ={}).circulation, today=clock)
        per_class = []
        wall0, cpu0 = time.perf_counter(), time.process_time()
        lent = 0
        for c in classes:
            t0 = time.perf_counter()
            report = T.issue_class(svc, YEAR, c, "bench", terminal="bench")
            assert not report.refused and not report.missing, report.to_dict()
            lent += len(report.lent)
            per_class.append(round(time.perf_counter() - t0, 2))
        issue_wall, issue_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        assert lent == len(classes) * pupils * titles
        with db.session() as s:
            codes = [b for (b,) in s.execute(text("SELECT barcode FROM copies ORDER BY id"))]
        clock.day = MAY
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for code in codes:
            got = T.collect(svc, code, terminal="bench")
            assert got.kind == "accepted", got
        collect_wall, collect_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        return {"backend": db.backend, "classes": len(classes), "pupils_per_class": pupils,
                "titles": titles, "loans": lent,
                "issue_s": round(issue_wall, 2), "issue_cpu_s": round(issue_cpu, 2),
                "issue_loans_per_s": round(lent / issue_wall, 1), "issue_s_per_class": per_class,
                "collect_s": round(collect_wall, 2), "collect_cpu_s": round(collect_cpu, 2),
                "collect_books_per_s": round(len(codes) / collect_wall, 1)}
    finally:
        db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--classes", type=int, default=4)
    ap.add_argument("--pupils", type=int, default=30)
    ap.add_argument("--titles", type=int, default=8)
    ap.add_argument("--pg", help="a PostgreSQL URL of an empty database (also run there)")
    a = ap.parse_args()
    classes = [f"7{'АБВГДЕЖЗ'[i % 8]}{'' if i < 8 else i}" for i in range(a.classes)]
    with tempfile.TemporaryDirectory() as tmp:
        out = [run(f"sqlite:///{Path(tmp) / 'bench.db'}", classes, a.pupils, a.titles)]
    if a.pg:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        name = f"tb_{uuid.uuid4().hex[:8]}"
        admin = create_engine(make_url(a.pg).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            out.append(run(make_url(a.pg).set(database=name).render_as_string(hide_password=False),
                           classes, a.pupils, a.titles))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
