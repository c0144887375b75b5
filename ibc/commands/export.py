"""`ibc export -o FILE`: write the catalogue (or a selection) as ISO 2709 or MARCXML."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context
    from library.storage.database import Database


def register(sub: Subparsers) -> None:
    """Add the `export` subcommand."""
    p = sub.add_parser("export", help="export records as ISO 2709 (RUSMARC/MARC21) or MARCXML")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write ('-' = stdout)")
    p.add_argument("--format", choices=["rusmarc", "marc21", "marcxml"], default="rusmarc",
                   help="rusmarc (UNIMARC-family records), marc21, or marcxml (all records)")
    p.add_argument("--encoding", choices=["cp1251", "utf-8"],
                   help="ISO 2709 encoding (rusmarc: cp1251 default or utf-8; marc21: utf-8)")
    p.add_argument("--sigla", help="only records holding copies in this library, with those copies")
    p.add_argument("--ids", nargs="+", metavar="ID", help="record ids (space or comma separated)")
    p.add_argument("--query", help="records found by this search query (with --ids: both must match)")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.set_defaults(run=run)


def _ids(values: list[str]) -> list[int]:
    out = []
    for v in values:
        for part in v.replace(",", " ").split():
            if not part.isdigit():
                raise ValueError(f"--ids: {part!r} is not a record id")
            out.append(int(part))
    return out


def query_ids(db: Database, query: str) -> list[int]:
    """Record ids for a search query (library.marc.export.query_ids: pages through search)."""
    from library.marc.export import query_ids as found

    return found(db, query)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Export; exit 1 with one line on a bad option or an unwritable file."""
    from ibc.context import ContextError
    from library.errors import IbcError
    from library.marc.export import export_records

    try:
        ids = _ids(args.ids) if args.ids else None
        if args.query:
            found = query_ids(ctx.db, args.query)
            wanted = set(ids or ())
            ids = found if ids is None else [i for i in found if i in wanted]
        db = ctx.db
        if args.output == "-":
            report = export_records(db, sys.stdout.buffer, fmt=args.format, encoding=args.encoding,
                                    ids=ids, sigla=args.sigla)
        else:
            with open(args.output, "wb") as fh:
                report = export_records(db, fh, fmt=args.format, encoding=args.encoding,
                                        ids=ids, sigla=args.sigla)
    except (ValueError, OSError, IbcError, ContextError) as exc:
        print(f"ibc export: {exc}", file=sys.stderr)
        return 1
    out = sys.stderr if args.output == "-" else sys.stdout
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False), file=out)
    else:
        print(f"{args.output}: {report.written} records written ({args.format}), "
              f"{report.skipped} skipped", file=out)
        for w in report.warnings[:10]:
            print(f"  warning: {w}", file=out)
    return 0
