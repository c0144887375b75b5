"""`ibc import FILE…`: load MARC files (ISO 2709, MARCXML, ИРБИС text) into the catalogue."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context
    from library.marc.importer import ImportReport
    from library.storage.database import Database


def register(sub: Subparsers) -> None:
    """Add the `import` subcommand."""
    p = sub.add_parser("import", help="import MARC files (RUSMARC, MARC21, UNIMARC; ISO 2709, "
                                      "MARCXML, ИРБИС text)")
    p.add_argument("files", nargs="+", metavar="FILE", help="files to import")
    p.add_argument("--school", "--sigla", dest="sigla", metavar="SIGLA",
                   help="the importing school: its copies (those whose field names no library) "
                        "and, for a book another school already has, a place on that record "
                        "(default: school.sigla from the settings)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--batch-size", type=int, default=1000, metavar="N",
                   help="records per transaction (default 1000)")
    p.add_argument("--no-index", action="store_true", help="do not update the search index")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on a terminal")
    p.set_defaults(run=run)


class _Bar:
    """A one-line progress bar on stderr, redrawn at most every 1 % of a file."""

    def __init__(self) -> None:
        self.last: tuple[str, int] | None = None

    def __call__(self, name: str, done: int, total: int, report: ImportReport) -> None:
        pct = int(100 * done / total) if total else 100
        if (name, pct) == self.last:
            return
        self.last = (name, pct)
        bar = "#" * (pct // 4) + "-" * (25 - pct // 4)
        short = name if len(name) <= 30 else "…" + name[-29:]
        sys.stderr.write(f"\r{short} [{bar}] {pct:3d}% {report.read} read, "
                         f"{report.skipped} skipped")
        if pct >= 100:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _summary(report: ImportReport) -> str:
    enc = ", ".join(f"{k} {v}" for k, v in sorted(report.encodings.items())) or "none"
    merged = f", merged into other schools' records {report.merged}" if report.merged else ""
    return (f"read {report.read}, added {report.added}, updated {report.updated}{merged}, "
            f"skipped {report.skipped}; encodings: {enc}")


def _known_school(db: Database, sigla: str) -> bool:
    from library.schools import get_school

    with db.session() as s:
        return get_school(s, sigla) is not None


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Import the files; exit 0 when records were read (even with some skipped), 1 when none."""
    from ibc.context import ContextError
    from ibc.wiring import search_indexer
    from library.errors import IbcError
    from library.marc.importer import import_files

    if args.batch_size < 1:
        print("ibc import: --batch-size must be at least 1", file=sys.stderr)
        return 2
    sigla = args.sigla or ctx.settings.school.sigla
    progress = _Bar() if sys.stdout.isatty() and not args.no_progress else None
    try:
        db = ctx.db
        report = import_files(db, args.files, sigla=sigla,
                              on_batch=None if args.no_index else search_indexer(),
                              progress=progress, batch_size=args.batch_size)
    except (IbcError, ContextError) as exc:
        print(f"ibc import: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one clear line instead of a traceback
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(exc, SQLAlchemyError):
            raise
        print(f"ibc import: database error: {str(getattr(exc, 'orig', exc)).splitlines()[0]}",
              file=sys.stderr)
        return 1
    if sigla != ctx.settings.school.sigla and not _known_school(db, sigla):
        print(f"ibc import: warning: no school {sigla!r} in the schools table "
              "(ibc schools add SIGLA NAME); its copies were imported under that sigla",
              file=sys.stderr)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(_summary(report))
        if report.maintenance:
            m = report.maintenance
            print(f"planner statistics: {m['action']} of {', '.join(m['tables'])} "
                  f"({report.maintenance_seconds:.1f} s)")
        for e in report.errors[:20]:
            where = f"record {e['record']} (byte {e['offset']})" if e["record"] else "file"
            print(f"  {e['file']}: {where}: {e['reason']}")
        if len(report.errors) > 20 or report.skipped > len(report.errors):
            print(f"  … {report.skipped} skipped in all; use --json for the full list")
        for w in report.warnings[:10]:
            print(f"  warning: {w['file']}: record {w['record']}: {w['reason']}")
        for m in report.merges[:10]:
            print(f"  merged: {m['file']}: record {m['record']} → record id {m['record_id']} "
                  f"({m['union_key'] or 'same key'}; also held by {', '.join(m['schools']) or '-'})")
        if report.merged > 10:
            print(f"  … {report.merged} merged in all; use --json for the list")
    if report.added + report.updated + report.merged == 0 and (report.skipped or report.unreadable_files):
        if not args.json:
            first = report.errors[0] if report.errors else None
            reason = f"{first['file']}: {first['reason']}" if first else "nothing imported"
            print(f"ibc import: nothing could be read ({reason})", file=sys.stderr)
        return 1
    return 0
