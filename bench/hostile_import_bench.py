"""Hostile MARC files: time and peak memory of `ibc import` on files built to hurt it.

    .venv/bin/python bench/hostile_import_bench.py [--mb 50] [--timeout 180] [--only NAME…]

Generates each file under --workdir (default /tmp/ibc-hostile), imports it with
`ibc import --json --no-index` into a fresh SQLite file in a child process and prints wall
time, peak RSS (the child and its reader processes: `os.wait4`), the records read, imported and
skipped, and the number of error lines in the report. A run that does not end within --timeout
seconds is killed and shown as such. Every file has a good record before the junk and (where the
container allows a way back) one after it. Files are deleted at the end.

Files (sizes with --mb 50; the ИРБИС one without separators is 58 MB as in the probe):
  irbis-no-separators  `#610: …` lines without `*****`, then a good record
  irbis-one-line       one 50 MB line without a newline
  irbis-random         random bytes between two separators
  iso-terminators      50 MB of 0x1D after a good record
  iso-random           50 MB of random bytes, then 0x1D and a good record
  iso-spaces           50 MB of spaces (tolerated between records)
  iso-tiny-records     50 MB of 26-byte records that frame but do not parse
  xml-huge-field       one <subfield> of 50 MB
  xml-many-fields      one <record> with 50 MB of <datafield>s
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MB = 1 << 20
IRBIS_GOOD = "#200: ^AХорошая книга {n}\n#910: ^A0^B{n}\n*****\n".encode()
XML_HEAD = b'<?xml version="1.0"?>\n<collection xmlns="http://www.loc.gov/MARC21/slim">\n'
XML_GOOD = ('<record><leader>00000nam a2200000 i 4500</leader>'
            '<datafield tag="245" ind1="1" ind2="0"><subfield code="a">Хорошая книга {n}'
            '</subfield></datafield></record>\n')


def iso_good(n: int) -> bytes:
    """One valid RUSMARC record in UTF-8 ISO 2709."""
    from library.marc.iso2709 import encode_record
    from library.marc.model import DataField, MarcRecord

    rec = MarcRecord("00000nam a2200000 i 450 ",
                     [DataField("200", "1", " ", [("a", f"Хорошая книга {n}")])])
    return encode_record(rec, "utf-8")


def _repeat(fh, piece: bytes, size: int) -> None:
    """Whole copies of `piece` up to about `size` bytes (an XML element is never cut)."""
    per_block = max(1, MB // len(piece))
    left = max(1, size // len(piece))
    while left > 0:
        n = min(per_block, left)
        fh.write(piece * n)
        left -= n


def _random(fh, size: int) -> None:
    for _ in range(size // MB):
        fh.write(os.urandom(MB))


def gen(name: str, path: Path, size: int) -> None:
    """Write the hostile file `name` of about `size` bytes to `path`."""
    with path.open("wb") as fh:
        if name == "irbis-no-separators":
            fh.write(IRBIS_GOOD.replace(b"{n}", b"1"))
            _repeat(fh, "#610: ^Aслово слово слово слово слово слово слово\n".encode(),
                    size * 58 // 50)
            fh.write(b"*****\n" + IRBIS_GOOD.replace(b"{n}", b"2"))
        elif name == "irbis-one-line":
            fh.write(IRBIS_GOOD.replace(b"{n}", b"1") + b"#200: ")
            _repeat(fh, b"x", size)
            fh.write(b"\n*****\n" + IRBIS_GOOD.replace(b"{n}", b"2"))
        elif name == "irbis-random":
            fh.write(IRBIS_GOOD.replace(b"{n}", b"1"))
            _random(fh, size)
            fh.write(b"\n*****\n" + IRBIS_GOOD.replace(b"{n}", b"2"))
        elif name == "iso-terminators":
            fh.write(iso_good(1))
            _repeat(fh, b"\x1d", size)
            fh.write(iso_good(2))
        elif name == "iso-random":
            fh.write(iso_good(1))
            _random(fh, size)
            fh.write(b"\x1d" + iso_good(2))
        elif name == "iso-spaces":
            fh.write(iso_good(1))
            _repeat(fh, b" ", size)
            fh.write(iso_good(2))
        elif name == "iso-tiny-records":
            fh.write(iso_good(1))
            _repeat(fh, b"00026nam  2200025   450 \x1e\x1d"[:25] + b"\x1d", size)
            fh.write(iso_good(2))
        elif name == "xml-huge-field":
            fh.write(XML_HEAD + XML_GOOD.format(n=1).encode())
            fh.write(b'<record><leader>00000nam a2200000 i 4500</leader><datafield tag="245" '
                     b'ind1="1" ind2="0"><subfield code="a">')
            _repeat(fh, b"x", size)
            fh.write(b"</subfield></datafield></record>\n")
            fh.write(XML_GOOD.format(n=2).encode() + b"</collection>\n")
        elif name == "xml-many-fields":
            fh.write(XML_HEAD + XML_GOOD.format(n=1).encode())
            fh.write(b"<record><leader>00000nam a2200000 i 4500</leader>")
            _repeat(fh, b'<datafield tag="650" ind1=" " ind2="0"><subfield code="a">x'
                        b'</subfield></datafield>\n', size)
            fh.write(b"</record>\n" + XML_GOOD.format(n=2).encode() + b"</collection>\n")
        else:
            raise SystemExit(f"unknown file {name}")


NAMES = ("irbis-no-separators", "irbis-one-line", "irbis-random", "iso-terminators",
         "iso-random", "iso-spaces", "iso-tiny-records", "xml-huge-field", "xml-many-fields")


def run_import(db: Path, path: Path, timeout: float) -> dict:
    """`ibc import --json --no-index` in a child: wall seconds, peak RSS (MB), the report."""
    cmd = [sys.executable, "-m", "ibc", "--db", f"sqlite:///{db}", "import", str(path),
           "--json", "--no-index"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    out: list[bytes] = []
    killed = False
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    while True:
        chunk = proc.stdout.read()
        if chunk:
            out.append(chunk)
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
        time.sleep(0.05)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    rest = proc.stdout.read()
    if rest:
        out.append(rest)
    row: dict = {"wall_s": round(wall, 2), "rss_mb": round(usage.ru_maxrss / 1024, 1),
                 "killed": killed, "exit": proc.returncode}
    try:
        report = json.loads(b"".join(out))
    except ValueError:
        return row
    row.update(read=report["read"], added=report["added"], skipped=report["skipped"],
               errors=len(report["errors"]),
               first_error=(report["errors"][0]["reason"][:120] if report["errors"] else None))
    return row


def main() -> None:
    """Generate, import and measure each hostile file; print a Markdown table and JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=int, default=50, help="size of the junk in each file")
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--workdir", default="/tmp/ibc-hostile")
    ap.add_argument("--only", nargs="*", choices=NAMES)
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for name in args.only or NAMES:
            path = work / name
            gen(name, path, args.mb * MB)
            db = work / f"{name}.sqlite3"
            for p in work.glob(db.name + "*"):
                p.unlink()
            row = {"file": name, "mb": round(path.stat().st_size / MB, 1),
                   **run_import(db, path, args.timeout)}
            print(json.dumps(row, ensure_ascii=False), file=sys.stderr, flush=True)
            results.append(row)
            path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print()
    print("| file | MB | wall | peak RSS | read / added / skipped | first error |")
    print("|---|---|---|---|---|---|")
    for r in results:
        if r["killed"]:
            print(f"| {r['file']} | {r['mb']} | killed after {r['wall_s']} s | "
                  f"{r['rss_mb']} MB | — | — |")
            continue
        print(f"| {r['file']} | {r['mb']} | {r['wall_s']} s | {r['rss_mb']} MB | "
              f"{r.get('read')} / {r.get('added')} / {r.get('skipped')} | "
              f"{r.get('first_error')} |")


if __name__ == "__main__":
    main()
