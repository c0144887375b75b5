"""`ibc db upgrade|status`: schema migrations of the configured database."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context


def register(sub: Subparsers) -> None:
    """Add the `db` subcommand."""
    p = sub.add_parser("db", help="database schema: upgrade or show status")
    p.add_argument("action", choices=["upgrade", "status"], help="what to do")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Migrate (opening the database migrates it) and report the revision."""
    from library.storage.migrate import current_revision, head_revision

    db = ctx.db
    info = {
        "database": db.describe(),
        "backend": db.backend,
        "revision": current_revision(db),
        "head": head_revision(),
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
    else:
        print(f"{info['database']}: schema {info['revision']} (newest {info['head']})")
    return 0
