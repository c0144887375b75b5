"""`ibc queue list|resolve`: offline operations the server refused, for the librarian."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context


def register(sub: Subparsers) -> None:
    """Add the `queue` subcommand."""
    p = sub.add_parser("queue", help="offline-queue conflicts reported by terminals")
    qsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = qsub.add_parser("list", help="list unresolved conflicts")
    ls.add_argument("--all", action="store_true", help="include resolved ones")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    r = qsub.add_parser("resolve", help="mark a conflict as dealt with")
    r.add_argument("txn_id")
    r.add_argument("--note", default="", help="what was done (kept with the conflict)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """List or resolve conflicts."""
    from server.conflicts import list_conflicts, resolve

    if args.action == "resolve":
        ok = resolve(ctx.db, args.txn_id, note=args.note)
        print("готово (resolved)" if ok else "нет такой операции или она уже решена "
              "(unknown or already resolved transaction)")
        return 0 if ok else 1
    rows = list_conflicts(ctx.db, include_resolved=args.all)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    if not rows:
        print("Конфликтов нет (no conflicts)")
    for c in rows:
        print(f"{c['received_at'][:19]} {c['terminal']:16} {c['op']:8} {c['card'] or '-':10} "
              f"{c['barcode']:14} {c['code']}: {c['message']}")
        done = c.get("resolution")
        if done:
            print(f"    решено {done['at'][:16]} ({done['by']}): {done['note'] or '-'}")
    return 0
