"""Union import benchmark (docs/BENCHMARKS.md «MARC import», union): the CPU and wall time of an
indexed import of generated RUSMARC records in this process, with the union merge
(`import_files(union=True)`, what `ibc import` does) and without it (records found by their own
key alone, as before migration 0020): school A's first import into an empty catalogue, then
school B importing the same file (with the union: every record joins A's; without: every record
is updated in place). Rounds alternate the two modes so that outside load hits both alike.

    .venv/bin/python bench/union_import_bench.py --records 20000 --rounds 2 [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gen_marc import generate  # noqa: E402

from library.marc.importer import import_files  # noqa: E402
from library.search import index_records  # noqa: E402
from library.storage.database import open_database  # noqa: E402


def _index(session: object, record_ids: list[int]) -> None:
    """The search indexer as the importer's batch hook."""
    from sqlalchemy.orm import Session

    index_records(cast(Session, session), record_ids)


def _fresh(url: str | None, workdir: str, name: str) -> str:
    """A fresh database URL: a new SQLite file, or the PostgreSQL database emptied."""
    if url is None:
        return f"sqlite:///{os.path.join(workdir, name)}.sqlite3"
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def run(records: int, rounds: int, pg: str | None) -> list[dict]:
    """The measurements, one dict per (round, mode, school)."""
    out = []
    with tempfile.TemporaryDirectory(prefix="ibc-union-bench-") as workdir:
        path = os.path.join(workdir, "rusmarc.iso")
        generate("rusmarc", records, path)
        for rnd in range(rounds):
            for union in (False, True):
                db = open_database(_fresh(pg, workdir, f"r{rnd}-{union}"))
                try:
                    for sigla in ("A", "B"):
                        cpu, wall = time.process_time(), time.perf_counter()
                        rep = import_files(db, [path], sigla=sigla, on_batch=_index,
                                           parallel=False, union=union, event=False)
                        out.append({"round": rnd, "union": union, "school": sigla,
                                    "cpu": round(time.process_time() - cpu, 2),
                                    "wall": round(time.perf_counter() - wall, 2),
                                    "added": rep.added, "updated": rep.updated,
                                    "merged": rep.merged})
                        print(out[-1], flush=True)
                finally:
                    db.dispose()
    return out


def main() -> None:
    """Print each measurement and the best CPU per (mode, school)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--pg", help="a PostgreSQL URL (its public schema is dropped) instead of SQLite")
    args = ap.parse_args()
    rows = run(args.records, args.rounds, args.pg)
    print("| import | without the union: CPU (best) | with the union: CPU (best) |")
    print("|---|---|---|")
    for school, what in (("A", "school A, empty catalogue"), ("B", "school B, the same file")):
        best = {u: min(r["cpu"] for r in rows if r["union"] is u and r["school"] == school)
                for u in (False, True)}
        print(f"| {what} | {best[False]:.2f} s | {best[True]:.2f} s |")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
