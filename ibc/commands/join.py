"""`ibc terminals join CODE`: enrol this terminal with the school server (run on the terminal).

The technician prints a one-time code on the server (`ibc terminals enroll`) and runs
``ibc terminals join CODE`` on the terminal; the terminal posts the code with its name and keeps
the token it receives in ``<data_dir>/terminal.json`` (mode 0600). `ibc kiosk` then runs in
terminal mode.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibc.commands import Subparsers
    from ibc.context import Context


def add_parser(tsub: Subparsers) -> None:
    """Add `join` under `ibc terminals`."""
    j = tsub.add_parser("join", help="enrol THIS terminal with a code from `ibc terminals enroll`")
    j.add_argument("code", help="the one-time enrolment code")
    j.add_argument("--name", default=socket.gethostname(), help="terminal name (default: host name)")
    j.add_argument("--url", default="", help="server URL (default: [server] url, else zeroconf)")
    j.add_argument("--wait", type=float, default=5.0, metavar="S",
                   help="seconds to look for the server over zeroconf")


def data_dir(ctx: Context) -> Path:
    """The terminal's data directory (settings or the default)."""
    from library.storage.database import default_data_dir

    return Path(ctx.settings.data_dir) if ctx.settings.data_dir else default_data_dir()


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Enrol and store the token."""
    from kiosk.terminal import ApiClient, ApiRefused, ServerUnreachable
    from kiosk.terminal.credentials import save_terminal

    url = args.url or ctx.settings.server.url
    if not url:
        import asyncio

        from ibc.commands.discover import _browse

        found = asyncio.run(_browse(ctx.settings.server.interfaces, args.wait))
        school = ctx.settings.school.id
        found = [s for s in found if not school or s.get("school_id") == school] or found
        if not found:
            print("ibc terminals join: сервер не найден — укажите --url "
                  "(no server found over zeroconf: pass --url)", file=sys.stderr)
            return 1
        url = found[0]["url"]
    try:
        with ApiClient(url, timeout=10) as client:
            token = client.enrol(args.code, args.name)
    except ApiRefused as exc:
        print(f"ibc terminals join: {exc.message or exc}", file=sys.stderr)
        return 1
    except ServerUnreachable as exc:
        print(f"ibc terminals join: сервер {url} недоступен (unreachable): {exc}", file=sys.stderr)
        return 1
    path = save_terminal(data_dir(ctx), args.name, token, args.url or ctx.settings.server.url)
    print(f"Терминал {args.name} подключён к {url}; ключ сохранён в {path} "
          f"(terminal enrolled; token stored, mode 0600)")
    return 0
