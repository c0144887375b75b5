"""MARC import benchmark: pymarc parse alone vs the full `ibc import` (SQLite, PostgreSQL).

    .venv/bin/python bench/import_bench.py --records 100000 \
        [--pg postgresql+psycopg://postgres@127.0.0.1:55432/postgres] [--million]

Generates (streaming, under --workdir, default /tmp/ibc-bench) 100,000 RUSMARC records
(cp1251, ИРБИС-like, 1-3 910 copies each) and 100,000 MARC21 records (UTF-8, 952 copies), then
for each file measures: pymarc.MARCReader parsing alone (file_encoding cp1251 for RUSMARC), the
project's own reader alone, and `ibc import --json` in a subprocess into a fresh SQLite file and
(with --pg) a fresh PostgreSQL database, with and without the search-index hook. Peak memory is
the child's ru_maxrss from os.wait4. --million also imports a 1,000,000-record RUSMARC file into
SQLite and reports its peak RSS. Generated files are deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def pymarc_parse(path: Path, encoding: str) -> tuple[int, float]:
    """Records and seconds for pymarc.MARCReader to parse the whole file."""
    import pymarc

    start = time.perf_counter()
    n = 0
    with path.open("rb") as fh:
        for record in pymarc.MARCReader(fh, file_encoding=encoding):
            if record is not None:
                n += 1
    return n, time.perf_counter() - start


def best_of(repeat: int, fn, *args):
    """The fastest of `repeat` runs (the machine is shared; the minimum is the least disturbed)."""
    runs = [fn(*args) for _ in range(repeat)]
    return min(runs, key=lambda r: r[1] if isinstance(r, tuple) else r["wall"])


def own_parse(path: Path) -> tuple[int, float]:
    """Records and seconds for library.marc's reader (framing, checks, decoding)."""
    from library.marc.mapping import MAPPED_TAGS
    from library.marc.reader import read_file

    start = time.perf_counter()
    n = sum(1 for p in read_file(path, MAPPED_TAGS) if p.record is not None)
    return n, time.perf_counter() - start


def _child_rusage_import(url: str, path: Path, index: bool) -> dict:
    """Run `ibc import` in a child (fork + exec + wait4): wall, CPU seconds, peak RSS."""
    cmd = [sys.executable, "-m", "ibc", "--db", url, "import", str(path), "--json"]
    if not index:
        cmd.append("--no-index")
    out_r, out_w = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child
        os.chdir(ROOT)
        os.dup2(out_w, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.execv(sys.executable, cmd)
    os.close(out_w)
    chunks = []
    while True:
        chunk = os.read(out_r, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(out_r)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ibc import of {path} failed")
    report = json.loads(b"".join(chunks))
    return {"wall": round(wall, 2), "cpu": round(usage.ru_utime + usage.ru_stime, 2),
            "rss_mb": round(usage.ru_maxrss / 1024, 1), "read": report["read"],
            "added": report["added"], "skipped": report["skipped"]}


def fresh_pg(admin_url: str, name: str) -> str:
    """Create an empty PostgreSQL database and return its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg(admin_url: str, name: str) -> None:
    """Drop a benchmark database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def main() -> None:
    """Run the benchmark and print a Markdown table plus JSON."""
    from gen_marc import generate

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--pg", default=os.environ.get("IBC_TEST_PG_URL", ""))
    ap.add_argument("--million", action="store_true", help="also the 1,000,000-record RSS test")
    ap.add_argument("--workdir", default="/tmp/ibc-bench")
    ap.add_argument("--repeat", type=int, default=2, help="runs per measurement; best is kept")
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for kind, encoding, suffix in (("rusmarc", "cp1251", "iso"), ("marc21", "utf-8", "mrc")):
            path = work / f"{kind}.{suffix}"
            generate(kind, args.records, str(path))
            n, t_pymarc = best_of(args.repeat, pymarc_parse, path, encoding)
            _, t_own = best_of(args.repeat, own_parse, path)
            row = {"kind": kind, "records": n, "mb": round(path.stat().st_size / 2**20, 1),
                   "pymarc_s": round(t_pymarc, 2), "own_parse_s": round(t_own, 2)}
            for index in (False, True):
                db = work / f"{kind}-{index}.sqlite3"

                def fresh(db=db, index=index):
                    for p in work.glob(db.name + "*"):
                        p.unlink()
                    return _child_rusage_import(f"sqlite:///{db}", path, index)  # noqa: B023

                row[f"sqlite{'_indexed' if index else ''}"] = best_of(
                    args.repeat if not index else 1, fresh)
            if args.pg:
                name = f"ibc_bench_{kind}"
                url = fresh_pg(args.pg, name)
                try:
                    row["postgres"] = _child_rusage_import(url, path, False)
                finally:
                    drop_pg(args.pg, name)
                url = fresh_pg(args.pg, name)
                try:
                    row["postgres_indexed"] = _child_rusage_import(url, path, True)
                finally:
                    drop_pg(args.pg, name)
            results.append(row)
            path.unlink()
        if args.million:
            path = work / "million.iso"
            generate("rusmarc", 1_000_000, str(path))
            db = work / "million.sqlite3"
            r = _child_rusage_import(f"sqlite:///{db}", path, False)
            results.append({"kind": "rusmarc-1M", "records": r["read"],
                            "mb": round(path.stat().st_size / 2**20, 1), "sqlite": r})
            path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print()
    print("| file | records | pymarc parse | own reader | ibc import SQLite | ratio | "
          "+ search index | ratio | PostgreSQL | PostgreSQL + index | ratio | peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        n = r["records"]
        if "pymarc_s" not in r:
            s = r["sqlite"]
            print(f"| {r['kind']} ({r['mb']} MB) | {n} | | | {s['wall']} s, {n / s['wall']:.0f}/s "
                  f"| | | | | | | {s['rss_mb']} MB |")
            continue
        s, si = r["sqlite"], r["sqlite_indexed"]
        pg, pgi = r.get("postgres"), r.get("postgres_indexed")
        pg_text = f"{pg['wall']} s, {n / pg['wall']:.0f}/s" if pg else "—"
        pgi_text = (f"{pgi['wall']} s, CPU {pgi['cpu']} s | {pgi['wall'] / r['pymarc_s']:.2f}"
                    if pgi else "— | —")
        print(f"| {r['kind']} ({r['mb']} MB) | {n} | {r['pymarc_s']} s, {n / r['pymarc_s']:.0f}/s "
              f"| {r['own_parse_s']} s, {n / r['own_parse_s']:.0f}/s "
              f"| {s['wall']} s, CPU {s['cpu']} s | {s['wall'] / r['pymarc_s']:.2f} "
              f"| {si['wall']} s, CPU {si['cpu']} s | {si['wall'] / r['pymarc_s']:.2f} "
              f"| {pg_text} | {pgi_text} "
              f"| {max(s['rss_mb'], si['rss_mb'], pg['rss_mb'] if pg else 0)} MB |")


if __name__ == "__main__":
    main()
