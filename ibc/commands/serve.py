"""`ibc serve`: run the school server's HTTP API and advertise it over zeroconf."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context


def register(sub: Subparsers) -> None:
    """Add the `serve` subcommand."""
    p = sub.add_parser("serve", help="run the school server API (and zeroconf advertisement)")
    p.add_argument("--host", help="bind address (default: [server] host)")
    p.add_argument("--port", type=int, help="TCP port, 0 = any free port (default: [server] port)")
    p.add_argument("--no-advertise", action="store_true", help="do not advertise _ibc._tcp")
    p.add_argument("--workers", type=int, metavar="N",
                   help="worker processes on the one database (default: [server] workers, 1)")
    p.add_argument("--read-only", action="store_true",
                   help="serve searches and the change feed only, e.g. on a PostgreSQL hot standby: "
                        "no migration, writes answer 503 (default: [server] read_only)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Serve until interrupted."""
    import asyncio

    from server.readonly import ReadOnlyRefusal, decide
    from server.runner import serve, workers_refusal

    cfg = ctx.settings.server
    if args.read_only:
        cfg.read_only = True  # the workers get these settings, this value included
    db = ctx.open_db(migrate=False)
    try:  # the one decision (server/readonly.py): a standby is never served writable
        read_only = decide(ctx.settings, db)
    except ReadOnlyRefusal as exc:
        print(f"ibc serve: {exc}", file=sys.stderr)
        return 2
    if not read_only:
        from sqlalchemy.exc import SQLAlchemyError

        from ibc.context import ContextError

        try:
            db.upgrade()
        except SQLAlchemyError as exc:  # as Context.db: the reason, then stop
            raise ContextError(f"database {db.describe()}: {exc}") from None
    host = args.host or cfg.host
    port = cfg.port if args.port is None else args.port
    if args.workers is not None:
        if not 1 <= args.workers <= 64:
            print("ibc serve: --workers: от 1 до 64 (1 to 64)", file=sys.stderr)
            return 2
        cfg.workers = args.workers  # the workers get these settings, this value included
    refusal = workers_refusal(ctx.settings, ctx.db, cfg.workers)
    if refusal is not None:
        print(f"ibc serve: --workers {cfg.workers}: {refusal}", file=sys.stderr)
        return 2
    cert = None
    if cfg.tls == "on":
        from ibc.commands.join import data_dir
        from server import tls

        try:
            cert = tls.ensure(ctx.settings, data_dir(ctx))  # made at the first start if missing
            tls.check_key(cert)
        except tls.TlsError as exc:
            print(f"ibc serve: {exc}", file=sys.stderr)
            return 1
    return asyncio.run(serve(ctx.settings, ctx.db, host=host, port=port,
                             # a read-only server is not «the school server» terminals find
                             advertise=cfg.advertise and not args.no_advertise and not read_only,
                             tls=cert,
                             workers=cfg.workers))
