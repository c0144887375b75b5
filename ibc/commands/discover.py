"""`ibc discover`: list the school servers advertised over zeroconf (_ibc._tcp)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context


def register(sub: Subparsers) -> None:
    """Add the `discover` subcommand."""
    p = sub.add_parser("discover", help="list school servers seen over zeroconf")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--wait", type=float, default=3.0, metavar="S", help="seconds to listen")
    p.set_defaults(run=run)


async def _browse(interfaces: list[str], wait: float) -> list[dict]:
    import asyncio
    from dataclasses import asdict

    from device.discovery import ServerLocator, make_zeroconf

    aiozc = make_zeroconf(interfaces)
    locator = ServerLocator(aiozc)
    try:
        await locator.start()
        await asyncio.sleep(wait)
        return [asdict(s) | {"url": s.url} for s in sorted(locator.seen.values(), key=lambda s: s.name)]
    finally:
        await locator.close()
        await aiozc.async_close()


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Browse for a while and print what answered."""
    import asyncio

    found = asyncio.run(_browse(ctx.settings.server.interfaces, args.wait))
    if args.json:
        print(json.dumps(found, ensure_ascii=False))
        return 0
    if not found:
        print("Серверы не найдены (no servers found)")
    for s in found:
        print(f"{s['school_id']:16} {s['school_name']:30} {s['url']}{s['path']}  api {s['api']}")
    return 0
