"""`ibc demo`: fill the configured database with the demo school library."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context


def register(sub: Subparsers) -> None:
    """Add the `demo` subcommand."""
    p = sub.add_parser("demo", help="load the demo school library (idempotent)")
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Load the demo data and index it for search."""
    from dataclasses import asdict

    from ibc.wiring import search_indexer
    from library.demo.loader import load_demo

    summary = load_demo(ctx.db, sigla=ctx.settings.school.sigla, on_batch=search_indexer())
    if args.json:
        print(json.dumps(asdict(summary), ensure_ascii=False))
    else:
        print(f"demo library in {ctx.db.describe()}: +{summary.records} titles, "
              f"+{summary.copies} copies, +{summary.readers} readers, +{summary.media} media items, "
              f"+{summary.loans} loans, +{summary.places} places")
    return 0
